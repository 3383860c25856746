//! A feed whose backend is terminated mid-stream resumes without loss or
//! duplicates; a new feed on an engine already at position p resumes after p.

use std::time::Duration;

use zorg_pdp_postgres::Feed;

use crate::common::{applied, connect, engine, entry, fresh, patient, world, write};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_backend_resumes_without_loss_or_duplicates() {
    let db = fresh("terminate").await;
    let engine = engine();
    let feed = Feed::spawn(engine.clone(), db.feed_config());
    let mut w = db.connect().await;
    write(&mut w, &world()).await;

    let config = db.config.clone();
    let writer = tokio::spawn(async move {
        let mut c = connect(&config).await;
        for i in 0..150 {
            write(
                &mut c,
                &[patient(&format!("r{i}")), patient(&format!("s{i}"))],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    let mut killed = 0;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(80)).await;
        let rows = db
            .client
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'zorg-pdp-feed'",
                &[],
            )
            .await
            .unwrap();
        killed += rows.iter().filter(|r| r.get::<_, bool>(0)).count();
    }
    writer.await.unwrap();
    assert!(killed >= 2, "terminated {killed} feed backends");

    let head = db.head().await;
    assert!(applied(&engine, head).await);
    let s = feed
        .wait_until(Duration::from_secs(10), |s| s.connected && s.caught_up)
        .await
        .unwrap();
    let rows = db.rows().await;
    assert!(s.reconnects >= 2, "{s:?}");
    assert_eq!(
        s.entries_applied,
        rows.len() as u64,
        "lost or handed twice: {s:?}"
    );
    assert_eq!(engine.seq(), head);
    assert_eq!(engine.state_digest(), db.reference().await.state_digest());
    feed.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_feed_on_an_engine_at_p_resumes_after_p() {
    let db = fresh("restart").await;
    let mut w = db.connect().await;
    let first = write(&mut w, &world()).await;
    let p = *first.last().unwrap();

    // An engine fed to p by one feed, which stops
    let engine = engine();
    let feed = Feed::spawn(engine.clone(), db.feed_config());
    assert!(applied(&engine, p).await);
    feed.stop().await.unwrap();
    let more = write(&mut w, &[patient("x1"), patient("x2"), patient("x3")]).await;

    // A new feed on the same engine hands over only the rows after p
    let feed = Feed::spawn(engine.clone(), db.feed_config());
    let last = *more.last().unwrap();
    assert!(applied(&engine, last).await);
    let s = feed
        .wait_until(Duration::from_secs(10), |s| s.caught_up)
        .await
        .unwrap();
    assert_eq!(s.entries_applied, 3);
    assert_eq!(engine.state_digest(), db.reference().await.state_digest());
    feed.stop().await.unwrap();

    // An engine that got rows up to p elsewhere (a data directory, say)
    // resumes after p too
    let restored = crate::common::engine();
    let rows = db.rows().await;
    let upto: Vec<_> = rows
        .iter()
        .filter(|(q, _)| *q <= p)
        .map(|(q, json)| entry(*q, json))
        .collect();
    restored.apply_entries(&upto).unwrap();
    let feed = Feed::spawn(restored.clone(), db.feed_config());
    assert!(applied(&restored, last).await);
    let s = feed
        .wait_until(Duration::from_secs(10), |s| s.caught_up)
        .await
        .unwrap();
    assert_eq!(s.entries_applied, 3);
    assert_eq!(restored.state_digest(), engine.state_digest());
    feed.stop().await.unwrap();
}

/// A new replica catches up on a long outbox in batches (the catch-up rate,
/// measured)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_replica_catches_up_on_a_long_outbox() {
    let db = fresh("catch_up").await;
    let mut w = db.connect().await;
    write(&mut w, &world()).await;
    db.client
        .batch_execute(
            "INSERT INTO zorg_pdp_outbox (entry) SELECT jsonb_build_object('entity', \
             jsonb_build_object('patient', jsonb_build_object('id', 'bulk-' || i))) \
             FROM generate_series(1, 20000) AS i",
        )
        .await
        .unwrap();
    let head = db.head().await;
    let engine = engine();
    let started = std::time::Instant::now();
    let feed = Feed::spawn(engine.clone(), db.feed_config());
    assert!(applied(&engine, head).await);
    let elapsed = started.elapsed();
    // The engine's position is published before the feed's counters:
    // wait (bounded) for the status to catch up with what was applied
    let want = 20000 + world().len() as u64;
    let mut s = feed.status();
    for _ in 0..500 {
        if s.entries_applied >= want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        s = feed.status();
    }
    assert_eq!(s.entries_applied, want);
    assert_eq!(engine.state_digest(), db.reference().await.state_digest());
    eprintln!(
        "catch-up: {} rows in {elapsed:?} ({:.0} rows/s, batches of 1000)",
        s.entries_applied,
        f64::from(u32::try_from(s.entries_applied).unwrap()) / elapsed.as_secs_f64()
    );
    feed.stop().await.unwrap();
}
