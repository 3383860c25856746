//! Replicas under concurrent writers: three converge to one digest, the
//! reference's (R50), and a withdrawal committed at position p is never
//! answered from older facts by a request with `min_seq = p` (R47, R9).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zorg_pdp::{Reason, Response};
use zorg_pdp_postgres::{Feed, append_json};

use crate::common::{
    anna_views, applied, connect, engine, event, fresh, patient, withdrawal, world, write,
};

/// One writer: `n` transactions, each a patient's registration and a
/// treatment at `vp-noord`, held open a little between the two entries so
/// commits overtake each other; every ninth rolls back. The committed
/// transactions' positions, in the order their commits returned.
async fn writer(
    config: tokio_postgres::Config,
    id: usize,
    n: usize,
    commits: Arc<Mutex<Vec<(u64, u64)>>>,
) {
    let mut c = connect(&config).await;
    for i in 0..n {
        let tx = c.transaction().await.unwrap();
        let who = format!("w{id}-{i}");
        let p = append_json(&tx, &patient(&who)).await.unwrap();
        let hold = (id * 7 + i * 13) % 5;
        tokio::time::sleep(Duration::from_millis(hold as u64)).await;
        let q = append_json(
            &tx,
            &event(&format!(
                r#"{{"at":"2026-01-12T09:00:00Z","type":"treatment_started","patient":"{who}","organisation":"vp-noord"}}"#
            )),
        )
        .await
        .unwrap();
        if (id + i).is_multiple_of(9) {
            tx.rollback().await.unwrap();
        } else {
            tx.commit().await.unwrap();
            commits.lock().unwrap().push((p, q));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_converge_under_concurrent_writers() {
    let db = fresh("converge").await;
    let mut w = db.connect().await;
    write(&mut w, &world()).await;
    let engines = [engine(), engine(), engine()];
    let feeds: Vec<Feed> = engines
        .iter()
        .map(|e| Feed::spawn(e.clone(), db.feed_config()))
        .collect();

    let commits = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let writers: Vec<_> = (0..6)
        .map(|id| tokio::spawn(writer(db.config.clone(), id, 40, commits.clone())))
        .collect();
    for h in writers {
        h.await.unwrap();
    }
    let head = db.head().await;
    for e in &engines {
        assert!(applied(e, head).await, "a replica stopped below {head}");
    }
    let elapsed = started.elapsed();

    let reference = db.reference().await;
    let rows = db.rows().await;
    for (e, f) in engines.iter().zip(&feeds) {
        assert_eq!(e.seq(), head);
        assert_eq!(e.state_digest(), reference.state_digest());
        assert_eq!(f.status().entries_applied, rows.len() as u64);
    }
    // Commits did overtake: some transaction committed after one with higher positions
    let commits = commits.lock().unwrap().clone();
    let mut highest = 0;
    let overtaken = commits
        .iter()
        .filter(|(p, q)| {
            let late = *p < highest;
            highest = highest.max(*q);
            late
        })
        .count();
    assert!(
        overtaken > 0,
        "no commit out of position order: the test proved nothing"
    );
    let rolled_back = 6 * 40 - commits.len();
    assert!(rolled_back > 0 && rows.len() == world().len() + 2 * commits.len());
    eprintln!(
        "3 replicas, 6 writers: {} rows ({} transactions committed out of position order, {} \
         rolled back) applied by all in {:?}",
        rows.len(),
        overtaken,
        rolled_back,
        elapsed
    );
    for f in feeds {
        f.stop().await.unwrap();
    }
}

/// Noise: registrations in short transactions until `stop`
async fn noise(config: tokio_postgres::Config, id: usize, stop: Arc<AtomicBool>) -> usize {
    let mut c = connect(&config).await;
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) && i < 2000 {
        write(&mut c, &[patient(&format!("noise{id}-{i}"))]).await;
        i += 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    i
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_at_p_is_never_answered_from_older_facts_with_min_seq_p() {
    let db = fresh("withdrawal").await;
    let mut w = db.connect().await;
    let base = *write(&mut w, &world()).await.last().unwrap();
    let engines = [engine(), engine(), engine()];
    let feeds: Vec<Feed> = engines
        .iter()
        .map(|e| Feed::spawn(e.clone(), db.feed_config()))
        .collect();
    for e in &engines {
        assert!(applied(e, base).await);
        // The control: before the withdrawal the same request is allowed
        assert!(e.decide(&anna_views(Some(base))).is_allowed());
    }

    let stop = Arc::new(AtomicBool::new(false));
    let noisy: Vec<_> = (0..3)
        .map(|id| tokio::spawn(noise(db.config.clone(), id, stop.clone())))
        .collect();
    // The withdrawal holds its position while the noise commits above it
    let tx = w.transaction().await.unwrap();
    let p = append_json(&tx, &withdrawal()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    tx.commit().await.unwrap();

    // From the commit on, every replica answers min_seq = p with a deny:
    // stale_facts until it applied p, then the withdrawal's deny
    let answers = engines.iter().map(|e| {
        let e = e.clone();
        tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut stale = 0_u32;
            loop {
                let r: Response = e.decide(&anna_views(Some(p)));
                assert!(
                    !r.is_allowed(),
                    "allowed with min_seq = {p} at seq {}",
                    r.seq
                );
                if r.reasons == [Reason::StaleFacts] {
                    assert!(r.seq < p);
                    stale += 1;
                } else {
                    assert!(r.seq >= p);
                    return (stale, r);
                }
                assert!(Instant::now() < deadline, "replica never reached {p}");
                std::thread::yield_now();
            }
        })
    });
    let mut stale_total = 0;
    for a in answers.collect::<Vec<_>>() {
        let (stale, r) = a.await.unwrap();
        stale_total += stale;
        assert!(!r.reasons.contains(&Reason::StaleFacts), "{:?}", r.reasons);
    }
    stop.store(true, Ordering::Relaxed);
    let mut noise_rows = 0;
    for n in noisy {
        noise_rows += n.await.unwrap();
    }
    assert!(noise_rows > 0);
    // wait_for(p), then a real deny, on every replica; all agree at the end
    let head = db.head().await;
    let reference = db.reference().await;
    for e in &engines {
        assert!(applied(e, head).await);
        let r = e.decide(&anna_views(Some(p)));
        assert!(!r.is_allowed() && !r.reasons.contains(&Reason::StaleFacts));
        assert_eq!(e.state_digest(), reference.state_digest());
    }
    eprintln!(
        "withdrawal at {p} under {noise_rows} noise rows: {stale_total} stale_facts answers \
         before the replicas applied it, no allow"
    );
    for f in feeds {
        f.stop().await.unwrap();
    }
}
