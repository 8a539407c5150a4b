//! A real browser: headless Chromium (Debian's `chromium`), driven over W3C WebDriver by
//! `chromedriver` (`chromium-driver`), takes the dev tenant's account picker with real clicks
//! and lands on azobo's loopback page, for `azobo login` and `azobo demo`. azobo's `BROWSER`
//! is a hand-off script that only writes the sign-in URL to a file; the test opens it in
//! Chromium. The pages are saved as PNGs under the target dir, and also to `docs/` with
//! `AZOBO_UPDATE_SCREENSHOTS=1` (the README shows them).
//!
//! The WebDriver client is the dozen HTTP calls these tests make, over the reqwest the crate
//! already has. Chromium resolves no name but `localhost`, so every request it makes stays on
//! this machine.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    Api, DevTenant, Keyring, Run, Shell, at_terminal, azobo, bin, home, in_ci, repo_root,
};

/// One browser at a time: Chromium is heavy for a 2-core machine running the whole suite.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long any one step (a page, a sign-in, a command) may take before the test fails.
const STEP: Duration = Duration::from_secs(60);

/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `chromium` and `chromedriver`, or `None` (and a message) outside CI; under CI a missing one
/// fails the test.
fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
    if let (Some(chromium), Some(driver)) = (on_path("chromium"), on_path("chromedriver")) {
        return Some((chromium, driver));
    }
    assert!(
        !in_ci(),
        "chromium and chromedriver are not installed: run the tests through scripts/test.sh, which installs Debian's chromium and chromium-driver"
    );
    eprintln!(
        "skipping: chromium and chromedriver are not installed (scripts/test.sh installs them)"
    );
    None
}

/// chromedriver and the headless Chromium of one WebDriver session. chromedriver runs in a
/// process group of its own with Chromium under it; the whole group is killed on drop.
struct Chromium {
    driver: std::process::Child,
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    session: String,
    _profile: tempfile::TempDir,
    _lock: tokio::sync::MutexGuard<'static, ()>,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.wait();
    }
}

