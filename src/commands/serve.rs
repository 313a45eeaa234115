use crate::server::client_addr::TrustedProxies;
use crate::server::connections::ConnectionLimits;
use crate::server::limits::{Limits, PhotoLimits};
use crate::server::{self, Config, Policy, DEFAULT_ORIGIN};
use crate::services::retention::Retention;
use crate::services::webhooks;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Directory holding the database and the log key (created if missing).
    #[arg(long, env = "AIDLEDGER_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    #[command(flatten)]
    database: super::DatabaseArg,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "AIDLEDGER_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Origin line of checkpoints; fixed when the log is created.
    #[arg(long, env = "AIDLEDGER_ORIGIN", default_value = DEFAULT_ORIGIN)]
    origin: String,
    /// Do not create the operator key and first administrator on a new log.
    #[arg(long)]
    no_bootstrap: bool,
    #[command(flatten)]
    policy: super::PolicyArgs,
    /// Writes per minute allowed from one IP address (0: no limit).
    #[arg(long, env = "AIDLEDGER_RATE_PER_IP", default_value_t = Limits::default().per_ip_per_minute)]
    rate_limit_per_ip: u32,
    /// Writes per minute allowed by one author key (0: no limit).
    #[arg(long, env = "AIDLEDGER_RATE_PER_KEY", default_value_t = Limits::default().per_key_per_minute)]
    rate_limit_per_key: u32,
    /// Photo uploads per minute allowed from one IP address (0: no limit).
    #[arg(long, env = "AIDLEDGER_PHOTO_RATE_PER_IP", default_value_t = PhotoLimits::default().per_ip_per_minute)]
    photo_rate_limit_per_ip: u32,
    /// Bytes the photo store in the data directory may hold; uploads beyond get 507.
    #[arg(long, env = "AIDLEDGER_PHOTO_STORE_BYTES", default_value_t = PhotoLimits::default().store_bytes)]
    photo_store_bytes: u64,
    /// Seconds a client has to send a request head, from connecting or from the end of
    /// the previous response (also how long an idle keep-alive connection stays open).
    #[arg(long, env = "AIDLEDGER_HEADER_TIMEOUT_SECS", default_value_t = ConnectionLimits::default().header_timeout.as_secs())]
    header_timeout_secs: u64,
    /// Seconds a client has to send a whole request body.
    #[arg(long, env = "AIDLEDGER_BODY_TIMEOUT_SECS", default_value_t = ConnectionLimits::default().body_timeout.as_secs())]
    body_timeout_secs: u64,
    /// Connections served at once; more wait until one closes.
    #[arg(long, env = "AIDLEDGER_MAX_CONNECTIONS", default_value_t = ConnectionLimits::default().max_connections)]
    max_connections: usize,
    /// Reverse proxies (addresses or networks, comma-separated) whose `Forwarded` or
    /// `X-Forwarded-For` header names the client for per-address limits.
    #[arg(long, env = "AIDLEDGER_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: TrustedProxies,
    /// Days after a need closes until its private data is erased.
    #[arg(long, env = "AIDLEDGER_RETENTION_DAYS", default_value_t = 365)]
    retention_days: u32,
    /// Seconds an entry's created_at may be ahead of this server's clock; entries
    /// dated further in the future are refused (earlier ones, signed offline, are not).
    #[arg(long, env = "AIDLEDGER_MAX_CLOCK_SKEW_SECS", default_value_t = server::DEFAULT_MAX_CLOCK_SKEW.as_secs())]
    max_clock_skew_secs: u64,
    /// Deliver webhooks to loopback, private and link-local addresses too (by default
    /// only public addresses are reached, so subscribers cannot probe this network).
    #[arg(long, env = "AIDLEDGER_WEBHOOK_ALLOW_PRIVATE_TARGETS")]
    webhook_allow_private_targets: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let config = Config {
        origin: args.origin,
        bootstrap: !args.no_bootstrap,
        policy: Policy::from(&args.policy),
        limits: Limits {
            per_ip_per_minute: args.rate_limit_per_ip,
            per_key_per_minute: args.rate_limit_per_key,
        },
        photos: PhotoLimits {
            per_ip_per_minute: args.photo_rate_limit_per_ip,
            store_bytes: args.photo_store_bytes,
        },
        connections: ConnectionLimits {
            header_timeout: Duration::from_secs(args.header_timeout_secs),
            body_timeout: Duration::from_secs(args.body_timeout_secs),
            max_connections: args.max_connections,
            trusted_proxies: args.trusted_proxies,
        },
        retention: Retention {
            days: args.retention_days,
            ..Retention::default()
        },
        database_url: args.database.database_url,
        max_clock_skew: Duration::from_secs(args.max_clock_skew_secs),
        webhooks: webhooks::Settings {
            allow_private_targets: args.webhook_allow_private_targets,
            ..webhooks::Settings::default()
        },
        ..Config::new(args.data_dir, args.listen)
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
