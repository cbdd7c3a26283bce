//! Real headless Chromium for the web pages' tests, driven over WebDriver (chromedriver).
//!
//! ```ignore
//! let Some(browser) = Browser::start("zh-CN").await else { return };
//! browser.goto(&format!("{}/login", app.base)).await;
//! browser.fill("#name", "intake").await;
//! browser.submit("form#login").await;
//! browser.wait_for("h1").await;
//! assert_eq!(browser.text("h1").await, "投诉列表");
//! browser.close().await;
//! ```
//!
//! Each [`Browser`] is its own chromedriver (on a free port) and its own Chromium with a fresh
//! profile, so tests run side by side. Without chromedriver, [`Browser::start`] says it is
//! skipping and gives `None`, unless `REDRESS_REQUIRE_BROWSER=1` (as in CI), where it panics.
//! Every other method panics on failure with the CSS selector and the page's URL.
//!
//! The end of this file is the harness's own test, against a tiny form served here.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Set to `1` to make a missing chromedriver or Chromium a failure instead of a skip.
pub const REQUIRE_VAR: &str = "REDRESS_REQUIRE_BROWSER";
/// The Chromium binary, if not `/usr/bin/chromium`.
pub const CHROMIUM_VAR: &str = "REDRESS_CHROMIUM";
/// The chromedriver binary, if not `chromedriver` on the `PATH`.
pub const CHROMEDRIVER_VAR: &str = "REDRESS_CHROMEDRIVER";

/// How long [`Browser::wait_for`] and [`Browser::submit`] wait.
pub const WAIT: Duration = Duration::from_secs(10);
/// How much of the page source a failure shows.
const SOURCE_EXCERPT: usize = 2_000;

/// A headless Chromium session. Dropping it ends the session and chromedriver.
pub struct Browser {
    client: Client,
    driver: Driver,
    /// The WebDriver session, ended on drop unless [`Browser::close`] did it.
    session: Option<String>,
    /// The browser's process id, killed on drop if ending the session failed.
    browser_pid: Option<u64>,
    /// The profile (`--user-data-dir`); declared last, so removed after the browser is gone.
    _profile: tempfile::TempDir,
}

/// The chromedriver child process and where it listens.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until `/status` says it is ready.
    async fn start(binary: &Path, log: PathBuf) -> Result<Driver, String> {
        let mut last = String::new();
        // A port found free can be taken before chromedriver binds it: try a few.
        for _ in 0..3 {
            let port = free_port();
            let out = std::fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
            let err = out.try_clone().map_err(|e| e.to_string())?;
            let child = Command::new(binary)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
            let mut driver = Driver { child, port, log: log.clone() };
            match driver.wait_ready().await {
                Ok(()) => return Ok(driver),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().map_err(|e| e.to_string())?;
        let url = format!("{}/status", self.url());
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("chromedriver exited ({status}) on port {}: {}", self.port, self.log_text()));
            }
            if let Ok(res) = http.get(&url).send().await
                && let Ok(v) = res.json::<Value>().await
                && v["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(format!("chromedriver did not answer {url} within {WAIT:?}: {}", self.log_text()))
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Ends a session synchronously (a drop cannot await): `DELETE /session/{id}` over a plain
    /// socket. Chromedriver then quits the browser. True when it answered 200.
    fn delete_session(&self, session: &str) -> bool {
        let attempt = || -> std::io::Result<bool> {
            let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
            stream.set_read_timeout(Some(WAIT))?;
            stream.set_write_timeout(Some(WAIT))?;
            write!(
                stream,
                "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.port
            )?;
            // The answer comes once the browser has quit; its status line is all we need
            // (chromedriver may keep the connection open after it).
            let mut answer = [0u8; 12];
            stream.read_exact(&mut answer)?;
            Ok(&answer == b"HTTP/1.1 200")
        };
        attempt().unwrap_or(false)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session) = self.session.take()
            && !self.driver.delete_session(&session)
            && let Some(pid) = self.browser_pid
        {
            // Chromium outlives a killed chromedriver: end it directly.
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).stderr(Stdio::null()).status();
        }
        // `driver` (chromedriver) is killed as it drops, then the profile is removed.
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind a free port").port()
}

