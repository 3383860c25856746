//! Benches for the audit log.
//!
//! - Criterion: records per second into a file sink that syncs every 1,000
//!   records (target ≥ 200,000/s), on flush only, and from four threads into
//!   one sink.
//! - Deciding with a memory sink attached against deciding without one
//!   (target ≤ 20% more), in paired rounds: each round runs every variant
//!   once, in a rotating order, each run after an untimed warm-up; a line per
//!   world gives the median and quartiles of each variant's per-round ratio
//!   to deciding without a sink. The variants: a sink that drops each record
//!   (what building it costs), a memory sink that keeps the records (what the
//!   sink adds to a decision), one drained every 10,000 records by a host
//!   thread beside the deciding one, one drained on the deciding thread
//!   between timed stretches, and a control: no sink, but a 10,000-record
//!   drain's work done between the stretches, to show what a host's own work
//!   costs the deciding thread.
//!
//! `cargo bench --bench audit`; `ZORG_AUDIT_WORLD=small|large` measures one
//! world only, `ZORG_AUDIT_ROUNDS=N` sets the rounds (11), and
//! `ZORG_AUDIT_ROUNDS_SHOW=1` prints every round's ratios (to see the
//! machine's noise). A last line per world gives what draining costs per
//! record. Deciding is measured in the world of the
//! `decide` bench (100,000 patients with ten events each, 1,000
//! organisations), and in a small one (2,000 patients, 50 organisations)
//! whose registry fits in the caches, so every cost of the sink shows.

#![expect(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::missing_panics_doc,
    clippy::many_single_char_names,
    clippy::should_implement_trait,
    reason = "measurement code: fixed-size worlds, percentiles and ratios"
)]

use std::cell::Cell;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zorg_pdp::audit::{AuditRecord, AuditSink, Durability, FileSink, PendingRecord};
use zorg_pdp::{Engine, MemorySink, Request};

#[path = "world/mod.rs"]
pub mod world;

use world::{Rng, Size};

/// The world of the `decide` bench
const DECIDE_WORLD: Size = Size {
    organisations: 1_000,
    patients: 100_000,
};

/// A world whose registry fits in the caches
const SMALL_WORLD: Size = Size {
    organisations: 50,
    patients: 2_000,
};

/// A scratch file, removed when dropped
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "zorg-pdp-bench-{}-{name}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn engine(size: Size) -> Engine {
    let engine = Engine::new().unwrap();
    world::build(&engine, size);
    engine
}

fn requests(size: Size, n: usize, seed: u64) -> Vec<Request> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| world::view_request(size, &mut rng))
        .collect()
}

/// Records as the engine builds them, from real decisions
fn sample_records(engine: &Engine, qs: &[Request]) -> Vec<AuditRecord> {
    let sink = Arc::new(MemorySink::new());
    engine.set_audit_sink(Arc::clone(&sink) as Arc<dyn AuditSink>);
    for q in qs {
        engine.decide(q);
    }
    engine.clear_audit_sink();
    sink.records()
        .unwrap()
        .into_iter()
        .map(|mut r| {
            r.seq = 0;
            r.prev_hash.clear();
            r.hash.clear();
            r
        })
        .collect()
}

fn file_sink(c: &mut Criterion) {
    let engine = engine(SMALL_WORLD);
    let records = sample_records(&engine, &requests(SMALL_WORLD, 1_000, 7));
    let mut g = c.benchmark_group("file_sink");
    g.throughput(Throughput::Elements(1));
    for (name, durability) in [
        ("every_1000", Durability::EveryN(1000)),
        ("on_flush", Durability::OnFlush),
    ] {
        let scratch = Scratch::new(name);
        let (sink, _) = FileSink::open(&scratch.0, durability).unwrap();
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % records.len();
                // the clone is what the engine hands over per decision
                sink.record(black_box(records[i].clone())).unwrap();
            });
        });
        sink.flush().unwrap();
    }
    // Four threads into one sink: one chain, one lock
    let scratch = Scratch::new("threads");
    let (sink, _) = FileSink::open(&scratch.0, Durability::EveryN(1000)).unwrap();
    g.throughput(Throughput::Elements(4 * 1000));
    g.bench_function(BenchmarkId::new("every_1000_threads", 4), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..4 {
                    let (sink, records) = (&sink, &records);
                    s.spawn(move || {
                        for _ in 0..iters {
                            for r in records {
                                sink.record(r.clone()).unwrap();
                            }
                        }
                    });
                }
            });
            start.elapsed()
        });
    });
    g.finish();
}

/// A sink that drops every record: what building a record costs the engine
#[derive(Debug)]
struct NullSink;

impl AuditSink for NullSink {
    fn record(&self, record: AuditRecord) -> Result<(), zorg_pdp::audit::AuditError> {
        drop(black_box(record));
        Ok(())
    }

