//! The data directory (SPEC.md §8, R49; `docs/durability.md`): journal,
//! snapshots, `Engine::open`, and crash tests that kill a writing child
//! process at random points.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use zorg_pdp::store::{Durability, SnapshotProblem, StoreError, StoreOptions};
use zorg_pdp::{
    Bsn, Engine, EntityRecord, Event, LogEntry, Organisation, OrganisationId, Patient, PatientId,
    Practitioner, PractitionerId, ProviderType, Request, Role, Ura, consent::BirthDate,
};

use crate::common::policies;
use crate::proptests::{build_event, build_request, event_seed, request_seed, staff};

/// A fresh, empty directory under the target directory (not /tmp)
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("durable")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    dir
}

fn open(dir: &Path) -> (Engine, zorg_pdp::store::OpenReport) {
    Engine::open_with(dir, policies().clone(), StoreOptions::default()).unwrap()
}

fn open_err(dir: &Path) -> StoreError {
    Engine::open_with(dir, policies().clone(), StoreOptions::default()).unwrap_err()
}

fn files(dir: &Path, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(prefix) && name.ends_with(suffix)
        })
        .collect();
    found.sort();
    found
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// A valid BSN from a number (the elfproef's check digit found by search)
fn bsn(n: u32) -> Bsn {
    for last in 0..10 {
        let s = format!("{:08}{last}", n % 100_000_000);
        if let Ok(b) = Bsn::new(&s) {
            return b;
        }
    }
    bsn(n + 1)
}

/// One call of the deterministic writing sequence
#[derive(Debug, Clone)]
enum Step {
    Entity(EntityRecord),
    Event(Event),
    /// Through `apply_entry`, at its own position (with a gap before it)
    Entry(LogEntry),
}

fn event(json: &str) -> Event {
    Event::from_json(json).unwrap()
}

const ORGS: [&str; 4] = ["zh-noord", "zh-zuid", "ha-west", "vp-oost"];
const MITZ_DATA: [&str; 2] = ["GGC013", "GGC002"];

