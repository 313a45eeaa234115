//! `aidledger backup`: a snapshot of a SQLite instance, running or stopped, verified
//! before it is kept (`crate::snapshot` describes it). PostgreSQL instances are backed
//! up with PostgreSQL's own tools (docs/OPERATIONS.md).

use crate::snapshot::{self, Staging, CHECKPOINT_FILE};
use anyhow::bail;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the instance (it may be serving).
    #[arg(long, env = "AIDLEDGER_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    #[command(flatten)]
    database: super::DatabaseArg,
    /// The snapshot directory to write (new, or empty).
    snapshot: PathBuf,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if args.database.database_url.is_some() {
        bail!(
            "backup copies SQLite instances only; back up a PostgreSQL database with \
             pg_dump and keep a copy of {}/log.key beside it (docs/OPERATIONS.md, \
             \"Backups on PostgreSQL\")",
            args.data_dir.display()
        );
    }
    let staging = Staging::beside(&args.snapshot)?;
    snapshot::take(&args.data_dir, staging.path()).await?;
    let database = staging.path().join(crate::data_dir::DATABASE_FILE);
    let (note, size) = super::verify::audit_sqlite_file(&database, None).await?;
    crate::keys::write_private(&staging.path().join(CHECKPOINT_FILE), &note)?;
    staging.finish()?;
    println!(
        "OK: snapshot of {size} entries written to {} and verified",
        args.snapshot.display()
    );
    Ok(())
}