    fn record_pending(&self, record: PendingRecord) -> Result<(), zorg_pdp::audit::AuditError> {
        drop(black_box(record));
        Ok(())
    }
}

/// Which sink the loop decides with
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum With {
    Nothing,
    Null,
    /// A memory sink that keeps the records, drained only between runs
    /// (untimed, and followed by an untimed warm-up): what the sink adds to
    /// a decision
    MemoryKept,
    /// A memory sink drained by a host thread, as a host shipping batches would
    Memory,
    /// A memory sink drained on the deciding thread between timed stretches
    MemoryDrainedInline,
    /// No sink, but a drain's work (building and hashing `BATCH` records of
    /// another sink) on the deciding thread between stretches, untimed
    NothingWithHostWork,
}

/// The sinks the loop decides with: one of each, kept across runs so a
/// memory sink's buffers are not faulted in again for every sample
#[derive(Debug)]
struct Sinks {
    null: Arc<dyn AuditSink>,
    memory: Arc<MemorySink>,
    /// Room for a whole run, for `MemoryKept`
    kept: Arc<MemorySink>,
    /// Holds `BATCH` records, read (not drained) by `NothingWithHostWork`
    full: Arc<MemorySink>,
}

/// Records kept between drains
const BATCH: usize = 10_000;

/// Decisions per variant in a paired round
const PER_RUN: u64 = 300_000;

/// Untimed decisions before each timed run, so that no run pays for what
/// the variant before it left in the caches (a drain's records, its frees)
const WARM_UP: u64 = 50_000;

/// Records `MemoryKept` holds before it is drained
const KEPT: usize = 400_000;

