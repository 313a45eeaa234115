//! The databases the storage benches run on, so that one run measures both: SQLite in
//! a temp dir always, and PostgreSQL when `AIDLEDGER_BENCH_POSTGRES` is the URL of a
//! database the bench may use (an empty one, e.g. `psql "$url" -c 'CREATE DATABASE
//! bench_x'`).
//!
//! A bench opens stores by name: on SQLite each is a file of the temp dir, on
//! PostgreSQL a schema of that database (dropped and created afresh, then chosen with
//! the connection's `search_path`), so every store starts empty and the given database
//! is all the bench needs.

use ledger_node::storage::sql::SqlStore;
use sqlx::Connection;
use std::path::{Path, PathBuf};

pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    /// SQLite in `dir`, then PostgreSQL if `AIDLEDGER_BENCH_POSTGRES` is set.
    pub fn all(dir: &Path) -> Vec<Backend> {
        let mut all = vec![Backend::Sqlite(dir.to_owned())];
        match std::env::var("AIDLEDGER_BENCH_POSTGRES") {
            Ok(url) if !url.is_empty() => all.push(Backend::Postgres(url)),
            _ => eprintln!(
                "AIDLEDGER_BENCH_POSTGRES is not set: SQLite only \
                 (set it to the URL of an empty PostgreSQL database to measure both)"
            ),
        }
        all
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The URL of store `name` on PostgreSQL (what a node listens on); `None` on SQLite.
    pub fn url(&self, name: &str) -> Option<String> {
        match self {
            Backend::Sqlite(_) => None,
            Backend::Postgres(url) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                Some(format!("{url}{sep}options[search_path]=bench_{name}"))
            }
        }
    }

    /// A new, empty store called `name`, with the log's tables.
    pub async fn open(&self, name: &str) -> SqlStore {
        match self {
            Backend::Sqlite(dir) => {
                ledger_node::storage::sqlite::open(&dir.join(format!("{name}.db")))
                    .await
                    .expect("opens the SQLite database")
            }
            Backend::Postgres(url) => {
                let mut admin = sqlx::PgConnection::connect(url)
                    .await
                    .expect("connects to AIDLEDGER_BENCH_POSTGRES");
                sqlx::raw_sql(&format!(
                    "DROP SCHEMA IF EXISTS bench_{name} CASCADE; CREATE SCHEMA bench_{name}"
                ))
                .execute(&mut admin)
                .await
                .expect("creates the bench's schema");
                admin.close().await.expect("disconnects");
                let url = self.url(name).expect("a PostgreSQL URL");
                ledger_node::storage::postgres::open(&url)
                    .await
                    .expect("opens the PostgreSQL database")
            }
        }
    }
}
