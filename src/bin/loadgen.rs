//! Load generator for BENCHMARKS.md: sequenced appends over HTTP and offline audits,
//! each reported as a ratio against a baseline measured in the same run.
//!
//! Each repeat, on a fresh temp data directory:
//! 1. baselines in-process, each the best of 3 measurements: raw ed25519
//!    `verify_strict` per second over the exact (key, message, signature) triples the
//!    server will check, on 1 thread and on all cores, and the whole validity rule
//!    (`VerifiedEntry::from_leaf`) on all cores;
//! 2. starts `aidledger serve` on 127.0.0.1:0;
//! 3. trivial GET /checkpoint round trips, one in flight and then at the load's
//!    concurrency (the latency baselines; they also open the connections);
//! 4. fires the pre-signed entries at POST /api/v1/entries with `--concurrency`
//!    requests in flight, recording each request's latency (until its 201, which the
//!    server sends only once the entry is sequenced and committed);
//! 5. stops the server, measures raw `verify_strict` on all cores again, and times
//!    `aidledger verify --db` on what the server wrote.
//!
//! Then it prints one markdown table per figure: each repeat and the median.
//!
//! Build and run (release, separate target dir):
//! `CARGO_TARGET_DIR=target-bench cargo build --release --bins &&
//!  target-bench/release/loadgen`

