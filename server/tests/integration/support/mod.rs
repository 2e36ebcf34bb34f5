//! Starts Gatehouse on a temporary data directory and an OS-chosen port, for tests that
//! speak HTTP to it: in this process by default (`server::serve_on`, the binary's own
//! start-up, with its state at hand for tests that look inside), or as the real binary
//! for tests of the process itself. One harness: [`TestServer`].

#![allow(dead_code, missing_docs)]

pub mod dbsc;
pub mod oidc;
pub mod passkey;
pub mod smtp;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use app::store::{Database, DatabaseOptions, DatabaseUrl, DbConnection, testing};
use diesel::QueryResult;
use reqwest::StatusCode;

/// A reqwest client builder for the tests. reqwest is built with rustls (Gatehouse calls
/// OpenID providers with it) without a crypto provider of its own: the process's
/// default, aws-lc-rs like the rest, is installed first.
///
/// Every request gives up after [`REQUEST_LIMIT`]: reqwest has no timeout of its own,
/// and a request that never got an answer once held a CI run until its time ran out,
/// with nothing to say which request it was. Now it fails the test and names the URL.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(REQUEST_LIMIT)
        .connect_timeout(Duration::from_secs(10))
}

/// How long a test waits for any one answer: twice the server's own `REQUEST_TIMEOUT`
/// (30 s), so a slow answer the server still sends is never cut short.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(60);

/// A default reqwest client (see [`http_client_builder`]).
pub fn http_client() -> reqwest::Client {
    http_client_builder().build().unwrap()
}

/// The path of the binary under test, built by cargo for integration tests.
pub const SERVER: &str = env!("CARGO_BIN_EXE_server");

// Not every test binary asks which pass it is in.
#[allow(unused_imports)]
pub use testing::on_postgres;

/// The URL as `DATABASE_URL` wants it (with the password, unlike `Display`).
pub fn url_text(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// A running server: in this process (the default, fast), or as the real binary for the
/// tests that need a process (a crash, SIGTERM, the log). Stopped when dropped.
pub struct TestServer {
    pub base_url: String,
    pub data_dir: tempfile::TempDir,
    /// The database this server uses (fresh for it, on the pass's backend).
    pub database: DatabaseUrl,
    running: Running,
    env: Vec<(String, String)>,
    /// A client that does not follow redirects (tests look at them).
    pub http: reqwest::Client,
}

enum Running {
    /// `server::serve_on` on a thread of its own with its own runtime, so it serves
    /// whatever the test's runtime is doing (and tests without one).
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        state: Box<server::AppState>,
    },
    Process {
        child: Child,
        log: Arc<Mutex<String>>,
    },
}

impl TestServer {
    /// Starts a server in this process on a fresh temporary database, with the given
    /// environment variables (read as the binary would read them).
    pub fn start(env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let database = testing::scratch_database(data_dir.path());
        Self::start_with(data_dir, database, env)
    }

    /// Starts the real binary on a fresh temporary database: for tests of the process
    /// itself (a crash, SIGTERM, what it logs).
    pub fn start_process(env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let database = testing::scratch_database(data_dir.path());
        let env = with_database(&data_dir, &database, env);
        let (child, base_url, log) = spawn(data_dir.path(), &env);
        Self {
            base_url,
            data_dir,
            database,
            running: Running::Process { child, log },
            env,
            http: no_redirects(),
        }
    }

    /// Starts a server in this process on `database` (which other servers may share),
    /// with extra environment variables.
    pub fn start_with(
        data_dir: tempfile::TempDir,
        database: DatabaseUrl,
        env: &[(&str, &str)],
    ) -> Self {
        let env = with_database(&data_dir, &database, env);
        let (base_url, stop, state) = serve_in_process(data_dir.path(), &env);
        Self {
            base_url,
            data_dir,
            database,
            running: Running::InProcess {
                stop: Some(stop),
                state: Box::new(state),
            },
            env,
            http: no_redirects(),
        }
    }

    /// The state every request of this in-process server shares.
    pub fn state(&self) -> &server::AppState {
        match &self.running {
            Running::InProcess { state, .. } => state,
            Running::Process { .. } => panic!("the state needs an in-process TestServer"),
        }
    }

    /// Password verifications Argon2 has computed so far.
    pub fn verifications(&self) -> u64 {
        self.state()
            .server
            .auth
            .core
            .password_hasher()
            .verifications()
    }

