//! The service under load, over loopback, bounded and measured:
//! `cargo run --release -p zorg-pdp-server --example load`.
//!
//! It builds the perf report's world (`benches/world`: 100,000 patients,
//! 1,000 organisations, 10,000 practitioners), serves it on `127.0.0.1:0`
//! on a tokio runtime of its own through the binary's whole front (a bearer
//! token checked on every request, the guard's limits, the accept loop with
//! its header timeout), and drives it from a
//! client on another thread over keep-alive connections with a fixed number
//! of requests and a time limit:
//!
//! * single `POST /access/v1/evaluation`s, one `view` each;
//! * batches of 14 `POST /access/v1/evaluations` items, one dashboard
//!   holder (every category of one holder for one practitioner and patient).
//!
//! Every answer is checked against the engine's own decision for the same
//! request: a wrong decision, a status other than 200 or a broken answer is
//! an error. In the same run it times the engine in-process: `decide` on
//! the same requests, and the same JSON through the service's AuthZEN
//! handler code without HTTP, so the HTTP overhead is a ratio of figures
//! taken side by side. The last line printed is one JSON object.
//!
//! Options: `--patients N` (100000), `--organisations N` (1000),
//! `--requests N` (200000 singles), `--batches N` (20000),
//! `--connections N` (16, for single evaluations), `--batch-connections N`
//! (8), `--seconds S` (a limit per phase, 60),
//! `--server-threads N` (2).

#![expect(
    clippy::unwrap_used,
    clippy::many_single_char_names,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    reason = "measurement code: fixed-size worlds, percentiles and ratios; a failed setup ends the run"
)]
// Public (and so linted for these) only when built as the example, not
// when server/tests/http/load.rs includes it
#![cfg_attr(
    not(test),
    expect(
        clippy::missing_panics_doc,
        clippy::should_implement_trait,
        reason = "the bench world's helpers unwrap, and its Rng has a `next`"
    )
)]

/// The allocator the binary uses (server/src/main.rs)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../../benches/world/mod.rs"]
pub mod world;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use world::{CATEGORIES, Rng, STAFF, Size};
use zorg_pdp::{Action, Category, Engine, Principal, Request};
use zorg_pdp_server::app::{answer_evaluation, answer_evaluations};
use zorg_pdp_server::authzen::parse_object;

/// What to run
#[derive(Debug, Clone)]
pub struct Options {
    /// Patients in the world
    pub patients: usize,
    /// Organisations in the world
    pub organisations: usize,
    /// Single evaluations to send
    pub requests: usize,
    /// Batches of 14 to send
    pub batches: usize,
    /// Keep-alive connections for single evaluations, each with one request in flight
    pub connections: usize,
    /// Keep-alive connections for batches
    pub batch_connections: usize,
    /// The time limit of each phase
    pub limit: Duration,
    /// The server runtime's worker threads
    pub server_threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            patients: 100_000,
            organisations: 1_000,
            requests: 200_000,
            batches: 20_000,
            connections: 16,
            batch_connections: 8,
            limit: Duration::from_secs(60),
            server_threads: 2,
        }
    }
}

impl Options {
    fn from_args() -> Self {
        let mut o = Self::default();
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it
                .next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
                .as_str();
            let n = || -> usize { value.parse().unwrap_or_else(|_| panic!("{flag} {value}")) };
            match flag.as_str() {
                "--patients" => o.patients = n(),
                "--organisations" => o.organisations = n(),
                "--requests" => o.requests = n(),
                "--batches" => o.batches = n(),
                "--connections" => o.connections = n(),
                "--batch-connections" => o.batch_connections = n(),
                "--seconds" => o.limit = Duration::from_secs(n() as u64),
                "--server-threads" => o.server_threads = n(),
                other => panic!("unknown option {other}"),
            }
        }
        o
    }
}

/// One prepared HTTP request and the decisions its answer must carry
struct Prepared {
    bytes: Vec<u8>,
    expect: Vec<bool>,
}

/// The figures of one phase
#[derive(Debug, Clone)]
pub struct Phase {
    /// Requests answered within the limit
    pub requests: usize,
    /// Decisions answered (items of batches)
    pub items: usize,
    /// Wrong or failed answers
    pub errors: usize,
    /// Wall time of the phase
    pub seconds: f64,
    /// Latency per request, client-side (write to last byte read), sorted, ns
    latencies: Vec<u64>,
    /// Whether the time limit cut the phase short
    pub cut: bool,
}

