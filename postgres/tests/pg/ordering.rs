//! The feed's ordering: a row that commits later with a lower position is
//! never skipped (two writers), rolled-back positions are permanent gaps,
//! the "xid early, position late" order, savepoints, and the wake-ups
//! (NOTIFY, and polling without it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use zorg_pdp::Engine;
use zorg_pdp_postgres::{Feed, append_json};

use crate::common::{Db, applied, engine, fresh, patient, world, write};

/// Waits until `feed` has read `position` and waits for the writers of a
/// hole below it
async fn holds_at(feed: &Feed, position: u64) {
    let s = feed
        .wait_until(Duration::from_secs(20), |s| {
            s.head >= position && s.waiting_for_writers
        })
        .await;
    assert!(
        s.is_some(),
        "the feed never saw {position} above a hole: {:?}",
        feed.status()
    );
}

/// A fresh database with the small world written and a replica fed up to
/// it: the database, the replica's engine and feed, and the world's last
/// position
async fn fed(name: &str) -> (Db, Arc<Engine>, Feed, u64) {
    let db = fresh(name).await;
    let engine = engine();
    let feed = Feed::spawn(engine.clone(), db.feed_config());
    let mut w = db.connect().await;
    let base = *write(&mut w, &world()).await.last().unwrap();
    assert!(applied(&engine, base).await);
    (db, engine, feed, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_position_that_commits_later_is_not_skipped() {
    let (db, engine, feed, base) = fed("interleaved").await;

    let (mut c1, mut c2) = (db.connect().await, db.connect().await);
    let t1 = c1.transaction().await.unwrap();
    let p1 = append_json(&t1, &patient("late")).await.unwrap();
    let t2 = c2.transaction().await.unwrap();
    let p2 = append_json(&t2, &patient("early")).await.unwrap();
    assert!(base < p1 && p1 < p2, "{base} {p1} {p2}");
    t2.commit().await.unwrap();

    holds_at(&feed, p2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(engine.seq(), base, "applied {p2} while {p1} was in flight");
    assert!(!feed.status().caught_up);

    t1.commit().await.unwrap();
    assert!(applied(&engine, p2).await);
    assert_eq!(engine.seq(), p2);
    let reference = db.reference().await;
    assert_eq!(engine.state_digest(), reference.state_digest());
    let s = feed
        .wait_until(Duration::from_secs(10), |s| s.caught_up)
        .await
        .unwrap();
    assert_eq!((s.applied, s.head), (p2, p2));
    assert!(!s.waiting_for_writers);
    feed.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_position_is_a_permanent_gap() {
    let (db, engine, feed, base) = fed("rollback").await;
    let mut w = db.connect().await;

    let (mut c1, mut c2) = (db.connect().await, db.connect().await);
    let t1 = c1.transaction().await.unwrap();
    let p1 = append_json(&t1, &patient("never")).await.unwrap();
    let t2 = c2.transaction().await.unwrap();
    let p2 = append_json(&t2, &patient("kept")).await.unwrap();
    t2.commit().await.unwrap();
    holds_at(&feed, p2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(engine.seq(), base);

    t1.rollback().await.unwrap();
    assert!(applied(&engine, p2).await);
    assert_eq!(engine.seq(), p2);
    // The gap stalls nothing: later rows follow
    let p3 = *write(&mut w, &[patient("later")]).await.last().unwrap();
    assert!(applied(&engine, p3).await);
    assert!(p1 < p2 && p2 < p3);
    let rows = db.rows().await;
    assert!(rows.iter().all(|(p, _)| *p != p1), "{p1} was rolled back");
    assert_eq!(engine.state_digest(), db.reference().await.state_digest());
    assert_eq!(feed.status().entries_applied, rows.len() as u64);
    feed.stop().await.unwrap();
}

/// The order that fools a filter on the rows' `xmin` against the reader's
/// snapshot, and a horizon taken from the snapshot's `xmax`: the later
/// committer got its transaction id early (the EHR's own write), the earlier
/// one's id is newer than every completed one (docs/replicas.md)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_xid_with_a_late_position_waits_for_the_newer_xid() {
    let (db, engine, feed, base) = fed("xid_early").await;

    let (mut c1, mut c2) = (db.connect().await, db.connect().await);
    // The EHR's own change first: its transaction id exists from here on
    let early = c1.transaction().await.unwrap();
    let early_xid: i64 = early
        .query_one("SELECT pg_current_xact_id()::text::bigint", &[])
        .await
        .unwrap()
        .get(0);
    // A second writer takes the next id and a position
    let late = c2.transaction().await.unwrap();
    let p = append_json(&late, &patient("second-writer")).await.unwrap();
    let late_xid: i64 = late
        .query_one("SELECT pg_current_xact_id()::text::bigint", &[])
        .await
        .unwrap()
        .get(0);
    assert!(early_xid < late_xid);
    // The first writes its entry (a higher position) and commits
    let q = append_json(&early, &patient("first-writer")).await.unwrap();
    assert!(p < q);
    early.commit().await.unwrap();

    holds_at(&feed, q).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        engine.seq(),
        base,
        "applied {q} while {p} (a newer xid) was in flight"
    );
    late.commit().await.unwrap();
    assert!(applied(&engine, q).await);
    assert_eq!(engine.state_digest(), db.reference().await.state_digest());
    feed.stop().await.unwrap();
}

/// A row written inside a savepoint belongs to a subtransaction; the feed
/// waits for the top-level transaction, and a rolled-back savepoint leaves
/// a gap
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_in_savepoints_wait_for_their_top_level_transaction() {
    let (db, engine, feed, base) = fed("savepoint").await;

    let (mut c1, mut c2) = (db.connect().await, db.connect().await);
    let t1 = c1.transaction().await.unwrap();
    t1.batch_execute("SAVEPOINT kept").await.unwrap();
    let p1 = append_json(&t1, &patient("in-savepoint")).await.unwrap();
    t1.batch_execute("RELEASE SAVEPOINT kept; SAVEPOINT dropped")
        .await
        .unwrap();
    let p2 = append_json(&t1, &patient("rolled-back")).await.unwrap();
    t1.batch_execute("ROLLBACK TO SAVEPOINT dropped")
        .await
        .unwrap();
    let t2 = c2.transaction().await.unwrap();
    let p3 = append_json(&t2, &patient("other-writer")).await.unwrap();
    t2.commit().await.unwrap();
    assert!(p1 < p2 && p2 < p3);

    holds_at(&feed, p3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        engine.seq(),
        base,
        "applied {p3} while {p1}'s transaction was open"
    );
    t1.commit().await.unwrap();
    assert!(applied(&engine, p3).await);
    let rows = db.rows().await;
    let positions: Vec<u64> = rows.iter().map(|(p, _)| *p).collect();
    assert!(
        positions.contains(&p1) && !positions.contains(&p2),
        "{positions:?}"
    );
    assert_eq!(engine.state_digest(), db.reference().await.state_digest());
    feed.stop().await.unwrap();
}

/// With a 60 s poll, only NOTIFY can wake the feed within the bound: the
/// latency from commit to applied, measured
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_wakes_the_feed_long_before_its_poll() {
    let db = fresh("notify").await;
    let engine = engine();
    let mut config = db.feed_config();
    config.poll_interval = Duration::from_secs(60);
    let feed = Feed::spawn(engine.clone(), config);
    assert!(
        feed.wait_until(Duration::from_secs(10), |s| s.connected && s.caught_up)
            .await
            .is_some()
    );
    let mut w = db.connect().await;
    let mut latencies = Vec::new();
    for i in 0..30 {
        let p = *write(&mut w, &[patient(&format!("n{i}"))])
            .await
            .last()
            .unwrap();
        let t = Instant::now();
        let engine2 = engine.clone();
        let ok = tokio::task::spawn_blocking(move || engine2.wait_for(p, Duration::from_secs(5)))
            .await
            .unwrap();
        assert!(
            ok,
            "row {p} not applied within 5 s: NOTIFY did not wake the feed"
        );
        latencies.push(t.elapsed());
    }
    latencies.sort();
    eprintln!(
        "commit → applied on one replica over {} rows: min {:?}, median {:?}, max {:?}",
        latencies.len(),
        latencies[0],
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    feed.stop().await.unwrap();
}

/// Without the NOTIFY trigger the poll still finds every row
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poll_finds_rows_without_notifications() {
    let db = fresh("poll").await;
    db.client
        .batch_execute("ALTER TABLE zorg_pdp_outbox DISABLE TRIGGER zorg_pdp_outbox_notify")
        .await
        .unwrap();
    let engine = engine();
    let mut config = db.feed_config();
    config.poll_interval = Duration::from_millis(100);
    let feed = Feed::spawn(engine.clone(), config);
    let mut w = db.connect().await;
    let last = *write(&mut w, &world()).await.last().unwrap();
    assert!(applied(&engine, last).await);
    assert_eq!(engine.state_digest(), db.reference().await.state_digest());
    feed.stop().await.unwrap();
}
