//! The `aidledger` binary against a real instance: keygen, sign, submit, seed, verify.

use crate::common;

use aidledger::keys::LOG_KEY_FILE;
use common::process::{command, path_str};
use common::{author, offer, offer_body, TestInstance};
use ed25519_dalek::SigningKey;
use ledger::checkpoint::LogVerifier;
use ledger::entry::{canonical_json, VerifiedEntry};
use ledger::tree::leaf_hash;
use ledger::{hex32, Kind};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// What a run of the binary left behind.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    raw_stdout: Vec<u8>,
}

impl Run {
    fn assert_ok(&self, what: &str) {
        assert!(
            self.ok,
            "{what} should succeed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
    }

    /// Fails with a non-zero exit and an error message containing every needle.
    fn assert_fails(&self, what: &str, needles: &[&str]) {
        assert!(
            !self.ok,
            "{what} should fail\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains("error:"),
            "{what}: stderr should carry an error message: {:?}",
            self.stderr
        );
        for needle in needles {
            assert!(
                self.stderr.to_lowercase().contains(&needle.to_lowercase()),
                "{what}: stderr {:?} should mention {needle:?}",
                self.stderr
            );
        }
    }
}

fn run_blocking(args: Vec<String>, stdin: Option<Vec<u8>>) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = command(&args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // A command that refuses its arguments exits before reading stdin; the broken
        // pipe that leaves is not the test's concern (its exit status and stderr are).
        if let Err(e) = pipe.write_all(&input) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    let output = child.wait_with_output().unwrap();
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        raw_stdout: output.stdout,
    }
}

/// Runs the binary off the async runtime, so the in-process server keeps serving.
async fn run(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.map(<[u8]>::to_vec);
    tokio::task::spawn_blocking(move || run_blocking(args, stdin))
        .await
        .unwrap()
}

async fn checkpoint_text(instance: &TestInstance) -> String {
    instance.client.checkpoint().await.unwrap()
}

async fn checkpoint_size(instance: &TestInstance) -> u64 {
    LogVerifier::new(&instance.vkey)
        .unwrap()
        .verify(checkpoint_text(instance).await.as_bytes())
        .unwrap()
        .size
}

async fn fill(instance: &TestInstance, tag: &str, count: usize) {
    for i in 0..count {
        let leaf = offer(&author(1 + (i % 3) as u8), &format!("{tag} {i}"));
        assert_eq!(instance.client.submit(leaf).await.unwrap().0, 201);
    }
}

async fn keygen(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let path = dir.join(name);
    let out = run(&["keygen", "--out", path_str(&path)], None).await;
    out.assert_ok("keygen");
    (path, out.stdout.trim().to_owned())
}

// ---------------------------------------------------------------------------------

