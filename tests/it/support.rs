//! The harness: runs the real `azobo` binary (a dev tenant on an ephemeral loopback port, or a
//! one-shot command in an isolated environment) and talks to it over real sockets.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use oauth2::PkceCodeChallenge;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_azobo")
}

/// A `std::process::Command` for azobo with every `AZOBO_*` variable removed and HOME and the
/// XDG dirs pointed into `home`, so a developer's own configuration never leaks in.
pub fn azobo(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("AZOBO_") || k == "SSL_CERT_FILE" {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// A running `azobo dev-tenant`, killed on drop.
pub struct DevTenant {
    _child: Child,
    /// The startup JSON.
    pub info: Value,
    /// A client that trusts the tenant's CA (for `--tls`) and never follows redirects.
    pub http: reqwest::Client,
}

/// The loopback redirect URI the tests sign in with (any port matches `http://localhost`).
pub const REDIRECT: &str = "http://localhost:49152/";
pub const ARM_SCOPE: &str = "https://management.azure.com/user_impersonation";

impl DevTenant {
    /// Starts a dev tenant with extra flags and waits for its announcement.
    pub async fn start(args: &[&str]) -> Self {
        let mut child = Command::new(bin())
            .arg("dev-tenant")
            .args(if args.contains(&"--listen") {
                vec![]
            } else {
                vec!["--listen", "127.0.0.1:0"]
            })
            .args(["--device-code-interval", "1"])
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn azobo dev-tenant");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("dev tenant announced itself within 60 s")
            .expect("read stdout")
            .expect("a startup line");
        let info: Value = serde_json::from_str(&line).expect("startup line is JSON");
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30));
        if let Some(ca) = info["ca_file"].as_str() {
            let pem = std::fs::read(ca).expect("read CA");
            let certs = reqwest::Certificate::from_pem_bundle(&pem).expect("CA parses");
            builder = builder.tls_certs_only(certs);
        }
        let http = builder.build().expect("client");
        Self {
            _child: child,
            info,
            http,
        }
    }

    /// The tenant's process id.
    pub fn pid(&self) -> u32 {
        self._child.id().expect("running")
    }

    pub fn s(&self, key: &str) -> String {
        self.info[key]
            .as_str()
            .unwrap_or_else(|| panic!("startup JSON has no `{key}`"))
            .to_owned()
    }
    pub fn base(&self) -> String {
        self.s("base_url")
    }
    pub fn authority(&self) -> String {
        self.s("authority")
    }
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v2.0/token", self.authority())
    }
    pub fn cli_id(&self) -> String {
        self.s("cli_client_id")
    }
    pub fn api_id(&self) -> String {
        self.s("api_client_id")
    }
    pub fn api_secret(&self) -> String {
        self.s("api_client_secret")
    }
    pub fn api_scope(&self) -> String {
        self.s("api_scope")
    }
    pub fn user(&self, short: &str) -> String {
        format!("{short}@contoso.example")
    }

    /// A request to `{control_url}/{path}`, with the control token when the tenant has one.
    pub fn control_request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self
            .http
            .request(method, format!("{}/{path}", self.s("control_url")));
        match self.info["control_token"].as_str() {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// POSTs a control call and asserts it succeeded.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .control_request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("control call");
        let status = r.status();
        let v: Value = r.json().await.expect("control answers JSON");
        assert_eq!(status, StatusCode::OK, "control {path}: {v}");
        v
    }

    /// The published JWKS.
    pub async fn jwks(&self) -> Value {
        let url = format!(
            "{}/{}/discovery/v2.0/keys",
            self.base(),
            self.s("tenant_id")
        );
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `GET {control_url}/{path}` as JSON.
    pub async fn control_get(&self, path: &str) -> Value {
        self.control_request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The request log.
    pub async fn requests(&self) -> Vec<Value> {
        let v = self.control_get("requests").await;
        v["requests"].as_array().cloned().unwrap_or_default()
    }

    /// POSTs a form to the token endpoint; returns status and JSON body.
    pub async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.token_url())
            .form(form)
            .send()
            .await
            .expect("token call");
        let status = r.status();
        (status, r.json().await.expect("token endpoint answers JSON"))
    }

    /// The authorize URL for the CLI app with PKCE; returns it with the verifier.
    pub fn authorize_url(&self, scope: &str, extra: &[(&str, &str)]) -> (String, String) {
        self.authorize_url_for(&self.cli_id(), scope, extra)
    }

    /// The authorize URL for public client `client_id` with PKCE; returns it with the verifier.
    fn authorize_url_for(
        &self,
        client_id: &str,
        scope: &str,
        extra: &[(&str, &str)],
    ) -> (String, String) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut url =
            url::Url::parse(&format!("{}/oauth2/v2.0/authorize", self.authority())).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", scope)
            .append_pair("state", "st-123")
            .append_pair("nonce", "n-456")
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            url.query_pairs_mut().append_pair(k, v);
        }
        (url.to_string(), verifier.secret().clone())
    }

    /// Follows an authorize URL once and returns the redirect's query parameters.
    pub async fn follow(&self, url: &str) -> HashMap<String, String> {
        let r = self.http.get(url).send().await.expect("authorize");
        assert_eq!(
            r.status(),
            StatusCode::FOUND,
            "authorize should redirect: {}",
            r.text().await.unwrap_or_default()
        );
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(loc.starts_with(REDIRECT), "{loc}");
        url::Url::parse(&loc)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    /// Signs `user` in with auto-approve and redeems the code; returns the token response.
    pub async fn sign_in(&self, user: &str, scope: &str, extra: &[(&str, &str)]) -> Value {
        self.control("auto-approve", json!({"username": self.user(user)}))
            .await;
        self.redeem_auto_approved(&self.cli_id(), scope, extra)
            .await
    }

    /// Signs `user` in with public client `client_id` (the Azure CLI, Graph's tools, an app
    /// registered through Graph) through auto-approve; returns the token response.
    pub async fn sign_in_with(&self, client_id: &str, user: &str, scope: &str) -> Value {
        self.control("auto-approve", json!({"username": self.user(user)}))
            .await;
        self.redeem_auto_approved(client_id, scope, &[]).await
    }

    /// Signs in a user by full UPN.
    pub async fn sign_in_as(&self, username: &str, scope: &str) -> Value {
        self.control("auto-approve", json!({"username": username}))
            .await;
        self.redeem_auto_approved(&self.cli_id(), scope, &[]).await
    }

    async fn redeem_auto_approved(
        &self,
        client_id: &str,
        scope: &str,
        extra: &[(&str, &str)],
    ) -> Value {
        let (url, verifier) = self.authorize_url_for(client_id, scope, extra);
        let q = self.follow(&url).await;
        let code = q.get("code").unwrap_or_else(|| panic!("no code in {q:?}"));
        let (status, body) = self
            .token(&[
                ("client_id", client_id),
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
                ("scope", scope),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// A user's ARM token, exchanged On-Behalf-Of them by the API app.
    pub async fn arm_token(&self, user: &str) -> String {
        let api = self.api_tokens(user).await;
        let (s, b) = self
            .obo(api["access_token"].as_str().unwrap(), ARM_SCOPE)
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["access_token"].as_str().unwrap().to_owned()
    }

    /// A user's access token for the API (`openid profile offline_access` + the API scope).
    pub async fn api_tokens(&self, user: &str) -> Value {
        self.sign_in(
            user,
            &format!("openid profile offline_access {}", self.api_scope()),
            &[],
        )
        .await
    }

    /// OBO with the client secret.
    pub async fn obo(&self, assertion: &str, scope: &str) -> (StatusCode, Value) {
        self.token(&[
            ("client_id", &self.api_id()),
            ("client_secret", &self.api_secret()),
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("requested_token_use", "on_behalf_of"),
            ("assertion", assertion),
            ("scope", scope),
        ])
        .await
    }

    /// `GET {arm}/subscriptions` (or a nextLink) with a bearer token.
    pub async fn arm(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.get(url);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let r = req.send().await.expect("ARM call");
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.json().await.expect("ARM answers JSON"))
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self._child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(10), self._child.wait())
            .await
            .expect("exits within 10 s")
            .expect("wait")
    }

    pub fn subscriptions_url(&self) -> String {
        format!("{}/subscriptions?api-version=2022-12-01", self.s("arm_url"))
    }
}

/// The claims of a JWT, unverified (the tests check what was minted, not trust it).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims")
}

