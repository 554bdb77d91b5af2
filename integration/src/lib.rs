//! A running Portico for tests: the real binary, on a free port, with its own database (a
//! SQLite file in a temporary folder, or with `PORTICO_TEST_DATABASE=postgres` a PostgreSQL
//! database made for it and dropped after it), and helpers to call it the way browsers and
//! operators do.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use serde_json::Value;

pub mod partner;

/// The binary under test: `PORTICO_BIN`, else the debug build in the target folder.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("PORTICO_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug/portico")
}

pub struct Portico {
    child: Child,
    /// Dropped after the process is stopped (fields drop after [`Portico`]'s `drop`), and
    /// after the last of its replicas (see [`Portico::start_replica`]).
    database: Arc<TestDatabase>,
    data: Arc<tempfile::TempDir>,
    _site: tempfile::TempDir,
    pub url: String,
    /// The address it listens on (`url` may name a proxy in front of it).
    pub listening: String,
    /// The setup link printed at the first start, if any.
    pub setup_link: Option<String>,
    /// Where it serves `/metrics`, when started with `--metrics-listen`.
    pub metrics_url: Option<String>,
    http: reqwest::Client,
}

/// The answer of a server function: its status and its JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub cookie: Option<String>,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status == 200
    }

    /// The HTTP status an error kind is answered with.
    pub fn status_for(kind: &str) -> u16 {
        match kind {
            "NotAuthenticated" => 401,
            "AccessDenied" => 403,
            "NotFound" => 404,
            "Invalid" => 422,
            "Refused" => 409,
            "SecondFactor" | "Passkey" | "SignInAgain" | "TermsOfUse" => 403,
            _ => 500,
        }
    }

    /// The variant name of an error answer, e.g. `"NotFound"` or `"Invalid"`.
    pub fn error_kind(&self) -> Option<String> {
        if self.ok() {
            return None;
        }
        let kind = match &self.body {
            Value::String(s) => Some(s.clone()),
            Value::Object(map) => map.keys().next().cloned(),
            _ => None,
        };
        if let Some(kind) = &kind {
            assert_eq!(
                self.status,
                Answer::status_for(kind),
                "the status of a {kind} answer"
            );
        }
        kind
    }

    /// The message of a `Refused` or `NotFound` error.
    pub fn message(&self) -> String {
        match &self.body {
            Value::Object(map) => map
                .values()
                .next()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string())
                })
                .unwrap_or_default(),
            other => other.to_string(),
        }
    }
}

