//! `GET /subscriptions` on serve-api with a warm OBO cache: 64 connections for 20 s from a
//! second process, the dev tenant as identity platform and ARM. Prints requests per second,
//! p50/p99 latency, non-200 count and serve-api's peak RSS. Bounded in time and count.

#![allow(clippy::cast_precision_loss)]

mod common;

use std::time::Duration;

use common::{Call, load, user_token};

const CONNECTIONS: usize = 64;
const DURATION: Duration = Duration::from_secs(20);
const MAX_REQUESTS: usize = 2_000_000;

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let (_tenant, info) = common::spawn_tenant().await;
    let (api, listening) = common::spawn_api(&info).await;
    let url = listening["listening"]
        .as_str()
        .expect("listening")
        .to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .expect("client");
    for _ in 0..200 {
        if client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (token, _) = user_token(&client, &info).await;
    let call = Call::Get {
        url: format!("{url}/subscriptions"),
        bearer: Some(token),
    };
    // Warm the OBO cache and the connection pools.
    let _ = load(&client, call.clone(), 4, Duration::from_secs(1), 1_000).await;
    let pid = api.id().expect("serve-api pid");
    let r = load(&client, call, CONNECTIONS, DURATION, MAX_REQUESTS).await;
    println!(
        "serve-api GET /subscriptions (warm OBO cache): {:.0} req/s  p50 {:.2} ms  p99 {:.2} ms  {} ok, {} non-200, {CONNECTIONS} connections, {:.1} s",
        r.rate(),
        r.p50_ms,
        r.p99_ms,
        r.ok,
        r.failed,
        r.seconds
    );
    println!(
        "serve-api RSS: {} KiB now, {} KiB peak",
        rss_kib(pid, "VmRSS:"),
        rss_kib(pid, "VmHWM:")
    );
}
