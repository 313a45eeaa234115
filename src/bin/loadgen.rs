//! Load generator for BENCHMARKS.md: sequenced appends over HTTP, reads and offline
//! audits, each reported as a ratio against a baseline measured in the same run.
//!
//! Each repeat, on a fresh temp data directory:
//! 1. baselines in-process, each the best of 3 measurements: raw ed25519
//!    `verify_strict` per second over the exact (key, message, signature) triples the
//!    server will check, on 1 thread and on all cores, and the whole validity rule
//!    (`VerifiedEntry::from_leaf`) on all cores;
//! 2. starts `aidledger serve` on 127.0.0.1:0 (SQLite in the data directory), which is
//!    empty, or with `--from DIR` a copy of the stopped instance's data directory DIR
//!    (for appends to a log that already holds many entries; its operator key appoints
//!    the workflow's moderators);
//! 3. trivial GET /checkpoint round trips, one in flight and then at the load's
//!    concurrency (the latency baselines; they also open the connections);
//! 4. fires the pre-signed entries at POST /api/v1/entries with `--concurrency`
//!    requests in flight, recording each request's latency (until its 201, which the
//!    server sends only once the entry is sequenced and committed). With `--mix
//!    workflow` (the default) the entries are the sample aid effort of `aidledger seed`
//!    (organisations registered and verified, needs posted and closed, pledges
//!    accepted, shipped and confirmed, offers), made in rounds of `--round` entries
//!    that depend only on earlier rounds: a round is fired once the one before it is
//!    all sequenced; the data directory holds the operator key the effort's moderators
//!    are appointed with. With `--mix offers` they are standalone offers, fired at once;
//! 5. with `--reads N`: once the server is idle again (its search index caught up),
//!    N reads with `--read-concurrency` in flight, a mix of `--read-mix` in turn
//!    (`/checkpoint`, inclusion proofs of random acknowledged entries at the final tree
//!    size, a page of `/api/v1/offers`, a filtered `/api/v1/search`), each must be 200;
//! 6. stops the server, measures raw `verify_strict` on all cores again, and times
//!    `aidledger verify --db` on what the server wrote.
//!
//! With `--postgres URL` (a database on a PostgreSQL server where the load generator
//! may create databases), each repeat then runs steps 2–6 again against
//! `aidledger serve --database-url` on a fresh database of that server (dropped
//! afterwards), with the same entries (and `VACUUM ANALYZE` before the reads, as
//! autovacuum would have run by then); and, with `--reads`, step 5 a second time with
//! `--nodes` nodes on that one database: the first node's log key is copied into the
//! others' data directories, they start with `--no-bootstrap`, and once they serve the
//! whole log and are idle the N reads are spread round-robin over all of them. The CPU
//! time of the PostgreSQL backends connected to that database (from
//! `pg_stat_activity` and /proc; the server's WAL writer and checkpointer are not
//! counted) is reported per request beside the servers' own.
//!
//! Then it prints one markdown table per figure: each repeat and the median.
//!
//! Build and run (release, separate target dir):
//! `CARGO_TARGET_DIR=target-bench cargo build --release --bins &&
//!  target-bench/release/loadgen`; for (h):
//! `target-bench/release/loadgen --postgres "$(bash scripts/postgres.sh)" --reads 30000`

use aidledger::sample::{sample_entry, Workflow};
use anyhow::{bail, ensure, Context};
use clap::Parser;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use ledger::entry::{canonical_json, UnsignedEntry, VerifiedEntry, SIGNATURE_DOMAIN};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Connection;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

#[derive(Parser)]
#[command(about = "Load generator: appends/s, latency and audit rate as ratios to raw ed25519")]
struct Args {
    /// Entries submitted per repeat.
    #[arg(long, default_value_t = 30_000)]
    entries: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// What the entries are.
    #[arg(long, value_enum, default_value = "workflow")]
    mix: Mix,
    /// Entries per round of the workflow mix.
    #[arg(long, default_value_t = 4096)]
    round: usize,
    /// Author keys the offers mix is signed with.
    #[arg(long, default_value_t = 8)]
    keys: usize,
    /// Repeats; the tables give each and their median.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Threads of the "all cores" baselines. Default: available parallelism, which is
    /// also what the server's runtime and `verify --db` use.
    #[arg(long)]
    threads: Option<usize>,
    /// Worker threads of the load generator's own HTTP client runtime.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// Signature verifications per thread in each raw baseline measurement (best of 3).
    #[arg(long, default_value_t = 20_000)]
    baseline_count: usize,
    /// Trivial GET requests in the latency baseline at `--concurrency`.
    #[arg(long, default_value_t = 20_000)]
    get_requests: usize,
    /// The `aidledger` binary. Default: the one next to this executable.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Start each repeat's SQLite server on a copy of this stopped instance's data
    /// directory instead of an empty one.
    #[arg(long)]
    from: Option<PathBuf>,
    /// Seed of the sample entries and keys.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also run each repeat on PostgreSQL: the URL of a database on a server where the
    /// load generator may create (and drop) a database per repeat, such as the admin
    /// URL printed by `scripts/postgres.sh`.
    #[arg(long, env = "AIDLEDGER_LOADGEN_POSTGRES")]
    postgres: Option<String>,
    /// Read requests per read phase, after the appends (0: no read phases).
    #[arg(long, default_value_t = 0)]
    reads: usize,
    /// Read requests in flight at once.
    #[arg(long, default_value_t = 64)]
    read_concurrency: usize,
    /// Nodes sharing the PostgreSQL database in the second read phase (with --postgres).
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Nodes sharing the PostgreSQL database that the appends are posted to, in turn
    /// (with --postgres); the server CPU is theirs together.
    #[arg(long, default_value_t = 1)]
    append_nodes: usize,
    /// The reads, taken in turn.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "checkpoint,inclusion,offers,search"
    )]
    read_mix: Vec<ReadKind>,
}

/// The entries appended.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Debug)]
enum Mix {
    /// The sample aid effort, every kind of entry the workflow rules judge.
    Workflow,
    /// Standalone offers by `--keys` authors (what figures before the workflow used).
    Offers,
}

