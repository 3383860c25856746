//! Two `zorg-pdp-server --postgres URL` replicas on one PostgreSQL outbox
//! honour `min_seq` (R47, R9): a consent and then its withdrawal are written
//! through `zorg_pdp_postgres::append` while an earlier writer holds a
//! position open; asked with `context.min_seq` = the withdrawal's position,
//! neither ever allows (`stale_facts` until it has the withdrawal, its deny
//! after); `/readyz` is 503 while the feed waits and 200 once caught up.
//!
//! The server's URL comes from `ZORG_PDP_POSTGRES_URL` (`.ci/run` starts a
//! throw-away cluster with `postgres/tests/cluster.sh` and exports it); the
//! test fails without it, as `postgres/tests/pg` do.
#![expect(
    clippy::cast_precision_loss,
    reason = "metric samples are small whole counts, exact in f64 and compared exactly"
)]
#![expect(
    clippy::indexing_slicing,
    reason = "helpers index JSON answers (a missing key is Null, and the test then fails)"
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio_postgres::{Client, NoTls};
use zorg_pdp::{EntryBody, LogEntry};

use crate::binary::{Running, eventually, scratch};
use crate::client::{Server, TIMEOUT};
use crate::operations::samples;

/// How long a replica may take to catch up
const CATCH_UP: Duration = Duration::from_secs(30);

fn base_url() -> String {
    match std::env::var("ZORG_PDP_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "ZORG_PDP_POSTGRES_URL is not set: the replica tests need a PostgreSQL server. Start \
             a throw-away one with `bash postgres/tests/cluster.sh start` (as .ci/run does) and \
             export the URL it prints as ZORG_PDP_POSTGRES_URL"
        ),
    }
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio::time::timeout(TIMEOUT, tokio_postgres::connect(url, NoTls))
        .await
        .expect("connecting timed out")
        .unwrap();
    tokio::spawn(connection);
    client
}