/// `name` on the `PATH`, if there.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// The first `limit` characters of `s`.
fn excerpt(s: &str, limit: usize) -> &str {
    match s.char_indices().nth(limit) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A CSS string literal (double-quoted) holding `s`.
fn css_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\a "),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// No browser can run here: `None` with a notice, or a panic when one is required.
fn missing(what: String) -> Option<Browser> {
    if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
        panic!("{what}, and {REQUIRE_VAR}=1 requires a browser (apt-get install chromium chromium-driver)");
    }
    eprintln!("skipping: {what} (apt-get install chromium chromium-driver to run the browser tests)");
    None
}

impl Browser {
    /// Starts chromedriver and a headless Chromium whose language is `lang` (`"zh-CN"`, `"en"`):
    /// its `--lang` and its Accept-Language. `None`, after a "skipping: chromedriver not found"
    /// notice, when chromedriver is missing (a panic if `REDRESS_REQUIRE_BROWSER=1`).
    pub async fn start(lang: &str) -> Option<Browser> {
        let driver_bin = match std::env::var_os(CHROMEDRIVER_VAR) {
            Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
            None => on_path("chromedriver").or_else(|| Some(PathBuf::from("/usr/bin/chromedriver")).filter(|p| p.is_file())),
        };
        let Some(driver_bin) = driver_bin else {
            return missing(format!("chromedriver not found (${CHROMEDRIVER_VAR}, the PATH, /usr/bin/chromedriver)"));
        };
        let chromium = std::env::var_os(CHROMIUM_VAR).map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
        if !chromium.is_file() {
            return missing(format!("chromium not found at {} (set ${CHROMIUM_VAR})", chromium.display()));
        }

        let profile = tempfile::Builder::new().prefix("redress-chromium-").tempdir().expect("temp dir for the browser profile");
        let user_data = profile.path().join("profile");
        let driver = Driver::start(&driver_bin, profile.path().join("chromedriver.log"))
            .await
            .unwrap_or_else(|e| panic!("browser: cannot start {}: {e}", driver_bin.display()));

        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--user-data-dir={}", user_data.display()));
        args.push(format!("--lang={lang}"));
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": args,
                "prefs": { "intl": { "accept_languages": lang } },
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match ClientBuilder::new(connector).capabilities(caps).connect(&driver.url()).await {
            Ok(client) => client,
            Err(e) => panic!("browser: chromedriver could not start {}: {e}\nchromedriver's log:\n{}", chromium.display(), driver.log_text()),
        };
        let session = client.session_id().await.ok().flatten();
        let browser_pid = client.capabilities().and_then(|c| c.get("goog:processID")).and_then(Value::as_u64);
        Some(Browser { client, driver, session, browser_pid, _profile: profile })
    }

