//! Every setting of `aidledger serve`, layered: defaults, then the TOML file
//! (`--config`, `AIDLEDGER_CONFIG`), then the environment, then flags. The flags carry
//! no clap defaults, so a flag that was not given never hides the file's value; clap
//! itself puts a flag before its environment variable.

use crate::server::client_addr::TrustedProxies;
use crate::server::connections::ConnectionLimits;
use crate::server::health::Readiness;
use crate::server::limits::{Limits, PhotoLimits};
use crate::server::{self, Config, LogFormat, Policy, DEFAULT_ORIGIN};
use crate::services::retention::Retention;
use crate::services::webhooks;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The effective settings of `serve`: the file's keys, one for each flag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub data_dir: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    pub origin: String,
    pub bootstrap: bool,
    pub quorum: u32,
    pub post_quorum: u32,
    pub rate_limit_per_ip: u32,
    pub rate_limit_per_key: u32,
    pub photo_rate_limit_per_ip: u32,
    pub photo_store_bytes: u64,
    pub header_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub max_connections: usize,
    pub trusted_proxies: String,
    pub retention_days: u32,
    pub max_clock_skew_secs: u64,
    pub ready_max_index_lag: u64,
    pub log_format: LogFormat,
    pub webhook_allow_private_targets: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let policy = Policy::default();
        let connections = ConnectionLimits::default();
        Settings {
            data_dir: PathBuf::from("data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            origin: DEFAULT_ORIGIN.to_owned(),
            bootstrap: true,
            quorum: policy.quorum,
            post_quorum: policy.post_quorum,
            rate_limit_per_ip: Limits::default().per_ip_per_minute,
            rate_limit_per_key: Limits::default().per_key_per_minute,
            photo_rate_limit_per_ip: PhotoLimits::default().per_ip_per_minute,
            photo_store_bytes: PhotoLimits::default().store_bytes,
            header_timeout_secs: connections.header_timeout.as_secs(),
            body_timeout_secs: connections.body_timeout.as_secs(),
            max_connections: connections.max_connections,
            trusted_proxies: String::new(),
            retention_days: Retention::default().days,
            max_clock_skew_secs: server::DEFAULT_MAX_CLOCK_SKEW.as_secs(),
            ready_max_index_lag: Readiness::default().max_index_lag,
            log_format: LogFormat::default(),
            webhook_allow_private_targets: false,
        }
    }
}

/// The flags of `serve` (and `config`), each with its environment variable. None has a
/// clap default: a setting neither given here nor in the file takes `Settings`'s.
#[derive(clap::Args)]
pub struct Flags {
    /// A TOML file of settings (keys as printed by `aidledger config`, which also
    /// shows the defaults of what neither it nor a flag sets); flags and environment
    /// variables override it.
    #[arg(long, env = "AIDLEDGER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory holding the database and the log key (created if missing).
    #[arg(long, env = "AIDLEDGER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    database: super::DatabaseArg,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "AIDLEDGER_LISTEN")]
    listen: Option<SocketAddr>,
    /// Origin line of checkpoints; fixed when the log is created.
    #[arg(long, env = "AIDLEDGER_ORIGIN")]
    origin: Option<String>,
    /// Do not create the operator key and first administrator on a new log.
    #[arg(long)]
    no_bootstrap: bool,
    /// Distinct moderators whose `verified` verdicts verify an organisation.
    #[arg(long, env = "AIDLEDGER_QUORUM", value_parser = clap::value_parser!(u32).range(1..))]
    quorum: Option<u32>,
    /// Distinct moderators whose `verify` verdicts verify a need or an offer on its own
    /// (a need of a verified organisation is verified anyway).
    #[arg(long, env = "AIDLEDGER_POST_QUORUM", value_parser = clap::value_parser!(u32).range(1..))]
    post_quorum: Option<u32>,
    /// Writes per minute allowed from one IP address (0: no limit).
    #[arg(long, env = "AIDLEDGER_RATE_PER_IP")]
    rate_limit_per_ip: Option<u32>,
    /// Writes per minute allowed by one author key (0: no limit).
    #[arg(long, env = "AIDLEDGER_RATE_PER_KEY")]
    rate_limit_per_key: Option<u32>,
    /// Photo uploads per minute allowed from one IP address (0: no limit).
    #[arg(long, env = "AIDLEDGER_PHOTO_RATE_PER_IP")]
    photo_rate_limit_per_ip: Option<u32>,
    /// Bytes the photo store in the data directory may hold; uploads beyond get 507.
    #[arg(long, env = "AIDLEDGER_PHOTO_STORE_BYTES")]
    photo_store_bytes: Option<u64>,
    /// Seconds a client has to send a request head, from connecting or from the end of
    /// the previous response (also how long an idle keep-alive connection stays open).
    #[arg(long, env = "AIDLEDGER_HEADER_TIMEOUT_SECS")]
    header_timeout_secs: Option<u64>,
    /// Seconds a client has to send a whole request body.
    #[arg(long, env = "AIDLEDGER_BODY_TIMEOUT_SECS")]
    body_timeout_secs: Option<u64>,
    /// Connections served at once; more wait until one closes.
    #[arg(long, env = "AIDLEDGER_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Reverse proxies (addresses or networks, comma-separated) whose `Forwarded` or
    /// `X-Forwarded-For` header names the client for per-address limits.
    #[arg(long, env = "AIDLEDGER_TRUSTED_PROXIES")]
    trusted_proxies: Option<String>,
    /// Days after a need closes until its private data is erased.
    #[arg(long, env = "AIDLEDGER_RETENTION_DAYS")]
    retention_days: Option<u32>,
    /// Seconds an entry's created_at may be ahead of this server's clock; entries
    /// dated further in the future are refused (earlier ones, signed offline, are not).
    #[arg(long, env = "AIDLEDGER_MAX_CLOCK_SKEW_SECS")]
    max_clock_skew_secs: Option<u64>,
    /// Entries the search index may be behind the log before `/readyz` answers 503.
    #[arg(long, env = "AIDLEDGER_READY_MAX_INDEX_LAG")]
    ready_max_index_lag: Option<u64>,
    /// How log lines are written on stderr.
    #[arg(long, env = "AIDLEDGER_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Deliver webhooks to loopback, private and link-local addresses too (by default
    /// only public addresses are reached, so subscribers cannot probe this network).
    #[arg(long, env = "AIDLEDGER_WEBHOOK_ALLOW_PRIVATE_TARGETS")]
    webhook_allow_private_targets: bool,
}