    /// Kills the process with SIGKILL (no shutdown code runs: a crash) and starts a new
    /// one on the same data directory and settings. The port changes.
    pub fn crash_and_restart(&mut self) {
        let Running::Process { child, .. } = &mut self.running else {
            panic!("crash_and_restart needs TestServer::start_process");
        };
        child.kill().unwrap();
        child.wait().unwrap();
        let (child, base_url, log) = spawn(self.data_dir.path(), &self.env);
        self.base_url = base_url;
        self.running = Running::Process { child, log };
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        match &self.running {
            Running::Process { log, .. } => log.lock().unwrap().clone(),
            Running::InProcess { .. } => panic!("the log needs TestServer::start_process"),
        }
    }

    /// Waits (up to 5 s) until the log holds every one of `wanted`: a line is written
    /// just after its response is sent, so a test cannot look for it at once.
    pub async fn wait_for_log(&self, wanted: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !wanted.iter().all(|text| self.log().contains(text)) {
            assert!(
                Instant::now() < deadline,
                "expected {wanted:#?} in the log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let Running::Process { child, .. } = &mut self.running else {
            panic!("terminate needs TestServer::start_process");
        };
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        wait_with_deadline(child, Duration::from_secs(10))
    }
}

/// `env` plus `DATABASE_URL` when the database is not the data directory's default.
fn with_database(
    data_dir: &tempfile::TempDir,
    database: &DatabaseUrl,
    env: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    // The SQLite default needs no setting (and is what a plain start uses).
    let is_default = *database == DatabaseUrl::sqlite_in(data_dir.path());
    if !is_default && !env.iter().any(|(k, _)| k == "DATABASE_URL") {
        env.push(("DATABASE_URL".into(), url_text(database)));
    }
    // Tests sign up many accounts from 127.0.0.1, more than one real client address may
    // create in an hour; the tests of that limit set it themselves.
    if !env.iter().any(|(k, _)| k == "SIGN_UPS_PER_HOUR") {
        env.push(("SIGN_UPS_PER_HOUR".into(), "100000".into()));
    }
    // Refusals are answered at once: the tests of the throttle send hundreds of requests
    // one after another, and a held 429 would stretch them past the time their budgets
    // refill in. Holding is a matter of the flood's CPU (`make bench`, R6); its own test
    // sets a delay (`throttle_http::a_refusal_is_sent_only_after_the_refusal_delay`).
    if !env.iter().any(|(k, _)| k == "REFUSAL_DELAY") {
        env.push(("REFUSAL_DELAY".into(), "0s".into()));
    }
    env
}

/// The configuration the binary would read from `env` (and nothing else from this
/// process's environment), with `data_dir`.
fn config_from_env(data_dir: &std::path::Path, env: &[(String, String)]) -> server::Config {
    use clap::{CommandFactory, FromArgMatches};
    let command = server::Config::command();
    let data_dir = env
        .iter()
        .find(|(name, _)| name == "DATA_DIR")
        .map_or_else(|| data_dir.display().to_string(), |(_, dir)| dir.clone());
    let mut args = vec!["server".to_owned(), format!("--data-dir={data_dir}")];
    for (name, value) in env {
        if matches!(name.as_str(), "LEPTOS_SITE_ADDR" | "DATA_DIR" | "PATH") {
            continue;
        }
        let long = command
            .get_arguments()
            .find(|arg| arg.get_env().is_some_and(|e| e == name.as_str()))
            .and_then(|arg| arg.get_long())
            .unwrap_or_else(|| panic!("no setting reads {name}"));
        args.push(format!("--{long}={value}"));
    }
    // Only what `env` says: the test process's own environment must not leak in.
    let command = command.mut_args(|arg| arg.env(None));
    let matches = command.try_get_matches_from(args).unwrap();
    server::Config::from_arg_matches(&matches).unwrap()
}

/// A client that does not follow redirects.
fn no_redirects() -> reqwest::Client {
    http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Serves in this process on a free port; returns the base URL, the stop switch and the
/// server's state.
fn serve_in_process(
    data_dir: &std::path::Path,
    env: &[(String, String)],
) -> (String, tokio::sync::oneshot::Sender<()>, server::AppState) {
    let config = config_from_env(data_dir, env);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = mpsc::channel();
    let (state_tx, state_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let stopped = async {
                let _ = stopped.await;
            };
            let ready = move |state: &server::AppState| {
                let _ = state_tx.send(state.clone());
            };
            if let Err(err) = server::serve_on_with(&config, listener, stopped, ready).await {
                panic!("the in-process server failed to start: {err}");
            }
        });
        runtime.shutdown_timeout(Duration::from_millis(100));
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the in-process server did not start");
    wait_until_serving(addr);
    let state = state_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the in-process server gave no state");
    (format!("http://{addr}"), stop, state)
}

/// Waits until `/healthz` at `addr` answers 200: the database is open and migrated, and
/// requests are served (as the binary's "listening on" line means).
fn wait_until_serving(addr: std::net::SocketAddr) {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answered = std::net::TcpStream::connect(addr).and_then(|mut stream| {
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n")?;
            let mut head = [0u8; 12];
            stream.read_exact(&mut head)?;
            Ok(head.ends_with(b"200"))
        });
        if answered.unwrap_or(false) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the in-process server never became healthy"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts the binary and waits for its "listening on" line: the process, its base URL and
/// its log as it grows.
fn spawn(
    data_dir: &std::path::Path,
    env: &[(String, String)],
) -> (Child, String, Arc<Mutex<String>>) {
    let mut command = Command::new(SERVER);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("DATA_DIR", data_dir)
        .env("LOG_LEVEL", "info")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("cannot start the server binary");

    let log = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("listening on ").nth(1) {
                let _ = addr_tx.send(addr.trim().to_owned());
            }
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let base_url = addr_rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("server did not start; log:\n{}", log.lock().unwrap()));
    (child, base_url, log)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        match &mut self.running {
            Running::Process { child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Running::InProcess { stop, .. } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
            }
        }
    }
}