/// Asserts Entra's error shape and returns the AADSTS code.
pub fn assert_aad_error(body: &Value, error: &str, code: u64) {
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], json!([code]), "{body}");
    let desc = body["error_description"].as_str().unwrap_or_default();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    for key in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(body[key].is_string(), "missing {key}: {body}");
    }
}

/// A temp dir that is the test's HOME.
pub fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp home")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// True when running under CI, where missing test dependencies are failures.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Which secret store a CLI test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyring {
    /// gnome-keyring over D-Bus (the test script starts one).
    SecretService,
    /// The kernel keyring (the test script runs the tests in a session keyring).
    Keyutils,
    /// `--insecure-storage`'s plaintext file.
    File,
}

impl Keyring {
    /// Whether this run has the backend; under CI a missing one fails the test.
    pub fn available(self) -> bool {
        let ok = match self {
            Keyring::SecretService => std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            Keyring::Keyutils => std::env::var_os("AZOBO_TEST_SESSION_KEYRING").is_some(),
            Keyring::File => true,
        };
        assert!(
            ok || !in_ci(),
            "{self:?} is not available in this CI run: run the tests through scripts/test.sh"
        );
        if !ok {
            eprintln!(
                "skipping: {self:?} is not available (run the tests through scripts/test.sh)"
            );
        }
        ok
    }
}

