//! Load on the dev tenant from a second process: how many requests per second its token and ARM
//! endpoints hold. Run with `cargo bench --bench dev_tenant_load`; one line per endpoint.
//! Everything stays on 127.0.0.1; every loop is bounded by count and time.

#![allow(clippy::cast_precision_loss)]

mod common;

use std::time::Duration;

use common::{Call, load, user_token};

const CONNECTIONS: usize = 16;
const DURATION: Duration = Duration::from_secs(5);
const MAX_REQUESTS: usize = 200_000;

#[tokio::main]
async fn main() {
    let (_tenant, info) = common::spawn_tenant().await;
    let s = |k: &str| info[k].as_str().expect(k).to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .expect("client");
    let token_url = format!("{}/oauth2/v2.0/token", s("authority"));
    let (user_at, rt) = user_token(&client, &info).await;
    let obo_form = vec![
        ("client_id".to_owned(), s("api_client_id")),
        ("client_secret".to_owned(), s("api_client_secret")),
        (
            "grant_type".to_owned(),
            "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned(),
        ),
        ("requested_token_use".to_owned(), "on_behalf_of".to_owned()),
        ("assertion".to_owned(), user_at),
        (
            "scope".to_owned(),
            "https://management.azure.com/user_impersonation".to_owned(),
        ),
    ];
    let arm: serde_json::Value = client
        .post(&token_url)
        .form(&obo_form)
        .send()
        .await
        .expect("obo")
        .json()
        .await
        .expect("json");
    let arm_at = arm["access_token"].as_str().expect("ARM token").to_owned();
    let scenarios = vec![
        (
            "GET openid-configuration",
            Call::Get {
                url: format!("{}/v2.0/.well-known/openid-configuration", s("authority")),
                bearer: None,
            },
        ),
        (
            "POST token client_credentials",
            Call::Form {
                url: token_url.clone(),
                form: vec![
                    ("client_id".into(), s("api_client_id")),
                    ("client_secret".into(), s("api_client_secret")),
                    ("grant_type".into(), "client_credentials".into()),
                    (
                        "scope".into(),
                        "https://management.azure.com/.default".into(),
                    ),
                ],
            },
        ),
        (
            "POST token refresh_token",
            Call::Form {
                url: token_url.clone(),
                form: vec![
                    ("client_id".into(), s("cli_client_id")),
                    ("grant_type".into(), "refresh_token".into()),
                    ("refresh_token".into(), rt),
                    ("scope".into(), s("api_scope")),
                ],
            },
        ),
        (
            "POST token on_behalf_of",
            Call::Form {
                url: token_url.clone(),
                form: obo_form,
            },
        ),
        (
            "GET ARM subscriptions",
            Call::Get {
                url: format!("{}/subscriptions?api-version=2022-12-01", s("arm_url")),
                bearer: Some(arm_at),
            },
        ),
    ];
    println!(
        "dev tenant load: {CONNECTIONS} connections, {} s per scenario",
        DURATION.as_secs()
    );
    for (name, call) in scenarios {
        let r = load(&client, call, CONNECTIONS, DURATION, MAX_REQUESTS).await;
        println!(
            "{name:<32} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} ok, {} failed)",
            r.rate(),
            r.p50_ms,
            r.p99_ms,
            r.ok,
            r.failed
        );
    }
}
