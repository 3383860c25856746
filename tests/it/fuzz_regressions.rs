//! Replays every input under `fuzz/regressions/<target>/` through the same
//! body the fuzz target runs (`fuzz/targets.rs`), on stable Rust. A crasher
//! found by `fuzz/run.sh` is minimised into that folder and stays a test.
//!
//! One data-driven test: the table below must name exactly the targets in
//! `fuzz/fuzz_targets/`, each target's folder must exist and hold at least one
//! input (a file whose name does not start with a dot), and every input is
//! replayed. A renamed, missing or empty folder fails instead of passing
//! silently.
//!
//! Hand-written seeds say in their name what they exercise, and
//! [`seeds_do_what_their_names_say`] holds them to it, so a seed that stops
//! reaching its path (the world or a format changed) is noticed: `parse-*`
//! does not parse; an `event_json` seed `accepted-*` applies to the small
//! world and changes an answer of its state probe, `rejected-*` is refused; a `request_json` seed `allow-*` or
//! `deny-*` is decided so; a scenario seed `valid-*` runs with every
//! expectation met; a `fhir_import` seed `valid-*` imports into the FHIR
//! test world as events that all apply (`seq` grows by their number),
//! `rejected-*` is refused. Inputs found by fuzzing are named `fuzzed-*`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[path = "../../fuzz/targets.rs"]
mod targets;

use crate::common::{self, TempDir};

/// One fuzz target: its name (the file `fuzz/fuzz_targets/<name>.rs` and the
/// folder `fuzz/regressions/<name>/`), the call its libFuzzer entry point
/// makes, and that body here
struct Target {
    name: &'static str,
    call: &'static str,
    body: fn(&[u8]),
}

/// Every fuzz target whose body is in `fuzz/targets.rs`
const TARGETS: [Target; 7] = [
    Target {
        name: "event_json",
        call: "targets::event_json(data)",
        body: targets::event_json,
    },
    Target {
        name: "fhir_import",
        call: "targets::fhir_import(data)",
        body: targets::fhir_import,
    },
    Target {
        name: "policy_text",
        call: "targets::policy_text(data)",
        body: targets::policy_text,
    },
    Target {
        name: "request_json",
        call: "targets::request_json(data)",
        body: targets::request_json,
    },
    Target {
        name: "scenario_json",
        call: "targets::scenario(data, true)",
        body: |d| targets::scenario(d, true),
    },
    Target {
        name: "scenario_toml",
        call: "targets::scenario(data, false)",
        body: |d| targets::scenario(d, false),
    },
    Target {
        name: "structured",
        call: "targets::structured(data)",
        body: targets::structured,
    },
];

/// Targets whose body calls the C ABI: replayed by `ffi/tests/fuzz_regressions.rs`
/// (this crate cannot depend on `zorg-pdp-ffi`), so here only their folder must exist
const REPLAYED_ELSEWHERE: [&str; 1] = ["ffi_json"];

/// The inputs of one folder: every file whose name does not start with a dot, sorted
fn inputs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("folder {} is missing: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "folder {} holds no input (dotfiles do not count)",
            dir.display()
        ));
    }
    Ok(files)
}

