mod common;

use common::{author, signed, TestInstance};
use ledger::Kind;
use serde_json::json;

#[tokio::test]
async fn a_submission_is_sequenced_and_a_duplicate_appends_nothing() {
    let instance = TestInstance::start().await;
    let leaf = signed(&author(1), Kind::NeedPost, json!({"title": "masks"}));
    let (status, first) = instance.client.submit(leaf.clone()).await.unwrap();
    assert_eq!((status, first.index, first.tree_size), (201, 0, 1));
    let (status, again) = instance.client.submit(leaf).await.unwrap();
    assert_eq!((status, again.index), (200, 0));
    assert_eq!(instance.table_counts().await, (1, 1, 2));
    instance.stop().await;
}