impl Settings {
    /// Reads a settings file; a key it does not know is an error naming the key.
    pub fn from_file(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the settings file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in the settings file {}", path.display()))
    }

    /// The file's settings (or the defaults), with what `flags` and the environment give
    /// put over them.
    pub fn resolve(flags: &Flags) -> anyhow::Result<Settings> {
        let mut settings = match &flags.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        macro_rules! over {
            ($($field:ident),*) => {$(
                if let Some(value) = &flags.$field {
                    settings.$field = value.clone();
                }
            )*};
        }
        over!(
            data_dir,
            listen,
            origin,
            quorum,
            post_quorum,
            rate_limit_per_ip,
            rate_limit_per_key,
            photo_rate_limit_per_ip,
            photo_store_bytes,
            header_timeout_secs,
            body_timeout_secs,
            max_connections,
            trusted_proxies,
            retention_days,
            max_clock_skew_secs,
            ready_max_index_lag,
            log_format
        );
        if let Some(url) = &flags.database.database_url {
            settings.database_url = Some(url.clone());
        }
        if flags.no_bootstrap {
            settings.bootstrap = false;
        }
        if flags.webhook_allow_private_targets {
            settings.webhook_allow_private_targets = true;
        }
        Ok(settings)
    }

    /// The server's configuration, refusing values the flags' parsers would refuse.
    pub fn config(&self) -> anyhow::Result<Config> {
        anyhow::ensure!(self.quorum >= 1, "quorum must be at least 1");
        anyhow::ensure!(self.post_quorum >= 1, "post_quorum must be at least 1");
        let trusted_proxies: TrustedProxies =
            self.trusted_proxies.parse().context("in trusted_proxies")?;
        Ok(Config {
            database_url: self.database_url.clone(),
            origin: self.origin.clone(),
            bootstrap: self.bootstrap,
            policy: Policy {
                quorum: self.quorum,
                post_quorum: self.post_quorum,
            },
            limits: Limits {
                per_ip_per_minute: self.rate_limit_per_ip,
                per_key_per_minute: self.rate_limit_per_key,
            },
            photos: PhotoLimits {
                per_ip_per_minute: self.photo_rate_limit_per_ip,
                store_bytes: self.photo_store_bytes,
            },
            connections: ConnectionLimits {
                header_timeout: Duration::from_secs(self.header_timeout_secs),
                body_timeout: Duration::from_secs(self.body_timeout_secs),
                max_connections: self.max_connections,
                trusted_proxies,
            },
            retention: Retention {
                days: self.retention_days,
                ..Retention::default()
            },
            max_clock_skew: Duration::from_secs(self.max_clock_skew_secs),
            readiness: Readiness {
                max_index_lag: self.ready_max_index_lag,
            },
            webhooks: webhooks::Settings {
                allow_private_targets: self.webhook_allow_private_targets,
                ..webhooks::Settings::default()
            },
            ..Config::new(self.data_dir.clone(), self.listen)
        })
    }

    /// These settings as TOML, with the database password masked.
    pub fn to_masked_toml(&self) -> anyhow::Result<String> {
        let masked = Settings {
            database_url: self.database_url.as_deref().map(mask_password),
            ..self.clone()
        };
        Ok(toml::to_string(&masked)?)
    }
}

/// `url` with its password, if any, replaced by `****`. A URL that does not parse is
/// masked whole: it may still hold a secret.
fn mask_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("****"));
            }
            parsed.to_string()
        }
        Err(_) => "****".to_owned(),
    }
}
