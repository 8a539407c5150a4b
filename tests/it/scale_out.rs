//! serve-api scaled out: three instances behind a real nginx share one encrypted OBO cache on a
//! real Redis. Exchanges are counted at the dev tenant, the only place that sees them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::infra::{Nginx, Redis};
use super::support::{Api, DevTenant, obo_count};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// How the dev tenant fingerprints what it issued.
fn fingerprint(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(s.as_bytes()))
}

fn cache_key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

/// One serve-api instance on the shared cache, with these cache keys.
async fn instance(t: &DevTenant, redis: &Redis, keys: &str) -> Api {
    instance_with(t, redis, keys, &[]).await
}

async fn instance_with(t: &DevTenant, redis: &Redis, keys: &str, env: &[(&str, &str)]) -> Api {
    let mut args = Api::args_for(t);
    args.extend(
        [
            "--token-cache",
            &redis.url(),
            "--max-connections-per-peer",
            "1024",
        ]
        .map(str::to_owned),
    );
    let secret = t.api_secret();
    let mut env = env.to_vec();
    env.extend([
        ("AZOBO_API_CLIENT_SECRET", secret.as_str()),
        ("AZOBO_API_CACHE_KEY", keys),
    ]);
    let api = Api::spawn(&args, &env).await;
    api.wait_ready().await;
    api
}