/// A PostgreSQL database of a test's own, when the tests run on PostgreSQL:
/// `PORTICO_TEST_DATABASE=postgres`, on the server `PORTICO_TEST_POSTGRES_URL` names
/// (default `postgres://postgres@127.0.0.1:5432`). Made with `psql`, dropped when dropped.
pub struct TestDatabase {
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        match std::env::var("PORTICO_TEST_DATABASE").as_deref() {
            Ok("postgres") => TestDatabase::postgres(),
            Ok("sqlite") | Err(_) => TestDatabase::sqlite(),
            Ok(other) => panic!("PORTICO_TEST_DATABASE is sqlite or postgres, not {other:?}"),
        }
    }

    /// SQLite, whatever `PORTICO_TEST_DATABASE` says: the file in Portico's data folder.
    pub fn sqlite() -> TestDatabase {
        TestDatabase { postgres: None }
    }

    /// An empty PostgreSQL database, whatever `PORTICO_TEST_DATABASE` says.
    pub fn postgres() -> TestDatabase {
        let server = std::env::var("PORTICO_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!(
            "portico_http_{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        psql(&server, &format!("CREATE DATABASE {name}"));
        // Tests check behaviour, not what survives the machine losing power: a
        // commit need not wait for the disk.
        psql(
            &server,
            &format!("ALTER DATABASE {name} SET synchronous_commit = off"),
        );
        TestDatabase {
            postgres: Some((server, name)),
        }
    }

    /// The `--database-url` to give Portico: none on SQLite (its data folder holds it).
    pub fn url(&self) -> Option<String> {
        self.postgres
            .as_ref()
            .map(|(server, name)| format!("{server}/{name}"))
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        TestDatabase::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres {
            psql(
                server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

static NEXT_DATABASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs `statement` on the server's `postgres` database with `psql`.
fn psql(server: &str, statement: &str) {
    let output = Command::new("psql")
        .arg(format!("{server}/postgres"))
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", statement])
        .output()
        .unwrap_or_else(|e| panic!("cannot run psql (scripts/test.sh installs it): {e}"));
    assert!(
        output.status.success(),
        "{statement} on {server} failed: {}\nStart PostgreSQL, or set PORTICO_TEST_POSTGRES_URL to postgres://user@host:port of a server where that user may create databases.",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Portico {
    /// Starts Portico on a free port with an empty database.
    pub fn start() -> Portico {
        Portico::start_with(&[])
    }

    /// [`Portico::start`] with more `serve` flags.
    pub fn start_with(serve_flags: &[&str]) -> Portico {
        Portico::launch(Command::new(binary()), serve_flags)
    }

    /// [`Portico::start_with`] in a process that may open at most `open_files` files.
    pub fn start_with_open_files(open_files: u64, serve_flags: &[&str]) -> Portico {
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!("ulimit -n {open_files} && exec \"$0\" \"$@\""))
            .arg(binary());
        Portico::launch(shell, serve_flags)
    }

    fn launch(command: Command, serve_flags: &[&str]) -> Portico {
        Portico::launch_on(
            command,
            serve_flags,
            Arc::new(TestDatabase::new()),
            Arc::new(tempfile::tempdir().expect("temporary folder")),
        )
    }

    /// Starts Portico on `database` (a PostgreSQL one: see [`TestDatabase::postgres`]).
    pub fn start_on(database: TestDatabase, serve_flags: &[&str]) -> Portico {
        Portico::launch_on(
            Command::new(binary()),
            serve_flags,
            Arc::new(database),
            Arc::new(tempfile::tempdir().expect("temporary folder")),
        )
    }

    /// Starts a second process on this one's database and data folder (whose secret key
    /// file they share), on a port of its own: a replica behind a load balancer.
    pub fn start_replica(&self, serve_flags: &[&str]) -> Portico {
        Portico::launch_on(
            Command::new(binary()),
            serve_flags,
            self.database.clone(),
            self.data.clone(),
        )
    }

    /// Starts Portico on `database` with `data` as its data folder (one an earlier
    /// Portico left, say: see [`Portico::stop`]).
    pub fn start_in(data: tempfile::TempDir, database: TestDatabase) -> Portico {
        Portico::launch_on(
            Command::new(binary()),
            &[],
            Arc::new(database),
            Arc::new(data),
        )
    }

    /// Stops it and gives back its data folder and database, to start again on them or to
    /// run commands on them alone ([`cli_on`]). Its replicas must be stopped first.
    pub fn stop(mut self) -> (tempfile::TempDir, TestDatabase) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let data = std::mem::replace(
            &mut self.data,
            Arc::new(tempfile::tempdir().expect("temporary folder")),
        );
        let database = std::mem::replace(&mut self.database, Arc::new(TestDatabase::sqlite()));
        (
            Arc::try_unwrap(data)
                .unwrap_or_else(|_| panic!("a replica still uses the data folder")),
            Arc::try_unwrap(database)
                .unwrap_or_else(|_| panic!("a replica still uses the database")),
        )
    }

    fn launch_on(
        mut command: Command,
        serve_flags: &[&str],
        database: Arc<TestDatabase>,
        data: Arc<tempfile::TempDir>,
    ) -> Portico {
        let site = tempfile::tempdir().expect("temporary folder");
        if let Some(url) = database.url() {
            command.arg("--database-url").arg(url);
        }
        let mut child = command
            .arg("--data-dir")
            .arg(data.path())
            .args([
                "--log-level",
                "error",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--site-root",
            ])
            .arg(site.path())
            .args(serve_flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {}: {e} (build it first)", binary().display())
            });
        let stdout = child.stdout.take().expect("stdout");
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after the test stops listening, so the server never writes
            // into a closed pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut url = None;
        let mut listening = None;
        let mut setup_link = None;
        let mut metrics_url = None;
        while let Ok(line) = received.recv_timeout(Duration::from_secs(30)) {
            if let Some(rest) = line.strip_prefix("Metrics for Prometheus at ") {
                metrics_url = Some(rest.trim().to_string());
            }
            if let Some(rest) = line.strip_prefix("Portico is running at ") {
                url = rest.split_whitespace().next().map(String::from);
                listening = rest
                    .split("listening on ")
                    .nth(1)
                    .map(|address| address.trim_end_matches(").").to_string());
            }
            if line.contains("/setup?ticket=") {
                setup_link = Some(line.trim().to_string());
            }
            if line.starts_with("Sign in at") || setup_link.is_some() {
                break;
            }
        }
        let url = url.expect("Portico did not say where it runs");
        let listening = listening.expect("Portico did not say where it listens");
        Portico {
            child,
            database,
            data,
            _site: site,
            url,
            listening,
            setup_link,
            metrics_url,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
        }
    }

    /// Runs a `portico` command against the same database; returns (success, stdout, stderr).
    pub fn cli(&self, args: &[&str], stdin: &str) -> (bool, String, String) {
        cli_on(self.data.path(), &self.database, args, stdin)
    }

    /// Runs a `portico … --json` command that must succeed, and parses its output.
    pub fn cli_json(&self, args: &[&str], stdin: &str) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let (ok, out, err) = self.cli(&all, stdin);
        assert!(ok, "portico {args:?} failed: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Creates a tenant and a member with the given roles from the command line;
    /// returns (tenant id, user id).
    pub fn seed_tenant(
        &self,
        name: &str,
        domain: &str,
        admin_email: &str,
        roles: &[&str],
    ) -> (String, String) {
        let tenant = self.cli_json(
            &["tenant", "create", "--name", name, "--domain", domain],
            "",
        );
        let tenant_id = tenant["id"].as_str().expect("tenant id").to_string();
        let user = self.create_user(&tenant_id, admin_email, roles);
        (tenant_id, user)
    }

    pub fn create_user(&self, tenant: &str, email: &str, roles: &[&str]) -> String {
        let mut args = vec![
            "user", "create", "--tenant", tenant, "--email", email, "--name", email,
        ];
        for role in roles {
            args.extend(["--role", role]);
        }
        let user = self.cli_json(&args, &format!("{PASSWORD}\n"));
        user["id"].as_str().expect("user id").to_string()
    }

    /// Creates an app from the command line and gives it a client secret: a program that
    /// can sign in as itself. Returns (client id, client secret).
    pub fn app_with_secret(&self, tenant: &str, name: &str) -> (String, String) {
        let app = self.cli_json(
            &[
                "app",
                "create",
                "--tenant",
                tenant,
                "--name",
                name,
                "--launch-url",
                "https://apps.contoso.example/",
            ],
            "",
        );
        let id = app["id"].as_str().expect("app id").to_string();
        let secret = self.cli_json(&["app", "secret", "--tenant", tenant, "--app", name], "")
            ["client_secret"]
            .as_str()
            .expect("client secret")
            .to_string();
        (id, secret)
    }

    /// An app people sign in to through Portico ([`Portico::app_with_secret`], with
    /// `redirect` as its redirect URI). Returns (client id, client secret).
    pub fn sign_in_app(&self, tenant: &str, name: &str, redirect: &str) -> (String, String) {
        let client = self.app_with_secret(tenant, name);
        self.cli_json(
            &[
                "app",
                "sign-in",
                "--tenant",
                tenant,
                "--app",
                name,
                "--redirect-uri",
                redirect,
            ],
            "",
        );
        client
    }

    /// Assigns the user at `email` to the app `name`.
    pub fn assign(&self, tenant: &str, name: &str, email: &str) {
        self.cli_json(
            &[
                "app", "assign", "--tenant", tenant, "--app", name, "--user", email,
            ],
            "",
        );
    }

    /// Runs `statement` on its database, as an operator's SQL client would (`sqlite3` on
    /// SQLite, `psql` on PostgreSQL).
    pub fn sql(&self, statement: &str) {
        let status = match self.database.url() {
            Some(url) => Command::new("psql")
                .arg(url)
                .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", statement])
                .status(),
            None => Command::new("sqlite3")
                .arg(self.data.path().join("portico.db"))
                .arg(statement)
                .status(),
        }
        .unwrap_or_else(|e| {
            panic!("cannot run the database's client (scripts/test.sh installs it): {e}")
        });
        assert!(status.success(), "{statement} failed");
    }

    /// Sends it SIGTERM, as a service manager stopping it does.
    pub fn terminate(&self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("send SIGTERM");
    }

    /// How it exited, if it did within `limit`.
    pub fn exit_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let until = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("the process's state") {
                return Some(status);
            }
            if std::time::Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Calls it with this client from now on (one that trusts a proxy's certificate, say).
    pub fn use_http(&mut self, http: reqwest::Client) {
        self.http = http;
    }

    /// The name of one of Portico's cookies (`portico_session`, …): over https it carries
    /// the `__Host-` prefix.
    pub fn cookie_name(&self, base: &str) -> String {
        if self.url.starts_with("https://") {
            format!("__Host-{base}")
        } else {
            base.to_string()
        }
    }

    /// Calls a server function as the browser's JavaScript does (same origin, form body).
    pub async fn call(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Answer {
        self.send(
            endpoint,
            "application/x-www-form-urlencoded",
            encode_form(form),
            cookie,
        )
        .await
    }

    /// Calls a server function that takes JSON.
    pub async fn call_json(&self, endpoint: &str, body: &Value, cookie: Option<&str>) -> Answer {
        self.send(endpoint, "application/json", body.to_string(), cookie)
            .await
    }

    async fn send(
        &self,
        endpoint: &str,
        content_type: &str,
        body: String,
        cookie: Option<&str>,
    ) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/fn/{endpoint}", self.url))
            .header("Origin", &self.url)
            .header("Sec-Fetch-Site", "same-origin")
            .header("Content-Type", content_type)
            .body(body);
        let session = self.cookie_name("portico_session");
        if let Some(cookie) = cookie {
            request = request.header("Cookie", format!("{session}={cookie}"));
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let cookie = set_cookies(&response)
            .into_iter()
            .find(|(k, _)| *k == session)
            .map(|(_, v)| v);
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            body,
            cookie,
        }
    }

    /// Signs in and returns the session cookie's value.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let answer = self
            .call("sign_in", &[("email", email), ("password", password)], None)
            .await;
        assert!(answer.ok(), "sign-in of {email} failed: {answer:?}");
        answer.cookie.expect("a session cookie")
    }
}

/// Runs a `portico` command on a data folder and database with no server running;
/// returns (success, stdout, stderr).
pub fn cli_on(
    data: &std::path::Path,
    database: &TestDatabase,
    args: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    let mut command = Command::new(binary());
    if let Some(url) = database.url() {
        command.arg("--database-url").arg(url);
    }
    let mut child = command
        .arg("--data-dir")
        .arg(data)
        .args(["--log-level", "warn"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run portico");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("portico output");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl Drop for Portico {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The password every seeded user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// The cookies a response sets, as name and value (an emptied cookie has an empty value).
pub fn set_cookies(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|v| v.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The flash cookie a response sets.
pub fn flash_of(response: &reqwest::Response) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|(k, _)| k == "portico_flash")
        .map(|(_, v)| v)
}

pub fn encode_form(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a query or form value.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

impl Portico {
    /// The newest mail in the outbox (from the operator's command line), newest first.
    pub fn outbox(&self) -> Vec<Value> {
        let list = self.cli_json(&["outbox", "list", "--limit", "200"], "");
        list.as_array().cloned().unwrap_or_default()
    }

    /// The 8-digit code in the newest mail to `email`.
    pub fn latest_code(&self, email: &str) -> String {
        let mail = self
            .outbox()
            .into_iter()
            .find(|m| {
                m["recipient"] == email
                    && m["subject"].as_str().unwrap_or_default().contains("code")
            })
            .unwrap_or_else(|| panic!("no code mail to {email}"));
        let text = mail["text_body"].as_str().unwrap_or_default();
        text.split(|c: char| !c.is_ascii_digit())
            .find(|word| word.len() == 8)
            .expect("an 8-digit code")
            .to_string()
    }

    /// Calls a server function with a redemption cookie (and no session).
    pub async fn call_redeeming(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        redemption: &str,
    ) -> Answer {
        let cookies = format!("portico_redeem={redemption}");
        self.call_with_cookies(endpoint, form, &cookies).await.0
    }

    /// Starts redeeming `ticket`; returns the redemption cookie.
    pub async fn start_redemption(&self, ticket: &str) -> String {
        let (answer, cookies) = self
            .call_with_cookies("redeem/start", &[("ticket", ticket)], "")
            .await;
        cookies
            .into_iter()
            .find(|(name, _)| name == "portico_redeem")
            .map(|(_, value)| value)
            .unwrap_or_else(|| panic!("no redemption started: {answer:?}"))
    }
}

impl Portico {
    /// Calls a server function with the given `Cookie` header; returns the answer and
    /// every cookie the response sets, as (name, value).
    pub async fn call_with_cookies(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookies: &str,
    ) -> (Answer, Vec<(String, String)>) {
        let response = self
            .http
            .post(format!("{}/fn/{endpoint}", self.url))
            .header("Origin", &self.url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Cookie", cookies)
            .body(encode_form(form))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let set = set_cookies(&response);
        let session = set
            .iter()
            .find(|(k, _)| k == "portico_session")
            .map(|(_, v)| v.clone());
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (
            Answer {
                status,
                body,
                cookie: session,
            },
            set,
        )
    }

    /// Invites `email` as `admin` (with mail); returns the ticket of the link.
    pub async fn invite(&self, admin: &str, email: &str) -> String {
        let invited = self
            .call(
                "admin/invite",
                &[
                    ("email", email),
                    ("display_name", ""),
                    ("message", ""),
                    ("redirect_url", ""),
                    ("send_email", "on"),
                ],
                Some(admin),
            )
            .await;
        assert!(invited.ok(), "{invited:?}");
        let link = invited.body["redeem_url"].as_str().expect("a link");
        link.split("ticket=").nth(1).expect("a ticket").to_string()
    }

    /// The audit events of one action in `admin`'s organization, newest first.
    pub async fn audited(&self, admin: &str, action: &str) -> Value {
        let audit = self
            .call(
                "admin/audit",
                &[
                    ("query[actor]", ""),
                    ("query[target]", ""),
                    ("query[action]", action),
                    ("query[from]", ""),
                    ("query[to]", ""),
                    ("query[page]", "0"),
                ],
                Some(admin),
            )
            .await;
        assert!(audit.ok(), "{audit:?}");
        audit.body["events"].clone()
    }

    /// Invites `email` as `admin` and redeems the invitation; returns the guest's session.
    pub async fn invite_and_redeem(&self, admin: &str, email: &str) -> String {
        let ticket = self.invite(admin, email).await;
        let redemption = self.start_redemption(&ticket).await;
        let code = self.latest_code(email);
        let verified = self
            .call_redeeming("redeem/verify", &[("code", &code)], &redemption)
            .await;
        assert!(verified.ok(), "{verified:?}");
        let accepted = self.call_redeeming("redeem/accept", &[], &redemption).await;
        assert!(accepted.ok(), "{accepted:?}");
        accepted.cookie.expect("a session after accepting")
    }
}