/// A user's shell pointed at a dev tenant: its own HOME, the profile in env vars, the scripted
/// browser, and one secret store.
pub struct Shell {
    pub home: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
    /// Every run so far, for the secret scan.
    pub runs: std::sync::Mutex<Vec<(Vec<String>, Run)>>,
}

impl Shell {
    pub fn new(t: &DevTenant, keyring: Keyring) -> Self {
        let python = std::env::var("AZOBO_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let browser = format!(
            "{python} {}",
            repo_root().join("tests/support/browser.py").display()
        );
        let mut vars = vec![
            ("AZOBO_AUTHORITY".to_owned(), t.base()),
            ("AZOBO_TENANT".to_owned(), t.s("tenant_id")),
            ("AZOBO_CLIENT_ID".to_owned(), t.cli_id()),
            ("AZOBO_API_SCOPE".to_owned(), t.api_scope()),
            ("AZOBO_BROWSER".to_owned(), browser),
            ("CI".to_owned(), "true".to_owned()),
        ];
        match keyring {
            Keyring::SecretService => vars.push(("AZOBO_KEYRING".into(), "secret-service".into())),
            Keyring::Keyutils => vars.push(("AZOBO_KEYRING".into(), "keyutils".into())),
            Keyring::File => vars.push(("AZOBO_TOKEN_STORE".into(), "file".into())),
        }
        Self {
            home: home(),
            vars,
            runs: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn set(&mut self, k: &str, v: &str) {
        self.vars.retain(|(n, _)| n != k);
        self.vars.push((k.to_owned(), v.to_owned()));
    }

    pub fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = azobo(self.home.path());
        c.args(args);
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    /// azobo with these arguments, started through `wrapper` (e.g. `keyctl session -`, so the
    /// process gets a session keyring of its own), with this shell's environment.
    pub fn cmd_via(&self, wrapper: &[&str], args: &[&str]) -> std::process::Command {
        let base = self.cmd(args);
        let Some((program, rest)) = wrapper.split_first() else {
            return base;
        };
        let mut c = std::process::Command::new(program);
        c.args(rest).arg(bin()).args(args).stdin(Stdio::null());
        for (k, v) in base.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd(args).output().expect("run azobo");
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.record(args, &run);
        run
    }

    /// Adds output captured elsewhere (a spawned child) to the secret scan.
    pub fn record(&self, args: &[&str], run: &Run) {
        self.runs
            .lock()
            .unwrap()
            .push((args.iter().map(|s| (*s).to_owned()).collect(), run.clone()));
    }

    /// Asserts that no output of any run so far holds a token or code the tenant issued; only
    /// `azobo token`'s stdout may (that is its job).
    pub async fn assert_no_secrets(&self, t: &DevTenant) {
        let v = t.control_get("issued").await;
        let issued: std::collections::HashSet<String> = v["sha256"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_owned())
            .collect();
        assert!(!issued.is_empty(), "the tenant issued something");
        let runs = self.runs.lock().unwrap();
        for (args, run) in runs.iter() {
            let token_cmd = args.first().is_some_and(|a| a == "token");
            let streams: Vec<(&str, &str)> = if token_cmd {
                vec![("stderr", &run.stderr)]
            } else {
                vec![("stdout", &run.stdout), ("stderr", &run.stderr)]
            };
            for (name, text) in streams {
                for word in text
                    .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
                    .filter(|w| w.len() >= 20)
                {
                    let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(<sha2::Sha256 as sha2::Digest>::digest(word.as_bytes()));
                    assert!(
                        !issued.contains(&hash),
                        "`azobo {}` put an issued secret on {name}",
                        args.join(" ")
                    );
                }
            }
        }
    }

    pub fn sessions(&self) -> PathBuf {
        self.home.path().join(".local/share/azobo/sessions")
    }

    /// Signs in and asserts it worked.
    pub fn login(&self) -> Run {
        let r = self.run(&["login"]);
        assert_eq!(r.code, Some(0), "login failed: {}", r.stderr);
        r
    }
}

/// Starts `cmd` (an `azobo login --device-code`); returns the child, the user code it printed
/// on stderr, and a thread collecting all of its stderr.
pub async fn start_device_login(
    mut cmd: std::process::Command,
) -> (std::process::Child, String, std::thread::JoinHandle<String>) {
    use std::io::BufRead as _;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(code) = line.split("enter the code ").nth(1) {
                let _ = tx.send(
                    code.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let code = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the device code message on stderr");
    (child, code, reader)
}

/// Runs `cmd` (an `azobo login --device-code`), approves its code as `username` at the tenant,
/// waits for it and returns the run (recorded in `sh`'s secret scan).
pub async fn device_login_as(
    t: &DevTenant,
    sh: &Shell,
    cmd: std::process::Command,
    username: &str,
) -> Run {
    let (mut child, code, reader) = start_device_login(cmd).await;
    t.control(
        "device/approve",
        json!({"user_code": code, "username": username}),
    )
    .await;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let run = Run {
        code: status.code(),
        stdout: String::new(),
        stderr: reader.join().unwrap(),
    };
    sh.record(&["login", "--device-code"], &run);
    run
}

/// How many sign-ins were started at the tenant (authorize pages and device codes).
pub async fn sign_ins_started(t: &DevTenant) -> usize {
    t.requests()
        .await
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/authorize") || p.ends_with("/devicecode"))
        })
        .count()
}

/// The outcome of one azobo run.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts a failure with `code`, nothing on stdout, and a one-line `error:` (plus hint).
    pub fn assert_fails(&self, code: i32, needle: &str) {
        assert_eq!(self.code, Some(code), "stderr: {}", self.stderr);
        assert!(
            self.stdout.is_empty(),
            "stdout must be empty on failure: {}",
            self.stdout
        );
        let first = self
            .stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line: {}", self.stderr));
        assert!(first.contains(needle), "`{needle}` not in: {first}");
    }
}

/// A running `azobo serve-api` against a dev tenant, killed on drop.
pub struct Api {
    pub child: Child,
    pub url: String,
    /// The startup line.
    pub startup: Value,
    pub http: reqwest::Client,
    logs: std::sync::Arc<std::sync::Mutex<String>>,
    drain: tokio::task::JoinHandle<()>,
}

impl Api {
    /// The arguments that point serve-api at `t`.
    pub fn args_for(t: &DevTenant) -> Vec<String> {
        vec![
            "--authority".into(),
            t.base(),
            "--tenant".into(),
            t.s("tenant_id"),
            "--client-id".into(),
            t.api_id(),
            "--arm-url".into(),
            t.s("arm_url"),
        ]
    }