#[tokio::test]
async fn keygen_writes_an_owner_only_key_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (path, public) = keygen(dir.path(), "author.key").await;

    assert_eq!(public.len(), 64);
    assert!(public
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["public"], public);
    let mut seed = [0u8; 32];
    hex::decode_to_slice(file["secret"].as_str().unwrap(), &mut seed).unwrap();
    assert_eq!(
        hex::encode(SigningKey::from_bytes(&seed).verifying_key().as_bytes()),
        public
    );

    // A second keygen to the same path fails and leaves the key as it was.
    let again = run(&["keygen", "--out", path_str(&path)], None).await;
    again.assert_fails("keygen over an existing key", &["must not exist"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // Nor does it overwrite any other file.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "keep me").unwrap();
    run(&["keygen", "--out", path_str(&other)], None)
        .await
        .assert_fails("keygen over another file", &["must not exist"]);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep me");

    // Two keygens give two different keys.
    let (_, second) = keygen(dir.path(), "second.key").await;
    assert_ne!(second, public);

    run(
        &[
            "keygen",
            "--out",
            path_str(&dir.path().join("missing/dir/k.key")),
        ],
        None,
    )
    .await
    .assert_fails("keygen into a missing directory", &["missing/dir/k.key"]);
}

#[tokio::test]
async fn sign_then_submit_appends_once_and_reports_a_duplicate() {
    let instance = TestInstance::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "author.key").await;
    let body = json!({
        "items": [{"item": "N95口罩", "category": "respirator", "quantity": 1000, "unit": "piece"}],
        "area": {"code": "CN-HB", "name": "湖北"},
    });
    let draft = serde_json::to_vec(&json!({"kind": "offer.post", "body": body})).unwrap();

    let signed = run(&["sign", "--key", path_str(&key)], Some(&draft)).await;
    signed.assert_ok("sign");
    assert!(signed.raw_stdout.ends_with(b"\n"));
    let leaf = signed.raw_stdout[..signed.raw_stdout.len() - 1].to_vec();
    let entry = VerifiedEntry::from_leaf(&leaf).expect("sign writes a valid entry");
    assert_eq!(entry.kind(), Kind::OfferPost);
    assert_eq!(entry.entry().author, public);
    assert_eq!(entry.entry().body, body);

    let url = instance.url.clone();
    let first = run(&["submit", "--url", &url], Some(&signed.raw_stdout)).await;
    first.assert_ok("submit");
    let answer: Value = serde_json::from_str(first.stdout.trim()).unwrap();
    assert_eq!(
        answer,
        // After the log's first clock reading.
        json!({"leaf_hash": hex32::encode(&leaf_hash(&leaf)), "index": 1, "tree_size": 2})
    );
    assert!(!first.stdout.contains("already"));

    let second = run(&["submit", "--url", &url], Some(&signed.raw_stdout)).await;
    second.assert_ok("second submit");
    assert!(
        second.stdout.contains("(already in the log)"),
        "{}",
        second.stdout
    );
    assert!(second.stdout.contains("\"index\":1"));
    assert_eq!(instance.table_counts().await, (2, 3, 2));

    // What is served is exactly what was signed.
    let served = instance.client.entries(1, 10).await.unwrap();
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].leaf, leaf);
    instance.stop().await;
}

#[tokio::test]
async fn sign_piped_into_submit_works() {
    let instance = TestInstance::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "author.key").await;
    let url = instance.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut sign = command(&["sign", "--key", path_str(&key)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        sign.stdin
            .take()
            .unwrap()
            .write_all(
                &serde_json::to_vec(&json!({"kind": "offer.post", "body": offer_body("gloves")}))
                    .unwrap(),
            )
            .unwrap();
        let submit = command(&["submit", "--url", &url])
            .stdin(Stdio::from(sign.stdout.take().unwrap()))
            .output()
            .unwrap();
        assert!(sign.wait().unwrap().success());
        submit
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (answer["index"].as_u64(), answer["tree_size"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(checkpoint_size(&instance).await, 2);
    instance.stop().await;
}

#[tokio::test]
async fn sign_with_a_given_time_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "author.key").await;
    let draft = serde_json::to_vec(&json!({
        "kind": "pledge",
        "body": {"need": "ab".repeat(32), "items": [{"line": 0, "quantity": 10}]},
        "created_at": "2024-03-01T08:00:00Z",
    }))
    .unwrap();
    let a = run(&["sign", "--key", path_str(&key)], Some(&draft)).await;
    let b = run(&["sign", "--key", path_str(&key)], Some(&draft)).await;
    a.assert_ok("sign");
    assert_eq!(a.raw_stdout, b.raw_stdout);
    let leaf: Value = serde_json::from_slice(&a.raw_stdout).unwrap();
    assert_eq!(leaf["created_at"], "2024-03-01T08:00:00Z");
    assert_eq!(leaf["kind"], "pledge");
}

#[tokio::test]
async fn sign_refuses_bad_drafts_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = keygen(dir.path(), "author.key").await;
    let key = path_str(&key).to_owned();
    let text = |v: Value| v.to_string();
    let mut zero = offer_body("gloves");
    zero["items"][0]["quantity"] = json!(0);
    for (draft, needles) in [
        (
            text(json!({"kind": "need.delete", "body": offer_body("gloves")})),
            &["kind", "need.delete"][..],
        ),
        (
            text(json!({
                "kind": "offer.post",
                "body": offer_body("gloves"),
                "created_at": "2024-03-01T08:00:00+08:00",
            })),
            &["created_at"][..],
        ),
        (
            text(json!({"kind": "offer.post", "body": offer_body("gloves"), "created_at": "soon"})),
            &["created_at"][..],
        ),
        (
            text(json!({"kind": "offer.post", "body": "text"})),
            &["body: must be a JSON object"][..],
        ),
        (
            text(json!({"kind": "offer.post", "body": [1]})),
            &["body: must be a JSON object"][..],
        ),
        (
            text(json!({"kind": "need.post", "body": {"title": "N95口罩"}})),
            &["body.title: unknown field `title`"][..],
        ),
        (
            text(json!({"kind": "offer.post", "body": zero})),
            &["body.items[0].quantity: must be a whole number"][..],
        ),
        (
            text(
                json!({"kind": "pledge", "body": {"need": "x", "items": [{"line": 0, "quantity": 1}]}}),
            ),
            &["body.need: must be 64 lowercase hex digits"][..],
        ),
        (
            text(json!({"kind": "offer.post"})),
            &["missing field `body`"][..],
        ),
        (
            text(json!({"kind": "offer.post", "body": offer_body("gloves"), "author": "me"})),
            &["author"][..],
        ),
        ("not json".to_owned(), &["stdin must be JSON"][..]),
        (String::new(), &["stdin must be JSON"][..]),
    ] {
        let out = run(&["sign", "--key", &key], Some(draft.as_bytes())).await;
        out.assert_fails(&draft, needles);
        assert!(out.stdout.is_empty(), "{draft}: nothing on stdout");
    }
    let valid = text(json!({"kind": "offer.post", "body": offer_body("gloves")}));
    let missing = dir.path().join("nope.key");
    run(
        &["sign", "--key", path_str(&missing)],
        Some(valid.as_bytes()),
    )
    .await
    .assert_fails("sign with a missing key", &["nope.key"]);
    let not_a_key = dir.path().join("not-a-key");
    std::fs::write(&not_a_key, "{}").unwrap();
    run(
        &["sign", "--key", path_str(&not_a_key)],
        Some(valid.as_bytes()),
    )
    .await
    .assert_fails(
        "sign with a file that is not a key",
        &["not an aidledger key file"],
    );
    // The same draft with a good key signs.
    run(&["sign", "--key", &key], Some(valid.as_bytes()))
        .await
        .assert_ok("sign of the valid draft");
}

