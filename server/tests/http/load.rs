//! The load generator (`server/examples/load.rs`) on a small world: every
//! answer agrees with the engine's own decision, within the request counts
//! and the time limit. (Its figures are measured in release builds, never
//! here.)

use std::time::Duration;

#[path = "../../examples/load.rs"]
#[expect(
    dead_code,
    unreachable_pub,
    reason = "the example's main and printing are not used here, and its public items are the example's"
)]
mod generator;

#[test]
fn the_load_generator_sends_what_it_says_and_every_answer_agrees() {
    let options = generator::Options {
        patients: 300,
        organisations: 20,
        requests: 600,
        batches: 60,
        connections: 4,
        batch_connections: 3,
        limit: Duration::from_secs(60),
        server_threads: 2,
    };
    let report = generator::run(&options);
    let v = report.json();
    assert_eq!(report.single.errors, 0, "{v}");
    assert_eq!(report.batch.errors, 0, "{v}");
    assert_eq!(report.single.requests, 600, "{v}");
    assert_eq!(report.single.items, 600, "{v}");
    assert_eq!(report.batch.requests, 60, "{v}");
    assert_eq!(report.batch.items, 60 * 14, "{v}");
    assert!(!report.single.cut && !report.batch.cut, "{v}");
    assert!(report.single.p_us(0.99) >= report.single.p_us(0.5));
    assert_eq!(v["goals"]["zero_errors"], true);
    assert!(v["in_process"]["decide_p50_ns"].as_u64().unwrap() > 0);
}