/// One kind of read request.
#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Debug)]
enum ReadKind {
    /// `GET /checkpoint`: the head, from memory.
    Checkpoint,
    /// `GET /api/v1/log/proof/inclusion` of a random acknowledged entry.
    Inclusion,
    /// `GET /api/v1/offers`: one of the first 10 pages of 20 (SQL over the workflow's
    /// tables, with the total count).
    Offers,
    /// `GET /api/v1/search`: a word and an area among offers (the node's own index).
    Search,
}

const SEARCH_WORDS: &[&str] = &["gloves", "thermometers", "respirator", "shields", "gowns"];
const SEARCH_AREAS: &[&str] = &["CN-HB", "CN-ZJ", "IT-25", "TR-31", "CN"];

/// A deterministic pseudo-random number for request `i` (splitmix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl ReadKind {
    /// Path and query of read `i`.
    fn path(self, i: usize, leaf_hashes: &[String], tree_size: u64) -> String {
        let x = mix(i as u64);
        match self {
            ReadKind::Checkpoint => "/checkpoint".into(),
            ReadKind::Inclusion => format!(
                "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={tree_size}",
                leaf_hashes[x as usize % leaf_hashes.len()]
            ),
            ReadKind::Offers => format!("/api/v1/offers?per_page=20&page={}", 1 + x % 10),
            ReadKind::Search => format!(
                "/api/v1/search?q={}&kind=offer&area={}",
                SEARCH_WORDS[x as usize % SEARCH_WORDS.len()],
                SEARCH_AREAS[(x >> 32) as usize % SEARCH_AREAS.len()]
            ),
        }
    }
}

/// What one signature check needs, decoded ahead of time.
struct Triple {
    key: VerifyingKey,
    message: Vec<u8>,
    sig: Signature,
}

fn triple(entry: &VerifiedEntry) -> anyhow::Result<Triple> {
    let e = entry.entry();
    let unsigned = UnsignedEntry {
        v: e.v,
        kind: e.kind.clone(),
        author: e.author.clone(),
        created_at: e.created_at.clone(),
        body: e.body.clone(),
    };
    let mut message = SIGNATURE_DOMAIN.to_vec();
    message.extend(canonical_json(&unsigned));
    let sig: [u8; 64] = hex::decode(&e.sig)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("signature is not 64 bytes"))?;
    let t = Triple {
        key: *entry.author_key(),
        message,
        sig: Signature::from_bytes(&sig),
    };
    t.key
        .verify_strict(&t.message, &t.sig)
        .context("the rebuilt signed message does not verify")?;
    Ok(t)
}

/// Measurements of a baseline; the best is kept, since other load on the machine can
/// only slow a measurement down and the baseline stands for the machine's limit.
const BASELINE_TRIES: usize = 3;

/// Runs `work(thread, count)` on `threads` threads, `count` items each; the best of
/// `BASELINE_TRIES` rates, in items per second.
fn rate(threads: usize, count: usize, work: impl Fn(usize, usize) + Sync) -> f64 {
    (0..BASELINE_TRIES)
        .map(|_| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for t in 0..threads {
                    let work = &work;
                    s.spawn(move || work(t, count));
                }
            });
            (threads * count) as f64 / start.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn raw_verify_rate(triples: &[Triple], threads: usize, count: usize) -> f64 {
    rate(threads, count, |t, count| {
        for i in 0..count {
            let x = &triples[(t * 7919 + i) % triples.len()];
            assert!(std::hint::black_box(&x.key)
                .verify_strict(&x.message, &x.sig)
                .is_ok());
        }
    })
}

fn rule_rate(leaves: &[Vec<u8>], threads: usize, count: usize) -> f64 {
    rate(threads, count, |t, count| {
        for i in 0..count {
            let leaf = &leaves[(t * 7919 + i) % leaves.len()];
            assert!(VerifiedEntry::from_leaf(std::hint::black_box(leaf)).is_ok());
        }
    })
}

