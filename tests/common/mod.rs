//! Shared set-up for the integration tests: a real instance on a random port over a
//! fresh data directory, started through the same code as `aidledger serve`.

pub mod process;
pub mod proxy;

use aidledger::client::LogClient;
use aidledger::data_dir::DATABASE_FILE;
use aidledger::server::limits::Limits;
use aidledger::server::{self, Config};
use ed25519_dalek::SigningKey;
use ledger::clock::Clock;
use ledger::entry::{UnsignedEntry, VerifiedEntry};
use ledger::{hex32, Kind};
use serde_json::Value;
use sqlx::{AnyPool, Row};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::sync::oneshot;

pub struct TestInstance {
    pub url: String,
    pub vkey: String,
    pub client: LogClient,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    serve: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: Option<TempDir>,
}

impl TestInstance {
    /// A new instance over a new temporary data directory.
    pub async fn start() -> TestInstance {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut instance = Self::start_in(dir.path()).await;
        instance._dir = Some(dir);
        instance
    }

    /// An instance over an existing (or new) data directory that the caller keeps.
    pub async fn start_in(data_dir: &Path) -> TestInstance {
        Self::start_configured(data_dir, |_| {}).await
    }

    /// An instance over `data_dir` with the settings `configure` changes.
    pub async fn start_configured(
        data_dir: &Path,
        configure: impl FnOnce(&mut Config),
    ) -> TestInstance {
        let (stop, stopped) = oneshot::channel::<()>();
        let mut config = Config {
            bootstrap: false,
            ..config(data_dir).await
        };
        configure(&mut config);
        let running = server::start(config, async {
            let _ = stopped.await;
        })
        .await
        .expect("server starts");
        TestInstance {
            client: LogClient::new(&running.url),
            url: running.url,
            vkey: running.vkey,
            data_dir: data_dir.to_path_buf(),
            stop: Some(stop),
            serve: Some(running.serve),
            _dir: None,
        }
    }

    /// Stops serving and waits until the server has shut down.
    pub async fn stop(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        if let Some(serve) = self.serve.take() {
            serve.await.unwrap().unwrap();
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// Row counts of the log's tables, read straight from the database.
    pub async fn table_counts(&self) -> (i64, i64, i64) {
        let pool = open_db(&self.data_dir).await;
        let mut counts = vec![];
        for table in ["entries", "tree_hashes", "checkpoints"] {
            let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            counts.push(row.get::<i64, _>(0));
        }
        pool.close().await;
        (counts[0], counts[1], counts[2])
    }
}

/// Set to a PostgreSQL server's admin URL, the suite runs every instance on a database
/// of its own on that server; unset, on a SQLite file in the instance's data directory.
pub const POSTGRES_ENV: &str = "AIDLEDGER_TEST_POSTGRES";

/// Inside a data directory: the URL of the PostgreSQL database made for it.
const DATABASE_URL_FILE: &str = "test-database-url";

/// Write rate limits off: for tests that write faster than a person would.
pub const NO_WRITE_LIMITS: Limits = Limits {
    per_ip_per_minute: 0,
    per_key_per_minute: 0,
};

/// Whether this run of the suite is on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var_os(POSTGRES_ENV).is_some()
}

/// Returns early from a test that is about the SQLite file itself, saying why.
#[macro_export]
macro_rules! sqlite_only {
    ($why:expr) => {
        if common::on_postgres() {
            eprintln!("not run on PostgreSQL: {}", $why);
            return;
        }
    };
}

/// The default configuration of an instance over `data_dir`, on the suite's backend.
/// On PostgreSQL the data directory gets a new, empty database the first time, and the
/// same one when an instance is started over it again.
pub async fn config(data_dir: &Path) -> Config {
    Config {
        database_url: database_url(data_dir).await,
        clock: Arc::new(SteadyClock::new()),
        ..Config::new(data_dir.to_path_buf(), "127.0.0.1:0".parse().unwrap())
    }
}

/// An instance's clock in tests: it holds still for its first four minutes, so a fresh
/// log holds exactly one `log.clock` reading (at index 0) however slowly a test runs,
/// and the sizes tests expect do not depend on the machine; then it follows the wall
/// clock. Four minutes stay within the default admission skew, so entries signed with
/// the wall clock are never "in the future" for it.
#[derive(Debug)]
pub struct SteadyClock {
    start: OffsetDateTime,
}

impl SteadyClock {
    pub const HOLD: time::Duration = time::Duration::minutes(4);

    pub fn new() -> Self {
        SteadyClock {
            start: OffsetDateTime::now_utc(),
        }
    }
}

impl Clock for SteadyClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        if now - self.start < Self::HOLD {
            self.start
        } else {
            now
        }
    }
}

/// A clock a test sets by hand, to move the log's time without waiting.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(at: OffsetDateTime) -> Arc<Self> {
        Arc::new(ManualClock(std::sync::Mutex::new(at)))
    }

    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap() = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// Entries a fresh log holds before a test's first entry: the log's first clock
/// reading, at the head of the first batch.
pub const CLOCK_READINGS: u64 = 1;

