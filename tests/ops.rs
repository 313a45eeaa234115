//! What an operator watches and sets: `/metrics`, `/healthz`, `/readyz`, request ids,
//! the log's format, and the settings file with its layering under the environment
//! and flags.

use crate::common::process::{self, path_str, Server};
use crate::common::{self, TestInstance};
use aidledger::commands::settings::Settings;
use aidledger::data_dir::{DATABASE_FILE, INDEX_DIR};
use aidledger::server::limits::Limits;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// The samples of a Prometheus text answer: series (name with labels) → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(url: &str) -> HashMap<String, f64> {
    let r = common::http()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    samples(&r.text().await.unwrap())
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}

/// The size line of the instance's checkpoint.
async fn tree_size(instance: &TestInstance) -> f64 {
    let note = instance.client.checkpoint().await.unwrap();
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// Scrapes until the search index covers the whole served log (it follows the log a
/// moment behind); gives up after a minute.
async fn scrape_when_indexed(url: &str) -> HashMap<String, f64> {
    for _ in 0..600 {
        let s = scrape(url).await;
        if value(&s, "aidledger_search_index_lag_entries") == 0.0 {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the search index did not catch up with the log");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_follow_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_configured(dir.path(), |c| {
        c.limits = Limits {
            per_ip_per_minute: 0,
            per_key_per_minute: 2,
        };
    })
    .await;
    let url = &instance.url;
    let key = common::author(1);
    common::post_entry(url, common::offer(&key, "one")).await;
    common::post_entry(url, common::offer(&key, "two")).await;
    let refused = common::http()
        .post(format!("{url}/api/v1/entries"))
        .body(common::offer(&key, "three"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let garbage = common::http()
        .post(format!("{url}/api/v1/entries"))
        .body("not an entry")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let tile = common::http()
        .get(format!("{url}/tile/0/000.p/3"))
        .send()
        .await
        .unwrap();
    assert_eq!(tile.status(), 200);

    let first = scrape_when_indexed(url).await;
    let posted = |status: u16| {
        format!(
            "aidledger_http_requests_total{{method=\"POST\",route=\"/api/v1/entries\",status=\"{status}\"}}"
        )
    };
    assert_eq!(value(&first, &posted(201)), 2.0);
    assert_eq!(value(&first, &posted(429)), 1.0);
    assert_eq!(value(&first, &posted(400)), 1.0);
    // Labelled by the route's template, never by the path asked for.
    assert_eq!(
        value(
            &first,
            "aidledger_http_requests_total{method=\"GET\",route=\"/tile/{*path}\",status=\"200\"}"
        ),
        1.0
    );
    assert!(first.keys().all(|s| !s.contains("000.p")), "{first:#?}");
    assert_eq!(
        value(
            &first,
            "aidledger_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/entries\"}"
        ),
        4.0
    );
    assert_eq!(
        value(&first, "aidledger_rate_limit_refusals_total{limit=\"key\"}"),
        1.0
    );
    assert_eq!(
        value(&first, "aidledger_errors_total{class=\"rate_limited\"}"),
        1.0
    );
    assert_eq!(
        value(&first, "aidledger_errors_total{class=\"invalid_entry\"}"),
        1.0
    );
    // The log: two offers and its first clock reading.
    assert_eq!(
        value(&first, "aidledger_tree_size"),
        tree_size(&instance).await
    );
    assert_eq!(value(&first, "aidledger_tree_size"), 3.0);
    // Only the two admitted submissions reached the sequencer.
    assert_eq!(
        value(&first, "aidledger_sequencer_batch_submissions_sum"),
        2.0
    );
    let batches = value(&first, "aidledger_sequencer_batch_submissions_count");
    assert!((1.0..=2.0).contains(&batches), "{batches} batches");
    assert_eq!(
        value(&first, "aidledger_sequencer_commit_seconds_count"),
        batches
    );
    assert_eq!(
        value(&first, "aidledger_submission_to_checkpoint_seconds_count"),
        2.0
    );
    assert!(value(&first, "aidledger_submission_to_checkpoint_seconds_sum") > 0.0);
    assert_eq!(value(&first, "aidledger_submissions_waiting"), 0.0);

    common::post_entry(url, common::offer(&common::author(2), "four")).await;
    let second = scrape_when_indexed(url).await;
    assert_eq!(value(&second, &posted(201)), 3.0);
    assert_eq!(value(&second, "aidledger_tree_size"), 4.0);
    let scrapes = "aidledger_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}";
    assert!(value(&second, scrapes) > value(&first, scrapes));
    instance.stop().await;
}

#[tokio::test]
async fn several_servers_in_one_process_keep_their_own_counts() {
    let a = TestInstance::start().await;
    let b = TestInstance::start().await;
    common::post_entry(&a.url, common::offer(&common::author(1), "a")).await;
    let on_b = scrape(&b.url).await;
    assert!(
        on_b.keys()
            .all(|s| !s.contains("route=\"/api/v1/entries\"")),
        "{on_b:#?}"
    );
    assert_eq!(value(&on_b, "aidledger_tree_size"), 0.0);
    a.stop().await;
    b.stop().await;
}

async fn get_json(url: &str) -> (u16, Value) {
    let r = common::http().get(url).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn readiness_names_the_check_that_fails() {
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_in(dir.path()).await;
    common::post_entry(&instance.url, common::offer(&common::author(1), "one")).await;
    let (status, up) = get_json(&format!("{}/healthz", instance.url)).await;
    assert_eq!((status, up), (200, serde_json::json!({"status": "up"})));
    let (status, ready) = get_json(&format!("{}/readyz", instance.url)).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready");
    let names: Vec<&str> = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["ok"], true, "{c}");
            c["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(names, ["database", "log_head", "search_index"]);
    scrape_when_indexed(&instance.url).await;
    instance.stop().await;

    // The index's writer lock held elsewhere: the server cannot index what follows.
    let blocker = indexer::SearchIndex::open_or_create(dir.path().join(INDEX_DIR)).unwrap();
    let covered = blocker
        .covered_through()
        .unwrap()
        .expect("the index covers the log");
    blocker.apply(&[], &[], covered).unwrap();
    let instance = TestInstance::start_configured(dir.path(), |c| {
        c.readiness.max_index_lag = 0;
    })
    .await;
    common::post_entry(&instance.url, common::offer(&common::author(1), "two")).await;
    let (status, not_ready) = get_json(&format!("{}/readyz", instance.url)).await;
    assert_eq!(status, 503, "{not_ready}");
    let message = not_ready["error"].as_str().unwrap();
    assert!(message.contains("search_index"), "{message}");
    assert!(!message.contains("database"), "{message}");
    let failing: Vec<&str> = not_ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["search_index"]);
    // Still alive, though not ready.
    let (status, _) = get_json(&format!("{}/healthz", instance.url)).await;
    assert_eq!(status, 200);

    // Released, the index catches up (the server retries each second) and it is ready.
    drop(blocker);
    let mut status = 0;
    for _ in 0..600 {
        status = get_json(&format!("{}/readyz", instance.url)).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
    instance.stop().await;
}

#[tokio::test]
async fn readiness_fails_while_the_database_refuses_connections() {
    if !common::on_postgres() {
        eprintln!("PostgreSQL only: an open SQLite file cannot be taken from the process");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_in(dir.path()).await;
    let readyz = format!("{}/readyz", instance.url);
    assert_eq!(get_json(&readyz).await.0, 200);

    let url = common::database_url(dir.path()).await.unwrap();
    let name = url.rsplit('/').next().unwrap();
    let admin = sqlx::AnyPool::connect(&std::env::var(common::POSTGRES_ENV).unwrap())
        .await
        .unwrap();
    let allow = |yes: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {yes}");
    sqlx::query(&allow(false)).execute(&admin).await.unwrap();
    sqlx::query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .execute(&admin)
    .await
    .unwrap();
    let (status, not_ready) = get_json(&readyz).await;
    sqlx::query(&allow(true)).execute(&admin).await.unwrap();
    assert_eq!(status, 503, "{not_ready}");
    let failing: Vec<&str> = not_ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(failing.starts_with(&["database"]), "{not_ready}");
    assert!(
        not_ready["error"]
            .as_str()
            .unwrap()
            .starts_with("not ready: database: "),
        "{not_ready}"
    );

    // Connections allowed again, the pool reconnects and the node is ready.
    let mut status = 0;
    for _ in 0..600 {
        status = get_json(&readyz).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
    admin.close().await;
    instance.stop().await;
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let instance = TestInstance::start().await;
    let ask = |id: Option<&'static str>| {
        let mut request = common::http().get(format!("{}/checkpoint", instance.url));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let made = ask(None).await.unwrap();
    let made = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 36, "a UUID: {made}");
    let kept = ask(Some("proxy-42.a_b")).await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "proxy-42.a_b");
    // Not a short token: replaced rather than logged or echoed.
    let replaced = ask(Some("has space")).await.unwrap();
    let replaced = replaced.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(replaced, "has space");
    assert_eq!(replaced.len(), 36);
    instance.stop().await;
}

#[test]
fn json_logs_are_one_object_a_line_and_no_log_file_holds_escape_codes() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database_url = runtime.block_on(common::database_url(dir.path()));
    for (format, path) in [("json", "json.log"), ("text", "text.log")] {
        let log = dir.path().join(path);
        let mut server = Server::spawn_with(
            dir.path(),
            database_url.as_deref(),
            &["--log-format", format],
            log.clone(),
            |command| {
                command.env("RUST_LOG", "info,aidledger=debug");
            },
        );
        let answer = runtime
            .block_on(
                common::http()
                    .get(format!("{}/checkpoint", server.url))
                    .header("x-request-id", "ops-log-test")
                    .send(),
            )
            .unwrap();
        assert_eq!(answer.status(), 200);
        // The access line is written once the answer's head has gone: wait for it.
        let mut text = String::new();
        for _ in 0..100 {
            text = std::fs::read_to_string(&log).unwrap();
            if text.contains("ops-log-test") {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        server.kill();
        assert!(!text.is_empty());
        assert!(!text.contains('\u{1b}'), "{format}: {text}");
        if format == "json" {
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
            assert!(lines.iter().any(|l| l["fields"]["message"] == "serving"));
            let answered = lines
                .iter()
                .find(|l| l["fields"]["message"] == "answered")
                .unwrap_or_else(|| panic!("no access line in {text}"));
            assert_eq!(answered["span"]["id"], "ops-log-test");
            assert_eq!(answered["span"]["route"], "/checkpoint");
            assert_eq!(answered["fields"]["status"], 200);
        } else {
            assert!(text.contains("ops-log-test"), "{text}");
        }
    }
}

/// `aidledger config` with `args` and `env`; its stdout, or its stderr if it failed.
fn config(args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let mut all = vec!["config"];
    all.extend(args);
    let out = process::command(&all)
        .env_remove("AIDLEDGER_QUORUM")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8(out.stderr).unwrap())
    }
}

fn parsed(toml_text: &str) -> Settings {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}: {toml_text}"))
}

#[test]
fn settings_come_from_flags_then_environment_then_file_then_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("aidledger.toml");
    std::fs::write(
        &file,
        "quorum = 5\nretention_days = 30\nlog_format = \"json\"\n",
    )
    .unwrap();
    let file = path_str(&file);

    let defaults = parsed(&config(&[], &[]).unwrap());
    assert_eq!(defaults, Settings::default());

    let from_file = parsed(&config(&["--config", file], &[]).unwrap());
    assert_eq!((from_file.quorum, from_file.retention_days), (5, 30));
    assert_eq!(from_file.post_quorum, Settings::default().post_quorum);
    // The file may also be named by the environment.
    assert_eq!(
        parsed(&config(&[], &[("AIDLEDGER_CONFIG", file)]).unwrap()),
        from_file
    );

    let env = [("AIDLEDGER_QUORUM", "6")];
    let from_env = parsed(&config(&["--config", file], &env).unwrap());
    assert_eq!((from_env.quorum, from_env.retention_days), (6, 30));

    let from_flag = parsed(&config(&["--config", file, "--quorum", "7"], &env).unwrap());
    assert_eq!((from_flag.quorum, from_flag.retention_days), (7, 30));
    // A flag not given leaves the file's value, even where the file's is not the default.
    assert_eq!(from_flag.log_format, aidledger::server::LogFormat::Json);
}

#[test]
fn a_settings_file_with_an_unknown_key_or_a_bad_value_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("aidledger.toml");
    std::fs::write(&file, "quorom = 3\n").unwrap();
    let error = config(&["--config", path_str(&file)], &[]).unwrap_err();
    assert!(error.contains("quorom"), "{error}");
    std::fs::write(&file, "quorum = 0\n").unwrap();
    let error = config(&["--config", path_str(&file)], &[]).unwrap_err();
    assert!(error.contains("quorum must be at least 1"), "{error}");
    std::fs::write(&file, "trusted_proxies = \"not-an-address\"\n").unwrap();
    let error = config(&["--config", path_str(&file)], &[]).unwrap_err();
    assert!(error.contains("trusted_proxies"), "{error}");
    let error = config(
        &["--config", path_str(&dir.path().join("missing.toml"))],
        &[],
    )
    .unwrap_err();
    assert!(error.contains("missing.toml"), "{error}");
}