    /// Starts serve-api with the tenant's secret and waits until it is ready.
    pub async fn start(t: &DevTenant, extra: &[&str]) -> Self {
        let mut args = Self::args_for(t);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let api = Self::spawn(&args, &[("AZOBO_API_CLIENT_SECRET", &t.api_secret())]).await;
        api.wait_ready().await;
        api
    }

    /// Starts serve-api with these arguments and environment; does not wait for readiness.
    pub async fn spawn(args: &[String], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(bin());
        cmd.args(["serve-api", "--listen", "127.0.0.1:0"])
            .args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("AZOBO_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn serve-api");
        let stdout = child.stdout.take().expect("stdout");
        let line = tokio::time::timeout(
            Duration::from_secs(30),
            BufReader::new(stdout).lines().next_line(),
        )
        .await
        .expect("serve-api announced itself")
        .expect("read")
        .expect("a line");
        let v: Value = serde_json::from_str(&line).expect("JSON line");
        let url = v["listening"].as_str().expect("listening").to_owned();
        let startup = v.clone();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        // Drain the logs as they come so a chatty server never blocks on a full pipe.
        let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = std::sync::Arc::clone(&logs);
        let drain = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let mut s = sink.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        Self {
            child,
            url,
            startup,
            http,
            logs,
            drain,
        }
    }

