//! The `zorg-pdp-server` binary in a child process: started on
//! 127.0.0.1:0, its stderr collected, stopped with SIGTERM or SIGKILL, every
//! wait bounded.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::client::{Server, TIMEOUT};

/// The demo world file
pub(crate) const WORLD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo-world.toml");

/// A fresh directory (or file path) under the target's temporary directory
pub(crate) fn scratch(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("server-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    let _ = std::fs::remove_file(&path);
    path
}

/// A running binary
pub(crate) struct Running {
    child: Child,
    /// A client for it
    pub(crate) client: Server,
    /// Its stderr so far
    stderr: Arc<Mutex<Vec<String>>>,
    /// Turns true when stderr ends (the process closed it)
    closed: watch::Receiver<bool>,
}

impl Running {
    /// Starts the binary with `args` and waits (bounded) until it listens
    pub(crate) async fn start<I, S>(args: I) -> Running
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zorg-pdp-server"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, mut addr_rx) = watch::channel(None::<String>);
        let (closed_tx, closed) = watch::channel(false);
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let collected = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.strip_prefix("zorg-pdp-server: listening on http://") {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = addr_tx.send(Some(addr));
                }
                collected.lock().unwrap().push(line);
            }
            let _ = closed_tx.send(true);
        });
        let addr = tokio::time::timeout(TIMEOUT, async {
            loop {
                if let Some(a) = addr_rx.borrow_and_update().clone() {
                    return Some(a);
                }
                if addr_rx.changed().await.is_err() {
                    return None;
                }
            }
        })
        .await;
        let Ok(Some(addr)) = addr else {
            let _ = child.start_kill();
            panic!(
                "the server did not start: {}",
                stderr.lock().unwrap().join("\n")
            );
        };
        Running {
            child,
            client: Server::client_for(addr.parse().unwrap()),
            stderr,
            closed,
        }
    }

    /// Its stderr so far, one string
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill {name} {pid}");
    }

    /// SIGTERM, then waits (bounded) for the exit; the exit status and all
    /// of stderr
    pub(crate) async fn terminate(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let status = tokio::time::timeout(TIMEOUT, self.child.wait())
            .await
            .expect("no exit after SIGTERM")
            .unwrap();
        let _ = tokio::time::timeout(TIMEOUT, self.closed.wait_for(|c| *c)).await;
        (status, self.stderr())
    }

    /// SIGKILL, then waits (bounded) for the process to be gone
    pub(crate) async fn kill9(mut self) {
        self.signal("-KILL");
        let status = tokio::time::timeout(TIMEOUT, self.child.wait())
            .await
            .expect("no exit after SIGKILL")
            .unwrap();
        assert!(!status.success(), "killed: {status}");
    }
}

/// Runs the binary with `args` to its end (bounded): its exit status and
/// stderr, for flags it refuses
pub(crate) async fn refused<I, S>(args: I) -> (bool, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = tokio::time::timeout(
        TIMEOUT,
        Command::new(env!("CARGO_BIN_EXE_zorg-pdp-server"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the refusal took too long")
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Polls `check` every 20 ms until it is true, at most `limit`
pub(crate) async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
