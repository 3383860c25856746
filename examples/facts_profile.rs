//! Warm `view` decisions in the perf report's 100,000-patient world, in a
//! loop, for profiling the registry's share of a decision (`perf record -g`)
//! and for timing it before and after a change (docs/facts.md). Run with
//! `cargo run --release --example facts_profile -- [seconds] [mitz]`: with
//! `mitz`, every patient also has the full Mitz picture. With `memory`
//! instead: bytes per patient of `perf_report`'s 1,000,000-patient world,
//! without and then with the Mitz picture (the same measurement as its
//! sections 1 and 1a, alone). With `dashboard [seconds]`: the perf report's
//! dashboard of 5 holders x 14 categories, in a loop.

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::missing_panics_doc,
    clippy::many_single_char_names,
    clippy::should_implement_trait,
    reason = "measurement code: fixed-size worlds and percentiles"
)]

#[path = "../benches/world/mod.rs"]
pub mod world;

use std::time::Instant;

use world::{Rng, Size};
use zorg_pdp::{Engine, Request};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Bytes per patient of a 1,000,000-patient world, with or without the
/// full Mitz picture
fn memory(mitz: bool) -> Result<u64, Box<dyn std::error::Error>> {
    let size = Size {
        organisations: 1_000,
        patients: 1_000_000,
    };
    let before = rss_kib();
    let engine = Engine::new()?;
    if mitz {
        world::register_typed(&engine, size);
    } else {
        world::register(&engine, size);
    }
    for i in 0..size.patients {
        for e in world::events_of(size, i) {
            engine.apply(&e)?;
        }
        if mitz {
            for e in world::mitz_events_of(size, i) {
                engine.apply(&e)?;
            }
        }
    }
    let after = rss_kib();
    drop(engine);
    println!(
        "memory (mitz: {mitz}): {} bytes per patient; {} KiB left after the drop",
        after.saturating_sub(before) * 1024 / size.patients as u64,
        rss_kib().saturating_sub(before)
    );
    Ok(after.saturating_sub(before) * 1024 / size.patients as u64)
}

/// The perf report's dashboard (5 holders x 14 categories), in a loop
fn dashboards(seconds: f64) -> Result<(), Box<dyn std::error::Error>> {
    let (engine, query) = world::dashboard_world()?;
    let started = Instant::now();
    let mut times = Vec::new();
    while started.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        std::hint::black_box(engine.dashboard(&query)?);
        times.push(t.elapsed().as_nanos() as u64);
    }
    times.sort_unstable();
    let at = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "{} dashboards: p50 {} ns, p99 {} ns",
        times.len(),
        at(0.5),
        at(0.99)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1).as_deref() {
        Some("memory") => {
            memory(false)?;
            memory(true)?;
            return Ok(());
        }
        Some("dashboard") => {
            let seconds = std::env::args().nth(2).map_or(Ok(5.0), |s| s.parse())?;
            return dashboards(seconds);
        }
        _ => {}
    }
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(Ok(5.0), |s| s.parse())?;
    let mitz = args.next().is_some_and(|a| a == "mitz");
    let size = Size {
        organisations: 1_000,
        patients: 100_000,
    };
    let engine = Engine::new()?;
    if mitz {
        world::register_typed(&engine, size);
    } else {
        world::register(&engine, size);
    }
    let events: Vec<_> = (0..size.patients)
        .flat_map(|i| {
            let mut events = world::events_of(size, i);
            if mitz {
                events.extend(world::mitz_events_of(size, i));
            }
            events
        })
        .collect();
    let t = Instant::now();
    for e in &events {
        engine.apply(e)?;
    }
    println!(
        "apply: {} events at {:.2} M/s",
        events.len(),
        events.len() as f64 / t.elapsed().as_secs_f64() / 1e6
    );
    drop(events);
    let mut rng = Rng::new(42);
    let requests: Vec<Request> = (0..200_000)
        .map(|_| world::view_request(size, &mut rng))
        .collect();
    // Warm: every abstract input seen once
    for q in &requests {
        std::hint::black_box(engine.decide(q));
    }
    let started = Instant::now();
    let mut times = Vec::new();
    let mut rounds = 0;
    while started.elapsed().as_secs_f64() < seconds {
        for q in &requests {
            let t = Instant::now();
            std::hint::black_box(engine.decide(q));
            times.push(t.elapsed().as_nanos() as u64);
        }
        rounds += 1;
    }
    times.sort_unstable();
    let at = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "{} decisions ({rounds} rounds, mitz: {mitz}): p50 {} ns, p90 {} ns, p99 {} ns",
        times.len(),
        at(0.5),
        at(0.9),
        at(0.99)
    );
    Ok(())
}
