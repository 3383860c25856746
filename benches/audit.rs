//! Criterion benches for the audit log: records per second into a file sink
//! that syncs every 1,000 records (target ≥ 200,000/s; also on flush only, and
//! four threads into one sink), and deciding with a memory sink attached
//! against deciding without one (target ≤ 20% more), with a sink that drops
//! each record in between to split building the record from keeping it, and
//! a control: no sink, but the work of a 10,000-record drain done between
//! timed stretches, to show what a host's own work costs the deciding thread.
//!
//! `cargo bench --bench audit`. The world has 2,000 patients with ten events
//! each, 50 organisations and 500 practitioners.

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

const SIZE: Size = Size {
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

fn engine() -> Engine {
    let engine = Engine::new().unwrap();
    world::build(&engine, SIZE);
    engine
}

fn requests(n: usize, seed: u64) -> Vec<Request> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| world::view_request(SIZE, &mut rng))
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
    let engine = engine();
    let records = sample_records(&engine, &requests(1_000, 7));
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
    /// Holds `BATCH` records, read (not drained) by `NothingWithHostWork`
    full: Arc<MemorySink>,
}

/// Records kept between drains
const BATCH: usize = 10_000;

/// Decides `iters` requests, timing only the decisions. A memory sink is
/// drained every `BATCH` records: by a host thread running beside the
/// deciding one (`Memory`), or untimed on the deciding thread itself
/// (`MemoryDrainedInline`, which then finds its caches filled with the
/// drained records).
fn decide_loop(engine: &Engine, qs: &[Request], iters: u64, with: With, sinks: &Sinks) -> Duration {
    match with {
        With::Nothing | With::NothingWithHostWork => engine.clear_audit_sink(),
        With::Null => engine.set_audit_sink(Arc::clone(&sinks.null)),
        With::Memory | With::MemoryDrainedInline => {
            engine.set_audit_sink(Arc::clone(&sinks.memory) as Arc<dyn AuditSink>);
        }
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
        let mut i = 0;
        while left > 0 {
            let n = left.min(BATCH as u64);
            let start = Instant::now();
            for _ in 0..n {
                i = (i + 1) % qs.len();
                black_box(engine.decide(&qs[i]));
            }
            total += start.elapsed();
            match with {
                With::MemoryDrainedInline => drop(black_box(sinks.memory.drain().unwrap())),
                // Untimed: let the host thread keep up
                With::Memory => {
                    while sinks.memory.len() >= 2 * BATCH {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
                With::NothingWithHostWork => drop(black_box(sinks.full.records().unwrap())),
                With::Nothing | With::Null => {}
            }
            left -= n;
        }
        stop.store(true, Ordering::Relaxed);
        total
    });
    drop(sinks.memory.drain().unwrap());
    engine.clear_audit_sink();
    total
}

fn decide_with_sink(c: &mut Criterion) {
    let engine = engine();
    let qs = requests(10_000, 42);
    for q in &qs {
        engine.decide(q); // fill the memo, as a running service would have
    }
    let sinks = Sinks {
        null: Arc::new(NullSink),
        memory: Arc::new(MemorySink::with_capacity(3 * BATCH)),
        full: Arc::new(MemorySink::with_capacity(BATCH)),
    };
    engine.set_audit_sink(Arc::clone(&sinks.full) as Arc<dyn AuditSink>);
    for q in &qs {
        engine.decide(q);
    }
    engine.clear_audit_sink();
    decide_loop(&engine, &qs, 20_000, With::Memory, &sinks);
    let mut g = c.benchmark_group("decide_audit");
    g.throughput(Throughput::Elements(1));
    let all = [
        ("no_sink", With::Nothing),
        ("null_sink", With::Null),
        ("memory_sink", With::Memory),
        ("memory_sink_drained_inline", With::MemoryDrainedInline),
        ("no_sink_host_work", With::NothingWithHostWork),
    ];
    for (name, with) in all {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| decide_loop(&engine, &qs, iters, with, &sinks));
        });
    }
    g.finish();

    // One side-by-side figure, from interleaved runs (not in `cargo test --benches`)
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rounds = 10;
    let mut total = [Duration::ZERO; 5];
    for _ in 0..rounds {
        for (t, (_, with)) in total.iter_mut().zip(all) {
            *t += decide_loop(&engine, &qs, 100_000, with, &sinks);
        }
    }
    let ns = |d: Duration| d.as_nanos() as f64 / f64::from(rounds * 100_000);
    let more = |d: Duration| (d.as_secs_f64() / total[0].as_secs_f64() - 1.0) * 100.0;
    println!(
        "decide_audit: per decision without a sink {:.0} ns; building the record (null sink) {:.0} ns ({:+.1}%); \
         memory sink drained by a host thread {:.0} ns ({:+.1}%); drained on the deciding thread {:.0} ns ({:+.1}%); no sink with host work {:.0} ns ({:+.1}%)",
        ns(total[0]),
        ns(total[1]),
        more(total[1]),
        ns(total[2]),
        more(total[2]),
        ns(total[3]),
        more(total[3]),
        ns(total[4]),
        more(total[4]),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = file_sink, decide_with_sink
}
criterion_main!(benches);
