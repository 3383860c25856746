//! The outbox's DDL and the writer's helper: an idempotent migration,
//! positions only from the trigger, immutable rows, entry shapes, and the
//! feed's fail-closed stops (a cached sequence, a refused or malformed row).

use std::time::Duration;

use zorg_pdp::{EntryBody, LogEntry};
use zorg_pdp_postgres::{Feed, FeedError, OutboxError, append, append_json, migrate};

use crate::common::{applied, engine, event, fresh, patient, world, write};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_is_idempotent_and_keeps_rows_and_positions() {
    let db = fresh("migrate").await;
    let mut w = db.connect().await;
    let first = write(&mut w, &[patient("a"), patient("b")]).await;
    // Again, and twice at once (the advisory lock serialises them)
    migrate(&db.client).await.unwrap();
    let (c1, c2) = (db.connect().await, db.connect().await);
    let (r1, r2) = tokio::join!(migrate(&c1), migrate(&c2));
    r1.unwrap();
    r2.unwrap();
    let next = write(&mut w, &[patient("c")]).await;
    assert_eq!(db.rows().await.len(), 3);
    assert!(next[0] > first[1], "{first:?} then {next:?}");
    let row = db
        .client
        .query_one(
            "SELECT cache_size, cycle FROM pg_sequences WHERE sequencename = 'zorg_pdp_outbox_position_seq'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, bool>(1)), (1, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positions_come_only_from_the_trigger_and_rows_never_change() {
    let db = fresh("ddl").await;
    let body = patient("a");
    let e = db
        .client
        .execute(
            "INSERT INTO zorg_pdp_outbox (position, entry) VALUES (99, $1::text::jsonb)",
            &[&body],
        )
        .await
        .unwrap_err();
    let m = e.as_db_error().unwrap().message().to_owned();
    assert!(
        m.contains("assigned by the outbox trigger") && m.contains("99"),
        "{m}"
    );
    // A plain insert gets a position
    db.client
        .execute(
            "INSERT INTO zorg_pdp_outbox (entry) VALUES ($1::text::jsonb)",
            &[&body],
        )
        .await
        .unwrap();
    assert_eq!(db.head().await, 1);
    let e = db
        .client
        .execute("UPDATE zorg_pdp_outbox SET position = 5", &[])
        .await
        .unwrap_err();
    let m = e.as_db_error().unwrap().message().to_owned();
    assert!(m.contains("immutable") && m.contains("position 1"), "{m}");
    // Shapes the table refuses: a position inside, neither or both kinds
    for bad in [
        r#"{"position": 3, "entity": {"patient": {"id": "a"}}}"#,
        r#"{"other": 1}"#,
        r#"{"entity": {}, "event": {}}"#,
        "[1]",
    ] {
        let e = db
            .client
            .execute(
                "INSERT INTO zorg_pdp_outbox (entry) VALUES ($1::text::jsonb)",
                &[&bad],
            )
            .await
            .unwrap_err();
        let m = e
            .as_db_error()
            .unwrap()
            .constraint()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(m, "zorg_pdp_outbox_entry_shape", "{bad}");
    }
    assert_eq!(db.rows().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_writes_what_the_feed_reads_and_append_json_checks_first() {
    let db = fresh("append").await;
    let mut w = db.connect().await;
    let tx = w.transaction().await.unwrap();
    let entry =
        LogEntry::from_json(r#"{"position": 1, "entity": {"patient": {"id": "c9"}}}"#).unwrap();
    let p = append(&tx, entry.body()).await.unwrap();
    for (bad, says) in [
        (
            r#"{"entity": {"patient": {"id": "c9"}}, "extra": 1}"#,
            "extra",
        ),
        (
            r#"{"position": 4, "entity": {"patient": {"id": "c9"}}}"#,
            "position",
        ),
        (r#"{"event": {"type": "treatment_started"}}"#, "at"),
        ("[]", "object"),
        ("{", "EOF"),
    ] {
        match append_json(&tx, bad).await {
            Err(OutboxError::Entry(m)) => assert!(m.contains(says), "{bad}: {m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    tx.commit().await.unwrap();
    let rows = db.rows().await;
    assert_eq!(rows.len(), 1, "nothing but the good entry was written");
    assert_eq!(rows[0].0, p);
    let read = crate::common::entry(p, &rows[0].1);
    assert_eq!(read.body(), entry.body());
    assert!(matches!(read.body(), EntryBody::Entity(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_sequence_stops_the_feed() {
    let db = fresh("cache").await;
    db.client
        .batch_execute("ALTER SEQUENCE zorg_pdp_outbox_position_seq CACHE 10")
        .await
        .unwrap();
    let feed = Feed::spawn(engine(), db.feed_config());
    let r = tokio::time::timeout(Duration::from_secs(20), feed.join())
        .await
        .unwrap();
    match r {
        Err(
            e @ FeedError::Sequence {
                cache_size: 10,
                cycle: false,
            },
        ) => {
            assert!(e.to_string().contains("CACHE 1"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // migrate pins it back
    migrate(&db.client).await.unwrap();
    let feed = Feed::spawn(engine(), db.feed_config());
    assert!(
        feed.wait_until(Duration::from_secs(10), |s| s.caught_up)
            .await
            .is_some()
    );
    feed.stop().await.unwrap();
}

/// An entry the engine refuses stops every replica at the same row: the rows
/// before it applied, nothing after it; a new feed stops there again
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_entry_stops_the_feed_at_its_position() {
    let db = fresh("refused").await;
    let mut w = db.connect().await;
    let good = *write(&mut w, &world()).await.last().unwrap();
    // Well-formed, but names a patient nobody registered
    let bad = write(
        &mut w,
        &[event(
            r#"{"at":"2026-01-12T09:00:00Z","type":"treatment_started","patient":"nobody","organisation":"vp-noord"}"#,
        )],
    )
    .await[0];
    write(&mut w, &[patient("after")]).await;
    for _ in 0..2 {
        let engine = engine();
        let feed = Feed::spawn(engine.clone(), db.feed_config());
        let status = feed.subscribe();
        let r = tokio::time::timeout(Duration::from_secs(20), feed.join())
            .await
            .unwrap();
        match r {
            Err(e @ FeedError::Refused { .. }) => {
                let FeedError::Refused { position, .. } = &e else {
                    unreachable!()
                };
                assert_eq!(*position, bad);
                // The host's log has the value; Debug and the status do not
                assert!(e.to_string().contains("unknown `nobody`"), "{e}");
                let debug = format!("{e:?}");
                assert!(
                    debug.contains("field `patient`: unknown value") && !debug.contains("nobody"),
                    "{debug}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(engine.seq(), good);
        let s = status.borrow().clone();
        assert!(s.stopped && !s.is_ready());
        let m = s.last_error.unwrap();
        assert!(m.contains(&format!("position {bad}")), "{m}");
        assert!(!m.contains("nobody"), "an id in the status: {m}");
    }
}

/// A row written past `append` that is no entry stops the feed too
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_row_stops_the_feed() {
    let db = fresh("malformed").await;
    let mut w = db.connect().await;
    let good = *write(&mut w, &world()).await.last().unwrap();
    let body = r#"{"event": {"at": "2026-01-12T09:00:00Z", "type": "treatment_started", "patient": "client-1"}}"#;
    db.client
        .execute(
            "INSERT INTO zorg_pdp_outbox (entry) VALUES ($1::text::jsonb)",
            &[&body],
        )
        .await
        .unwrap();
    let engine = engine();
    let feed = Feed::spawn(engine.clone(), db.feed_config());
    let r = tokio::time::timeout(Duration::from_secs(20), feed.join())
        .await
        .unwrap();
    match r {
        Err(FeedError::Malformed { position, reason }) => {
            assert_eq!(position, good + 1);
            assert!(reason.contains("organisation"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(applied(&engine, good).await);
    assert_eq!(engine.seq(), good);
}