#[tokio::test]
async fn submit_of_a_refused_entry_fails_and_changes_nothing() {
    let instance = TestInstance::start().await;
    fill(&instance, "before", 2).await;
    let before = (
        checkpoint_text(&instance).await,
        instance.table_counts().await,
    );

    let leaf = offer(&author(4), "masks");
    let mut v: Value = serde_json::from_slice(&leaf).unwrap();
    // Still a valid offer body: the signature is what fails.
    v["body"]["description"] = json!("tampered");
    let out = run(
        &["submit", "--url", &instance.url],
        Some(&canonical_json(&v)),
    )
    .await;
    out.assert_fails("submit of a tampered entry", &["400", "bad signature"]);

    let out = run(&["submit", "--url", &instance.url], Some(b"{}")).await;
    out.assert_fails("submit of {}", &["400", "missing field"]);

    assert_eq!(
        (
            checkpoint_text(&instance).await,
            instance.table_counts().await
        ),
        before
    );
    instance.stop().await;
}

#[tokio::test]
async fn verify_accepts_the_log_and_round_trips_a_saved_checkpoint() {
    let instance = TestInstance::start().await;
    let dir = tempfile::tempdir().unwrap();

    // An empty log verifies too.
    run(&["verify", "--url", &instance.url], None)
        .await
        .assert_ok("verify of an empty log");

    // 11 entries after the log's first clock reading.
    fill(&instance, "first", 11).await;
    let saved = dir.path().join("checkpoint.txt");
    let out = run(
        &["verify", "--url", &instance.url, "--save", path_str(&saved)],
        None,
    )
    .await;
    out.assert_ok("verify --save");
    assert!(
        out.stdout.contains("OK: 12 entries verified"),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&saved).unwrap(),
        checkpoint_text(&instance).await
    );

    fill(&instance, "second", 7).await;
    let out = run(
        &[
            "verify",
            "--url",
            &instance.url,
            "--vkey",
            &instance.vkey,
            "--checkpoint",
            path_str(&saved),
        ],
        None,
    )
    .await;
    out.assert_ok("verify --checkpoint");
    assert!(
        out.stdout.contains("OK: 19 entries verified"),
        "{}",
        out.stdout
    );

    // The saved checkpoint also round trips into itself (same size).
    let latest = dir.path().join("latest.txt");
    run(
        &[
            "verify",
            "--url",
            &instance.url,
            "--save",
            path_str(&latest),
        ],
        None,
    )
    .await
    .assert_ok("verify --save latest");
    run(
        &[
            "verify",
            "--url",
            &instance.url,
            "--checkpoint",
            path_str(&latest),
        ],
        None,
    )
    .await
    .assert_ok("verify --checkpoint of the same size");

    // Offline, from the database file beside its log key. (`verify --db` audits a
    // SQLite file; on PostgreSQL there is no such file, and the audit above over the
    // API is the one that applies.)
    if common::on_postgres() {
        eprintln!("verify --db not run on PostgreSQL: it audits a SQLite database file");
    } else {
        let out = run(
            &[
                "verify",
                "--db",
                path_str(&instance.db_path()),
                "--checkpoint",
                path_str(&saved),
            ],
            None,
        )
        .await;
        out.assert_ok("verify --db");
        assert!(
            out.stdout.contains("OK: 19 entries verified"),
            "{}",
            out.stdout
        );
    }

    // A tampered saved checkpoint is refused.
    let tampered = dir.path().join("tampered.txt");
    let text = std::fs::read_to_string(&saved).unwrap();
    std::fs::write(&tampered, text.replacen("\n12\n", "\n11\n", 1)).unwrap();
    run(
        &[
            "verify",
            "--url",
            &instance.url,
            "--checkpoint",
            path_str(&tampered),
        ],
        None,
    )
    .await
    .assert_fails(
        "verify with a tampered checkpoint",
        &["not valid for this log"],
    );
    instance.stop().await;
}