/// The sequence the crash test's child writes: entity records (URA numbers,
/// provider types, BSNs, dates of birth), events with withdrawals, Mitz
/// choices and their clearing, records, and host-log entries with gaps;
/// every step is accepted, and each takes the position given beside it
fn sequence(n: usize) -> Vec<(Step, u64)> {
    let mut steps = Vec::with_capacity(n);
    let mut position = 0u64;
    fn push(steps: &mut Vec<(Step, u64)>, position: &mut u64, step: Step) {
        let p = match &step {
            Step::Entry(e) => e.position(),
            _ => *position + 1,
        };
        *position = p;
        steps.push((step, p));
    }
    for (i, o) in ORGS.iter().enumerate() {
        let mut org = Organisation::new(OrganisationId::new(o).unwrap());
        org.ura = Some(Ura::new(&format!("{:08}", 1000 + i)).unwrap());
        org.provider_type = Some(ProviderType::new(if i < 2 { "V4" } else { "Z3" }).unwrap());
        push(
            &mut steps,
            &mut position,
            Step::Entity(EntityRecord::Organisation(org)),
        );
    }
    for (i, role) in ["huisarts", "verloskundige", "medisch_specialist"]
        .iter()
        .enumerate()
    {
        let p = Practitioner::new(
            PractitionerId::new(&format!("pr-{i}")).unwrap(),
            OrganisationId::new(ORGS[i + 1]).unwrap(),
            Role::new(role).unwrap(),
        );
        push(
            &mut steps,
            &mut position,
            Step::Entity(EntityRecord::Practitioner(p)),
        );
    }
    let mut patients = 0usize;
    let mut records = 0usize;
    let mut i = 0u64;
    while steps.len() < n {
        i += 1;
        let mut rng = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7;
        let mut pick = |k: u64| {
            let r = rng % k;
            rng /= k;
            r
        };
        let kind = pick(10);
        if patients < 3 || kind == 0 {
            let mut p = Patient::new(PatientId::new(&format!("client-{patients}")).unwrap());
            if patients.is_multiple_of(2) {
                p.bsn = Some(bsn(1_000_000 + u32::try_from(patients).unwrap() * 10));
            }
            if patients.is_multiple_of(3) {
                p.birth_date = BirthDate::new(2010 + u32::try_from(patients % 10).unwrap(), 3, 4);
            }
            patients += 1;
            push(
                &mut steps,
                &mut position,
                Step::Entity(EntityRecord::Patient(p)),
            );
            continue;
        }
        let x = format!("client-{}", pick(patients as u64));
        let org = ORGS[usize::try_from(pick(4)).unwrap()];
        let day = 1 + pick(28);
        let at = format!("2026-02-{day:02}T{:02}:00:00Z", pick(24));
        let given = pick(3) != 0;
        let json = match kind {
            1 | 2 => format!(
                r#"{{"at":"{at}","type":"treatment_{}","patient":"{x}","organisation":"{org}"}}"#,
                if given { "started" } else { "ended" }
            ),
            3 | 4 => format!(
                r#"{{"at":"{at}","type":"dossier_consent_{}","patient":"{x}","holder":"{org}"}}"#,
                if given { "given" } else { "withdrawn" }
            ),
            5 | 6 => {
                let data = MITZ_DATA[usize::try_from(pick(2)).unwrap()];
                if given {
                    let choice = if pick(2) == 0 { "permit" } else { "deny" };
                    format!(
                        r#"{{"at":"{at}","type":"mitz_choice_recorded","patient":"{x}","holder":"{org}",
                        "data_category":"{data}","requester_category":"RPZAC004","choice":"{choice}",
                        "recorded_via":"mijnmitz"}}"#
                    )
                } else {
                    format!(
                        r#"{{"at":"{at}","type":"mitz_choice_cleared","patient":"{x}","holder":"{org}",
                        "data_category":"{data}","requester_category":"RPZAC004"}}"#
                    )
                }
            }
            7 => {
                records += 1;
                format!(
                    r#"{{"at":"{at}","type":"record_added","record":"rec-{records}","patient":"{x}",
                    "category":"medicatie","source":"dossier","holder":"{org}"}}"#
                )
            }
            8 => format!(
                r#"{{"at":"{at}","type":"unplanned_care_consent_{}","patient":"{x}","holder":"{org}"}}"#,
                if given { "given" } else { "withdrawn" }
            ),
            _ => {
                // A host-log entry at its own position, after a gap
                let gap = 1 + pick(5);
                let e = event(&format!(
                    r#"{{"at":"{at}","type":"dossier_consent_withdrawn","patient":"{x}","holder":"{org}"}}"#
                ));
                let entry = LogEntry::event(position + gap, e).unwrap();
                push(&mut steps, &mut position, Step::Entry(entry));
                continue;
            }
        };
        push(&mut steps, &mut position, Step::Event(event(&json)));
    }
    steps
}

/// Applies one step; the position it took
fn apply_step(engine: &Engine, step: &Step) -> u64 {
    match step {
        Step::Entity(e) => {
            engine.register(e.clone()).unwrap();
            engine.seq()
        }
        Step::Event(e) => engine.apply(e).unwrap(),
        Step::Entry(e) => match engine.apply_entry(e).unwrap() {
            zorg_pdp::Applied::Applied(p) => p,
            skipped @ zorg_pdp::Applied::Skipped { .. } => {
                unreachable!("every step is applied: {skipped:?}")
            }
        },
    }
}

/// Requests whose answers the crash test compares
fn requests() -> Vec<Request> {
    let mut out = Vec::new();
    for (pr, holder) in [
        ("pr-0", "zh-noord"),
        ("pr-1", "zh-zuid"),
        ("pr-2", "ha-west"),
    ] {
        for x in 0..4 {
            for category in ["basis", "medicatie"] {
                out.push(
                    Request::from_json(&format!(
                        r#"{{"principal":{{"practitioner":"{pr}"}},"action":"view","patient":"client-{x}",
                        "holder":"{holder}","category":"{category}","at":"2026-03-01T00:00:00Z","mfa":true}}"#
                    ))
                    .unwrap(),
                );
            }
        }
    }
    out
}