#[test]
fn the_printed_settings_never_hold_the_database_password() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("aidledger.toml");
    std::fs::write(
        &file,
        "database_url = \"postgres://ledger:file-secret@db.internal:5432/aid\"\n",
    )
    .unwrap();
    let file = path_str(&file);
    let printed = config(&["--config", file], &[]).unwrap();
    assert!(!printed.contains("file-secret"), "{printed}");
    assert!(
        printed.contains("postgres://ledger:****@db.internal:5432/aid"),
        "{printed}"
    );
    let printed = config(
        &["--config", file],
        &[(
            "DATABASE_URL",
            "postgres://ledger:env-secret@db.internal/aid",
        )],
    )
    .unwrap();
    assert!(!printed.contains("env-secret") && !printed.contains("file-secret"));
    let printed = config(
        &[
            "--database-url",
            "postgres://ledger:flag-secret@db.internal/aid",
        ],
        &[],
    )
    .unwrap();
    assert!(!printed.contains("flag-secret"), "{printed}");
    assert!(printed.contains("****"));
}

#[test]
fn serve_runs_with_the_settings_of_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database_url = runtime.block_on(common::database_url(dir.path()));
    let file = dir.path().join("aidledger.toml");
    std::fs::write(&file, "origin = \"ops.example/log\"\n").unwrap();
    let server = Server::spawn(
        &dir.path().join("data"),
        database_url.as_deref(),
        &["--config", path_str(&file)],
        dir.path().join("server.log"),
    );
    let note = runtime
        .block_on(async {
            common::http()
                .get(format!("{}/checkpoint", server.url))
                .send()
                .await?
                .text()
                .await
        })
        .unwrap();
    assert_eq!(note.lines().next(), Some("ops.example/log"), "{note}");
}

