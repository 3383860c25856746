//! A replica killed (SIGKILL) while it applies the outbox, and started again
//! from its data directory, catches up: no entry lost, none applied twice,
//! the digest of the outbox applied once in position order (R49, R50).
//!
//! The replica is a child process: this test binary run again with
//! `--exact restart::replica_child`, which opens `Engine::open(dir)`, runs a
//! feed, and prints its last applied position every few milliseconds until
//! it is killed (or a bounded minute passes).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zorg_pdp::{Decision, Engine, Reason};
use zorg_pdp_postgres::{Feed, FeedConfig};

use crate::common::{anna_views, base_url, connect, fresh, patient, withdrawal, world, write};

/// The child's data directory; the child runs only when it is set
const DIR_VAR: &str = "ZPDP_REPLICA_CHILD_DIR";
/// The database the child's feed reads
const DB_VAR: &str = "ZPDP_REPLICA_CHILD_DB";

/// Not a test of its own: the replica process the test below starts (it
/// returns at once when run as part of the suite)
#[test]
fn replica_child() {
    let (Ok(dir), Ok(db)) = (std::env::var(DIR_VAR), std::env::var(DB_VAR)) else {
        return;
    };
    let engine = Arc::new(Engine::open(&dir).unwrap());
    println!("opened {}", engine.seq());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut config = FeedConfig::new(&base_url()).unwrap();
        config.postgres.dbname(&db);
        config.poll_interval = Duration::from_millis(200);
        config.settle_poll = Duration::from_millis(5);
        let _feed = Feed::spawn(Arc::clone(&engine), config);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            println!("seq {}", engine.seq());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
}

/// A running replica and the positions it reports
struct Replica {
    child: Child,
    seqs: mpsc::Receiver<u64>,
}

impl Replica {
    fn start(dir: &Path, db: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "restart::replica_child", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(DIR_VAR, dir)
            .env(DB_VAR, db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, seqs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let seq = line
                    .strip_prefix("seq ")
                    .or_else(|| line.strip_prefix("opened "));
                if let Some(seq) = seq.and_then(|s| s.parse().ok())
                    && tx.send(seq).is_err()
                {
                    return;
                }
            }
        });
        Self { child, seqs }
    }

    /// Waits (bounded) until the replica reports a position at least
    /// `position`; the position it reported
    fn reaches(&self, position: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = 0;
        while Instant::now() < deadline {
            match self.seqs.recv_timeout(Duration::from_millis(200)) {
                Ok(seq) => {
                    last = seq;
                    if seq >= position {
                        return seq;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("the replica reported {last}, not {position}, within 30 s")
    }

    /// SIGKILL, and wait for it to be gone (its directory lock with it)
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_restarted_from_its_data_directory_catches_up() {
    let db = fresh("killed").await;
    let name = db.config.get_dbname().unwrap().to_owned();
    let dir = std::env::temp_dir().join(format!("zpdp-replica-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let mut w = db.connect().await;
    let first = write(&mut w, &world()).await;

    // Writers keep committing while the replica is killed three times mid-stream
    let config = db.config.clone();
    let writer = tokio::spawn(async move {
        let mut c = connect(&config).await;
        for i in 0..200 {
            write(
                &mut c,
                &[patient(&format!("k{i}")), patient(&format!("l{i}"))],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    });
    let mut seen = *first.last().unwrap();
    let mut kills = 0;
    for _ in 0..3 {
        let (dir, name) = (dir.clone(), name.clone());
        let at = tokio::task::spawn_blocking(move || {
            let replica = Replica::start(&dir, &name);
            let at = replica.reaches(seen + 1);
            std::thread::sleep(Duration::from_millis(40));
            replica.kill();
            at
        })
        .await
        .unwrap();
        assert!(at > seen, "the replica made no progress: {at} after {seen}");
        seen = at;
        kills += 1;
    }
    writer.await.unwrap();
    let withdrawn = write(&mut w, &[withdrawal()]).await;
    let p = *withdrawn.last().unwrap();
    let head = db.head().await;
    assert_eq!(head, p);
    assert!(
        seen < head,
        "the kills came after the last write ({seen} of {head})"
    );

    // Started again from its directory, it catches up with everything
    let (dir2, name2) = (dir.clone(), name.clone());
    tokio::task::spawn_blocking(move || {
        let replica = Replica::start(&dir2, &name2);
        assert_eq!(replica.reaches(head), head);
        replica.kill();
    })
    .await
    .unwrap();

    // What the directory holds is the outbox applied once, in position order
    let reopened = Engine::open(&dir).unwrap();
    let reference = db.reference().await;
    assert_eq!(kills, 3);
    assert_eq!(reopened.seq(), head);
    assert_eq!(reopened.state_digest(), reference.state_digest());
    let answer = reopened.decide(&anna_views(Some(p)));
    assert_eq!(answer.decision, Decision::Deny);
    assert!(
        answer.reasons.contains(&Reason::NoDossierConsent),
        "{:?}",
        answer.reasons
    );
    drop(reopened);
    std::fs::remove_dir_all(&dir).unwrap();
}