const CHILD_DIR: &str = "ZPDP_CRASH_CHILD_DIR";
const CHILD_DURABILITY: &str = "ZPDP_CRASH_CHILD_DURABILITY";
const STEPS: usize = 8_000;
const CHILD_TEST: &str = "durable::crash_child_writer";

/// The child's writer: not a test of its own (returns at once without the
/// environment variable). With it, opens the directory, writes the steps
/// after the position it finds, printing `ack P` after each call returns,
/// and a snapshot every 97 positions.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let durability = match std::env::var(CHILD_DURABILITY).as_deref() {
        Ok("every-7") => Durability::EveryN(7),
        Ok("on-flush") => Durability::OnFlush,
        _ => Durability::EveryRecord,
    };
    let options = StoreOptions::default().durability(durability);
    let (engine, _) = Engine::open_with(&dir, policies().clone(), options).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "opened {}", engine.seq()).unwrap();
    out.flush().unwrap();
    let start = engine.seq();
    for (step, position) in sequence(STEPS) {
        if position <= start {
            continue;
        }
        let p = apply_step(&engine, &step);
        assert_eq!(p, position);
        // Acknowledged: the call returned
        writeln!(out, "ack {p}").unwrap();
        out.flush().unwrap();
        if p % 97 < 2 {
            engine.snapshot().unwrap();
        }
    }
    writeln!(out, "done").unwrap();
}

/// A seeded xorshift
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// R49 by killing: a child writes the sequence and is killed (SIGKILL) at
/// seeded random points; after each kill the directory is reopened and
/// holds every acknowledged entry, nothing half-applied (the digest of
/// exactly the sequence's prefix up to its `seq`), and answers as that prefix does
#[test]
fn r49_killed_writers_lose_no_acknowledged_entry() {
    let dir = fresh_dir("crash");
    let steps = sequence(STEPS);
    let exe = std::env::current_exe().unwrap();
    let reference = Engine::with_policies(policies().clone());
    let mut applied = 0usize;
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let requests = requests();
    let started = Instant::now();
    let (mut kills, mut last_seq, mut snapshots_seen) = (0, 0, 0);
    for round in 0..100 {
        if kills >= 60 {
            break;
        }
        let durability = ["every", "every-7", "on-flush"][round % 3];
        let mut child = Command::new(&exe)
            .args([CHILD_TEST, "--exact", "--test-threads=1", "--quiet"])
            .env(CHILD_DIR, &dir)
            .env(CHILD_DURABILITY, durability)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Kill after a random number of acknowledgements, then a random pause
        let acks_before_kill = rng.below(40);
        let pause = Duration::from_micros(rng.below(1_500));
        let mut acked = 0u64;
        let mut seen = 0;
        let mut finished = false;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(p) = line.strip_prefix("ack ") {
                let p: u64 = p.parse().unwrap();
                assert!(p > acked, "acknowledged positions grow");
                acked = p;
                seen += 1;
                if seen >= acks_before_kill {
                    break;
                }
            } else if line == "done" {
                finished = true;
                break;
            }
        }
        std::thread::sleep(pause);
        child.kill().unwrap();
        let status = child.wait().unwrap();
        // Drain what it printed before it died: acknowledged too
        for line in lines {
            let Ok(line) = line else { break };
            if let Some(p) = line.strip_prefix("ack ") {
                acked = acked.max(p.parse().unwrap());
            } else if line == "done" {
                finished = true;
            }
        }
        if !status.success() {
            kills += 1;
        }
        let (engine, report) = open(&dir);
        let seq = engine.seq();
        assert!(
            acked <= seq,
            "round {round}: acknowledged {acked}, reopened at {seq}"
        );
        assert!(seq >= last_seq, "round {round}: the position went back");
        last_seq = seq;
        snapshots_seen += usize::from(report.snapshot.is_some());
        assert!(report.refused.is_empty(), "{report}");
        // The reference applies exactly the prefix up to `seq`
        while applied < steps.len() && steps[applied].1 <= seq {
            apply_step(&reference, &steps[applied].0);
            applied += 1;
        }
        assert_eq!(
            reference.seq(),
            seq,
            "round {round}: seq is a step's position"
        );
        assert_eq!(
            engine.state_digest(),
            reference.state_digest(),
            "round {round}: nothing half-applied ({report})"
        );
        for q in requests.iter().step_by(1 + round % 5) {
            assert_eq!(engine.decide(q), reference.decide(q), "round {round}");
        }
        drop(engine);
        if finished {
            break;
        }
    }
    eprintln!(
        "r49: {kills} kills, reopened at position {last_seq} at last, in {:?}",
        started.elapsed()
    );
    assert!(kills >= 50, "only {kills} kills");
    assert!(last_seq > 500, "the writers got to position {last_seq}");
    assert!(snapshots_seen > 0, "some reopen restored a snapshot");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A directory with the first `n` steps written, and the reference digests
