//! The shared HTTP client trusts the system store plus `SSL_CERT_FILE`.

use azobo::config::Env;

use crate::support::DevTenant;

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
