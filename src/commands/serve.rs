use super::settings::{Flags, Settings};
use crate::server;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    flags: Flags,
}

/// Whether the settings put the log in SQLite inside this process (settings that do
/// not resolve are reported by `run`).
pub fn embedded_database(args: &Args) -> bool {
    Settings::resolve(&args.flags).is_ok_and(|s| s.database_url.is_none())
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args.flags)?;
    server::init_tracing(settings.log_format);
    let config = settings.config()?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let running = server::start(config, shutdown).await?;
    println!("aidledger serving {}", running.url);
    println!("log origin: {}", running.origin);
    println!("verifier key: {}", running.vkey);
    running.serve.await??;
    Ok(())
}
