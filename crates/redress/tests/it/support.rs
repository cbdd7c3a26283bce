//! Test support: the real application on port 0 against a fresh database, on either engine.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use redress_domain::clock::ManualClock;
use redress_domain::org::Role;
use redress_domain::rulebook::RuleBook;
use redress_app::App as AppState;
use redress_store::Store;
use reqwest::StatusCode;
use serde_json::Value;

/// The variable naming a PostgreSQL server for the PostgreSQL half of the suite.
pub const POSTGRES_URL_VAR: &str = "REDRESS_TEST_POSTGRES_URL";

/// Which storage engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs each named async test function once per engine.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Engine::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Engine::Postgres).await
                }
            }
        )*
    };
}

/// What a fresh database leaves behind, removed when dropped: a temporary directory (SQLite) or
/// a schema (PostgreSQL).
pub enum Scratch {
    Dir(#[expect(dead_code, reason = "kept only so the directory lives as long as the test")] tempfile::TempDir),
    Schema { url: String, schema: String },
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Scratch::Schema { url, schema } = self {
            let (url, schema) = (url.clone(), schema.clone());
            // Drop runs inside the test's runtime, which cannot block on async work; a short-lived
            // runtime on its own thread can.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(redress_store_postgres::PostgresStore::drop_schema(&url, &schema))
            })
            .join();
        }
    }
}

/// A fresh, empty store of the engine, or `None` (with a notice) when the engine is not
/// configured here.
pub async fn fresh_store(engine: Engine) -> Option<(Arc<dyn Store>, Scratch)> {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("redress.db").display());
            let store = redress::open_store(&url).await.expect("open sqlite");
            Some((store, Scratch::Dir(dir)))
        }
        Engine::Postgres => {
            let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
                eprintln!("skipping the PostgreSQL run: {POSTGRES_URL_VAR} is not set");
                return None;
            };
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            let store = redress_store_postgres::PostgresStore::connect_with_schema(&url, &schema).await.expect("connect postgres");
            store.migrate().await.expect("migrate postgres");
            Some((Arc::new(store), Scratch::Schema { url, schema }))
        }
    }
}

/// 10:00 in Shanghai on Monday 20 January 2025, a week before the Spring Festival.
pub fn start_time() -> Timestamp {
    "2025-01-20T02:00:00Z".parse().unwrap()
}

/// The application under test.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub tokens: HashMap<&'static str, String>,
    _scratch: Scratch,
}

/// The users every test app has: (name, role, department).
pub const USERS: &[(&str, Role, Option<&str>)] = &[
    ("admin", Role::Admin, None),
    ("intake", Role::IntakeAgent, None),
    ("supervisor", Role::Supervisor, None),
    ("supervisor2", Role::Supervisor, None),
    ("auditor", Role::Auditor, None),
    ("ho_handler", Role::Handler, Some("HO-CP")),
    ("ho_head", Role::DepartmentHead, Some("HO-CP")),
    ("card_handler", Role::Handler, Some("SH-CARD")),
    ("card_handler2", Role::Handler, Some("SH-CARD")),
    ("card_head", Role::DepartmentHead, Some("SH-CARD")),
    ("sh_cp_head", Role::DepartmentHead, Some("SH-CP")),
    ("gz_handler", Role::Handler, Some("GZ-CP")),
];

impl TestApp {
    /// Starts the real server on port 0 with a fresh database and the standard users.
    pub async fn start(engine: Engine) -> Option<TestApp> {
        Self::start_with_database(engine).await.map(|(app, _)| app)
    }