#[tokio::test]
async fn verify_with_another_logs_key_or_checkpoint_fails() {
    let ours = TestInstance::start().await;
    let theirs = TestInstance::start().await;
    fill(&ours, "ours", 4).await;
    fill(&theirs, "theirs", 4).await;
    assert_ne!(ours.vkey, theirs.vkey);

    let out = run(
        &["verify", "--url", &ours.url, "--vkey", &theirs.vkey],
        None,
    )
    .await;
    out.assert_fails(
        "verify with another log's vkey",
        &["not signed by the log key"],
    );
    assert!(!out.stdout.contains("OK"));

    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("theirs.txt");
    std::fs::write(&foreign, checkpoint_text(&theirs).await).unwrap();
    run(
        &[
            "verify",
            "--url",
            &ours.url,
            "--checkpoint",
            path_str(&foreign),
        ],
        None,
    )
    .await
    .assert_fails(
        "verify with another log's checkpoint",
        &["not valid for this log"],
    );

    run(&["verify", "--url", &ours.url, "--vkey", "not-a-key"], None)
        .await
        .assert_fails("verify with a malformed vkey", &["verifier key"]);
    // Offline, from the SQLite database file (there is none on PostgreSQL).
    if common::on_postgres() {
        eprintln!("verify --db not run on PostgreSQL: it audits a SQLite database file");
    } else {
        run(
            &[
                "verify",
                "--db",
                path_str(&ours.db_path()),
                "--vkey",
                &theirs.vkey,
            ],
            None,
        )
        .await
        .assert_fails("verify --db with another log's vkey", &["not signed"]);
    }
    ours.stop().await;
    theirs.stop().await;
}

