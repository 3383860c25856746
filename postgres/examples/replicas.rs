//! Two replicas fed from a PostgreSQL outbox, answering with freshness
//! tokens (SPEC.md §8, docs/replicas.md).
//!
//! Run with `cargo run -p zorg-pdp-postgres --example replicas`. With
//! `ZORG_PDP_POSTGRES_URL` set it works in a database of its own on that
//! server (created and dropped); without it, it starts a throw-away cluster
//! with `postgres/tests/cluster.sh` (PostgreSQL must be installed: `apt-get
//! install postgresql`) and stops it at the end.
//!
//! The story: the EHR writes its world and a consent through the outbox;
//! replicas A and B apply it and allow `anna`'s view. Replica B falls behind
//! (its feed stopped), and the patient withdraws her consent: the EHR writes
//! its own change and the withdrawal in one transaction and hands out the
//! withdrawal's position p as the token. With `min_seq = p` replica A (caught
//! up) denies on the withdrawal and replica B denies with `stale_facts` —
//! where, without the token, B would still have allowed. B's feed resumes
//! from its position, and B denies on the withdrawal too. Every answer is
//! the engine's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{Client, NoTls};
use zorg_pdp::{Category, Engine, OrganisationId, PatientId, PractitionerId, Request, Response};
use zorg_pdp_postgres::{Feed, FeedConfig, append_json, migrate};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One answer the story printed: the replica, the token asked with, the response
pub(crate) struct Answer {
    /// `A` or `B`
    pub(crate) replica: &'static str,
    /// The token (`min_seq`) the request carried
    pub(crate) min_seq: Option<u64>,
    /// The engine's response
    pub(crate) response: Response,
}

/// What the story printed and answered
pub(crate) struct Story {
    /// The text, line by line
    pub(crate) text: String,
    /// Every answer, in order
    pub(crate) answers: Vec<Answer>,
    /// The withdrawal's position
    pub(crate) withdrawal: u64,
}

const WORLD: [&str; 9] = [
    r#"{"entity":{"organisation":{"id":"vp-noord"}}}"#,
    r#"{"entity":{"organisation":{"id":"kz-oost"}}}"#,
    r#"{"entity":{"practitioner":{"id":"vera","organisation":"vp-noord","role":"verloskundige"}}}"#,
    r#"{"entity":{"practitioner":{"id":"anna","organisation":"kz-oost","role":"kraamverzorgende"}}}"#,
    r#"{"entity":{"patient":{"id":"client-1"}}}"#,
    r#"{"event":{"at":"2026-01-05T09:00:00Z","type":"treatment_started","patient":"client-1","organisation":"vp-noord"}}"#,
    r#"{"event":{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"client-1","organisation":"kz-oost"}}"#,
    r#"{"event":{"at":"2026-01-10T09:00:00Z","type":"dossier_consent_given","patient":"client-1","holder":"vp-noord"}}"#,
    r#"{"event":{"at":"2026-01-11T08:00:00Z","type":"access_requested","practitioner":"anna","patient":"client-1"}}"#,
];

const WITHDRAWAL: &str = r#"{"event":{"at":"2026-01-15T09:00:00Z","type":"dossier_consent_withdrawn","patient":"client-1","holder":"vp-noord"}}"#;

/// `anna` (kraamverzorgende at `kz-oost`) views `client-1`'s `kraambed`
/// data held by `vp-noord`
fn anna_views(min_seq: Option<u64>) -> Result<Request> {
    let mut r = Request::view(
        PractitionerId::new("anna")?,
        PatientId::new("client-1")?,
        OrganisationId::new("vp-noord")?,
        Category::new("kraambed")?,
        "2026-02-01T00:00:00Z".parse()?,
        true,
    );
    r.min_seq = min_seq;
    Ok(r)
}

/// Connects and drives the connection on a task of its own
async fn connect(config: &tokio_postgres::Config) -> Result<Client> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Waits, off the runtime's threads, until `engine` applied `position`
async fn caught_up(engine: &Arc<Engine>, position: u64) -> Result<()> {
    let e = Arc::clone(engine);
    if tokio::task::spawn_blocking(move || e.wait_for(position, Duration::from_secs(30))).await? {
        Ok(())
    } else {
        Err(format!("a replica did not reach position {position} in 30 s").into())
    }
}

impl Story {
    /// Asks `engine` and writes the answer as a line
    fn ask(&mut self, replica: &'static str, engine: &Engine, min_seq: Option<u64>) -> Result<()> {
        let answer = Answer {
            replica,
            min_seq,
            response: engine.decide(&anna_views(min_seq)?),
        };
        let token = answer
            .min_seq
            .map_or_else(|| "none".to_owned(), |s| s.to_string());
        let verdict = if answer.response.is_allowed() {
            "allow".to_owned()
        } else {
            let reasons: Vec<String> = answer
                .response
                .reasons
                .iter()
                .map(ToString::to_string)
                .collect();
            format!("deny [{}]", reasons.join(", "))
        };
        writeln!(
            self.text,
            "   replica {} (seq {:>2}), min_seq {token:>4}: anna views kraambed -> {verdict}",
            answer.replica, answer.response.seq
        )?;
        self.answers.push(answer);
        Ok(())
    }

