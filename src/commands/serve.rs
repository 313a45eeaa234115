use crate::server::{self, Config, DEFAULT_ORIGIN};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Directory holding the database and the log key (created if missing).
    #[arg(long, env = "AIDLEDGER_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "AIDLEDGER_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Origin line of checkpoints; fixed when the log is created.
    #[arg(long, env = "AIDLEDGER_ORIGIN", default_value = DEFAULT_ORIGIN)]
    origin: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let config = Config {
        data_dir: args.data_dir,
        listen: args.listen,
        origin: args.origin,
    };
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