/// The PostgreSQL database of `data_dir` (created on first use), or `None` on SQLite.
pub async fn database_url(data_dir: &Path) -> Option<String> {
    let admin = std::env::var(POSTGRES_ENV).ok()?;
    std::fs::create_dir_all(data_dir).unwrap();
    let file = data_dir.join(DATABASE_URL_FILE);
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "aidledger_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(&admin)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (server, _) = admin
        .rsplit_once('/')
        .expect("an admin URL ends in /database");
    let url = format!("{server}/{name}");
    std::fs::write(&file, &url).unwrap();
    Some(url)
}

/// Takes the integrator's lease from the node on the PostgreSQL database at `url`: ends
/// the connection that holds it and takes the lease before the node tries again (it
/// waits half a second). The lease is held until the returned connection closes.
pub async fn take_lease(url: &str) -> sqlx::AnyConnection {
    use sqlx::Connection;
    let mut holder = sqlx::AnyConnection::connect(url).await.unwrap();
    loop {
        // Only this database's: other tests' nodes share the server.
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .execute(&mut holder)
        .await
        .unwrap();
        if ledger_node::storage::postgres::try_take_lease(&mut holder)
            .await
            .unwrap()
        {
            return holder;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A pool on the database of the instance over `data_dir`, for reading (and, in tests
/// of tampering, changing) its tables directly.
pub async fn open_db(data_dir: &Path) -> AnyPool {
    sqlx::any::install_default_drivers();
    let url = match std::fs::read_to_string(data_dir.join(DATABASE_URL_FILE)) {
        Ok(url) => url,
        Err(_) => format!("sqlite://{}", data_dir.join(DATABASE_FILE).display()),
    };
    AnyPool::connect(&url).await.unwrap()
}

/// The tables of a database, by name, without the migration table.
pub async fn table_names(pool: &AnyPool) -> Vec<String> {
    let sql = if on_postgres() {
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'
         AND table_name != '_sqlx_migrations' ORDER BY table_name"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name != '_sqlx_migrations' ORDER BY name"
    };
    first_column(pool, sql).await
}

/// The columns of `table`, in order.
pub async fn column_names(pool: &AnyPool, table: &str) -> Vec<String> {
    let sql = if on_postgres() {
        format!(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = '{table}'
             ORDER BY ordinal_position"
        )
    } else {
        format!("SELECT name FROM pragma_table_info('{table}')")
    };
    first_column(pool, &sql).await
}

/// The first column of every row `sql` selects, as text.
async fn first_column(pool: &AnyPool, sql: &str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Every row of `table`, each rendered as `quote(col)|quote(col)|…`, sorted: a
/// backend-independent picture of a table's contents.
pub async fn table_rows(pool: &AnyPool, table: &str) -> Vec<String> {
    let quote = |c: &String| {
        if on_postgres() {
            format!("quote_nullable(\"{c}\"::text)")
        } else {
            format!("quote(\"{c}\")")
        }
    };
    let row = column_names(pool, table)
        .await
        .iter()
        .map(quote)
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    let mut rows: Vec<String> = sqlx::query(&format!("SELECT {row} FROM \"{table}\""))
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    rows.sort();
    rows
}

/// `sql` as the suite's backend reads it. Tests write blobs in SQLite's syntax,
/// `X'0a1b'` and `hex(column)`; on PostgreSQL they become `'\x0a1b'::bytea` and
/// `upper(encode(column, 'hex'))`.
pub fn sql(sql: &str) -> String {
    if !on_postgres() {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(['X', 'h']) {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let word_start = !out.ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if word_start && from.starts_with("X'") {
            let end = from[2..].find('\'').expect("a closed X'…' literal") + 2;
            out.push_str(&format!("'\\x{}'::bytea", &from[2..end]));
            rest = &from[end + 1..];
        } else if word_start && from.starts_with("hex(") {
            let end = from.find(')').expect("a closed hex(…)");
            out.push_str(&format!("upper(encode({}, 'hex'))", &from[4..end]));
            rest = &from[end + 1..];
        } else {
            out.push_str(&from[..1]);
            rest = &from[1..];
        }
    }
    out.push_str(rest);
    out
}

/// A deterministic author key for test number `n`.
pub fn author(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// A valid `offer.post` body, distinct for each `tag`: an entry anyone may write on
/// any log, for tests of the log itself.
pub fn offer_body(tag: &str) -> Value {
    serde_json::json!({
        "items": [{"item": "Nitrile gloves", "category": "gloves", "quantity": 100, "unit": "box"}],
        "area": {"code": "CN-HB", "name": "Hubei"},
        "description": tag,
    })
}

/// Canonical signed leaf bytes of an offer anyone may write (see `offer_body`).
pub fn offer(key: &SigningKey, tag: &str) -> Vec<u8> {
    signed(key, Kind::OfferPost, offer_body(tag))
}

/// A valid `org.register` body, distinct for each `tag`: like an offer, an entry
/// anyone may write on any log (its author becomes the organisation's first member).
pub fn org_body(tag: &str) -> Value {
    serde_json::json!({
        "name": "Test Hospital",
        "type": "hospital",
        "area": {"code": "CN-HB", "name": "Hubei"},
        "description": tag,
    })
}

/// Canonical signed leaf bytes of an organisation registration anyone may write (see
/// `org_body`).
pub fn org(key: &SigningKey, tag: &str) -> Vec<u8> {
    signed(key, Kind::OrgRegister, org_body(tag))
}

/// A new random author key.
pub fn key() -> SigningKey {
    aidledger::keys::generate_author_key()
}

/// An author's public key as the API writes it (hex).
pub fn public(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().as_bytes())
}

/// An entry signed by `key`, dated `at`; the test's bodies are valid, so a refusal here
/// is a bug in the test.
pub fn sign_at(key: &SigningKey, kind: Kind, body: Value, at: OffsetDateTime) -> VerifiedEntry {
    UnsignedEntry::new(kind, &key.verifying_key(), at, body)
        .sign(key)
        .unwrap_or_else(|e| panic!("a valid {kind} entry: {e}"))
}

/// An entry signed by `key` now.
pub fn sign(key: &SigningKey, kind: Kind, body: Value) -> VerifiedEntry {
    sign_at(key, kind, body, OffsetDateTime::now_utc())
}

/// An entry's id: its leaf hash in hex, as the API names entries.
pub fn id(entry: &VerifiedEntry) -> String {
    hex32::encode(&entry.leaf_hash())
}

/// Canonical signed leaf bytes of an entry.
pub fn signed(key: &SigningKey, kind: Kind, body: Value) -> Vec<u8> {
    sign(key, kind, body).into_leaf()
}

/// The message of an error answer if `answer` has the one shape every refusal has:
/// `{"error": "<message>"}`, and beside it at most a `fault` with a string `code`
/// (docs/API.md).
pub fn error_message(answer: &Value) -> Option<&str> {
    let o = answer.as_object()?;
    let fault_ok = o
        .get("fault")
        .is_none_or(|f| f["code"].is_string() && f.as_object().is_some_and(|f| f.len() <= 3));
    let known = o.keys().all(|k| k == "error" || k == "fault");
    o.get("error")?.as_str().filter(|_| fault_ok && known)
}

/// An HTTP client for talking to a test instance. The server ends keep-alive
/// connections idle for its header timeout (10 s); a pooled connection kept longer
/// may be closed just as it is reused, failing the request with an incomplete
/// message, so the client lets idle connections go first.
pub fn http_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().pool_idle_timeout(std::time::Duration::from_secs(5))
}

/// [`http_builder`] with its defaults.
pub fn http() -> reqwest::Client {
    http_builder().build().unwrap()
}

/// POSTs a signed entry to `url`, expects it appended, and returns its leaf hash.
pub async fn post_entry(url: &str, leaf: Vec<u8>) -> String {
    let r = http()
        .post(format!("{url}/api/v1/entries"))
        .body(leaf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["leaf_hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A JPEG segment: its marker, length and contents.
pub fn jpeg_segment(marker: u8, contents: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend(((contents.len() + 2) as u16).to_be_bytes());
    s.extend(contents);
    s
}

/// An 8×8 mid-grey baseline JPEG, assembled by hand: one quantisation table, a DC and
/// an AC Huffman table of one code each, and one block coded as "no difference, end of
/// block" (bits 00, padded with ones). `extra` segments go after SOI, as a camera puts
/// its Exif.
pub fn jpeg(extra: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for s in extra {
        out.extend(s);
    }
    out.extend(jpeg_segment(0xDB, &[[0u8].as_slice(), &[1; 64]].concat()));
    out.extend(jpeg_segment(0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
    let huffman = |class_id: u8, symbol: u8| {
        let mut t = vec![class_id, 1];
        t.extend([0; 15]);
        t.push(symbol);
        t
    };
    out.extend(jpeg_segment(0xC4, &huffman(0x00, 0)));
    out.extend(jpeg_segment(0xC4, &huffman(0x10, 0)));
    out.extend(jpeg_segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    out.extend([0x3F, 0xFF, 0xD9]);
    out
}

/// A submission (`POST /api/v1/submissions`) of an entry of `kind` signed by `key`
/// whose `body` names the commitment of the private `contact`, with the sidecar that
/// carries it; and the entry's id.
pub fn private_submission(
    key: &SigningKey,
    kind: Kind,
    mut body: Value,
    contact: Value,
) -> (Vec<u8>, String) {
    let salt: [u8; 32] = rand::random();
    let parsed: moderation::private::Contact =
        serde_json::from_value(contact.clone()).expect("a contact");
    body["contact"] = Value::String(moderation::private::commitment(&salt, &parsed));
    let entry = sign(key, kind, body);
    let submission = serde_json::json!({
        "entry": std::str::from_utf8(entry.leaf()).unwrap(),
        "private": {"salt": hex::encode(salt), "contact": contact},
    });
    (serde_json::to_vec(&submission).unwrap(), id(&entry))
}