    fn auth(&self, who: &str, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.tokens.get(who) {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// POSTs JSON as a user; returns the status and the JSON body.
    pub async fn post(&self, who: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let res = self.auth(who, self.http.post(format!("{}{path}", self.base))).json(body).send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// POSTs raw bytes as JSON.
    pub async fn post_raw(&self, who: &str, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let res = self
            .auth(who, self.http.post(format!("{}{path}", self.base)))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// GETs as a user.
    pub async fn get(&self, who: &str, path: &str) -> (StatusCode, Value) {
        let res = self.auth(who, self.http.get(format!("{}{path}", self.base))).send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Registers a complaint as the intake agent and returns it (asserting 201).
    pub async fn register(&self, body: &Value) -> Value {
        let (status, v) = self.post("intake", "/api/v1/complaints", body).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v
    }

    /// Performs an action, asserting success; returns the complaint.
    pub async fn act(&self, who: &str, id: &str, action: &str, body: Value) -> Value {
        let (status, v) = self.post(who, &format!("/api/v1/complaints/{id}/{action}"), &body).await;
        assert_eq!(status, StatusCode::OK, "{action} as {who}: {v}");
        v
    }

    /// The test clock's time.
    pub fn clock_now(&self) -> Timestamp {
        use redress_domain::clock::Clock;
        self.clock.now()
    }

    /// Moves the clock.
    pub fn advance_days(&self, days: i64) {
        self.clock.advance(jiff::SignedDuration::from_hours(24 * days));
    }
}

/// A realistic credit-card complaint against the Shanghai branch.
pub fn card_complaint(phone: &str) -> Value {
    serde_json::json!({
        "channel": "hotline",
        "complainant": { "name": "张三", "phone": phone, "id_number": "11010519491231002X", "customer_type": "individual" },
        "respondent": { "unit": "SH", "staff": ["柜员 0123"] },
        "product": "信用卡",
        "amount": { "amount": "5000.00", "currency": "CNY" },
        "request": "要求退还被盗刷的5000元并赔偿损失",
        "narrative": "我的信用卡在11月20日晚被盗刷了5000元，我本人当时在家，卡片也在身边。联系客服三次都说在处理，到现在没有结果，态度很差。"
    })
}

// Helpers of the permission, leak, bad-input and two-server suites.

/// Where a test app's database lives, for the few checks that must read a table directly.
pub enum Database {
    /// The SQLite file.
    Sqlite(std::path::PathBuf),
    /// The PostgreSQL server and the test's own schema on it.
    Postgres { url: String, schema: String },
}

impl Database {
    /// Rows of the `attachments` table (content stored by SHA-256), all of them or those of one
    /// file.
    pub async fn attachment_rows(&self, sha256: Option<&str>) -> i64 {
        use sqlx::Connection;
        match self {
            Database::Sqlite(path) => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(false);
                let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.expect("open the sqlite file");
                let n: i64 = match sha256 {
                    Some(sha) => sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE sha256 = ?").bind(sha).fetch_one(&mut conn).await,
                    None => sqlx::query_scalar("SELECT COUNT(*) FROM attachments").fetch_one(&mut conn).await,
                }
                .expect("count attachments");
                let _ = conn.close().await;
                n
            }
            Database::Postgres { url, schema } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect postgres");
                // The schema name is made by `fresh_store`: a plain identifier.
                let n: i64 = match sha256 {
                    Some(sha) => {
                        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {schema}.attachments WHERE sha256 = $1")))
                            .bind(sha)
                            .fetch_one(&mut conn)
                            .await
                    }
                    None => sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {schema}.attachments"))).fetch_one(&mut conn).await,
                }
                .expect("count attachments");
                let _ = conn.close().await;
                n
            }
        }
    }
}

impl TestApp {
    /// Like [`TestApp::start`], and also says where the database is.
    pub async fn start_with_database(engine: Engine) -> Option<(TestApp, Database)> {
        Self::start_configured(engine, |state| state).await
    }

    /// Like [`TestApp::start_with_database`], with the application state changed by `configure`
    /// before the server starts (e.g. the SMS gateway's receipts).
    pub async fn start_configured(engine: Engine, configure: impl FnOnce(AppState) -> AppState) -> Option<(TestApp, Database)> {
        let (store, scratch, database) = match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("redress.db");
                let store = redress::open_store(&format!("sqlite://{}", path.display())).await.expect("open sqlite");
                (store, Scratch::Dir(dir), Database::Sqlite(path))
            }
            Engine::Postgres => {
                let (store, scratch) = fresh_store(engine).await?;
                let database = match &scratch {
                    Scratch::Schema { url, schema } => Database::Postgres { url: url.clone(), schema: schema.clone() },
                    Scratch::Dir(_) => unreachable!("a PostgreSQL store has a schema"),
                };
                (store, scratch, database)
            }
        };
        let clock = Arc::new(ManualClock::new(start_time()));
        let state = configure(AppState::new(store.clone(), Arc::new(RuleBook::builtin()), clock.clone()));
        let mut tokens = HashMap::new();
        for &(name, role, department) in USERS {
            let (_, token) = redress_app::users::create_with_token(&*store, name, role, department, None, start_time()).await.expect("create user");
            tokens.insert(name, token);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(redress_server::serve(listener, state.clone(), std::future::pending()));
        let app = TestApp { base: format!("http://{addr}"), http: reqwest::Client::new(), state, clock, tokens, _scratch: scratch };
        Some((app, database))
    }

    /// Creates one more user, whose token the test then uses by name like the standard ones.
    pub async fn add_user(&mut self, name: &'static str, role: Role, department: Option<&str>) {
        let (_, token) = redress_app::users::create_with_token(&*self.state.store, name, role, department, None, start_time()).await.expect("create user");
        self.tokens.insert(name, token);
    }

    /// Gives a user a password to sign in to the pages with.
    pub async fn set_password(&self, name: &str, password: &str) {
        redress_app::accounts::set_password_by_name(&self.state, name, password).await.expect("set the password");
    }

    /// The caller a user name stands for, as the use cases see it.
    pub async fn caller(&self, name: &str) -> redress_app::Caller {
        let user = self.state.store.user_by_name(name).await.expect("read user").unwrap_or_else(|| panic!("no user {name}"));
        redress_app::Caller::new(user)
    }

    /// Sends a request as a user (or anonymously for an unknown name) and returns the status,
    /// the headers and the body's bytes.
    pub async fn send(&self, who: &str, req: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let res = self.auth(who, req).send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.bytes().await.unwrap().to_vec())
    }
}

/// The real binary serving on a free port, killed (SIGKILL) when dropped.
pub struct BinaryServer {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for BinaryServer {
    /// A failing assertion must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `redress ARGS… serve --listen 127.0.0.1:0` in `dir`; with the admin's API token when
/// this start created the admin (a database's first start prints it).
pub fn start_binary(args: &[&str], dir: &std::path::Path) -> (BinaryServer, Option<String>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(args)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start redress serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut token = None;
    let base = loop {
        let line = lines.next().expect("server output").expect("read line");
        if line.starts_with("rdr_") {
            token = Some(line);
        } else if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.trim().to_string();
        }
    };
    (BinaryServer { child, base }, token)
}

// Helpers of the page tests that speak HTTP without a browser.

/// The password the page tests give the people they sign in.
pub const PAGE_PASSWORD: &str = "correct horse battery staple";

/// The value of a cookie set by a response.
pub fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.to_string())
}