/// Decides `iters` requests, timing only the decisions. The requests and
/// the `BATCH` stretches go on from where the last call stopped, so short
/// calls (criterion's first samples) see the same mix as long ones. A
/// memory sink is drained every `BATCH` records: by a host thread running
/// beside the deciding one (`Memory`), or untimed on the deciding thread
/// itself (`MemoryDrainedInline`, which then finds its caches filled with
/// the drained records).
fn decide_loop(bed: &Bed, iters: u64, with: With) -> Duration {
    let (engine, qs, sinks) = (&bed.engine, &bed.qs, &bed.sinks);
    match with {
        With::Nothing | With::NothingWithHostWork => engine.clear_audit_sink(),
        With::Null => engine.set_audit_sink(Arc::clone(&sinks.null)),
        With::Memory | With::MemoryDrainedInline => {
            engine.set_audit_sink(Arc::clone(&sinks.memory) as Arc<dyn AuditSink>);
        }
        With::MemoryKept => engine.set_audit_sink(Arc::clone(&sinks.kept) as Arc<dyn AuditSink>),
    }
    let stop = AtomicBool::new(false);
    let total = std::thread::scope(|s| {
        if with == With::Memory {
            let (memory, stop) = (&sinks.memory, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if memory.len() >= BATCH {
                        drop(black_box(memory.drain().unwrap()));
                    } else {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
            });
        }
        let mut total = Duration::ZERO;
        let mut left = iters;
        let (mut i, mut since) = (bed.pos.get(), bed.since.get());
        while left > 0 {
            let n = left.min((BATCH - since) as u64);
            let start = Instant::now();
            for _ in 0..n {
                i = (i + 1) % qs.len();
                black_box(engine.decide(&qs[i]));
            }
            total += start.elapsed();
            left -= n;
            since += n as usize;
            if since < BATCH {
                break;
            }
            since = 0;
            match with {
                With::MemoryDrainedInline => drop(black_box(sinks.memory.drain().unwrap())),
                // Untimed: let the host thread keep up
                With::Memory => {
                    while sinks.memory.len() >= 2 * BATCH {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
                With::NothingWithHostWork => drop(black_box(sinks.full.records().unwrap())),
                With::Nothing | With::Null | With::MemoryKept => {}
            }
        }
        bed.pos.set(i);
        bed.since.set(since);
        stop.store(true, Ordering::Relaxed);
        total
    });
    engine.clear_audit_sink();
    total
}

/// Every variant, with its name
const VARIANTS: [(&str, With); 6] = [
    ("no_sink", With::Nothing),
    ("null_sink", With::Null),
    ("memory_sink_kept", With::MemoryKept),
    ("memory_sink", With::Memory),
    ("memory_sink_drained_inline", With::MemoryDrainedInline),
    ("no_sink_host_work", With::NothingWithHostWork),
];

/// An engine with its world, requests and sinks, the memo filled as a
/// running service would have it
struct Bed {
    engine: Engine,
    qs: Vec<Request>,
    sinks: Sinks,
    /// The last request decided
    pos: Cell<usize>,
    /// Decisions since the last stretch ended
    since: Cell<usize>,
}

impl Bed {
    fn new(size: Size) -> Self {
        let engine = engine(size);
        let qs = requests(size, 10_000, 42);
        for q in &qs {
            engine.decide(q);
        }
        let sinks = Sinks {
            null: Arc::new(NullSink),
            memory: Arc::new(MemorySink::with_capacity(3 * BATCH)),
            kept: Arc::new(MemorySink::with_capacity(KEPT)),
            full: Arc::new(MemorySink::with_capacity(BATCH)),
        };
        engine.set_audit_sink(Arc::clone(&sinks.full) as Arc<dyn AuditSink>);
        for q in &qs {
            engine.decide(q);
        }
        engine.clear_audit_sink();
        let bed = Self {
            engine,
            qs,
            sinks,
            pos: Cell::new(0),
            since: Cell::new(0),
        };
        bed.run(20_000, With::Memory);
        bed
    }

    fn run(&self, iters: u64, with: With) -> Duration {
        decide_loop(self, iters, with)
    }

    /// Gets a variant going: drains the kept records if there is no room for
    /// `iters` more, then decides `WARM_UP` requests untimed
    fn prepare(&self, iters: u64, with: With) {
        let kept = &self.sinks.kept;
        if with == With::MemoryKept && kept.len() + (iters + WARM_UP) as usize > KEPT {
            drop(black_box(kept.drain().unwrap()));
        }
        self.run(WARM_UP, with);
    }

    /// Paired rounds: every variant once a round, in a rotating order; the
    /// median and quartiles of each variant's per-round ratio to no sink
    fn compare(&self, world: &str) {
        let rounds = std::env::var("ZORG_AUDIT_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(11);
        let n = VARIANTS.len();
        let mut ratios = vec![Vec::with_capacity(rounds); n];
        let mut ns = vec![0.0; n];
        for round in 0..rounds {
            let mut took = vec![Duration::ZERO; n];
            for k in 0..n {
                let v = (k + round) % n;
                self.prepare(PER_RUN, VARIANTS[v].1);
                took[v] = self.run(PER_RUN, VARIANTS[v].1);
            }
            let over: Vec<f64> = took
                .iter()
                .map(|t| t.as_secs_f64() / took[0].as_secs_f64() - 1.0)
                .collect();
            if std::env::var_os("ZORG_AUDIT_ROUNDS_SHOW").is_some() {
                let r: Vec<String> = over.iter().map(|o| format!("{:+.0}", o * 100.0)).collect();
                println!(
                    "round {round}: first {} {}",
                    VARIANTS[round % n].0,
                    r.join(" ")
                );
            }
            for v in 0..n {
                ratios[v].push(over[v]);
                ns[v] += took[v].as_nanos() as f64 / (rounds as f64 * PER_RUN as f64);
            }
        }
        let parts: Vec<String> = (1..n)
            .map(|v| {
                let r = &mut ratios[v];
                r.sort_by(f64::total_cmp);
                let at = |q: usize| r[q * (r.len() - 1) / 4] * 100.0;
                format!(
                    "{} {:.0} ns, {:+.1}% [{:+.1}%, {:+.1}%]",
                    VARIANTS[v].0,
                    ns[v],
                    at(2),
                    at(1),
                    at(3)
                )
            })
            .collect();
        println!(
            "decide_audit ({world}): median [quartiles] over {rounds} paired rounds of {PER_RUN} decisions: no_sink {:.0} ns; {}",
            ns[0],
            parts.join("; ")
        );
        // What a host's drain costs per record (build, number, hash): the
        // work a host thread does beside the deciding one
        let kept = &self.sinks.kept;
        drop(black_box(kept.drain().unwrap()));
        self.run(BATCH as u64 * 10, With::MemoryKept);
        let start = Instant::now();
        let drained = black_box(kept.drain().unwrap());
        let took = start.elapsed();
        println!(
            "drain_audit ({world}): {:.0} ns per record, {} records",
            took.as_nanos() as f64 / drained.len() as f64,
            drained.len()
        );
    }
}

/// Deciding with and without sinks, from paired rounds. Not a criterion
/// group: criterion times many short calls, and a variant whose host thread
/// starts and drains within each call (or whose drain falls between calls)
/// is then measured mostly by that start, not by its steady state.
fn decide_with_sink(_: &mut Criterion) {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --benches`: every variant once, briefly
        let bed = Bed::new(DECIDE_WORLD);
        for (_, with) in VARIANTS {
            bed.run(2 * BATCH as u64, with);
        }
        return;
    }
    // `ZORG_AUDIT_WORLD=small|large` measures one world only
    let only = std::env::var("ZORG_AUDIT_WORLD").unwrap_or_default();
    if only != "small" {
        Bed::new(DECIDE_WORLD).compare("100,000 patients, the decide bench's world");
    }
    if only != "large" {
        Bed::new(SMALL_WORLD).compare("2,000 patients, registry in cache");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = file_sink, decide_with_sink
}
criterion_main!(benches);
