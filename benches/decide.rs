//! Criterion benches for the decision path, measured side by side in one run:
//! the fast path, the plain Cedar path and Rego (regorus) on the same
//! requests; dashboards; applying events; reloads; two threads on one engine.
//!
//! `cargo bench --bench decide`. The world has 100,000 patients with ten
//! events each, 1,000 organisations and 10,000 practitioners.

#![expect(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::missing_panics_doc,
    clippy::many_single_char_names,
    clippy::should_implement_trait,
    reason = "measurement code: fixed-size worlds, percentiles and ratios"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zorg_pdp::{Engine, Policies, Request};

#[path = "world/mod.rs"]
pub mod world;

use world::{Rng, Size};

const SIZE: Size = Size {
    organisations: 1_000,
    patients: 100_000,
};

fn engine() -> Arc<Engine> {
    let engine = Arc::new(Engine::new().unwrap());
    world::build(&engine, SIZE);
    engine
}

fn requests(n: usize, seed: u64) -> Vec<Request> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| world::view_request(SIZE, &mut rng))
        .collect()
}

fn decide(c: &mut Criterion) {
    let engine = engine();
    let qs = requests(10_000, 42);
    for q in &qs {
        engine.decide(q); // fill the memo, as a running service would have
    }
    let mut g = c.benchmark_group("decide_view");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("fast", |b| {
        b.iter(|| {
            i = (i + 1) % qs.len();
            black_box(engine.decide(&qs[i]))
        });
    });
    g.bench_function("plain_cedar", |b| {
        b.iter(|| {
            i = (i + 1) % qs.len();
            black_box(engine.decide_plain(&qs[i]))
        });
    });
    let mut rego = regorus::Engine::new();
    rego.add_policy("zorg.rego".into(), world::REGO_VIEW.into())
        .unwrap();
    g.bench_function("rego_same_facts", |b| {
        b.iter(|| {
            i = (i + 1) % qs.len();
            if let Some(input) = engine.explain_input(&qs[i]) {
                rego.set_input(regorus::Value::from(input));
                black_box(rego.eval_rule("data.zorg.allow".into()).unwrap());
            }
        });
    });
    g.finish();
}

fn dashboard(c: &mut Criterion) {
    // The perf report's dashboard world
    let (engine, query) = world::dashboard_world().unwrap();
    let mut g = c.benchmark_group("dashboard");
    g.throughput(Throughput::Elements(70));
    g.bench_function("5_holders_x_14_categories", |b| {
        b.iter(|| black_box(engine.dashboard(&query).unwrap()));
    });
    g.finish();
}

fn apply(c: &mut Criterion) {
    let size = Size {
        organisations: 100,
        patients: 10_000,
    };
    let events: Vec<_> = (0..size.patients)
        .flat_map(|i| world::events_of(size, i))
        .collect();
    let mut g = c.benchmark_group("apply");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("events", events.len()), |b| {
        b.iter_batched(
            || {
                let e = Engine::new().unwrap();
                world::register(&e, size);
                e
            },
            |engine| {
                for e in &events {
                    engine.apply(e).unwrap();
                }
                engine
            },
            criterion::BatchSize::LargeInput,
        );
    });
    g.finish();
}

fn reload(c: &mut Criterion) {
    let engine = Engine::new().unwrap();
    let shipped = Policies::shipped().unwrap();
    let mut g = c.benchmark_group("policies");
    g.bench_function("load_shipped", |b| {
        b.iter(|| black_box(Policies::shipped().unwrap()));
    });
    g.bench_function("reload_swap", |b| b.iter(|| engine.reload(shipped.clone())));
    g.finish();
}

fn threads(c: &mut Criterion) {
    let engine = engine();
    let per_thread: Vec<Vec<Request>> = (0..2).map(|k| requests(10_000, 100 + k)).collect();
    for qs in &per_thread {
        for q in qs {
            engine.decide(q);
        }
    }
    let mut g = c.benchmark_group("threads");
    for n in [1usize, 2] {
        g.throughput(Throughput::Elements(n as u64 * 1000));
        g.bench_function(BenchmarkId::new("decide_1000_each", n), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for qs in per_thread.iter().take(n) {
                        let engine = &engine;
                        s.spawn(move || {
                            for it in 0..iters {
                                let base = (it as usize * 1000) % (qs.len() - 1000);
                                for q in &qs[base..base + 1000] {
                                    black_box(engine.decide(q));
                                }
                            }
                        });
                    }
                });
                start.elapsed()
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = decide, dashboard, apply, reload, threads
}
criterion_main!(benches);