impl Phase {
    /// Requests per second
    pub fn per_s(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    /// Decisions per second
    pub fn items_per_s(&self) -> f64 {
        self.items as f64 / self.seconds
    }
    /// A latency percentile in µs
    pub fn p_us(&self, p: f64) -> f64 {
        percentile(&self.latencies, p) as f64 / 1e3
    }
    /// Mean latency in µs
    pub fn mean_us(&self) -> f64 {
        mean(&self.latencies) / 1e3
    }
    fn json(&self) -> Value {
        json!({
            "requests": self.requests, "items": self.items, "errors": self.errors,
            "seconds": round(self.seconds, 3), "per_s": self.per_s().round(),
            "items_per_s": self.items_per_s().round(),
            "p50_us": round(self.p_us(0.50), 1), "p99_us": round(self.p_us(0.99), 1),
            "mean_us": round(self.mean_us(), 1), "cut_by_time_limit": self.cut,
        })
    }
}

/// The report of one run
#[derive(Debug, Clone)]
pub struct Report {
    /// Single evaluations over HTTP
    pub single: Phase,
    /// Batches of 14 over HTTP
    pub batch: Phase,
    /// `Engine::decide` in-process on the single requests, sorted ns
    decide_ns: Vec<u64>,
    /// The AuthZEN JSON through the service's handler code, no HTTP, sorted ns
    handler_ns: Vec<u64>,
    /// The batches through the handler code, no HTTP, sorted ns per batch
    batch_handler_ns: Vec<u64>,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn mean(v: &[u64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.iter().sum::<u64>() as f64 / v.len() as f64
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

impl Report {
    /// The report as one JSON object
    pub fn json(&self) -> Value {
        let decide_mean = mean(&self.decide_ns);
        json!({
            "single": self.single.json(),
            "batch14": self.batch.json(),
            "in_process": {
                "decide_p50_ns": percentile(&self.decide_ns, 0.5),
                "decide_p99_ns": percentile(&self.decide_ns, 0.99),
                "decide_mean_ns": decide_mean.round(),
                "handler_p50_ns": percentile(&self.handler_ns, 0.5),
                "handler_mean_ns": mean(&self.handler_ns).round(),
                "batch14_handler_p50_ns": percentile(&self.batch_handler_ns, 0.5),
                "batch14_handler_mean_ns": mean(&self.batch_handler_ns).round(),
            },
            // What a single decision costs over HTTP against in-process, both
            // per decision and measured in this run (mean latency vs mean decide)
            "http_over_decide_mean": round(self.single.mean_us() * 1e3 / decide_mean, 1),
            // Throughput: in-process decisions per second on one thread vs
            // HTTP decisions per second on the whole machine
            "decide_per_s_one_thread": (1e9 / decide_mean).round(),
            "goals": {
                "single_per_s_40000": self.single.per_s() >= 40_000.0,
                "batch_items_per_s_250000": self.batch.items_per_s() >= 250_000.0,
                "p99_le_2ms": self.single.p_us(0.99) <= 2_000.0 && self.batch.p_us(0.99) <= 2_000.0,
                "zero_errors": self.single.errors == 0 && self.batch.errors == 0,
            },
        })
    }
}

/// The AuthZEN body of a `view` request
fn evaluation(r: &Request) -> Value {
    let (
        Principal::Practitioner(p),
        Action::View {
            holder,
            category,
            purpose,
        },
    ) = (&r.principal, &r.action)
    else {
        panic!("the world's requests are practitioners' views");
    };
    json!({
        "subject": {"type": "practitioner", "id": p.as_str()},
        "action": {"name": "view"},
        "resource": {"type": "patient", "id": r.patient.as_str(),
                     "properties": {"holder": holder.as_str(), "category": category.as_str()}},
        "context": {"at": r.at.to_string(), "mfa": r.mfa, "purpose": purpose.as_str()},
    })
}

/// The bearer token the client sends (the server's config holds its hash)
const TOKEN: &str = "zorg-pdp-load-generator-token-0123456789abcdefghij";

fn http(path: &str, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The requests of a dashboard holder: one per category, the rest as the seed request
fn holder_requests(seed: &Request) -> Vec<Request> {
    CATEGORIES
        .iter()
        .map(|c| {
            let mut r = seed.clone();
            if let Action::View { category, .. } = &mut r.action {
                *category = Category::new(c).unwrap();
            }
            r
        })
        .collect()
}

/// A batch body: subject, action and context as defaults, one resource per item
fn batch(items: &[Request]) -> Value {
    let first = evaluation(&items[0]);
    let evaluations: Vec<Value> = items
        .iter()
        .map(|r| json!({ "resource": evaluation(r)["resource"] }))
        .collect();
    json!({
        "subject": first["subject"], "action": first["action"], "context": first["context"],
        "evaluations": evaluations,
    })
}

/// The decisions of an answer, in order: every `"decision":` and its value
fn decisions(body: &[u8]) -> Vec<bool> {
    const KEY: &[u8] = b"\"decision\":";
    memchr::memmem::find_iter(body, KEY)
        .filter_map(|at| match body.get(at + KEY.len()) {
            Some(b't') => Some(true),
            Some(b'f') => Some(false),
            _ => None,
        })
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Reads one HTTP/1.1 answer from `stream` into `buf`; its status and body range
async fn read_answer(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<(u16, std::ops::Range<usize>)> {
    buf.clear();
    let mut more = async |buf: &mut Vec<u8>| -> std::io::Result<()> {
        buf.reserve(16 * 1024);
        match stream.read_buf(buf).await? {
            0 => Err(std::io::ErrorKind::UnexpectedEof.into()),
            _ => Ok(()),
        }
    };
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap_or("");
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())
                        .flatten()
                })
                .unwrap_or(0);
            let body = end + 4..end + 4 + length;
            while buf.len() < body.end {
                more(buf).await?;
            }
            return Ok((status, body));
        }
        more(buf).await?;
    }
}

/// What one connection measured
#[derive(Default)]
struct Tally {
    latencies: Vec<u64>,
    items: usize,
    errors: usize,
}

async fn connection(
    addr: SocketAddr,
    work: Arc<Vec<Prepared>>,
    next: Arc<AtomicUsize>,
    count: usize,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        tally.errors += 1;
        return tally;
    };
    stream.set_nodelay(true).unwrap();
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count || Instant::now() >= deadline {
            return tally;
        }
        let p = &work[i % work.len()];
        let t = Instant::now();
        let answer = match stream.write_all(&p.bytes).await {
            Ok(()) => read_answer(&mut stream, &mut buf).await,
            Err(e) => Err(e),
        };
        let elapsed = t.elapsed().as_nanos() as u64;
        match answer {
            Ok((200, body)) if decisions(&buf[body.clone()]) == p.expect => {
                tally.latencies.push(elapsed);
                tally.items += p.expect.len();
            }
            Ok(_) => tally.errors += 1,
            Err(_) => {
                // The connection is gone: count it and stop this connection
                tally.errors += 1;
                return tally;
            }
        }
    }
}

