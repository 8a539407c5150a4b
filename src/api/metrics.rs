//! Prometheus metrics (OpenMetrics text via `prometheus-client`): requests by route and status,
//! latency, OBO cache hits by layer, misses and exchanges, upstream errors by kind, and the shared
//! (Redis) cache's errors, latency, lock waits and state.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LayerLabels {
    layer: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;
type OpHistogramFamily = Family<OpLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

fn redis_histogram() -> Histogram {
    // 50 µs … ~0.4 s: a cache round trip on a LAN is well under a millisecond.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 14))
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    obo_hits: Family<LayerLabels, Counter>,
    obo_misses: Counter,
    obo_exchanges: Family<OutcomeLabels, Counter>,
    upstream_errors: Family<KindLabels, Counter>,
    redis_errors: Family<OpLabels, Counter>,
    redis_latency: OpHistogramFamily,
    lock_waits: Family<OutcomeLabels, Counter>,
    lock_wait_seconds: Histogram,
    degraded: Gauge,
    unreadable: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("azobo_api");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let obo_hits = Family::<LayerLabels, Counter>::default();
        let obo_misses = Counter::default();
        let obo_exchanges = Family::<OutcomeLabels, Counter>::default();
        let upstream_errors = Family::<KindLabels, Counter>::default();
        let redis_errors = Family::<OpLabels, Counter>::default();
        let redis_latency: OpHistogramFamily = Family::new_with_constructor(redis_histogram);
        let lock_waits = Family::<OutcomeLabels, Counter>::default();
        let lock_wait_seconds = latency_histogram();
        let degraded = Gauge::default();
        let unreadable = Counter::default();
        registry.register(
            "requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Request latency by route",
            latency.clone(),
        );
        registry.register(
            "obo_cache_hits",
            "ARM tokens found in the cache, by layer (l1: this process, l2: the shared Redis cache)",
            obo_hits.clone(),
        );
        registry.register(
            "obo_cache_misses",
            "ARM tokens found in no cache layer",
            obo_misses.clone(),
        );
        registry.register(
            "obo_exchanges",
            "On-Behalf-Of exchanges sent to the identity platform, by outcome",
            obo_exchanges.clone(),
        );
        registry.register(
            "redis_errors",
            "Shared token cache operations that failed or timed out, by operation",
            redis_errors.clone(),
        );
        registry.register(
            "redis_duration_seconds",
            "Shared token cache round trips, by operation",
            redis_latency.clone(),
        );
        registry.register(
            "redis_lock_waits",
            "Waits for another instance's exchange, by outcome (value, released, timeout, redis_failed)",
            lock_waits.clone(),
        );
        registry.register(
            "redis_lock_wait_seconds",
            "Time spent waiting for another instance's exchange",
            lock_wait_seconds.clone(),
        );
        registry.register(
            "token_cache_degraded",
            "1 while the shared token cache is unreachable and requests bypass it",
            degraded.clone(),
        );
        registry.register(
            "token_cache_unreadable",
            "Shared cache entries this instance cannot decrypt (another key, or tampered)",
            unreadable.clone(),
        );
        registry.register(
            "upstream_errors",
            "Failures talking to the identity platform or ARM, by kind",
            upstream_errors.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            obo_hits,
            obo_misses,
            obo_exchanges,
            upstream_errors,
            redis_errors,
            redis_latency,
            lock_waits,
            lock_wait_seconds,
            degraded,
            unreadable,
        }
    }
}

impl Metrics {
    /// Records one finished request.
    pub fn request(&self, route: &'static str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(seconds);
    }

    /// An ARM token served from a cache layer (`l1`, `l2`).
    pub fn obo_hit(&self, layer: &'static str) {
        self.obo_hits.get_or_create(&LayerLabels { layer }).inc();
    }

    /// An ARM token found in no cache layer.
    pub fn obo_miss(&self) {
        self.obo_misses.inc();
    }

    /// An OBO exchange finished (`ok`, `error`).
    pub fn obo_exchange(&self, outcome: &'static str) {
        self.obo_exchanges
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// A shared-cache operation failed or timed out.
    pub fn redis_error(&self, op: &'static str) {
        self.redis_errors.get_or_create(&OpLabels { op }).inc();
    }

    /// A shared-cache round trip took this long.
    pub fn redis_latency(&self, op: &'static str, seconds: f64) {
        self.redis_latency
            .get_or_create(&OpLabels { op })
            .observe(seconds);
    }

    /// A wait for another instance's exchange ended.
    pub fn lock_wait(&self, outcome: &'static str, seconds: f64) {
        self.lock_waits
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        self.lock_wait_seconds.observe(seconds);
    }

    /// The shared cache became degraded (or recovered).
    pub fn token_cache_degraded(&self, degraded: bool) {
        self.degraded.set(i64::from(degraded));
    }

    /// A shared-cache entry could not be decrypted.
    pub fn token_cache_unreadable(&self) {
        self.unreadable.inc();
    }

    /// An upstream failure (`idp_unreachable`, `arm_throttled`, …).
    pub fn upstream_error(&self, kind: &str) {
        self.upstream_errors
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_family() {
        let m = Metrics::default();
        m.request("/subscriptions", 200, 0.003);
        m.obo_hit("l1");
        m.upstream_error("arm_throttled");
        m.redis_latency("get", 0.0002);
        m.lock_wait("value", 0.01);
        m.token_cache_degraded(true);
        let text = m.encode();
        assert!(
            text.contains("azobo_api_requests_total{route=\"/subscriptions\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("azobo_api_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(
            text.contains("azobo_api_obo_cache_hits_total{layer=\"l1\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("azobo_api_redis_duration_seconds_bucket{le=\"0.0002\",op=\"get\"} 1")
                || text.contains("azobo_api_redis_duration_seconds_count{op=\"get\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("azobo_api_redis_lock_waits_total{outcome=\"value\"} 1"),
            "{text}"
        );
        assert!(text.contains("azobo_api_token_cache_degraded 1"), "{text}");
        assert!(
            text.contains("azobo_api_upstream_errors_total{kind=\"arm_throttled\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