/// The text between the first `start` and the next `end` of a page.
pub fn between<'a>(page: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = page.find(start)? + start.len();
    let to = page[from..].find(end)? + from;
    Some(&page[from..to])
}

/// The CSRF token of a page's first form.
pub fn csrf_of(page: &str) -> String {
    between(page, r#"name="csrf" value=""#, "\"").unwrap_or_else(|| panic!("no CSRF field in {page}")).to_string()
}

/// Signs `name` in through the sign-in form with [`PAGE_PASSWORD`], as a browser would, going
/// on to `next`; the session cookie's value. `http` must not follow redirects.
pub async fn sign_in_session(http: &reqwest::Client, base: &str, name: &str, next: &str) -> String {
    let res = http.get(format!("{base}/sign-in")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let form_cookie = set_cookie(res.headers(), "rdr_form").expect("the sign-in page sets the form cookie");
    let token = csrf_of(&res.text().await.unwrap());
    let res = http
        .post(format!("{base}/sign-in"))
        .header(reqwest::header::COOKIE, format!("rdr_form={form_cookie}"))
        .form(&[("csrf", token.as_str()), ("name", name), ("password", PAGE_PASSWORD), ("next", next)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name} signs in");
    set_cookie(res.headers(), "rdr_session").expect("a session cookie")
}