/// Sends `count` of `work` (round robin) over `connections` and measures
fn drive(
    addr: SocketAddr,
    work: Vec<Prepared>,
    o: &Options,
    connections: usize,
    count: usize,
) -> Phase {
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let work = Arc::new(work);
    client.block_on(async {
        // Warm the connections and the server's code paths: not measured
        let warm = Arc::new(AtomicUsize::new(0));
        let far = Instant::now() + o.limit;
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(connection(
                    addr,
                    work.clone(),
                    warm.clone(),
                    (count / 20).min(2_000),
                    far,
                ))
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let next = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        let deadline = start + o.limit;
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                tokio::spawn(connection(
                    addr,
                    work.clone(),
                    next.clone(),
                    count,
                    deadline,
                ))
            })
            .collect();
        let mut all = Tally::default();
        for t in tasks {
            let t = t.await.unwrap();
            all.latencies.extend(t.latencies);
            all.items += t.items;
            all.errors += t.errors;
        }
        let seconds = start.elapsed().as_secs_f64();
        all.latencies.sort_unstable();
        Phase {
            requests: all.latencies.len(),
            items: all.items,
            errors: all.errors,
            seconds,
            cut: Instant::now() >= deadline,
            latencies: all.latencies,
        }
    })
}

/// Serves `decider` on `listener` as the binary does: a config with one
/// `decide` token, the guard (token, concurrency limit, body limits and
/// timeout), the accept loop with its header timeout
fn serve(
    server: &tokio::runtime::Runtime,
    listener: tokio::net::TcpListener,
    decider: Arc<zorg_pdp_server::ZorgDecider>,
) {
    let addr = listener.local_addr().unwrap();
    let config = std::env::temp_dir().join(format!("zorg-pdp-load-{}.toml", std::process::id()));
    let hash = zorg_pdp_server::config::hex(&zorg_pdp_server::config::token_hash(TOKEN));
    std::fs::write(
        &config,
        format!("[[tokens]]\nname = \"load\"\nsha256 = \"{hash}\"\nscopes = [\"decide\"]\n"),
    )
    .unwrap();
    let front = zorg_pdp_server::secure::Front::prepare(Some(&config), Some(addr)).unwrap();
    let _ = std::fs::remove_file(&config);
    let router = zorg_pdp_server::app::zorg_router_with(
        decider,
        &format!("http://{addr}"),
        front.body_limits(),
    );
    server.spawn(async move {
        front
            .serve(listener, router, std::future::pending::<()>())
            .await
    });
}