/// Checks the fuzz crate at `fuzz` against [`TARGETS`] and replays every
/// regression input through its body: the number of inputs replayed per
/// target, or every problem found (a body that panics fails at once)
fn replay_all(fuzz: &Path) -> Result<Vec<(&'static str, usize)>, Vec<String>> {
    let mut problems = Vec::new();
    let declared: BTreeSet<String> = std::fs::read_dir(fuzz.join("fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let known: BTreeSet<String> = TARGETS
        .iter()
        .map(|t| t.name)
        .chain(REPLAYED_ELSEWHERE)
        .map(str::to_owned)
        .collect();
    for name in declared.difference(&known) {
        problems.push(format!(
            "fuzz target `{name}` is not in the replay table of tests/it/fuzz_regressions.rs"
        ));
    }
    for name in known.difference(&declared) {
        problems.push(format!(
            "the replay table names `{name}`, which fuzz/fuzz_targets/ does not hold"
        ));
    }
    for name in REPLAYED_ELSEWHERE {
        let dir = fuzz.join("regressions").join(name);
        if !dir.is_dir() {
            problems.push(format!("folder {} is missing", dir.display()));
        }
    }
    let mut counts = Vec::new();
    for t in &TARGETS {
        let entry = fuzz.join("fuzz_targets").join(format!("{}.rs", t.name));
        if let Ok(source) = std::fs::read_to_string(&entry)
            && !source.contains(t.call)
        {
            problems.push(format!(
                "{} does not call `{}`, the body the replay uses",
                entry.display(),
                t.call
            ));
        }
        match inputs(&fuzz.join("regressions").join(t.name)) {
            Ok(files) => {
                for path in &files {
                    eprintln!("replaying {}", path.display());
                    (t.body)(&std::fs::read(path).unwrap());
                }
                counts.push((t.name, files.len()));
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(counts)
    } else {
        Err(problems)
    }
}

#[test]
fn every_fuzz_target_replays_its_regressions() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    match replay_all(&fuzz) {
        Ok(counts) => {
            assert_eq!(counts.len(), TARGETS.len());
            assert!(counts.iter().all(|(_, n)| *n > 0), "{counts:?}");
        }
        Err(problems) => panic!("fuzz regressions:\n  {}", problems.join("\n  ")),
    }
}

/// Hand-written seeds reach the path their name promises (see the module docs)
#[test]
fn seeds_do_what_their_names_say() {
    use zorg_pdp::{Event, Request, Scenario};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let named = |target: &str, prefix: &str| -> Vec<(PathBuf, String)> {
        let files: Vec<_> = inputs(&dir.join(target))
            .unwrap()
            .into_iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect();
        assert!(!files.is_empty(), "no {target} seed named {prefix}*");
        files
    };
    for (path, text) in named("event_json", "parse-") {
        assert!(Event::from_json(&text).is_err(), "{}", path.display());
    }
    // An accepted seed changes an answer of the state probe: the probe the
    // body compares for rejected events can see what an event does
    for (prefix, applies) in [("accepted-", true), ("rejected-", false)] {
        for (path, text) in named("event_json", prefix) {
            let event = Event::from_json(&text).unwrap();
            let engine = common::world();
            let before = common::state(&engine);
            let result = engine.apply(&event);
            assert_eq!(result.is_ok(), applies, "{}: {result:?}", path.display());
            let after = common::state(&engine);
            assert_eq!(after.same_answers(&before), !applies, "{}", path.display());
            assert_eq!(after == before, !applies, "{}", path.display());
        }
    }
    for (path, text) in named("request_json", "parse-") {
        assert!(Request::from_json(&text).is_err(), "{}", path.display());
    }
    let engine = common::world();
    for (prefix, allowed) in [("allow-", true), ("deny-", false)] {
        for (path, text) in named("request_json", prefix) {
            let r = engine.decide(&Request::from_json(&text).unwrap());
            assert_eq!(r.is_allowed(), allowed, "{}: {r:?}", path.display());
        }
    }
    for (path, text) in named("fhir_import", "valid-") {
        let engine = common::fhir_world();
        let before = common::fhir_state(&engine);
        let seq = engine.seq();
        let applied = engine.fhir_apply(&text);
        let events = common::fhir_world().fhir_import(&text).unwrap();
        assert!(!events.is_empty(), "{}", path.display());
        assert_eq!(
            applied,
            Ok(seq + u64::try_from(events.len()).unwrap()),
            "{}",
            path.display()
        );
        assert_ne!(common::fhir_state(&engine), before, "{}", path.display());
    }
    for (path, text) in named("fhir_import", "rejected-") {
        let engine = common::fhir_world();
        let result = engine.fhir_import(&text);
        assert!(result.is_err(), "{}: {result:?}", path.display());
    }
    for target in ["scenario_toml", "scenario_json"] {
        for (path, text) in named(target, "valid-") {
            let scenario = Scenario::parse(&text, &path).unwrap();
            let report =
                zorg_pdp::scenario::run_scenario(common::policies(), &scenario, &path).unwrap();
            assert!(
                report.passed > 0 && report.failed == 0 && report.errors.is_empty(),
                "{}: {}",
                path.display(),
                report.summary()
            );
        }
    }
}

/// The replay itself can fail: a copy of the fuzz crate's layout with one
/// folder emptied, one removed and one target unlisted is refused, naming each
#[test]
fn a_missing_or_empty_regressions_folder_fails_the_replay() {
    let tmp = TempDir::new("fuzz-layout");
    let fuzz = tmp.file("fuzz");
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    std::fs::create_dir_all(fuzz.join("fuzz_targets")).unwrap();
    for e in std::fs::read_dir(&real).unwrap() {
        let path = e.unwrap().path();
        std::fs::copy(
            &path,
            fuzz.join("fuzz_targets").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    std::fs::write(fuzz.join("fuzz_targets/unlisted.rs"), "").unwrap();
    for t in TARGETS.iter().map(|t| t.name).chain(REPLAYED_ELSEWHERE) {
        let dir = fuzz.join("regressions").join(t);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".keep"), "").unwrap();
        if t != "policy_text" {
            std::fs::write(dir.join("seed"), "{}").unwrap();
        }
    }
    std::fs::remove_dir_all(fuzz.join("regressions/structured")).unwrap();
    let problems = replay_all(&fuzz).unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("`unlisted`"), "{}", problems[0]);
    assert!(
        problems[1].contains("policy_text") && problems[1].contains("holds no input"),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].contains("structured") && problems[2].contains("is missing"),
        "{}",
        problems[2]
    );
    // With every folder seeded and the table matching, the same layout passes
    std::fs::remove_file(fuzz.join("fuzz_targets/unlisted.rs")).unwrap();
    for t in ["policy_text", "structured"] {
        let dir = fuzz.join("regressions").join(t);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("seed"), "{}").unwrap();
    }
    let counts = replay_all(&fuzz).unwrap();
    assert!(counts.iter().all(|(_, n)| *n == 1), "{counts:?}");
}