    /// Loads `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        if let Err(e) = self.client.goto(url).await {
            self.fail(format!("cannot load {url}: {e}")).await
        }
    }

    /// Types `text` into the input or textarea `css`, after clearing it. Characters outside
    /// the Basic Multilingual Plane (emoji), which chromedriver cannot type, are set directly
    /// (with `input` and `change` events).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        if let Err(e) = el.clear().await {
            self.fail(format!("cannot clear `{css}`: {e}")).await
        }
        let result = if text.chars().all(|c| (c as u32) <= 0xFFFF) {
            el.send_keys(text).await
        } else {
            let script = "arguments[0].value = arguments[1];
                 arguments[0].dispatchEvent(new Event('input', { bubbles: true }));
                 arguments[0].dispatchEvent(new Event('change', { bubbles: true }));";
            self.client.execute(script, vec![json!(el), json!(text)]).await.map(|_| ())
        };
        if let Err(e) = result {
            self.fail(format!("cannot type into `{css}`: {e}")).await
        }
    }

    /// Chooses the `<option>` whose value is `value` in the `<select>` `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let el = self.find(css).await;
        match el.find(Locator::Css(&format!("option[value={}]", css_string(value)))).await {
            Ok(option) => {
                if let Err(e) = option.click().await {
                    self.fail(format!("cannot choose {value:?} in `{css}`: {e}")).await
                }
            }
            Err(_) => {
                let mut values = Vec::new();
                for option in el.find_all(Locator::Css("option")).await.unwrap_or_default() {
                    values.push(option.attr("value").await.ok().flatten().unwrap_or_default());
                }
                self.fail(format!("`{css}` has no option of value {value:?}; its values are {values:?}")).await
            }
        }
    }

    /// Clicks `css`. Waits for nothing: follow with [`Browser::wait_for`] (or use
    /// [`Browser::submit`]) when the click loads a page.
    pub async fn click(&self, css: &str) {
        if let Err(e) = self.find(css).await.click().await {
            self.fail(format!("cannot click `{css}`: {e}")).await
        }
    }

    /// Submits a form as a person would and waits (up to 10 s) for the page that answers:
    /// `css` is the `<form>` (submitted as by its default button, validation included) or the
    /// button to press. Panics if no new page loads.
    pub async fn submit(&self, css: &str) {
        let el = self.find(css).await;
        let before = self.find("html").await;
        let tag = el.tag_name().await.unwrap_or_default();
        let result = if tag.eq_ignore_ascii_case("form") {
            self.client.execute("arguments[0].requestSubmit();", vec![json!(el)]).await.map(|_| ())
        } else {
            el.click().await
        };
        if let Err(e) = result {
            self.fail(format!("cannot submit `{css}`: {e}")).await
        }
        let deadline = Instant::now() + WAIT;
        loop {
            // The old page's root goes stale once the answer replaces it.
            let gone = match before.tag_name().await {
                Err(e) => e.is_stale_element_reference() || e.is_no_such_element(),
                Ok(_) => false,
            };
            if gone {
                let state = self.client.execute("return document.readyState;", vec![]).await;
                if matches!(state, Ok(Value::String(s)) if s == "complete") {
                    return;
                }
            }
            if Instant::now() >= deadline {
                let source = self.source().await;
                self.fail(format!(
                    "submitting `{css}` loaded no new page within {WAIT:?} (invalid fields?); the page:\n{}",
                    excerpt(&source, SOURCE_EXCERPT)
                ))
                .await
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The text of `css` as rendered (hidden elements give "").
    pub async fn text(&self, css: &str) -> String {
        match self.find(css).await.text().await {
            Ok(text) => text,
            Err(e) => self.fail(format!("cannot read the text of `{css}`: {e}")).await,
        }
    }

    /// The texts of every element matching `css`, in page order (empty if none).
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.find_all(css).await {
            match el.text().await {
                Ok(text) => out.push(text),
                Err(e) => self.fail(format!("cannot read the text of `{css}`: {e}")).await,
            }
        }
        out
    }

    /// The attribute `name` of `css` as the HTML has it (`None` if absent): for a field's
    /// `value`, what the page was served with, not what was typed since.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        match self.find(css).await.attr(name).await {
            Ok(value) => value,
            Err(e) => self.fail(format!("cannot read the attribute {name:?} of `{css}`: {e}")).await,
        }
    }

    /// Whether anything matches `css` now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// Waits up to 10 s for something to match `css`; then panics with the URL and the start of
    /// the page source.
    pub async fn wait_for(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            match self.client.find(Locator::Css(css)).await {
                Ok(_) => return,
                Err(e) if e.is_no_such_element() => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => self.fail(format!("cannot look for `{css}`: {e}")).await,
            }
        }
        let source = self.source().await;
        self.fail(format!("nothing matched `{css}` within {WAIT:?}; the page:\n{}", excerpt(&source, SOURCE_EXCERPT))).await
    }

    /// Runs `script` (a function body: `return` gives the result) in the page and gives what it
    /// returned, as JSON.
    pub async fn execute(&self, script: &str) -> Value {
        match self.client.execute(script, vec![]).await {
            Ok(value) => value,
            Err(e) => self.fail(format!("the script failed: {e}\n{}", excerpt(script, 500))).await,
        }
    }

    /// The current page's URL.
    pub async fn url(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => panic!("browser: cannot read the current URL: {e}"),
        }
    }

    /// The current page's HTML (as the browser holds it now).
    pub async fn source(&self) -> String {
        match self.client.source().await {
            Ok(source) => source,
            Err(e) => self.fail(format!("cannot read the page source: {e}")).await,
        }
    }

    /// Resizes the window (the default is 1280×900).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        if let Err(e) = self.client.set_window_size(width, height).await {
            self.fail(format!("cannot resize the window to {width}×{height}: {e}")).await
        }
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let png = match self.client.screenshot().await {
            Ok(png) => png,
            Err(e) => self.fail(format!("cannot take a screenshot: {e}")).await,
        };
        if let Err(e) = std::fs::write(path, png) {
            self.fail(format!("cannot write the screenshot to {}: {e}", path.display())).await
        }
    }

    /// Ends the session (the browser quits) and chromedriver.
    pub async fn close(mut self) {
        if self.session.is_some() {
            if let Err(e) = self.client.clone().close().await {
                panic!("browser: cannot end the session: {e}");
            }
            self.session = None;
        }
    }

    /// The element matching `css`, or a panic saying which selector, where.
    async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(el) => el,
            Err(e) if e.is_no_such_element() => {
                let source = self.source().await;
                self.fail(format!("nothing matches `{css}`; the page:\n{}", excerpt(&source, SOURCE_EXCERPT))).await
            }
            Err(e) => self.fail(format!("cannot look for `{css}`: {e}")).await,
        }
    }

    async fn find_all(&self, css: &str) -> Vec<Element> {
        match self.client.find_all(Locator::Css(css)).await {
            Ok(els) => els,
            Err(e) => self.fail(format!("cannot look for `{css}`: {e}")).await,
        }
    }

    /// Panics with `what` and the page's URL.
    async fn fail(&self, what: String) -> ! {
        let url = match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("<URL unknown: {e}>"),
        };
        panic!("browser at {url}: {what}")
    }
}