#[test]
fn the_example_settings_file_holds_every_setting_at_its_default() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/aidledger.example.toml");
    let example = Settings::from_file(std::path::Path::new(path)).unwrap();
    assert_eq!(example, Settings::default());
    // Every key appears, the database's as a commented line (set, it would choose
    // PostgreSQL).
    let every = toml::to_string(&Settings {
        database_url: Some("postgres://x".into()),
        ..Settings::default()
    })
    .unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    for line in every.lines() {
        let key = line.split(" = ").next().unwrap();
        assert!(
            text.lines()
                .any(|l| l.trim_start_matches("# ").starts_with(&format!("{key} = "))),
            "{key} is missing from the example"
        );
    }
}

/// The niceness of each of the process's threads called `name` (Linux's per-thread
/// `/proc/PID/task/TID/stat`, field 19).
fn niceness_of_threads(pid: u32, name: &str) -> Vec<i64> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| {
            let task = task.unwrap().path();
            let comm = std::fs::read_to_string(task.join("comm")).ok()?;
            (comm.trim() == name).then(|| {
                let stat = std::fs::read_to_string(task.join("stat")).unwrap();
                // Fields after the parenthesised name start at field 3.
                let after_name = &stat[stat.rfind(')').unwrap() + 2..];
                after_name.split(' ').nth(19 - 3).unwrap().parse().unwrap()
            })
        })
        .collect()
}