use aidledger::sample::sample_entry;
use anyhow::{bail, ensure, Context};
use clap::Parser;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use ledger::entry::{canonical_json, UnsignedEntry, VerifiedEntry, SIGNATURE_DOMAIN};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
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
    /// Author keys the entries are signed with.
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
    /// Seed of the sample entries and keys.
    #[arg(long, default_value_t = 1)]
    seed: u64,
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
    fn new(repeat: usize) -> anyhow::Result<TempDir> {
        let path =
            std::env::temp_dir().join(format!("aidledger-loadgen-{}-{repeat}", std::process::id()));
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(binary: &Path, data_dir: &Path) -> anyhow::Result<Server> {
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            // A load test from one address and a few keys must not be rate limited
            // (environment variables, which versions without limits ignore).
            .env("AIDLEDGER_RATE_PER_IP", "0")
            .env("AIDLEDGER_RATE_PER_KEY", "0")
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

/// Latencies of one phase and its wall time.
struct Phase {
    latencies: Vec<Duration>,
    wall: Duration,
}

impl Phase {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    /// The q-quantile (nearest rank) in milliseconds.
    fn ms(&mut self, q: f64) -> f64 {
        self.latencies.sort_unstable();
        let rank = ((q * self.latencies.len() as f64).ceil() as usize).max(1);
        self.latencies[rank - 1].as_secs_f64() * 1e3
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
                latencies.push(sent.elapsed());
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

/// Everything measured in one repeat.
#[derive(Default, Clone)]
struct Run {
    raw_1: f64,
    raw_n: f64,
    rule_n: f64,
    appends: f64,
    server_cpu_us: Option<f64>,
    client_cpu_us: Option<f64>,
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
    let ticks = clock_ticks();

    eprintln!(
        "signing {} sample entries with {} keys on {threads} threads",
        args.entries, args.keys
    );
    let entries = presign(args.entries, args.keys, threads, args.seed)?;
    let leaves: Arc<Vec<Vec<u8>>> = Arc::new(entries.iter().map(|e| e.leaf().to_vec()).collect());
    let triples = entries
        .iter()
        .take(4096)
        .map(triple)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mean_leaf = leaves.iter().map(Vec::len).sum::<usize>() / leaves.len().max(1);
    drop(entries);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;

    let mut runs = Vec::new();
    for r in 1..=args.repeat {
        let mut run = Run::default();
        eprintln!("repeat {r}/{}: baselines", args.repeat);
        run.raw_1 = raw_verify_rate(&triples, 1, args.baseline_count);
        run.raw_n = raw_verify_rate(&triples, threads, args.baseline_count);
        run.rule_n = rule_rate(&leaves, threads, args.baseline_count);

        let dir = TempDir::new(r)?;
        let server = Server::start(&server_bin, &dir.0)?;
        let url = server.url.clone();
        eprintln!("repeat {r}: server at {url}: GET baselines");
        let (mut seq, mut get_c) = runtime.block_on(async {
            let checkpoint = format!("{url}/checkpoint");
            let (h, c) = (http.clone(), checkpoint.clone());
            let seq = fire(2000, 1, 200, move |_| h.get(&c)).await?;
            let h = http.clone();
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
            "repeat {r}: POST {} entries, {} in flight",
            leaves.len(),
            args.concurrency
        );
        let server_cpu = cpu_seconds(&server.pid(), ticks);
        let client_cpu = cpu_seconds("self", ticks);
        let mut post = runtime.block_on({
            let (h, leaves) = (http.clone(), leaves.clone());
            let submit = format!("{url}/api/v1/entries");
            fire(leaves.len(), args.concurrency, 201, move |i| {
                h.post(&submit)
                    .header("content-type", "application/json")
                    .body(leaves[i].clone())
            })
        })?;
        let n = post.latencies.len() as f64;
        let used = |before: Option<f64>, now: Option<f64>| Some((now? - before?) / n * 1e6);
        run.server_cpu_us = used(server_cpu, cpu_seconds(&server.pid(), ticks));
        run.client_cpu_us = used(client_cpu, cpu_seconds("self", ticks));
        run.appends = post.per_second();
        run.post_p50 = post.ms(0.50);
        run.post_p99 = post.ms(0.99);
        run.post_max = post.ms(1.0);
        drop(server);

        let db = dir.0.join("aidledger.db");
        let batches = runtime.block_on(async {
            let store = ledger::storage::sqlite::open_read_only(&db).await?;
            // One checkpoint per sequenced batch, plus the empty log's.
            anyhow::Ok(store.checkpoints().await?.len().saturating_sub(1).max(1))
        })?;
        run.mean_batch = leaves.len() as f64 / batches as f64;

        eprintln!("repeat {r}: aidledger verify --db");
        run.raw_n_after = raw_verify_rate(&triples, threads, args.baseline_count);
        let start = Instant::now();
        let out = Command::new(&server_bin)
            .arg("verify")
            .arg("--db")
            .arg(&db)
            .stdin(Stdio::null())
            .output()?;
        run.verify_secs = start.elapsed().as_secs_f64();
        let said = String::from_utf8_lossy(&out.stdout);
        // The log may hold a few entries the server wrote itself (a bootstrap).
        let verified = said
            .split_once("OK: ")
            .and_then(|(_, rest)| rest.split_once(' '))
            .and_then(|(n, _)| n.parse::<usize>().ok())
            .filter(|&n| out.status.success() && n >= leaves.len());
        let Some(verified) = verified else {
            bail!(
                "verify --db failed: {said}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run.verify_rate = verified as f64 / run.verify_secs;
        runs.push(run);
    }

    println!(
        "\nloadgen: {} entries (mean leaf {mean_leaf} bytes, {} keys), {} in flight, \
         {threads} baseline threads, {} client threads, {} repeats",
        args.entries, args.keys, args.concurrency, args.client_threads, args.repeat
    );
    let per_cpu = |r: &Run| r.server_cpu_us.map(|us| 1e6 / us / r.raw_1);
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
            ("HTTP appends, sequenced (/s)", &|r| Some(r.appends), 0),
            (
                &format!("**appends / raw verify, {threads} threads**"),
                &|r| Some(r.appends / r.raw_n),
                3,
            ),
            (
                "appends / raw verify, 1 thread",
                &|r| Some(r.appends / r.raw_1),
                3,
            ),
            (
                "appends / validity rule, all threads",
                &|r| Some(r.appends / r.rule_n),
                3,
            ),
            (
                "mean entries per sequenced batch",
                &|r| Some(r.mean_batch),
                1,
            ),
            ("server CPU per append (µs)", &|r| r.server_cpu_us, 1),
            (
                "load generator CPU per append (µs)",
                &|r| r.client_cpu_us,
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
            ("POST entry p50", &|r| Some(r.post_p50), 2),
            ("POST entry p99", &|r| Some(r.post_p99), 2),
            ("POST entry max", &|r| Some(r.post_max), 2),
            (
                &format!("GET /checkpoint p50, {} in flight", args.concurrency),
                &|r| Some(r.get_c_p50),
                2,
            ),
            (
                &format!("GET /checkpoint p99, {} in flight", args.concurrency),
                &|r| Some(r.get_c_p99),
                2,
            ),
            ("GET /checkpoint (/s)", &|r| Some(r.get_c_rate), 0),
            (
                "GET /checkpoint p50, 1 in flight",
                &|r| Some(r.get_seq_p50),
                3,
            ),
            (
                "GET /checkpoint p99, 1 in flight",
                &|r| Some(r.get_seq_p99),
                3,
            ),
            (
                "**POST p99 / GET p99, same concurrency**",
                &|r| Some(r.post_p99 / r.get_c_p99),
                2,
            ),
            (
                "POST p50 / GET p50, same concurrency",
                &|r| Some(r.post_p50 / r.get_c_p50),
                2,
            ),
        ],
    );
    table(
        "(d) offline audit `aidledger verify --db` vs raw verify_strict",
        &runs,
        &[
            ("verify --db wall time (s)", &|r| Some(r.verify_secs), 3),
            ("verify --db (entries/s)", &|r| Some(r.verify_rate), 0),
            (
                &format!("raw verify_strict, {threads} threads (/s)"),
                &|r| Some(r.raw_n_after),
                0,
            ),
            (
                &format!("**verify --db / raw verify, {threads} threads**"),
                &|r| Some(r.verify_rate / r.raw_n_after),
                3,
            ),
            (
                &format!("verify --db / validity rule, {threads} threads"),
                &|r| Some(r.verify_rate / r.rule_n),
                3,
            ),
        ],
    );
    Ok(())
}
