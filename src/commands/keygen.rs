use crate::keys;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the key file; it must not exist.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let key = keys::generate_author_key();
    let file = keys::author_key_file(&key);
    keys::write_private(&args.out, &serde_json::to_string_pretty(&file)?)?;
    println!("{}", file.public);
    Ok(())
}
