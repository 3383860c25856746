//! Benches for the consent resolver (`zorg_pdp::consent::resolve`), the
//! function the engine will call once per decision about another holder's
//! data.
//!
//! A patient with a full Mitz picture: 7 requesting categories × 3 data
//! categories at 3 holders (63 choices, half of them refusals) and a
//! `dossier_consent_given` at each holder, as interned `u32` ids (what the
//! engine holds); asked for one (holder, requesting category, data
//! category). Beside it: the same for a minor whose guardian confirmed half
//! the choices, the same as strings, the holder's own consents only (R38, the
//! old rule), and `in_force` over the full picture (the overview's work).
//!
//! `cargo bench --bench consent`.

#![expect(
    missing_docs,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "measurement code: fixed worlds"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use zorg_pdp::Timestamp;
use zorg_pdp::consent::{
    AgeFacts, Choice, Data, Holder, Origin, Question, Requester, StatementEvent, StatementKey,
    in_force, resolve,
};

const HOLDERS: u32 = 3;
const REQUESTERS: u32 = 7;
const DATA: u32 = 3;
/// Interned ids: organisations 0..3, requesting categories 100.., data 200..
const REQUESTER_BASE: u32 = 100;
const DATA_BASE: u32 = 200;
/// GGC002 covers GGC012 and GGC013
const COVERS: [(u32, u32); 2] = [(DATA_BASE, DATA_BASE + 1), (DATA_BASE, DATA_BASE + 2)];

fn hour(h: u32) -> Timestamp {
    Timestamp::from_unix(1_767_225_600 + i64::from(h) * 3600, 0).unwrap()
}

/// The full picture, in arrival order
fn full_picture() -> Vec<StatementEvent<u32>> {
    let mut events = Vec::new();
    let mut n = 0;
    for h in 0..HOLDERS {
        events.push(StatementEvent {
            key: StatementKey::dossier(h),
            choice: Some(Choice::Permit),
            at: hour(0),
        });
        for r in 0..REQUESTERS {
            for d in 0..DATA {
                n += 1;
                events.push(StatementEvent {
                    key: StatementKey::mitz(
                        Holder::Organisation(h),
                        REQUESTER_BASE + r,
                        DATA_BASE + d,
                    ),
                    choice: Some(if n % 2 == 0 {
                        Choice::Permit
                    } else {
                        Choice::Deny
                    }),
                    at: hour(n),
                });
            }
        }
    }
    events
}

fn question(age: AgeFacts) -> Question<'static, u32> {
    Question {
        holder: 1,
        holder_category: Some(0),
        requester_category: Some(REQUESTER_BASE + 4),
        data: DATA_BASE + 2,
        covers: &COVERS,
        age,
        at: hour(100),
    }
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("consent");
    let full = full_picture();
    let adult = question(AgeFacts::ADULT);
    g.bench_function("resolve/full-picture-66-events", |b| {
        b.iter(|| resolve(black_box(&full), black_box(&adult)));
    });
    let minor = question(AgeFacts {
        minor: true,
        confirmed: Some(hour(32)),
    });
    g.bench_function("resolve/full-picture-minor", |b| {
        b.iter(|| resolve(black_box(&full), black_box(&minor)));
    });
    let dossier: Vec<_> = full
        .iter()
        .copied()
        .filter(|e| e.key.origin == Origin::Dossier)
        .collect();
    g.bench_function("resolve/dossier-only-3-events", |b| {
        b.iter(|| resolve(black_box(&dossier), black_box(&adult)));
    });
    let names: Vec<String> = (0..300).map(|i| format!("code-{i}")).collect();
    let name = |i: u32| names[i as usize].as_str();
    let as_str: Vec<StatementEvent<&str>> = full
        .iter()
        .map(|e| StatementEvent {
            key: StatementKey {
                origin: e.key.origin,
                holder: match e.key.holder {
                    Holder::Organisation(h) => Holder::Organisation(name(h)),
                    Holder::Category(h) => Holder::Category(name(h)),
                },
                requester: match e.key.requester {
                    Requester::Every => Requester::Every,
                    Requester::Category(r) => Requester::Category(name(r)),
                },
                data: match e.key.data {
                    Data::Every => Data::Every,
                    Data::Category(d) => Data::Category(name(d)),
                },
            },
            choice: e.choice,
            at: e.at,
        })
        .collect();
    let covers_str = COVERS.map(|(a, b)| (name(a), name(b)));
    let q_str = Question {
        holder: name(adult.holder),
        holder_category: adult.holder_category.map(name),
        requester_category: adult.requester_category.map(name),
        data: name(adult.data),
        covers: &covers_str,
        age: adult.age,
        at: adult.at,
    };
    g.bench_function("resolve/full-picture-strings", |b| {
        b.iter(|| resolve(black_box(&as_str), black_box(&q_str)));
    });
    g.bench_function("in_force/full-picture", |b| {
        b.iter(|| in_force(black_box(&full), black_box(adult.at)).count());
    });
    g.finish();
}

criterion_group! {
    name = consent;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(consent);
