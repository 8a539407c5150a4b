//! The loopback redirect listener (RFC 8252 §7.3): one port on 127.0.0.1 and [::1], never any
//! other address. It waits for exactly one `GET /?code&state` carrying our state; favicons,
//! other paths, wrong or missing state and repeated hits get a 4xx and do not end the wait. The
//! browser gets a small self-contained page either way, and the port is closed on return.
//! Anything on the machine can connect, so the listener holds at most a few connections at a
//! time, keeps no memory of the ones it answered, and never spins on a failing `accept`.

use std::convert::Infallible;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use subtle::ConstantTimeEq as _;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;

use crate::error::{Error, Result};

/// What the redirect brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// Sign-in succeeded with this authorization code.
    Code(String),
    /// The identity platform sent an error.
    Error {
        /// `error`.
        error: String,
        /// `error_description`.
        description: String,
    },
}

/// A bound listener pair.
pub struct Loopback {
    port: u16,
    listeners: Vec<TcpListener>,
}

fn in_use(port: u16) -> Error {
    Error::usage(format!(
        "port {port} on the loopback interface is in use; pick another with `--port`, or leave it out for a free one"
    ))
}

impl Loopback {
    /// Binds 127.0.0.1 and, where the host has IPv6, [::1] on the same port (`None`: a free one).
    pub async fn bind(port: Option<u16>) -> Result<Self> {
        let v4 = |p: u16| SocketAddr::from((Ipv4Addr::LOCALHOST, p));
        let v6 = |p: u16| SocketAddr::from((Ipv6Addr::LOCALHOST, p));
        for _ in 0..16 {
            let l4 = match TcpListener::bind(v4(port.unwrap_or(0))).await {
                Ok(l) => l,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    return Err(in_use(port.unwrap_or(0)));
                }
                Err(e) => return Err(Error::io("binding the sign-in listener on 127.0.0.1", e)),
            };
            let p = l4
                .local_addr()
                .map_err(|e| Error::io("reading the listener's port", e))?
                .port();
            match TcpListener::bind(v6(p)).await {
                Ok(l6) => {
                    return Ok(Self {
                        port: p,
                        listeners: vec![l4, l6],
                    });
                }
                // Taken on ::1 only: with a fixed port that is the user's problem, else try another.
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    if port.is_some() {
                        return Err(in_use(p));
                    }
                }
                // No IPv6 on this host: browsers cannot reach ::1 either.
                Err(_) => {
                    return Ok(Self {
                        port: p,
                        listeners: vec![l4],
                    });
                }
            }
        }
        Err(Error::failure(
            "could not find a loopback port free on both 127.0.0.1 and ::1",
        ))
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://localhost:PORT/`: Entra matches a registered `http://localhost` on any port.
    pub fn redirect_uri(&self) -> String {
        format!("http://localhost:{}/", self.port)
    }

    /// Starts answering on the port (before the browser is opened, so a fast browser never
    /// waits on an idle listener).
    pub fn start(self, state: &str) -> Waiting {
        let (tx, rx) = oneshot::channel();
        let shared = Arc::new(Shared {
            state: state.to_owned(),
            done: Mutex::new(Some(tx)),
        });
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let (stop, stopped) = watch::channel(false);
        let mut accepts = JoinSet::new();
        for listener in self.listeners {
            accepts.spawn(accept_loop(
                listener,
                Arc::clone(&shared),
                Arc::clone(&permits),
                stopped.clone(),
            ));
        }
        Waiting { rx, accepts, stop }
    }
}

/// Connections served at once; more wait in the kernel's backlog. A browser needs one or two.
const MAX_CONNECTIONS: usize = 32;
/// Longest pause after a failed `accept` (out of file descriptors, say).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);
/// Time the last pages get to finish writing once the wait is over.
const DRAIN: Duration = Duration::from_secs(2);

/// Accepts until told to stop, then lets open connections finish for a moment. Finished
/// connections are reaped as it goes, so any number of stray requests leaves memory flat; a
/// failing `accept` backs off instead of spinning.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    permits: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let mut backoff = Duration::ZERO;
    loop {
        while conns.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stopped.changed() => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                stream
            }
            Err(e) => {
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                tracing::debug!("sign-in listener: accept failed ({e}); pausing {backoff:?}");
                drop(permit);
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        conns.spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(&shared, &req)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
}

/// A listener serving the redirect.
pub struct Waiting {
    rx: oneshot::Receiver<Callback>,
    accepts: JoinSet<()>,
    stop: watch::Sender<bool>,
}

impl Waiting {
    /// Waits for a valid redirect, at most `timeout`; then closes the port.
    pub async fn finish(self, timeout: Duration) -> Result<Callback> {
        let Self {
            rx,
            mut accepts,
            stop,
        } = self;
        let outcome = tokio::time::timeout(timeout, rx).await;
        // Close the listeners now; the browser's page gets a moment to finish writing.
        let _ = stop.send(true);
        while accepts.join_next().await.is_some() {}
        match outcome {
            Ok(Ok(cb)) => Ok(cb),
            Ok(Err(_)) => Err(Error::failure("the sign-in listener stopped unexpectedly")),
            Err(_) => Err(Error::SignInRequired {
                message: format!("no sign-in arrived within {} s", timeout.as_secs()),
            }
            .with_hint(
                "finish the sign-in in the browser within `--timeout` seconds, or use `azobo login --device-code`",
            )),
        }
    }
}

struct Shared {
    state: String,
    done: Mutex<Option<oneshot::Sender<Callback>>>,
}

fn page(status: StatusCode, title: &str, text: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}</style></head>\
<body><h1>{t}</h1><p>{x}</p></body></html>",
        t = html_escape::encode_text(title),
        x = html_escape::encode_text(text)
    );
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    h.insert(
        "referrer-policy",
        http::HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "content-security-policy",
        http::HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    r
}

fn handle(shared: &Shared, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Not here",
            "azobo's sign-in listener only takes the browser's redirect.",
        );
    }
    if req.uri().path() != "/" {
        return page(
            StatusCode::NOT_FOUND,
            "Not found",
            "azobo's sign-in listener only answers on /.",
        );
    }
    let q: Vec<(String, String)> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let state_ok =
        get("state").is_some_and(|s| bool::from(s.as_bytes().ct_eq(shared.state.as_bytes())));
    if !state_ok {
        return page(
            StatusCode::BAD_REQUEST,
            "Not this sign-in",
            "This response does not belong to the sign-in azobo is waiting for. Start again from the terminal.",
        );
    }
    let callback = match (get("code"), get("error")) {
        (_, Some(error)) => Callback::Error {
            error: error.to_owned(),
            description: get("error_description").unwrap_or("").to_owned(),
        },
        (Some(code), None) if !code.is_empty() => Callback::Code(code.to_owned()),
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                "Incomplete response",
                "The redirect carried neither a code nor an error.",
            );
        }
    };
    let Some(tx) = shared.done.lock().ok().and_then(|mut d| d.take()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Already done",
            "This sign-in has already completed; you can close this tab.",
        );
    };
    let resp = match &callback {
        Callback::Code(_) => page(
            StatusCode::OK,
            "Signed in to azobo",
            "You can close this tab and return to the terminal.",
        ),
        Callback::Error { error, description } => page(
            StatusCode::OK,
            "Sign-in failed",
            &format!("{error}: {description}"),
        ),
    };
    let _ = tx.send(callback);
    resp
}