#[tokio::test]
async fn verify_detects_a_forked_or_shrunk_log_under_the_same_key() {
    // Two instances sharing one log key: to a client they are the same log, so a
    // checkpoint saved from one must be caught when the other does not extend it.
    let a = TestInstance::start().await;
    let fork_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        a.data_dir.join(LOG_KEY_FILE),
        fork_dir.path().join(LOG_KEY_FILE),
    )
    .unwrap();
    let b = TestInstance::start_in(fork_dir.path()).await;
    assert_eq!(a.vkey, b.vkey);

    fill(&a, "history", 6).await;
    fill(&b, "rewritten", 6).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("a.txt");
    run(
        &["verify", "--url", &a.url, "--save", path_str(&saved)],
        None,
    )
    .await
    .assert_ok("verify a");

    // Same size, other history.
    run(
        &["verify", "--url", &b.url, "--checkpoint", path_str(&saved)],
        None,
    )
    .await
    .assert_fails("verify of a fork of the same size", &["consistency"]);
    // Larger, other history.
    fill(&b, "more", 3).await;
    run(
        &["verify", "--url", &b.url, "--checkpoint", path_str(&saved)],
        None,
    )
    .await
    .assert_fails("verify of a longer fork", &["consistency"]);
    // Shorter than what was seen.
    fill(&a, "more", 10).await;
    let longer = dir.path().join("a-longer.txt");
    run(
        &["verify", "--url", &a.url, "--save", path_str(&longer)],
        None,
    )
    .await
    .assert_ok("verify a again");
    run(
        &["verify", "--url", &b.url, "--checkpoint", path_str(&longer)],
        None,
    )
    .await
    .assert_fails("verify of a shorter log", &["shrank"]);
    // The honest log still verifies against both.
    for saved in [&saved, &longer] {
        run(
            &["verify", "--url", &a.url, "--checkpoint", path_str(saved)],
            None,
        )
        .await
        .assert_ok("verify a against its own checkpoints");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn seed_adds_exactly_the_requested_entries() {
    let instance = TestInstance::start().await;
    // 2 entries after the log's first clock reading.
    fill(&instance, "existing", 2).await;
    let before = checkpoint_size(&instance).await;
    let out = run(&["seed", "--url", &instance.url, "--count", "50"], None).await;
    out.assert_ok("seed");
    assert!(
        out.stdout.contains("submitted 50 entries"),
        "{}",
        out.stdout
    );
    assert_eq!(checkpoint_size(&instance).await, before + 50);
    assert_eq!(instance.table_counts().await.0, 53);

    // The seeded entries are valid and verify end to end.
    let entries = instance.client.entries(0, 1000).await.unwrap();
    assert_eq!(entries.len(), 53);
    for e in &entries {
        VerifiedEntry::from_leaf(&e.leaf).unwrap();
    }
    let out = run(&["verify", "--url", &instance.url], None).await;
    out.assert_ok("verify after seed");
    assert!(
        out.stdout.contains("OK: 53 entries verified"),
        "{}",
        out.stdout
    );

    // A small seed with more workers than entries.
    run(
        &[
            "seed",
            "--url",
            &instance.url,
            "--count",
            "3",
            "--concurrency",
            "16",
        ],
        None,
    )
    .await
    .assert_ok("seed 3");
    assert_eq!(checkpoint_size(&instance).await, 56);
    instance.stop().await;
}

#[tokio::test]
async fn out_of_range_settings_are_refused_by_name_and_change_nothing() {
    let instance = TestInstance::start().await;
    let before = checkpoint_size(&instance).await;
    run(&["seed", "--url", &instance.url, "--days", "4000"], None)
        .await
        .assert_fails("seed over 4000 days", &["--days", "4000"]);
    assert_eq!(
        checkpoint_size(&instance).await,
        before,
        "nothing was seeded"
    );
    instance.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data = data_dir.to_str().unwrap();
    for flag in ["--quorum", "--post-quorum"] {
        run(&["serve", "--data-dir", data, flag, "0"], None)
            .await
            .assert_fails(flag, &[flag, "0"]);
        assert!(!data_dir.exists(), "{flag} 0 created nothing");
    }
}

#[tokio::test]
async fn commands_against_a_server_that_is_not_there_fail_cleanly() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let leaf = offer(&author(1), "x");
    run(&["submit", "--url", &url], Some(&leaf))
        .await
        .assert_fails("submit to nowhere", &["connect"]);
    run(&["verify", "--url", &url], None)
        .await
        .assert_fails("verify of nowhere", &["connect"]);
}

#[tokio::test]
async fn a_database_url_that_is_not_postgres_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for url in ["mysql://db/aidledger", "sqlite://somewhere.db"] {
        let out = run(
            &[
                "serve",
                "--data-dir",
                data.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                url,
            ],
            None,
        )
        .await;
        out.assert_fails(url, &["--database-url must be a postgres:// URL"]);
        assert!(
            !data.exists(),
            "{url}: nothing is created, not even the data directory"
        );
    }
}

#[tokio::test]
async fn an_offline_audit_of_a_postgres_database_needs_the_log_key() {
    let out = run(
        &["verify", "--db", "postgres://postgres@127.0.0.1:1/none"],
        None,
    )
    .await;
    out.assert_fails("verify --db postgres://… without --vkey", &["needs --vkey"]);
}