/// Builds the world, serves it, runs both phases and the in-process timings
pub fn run(o: &Options) -> Report {
    let size = Size {
        organisations: o.organisations,
        patients: o.patients,
    };
    let engine = Engine::new().unwrap();
    world::build(&engine, size);
    let decider = zorg_pdp_server::decider(engine);
    let engine = decider.engine().clone();

    // The requests and the engine's own answers
    let mut rng = Rng::new(0x10ad);
    let distinct = o.requests.clamp(1, 100_000);
    let singles: Vec<Request> = (0..distinct)
        .map(|_| world::view_request(size, &mut rng))
        .collect();
    let single_work: Vec<Prepared> = singles
        .iter()
        .map(|r| Prepared {
            bytes: http("/access/v1/evaluation", &evaluation(r)),
            expect: vec![engine.decide(r).is_allowed()],
        })
        .collect();
    let batch_work: Vec<Prepared> = (0..o.batches.clamp(1, 20_000))
        .map(|_| {
            let items = holder_requests(&world::view_request(size, &mut rng));
            Prepared {
                bytes: http("/access/v1/evaluations", &batch(&items)),
                expect: items
                    .iter()
                    .map(|r| engine.decide(r).is_allowed())
                    .collect(),
            }
        })
        .collect();

    // In-process, side by side: decide, and the AuthZEN handler code on the same JSON
    let bodies: Vec<Vec<u8>> = singles
        .iter()
        .map(|r| evaluation(r).to_string().into_bytes())
        .collect();
    let mut decide_ns = Vec::with_capacity(singles.len());
    let mut handler_ns = Vec::with_capacity(singles.len());
    let mut agree = 0usize;
    for (r, body) in singles.iter().zip(&bodies) {
        let t = Instant::now();
        let d = std::hint::black_box(engine.decide(std::hint::black_box(r)));
        decide_ns.push(t.elapsed().as_nanos() as u64);
        let t = Instant::now();
        let m = parse_object(body).unwrap();
        let text =
            serde_json::to_string(&answer_evaluation(decider.as_ref(), &m).unwrap()).unwrap();
        handler_ns.push(t.elapsed().as_nanos() as u64);
        agree += usize::from(decisions(text.as_bytes()) == [d.is_allowed()]);
    }
    assert_eq!(agree, singles.len(), "the handler and decide disagree");
    decide_ns.sort_unstable();
    handler_ns.sort_unstable();
    // The batches through the handler code, without HTTP, per batch
    let mut batch_handler_ns: Vec<u64> = batch_work
        .iter()
        .map(|p| {
            let body = &p.bytes[find(&p.bytes, b"\r\n\r\n").unwrap() + 4..];
            let t = Instant::now();
            let m = parse_object(body).unwrap();
            let text =
                serde_json::to_string(&answer_evaluations(decider.as_ref(), &m).unwrap()).unwrap();
            let ns = t.elapsed().as_nanos() as u64;
            assert_eq!(decisions(text.as_bytes()), p.expect);
            ns
        })
        .collect();
    batch_handler_ns.sort_unstable();

    // The server: its own runtime, as the binary runs it
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.server_threads)
        .enable_all()
        .build()
        .unwrap();
    let listener = server
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    serve(&server, listener, decider);
    let single = drive(addr, single_work, o, o.connections, o.requests);
    let batch = drive(addr, batch_work, o, o.batch_connections, o.batches);
    server.shutdown_timeout(Duration::from_secs(5));
    Report {
        single,
        batch,
        decide_ns,
        handler_ns,
        batch_handler_ns,
    }
}

fn main() {
    let o = Options::from_args();
    eprintln!(
        "load: {} patients, {} organisations ({} practitioners), {} connections ({} for batches), {} server threads",
        o.patients,
        o.organisations,
        o.organisations * STAFF,
        o.connections,
        o.batch_connections,
        o.server_threads
    );
    let t = Instant::now();
    let report = run(&o);
    let v = report.json();
    for (name, p) in [
        ("single evaluations", &report.single),
        ("batches of 14", &report.batch),
    ] {
        println!(
            "{name:>20}: {:>7} requests in {:.2} s = {:>8.0}/s ({:>8.0} decisions/s), p50 {:>7.1} µs, p99 {:>7.1} µs, mean {:>7.1} µs, {} errors{}",
            p.requests,
            p.seconds,
            p.per_s(),
            p.items_per_s(),
            p.p_us(0.5),
            p.p_us(0.99),
            p.mean_us(),
            p.errors,
            if p.cut {
                " (cut by the time limit)"
            } else {
                ""
            }
        );
    }
    println!(
        "{:>20}: decide p50 {} ns, mean {} ns; handler (JSON in, JSON out, no HTTP) p50 {} ns, a batch of 14 p50 {} ns",
        "in-process",
        v["in_process"]["decide_p50_ns"],
        v["in_process"]["decide_mean_ns"],
        v["in_process"]["handler_p50_ns"],
        v["in_process"]["batch14_handler_p50_ns"]
    );
    println!("{:>20}: {}", "goals", v["goals"]);
    eprintln!("load: done in {:.1} s", t.elapsed().as_secs_f64());
    println!("{v}");
}