/// The bodies also hold on a few hand-made hostile inputs
#[test]
fn hostile_inputs_do_not_panic() {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_toml = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_inline = format!("a = {}{}", "{b = ".repeat(50_000), "}".repeat(50_000));
    let deep_bundle = format!(
        r#"{{"resourceType":"Bundle","type":"transaction","entry":[{{"resource":{}{}}}]}}"#,
        "{\"a\":".repeat(100_000),
        "}".repeat(100_000)
    );
    for input in [
        deep_json.as_str(),
        deep_bundle.as_str(),
        "{}",
        "",
        "\u{0}",
        "{\"at\":1}",
    ] {
        targets::fhir_import(input.as_bytes());
        targets::event_json(input.as_bytes());
        targets::request_json(input.as_bytes());
        targets::scenario(input.as_bytes(), true);
    }
    for input in [
        deep_toml.as_str(),
        deep_inline.as_str(),
        "[[events]]\nat = 1",
    ] {
        targets::scenario(input.as_bytes(), false);
    }
    targets::policy_text(
        "permit(principal, action, resource) when { "
            .repeat(10_000)
            .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(5_000),
            ")".repeat(5_000)
        )
        .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ {}true }};",
            "!".repeat(100_000)
        )
        .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ true{} }};",
            " && true".repeat(50_000)
        )
        .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ 1{} > 0 }};",
            " + 1".repeat(50_000)
        )
        .as_bytes(),
    );
    targets::policy_text(
        format!(
            "@id(\"x\") permit(principal, action, resource) when {{ {}1 > 0 }};",
            "-".repeat(100_000)
        )
        .as_bytes(),
    );
    targets::structured(&[0u8; 512]);
    targets::structured(&[0xffu8; 4096]);
}