/// Waits for `child` to exit, killing it and failing the test after `limit`.
pub fn wait_with_deadline(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The outcome of running the server binary to completion.
pub struct Finished {
    pub status: ExitStatus,
    pub stderr: String,
}

/// Runs the server with `env` and expects it to stop by itself (a start-up error).
pub fn run_to_exit(env: &[(&str, &str)]) -> Finished {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(SERVER)
        .env_clear()
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("DATA_DIR", data_dir.path())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_with_deadline(&mut child, Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    Finished { status, stderr }
}

// ---- An authenticator app, for the two-step sign-in tests. ----

/// The code an authenticator app shows for `secret` (base32, as the page shows it) at
/// `at_unix`.
pub fn code_for(secret: &str, at_unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.replace(' ', ""))
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        0,
        30,
        bytes,
        None,
        String::new(),
    )
    .generate(at_unix)
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---- An HTTP client that keeps the two session cookies, as a browser would. ----

pub const PASSWORD: &str = "correct horse battery";

/// The two session cookies as the browser would hold them.
#[derive(Debug, Clone, Default)]
pub struct Cookies {
    pub access: Option<String>,
    pub refresh: Option<String>,
    /// OWASP's device cookie, set after a right password.
    pub device: Option<String>,
}

impl Cookies {
    /// Applies the `Set-Cookie` headers of `response`.
    pub fn update(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let (pair, _) = value.split_once(';').unwrap_or((value, ""));
            let (name, token) = pair.split_once('=').unwrap();
            let token = (!token.is_empty()).then(|| token.to_owned());
            match name {
                "__Host-access" => self.access = token,
                "__Secure-refresh" => self.refresh = token,
                "__Secure-device" => self.device = token,
                // The pre-auth web session and the reader's language; not part of
                // authentication.
                "__Host-session" | "language" => {}
                other => panic!("unexpected cookie {other}"),
            }
        }
    }

    pub fn header(&self) -> String {
        let mut parts = Vec::new();
        if let Some(a) = &self.access {
            parts.push(format!("__Host-access={a}"));
        }
        if let Some(r) = &self.refresh {
            parts.push(format!("__Secure-refresh={r}"));
        }
        if let Some(d) = &self.device {
            parts.push(format!("__Secure-device={d}"));
        }
        parts.join("; ")
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub server: TestServer,
}

/// A browser as the server sees it: the pre-authentication web session cookie (where an
/// opened mail link or a sign-in waiting for its code lives) and the session cookies.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    pub session: Option<String>,
    pub cookies: Cookies,
}

