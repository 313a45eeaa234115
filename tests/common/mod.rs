//! Shared set-up for the integration tests: a real instance on a random port over a
//! fresh data directory, started through the same code as `aidledger serve`.
#![allow(dead_code)]

use aidledger::client::LogClient;
use aidledger::server::{self, Config, DATABASE_FILE};
use ed25519_dalek::SigningKey;
use ledger::entry::UnsignedEntry;
use ledger::Kind;
use serde_json::Value;
use sqlx::Row;
use std::path::{Path, PathBuf};
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
        let (stop, stopped) = oneshot::channel::<()>();
        let config = Config {
            bootstrap: false,
            ..Config::new(data_dir.to_path_buf(), "127.0.0.1:0".parse().unwrap())
        };
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

    /// Row counts of the log's tables, read straight from the database file.
    pub async fn table_counts(&self) -> (i64, i64, i64) {
        let pool =
            sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", self.db_path().display()))
                .await
                .unwrap();
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

/// Canonical signed leaf bytes of an entry.
pub fn signed(key: &SigningKey, kind: Kind, body: Value) -> Vec<u8> {
    UnsignedEntry::new(kind, &key.verifying_key(), OffsetDateTime::now_utc(), body)
        .sign(key)
        .expect("signs")
        .into_leaf()
}

/// POSTs a signed entry to `url`, expects it appended, and returns its leaf hash.
pub async fn post_entry(url: &str, leaf: Vec<u8>) -> String {
    let r = reqwest::Client::new()
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
