//! The real binary as a child process: `aidledger serve` started over a data directory
//! and SIGKILLed (crash and multi-node tests), and other subcommands run to completion.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

/// A running `aidledger serve` child; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    log: PathBuf,
}

pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aidledger"));
    cmd.args(args)
        .env_remove("AIDLEDGER_URL")
        .env_remove("AIDLEDGER_DATA_DIR")
        .env_remove("AIDLEDGER_LISTEN")
        .env_remove("AIDLEDGER_ORIGIN")
        .env_remove("DATABASE_URL")
        .env_remove("AIDLEDGER_CONFIG")
        .env_remove("AIDLEDGER_LOG_FORMAT")
        .env("RUST_LOG", "warn");
    cmd
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

impl Server {
    /// Starts the binary over `data_dir`, its stderr going to `log`, and waits for the
    /// `aidledger serving URL` line.
    /// `extra` are further arguments of `serve` (and `--database-url` is given when
    /// the instance is on PostgreSQL).
    pub fn spawn(
        data_dir: &Path,
        database_url: Option<&str>,
        extra: &[&str],
        log: PathBuf,
    ) -> Server {
        Self::spawn_with(data_dir, database_url, extra, log, |_| {})
    }

    /// [`Server::spawn`], with the command changed by `configure` first (e.g. how the
    /// child process starts).
    pub fn spawn_with(
        data_dir: &Path,
        database_url: Option<&str>,
        extra: &[&str],
        log: PathBuf,
        configure: impl FnOnce(&mut Command),
    ) -> Server {
        let stderr = std::fs::File::create(&log).expect("server log file");
        let mut args = vec![
            "serve",
            "--data-dir",
            path_str(data_dir),
            "--listen",
            "127.0.0.1:0",
        ];
        if let Some(url) = database_url {
            args.extend(["--database-url", url]);
        }
        args.extend(extra);
        let mut cmd = command(&args);
        configure(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the binary starts");
        // Drain stdout for the child's whole life so that its later lines never hit
        // a closed pipe; hand the first line over.
        let stdout = child.stdout.take().expect("piped stdout");
        let (first_line, first) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            if reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let _ = first_line.send(line);
            }
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Server {
            child,
            url: String::new(),
            log,
        };
        // Ends with an error if the child exits before printing (stdout closes).
        let line = match first.recv() {
            Ok(line) => line,
            Err(_) => panic!(
                "the server exited before announcing its URL: {:?}\n{}",
                server.child.wait(),
                server.logs()
            ),
        };
        server.url = line
            .strip_prefix("aidledger serving ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}\n{}", server.logs()))
            .trim()
            .to_owned();
        server
    }

    pub fn logs(&self) -> String {
        format!(
            "--- server stderr ({}) ---\n{}",
            self.log.display(),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        )
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap the child.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        let status = self.child.wait().expect("reap the server");
        assert!(
            !status.success(),
            "a SIGKILLed server cannot exit successfully: {status:?}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