// The harness's own test: once, not per engine.

mod self_test {
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use axum::Router;
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::response::Html;
    use axum::routing::{get, post};
    use futures::FutureExt;

    use super::Browser;

    /// What the echo handler received: the form's fields, in order.
    type Posted = Arc<Mutex<Vec<Vec<(String, String)>>>>;

    const FORM: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Form</title></head>
<body>
  <h1>A form</h1>
  <form id="f" method="post" action="/echo">
    <input id="name" name="name" value="prefilled">
    <textarea id="note" name="note">prefilled too</textarea>
    <select id="kind" name="kind">
      <option value="a">Alpha</option>
      <option value="b &quot;quoted&quot;">Beta</option>
      <option value="c">Gamma</option>
    </select>
    <button id="go" type="submit">Send</button>
  </form>
  <script>setTimeout(() => { const p = document.createElement('p'); p.id = 'late'; p.textContent = 'ready'; document.body.append(p); }, 300);</script>
</body></html>"#;

    fn escape(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
    }

    async fn echo(State(posted): State<Posted>, headers: HeaderMap, body: String) -> Html<String> {
        let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        let mut html = String::from("<!doctype html><html><head><meta charset=\"utf-8\"><title>Echo</title></head><body><h1>Echo</h1><dl>");
        for (name, value) in &fields {
            html.push_str(&format!("<dt>{0}</dt><dd id=\"echo-{0}\">{1}</dd>", escape(name), escape(value)));
        }
        let lang = headers.get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or("");
        html.push_str(&format!("</dl><p id=\"lang\">{}</p></body></html>", escape(lang)));
        posted.lock().unwrap().push(fields);
        Html(html)
    }

    fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
        fields.iter().find(|(n, _)| n == name).map_or_else(|| panic!("no field {name} in {fields:?}"), |(_, v)| v)
    }

    /// The width and height of a PNG, from its header.
    fn png_size(png: &[u8]) -> (u32, u32) {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        let be = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
        (be(16), be(20))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_harness_fills_selects_submits_and_reads_a_real_page() {
        let posted = Posted::default();
        let app = Router::new().route("/", get(|| async { Html(FORM) })).route("/echo", post(echo)).with_state(posted.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let started = Instant::now();
        let Some(browser) = Browser::start("zh-CN").await else { return };
        eprintln!("browser session started in {} ms", started.elapsed().as_millis());
        let shots = tempfile::tempdir().unwrap();

        // A page, an element that appears later, texts, attributes, a screenshot.
        browser.goto(&format!("{base}/")).await;
        browser.wait_for("#late").await;
        assert_eq!(browser.text("#late").await, "ready");
        assert_eq!(browser.execute("return navigator.language;").await, "zh-CN");
        assert_eq!(browser.texts("#kind option").await, ["Alpha", "Beta", "Gamma"]);
        assert_eq!(browser.attr("#f", "method").await.as_deref(), Some("post"));
        assert_eq!(browser.attr("#f", "data-none").await, None);
        assert!(browser.exists("#go").await);
        assert!(!browser.exists("#nothing-here").await);
        browser.screenshot(shots.path().join("form.png")).await;
        let (w, h) = png_size(&std::fs::read(shots.path().join("form.png")).unwrap());
        assert!(w >= 1000 && h >= 500, "a 1280×900 window's screenshot is {w}×{h}");

        // Fill (over what was there), choose, click; the posted values come back as text.
        browser.fill("#name", "<script>alert(1)</script>").await;
        assert_eq!(browser.attr("#name", "value").await.as_deref(), Some("prefilled"), "the attribute, as served");
        browser.fill("#note", "第一行\n第二行 🙂").await;
        browser.select("#kind", "b \"quoted\"").await;
        browser.click("#go").await;
        browser.wait_for("#echo-name").await;
        assert!(browser.url().await.ends_with("/echo"));
        assert_eq!(browser.text("#echo-name").await, "<script>alert(1)</script>");
        assert!(!browser.exists("dd script").await, "the posted markup became an element");
        assert!(browser.source().await.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(browser.text("#echo-kind").await, "b \"quoted\"");
        assert!(browser.text("#lang").await.starts_with("zh-CN"), "Accept-Language: {}", browser.text("#lang").await);
        {
            let posted = posted.lock().unwrap();
            let fields = &posted[0];
            assert_eq!(field(fields, "name"), "<script>alert(1)</script>");
            assert_eq!(field(fields, "note"), "第一行\r\n第二行 🙂");
            assert_eq!(field(fields, "kind"), "b \"quoted\"");
        }

        // Submit by the form itself, in a smaller window.
        browser.set_window_size(480, 800).await;
        browser.goto(&format!("{base}/")).await;
        browser.fill("#name", "王五").await;
        browser.select("#kind", "c").await;
        browser.submit("#f").await;
        assert_eq!(browser.text("#echo-name").await, "王五");
        assert_eq!(browser.text("#echo-note").await, "prefilled too");
        assert_eq!(browser.text("#echo-kind").await, "c");
        browser.screenshot(shots.path().join("echo.png")).await;
        let (w, _) = png_size(&std::fs::read(shots.path().join("echo.png")).unwrap());
        assert!(w <= 480, "a 480-wide window's screenshot is {w} wide");

        // A failure names the selector and the page.
        let failure = std::panic::AssertUnwindSafe(browser.text("#missing")).catch_unwind().await.expect_err("no such element");
        let message = failure.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("`#missing`") && message.contains(&format!("{base}/echo")), "{message}");

        browser.close().await;
    }
}