    /// Polls /readyz until 200 (bounded).
    pub async fn wait_ready(&self) {
        for _ in 0..400 {
            if self
                .http
                .get(format!("{}/readyz", self.url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("serve-api never became ready");
    }

    /// `GET {url}{path}` with an optional raw Authorization header.
    pub async fn get(
        &self,
        path: &str,
        authorization: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.get(format!("{}{path}", self.url));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        let r = req.send().await.expect("request");
        let (s, h) = (r.status(), r.headers().clone());
        let text = r.text().await.unwrap_or_default();
        (
            s,
            h,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Stops with SIGTERM and returns the captured stderr (the logs).
    pub async fn stop(self) -> (std::process::ExitStatus, String) {
        self.stop_with("-TERM").await
    }

    /// Stops with `signal` (`-TERM`, `-INT`) and returns the captured stderr.
    pub async fn stop_with(mut self, signal: &str) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().expect("running").to_string();
        std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("stops")
            .expect("wait");
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.drain).await;
        let logs = self.logs.lock().unwrap().clone();
        (status, logs)
    }
}

/// The number of OBO exchanges the tenant has seen.
pub async fn obo_count(t: &DevTenant) -> usize {
    t.requests()
        .await
        .iter()
        .filter(|e| e["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer")
        .count()
}

/// Serves `router` on an ephemeral loopback port; returns its base URL.
pub async fn fake_api(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// Runs azobo with `args` at a terminal (under `script`, which gives it a pty), with the shell's
/// environment, `CI` unset and `extra` set; returns the exit code and everything it wrote.
pub fn at_terminal(sh: &Shell, args: &[&str], extra: &[(&str, &str)]) -> (Option<i32>, String) {
    let program = std::iter::once(bin().to_owned())
        .chain(args.iter().map(|a| shell_words::quote(a).into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &program, "/dev/null"])
        .envs(
            sh.vars
                .iter()
                .filter(|(k, _)| k != "CI")
                .map(|(k, v)| (k.clone(), v.clone())),
        )
        .envs(extra.iter().map(|(k, v)| (*k, *v)))
        .env("HOME", sh.home.path())
        .env("XDG_CONFIG_HOME", sh.home.path().join(".config"))
        .env("XDG_DATA_HOME", sh.home.path().join(".local/share"))
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("AZOBO_") && !sh.vars.iter().any(|(n, _)| *n == k) {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The resident memory of process `pid`, in KiB (Linux).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap()
}