#[test]
fn on_sqlite_the_integrator_is_scheduled_before_the_request_handlers() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database_url = runtime.block_on(common::database_url(dir.path()));
    let server = Server::spawn(
        &dir.path().join("data"),
        database_url.as_deref(),
        &[],
        dir.path().join("server.log"),
    );
    let pid = server.child.id();
    let integrator = niceness_of_threads(pid, "integrator");
    let handlers = niceness_of_threads(pid, "tokio-rt-worker");
    assert_eq!(
        integrator.len(),
        1,
        "one integrator thread\n{}",
        server.logs()
    );
    assert!(
        !handlers.is_empty(),
        "the runtime's threads are named tokio-rt-worker"
    );
    if database_url.is_some() {
        // PostgreSQL's own processes do the database's work: handlers are not lowered
        // behind them.
        assert!(
            handlers.iter().all(|&h| h == integrator[0]),
            "handlers {handlers:?} keep the integrator's priority {}",
            integrator[0]
        );
    } else {
        assert!(
            handlers.iter().all(|&h| h > integrator[0]),
            "handlers {handlers:?} are nicer than the integrator {}",
            integrator[0]
        );
    }
}

/// A stopped instance leaves SQLite's write-ahead log empty: under load the file grows
/// to 1 GiB, and the next start would read every frame of it before serving.
#[tokio::test]
async fn a_stopped_instance_leaves_its_write_ahead_log_empty() {
    sqlite_only!("the write-ahead log is SQLite's");
    let dir = tempfile::tempdir().unwrap();
    let instance = TestInstance::start_in(dir.path()).await;
    for n in 0..20 {
        common::post_entry(
            &instance.url,
            common::offer(&common::key(), &format!("{n}")),
        )
        .await;
    }
    let wal = dir.path().join(format!("{DATABASE_FILE}-wal"));
    let length = || wal.metadata().map_or(0, |m| m.len());
    assert!(length() > 0, "the appends went through the write-ahead log");
    instance.stop().await;
    assert_eq!(length(), 0, "the write-ahead log is empty once stopped");
}
