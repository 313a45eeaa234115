use super::settings::{Flags, Settings};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    flags: Flags,
}

/// Prints the settings `serve` would run with, given the same file, environment and
/// flags, as TOML (the database password masked); refuses what `serve` would refuse.
pub fn run(args: Args) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args.flags)?;
    settings.config()?;
    print!("{}", settings.to_masked_toml()?);
    Ok(())
}