/// A fresh, migrated database of this test's own; its URL
async fn fresh_db(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let base = base_url();
    let admin = connect(&base).await;
    let db = format!(
        "zpdp_server_{name}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').expect("a URL with a database");
    let url = format!("{prefix}/{db}");
    zorg_pdp_postgres::migrate(&connect(&url).await)
        .await
        .unwrap();
    url
}

/// An entry body from its JSON (`{"event": …}` or `{"entity": …}`)
fn body(json: &Value) -> EntryBody {
    let mut v = json.clone();
    v["position"] = json!(1);
    LogEntry::from_json(&v.to_string()).unwrap().body().clone()
}

/// Appends `bodies` in one committed transaction; their positions
async fn write(client: &mut Client, bodies: &[Value]) -> Vec<u64> {
    let tx = client.transaction().await.unwrap();
    let mut positions = Vec::new();
    for b in bodies {
        positions.push(zorg_pdp_postgres::append(&tx, &body(b)).await.unwrap());
    }
    tx.commit().await.unwrap();
    positions
}

/// The small world of the feed's tests, without a consent: `vp-noord`
/// (`vera`), `kz-oost` (`anna`), `client-1` treated by both, anna's access
/// request
fn world() -> Vec<Value> {
    vec![
        json!({"entity": {"organisation": {"id": "vp-noord"}}}),
        json!({"entity": {"organisation": {"id": "kz-oost"}}}),
        json!({"entity": {"practitioner": {"id": "vera", "organisation": "vp-noord", "role": "verloskundige"}}}),
        json!({"entity": {"practitioner": {"id": "anna", "organisation": "kz-oost", "role": "kraamverzorgende"}}}),
        json!({"entity": {"patient": {"id": "client-1"}}}),
        json!({"event": {"at": "2026-01-05T09:00:00Z", "type": "treatment_started", "patient": "client-1", "organisation": "vp-noord"}}),
        json!({"event": {"at": "2026-01-10T09:00:00Z", "type": "treatment_started", "patient": "client-1", "organisation": "kz-oost"}}),
        json!({"event": {"at": "2026-01-11T08:00:00Z", "type": "access_requested", "practitioner": "anna", "patient": "client-1"}}),
    ]
}

/// anna views client-1's kraambed data held by vp-noord at `at`, with the
/// freshness token `min_seq`
fn anna_views(at: &str, min_seq: u64) -> Value {
    json!({
        "subject": {"type": "practitioner", "id": "anna"},
        "action": {"name": "view"},
        "resource": {"type": "patient", "id": "client-1",
                     "properties": {"holder": "vp-noord", "category": "kraambed"}},
        "context": {"at": at, "mfa": true, "min_seq": min_seq},
    })
}

const AFTER_WITHDRAWAL: &str = "2026-02-01T00:00:00Z";
const BETWEEN: &str = "2026-01-12T00:00:00Z";

async fn readyz(s: &Server) -> (u16, Value) {
    let r = s.get("/readyz").await;
    (r.status, r.json())
}

/// Asks with `min_seq` = the withdrawal's position: never an allow; true
/// when the answer is the withdrawal's deny (not `stale_facts`)
async fn never_allows(s: &Server, w: u64) -> bool {
    let d = s
        .post_json("/access/v1/evaluation", &anna_views(AFTER_WITHDRAWAL, w))
        .await
        .json();
    assert_eq!(
        d["decision"],
        json!(false),
        "an allow from older facts: {d}"
    );
    let reasons = d["context"]["reasons"].clone();
    if reasons == json!(["stale_facts"]) {
        return false;
    }
    assert!(
        reasons
            .as_array()
            .unwrap()
            .contains(&json!("no_dossier_consent")),
        "{d}"
    );
    assert!(d["context"]["seq"].as_u64().unwrap() >= w, "{d}");
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_outbox_honour_min_seq() {
    let url = fresh_db("minseq").await;
    let mut writer = connect(&url).await;
    let world_positions = write(&mut writer, &world()).await;
    let world_head = *world_positions.last().unwrap();

    let dirs = [scratch("replica-a"), scratch("replica-b")];
    let mut servers = Vec::new();
    for dir in &dirs {
        servers.push(
            Running::start([
                "--data",
                &dir.display().to_string(),
                "--postgres",
                url.as_str(),
            ])
            .await,
        );
    }
    for s in &servers {
        let said = eventually(TIMEOUT, || async move {
            s.stderr().contains("replica of the PostgreSQL outbox")
        })
        .await;
        assert!(said, "{}", s.stderr());
        let client = &s.client;
        let ready = eventually(CATCH_UP, || async move { readyz(client).await.0 == 200 }).await;
        assert!(ready, "a replica did not catch up with the world");
        let (_, v) = readyz(&s.client).await;
        assert_eq!(v["seq"], json!(world_head), "{v}");
        assert_eq!(v["feed"]["applied"], json!(world_head), "{v}");
        // A replica takes its facts from the outbox only
        let r = s
            .client
            .post_json("/v1/entries", &json!({"entity": {"patient": {"id": "x"}}}))
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("outbox"), "{}", r.body);
    }

    // An earlier writer takes a position and holds its transaction open
    let mut slow = connect(&url).await;
    let slow_tx = slow.transaction().await.unwrap();
    let held = zorg_pdp_postgres::append(
        &slow_tx,
        &body(&json!({"entity": {"patient": {"id": "client-2"}}})),
    )
    .await
    .unwrap();
    // The consent, then its withdrawal, each committed
    let consent = json!({"event": {"at": "2026-01-10T09:00:00Z", "type": "dossier_consent_given",
        "patient": "client-1", "holder": "vp-noord"}});
    let withdrawal = json!({"event": {"at": "2026-01-15T09:00:00Z", "type": "dossier_consent_withdrawn",
        "patient": "client-1", "holder": "vp-noord"}});
    let c = write(&mut writer, &[consent]).await[0];
    let w = write(&mut writer, &[withdrawal]).await[0];
    assert!(held < c && c < w, "{held} {c} {w}");

    // While the earlier writer is open the feeds wait at its hole: 503,
    // and every answer with min_seq = w is stale_facts
    for s in &servers {
        let client = &s.client;
        let waiting = eventually(CATCH_UP, || async move {
            let (status, v) = readyz(client).await;
            status == 503 && v["feed"]["waiting_for_writers"] == json!(true)
        })
        .await;
        assert!(waiting, "the feed did not wait for the open writer");
        let (status, v) = readyz(&s.client).await;
        assert_eq!(status, 503);
        assert_eq!(v["ready"], json!(false));
        assert!(v["seq"].as_u64().unwrap() < held, "{v}");
        // It saw the consent at least (the withdrawal may have come after its read)
        assert!(v["feed"]["head"].as_u64().unwrap() >= c, "{v}");
        let m = samples(&s.client.get("/metrics").await.body);
        assert_eq!(m.get("zorg_pdp_feed_ready"), Some(&0.0));
        assert_eq!(m.get("zorg_pdp_feed_connected"), Some(&1.0));
        assert!(m.get("zorg_pdp_feed_lag").copied().unwrap_or(0.0) >= 1.0);
        for _ in 0..10 {
            assert!(!never_allows(&s.client, w).await, "w is not applied yet");
        }
    }

    // The earlier writer commits: both catch up, asked all along
    slow_tx.commit().await.unwrap();
    for s in &servers {
        let client = &s.client;
        let caught_up = eventually(CATCH_UP, || async move {
            let _ = never_allows(client, w).await;
            readyz(client).await.0 == 200
        })
        .await;
        assert!(caught_up, "a replica did not catch up after the commit");
        assert!(
            never_allows(&s.client, w).await,
            "once ready: the withdrawal's deny"
        );
        // The consent was applied too: between the two, anna may view
        let between = s
            .client
            .post_json("/access/v1/evaluation", &anna_views(BETWEEN, w))
            .await
            .json();
        assert_eq!(between["decision"], json!(true), "{between}");
        let (_, v) = readyz(&s.client).await;
        assert_eq!(v["seq"], json!(w), "{v}");
        let m = samples(&s.client.get("/metrics").await.body);
        assert_eq!(m.get("zorg_pdp_feed_ready"), Some(&1.0));
        assert_eq!(m.get("zorg_pdp_feed_lag"), Some(&0.0));
        assert_eq!(m.get("zorg_pdp_seq"), Some(&(w as f64)));
    }

    for s in servers {
        let (status, stderr) = s.terminate().await;
        assert!(status.success(), "{status}: {stderr}");
        assert!(
            stderr.contains(&format!("stopped at position {w}")),
            "{stderr}"
        );
    }
    for dir in &dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    drop((writer, slow));
    let db = url.rsplit_once('/').map(|(_, db)| db.to_owned()).unwrap();
    connect(&base_url())
        .await
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await
        .unwrap();
}