impl Chromium {
    /// Starts chromedriver on a free loopback port and opens a headless Chromium session.
    async fn start() -> Option<Self> {
        let (chromium, chromedriver) = browser_binaries()?;
        let lock = ONE_BROWSER.lock().await;
        let mut driver = std::process::Command::new(chromedriver);
        std::os::unix::process::CommandExt::process_group(&mut driver, 0);
        let mut driver = driver
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // chromedriver says its port on stdout; the rest of its output is drained, never read.
        let stdout = driver.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(port) = line
                    .split("started successfully on port ")
                    .nth(1)
                    .and_then(|p| p.trim_end_matches('.').parse::<u16>().ok())
                {
                    let _ = tx.send(port);
                }
            }
        });
        let port = tokio::task::spawn_blocking(move || rx.recv_timeout(STEP))
            .await
            .unwrap()
            .expect("chromedriver announces its port");
        let profile = tempfile::tempdir().unwrap();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(STEP * 2)
            .build()
            .unwrap();
        let args = [
            "--headless=new".to_owned(),
            // Chromium's sandbox refuses to run as root, which the test machines are.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            "--window-size=800,720".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            // Every name but localhost (and 127.0.0.1) fails to resolve: nothing leaves the machine.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"
                .to_owned(),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let base = format!("http://127.0.0.1:{port}");
        let mut chrome = Self {
            driver,
            http,
            session: base.clone(),
            _profile: profile,
            _lock: lock,
        };
        let created = chrome.call("POST", "/session", Some(capabilities)).await;
        let id = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id: {created}"));
        chrome.session = format!("{base}/session/{id}");
        Some(chrome)
    }

    /// One WebDriver command; returns its `value` and fails the test on a WebDriver error.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let mut req = self
            .http
            .request(method.parse().expect("an HTTP method"), &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = resp.status();
        let v: Value = resp.json().await.expect("WebDriver answers JSON");
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {}",
            v["value"]
        );
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).await;
    }

    async fn url(&self) -> String {
        self.call("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn title(&self) -> String {
        self.call("GET", "/title", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The first element matching `css`.
    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().expect("an element").to_owned()
    }

    /// The rendered text of the first element matching `css`.
    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.call("GET", &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A real click (mouse events at the element's place on the page) on `css`.
    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.call("POST", &format!("/element/{e}/click"), Some(json!({})))
            .await;
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    async fn execute(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// The viewport as a PNG.
    async fn screenshot(&self) -> Vec<u8> {
        decode_png(&self.call("GET", "/screenshot", None).await)
    }

    /// The first element matching `css` as a PNG.
    async fn element_screenshot(&self, css: &str) -> Vec<u8> {
        let e = self.find(css).await;
        decode_png(
            &self
                .call("GET", &format!("/element/{e}/screenshot"), None)
                .await,
        )
    }

    /// Waits until the page's title is `title` (the page a click or redirect leads to).
    async fn wait_for_title(&self, title: &str) {
        let deadline = Instant::now() + STEP;
        loop {
            let now = self.title().await;
            if now == title {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the browser never reached `{title}`: it shows `{now}` at {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session (Chromium exits), then chromedriver goes with the drop.
    async fn quit(self) {
        self.call("DELETE", "", None).await;
    }
}

fn decode_png(v: &Value) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64 PNG"))
        .expect("base64")
}

/// Checks `png` is a PNG of a sensible size and saves it as `name`: under the target dir
/// always, in `docs/` too with `AZOBO_UPDATE_SCREENSHOTS=1`.
fn save_screenshot(name: &str, png: &[u8]) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 33,
        "{name} is not a PNG"
    );
    let dim = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    let (w, h) = (dim(16), dim(20));
    assert!(w >= 200 && h >= 100, "{name} is {w}x{h}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
    if std::env::var("AZOBO_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = repo_root().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(name), png).unwrap();
    }
}

/// A `BROWSER` for azobo that opens nothing: it appends the URL it is given to a file, and the
/// test opens that URL in Chromium.
struct Handoff {
    dir: tempfile::TempDir,
    /// The command to put in `AZOBO_BROWSER` or `BROWSER`.
    command: String,
}

impl Handoff {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("browser.sh");
        let urls = dir.path().join("urls");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> {}\n",
                shell_words::quote(urls.to_str().unwrap())
            ),
        )
        .unwrap();
        let command = format!("sh {}", shell_words::quote(script.to_str().unwrap()));
        Self { dir, command }
    }

    /// The first URL azobo handed over.
    async fn url(&self) -> String {
        self.nth_url(0).await
    }

    /// The `n`th URL azobo handed over (0-based): a second sign-in opens the browser again.
    async fn nth_url(&self, n: usize) -> String {
        let urls = self.dir.path().join("urls");
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(u) = std::fs::read_to_string(&urls)
                .ok()
                .and_then(|s| s.lines().nth(n).map(str::to_owned))
            {
                return u;
            }
            assert!(Instant::now() < deadline, "azobo never opened the browser");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Where the sign-in at `url` redirects to, and its state.
fn redirect_and_state(url: &str) -> (url::Url, String) {
    let q: std::collections::HashMap<String, String> = url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    (
        url::Url::parse(&q["redirect_uri"]).unwrap(),
        q["state"].clone(),
    )
}

/// Starts `cmd`, its output captured, killed if the test ends first.
fn spawn(cmd: std::process::Command) -> tokio::process::Child {
    tokio::process::Command::from(cmd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start azobo")
}

async fn finish(child: tokio::process::Child) -> Run {
    let out = tokio::time::timeout(STEP, child.wait_with_output())
        .await
        .expect("azobo finished")
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What `script` captured, as a terminal shows it: colours and cursor moves dropped, each line
/// as it was left after any carriage return.
fn as_shown(raw: &str) -> String {
    let mut plain = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for x in chars.by_ref() {
                    if x.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
        .split('\n')
        .map(|l| l.trim_end_matches('\r').rsplit('\r').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

/// An HTML page that shows `screen` as a terminal window after `$ command`.
fn terminal_page(command: &str, screen: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><style>\
body{{margin:0;padding:12px;background:#fff}}\
pre{{display:inline-block;margin:0;padding:14px 18px;background:#1d1f21;color:#e0e0e0;\
font:14px/1.2 'DejaVu Sans Mono',monospace;border-radius:8px}}\
.prompt{{color:#8fc97a}}</style></head><body><pre id=\"term\"><span class=\"prompt\">$</span> {}\n{}</pre></body></html>",
        html_escape::encode_text(command),
        html_escape::encode_text(screen)
    )
}

#[tokio::test]
async fn login_in_chromium_picks_an_account_and_lands_on_the_success_page() {
    if !Keyring::SecretService.available() {
        return;
    }
    let Some(chrome) = Chromium::start().await else {
        return;
    };
    // No auto-approve: the tenant shows its account picker.
    let t = DevTenant::start(&[]).await;
    let api = Api::start(&t, &[]).await;
    let handoff = Handoff::new();
    let mut sh = Shell::new(&t, Keyring::SecretService);
    sh.set("AZOBO_BROWSER", &handoff.command);
    sh.set("AZOBO_API_URL", &api.url);
    let login = spawn(sh.cmd(&["login", "--timeout", "120"]));
    let url = handoff.url().await;
    let (redirect, _) = redirect_and_state(&url);

    chrome.goto(&url).await;
    assert_eq!(chrome.title().await, "Sign in · azobo dev tenant");
    assert_eq!(chrome.text("h1").await, "Pick an account");
    let accounts = chrome
        .execute("return [...document.querySelectorAll('button[name=username]')].map(b => b.value)")
        .await;
    for user in ["alice", "bob", "carol"] {
        assert!(
            accounts.as_array().unwrap().contains(&json!(t.user(user))),
            "{user} is on the picker: {accounts}"
        );
    }
    save_screenshot("sign-in.png", &chrome.screenshot().await);

    chrome
        .click("button[name=username][value='alice@contoso.example']")
        .await;
    chrome.wait_for_title("Signed in to azobo").await;
    assert_eq!(chrome.text("h1").await, "Signed in to azobo");
    assert_eq!(
        chrome.text("p").await,
        "You can close this tab and return to the terminal."
    );
    let landed = chrome.url().await;
    assert!(
        landed.starts_with(&format!("{redirect}?code=")),
        "the tenant redirected to azobo's listener: {landed}"
    );
    save_screenshot("signed-in.png", &chrome.screenshot().await);

    let run = finish(login).await;
    sh.record(&["login"], &run);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Signed in as Alice Smith <alice@contoso.example>"),
        "{}",
        run.stderr
    );

    // The next processes find the session: status, and the table at a terminal.
    let status = sh.run(&["status", "--json"]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let s: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(s["account"]["username"], "alice@contoso.example");
    let (code, raw) = at_terminal(&sh, &["subscriptions"], &[("COLUMNS", "100")]);
    assert_eq!(code, Some(0), "{raw}");
    let screen = as_shown(&raw);
    for name in [
        "Contoso Production",
        "Contoso Development",
        "Contoso Sandbox",
    ] {
        assert!(screen.contains(name), "{screen}");
    }
    let page = handoff.dir.path().join("terminal.html");
    std::fs::write(&page, terminal_page("azobo subscriptions", &screen)).unwrap();
    chrome
        .goto(url::Url::from_file_path(&page).unwrap().as_str())
        .await;
    let shown = chrome.text("#term").await;
    assert!(
        shown.starts_with("$ azobo subscriptions\n") && shown.contains("Contoso Production"),
        "{shown}"
    );
    save_screenshot(
        "terminal-table.png",
        &chrome.element_screenshot("#term").await,
    );

    sh.assert_no_secrets(&t).await;
    chrome.quit().await;
}

#[tokio::test]
async fn cancel_on_the_account_picker_shows_the_error_page_and_login_exits_4() {
    let Some(chrome) = Chromium::start().await else {
        return;
    };
    let t = DevTenant::start(&[]).await;
    let handoff = Handoff::new();
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_BROWSER", &handoff.command);
    let login = spawn(sh.cmd(&["login", "--timeout", "120"]));
    chrome.goto(&handoff.url().await).await;
    chrome.click("button[name=action][value=cancel]").await;
    chrome.wait_for_title("Sign-in failed").await;
    assert_eq!(
        chrome.text("p").await,
        "access_denied: AADSTS65004: User declined to consent to access the app."
    );
    save_screenshot("sign-in-error.png", &chrome.screenshot().await);
    let run = finish(login).await;
    run.assert_fails(4, "access_denied");
    sh.run(&["status"]).assert_fails(3, "not signed in");
    chrome.quit().await;
}

#[tokio::test]
async fn an_error_description_with_markup_is_shown_as_text_and_no_script_runs() {
    let Some(chrome) = Chromium::start().await else {
        return;
    };
    let t = DevTenant::start(&[]).await;
    let handoff = Handoff::new();
    let mut sh = Shell::new(&t, Keyring::File);
    sh.set("AZOBO_BROWSER", &handoff.command);
    let login = spawn(sh.cmd(&["login", "--timeout", "120"]));
    let (mut redirect, state) = redirect_and_state(&handoff.url().await);
    let payload = "<script>document.title='pwned';window.azoboXss=1</script>\
<img src=x onerror=\"window.azoboXss=2\"><b>bold</b>";
    let probe = "return {title: document.title, xss: typeof window.azoboXss, \
scripts: document.scripts.length, images: document.images.length, \
bold: document.getElementsByTagName('b').length, text: document.querySelector('p')?.textContent}";

    // The probe sees a script that runs: the payload as a page of its own.
    chrome
        .goto(&format!(
            "data:text/html,{}",
            url::form_urlencoded::byte_serialize(payload.as_bytes()).collect::<String>()
        ))
        .await;
    let ran = chrome.execute(probe).await;
    assert_eq!(ran["xss"], "number", "{ran}");
    assert_eq!(ran["title"], "pwned", "{ran}");

    // On azobo's page it is text.
    redirect
        .query_pairs_mut()
        .append_pair("error", "access_denied")
        .append_pair("error_description", payload)
        .append_pair("state", &state);
    chrome.goto(redirect.as_str()).await;
    let seen = chrome.execute(probe).await;
    assert_eq!(seen["title"], "Sign-in failed", "{seen}");
    assert_eq!(seen["xss"], "undefined", "no script ran: {seen}");
    assert_eq!(seen["scripts"], 0, "{seen}");
    assert_eq!(seen["images"], 0, "{seen}");
    assert_eq!(seen["bold"], 0, "{seen}");
    assert_eq!(seen["text"], format!("access_denied: {payload}"), "{seen}");
    assert_eq!(chrome.text("h1").await, "Sign-in failed");

    let run = finish(login).await;
    run.assert_fails(4, "access_denied");
    chrome.quit().await;
}

/// `azobo demo` at a terminal (under `script`) and without CI: it opens a browser on the
/// picker, through `handoff`.
fn demo_at_terminal(home: &Path, handoff: &Handoff) -> tokio::process::Child {
    let base = azobo(home);
    let mut cmd = std::process::Command::new("script");
    cmd.args([
        "-qec",
        &format!("{} demo", shell_words::quote(bin())),
        "/dev/null",
    ])
    .stdin(Stdio::null());
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("BROWSER", &handoff.command)
        .env("COLUMNS", "100")
        .env_remove("CI");
    spawn(cmd)
}

#[tokio::test]
async fn demo_in_chromium_signs_the_picked_user_in_and_prints_the_table() {
    let Some(chrome) = Chromium::start().await else {
        return;
    };
    let h = home();
    let handoff = Handoff::new();
    let demo = demo_at_terminal(h.path(), &handoff);
    chrome.goto(&handoff.url().await).await;
    assert_eq!(chrome.text("h1").await, "Pick an account");
    chrome
        .click("button[name=username][value='alice@contoso.example']")
        .await;
    chrome.wait_for_title("Signed in to azobo").await;

    let run = finish(demo).await;
    let screen = as_shown(&run.stdout);
    assert_eq!(run.code, Some(0), "{screen}");
    assert!(
        screen.contains("Your browser opens the dev tenant's sign-in page"),
        "the demo used the browser: {screen}"
    );
    assert!(
        screen.contains("Signed in as Alice Smith <alice@contoso.example>"),
        "{screen}"
    );
    for name in [
        "Contoso Production",
        "Contoso Development",
        "Contoso Sandbox",
        "Legacy Billing",
    ] {
        assert!(screen.contains(name), "{screen}");
    }
    assert!(screen.contains("What just happened:"), "{screen}");
    assert!(
        std::fs::read_dir(h.path()).unwrap().next().is_none(),
        "the demo wrote to the user's home"
    );
    chrome.quit().await;
}

/// dave has MFA: the API answers his first token with a claims challenge, and the demo, at a
/// terminal, answers it with a second sign-in in the browser, as `azobo subscriptions` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_answers_daves_mfa_with_a_second_sign_in() {
    let Some(chrome) = Chromium::start().await else {
        return;
    };
    let h = home();
    let handoff = Handoff::new();
    let demo = demo_at_terminal(h.path(), &handoff);
    chrome.goto(&handoff.url().await).await;
    chrome
        .click("button[name=username][value='dave@contoso.example']")
        .await;
    chrome.wait_for_title("Signed in to azobo").await;
    // The second sign-in carries the API's claims and dave as the hint.
    let again = handoff.nth_url(1).await;
    assert!(again.contains("claims="), "{again}");
    assert!(again.contains("login_hint=dave"), "{again}");
    chrome.goto(&again).await;
    chrome
        .click("button[name=username][value='dave@contoso.example']")
        .await;
    chrome.wait_for_title("Signed in to azobo").await;

    let run = finish(demo).await;
    let screen = as_shown(&run.stdout);
    assert_eq!(run.code, Some(0), "{screen}");
    assert!(
        screen.contains("the API needs dave@contoso.example to sign in again"),
        "{screen}"
    );
    assert!(
        screen.contains(
            "The API asked for MFA (a claims challenge) and the second sign-in answered it"
        ),
        "{screen}"
    );
    assert!(
        screen.contains("in the browser, with authorization code + PKCE"),
        "the story is the browser's: {screen}"
    );
    assert!(screen.contains("1 subscription"), "{screen}");
    chrome.quit().await;
}
