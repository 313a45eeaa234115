//! `aidledger restore`: a snapshot written by `backup` laid down as a new data
//! directory, only once the copy passes the audit of `verify --db`.

use crate::snapshot::{self, Staging};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The snapshot directory (written by `aidledger backup`).
    snapshot: PathBuf,
    /// The data directory to create (new, or empty).
    #[arg(long, env = "AIDLEDGER_DATA_DIR")]
    data_dir: PathBuf,
    /// The log's verifier key the snapshot must be signed with. Default: the key of the
    /// snapshot's own log.key (which a forger of the whole snapshot would replace too).
    #[arg(long)]
    vkey: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let staging = Staging::beside(&args.data_dir)?;
    snapshot::copy_restorable(&args.snapshot, staging.path())?;
    // The copy is what is audited, so what goes into place is what passed.
    let database = staging.path().join(crate::data_dir::DATABASE_FILE);
    let (_, size) = super::verify::audit_sqlite_file(&database, args.vkey)
        .await
        .map_err(|e| {
            e.context(format!(
                "{} fails the audit of `aidledger verify --db`; nothing was restored",
                args.snapshot.display()
            ))
        })?;
    staging.finish()?;
    println!(
        "OK: {size} entries verified and restored into {}; the search index is rebuilt \
         when the instance starts",
        args.data_dir.display()
    );
    Ok(())
}
