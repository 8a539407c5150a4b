//! Real infrastructure for the scale-out benchmark (the approach of tests/it/infra.rs, which
//! benches cannot import): a Redis server and an nginx load balancer, each on an ephemeral
//! loopback port in a throwaway directory, stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Debian-packaged server binary (`redis-server`, `nginx`), if installed.
pub fn server_binary(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("local addr")
        .port()
}

/// A `redis-server` with no persistence, on loopback.
pub struct Redis {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Redis {
    /// Starts one and waits until it answers `PING`; `None` when redis-server is not installed.
    pub fn start() -> Option<Self> {
        let binary = server_binary("redis-server")?;
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let r = Self {
            port,
            child,
            _dir: dir,
        };
        let started = Instant::now();
        while r.connection().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not come up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(r)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// A synchronous connection that has answered `PING`.
    pub fn connection(&self) -> Option<redis::Connection> {
        let client = redis::Client::open(self.url()).ok()?;
        let mut c = client
            .get_connection_with_timeout(Duration::from_secs(1))
            .ok()?;
        redis::cmd("PING").query::<String>(&mut c).ok()?;
        Some(c)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
