//! Real infrastructure for the scale-out tests and benchmarks (both include this file): a Redis
//! server and nginx, each on an ephemeral loopback port in a throwaway directory, stopped on
//! drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// True under CI, where a missing server is a failure rather than a skip.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A Debian-packaged server binary (`redis-server`, `nginx`); under CI a missing one fails.
pub fn server_binary(name: &str) -> Option<PathBuf> {
    let found = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    assert!(
        found.is_some() || !in_ci(),
        "`{name}` is not installed in this CI run: scripts/test.sh installs it"
    );
    if found.is_none() {
        eprintln!("skipping: `{name}` is not installed (scripts/test.sh installs it)");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < limit, "{what} did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `redis-server` with no persistence: a restart starts empty, as a lost cache node does.
pub struct Redis {
    binary: PathBuf,
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// TLS only (`rediss://`), with this certificate chain and key.
    tls: Option<(PathBuf, PathBuf)>,
}

impl Redis {
    pub fn start() -> Option<Self> {
        Self::start_with(None)
    }

    /// TLS only, serving `chain` (PEM) with `key`; clients are not asked for certificates.
    pub fn start_tls(chain: PathBuf, key: PathBuf) -> Option<Self> {
        Self::start_with(Some((chain, key)))
    }

    fn start_with(tls: Option<(PathBuf, PathBuf)>) -> Option<Self> {
        let binary = server_binary("redis-server")?;
        let mut r = Self {
            binary,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
            tls,
        };
        r.restart();
        Some(r)
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }

    /// Starts (again) on the same port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let port = self.port.to_string();
        let mut cmd = Command::new(&self.binary);
        match &self.tls {
            None => cmd.args(["--port", &port]),
            Some((chain, key)) => cmd
                .args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ])
                .arg("--tls-cert-file")
                .arg(chain)
                .arg("--tls-key-file")
                .arg(key),
        };
        let child = cmd
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let tls = self.tls.is_some();
        wait_until("redis-server", Duration::from_secs(10), || {
            if tls {
                std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            } else {
                self.connection().is_some()
            }
        });
    }

    /// Kills the server (SIGKILL: no goodbye to clients).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A synchronous connection that has answered `PING`; `None` when the server does not.
    pub fn connection(&self) -> Option<redis::Connection> {
        let client = redis::Client::open(self.url()).ok()?;
        let mut c = client
            .get_connection_with_timeout(Duration::from_secs(1))
            .ok()?;
        redis::cmd("PING").query::<String>(&mut c).ok()?;
        Some(c)
    }

    /// Every key with this prefix, and its value and remaining TTL in ms.
    pub fn entries(&self, prefix: &str) -> Vec<(String, Vec<u8>, i64)> {
        let mut c = self.connection().expect("redis answers");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query(&mut c)
            .unwrap();
        keys.into_iter()
            .map(|k| {
                let v: Vec<u8> = redis::cmd("GET").arg(&k).query(&mut c).unwrap();
                let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
                (k, v, ttl)
            })
            .collect()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// nginx (one worker, as nginx defaults to) round-robin over `upstreams` with `keepalive 32`,
/// retrying the next one on a connection error or timeout, as the README's example deploys it.
pub struct Nginx {
    pub url: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// `None` when nginx is not installed.
    pub fn start(upstreams: &[String]) -> Option<Self> {
        let servers: String = upstreams
            .iter()
            .map(|u| {
                let hostport = u.trim_start_matches("http://").trim_end_matches('/');
                format!("    server {hostport} max_fails=1 fail_timeout=10s;\n")
            })
            .collect();
        Self::start_conf(|port, dir| {
            let d = dir.display();
            format!(
                "worker_processes 1;\n\
                 error_log {d}/error.log warn;\n\
                 pid {d}/nginx.pid;\n\
                 events {{ worker_connections 4096; }}\n\
                 http {{\n\
                   access_log off;\n\
                   client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
                   fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
                   upstream api {{\n{servers}    keepalive 32;\n  }}\n\
                   server {{\n\
                     listen 127.0.0.1:{port};\n\
                     location / {{\n\
                       proxy_pass http://api;\n\
                       proxy_http_version 1.1;\n\
                       proxy_set_header Connection \"\";\n\
                       proxy_set_header X-Forwarded-For $remote_addr;\n\
                       proxy_next_upstream error timeout;\n\
                       proxy_next_upstream_tries 3;\n\
                       proxy_connect_timeout 1s;\n\
                       proxy_read_timeout 30s;\n\
                       proxy_max_temp_file_size 0;\n\
                     }}\n\
                   }}\n\
                 }}\n"
            )
        })
    }

    /// nginx with the configuration `conf(port, dir)` writes for a free loopback `port` and a
    /// throwaway `dir` (for its pid file, logs and temp paths; `{dir}/error.log` is the error
    /// log), up once `port` accepts connections. `None` when nginx is not installed.
    pub fn start_conf(conf: impl Fn(u16, &Path) -> String) -> Option<Self> {
        let binary = server_binary("nginx")?;
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            std::fs::write(dir.path().join("nginx.conf"), conf(port, dir.path()))
                .expect("write nginx.conf");
            let mut child = Command::new(&binary)
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(dir.path().join("nginx.conf"))
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .args(["-g", "daemon off;"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start nginx");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken after all (or the configuration is bad): retry
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(Self {
                        url: format!("http://127.0.0.1:{port}"),
                        child,
                        dir,
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            eprintln!(
                "nginx did not come up on port {port}: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
        }
        panic!("nginx did not start on any of 5 ports");
    }

    /// The master process's pid (its workers are its children).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }

    /// nginx's error log (upstream failures it retried are logged there).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers (SIGKILL would orphan them on the port).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