/// Signs `n` sample entries with `keys` authors on `threads` threads.
fn presign(n: usize, keys: usize, threads: usize, seed: u64) -> anyhow::Result<Vec<VerifiedEntry>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let authors: Vec<SigningKey> = (0..keys)
        .map(|_| SigningKey::from_bytes(&rng.gen()))
        .collect();
    let now = OffsetDateTime::now_utc();
    let per = n.div_ceil(threads);
    let parts: Vec<anyhow::Result<Vec<VerifiedEntry>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let authors = &authors;
                s.spawn(move || {
                    let mut rng = StdRng::seed_from_u64(seed ^ ((t as u64 + 1) << 32));
                    (t * per..n.min((t + 1) * per))
                        .map(|i| {
                            let author = &authors[i % authors.len()];
                            let (kind, body) = sample_entry(&mut rng);
                            Ok(UnsignedEntry::new(kind, &author.verifying_key(), now, body)
                                .sign(author)?)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signing thread panicked"))
            .collect()
    });
    let mut out = Vec::with_capacity(n);
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// The sample aid effort, `n` entries in rounds of at most `round` (each depending only
/// on earlier ones), its moderators appointed by `operator`; returns the entries and
/// where each round ends.
fn presign_workflow(
    n: usize,
    round: usize,
    operator: &SigningKey,
    seed: u64,
) -> anyhow::Result<(Vec<VerifiedEntry>, Vec<usize>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut workflow = Workflow::new(Some(operator.clone()));
    let mut entries = Vec::with_capacity(n);
    let mut ends = Vec::new();
    while entries.len() < n {
        entries.extend(workflow.round(&mut rng, round.min(n - entries.len()))?);
        ends.push(entries.len());
    }
    Ok((entries, ends))
}

/// Copies the directory `from` into the existing directory `to`, recursively.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// CPU time (user + system) of a process so far, from /proc (Linux only).
fn cpu_seconds(pid: &str, ticks: Option<f64>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / ticks?)
}

fn clock_ticks() -> Option<f64> {
    let out = Command::new("getconf").arg("CLK_TCK").output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// A fresh data directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> anyhow::Result<TempDir> {
        let path =
            std::env::temp_dir().join(format!("aidledger-loadgen-{}-{label}", std::process::id()));
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `work` on a runtime of its own (outside the load's runtime, between phases).
fn blocking<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

/// A database created on the `--postgres` server for one repeat, dropped with it.
struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin: &str, name: String) -> anyhow::Result<PgDatabase> {
        let mut url = reqwest::Url::parse(admin).context("--postgres is not a URL")?;
        url.set_path(&format!("/{name}"));
        let db = PgDatabase {
            admin: admin.to_owned(),
            url: url.to_string(),
            name,
        };
        db.admin_sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name))?;
        db.admin_sql(&format!("CREATE DATABASE {}", db.name))?;
        Ok(db)
    }

    fn admin_sql(&self, sql: &str) -> anyhow::Result<()> {
        blocking(async {
            let mut admin = sqlx::PgConnection::connect(&self.admin)
                .await
                .context("connecting to --postgres")?;
            sqlx::raw_sql(sql).execute(&mut admin).await?;
            admin.close().await?;
            Ok(())
        })
        .with_context(|| format!("running {sql:?} on --postgres"))
    }

    /// `VACUUM ANALYZE` of this database.
    fn vacuum_analyze(&self) -> anyhow::Result<()> {
        blocking(async {
            let mut conn = sqlx::PgConnection::connect(&self.url).await?;
            sqlx::raw_sql("VACUUM ANALYZE").execute(&mut conn).await?;
            conn.close().await?;
            Ok(())
        })
        .context("VACUUM ANALYZE")
    }

    /// CPU seconds so far of each PostgreSQL backend connected to this database.
    fn backends_cpu(&self, ticks: Option<f64>) -> Option<HashMap<String, f64>> {
        let pids: Vec<i32> = blocking(async {
            let mut admin = sqlx::PgConnection::connect(&self.admin).await?;
            let pids = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1")
                .bind(&self.name)
                .fetch_all(&mut admin)
                .await?;
            admin.close().await?;
            Ok(pids)
        })
        .ok()?;
        pids.into_iter()
            .map(|pid| Some((pid.to_string(), cpu_seconds(&pid.to_string(), ticks)?)))
            .collect()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Err(error) = self.admin_sql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("warning: {error:#}");
        }
    }
}