impl Browser {
    /// The `Cookie` header this browser sends.
    pub fn header(&self) -> String {
        let session = self.session.as_ref().map(|s| format!("__Host-session={s}"));
        let auth = Some(self.cookies.header()).filter(|h| !h.is_empty());
        [session, auth]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            if let Some(rest) = value.to_str().unwrap().strip_prefix("__Host-session=") {
                self.session = Some(rest.split(';').next().unwrap().to_owned());
            }
        }
        self.cookies.update(response);
    }

    pub async fn get(&mut self, client: &Client, path: &str) -> reqwest::Response {
        let response = client
            .http
            .get(client.server.url(path))
            .header("cookie", self.header())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    pub async fn post(
        &mut self,
        client: &Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_to(&client.http, client.server.url(path), None, form)
            .await
    }

    /// A form POST to `url`, from client address `ip` when given (the test then plays
    /// a trusted proxy and sends it in `X-Forwarded-For`); keeps what is set.
    pub async fn post_to(
        &mut self,
        http: &reqwest::Client,
        url: String,
        ip: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = http.post(url).header("cookie", self.header()).form(form);
        if let Some(ip) = ip {
            request = request.header("x-forwarded-for", ip);
        }
        let response = request.send().await.unwrap();
        self.keep(&response);
        response
    }
}

impl Client {
    pub fn new(env: &[(&str, &str)]) -> Self {
        Self::on(TestServer::start(env))
    }

    /// A client of `server` that does not follow redirects (the tests check them).
    pub fn on(server: TestServer) -> Self {
        Self {
            http: http_client_builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            server,
        }
    }

    pub async fn post(
        &self,
        path: &str,
        cookies: &Cookies,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(self.server.url(path))
            .header("cookie", cookies.header())
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_up(&self, email: &str) -> Cookies {
        let mut cookies = Cookies::default();
        let response = self
            .post(
                "/api/auth/signup",
                &cookies,
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        cookies.update(&response);
        cookies
    }

    /// Logs in as `email` with `user_agent`: another device of the same account.
    pub async fn log_in(&self, email: &str, user_agent: &str) -> Cookies {
        let response = self
            .http
            .post(self.server.url("/api/auth/login"))
            .header("user-agent", user_agent)
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut cookies = Cookies::default();
        cookies.update(&response);
        cookies
    }

    pub async fn me(&self, cookies: &Cookies) -> StatusCode {
        self.post("/api/session/me", cookies, &[]).await.status()
    }

    /// Marks every account's address verified, as its link would: notices go to
    /// verified addresses only.
    pub async fn verify_all_addresses(&self) {
        self.db()
            .run(|conn| {
                Ok(testing::execute(
                    conn,
                    "UPDATE users SET email_verified_at = CURRENT_TIMESTAMP",
                )?)
            })
            .await
            .unwrap();
    }

    /// The server's database, opened beside it (SQLite in WAL mode allows this).
    pub fn db(&self) -> Database {
        Database::open(&self.server.database, DatabaseOptions::default()).unwrap()
    }
}

/// A JSON answer's body (the test fails if it is not JSON).
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.unwrap()
}

pub async fn count<F>(db: &Database, query: F) -> i64
where
    F: FnOnce(&mut DbConnection) -> QueryResult<i64> + Send + 'static,
{
    db.run(move |conn| Ok(query(conn)?)).await.unwrap()
}

/// Instances A and B sharing a fresh PostgreSQL database and A's signing key, as behind
/// a load balancer (with cheap test-only password hashing). `None` when no test cluster
/// is configured outside CI.
pub fn two_instances(env: &[(&str, &str)]) -> Option<(Client, Client)> {
    let admin = testing::postgres_admin_url()?;
    let database = DatabaseUrl::Postgres(testing::fresh_postgres_database(&admin));
    let mut env = env.to_vec();
    env.push(("INSECURE_FAST_PASSWORD_HASHING", "true"));
    let a = TestServer::start_with(tempfile::tempdir().unwrap(), database.clone(), &env);
    let key = a.data_dir.path().join(server::keys::DEV_KEY_FILE);
    let key = key.to_str().unwrap().to_owned();
    env.push(("JWT_SIGNING_KEY_FILE", &key));
    let b = TestServer::start_with(tempfile::tempdir().unwrap(), database, &env);
    Some((Client::on(a), Client::on(b)))
}

/// Polls `/api/session/me` on `client` until it refuses `cookies`; returns how long that
/// took. Fails the test if it takes longer than `limit`.
pub async fn time_until_refused(client: &Client, cookies: &Cookies, limit: Duration) -> Duration {
    let started = Instant::now();
    while client.me(cookies).await == StatusCode::OK {
        assert!(
            started.elapsed() < limit,
            "{} still accepts the revoked session after {limit:?}",
            client.server.base_url
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

/// The id of the device session `cookies` belong to (it is listed first).
pub async fn own_session_id(client: &Client, cookies: &Cookies) -> String {
    let response = client.post("/api/devices/list", cookies, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    body["devices"][0]["id"].as_str().unwrap().to_owned()
}
