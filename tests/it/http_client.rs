//! The shared HTTP client trusts the system store plus `SSL_CERT_FILE`, and uses the proxy the
//! environment names for everything but the loopback interface.

use azobo::config::Env;

use crate::support::{Api, DevTenant, Keyring, Shell};

#[tokio::test]
async fn ssl_cert_file_adds_a_trusted_root_and_without_it_tls_fails() {
    let t = DevTenant::start(&["--tls"]).await;
    let url = format!("{}/v2.0/.well-known/openid-configuration", t.authority());

    let plain = azobo::client::http::client(&Env::default()).unwrap();
    let err = plain
        .get(&url)
        .send()
        .await
        .expect_err("the local CA is not trusted by default");
    assert!(
        err.is_connect() || err.to_string().contains("certificate"),
        "{err}"
    );

    let ca = t.s("ca_file");
    let trusting =
        azobo::client::http::client(&Env::from_pairs([("SSL_CERT_FILE", ca.as_str())])).unwrap();
    let r = trusting.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/json");
}

#[test]
fn unreadable_ssl_cert_file_is_a_usage_error() {
    let err =
        azobo::client::http::client(&Env::from_pairs([("SSL_CERT_FILE", "/nonexistent/ca.pem")]))
            .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("SSL_CERT_FILE"));
}

/// A stand-in proxy on loopback: answers every request 502 and remembers its first line.
async fn recording_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let sink = std::sync::Arc::clone(&sink);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                sink.lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or("").to_owned());
                let _ = s
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (url, seen)
}

/// Every proxy variable but `no_proxy`, pointing at `url`.
fn proxy_vars(url: &str) -> Vec<(&'static str, String)> {
    azobo::env_vars::PROXY_VARIABLES[..3]
        .iter()
        .flatten()
        .map(|k| (*k, url.to_owned()))
        .collect()
}

#[tokio::test]
async fn proxies_are_used_for_the_world_but_never_for_loopback() {
    let (proxy, seen) = recording_proxy().await;
    let vars = proxy_vars(&proxy);
    let env = Env::from_pairs(vars.iter().map(|(k, v)| (*k, v.as_str())));
    let client = azobo::client::http::client(&env).unwrap();
    // The proxy is really in use: a request for another host goes to it.
    let r = client
        .get("http://login.example.invalid/organizations/v2.0/.well-known/openid-configuration")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502, "answered by the stand-in proxy");
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(seen.lock().unwrap()[0].contains("login.example.invalid"));

    // Loopback, by name, IPv4 and IPv6, goes direct.
    let t = DevTenant::start(&[]).await;
    let metadata = format!("{}/v2.0/.well-known/openid-configuration", t.authority());
    let r = client.get(&metadata).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let by_name = metadata.replace("127.0.0.1", "localhost");
    let _ = client.get(&by_name).send().await;
    let v6 = tokio::net::TcpListener::bind("[::1]:0").await;
    if let Ok(l) = v6 {
        let port = l.local_addr().unwrap().port();
        drop(l);
        let _ = client.get(format!("http://[::1]:{port}/")).send().await;
    }
    assert_eq!(seen.lock().unwrap().len(), 1, "{:?}", seen.lock().unwrap());
}

#[tokio::test]
async fn tokens_for_loopback_apis_and_tenants_never_reach_a_proxy() {
    let (proxy, seen) = recording_proxy().await;
    let vars = proxy_vars(&proxy);
    let t = DevTenant::start(&["--auto-approve", "alice@contoso.example"]).await;
    let mut env: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let secret = t.api_secret();
    env.push(("AZOBO_API_CLIENT_SECRET", &secret));
    let api = Api::spawn(&Api::args_for(&t), &env).await;
    api.wait_ready().await;
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_API_URL", &api.url);
    for (k, v) in &vars {
        sh.set(k, v);
    }
    sh.login();
    let r = sh.run(&["subscriptions", "-o", "tsv"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 4);
    let r = sh.run(&["token", "--force-refresh"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        seen.lock().unwrap().is_empty(),
        "the proxy saw: {:?}",
        seen.lock().unwrap()
    );
}