/// after each step
fn written(name: &str, n: usize) -> (PathBuf, Vec<String>) {
    let dir = fresh_dir(name);
    let (engine, report) = open(&dir);
    assert!(report.created);
    let reference = Engine::with_policies(policies().clone());
    let mut digests = vec![reference.state_digest()];
    for (step, _) in sequence(n) {
        apply_step(&engine, &step);
        apply_step(&reference, &step);
        digests.push(reference.state_digest());
    }
    assert_eq!(engine.state_digest(), reference.state_digest());
    (dir, digests)
}

fn the_segment(dir: &Path) -> PathBuf {
    let segments = files(dir, "journal-", ".jsonl");
    assert_eq!(segments.len(), 1, "{segments:?}");
    segments[0].clone()
}

#[test]
fn a_torn_last_line_is_cut_at_every_byte_offset() {
    let (dir, digests) = written("torn", 30);
    let segment = the_segment(&dir);
    let bytes = std::fs::read(&segment).unwrap();
    let body = &bytes[..bytes.len() - 1];
    let start = body.iter().rposition(|b| *b == b'\n').unwrap() + 1;
    let before_last = digests[digests.len() - 2].clone();
    let copy = fresh_dir("torn-copy");
    let mut cuts = 0;
    for cut in start..bytes.len() {
        copy_dir(&dir, &copy);
        let file = copy.join(segment.file_name().unwrap());
        std::fs::write(&file, &bytes[..cut]).unwrap();
        let (engine, report) = open(&copy);
        assert_eq!(engine.state_digest(), before_last, "cut at {cut}");
        match (&report.torn, cut == start) {
            (None, true) => {}
            (Some(torn), false) => {
                assert_eq!(torn.offset, start as u64, "cut at {cut}");
                assert_eq!(torn.bytes, (cut - start) as u64, "cut at {cut}");
                assert_eq!(torn.after, engine.seq());
                assert_eq!(torn.path.file_name(), file.file_name());
                assert!(
                    report.to_string().contains("cut a torn last line"),
                    "{report}"
                );
                cuts += 1;
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
        drop(engine);
        // Cut: the file ends at the last good line, and opening again is clean
        assert_eq!(std::fs::read(&file).unwrap(), &bytes[..start]);
        let (again, report) = open(&copy);
        assert!(report.torn.is_none());
        assert_eq!(again.state_digest(), before_last);
    }
    assert_eq!(cuts, bytes.len() - start - 1);
    // A last line whole but damaged (a flipped byte, newline kept) is torn too
    copy_dir(&dir, &copy);
    let mut damaged = bytes.clone();
    damaged[start + 20] ^= 0x01;
    std::fs::write(copy.join(segment.file_name().unwrap()), &damaged).unwrap();
    let (engine, report) = open(&copy);
    assert!(report.torn.is_some());
    assert_eq!(engine.state_digest(), before_last);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&copy);
}

#[test]
fn a_bad_checksum_in_the_middle_is_an_error_naming_file_line_and_offset() {
    let (dir, _) = written("middle", 20);
    let segment = the_segment(&dir);
    let mut bytes = std::fs::read(&segment).unwrap();
    // Line 6 of the file: the header, then entries 1..
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let offset = starts[5];
    bytes[offset + 15] ^= 0x04;
    std::fs::write(&segment, &bytes).unwrap();
    let before = std::fs::read(&segment).unwrap();
    let e = open_err(&dir);
    let message = e.to_string();
    assert!(
        matches!(e, StoreError::Corrupt { line: 6, offset: o, .. } if o == offset as u64),
        "{e:?}"
    );
    assert!(
        message.contains(&segment.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains("line 6") && message.contains("checksum"),
        "{message}"
    );
    assert!(!format!("{e:?}").contains("client-"), "{e:?}");
    // A failed open changes nothing
    assert_eq!(std::fs::read(&segment).unwrap(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_flipped_byte_in_a_snapshot_is_refused_and_the_journal_replayed() {
    let (dir, digests) = written("flip", 40);
    {
        let (engine, _) = open(&dir);
        let written = engine.snapshot().unwrap();
        assert_eq!(written.position, engine.seq());
        assert_eq!(written.removed_segments, 0);
    }
    let snapshot = files(&dir, "snapshot-", ".snap").pop().unwrap();
    let bytes = std::fs::read(&snapshot).unwrap();
    let copy = fresh_dir("flip-copy");
    let last = digests.last().unwrap();
    for at in [
        0,
        9,
        20,
        50,
        70,
        bytes.len() / 2,
        bytes.len() - 5,
        bytes.len() - 1,
    ] {
        copy_dir(&dir, &copy);
        let mut bad = bytes.clone();
        bad[at] ^= 0x20;
        let file = copy.join(snapshot.file_name().unwrap());
        std::fs::write(&file, &bad).unwrap();
        let (engine, report) = open(&copy);
        assert_eq!(report.refused.len(), 1, "byte {at}: {report}");
        assert!(report.snapshot.is_none());
        let refused = &report.refused[0];
        assert_eq!(refused.path, file);
        assert!(report.to_string().contains("refused snapshot"), "{report}");
        assert_eq!(&engine.state_digest(), last, "byte {at}");
        assert_eq!(report.replayed, 40);
        drop(engine);
        // Moved aside, never loaded again
        assert!(!file.exists());
        let mut aside = file.clone().into_os_string();
        aside.push(".refused");
        assert!(Path::new(&aside).exists());
    }
    // Intact, it is restored and nothing is replayed
    let (engine, report) = open(&dir);
    assert_eq!(report.snapshot.as_ref().map(|s| s.1), Some(engine.seq()));
    assert_eq!(report.replayed, 0);
    assert_eq!(&engine.state_digest(), last);
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&copy);
}

/// Rewrites a snapshot's bytes `range` and fixes its checksum
fn reframe(bytes: &mut [u8], at: usize, with: &[u8]) {
    bytes[at..at + with.len()].copy_from_slice(with);
    let n = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn a_foreign_snapshot_is_refused_another_version_or_vocabulary() {
    let (dir, digests) = written("foreign", 25);
    {
        let (engine, _) = open(&dir);
        engine.snapshot().unwrap();
    }
    let snapshot = files(&dir, "snapshot-", ".snap").pop().unwrap();
    let bytes = std::fs::read(&snapshot).unwrap();
    let copy = fresh_dir("foreign-copy");
    let cases: [(usize, Vec<u8>); 2] = [(8, 2u32.to_le_bytes().to_vec()), (12, vec![0xab; 32])];
    for (at, with) in cases {
        copy_dir(&dir, &copy);
        let mut foreign = bytes.clone();
        reframe(&mut foreign, at, &with);
        std::fs::write(copy.join(snapshot.file_name().unwrap()), &foreign).unwrap();
        let (engine, report) = open(&copy);
        let problem = &report.refused[0].problem;
        if at == 8 {
            assert!(
                matches!(problem, SnapshotProblem::Version { found: 2 }),
                "{problem}"
            );
        } else {
            assert!(
                matches!(problem, SnapshotProblem::Foreign { .. }),
                "{problem}"
            );
            assert!(
                problem.to_string().contains("another vocabulary"),
                "{problem}"
            );
        }
        assert_eq!(&engine.state_digest(), digests.last().unwrap());
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&copy);
}

#[test]
fn reopening_twice_is_idempotent_and_a_second_opener_is_refused() {
    let (dir, digests) = written("twice", 30);
    let (first, report) = open(&dir);
    assert_eq!(report.replayed, 30);
    assert!(!report.created);
    // Locked while open: for writing and for reading
    assert!(matches!(open_err(&dir), StoreError::Locked { .. }));
    let ro = StoreOptions::default().read_only(true);
    assert!(matches!(
        Engine::open_with(&dir, policies().clone(), ro),
        Err(StoreError::Locked { .. })
    ));
    drop(first);
    let listing = |d: &Path| {
        let mut v: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let b = std::fs::read(&p).unwrap();
                (p, b)
            })
            .collect();
        v.sort();
        v
    };
    let before = listing(&dir);
    for _ in 0..2 {
        let (engine, report) = open(&dir);
        assert_eq!(&engine.state_digest(), digests.last().unwrap());
        assert_eq!(report.replayed, 30);
        assert!(report.torn.is_none() && report.refused.is_empty());
    }
    assert_eq!(listing(&dir), before, "opening changes no file");
    // Read-only: the same state, no journal attached, the directory untouched
    let (engine, report) = Engine::open_with(&dir, policies().clone(), ro).unwrap();
    assert!(report.read_only && engine.data_dir().is_none());
    assert_eq!(&engine.state_digest(), digests.last().unwrap());
    assert!(matches!(engine.snapshot(), Err(StoreError::InMemory)));
    drop(engine);
    assert_eq!(listing(&dir), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_rejected_entry_never_reaches_the_journal() {
    let (dir, digests) = written("rejected", 10);
    let (engine, _) = open(&dir);
    let segment = the_segment(&dir);
    let before = std::fs::read(&segment).unwrap();
    let bad = event(
        r#"{"at":"2026-02-01T00:00:00Z","type":"treatment_started","patient":"nobody","organisation":"zh-noord"}"#,
    );
    assert!(engine.apply(&bad).is_err());
    let e = LogEntry::event(engine.seq() + 5, bad).unwrap();
    assert!(engine.apply_entry(&e).is_err());
    // Skipped (already applied) entries are not written either
    let old = LogEntry::entity(
        1,
        EntityRecord::Patient(Patient::new(PatientId::new("client-0").unwrap())),
    )
    .unwrap();
    assert_eq!(
        engine.apply_entry(&old).unwrap(),
        zorg_pdp::Applied::Skipped { last: engine.seq() }
    );
    assert_eq!(std::fs::read(&segment).unwrap(), before);
    drop(engine);
    let (engine, _) = open(&dir);
    assert_eq!(&engine.state_digest(), digests.last().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn snapshots_compact_the_journal_and_a_bad_newest_falls_back_on_the_older() {
    let dir = fresh_dir("compact");
    let steps = sequence(90);
    let reference = Engine::with_policies(policies().clone());
    let mut at_snapshot = Vec::new();
    {
        let (engine, _) = open(&dir);
        for (i, (step, _)) in steps.iter().enumerate() {
            apply_step(&engine, step);
            apply_step(&reference, step);
            if i % 30 == 29 {
                let r = engine.snapshot().unwrap();
                at_snapshot.push((r.position, reference.state_digest(), r));
            }
        }
    }
    // Three snapshots: the oldest removed, and the segments before the second
    let (_, _, third) = &at_snapshot[2];
    assert_eq!(third.removed_snapshots, 1);
    assert_eq!(third.removed_segments, 1);
    let snapshots = files(&dir, "snapshot-", ".snap");
    assert_eq!(snapshots.len(), 2);
    // Left: the segments after the older kept snapshot
    let segments = files(&dir, "journal-", ".jsonl");
    let named = |p: u64| dir.join(format!("journal-{p:020}.jsonl"));
    assert_eq!(
        segments,
        vec![named(at_snapshot[1].0), named(at_snapshot[2].0)]
    );
    let (engine, report) = open(&dir);
    assert_eq!(report.snapshot.as_ref().unwrap().1, at_snapshot[2].0);
    assert_eq!(engine.state_digest(), reference.state_digest());
    drop(engine);
    // The newest damaged: the older one and the journal after it
    let mut bytes = std::fs::read(&snapshots[1]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&snapshots[1], &bytes).unwrap();
    let (engine, report) = open(&dir);
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.snapshot.as_ref().unwrap().1, at_snapshot[1].0);
    assert_eq!(engine.state_digest(), reference.state_digest());
    drop(engine);
    // Both gone bad: the journal no longer reaches back, a clear error
    let mut bytes = std::fs::read(&snapshots[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&snapshots[0], &bytes).unwrap();
    let e = open_err(&dir);
    assert!(matches!(e, StoreError::Gap { refused: 1, .. }), "{e:?}");
    assert!(e.to_string().contains("entries in between are gone"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn open_takes_the_shipped_policies_and_sync_makes_on_flush_durable() {
    let dir = fresh_dir("shipped");
    let options = StoreOptions::default().durability(Durability::OnFlush);
    let (engine, _) = Engine::open_with(&dir, policies().clone(), options).unwrap();
    for (step, _) in sequence(12) {
        apply_step(&engine, &step);
    }
    engine.sync().unwrap();
    let digest = engine.state_digest();
    assert!(format!("{engine:?}").contains("Directory"));
    assert!(!format!("{engine:?}").contains("client-"));
    drop(engine);
    let engine = Engine::open(&dir).unwrap();
    assert_eq!(engine.state_digest(), digest);
    assert_eq!(engine.data_dir(), Some(dir.as_path()));
    assert!(!engine.journal_stopped(), "a healthy journal takes writes");
    drop(engine);
    assert!(Engine::with_policies(policies().clone()).sync().is_ok());
    assert!(!Engine::with_policies(policies().clone()).journal_stopped());
    let _ = std::fs::remove_dir_all(&dir);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A restored snapshot gives the digest and the answers of the engine
    /// that wrote it, for random worlds (and the crash sequence's Mitz
    /// choices, national ids and records on top)
    #[test]
    fn a_snapshot_restores_the_same_digest(
        staff in prop::collection::vec(staff(), 7),
        events in prop::collection::vec(event_seed(), 0..40),
        requests in prop::collection::vec(request_seed(), 1..6),
        extra in 0..60usize,
    ) {
        let dir = fresh_dir("prop");
        let (engine, _) = open(&dir);
        // The random world as `setup` registers it, its random events, and
        // the crash sequence's organisations, patients, Mitz choices and
        // records on top
        for e in crate::proptests::setup_entities(&staff) {
            engine.register(e).unwrap();
        }
        for e in &events {
            let _ = engine.apply(&build_event(e));
        }
        for (step, _) in sequence(extra + 10) {
            let _ = match &step {
                Step::Entity(e) => engine.register(e.clone()).is_ok(),
                Step::Event(e) => engine.apply(e).is_ok(),
                Step::Entry(e) => engine.apply_entry(e).is_ok(),
            };
        }
        engine.snapshot().unwrap();
        let digest = engine.state_digest();
        let answers: Vec<_> = requests.iter().map(|s| engine.decide(&build_request(s))).collect();
        drop(engine);
        let (restored, report) = open(&dir);
        prop_assert!(report.snapshot.is_some());
        prop_assert_eq!(report.replayed, 0);
        prop_assert_eq!(restored.state_digest(), digest);
        for (s, a) in requests.iter().zip(&answers) {
            prop_assert_eq!(&restored.decide(&build_request(s)), a);
        }
        drop(restored);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