    fn say(&mut self, line: &str) -> Result<()> {
        writeln!(self.text, "{line}")?;
        Ok(())
    }
}

/// The story on the server at `url`, in a database of its own (created, then dropped)
pub(crate) async fn story(url: &str) -> Result<Story> {
    let mut config: tokio_postgres::Config = url.parse()?;
    let admin = connect(&config).await?;
    let db = format!("zorg_pdp_replicas_example_{}", std::process::id());
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await?;
    config.dbname(&db);
    let result = told(&config).await;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await?;
    result
}

async fn told(config: &tokio_postgres::Config) -> Result<Story> {
    let mut s = Story {
        text: String::new(),
        answers: Vec::new(),
        withdrawal: 0,
    };
    let mut ehr = connect(config).await?;
    migrate(&ehr).await?;
    // The EHR's own table, beside the outbox
    ehr.batch_execute(
        "CREATE TABLE ehr_consent (patient text, holder text, given boolean, \
         PRIMARY KEY (patient, holder))",
    )
    .await?;
    s.say("1. The EHR writes its world and client-1's consent through the outbox")?;
    let tx = ehr.transaction().await?;
    tx.execute(
        "INSERT INTO ehr_consent VALUES ('client-1', 'vp-noord', true)",
        &[],
    )
    .await?;
    let mut world = 0;
    for body in WORLD {
        world = append_json(&tx, body).await?;
    }
    tx.commit().await?;
    s.say(&format!(
        "   {} entries, positions up to {world}",
        WORLD.len()
    ))?;

    let feed_config = |name: &str| -> Result<FeedConfig> {
        let mut c = FeedConfig::new("postgresql://localhost")?;
        c.postgres = config.clone();
        c.postgres.application_name(name);
        c.poll_interval = Duration::from_millis(500);
        Ok(c)
    };
    let (a, b) = (Arc::new(Engine::new()?), Arc::new(Engine::new()?));
    let feed_a = Feed::spawn(Arc::clone(&a), feed_config("replica-a")?);
    let feed_b = Feed::spawn(Arc::clone(&b), feed_config("replica-b")?);
    caught_up(&a, world).await?;
    caught_up(&b, world).await?;
    s.say(&format!(
        "\n2. Two replicas tail the outbox; asked with the token {world}, both allow"
    ))?;
    s.ask("A", &a, Some(world))?;
    s.ask("B", &b, Some(world))?;

    s.say("\n3. Replica B falls behind (its feed stops); client-1 withdraws her consent")?;
    feed_b.stop().await?;
    let tx = ehr.transaction().await?;
    tx.execute(
        "UPDATE ehr_consent SET given = false WHERE patient = 'client-1' AND holder = 'vp-noord'",
        &[],
    )
    .await?;
    let p = append_json(&tx, WITHDRAWAL).await?;
    tx.commit().await?;
    s.withdrawal = p;
    s.say(&format!(
        "   one transaction: the EHR's row and the withdrawal at position {p}, the token it hands out"
    ))?;
    caught_up(&a, p).await?;
    s.ask("A", &a, Some(p))?;
    s.ask("B", &b, Some(p))?;
    s.say("   without the token, lagging B would still answer from the older facts:")?;
    s.ask("B", &b, None)?;

    s.say(&format!(
        "\n4. B's feed resumes from its position ({}); B catches up and denies too",
        b.seq()
    ))?;
    let feed_b = Feed::spawn(Arc::clone(&b), feed_config("replica-b")?);
    caught_up(&b, p).await?;
    s.ask("B", &b, Some(p))?;
    s.say(&format!(
        "   state digests: A {} / B {}",
        a.state_digest().get(..19).unwrap_or_default(),
        b.state_digest().get(..19).unwrap_or_default()
    ))?;
    if a.state_digest() != b.state_digest() {
        return Err("the replicas' digests differ".into());
    }
    feed_a.stop().await?;
    feed_b.stop().await?;
    Ok(s)
}

/// A cluster this example started, stopped when dropped
struct Cluster {
    script: PathBuf,
    dir: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// Starts a throw-away cluster with the tests' script; its URL
fn start_cluster() -> Result<(Cluster, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster.sh");
    let dir = std::env::temp_dir().join(format!("zorg-pdp-replicas-{}", std::process::id()));
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(&dir)
        .output()?;
    let cluster = Cluster { script, dir };
    if !out.status.success() {
        return Err(format!(
            "ZORG_PDP_POSTGRES_URL is not set and no local cluster could be started:\n{}\
             Install PostgreSQL (apt-get install postgresql) or set ZORG_PDP_POSTGRES_URL to a \
             server this example may create a database on.",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let url = String::from_utf8(out.stdout)?.trim().to_owned();
    Ok((cluster, url))
}

#[tokio::main]
async fn main() {
    let run = async {
        let (cluster, url) = match std::env::var("ZORG_PDP_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => (None, url),
            _ => {
                let (c, url) = start_cluster()?;
                println!("(a throw-away PostgreSQL cluster at {url})\n");
                (Some(c), url)
            }
        };
        let s = story(&url).await?;
        print!("{}", s.text);
        drop(cluster);
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    };
    if let Err(e) = run.await {
        eprintln!("replicas example: {e}");
        std::process::exit(1);
    }
}