/// `n` distinct callers' tokens for the API, spread over the tenant's users that need no MFA.
async fn callers(t: &DevTenant, n: usize) -> Vec<String> {
    let tid = t.s("tenant_id");
    let users: Vec<Value> = t.info["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["mfa_required"] != json!(true))
        .cloned()
        .collect();
    assert!(users.len() >= 2, "{users:?}");
    let mut tokens = Vec::new();
    for i in 0..n {
        let claims = json!({
            "aud": t.api_id(), "iss": format!("{}/{tid}/v2.0", t.base()), "tid": tid, "ver": "2.0",
            "iat": now(), "nbf": now() - 10, "exp": now() + 3600, "scp": "access_as_user",
            "oid": users[i % users.len()]["oid"], "azp": t.cli_id(), "sub": format!("caller-{i}"),
            "uti": format!("caller-{i}"),
        });
        let signed = t.control("sign", json!({"claims": claims})).await;
        tokens.push(signed["token"].as_str().unwrap().to_owned());
    }
    tokens
}

/// `GET /subscriptions`: the status, or what went wrong (with the body of a non-200).
async fn get(http: &reqwest::Client, url: &str, token: &str) -> Result<StatusCode, String> {
    let r = http
        .get(format!("{url}/subscriptions"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    if status == StatusCode::OK {
        return Ok(status);
    }
    Err(format!("{status}: {}", r.text().await.unwrap_or_default()))
}

async fn metrics(api: &Api) -> String {
    let (_, _, m) = api.get("/metrics", None).await;
    m.as_str().unwrap().to_owned()
}

/// The value of one sample line (`name{labels} value`), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn readyz(api: &Api) -> Value {
    api.get("/readyz", None).await.2
}

async fn wait_for_cache_state(api: &Api, state: &str) -> Value {
    let started = Instant::now();
    loop {
        let r = readyz(api).await;
        if r["token_cache"]["state"] == state {
            return r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "cache never became {state}: {r}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_callers_times_thirty_requests_over_three_instances_is_twenty_exchanges() {
    let Some(redis) = Redis::start() else { return };
    let t = DevTenant::start(&[]).await;
    let key = cache_key(1);
    let apis = [
        instance(&t, &redis, &key).await,
        instance(&t, &redis, &key).await,
        instance(&t, &redis, &key).await,
    ];
    let urls: Vec<String> = apis.iter().map(|a| a.url.clone()).collect();
    let Some(lb) = Nginx::start(&urls) else {
        return;
    };
    let tokens = callers(&t, 20).await;
    let before = obo_count(&t).await;

    // Every caller's 30 requests at once, all callers at once: 600 in flight over 3 instances.
    let http = reqwest::Client::new();
    let mut calls = Vec::new();
    for token in &tokens {
        for _ in 0..30 {
            let (http, url, token) = (http.clone(), lb.url.clone(), token.clone());
            calls.push(tokio::spawn(async move { get(&http, &url, &token).await }));
        }
    }
    for c in calls {
        assert_eq!(c.await.unwrap(), Ok(StatusCode::OK), "{}", lb.error_log());
    }
    assert_eq!(
        obo_count(&t).await - before,
        20,
        "one exchange per caller across three instances"
    );

    let mut served = Vec::new();
    let (mut l2_hits, mut exchanges) = (0.0, 0.0);
    for api in &apis {
        let m = metrics(api).await;
        served.push(sample(
            &m,
            "azobo_api_requests_total{route=\"/subscriptions\",status=\"200\"}",
        ));
        l2_hits += sample(&m, "azobo_api_obo_cache_hits_total{layer=\"l2\"}");
        exchanges += sample(&m, "azobo_api_obo_exchanges_total{outcome=\"ok\"}");
        assert_eq!(sample(&m, "azobo_api_token_cache_degraded"), 0.0, "{m}");
    }
    assert_eq!(served.iter().sum::<f64>(), 600.0, "{served:?}");
    assert!(
        served.iter().all(|n| *n >= 100.0),
        "round robin: {served:?}"
    );
    assert_eq!(exchanges, 20.0);
    assert!(
        l2_hits >= 20.0,
        "other instances read the shared entries: {l2_hits}"
    );

    // What Redis holds: one entry per caller, named by a hash, encrypted, gone before the token.
    let entries = redis.entries("azobo:obo:");
    assert_eq!(
        entries.len(),
        20,
        "{:?}",
        entries.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    let keys = azobo::api::cache_keys::CacheKeys::parse(&key).unwrap();
    let issued = t.control_get("issued").await["sha256"].clone();
    for (name, value, ttl) in &entries {
        let text = String::from_utf8_lossy(value);
        assert!(text.starts_with("1."), "{text}");
        // Decrypted with the key, it is an ARM token the tenant issued; none of its three
        // segments appears in what Redis holds, nor any caller's token.
        let plain = keys
            .open(name.as_bytes(), value)
            .expect("readable with the key");
        let entry: Value = serde_json::from_slice(&plain).unwrap();
        let arm_token = entry["access_token"].as_str().unwrap();
        let digest = fingerprint(arm_token);
        assert!(
            issued
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d == &json!(digest)),
            "{issued}"
        );
        for segment in arm_token.split('.') {
            assert!(
                !text.contains(segment),
                "a token segment in the clear: {text}"
            );
        }
        assert!(
            tokens
                .iter()
                .all(|tok| !name.contains(tok.as_str()) && !text.contains(tok.as_str()))
        );
        // The dev tenant's tokens live 60 to 90 minutes.
        let lifetime_ms = 5400 * 1000;
        assert!(
            *ttl > 0 && *ttl <= lifetime_ms - 300_000,
            "TTL {ttl} ms ends 5 minutes before the token"
        );
        let left_ms = (entry["expires_on"].as_i64().unwrap() - now()) * 1000;
        assert!(
            *ttl <= left_ms - 299_000,
            "TTL {ttl} ms, token left {left_ms} ms"
        );
    }
    assert!(
        redis
            .entries("azobo:obo:")
            .iter()
            .all(|e| !e.0.ends_with(":lock")),
        "every lock released"
    );
}

#[tokio::test]
async fn entries_need_the_key_a_wrong_key_cannot_read_and_a_rotated_key_still_reads() {
    let Some(redis) = Redis::start() else { return };
    let t = DevTenant::start(&[]).await;
    let (old, new, wrong) = (cache_key(1), cache_key(2), cache_key(3));
    let token = callers(&t, 1).await.remove(0);
    let http = reqwest::Client::new();

    let writer = instance(&t, &redis, &old).await;
    assert_eq!(get(&http, &writer.url, &token).await, Ok(StatusCode::OK));
    assert_eq!(obo_count(&t).await, 1);

    // The new key first, the old one kept for reading: the entry is read, no exchange.
    let rotated = instance(&t, &redis, &format!("{new},{old}")).await;
    assert_eq!(get(&http, &rotated.url, &token).await, Ok(StatusCode::OK));
    assert_eq!(obo_count(&t).await, 1, "read under the previous key");
    assert_eq!(
        sample(
            &metrics(&rotated).await,
            "azobo_api_obo_cache_hits_total{layer=\"l2\"}"
        ),
        1.0
    );

    // A key that did not write it learns nothing: it exchanges for itself.
    let stranger = instance(&t, &redis, &wrong).await;
    assert_eq!(get(&http, &stranger.url, &token).await, Ok(StatusCode::OK));
    assert_eq!(obo_count(&t).await, 2, "a wrong key cannot read the entry");
    let m = metrics(&stranger).await;
    // Read before and after taking the lock: counted each time.
    assert!(
        sample(&m, "azobo_api_token_cache_unreadable_total") >= 1.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, "azobo_api_obo_cache_hits_total{layer=\"l2\"}"),
        0.0
    );
    let (_, logs) = stranger.stop().await;
    assert!(logs.contains("which this instance does not hold"), "{logs}");
    assert!(
        !logs.contains(&wrong) && !logs.contains(&old),
        "no key in the logs"
    );
}

#[tokio::test]
async fn redis_lost_mid_run_degrades_to_memory_and_comes_back() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let t = DevTenant::start(&[]).await;
    let key = cache_key(4);
    let (a, b) = (
        instance(&t, &redis, &key).await,
        instance(&t, &redis, &key).await,
    );
    let tokens = callers(&t, 3).await;
    let http = reqwest::Client::new();
    assert_eq!(wait_for_cache_state(&a, "ok").await["status"], "ready");

    assert_eq!(get(&http, &a.url, &tokens[0]).await, Ok(StatusCode::OK));
    assert_eq!(get(&http, &b.url, &tokens[0]).await, Ok(StatusCode::OK));
    assert_eq!(obo_count(&t).await, 1, "shared while Redis is up");

    redis.stop();
    for api in [&a, &b] {
        assert_eq!(get(&http, &api.url, &tokens[1]).await, Ok(StatusCode::OK));
        // Ready all the same: the instance serves, from memory.
        let (status, _, body) = api.get("/readyz", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let r = wait_for_cache_state(api, "degraded").await;
        assert!(
            r["token_cache"]["detail"]
                .as_str()
                .unwrap()
                .contains("memory"),
            "{r}"
        );
        let m = metrics(api).await;
        assert_eq!(sample(&m, "azobo_api_token_cache_degraded"), 1.0, "{m}");
        assert!(m.contains("azobo_api_redis_errors_total{op="), "{m}");
    }
    assert_eq!(obo_count(&t).await, 3, "each instance exchanged for itself");
    // A token already in memory needs neither Redis nor an exchange.
    assert_eq!(get(&http, &b.url, &tokens[0]).await, Ok(StatusCode::OK));
    assert_eq!(obo_count(&t).await, 3);

    redis.restart();
    wait_for_cache_state(&a, "ok").await;
    wait_for_cache_state(&b, "ok").await;
    assert_eq!(get(&http, &a.url, &tokens[2]).await, Ok(StatusCode::OK));
    assert_eq!(get(&http, &b.url, &tokens[2]).await, Ok(StatusCode::OK));
    assert_eq!(
        obo_count(&t).await,
        4,
        "the restarted Redis is shared again"
    );
    let (_, logs) = a.stop().await;
    assert!(logs.contains("the shared token cache failed"), "{logs}");
    assert!(logs.contains("answers again"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn losing_an_instance_under_load_loses_no_request() {
    let Some(redis) = Redis::start() else { return };
    let t = DevTenant::start(&[]).await;
    let key = cache_key(5);
    let mut apis = vec![
        instance(&t, &redis, &key).await,
        instance(&t, &redis, &key).await,
        instance(&t, &redis, &key).await,
    ];
    let urls: Vec<String> = apis.iter().map(|a| a.url.clone()).collect();
    let Some(lb) = Nginx::start(&urls) else {
        return;
    };
    let tokens = Arc::new(callers(&t, 8).await);
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let until = Instant::now() + Duration::from_secs(20);
    let http = reqwest::Client::new();
    let workers: Vec<_> = (0..16)
        .map(|w| {
            let (http, url, tokens) = (http.clone(), lb.url.clone(), Arc::clone(&tokens));
            let (ok, failed, failures) =
                (Arc::clone(&ok), Arc::clone(&failed), Arc::clone(&failures));
            tokio::spawn(async move {
                let mut i = w;
                while Instant::now() < until {
                    match get(&http, &url, &tokens[i % tokens.len()]).await {
                        Ok(StatusCode::OK) => ok.fetch_add(1, Ordering::Relaxed),
                        other => {
                            failures.lock().unwrap().push(format!("{other:?}"));
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                    i += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let served_before_kill = ok.load(Ordering::Relaxed);
    let victim = apis.remove(1);
    let pid = victim.child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(
        failed,
        0,
        "{:?}\n{}",
        failures.lock().unwrap(),
        lb.error_log()
    );
    assert!(served_before_kill > 100, "load ran: {served_before_kill}");
    assert!(
        ok > served_before_kill + 100,
        "and went on after the kill: {ok}"
    );
    drop(victim);
    assert!(
        obo_count(&t).await <= 8,
        "every caller exchanged once at most"
    );
}

/// A CA, and a certificate it signed for 127.0.0.1 with its key, as PEM files in `dir`.
fn local_pki(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf.signed_by(&leaf_key, &ca).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("chain.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, format!("{}{}", leaf.pem(), ca.pem())).unwrap();
    std::fs::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    (paths.0, paths.1, paths.2)
}

#[tokio::test]
async fn rediss_is_shared_only_with_a_server_whose_certificate_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, chain, key_file) = local_pki(dir.path());
    let Some(redis) = Redis::start_tls(chain, key_file) else {
        return;
    };
    assert!(redis.url().starts_with("rediss://"));
    let t = DevTenant::start(&[]).await;
    let key = cache_key(6);
    let tokens = callers(&t, 2).await;
    let http = reqwest::Client::new();

    // Trusted the way a host's store would be (SSL_CERT_FILE): the entry is shared over TLS.
    let ca = ca.to_str().unwrap();
    let a = instance_with(&t, &redis, &key, &[("SSL_CERT_FILE", ca)]).await;
    let b = instance_with(&t, &redis, &key, &[("SSL_CERT_FILE", ca)]).await;
    wait_for_cache_state(&a, "ok").await;
    assert_eq!(get(&http, &a.url, &tokens[0]).await, Ok(StatusCode::OK));
    assert_eq!(get(&http, &b.url, &tokens[0]).await, Ok(StatusCode::OK));
    assert_eq!(
        obo_count(&t).await,
        1,
        "one exchange, shared over rediss://"
    );

    // A server certificate nobody vouched for is never talked to: degraded, still serving.
    let untrusting = instance(&t, &redis, &key).await;
    let r = wait_for_cache_state(&untrusting, "degraded").await;
    assert_eq!(r["token_cache"]["endpoint"], redis.url(), "{r}");
    assert_eq!(
        get(&http, &untrusting.url, &tokens[1]).await,
        Ok(StatusCode::OK)
    );
    assert_eq!(
        sample(
            &metrics(&untrusting).await,
            "azobo_api_obo_cache_hits_total{layer=\"l2\"}"
        ),
        0.0
    );
}
