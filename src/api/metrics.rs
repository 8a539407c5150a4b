//! Prometheus metrics (OpenMetrics text via `prometheus-client`): requests by route and status,
//! latency, OBO cache hits and misses, upstream errors by kind.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    obo_hits: Counter,
    obo_misses: Counter,
    upstream_errors: Family<KindLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("azobo_api");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let obo_hits = Counter::default();
        let obo_misses = Counter::default();
        let upstream_errors = Family::<KindLabels, Counter>::default();
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
            "On-Behalf-Of exchanges answered from the cache",
            obo_hits.clone(),
        );
        registry.register(
            "obo_cache_misses",
            "On-Behalf-Of exchanges sent to the identity platform",
            obo_misses.clone(),
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
            upstream_errors,
        }
    }
}

impl Metrics {
    /// Records one finished request.
    pub fn request(&self, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// An OBO result served from the cache.
    pub fn obo_hit(&self) {
        self.obo_hits.inc();
    }

    /// An OBO exchange sent upstream.
    pub fn obo_miss(&self) {
        self.obo_misses.inc();
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
        m.obo_hit();
        m.upstream_error("arm_throttled");
        let text = m.encode();
        assert!(
            text.contains("azobo_api_requests_total{route=\"/subscriptions\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("azobo_api_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(text.contains("azobo_api_obo_cache_hits_total 1"), "{text}");
        assert!(
            text.contains("azobo_api_upstream_errors_total{kind=\"arm_throttled\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
