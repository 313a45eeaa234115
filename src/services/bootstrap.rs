//! The first entries of a new log: the operator's key becomes its first administrator
//! (the only role.grant the rules accept on a log without one) and a moderator.

use crate::keys;
use anyhow::Context;
use ledger::body::Role;
use ledger::entry::UnsignedEntry;
use ledger::Kind;
use ledger_node::sequencer::Sequencer;
use serde_json::json;
use std::path::Path;
use time::OffsetDateTime;

/// Name of the operator's author key file inside a data directory.
pub const OPERATOR_KEY_FILE: &str = "operator.key";

pub(crate) async fn create_operator(data_dir: &Path, sequencer: &Sequencer) -> anyhow::Result<()> {
    let path = data_dir.join(OPERATOR_KEY_FILE);
    let key = if path.exists() {
        keys::read_author_key(&path)?
    } else {
        let key = keys::generate_author_key();
        keys::write_private(
            &path,
            &serde_json::to_string_pretty(&keys::author_key_file(&key))?,
        )?;
        key
    };
    let public = hex::encode(key.verifying_key().as_bytes());
    for role in [Role::Administrator, Role::Moderator] {
        let entry = UnsignedEntry::new(
            Kind::RoleGrant,
            &key.verifying_key(),
            OffsetDateTime::now_utc(),
            json!({ "key": public, "role": role }),
        )
        .sign(&key)?;
        sequencer
            .submit(entry)
            .await
            .context("appending the operator's role")?;
    }
    tracing::info!(key = %public, file = %path.display(), "operator key is the first administrator");
    Ok(())
}
