//! Migrations of both backends (the log's, the workflow's and the server's own,
//! sharing one migration table): from an empty database, and onto a populated one that predates the newest
//! migration, whose data must come through untouched.

use crate::common;

use common::{author, offer, TestInstance};
use sqlx::AnyPool;

/// Every migration version the suite's backend must end up with.
fn expected_versions() -> Vec<i64> {
    let log: &[i64] = if common::on_postgres() { &[1, 2] } else { &[1] };
    let workflow = [
        20260002000000,
        20260003000000,
        20260004000000,
        20260005000000,
        20260006000000,
        20261200000000,
    ];
    // The server's own tables (webhooks).
    let server = [20261000000000];
    let mut versions: Vec<i64> = log.iter().copied().chain(workflow).chain(server).collect();
    versions.sort();
    versions
}

async fn applied_versions(pool: &AnyPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The newest migration of the backend: what undoing it drops, and its version.
fn newest_migration() -> (i64, &'static [&'static str]) {
    if common::on_postgres() {
        (
            2,
            // CASCADE takes the triggers that call it.
            &[
                "DROP TABLE submissions",
                "DROP FUNCTION aidledger_notify CASCADE",
            ],
        )
    } else {
        (
            20261200000000,
            &[
                "DROP INDEX wf_posts_by_org",
                "CREATE INDEX wf_posts_by_org ON wf_posts (org, status)",
            ],
        )
    }
}

#[tokio::test]
async fn an_empty_database_gets_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let store = aidledger::services::store::open(dir.path(), url.as_deref())
        .await
        .unwrap();
    assert_eq!(applied_versions(store.pool()).await, expected_versions());
    let tables = common::table_names(store.pool()).await;
    for table in [
        "entries",
        "tree_hashes",
        "checkpoints",
        "pd_contacts",
        "pd_reads",
        "webhook_subscriptions",
        "webhook_deliveries",
        "webhook_attempts",
        "webhook_cursor",
    ]
    .into_iter()
    .chain(moderation::rebuild::TABLES.iter().copied())
    {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing: {tables:?}"
        );
    }
    // Opening again applies nothing twice.
    store.pool().close().await;
    let store = aidledger::services::store::open(dir.path(), url.as_deref())
        .await
        .unwrap();
    assert_eq!(applied_versions(store.pool()).await, expected_versions());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_populated_database_is_migrated_without_losing_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_in(dir.path()).await;
    for i in 0..25 {
        common::post_entry(&instance.url, offer(&author(1), &format!("before {i}"))).await;
    }
    let counts = instance.table_counts().await;
    let checkpoint = instance.client.checkpoint().await.unwrap();
    instance.stop().await;

    // Make it a database from before the newest migration.
    let (version, undo) = newest_migration();
    let pool = common::open_db(dir.path()).await;
    for sql in undo {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(version)
        .execute(&pool)
        .await
        .unwrap();
    assert!(!applied_versions(&pool).await.contains(&version));
    pool.close().await;

    let instance = TestInstance::start_in(dir.path()).await;
    let pool = common::open_db(dir.path()).await;
    assert_eq!(applied_versions(&pool).await, expected_versions());
    pool.close().await;
    assert_eq!(
        instance.table_counts().await,
        counts,
        "the log is untouched"
    );
    assert_eq!(instance.client.checkpoint().await.unwrap(), checkpoint);
    // And the migrated instance goes on appending.
    common::post_entry(&instance.url, offer(&author(1), "after")).await;
    assert_eq!(instance.table_counts().await.0, counts.0 + 1);
    instance.stop().await;
}