/// CPU seconds the backends used between two samples (a backend that started in
/// between counts from zero).
fn backends_used(
    before: &Option<HashMap<String, f64>>,
    after: &Option<HashMap<String, f64>>,
) -> Option<f64> {
    let (before, after) = (before.as_ref()?, after.as_ref()?);
    Some(
        after
            .iter()
            .map(|(pid, now)| now - before.get(pid).copied().unwrap_or(0.0))
            .sum(),
    )
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// `aidledger serve` on `data_dir`, with `extra` arguments (`--database-url …`).
    fn start(binary: &Path, data_dir: &Path, extra: &[String]) -> anyhow::Result<Server> {
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            // A load test from one address and a few keys must not be rate limited
            // (environment variables, which versions without limits ignore).
            .env("AIDLEDGER_RATE_PER_IP", "0")
            .env("AIDLEDGER_RATE_PER_KEY", "0")
            // SQLite unless `extra` says otherwise.
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut lines = BufReader::new(child.stdout.take().context("server stdout")?).lines();
        let first = lines.next().context("the server exited before serving")??;
        let url = first
            .strip_prefix("aidledger serving ")
            .with_context(|| format!("unexpected first line from the server: {first:?}"))?
            .to_owned();
        // Keep reading so that the server never writes to a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Server { child, url })
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Server {
    /// Interrupts the server as Ctrl-C would (so that a wrapper such as a profiler
    /// given as `--server` can finish too), then kills it if it lingers.
    fn drop(&mut self) {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.pid()])
            .status()
            .is_ok_and(|s| s.success());
        if interrupted {
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Summed CPU seconds of `pids`.
fn cpu_of(pids: &[String], ticks: Option<f64>) -> Option<f64> {
    pids.iter().map(|pid| cpu_seconds(pid, ticks)).sum()
}

/// Waits until `pids` together use under 10 % of a core over half a second (a server
/// catching up, e.g. indexing the log for search, would disturb the next phase).
fn wait_idle(pids: &[String], ticks: Option<f64>) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let before = cpu_of(pids, ticks);
        std::thread::sleep(Duration::from_millis(500));
        let (Some(before), Some(after)) = (before, cpu_of(pids, ticks)) else {
            // No /proc: give the servers a moment instead.
            std::thread::sleep(Duration::from_secs(5));
            return;
        };
        if after - before < 0.05 {
            return;
        }
        if Instant::now() > deadline {
            eprintln!("warning: the servers are still busy; measuring anyway");
            return;
        }
    }
}

/// Latencies of one phase, each with its request's number, and its wall time.
struct Phase {
    latencies: Vec<(usize, Duration)>,
    wall: Duration,
}

impl Phase {
    /// The phases of consecutive rounds as one, request indices counted across them.
    fn joined(rounds: Vec<Phase>) -> Phase {
        let mut latencies = Vec::new();
        let mut wall = Duration::ZERO;
        for round in rounds {
            let offset = latencies.len();
            latencies.extend(round.latencies.into_iter().map(|(i, d)| (offset + i, d)));
            wall += round.wall;
        }
        Phase { latencies, wall }
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    /// The q-quantile (nearest rank) in milliseconds.
    fn ms(&self, q: f64) -> f64 {
        self.ms_of(q, |_| true)
    }

    /// The q-quantile (nearest rank) in milliseconds of the requests `keep` selects.
    fn ms_of(&self, q: f64, keep: impl Fn(usize) -> bool) -> f64 {
        let mut kept: Vec<Duration> = self
            .latencies
            .iter()
            .filter(|(i, _)| keep(*i))
            .map(|(_, d)| *d)
            .collect();
        if kept.is_empty() {
            return f64::NAN;
        }
        kept.sort_unstable();
        let rank = ((q * kept.len() as f64).ceil() as usize).max(1);
        kept[rank - 1].as_secs_f64() * 1e3
    }
}

/// Sends `n` requests made by `request(i)`, `concurrency` at a time; each must get
/// `expect` as its status.
async fn fire(
    n: usize,
    concurrency: usize,
    expect: u16,
    request: impl Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> anyhow::Result<Phase> {
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(n) {
        let (request, next) = (request.clone(), next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(latencies);
                }
                let sent = Instant::now();
                let response = request(i).send().await?;
                let status = response.status().as_u16();
                let body = response.bytes().await?;
                latencies.push((i, sent.elapsed()));
                if status != expect {
                    bail!(
                        "request {i}: status {status} (expected {expect}): {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
        });
    }
    let mut latencies = Vec::with_capacity(n);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    Ok(Phase {
        latencies,
        wall: start.elapsed(),
    })
}

/// The appends to one backend in one repeat, and the audit of what they wrote.
#[derive(Default, Clone)]
struct Appends {
    appends: f64,
    server_cpu_us: Option<f64>,
    client_cpu_us: Option<f64>,
    /// CPU of the PostgreSQL backends serving the server, per append.
    db_cpu_us: Option<f64>,
    post_p50: f64,
    post_p99: f64,
    post_max: f64,
    get_seq_p50: f64,
    get_seq_p99: f64,
    get_c_p50: f64,
    get_c_p99: f64,
    get_c_rate: f64,
    raw_n_after: f64,
    mean_batch: f64,
    verify_rate: f64,
    verify_secs: f64,
}

/// One read phase.
#[derive(Default, Clone)]
struct Reads {
    rate: f64,
    p50: f64,
    p99: f64,
    /// p50 of each kind of `--read-mix`, in its order.
    kind_p50: Vec<f64>,
    /// CPU of all the nodes serving the reads, per read.
    server_cpu_us: Option<f64>,
    db_cpu_us: Option<f64>,
    client_cpu_us: Option<f64>,
}

/// Everything measured in one repeat.
#[derive(Default, Clone)]
struct Run {
    raw_1: f64,
    raw_n: f64,
    rule_n: f64,
    sqlite: Appends,
    postgres: Option<Appends>,
    /// Reads from the SQLite server, then from 1 and from `--nodes` PostgreSQL nodes.
    sqlite_reads: Option<Reads>,
    pg_reads_1: Option<Reads>,
    pg_reads_n: Option<Reads>,
}

/// What every phase of a repeat shares.
struct Load<'a> {
    args: &'a Args,
    threads: usize,
    ticks: Option<f64>,
    server_bin: PathBuf,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    leaves: Arc<Vec<Vec<u8>>>,
    /// Where each round of `leaves` ends: a round is fired once the one before it is in.
    round_ends: Vec<usize>,
    /// The operator key of the workflow mix, laid in each data directory.
    operator: Option<SigningKey>,
    /// Hex leaf hashes of the entries, for inclusion-proof reads.
    leaf_hashes: Arc<Vec<String>>,
    triples: Vec<Triple>,
}

impl Load<'_> {
    fn get_json(&self, url: String) -> anyhow::Result<serde_json::Value> {
        self.runtime.block_on(async {
            let response = self.http.get(&url).send().await?.error_for_status()?;
            anyhow::Ok(response.json().await?)
        })
    }

    /// The tree size `server` serves.
    fn tree_size(&self, server: &Server) -> anyhow::Result<u64> {
        self.get_json(format!("{}/api/v1/node", server.url))?["tree_size"]
            .as_u64()
            .context("GET /api/v1/node: no tree_size")
    }

    /// `count` more nodes on the PostgreSQL database named in `db_args`, joined to the
    /// log the node over `dir` created (its key, no bootstrap of their own), each with
    /// its data directory (removed after the node stops); `label` names the directories.
    fn join(
        &self,
        dir: &TempDir,
        db_args: &[String],
        label: &str,
        count: usize,
    ) -> anyhow::Result<Vec<(Server, TempDir)>> {
        let mut nodes = Vec::with_capacity(count);
        for k in 1..=count {
            let node_dir = TempDir::new(&format!("{label}-{k}"))?;
            std::fs::copy(
                dir.0.join(aidledger::keys::LOG_KEY_FILE),
                node_dir.0.join(aidledger::keys::LOG_KEY_FILE),
            )
            .context("copying the log key")?;
            let mut node_args = db_args.to_vec();
            node_args.push("--no-bootstrap".into());
            nodes.push((
                Server::start(&self.server_bin, &node_dir.0, &node_args)?,
                node_dir,
            ));
        }
        Ok(nodes)
    }

    /// Steps 2–6 of a repeat on SQLite (`db` none) or on the PostgreSQL database `db`;
    /// returns the appends and the read phases (1 node, then `--nodes` on PostgreSQL).
    fn backend(&self, r: usize, db: Option<&PgDatabase>) -> anyhow::Result<(Appends, Vec<Reads>)> {
        let (args, ticks) = (self.args, self.ticks);
        let label = if db.is_some() { "postgres" } else { "sqlite" };
        let mut run = Appends::default();
        let dir = TempDir::new(&format!("{r}-{label}-0"))?;
        if let Some(from) = args.from.as_deref().filter(|_| db.is_none()) {
            eprintln!("repeat {r}: copying {}", from.display());
            copy_dir(from, &dir.0)?;
        } else if let Some(operator) = &self.operator {
            aidledger::keys::write_private(
                &dir.0
                    .join(aidledger::services::bootstrap::OPERATOR_KEY_FILE),
                &serde_json::to_string(&aidledger::keys::author_key_file(operator))?,
            )?;
        }
        let db_args: Vec<String> = db
            .map(|db| vec!["--database-url".into(), db.url.clone()])
            .unwrap_or_default();
        let server = Server::start(&self.server_bin, &dir.0, &db_args)?;
        let url = server.url.clone();
        let vkey = self.get_json(format!("{url}/api/v1/log/key"))?["vkey"]
            .as_str()
            .context("GET /api/v1/log/key: no vkey")?
            .to_owned();
        eprintln!("repeat {r}: {label} server at {url}: GET baselines");
        let (seq, get_c) = self.runtime.block_on(async {
            let checkpoint = format!("{url}/checkpoint");
            let (h, c) = (self.http.clone(), checkpoint.clone());
            let seq = fire(2000, 1, 200, move |_| h.get(&c)).await?;
            let h = self.http.clone();
            let get_c = fire(args.get_requests, args.concurrency, 200, move |_| {
                h.get(&checkpoint)
            })
            .await?;
            anyhow::Ok((seq, get_c))
        })?;
        run.get_seq_p50 = seq.ms(0.50);
        run.get_seq_p99 = seq.ms(0.99);
        run.get_c_p50 = get_c.ms(0.50);
        run.get_c_p99 = get_c.ms(0.99);
        run.get_c_rate = get_c.per_second();

        eprintln!(
            "repeat {r}: {label}: POST {} entries, {} in flight",
            self.leaves.len(),
            args.concurrency
        );
        let initial_size = self.tree_size(&server)?;
        let appenders = match db {
            Some(_) if args.append_nodes > 1 => self.join(
                &dir,
                &db_args,
                &format!("{r}-{label}-append"),
                args.append_nodes - 1,
            )?,
            _ => vec![],
        };
        let posting: Vec<&Server> = std::iter::once(&server)
            .chain(appenders.iter().map(|(node, _)| node))
            .collect();
        let servers_cpu =
            || -> Option<f64> { posting.iter().map(|s| cpu_seconds(&s.pid(), ticks)).sum() };
        let server_cpu = servers_cpu();
        let client_cpu = cpu_seconds("self", ticks);
        let db_cpu = db.and_then(|db| db.backends_cpu(ticks));
        let submits: Arc<Vec<String>> = Arc::new(
            posting
                .iter()
                .map(|s| format!("{}/api/v1/entries", s.url))
                .collect(),
        );
        let post = self.runtime.block_on(async {
            let mut rounds = Vec::new();
            let mut start = 0;
            for &end in &self.round_ends {
                let (h, leaves, submits) =
                    (self.http.clone(), self.leaves.clone(), submits.clone());
                rounds.push(
                    fire(end - start, args.concurrency, 201, move |i| {
                        h.post(&submits[(start + i) % submits.len()])
                            .header("content-type", "application/json")
                            .body(leaves[start + i].clone())
                    })
                    .await?,
                );
                start = end;
            }
            anyhow::Ok(Phase::joined(rounds))
        })?;
        let n = post.latencies.len() as f64;
        let used = |before: Option<f64>, now: Option<f64>| Some((now? - before?) / n * 1e6);
        run.server_cpu_us = used(server_cpu, servers_cpu());
        drop(posting);
        drop(appenders);
        run.client_cpu_us = used(client_cpu, cpu_seconds("self", ticks));
        if let Some(db) = db {
            run.db_cpu_us = backends_used(&db_cpu, &db.backends_cpu(ticks)).map(|s| s / n * 1e6);
        }
        run.appends = post.per_second();
        run.post_p50 = post.ms(0.50);
        run.post_p99 = post.ms(0.99);
        run.post_max = post.ms(1.0);

        let mut reads = Vec::new();
        if args.reads > 0 {
            if let Some(db) = db {
                // What autovacuum would do to the new rows soon, done now, so that its
                // first pass falls in neither read phase (and statistics are current).
                db.vacuum_analyze()?;
            }
            let tree_size = self.tree_size(&server)?;
            wait_idle(&[server.pid()], ticks);
            eprintln!("repeat {r}: {label}: {} reads, 1 node", args.reads);
            reads.push(self.reads(&[&server], tree_size, db)?);
            if let Some(db) = db.filter(|_| args.nodes > 1) {
                let nodes =
                    self.join(&dir, &db_args, &format!("{r}-{label}-read"), args.nodes - 1)?;
                let nodes: Vec<&Server> = nodes.iter().map(|(node, _)| node).collect();
                let deadline = Instant::now() + Duration::from_secs(60);
                for node in &nodes {
                    while self.tree_size(node)? < tree_size {
                        ensure!(
                            Instant::now() < deadline,
                            "node {} did not catch up",
                            node.url
                        );
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                let all: Vec<&Server> = std::iter::once(&server).chain(nodes).collect();
                let pids: Vec<String> = all.iter().map(|s| s.pid()).collect();
                wait_idle(&pids, ticks);
                eprintln!(
                    "repeat {r}: {label}: {} reads, {} nodes",
                    args.reads,
                    all.len()
                );
                reads.push(self.reads(&all, tree_size, Some(db))?);
            }
        }
        drop(server);

        run.mean_batch = {
            let target: &str = db.map_or("", |db| &db.url);
            let sqlite = dir.0.join("aidledger.db");
            let batches = self.runtime.block_on(async {
                let store = match db {
                    Some(_) => ledger_node::storage::postgres::open_read_only(target).await?,
                    None => ledger_node::storage::sqlite::open_read_only(&sqlite).await?,
                };
                // One checkpoint per sequenced batch of the load.
                let checkpoints = store.checkpoints().await?;
                let of_the_load = checkpoints.iter().filter(|c| c.tree_size > initial_size);
                anyhow::Ok(of_the_load.count().max(1))
            })?;
            self.leaves.len() as f64 / batches as f64
        };

        eprintln!("repeat {r}: {label}: aidledger verify --db");
        run.raw_n_after = raw_verify_rate(&self.triples, self.threads, args.baseline_count);
        let start = Instant::now();
        let mut verify = Command::new(&self.server_bin);
        verify.arg("verify").arg("--db");
        match db {
            Some(db) => verify.arg(&db.url).args(["--vkey", &vkey]),
            None => verify.arg(dir.0.join("aidledger.db")),
        };
        let out = verify.stdin(Stdio::null()).output()?;
        run.verify_secs = start.elapsed().as_secs_f64();
        let said = String::from_utf8_lossy(&out.stdout);
        // The log may hold a few entries the server wrote itself (a bootstrap).
        let verified = said
            .split_once("OK: ")
            .and_then(|(_, rest)| rest.split_once(' '))
            .and_then(|(n, _)| n.parse::<usize>().ok())
            .filter(|&n| out.status.success() && n >= self.leaves.len());
        let Some(verified) = verified else {
            bail!(
                "verify --db ({label}) failed: {said}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run.verify_rate = verified as f64 / run.verify_secs;
        Ok((run, reads))
    }

    /// `--reads` requests of `--read-mix`, spread round-robin over `nodes`.
    fn reads(
        &self,
        nodes: &[&Server],
        tree_size: u64,
        db: Option<&PgDatabase>,
    ) -> anyhow::Result<Reads> {
        let (args, ticks) = (self.args, self.ticks);
        let (m, k) = (args.read_mix.len(), nodes.len());
        // Request i goes to node i % k; each node gets every kind in turn.
        let kind_of = move |i: usize| (i / k) % m;
        let urls: Vec<String> = (0..args.reads)
            .map(|i| {
                let kind = args.read_mix[kind_of(i)];
                let path = kind.path(i, &self.leaf_hashes, tree_size);
                format!("{}{path}", nodes[i % k].url)
            })
            .collect();
        let pids: Vec<String> = nodes.iter().map(|s| s.pid()).collect();
        let server_cpu = cpu_of(&pids, ticks);
        let client_cpu = cpu_seconds("self", ticks);
        let db_cpu = db.and_then(|db| db.backends_cpu(ticks));
        let h = self.http.clone();
        let phase =
            self.runtime
                .block_on(fire(args.reads, args.read_concurrency, 200, move |i| {
                    h.get(&urls[i])
                }))?;
        let n = phase.latencies.len() as f64;
        let used = |before: Option<f64>, now: Option<f64>| Some((now? - before?) / n * 1e6);
        Ok(Reads {
            rate: phase.per_second(),
            p50: phase.ms(0.50),
            p99: phase.ms(0.99),
            kind_p50: (0..m)
                .map(|kind| phase.ms_of(0.50, |i| kind_of(i) == kind))
                .collect(),
            server_cpu_us: used(server_cpu, cpu_of(&pids, ticks)),
            client_cpu_us: used(client_cpu, cpu_seconds("self", ticks)),
            db_cpu_us: db.and_then(|db| {
                backends_used(&db_cpu, &db.backends_cpu(ticks)).map(|s| s / n * 1e6)
            }),
        })
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// A table row: its label, what it shows of a run, and its decimals.
type TableRow<'a> = (&'a str, &'a dyn Fn(&Run) -> Option<f64>, usize);

fn table(title: &str, runs: &[Run], rows: &[TableRow]) {
    println!("\n{title}\n");
    let heads: Vec<String> = (1..=runs.len()).map(|i| format!("run {i}")).collect();
    println!("| | {} | median |", heads.join(" | "));
    println!("|---|{}---:|", "---:|".repeat(runs.len()));
    for (name, get, decimals) in rows {
        let values: Vec<Option<f64>> = runs.iter().map(get).collect();
        let cell = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.decimals$}"));
        let med = if values.iter().all(Option::is_some) {
            Some(median(values.iter().flatten().copied().collect()))
        } else {
            None
        };
        let cells: Vec<String> = values.into_iter().map(cell).collect();
        println!("| {name} | {} | **{}** |", cells.join(" | "), cell(med));
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let server_bin = match &args.server {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("executable directory")?
            .join(format!("aidledger{}", std::env::consts::EXE_SUFFIX)),
    };
    ensure!(
        server_bin.exists(),
        "{} not found: build it (`cargo build --release --bins`) or pass --server",
        server_bin.display()
    );
    ensure!(!args.read_mix.is_empty(), "--read-mix is empty");

    let (entries, round_ends, operator) = match args.mix {
        Mix::Workflow => {
            eprintln!(
                "signing a sample aid effort of {} entries in rounds of {}",
                args.entries, args.round
            );
            ensure!(args.round > 0, "--round must be at least 1");
            let operator = match &args.from {
                Some(from) => aidledger::keys::read_author_key(
                    &from.join(aidledger::services::bootstrap::OPERATOR_KEY_FILE),
                )?,
                None => SigningKey::from_bytes(&StdRng::seed_from_u64(args.seed).gen()),
            };
            let (entries, ends) = presign_workflow(args.entries, args.round, &operator, args.seed)?;
            (entries, ends, Some(operator))
        }
        Mix::Offers => {
            eprintln!(
                "signing {} sample offers with {} keys on {threads} threads",
                args.entries, args.keys
            );
            let entries = presign(args.entries, args.keys, threads, args.seed)?;
            let all = vec![entries.len()];
            (entries, all, None)
        }
    };
    let leaves: Arc<Vec<Vec<u8>>> = Arc::new(entries.iter().map(|e| e.leaf().to_vec()).collect());
    let leaf_hashes = Arc::new(
        entries
            .iter()
            .map(|e| ledger::hex32::encode(&e.leaf_hash()))
            .collect(),
    );
    let triples = entries
        .iter()
        .take(4096)
        .map(triple)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mean_leaf = leaves.iter().map(Vec::len).sum::<usize>() / leaves.len().max(1);
    drop(entries);

    let load = Load {
        args: &args,
        threads,
        ticks: clock_ticks(),
        server_bin,
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads)
            .enable_all()
            .build()?,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency.max(args.read_concurrency))
            .build()?,
        leaves,
        round_ends,
        operator,
        leaf_hashes,
        triples,
    };

    let mut runs = Vec::new();
    for r in 1..=args.repeat {
        let mut run = Run::default();
        eprintln!("repeat {r}/{}: baselines", args.repeat);
        run.raw_1 = raw_verify_rate(&load.triples, 1, args.baseline_count);
        run.raw_n = raw_verify_rate(&load.triples, threads, args.baseline_count);
        run.rule_n = rule_rate(&load.leaves, threads, args.baseline_count);

        let (sqlite, mut reads) = load.backend(r, None)?;
        run.sqlite = sqlite;
        run.sqlite_reads = reads.pop();
        if let Some(admin) = &args.postgres {
            let name = format!("aidledger_loadgen_{}_{r}", std::process::id());
            let db = PgDatabase::create(admin, name)?;
            let (postgres, reads) = load.backend(r, Some(&db))?;
            run.postgres = Some(postgres);
            let mut reads = reads.into_iter();
            run.pg_reads_1 = reads.next();
            run.pg_reads_n = reads.next();
        }
        runs.push(run);
    }

    println!(
        "\nloadgen: {} entries of {} (mean leaf {mean_leaf} bytes), {} in flight, \
         {threads} baseline threads, {} client threads, {} repeats",
        args.entries,
        match args.mix {
            Mix::Workflow => format!("the sample aid effort in rounds of {}", args.round),
            Mix::Offers => format!("offers by {} keys", args.keys),
        },
        args.concurrency,
        args.client_threads,
        args.repeat
    );
    let per_cpu = |r: &Run| r.sqlite.server_cpu_us.map(|us| 1e6 / us / r.raw_1);
    table(
        "(a) sequenced appends over HTTP vs raw ed25519 verify_strict",
        &runs,
        &[
            ("raw verify_strict, 1 thread (/s)", &|r| Some(r.raw_1), 0),
            (
                &format!("raw verify_strict, {threads} threads (/s)"),
                &|r| Some(r.raw_n),
                0,
            ),
            (
                &format!("validity rule from_leaf, {threads} threads (/s)"),
                &|r| Some(r.rule_n),
                0,
            ),
            (
                "HTTP appends, sequenced (/s)",
                &|r| Some(r.sqlite.appends),
                0,
            ),
            (
                &format!("**appends / raw verify, {threads} threads**"),
                &|r| Some(r.sqlite.appends / r.raw_n),
                3,
            ),
            (
                "appends / raw verify, 1 thread",
                &|r| Some(r.sqlite.appends / r.raw_1),
                3,
            ),
            (
                "appends / validity rule, all threads",
                &|r| Some(r.sqlite.appends / r.rule_n),
                3,
            ),
            (
                "mean entries per sequenced batch",
                &|r| Some(r.sqlite.mean_batch),
                1,
            ),
            ("server CPU per append (µs)", &|r| r.sqlite.server_cpu_us, 1),
            (
                "load generator CPU per append (µs)",
                &|r| r.sqlite.client_cpu_us,
                1,
            ),
            (
                "appends per server CPU-second / raw verify per CPU-second",
                &per_cpu,
                3,
            ),
        ],
    );
    table(
        &format!(
            "(b) latency until sequenced and committed, {} in flight (ms)",
            args.concurrency
        ),
        &runs,
        &[
            ("POST entry p50", &|r| Some(r.sqlite.post_p50), 2),
            ("POST entry p99", &|r| Some(r.sqlite.post_p99), 2),
            ("POST entry max", &|r| Some(r.sqlite.post_max), 2),
            (
                &format!("GET /checkpoint p50, {} in flight", args.concurrency),
                &|r| Some(r.sqlite.get_c_p50),
                2,
            ),
            (
                &format!("GET /checkpoint p99, {} in flight", args.concurrency),
                &|r| Some(r.sqlite.get_c_p99),
                2,
            ),
            ("GET /checkpoint (/s)", &|r| Some(r.sqlite.get_c_rate), 0),
            (
                "GET /checkpoint p50, 1 in flight",
                &|r| Some(r.sqlite.get_seq_p50),
                3,
            ),
            (
                "GET /checkpoint p99, 1 in flight",
                &|r| Some(r.sqlite.get_seq_p99),
                3,
            ),
            (
                "**POST p99 / GET p99, same concurrency**",
                &|r| Some(r.sqlite.post_p99 / r.sqlite.get_c_p99),
                2,
            ),
            (
                "POST p50 / GET p50, same concurrency",
                &|r| Some(r.sqlite.post_p50 / r.sqlite.get_c_p50),
                2,
            ),
        ],
    );
    table(
        "(d) offline audit `aidledger verify --db` vs raw verify_strict",
        &runs,
        &[
            (
                "verify --db wall time (s)",
                &|r| Some(r.sqlite.verify_secs),
                3,
            ),
            (
                "verify --db (entries/s)",
                &|r| Some(r.sqlite.verify_rate),
                0,
            ),
            (
                &format!("raw verify_strict, {threads} threads (/s)"),
                &|r| Some(r.sqlite.raw_n_after),
                0,
            ),
            (
                &format!("**verify --db / raw verify, {threads} threads**"),
                &|r| Some(r.sqlite.verify_rate / r.sqlite.raw_n_after),
                3,
            ),
            (
                &format!("verify --db / validity rule, {threads} threads"),
                &|r| Some(r.sqlite.verify_rate / r.rule_n),
                3,
            ),
        ],
    );
    if args.postgres.is_some() {
        postgres_tables(&args, threads, &runs);
    }
    Ok(())
}

/// Section (h): the same load on PostgreSQL against SQLite, and reads on 1 and on
/// `--nodes` nodes.
fn postgres_tables(args: &Args, threads: usize, runs: &[Run]) {
    let pg = |f: fn(&Appends) -> f64| move |r: &Run| r.postgres.as_ref().map(f);
    table(
        &format!(
            "(h) sequenced appends over HTTP, PostgreSQL vs SQLite, same repeat, {} in flight",
            args.concurrency
        ),
        runs,
        &[
            ("SQLite: HTTP appends (/s)", &|r| Some(r.sqlite.appends), 0),
            (
                &format!(
                    "PostgreSQL: HTTP appends (/s), posted to {} node(s)",
                    args.append_nodes
                ),
                &pg(|p| p.appends),
                0,
            ),
            (
                "**PostgreSQL / SQLite appends**",
                &|r| Some(r.postgres.as_ref()?.appends / r.sqlite.appends),
                3,
            ),
            (
                &format!("PostgreSQL appends / raw verify, {threads} threads"),
                &|r| Some(r.postgres.as_ref()?.appends / r.raw_n),
                3,
            ),
            (
                "SQLite: mean entries per batch",
                &|r| Some(r.sqlite.mean_batch),
                1,
            ),
            (
                "PostgreSQL: mean entries per batch",
                &pg(|p| p.mean_batch),
                1,
            ),
            (
                "SQLite: server CPU per append (µs)",
                &|r| r.sqlite.server_cpu_us,
                1,
            ),
            (
                "PostgreSQL: server CPU per append (µs)",
                &|r| r.postgres.as_ref()?.server_cpu_us,
                1,
            ),
            (
                "PostgreSQL: its backends' CPU per append (µs)",
                &|r| r.postgres.as_ref()?.db_cpu_us,
                1,
            ),
            ("SQLite: POST p50 (ms)", &|r| Some(r.sqlite.post_p50), 2),
            ("SQLite: POST p99 (ms)", &|r| Some(r.sqlite.post_p99), 2),
            ("PostgreSQL: POST p50 (ms)", &pg(|p| p.post_p50), 2),
            ("PostgreSQL: POST p99 (ms)", &pg(|p| p.post_p99), 2),
            (
                "**PostgreSQL / SQLite POST p99**",
                &|r| Some(r.postgres.as_ref()?.post_p99 / r.sqlite.post_p99),
                2,
            ),
            (
                "PostgreSQL: GET /checkpoint p99, same concurrency (ms)",
                &pg(|p| p.get_c_p99),
                2,
            ),
            (
                "SQLite: verify --db (entries/s)",
                &|r| Some(r.sqlite.verify_rate),
                0,
            ),
            (
                "PostgreSQL: verify --db (entries/s)",
                &pg(|p| p.verify_rate),
                0,
            ),
            (
                "PostgreSQL / SQLite verify --db",
                &|r| Some(r.postgres.as_ref()?.verify_rate / r.sqlite.verify_rate),
                3,
            ),
        ],
    );
    if args.reads == 0 {
        return;
    }
    let n = args.nodes;
    let mix: Vec<String> = args
        .read_mix
        .iter()
        .map(|k| format!("{k:?}").to_lowercase())
        .collect();
    let sq = |f: fn(&Reads) -> f64| move |r: &Run| r.sqlite_reads.as_ref().map(f);
    let p1 = |f: fn(&Reads) -> f64| move |r: &Run| r.pg_reads_1.as_ref().map(f);
    let pn = |f: fn(&Reads) -> f64| move |r: &Run| r.pg_reads_n.as_ref().map(f);
    table(
        &format!(
            "(h) reads ({} of {}, in turn), {} in flight: 1 node vs {n} nodes on one PostgreSQL database",
            args.reads,
            mix.join(", "),
            args.read_concurrency
        ),
        runs,
        &[
            ("SQLite, 1 node: reads/s", &sq(|x| x.rate), 0),
            ("PostgreSQL, 1 node: reads/s", &p1(|x| x.rate), 0),
            (&format!("PostgreSQL, {n} nodes: reads/s"), &pn(|x| x.rate), 0),
            (
                &format!("**PostgreSQL, {n} nodes / 1 node, reads/s**"),
                &|r| Some(r.pg_reads_n.as_ref()?.rate / r.pg_reads_1.as_ref()?.rate),
                3,
            ),
            (
                "PostgreSQL / SQLite, 1 node, reads/s",
                &|r| Some(r.pg_reads_1.as_ref()?.rate / r.sqlite_reads.as_ref()?.rate),
                3,
            ),
            ("SQLite, 1 node: p50 (ms)", &sq(|x| x.p50), 2),
            ("SQLite, 1 node: p99 (ms)", &sq(|x| x.p99), 2),
            ("PostgreSQL, 1 node: p50 (ms)", &p1(|x| x.p50), 2),
            ("PostgreSQL, 1 node: p99 (ms)", &p1(|x| x.p99), 2),
            (&format!("PostgreSQL, {n} nodes: p50 (ms)"), &pn(|x| x.p50), 2),
            (&format!("PostgreSQL, {n} nodes: p99 (ms)"), &pn(|x| x.p99), 2),
            (
                &format!("PostgreSQL, {n} nodes / 1 node, p99"),
                &|r| Some(r.pg_reads_n.as_ref()?.p99 / r.pg_reads_1.as_ref()?.p99),
                2,
            ),
            (
                "SQLite, 1 node: server CPU per read (µs)",
                &|r| r.sqlite_reads.as_ref()?.server_cpu_us,
                1,
            ),
            (
                "PostgreSQL, 1 node: server CPU per read (µs)",
                &|r| r.pg_reads_1.as_ref()?.server_cpu_us,
                1,
            ),
            (
                &format!("PostgreSQL, {n} nodes: servers' CPU per read (µs)"),
                &|r| r.pg_reads_n.as_ref()?.server_cpu_us,
                1,
            ),
            (
                "PostgreSQL, 1 node: backends' CPU per read (µs)",
                &|r| r.pg_reads_1.as_ref()?.db_cpu_us,
                1,
            ),
            (
                &format!("PostgreSQL, {n} nodes: backends' CPU per read (µs)"),
                &|r| r.pg_reads_n.as_ref()?.db_cpu_us,
                1,
            ),
            (
                &format!("PostgreSQL, {n} nodes: load generator CPU per read (µs)"),
                &|r| r.pg_reads_n.as_ref()?.client_cpu_us,
                1,
            ),
        ],
    );
    // p50 of each kind of read, by configuration.
    type Column = Box<dyn Fn(&Run) -> Option<f64>>;
    let mut rows: Vec<(String, Column)> = Vec::new();
    for (kind, name) in mix.iter().enumerate() {
        rows.push((
            format!("{name}: SQLite, 1 node"),
            Box::new(move |r: &Run| Some(*r.sqlite_reads.as_ref()?.kind_p50.get(kind)?)),
        ));
        rows.push((
            format!("{name}: PostgreSQL, 1 node"),
            Box::new(move |r: &Run| Some(*r.pg_reads_1.as_ref()?.kind_p50.get(kind)?)),
        ));
        rows.push((
            format!("{name}: PostgreSQL, {n} nodes"),
            Box::new(move |r: &Run| Some(*r.pg_reads_n.as_ref()?.kind_p50.get(kind)?)),
        ));
    }
    let rows: Vec<TableRow> = rows
        .iter()
        .map(|(name, f)| (name.as_str(), &**f, 2))
        .collect();
    table("(h) read p50 by kind (ms)", runs, &rows);
}
