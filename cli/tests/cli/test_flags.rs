//! `test` end to end: which policy set ran and the `./policies` warning,
//! `-v`, `--filter`, `--junit`, and coverage of dashboards and rules

use std::fs;

use super::authoring::{copy_policies, edit, shipped_dir, zorg_in};
use super::helpers::{TempDir, VISIBLE, kraamzorg, path, stderr, stdout, zorg};

/// The content hash `test` or `validate` printed
fn hash_in(said: &str) -> String {
    said.split("content hash ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_default()
        .trim_end_matches([',', ';', ')'])
        .to_owned()
}

#[test]
fn test_says_which_policy_set_ran_and_warns_when_local_policies_differ() {
    let dir = TempDir::new("which-set");
    let scenario = dir.0.join("kraam.toml");
    fs::write(&scenario, kraamzorg("labuitslagen", VISIBLE)).unwrap();
    // No `./policies`: the shipped set, no warning
    let out = zorg_in(&dir.0, &["test", "kraam.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    let first = said.lines().next().unwrap();
    assert!(
        first.starts_with("policies: the shipped set (embedded), content hash sha256:"),
        "{said}"
    );
    let shipped = hash_in(first);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // An unchanged copy in `./policies`: the same hash, no warning
    let policies = copy_policies(&dir.0);
    let out = zorg_in(&dir.0, &["test", "kraam.toml"]);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // An edited copy: the embedded set ran, and the warning says so
    edit(
        &policies.join("view-shared-dossier.cedar"),
        "@id(\"permit-view-shared-dossier\")",
        "// an edit\n@id(\"permit-view-shared-dossier\")",
    );
    let out = zorg_in(&dir.0, &["test", "kraam.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warning = stderr(&out);
    assert!(
        warning.starts_with(
            "warning: `./policies` differs from the policies that ran (the shipped set (embedded)"
        ),
        "{warning}"
    );
    assert!(warning.contains(&shipped), "{warning}");
    assert!(warning.contains("add `--policies policies`"), "{warning}");
    // Running `./policies` itself: its own hash, no warning
    let out = zorg_in(&dir.0, &["test", "--policies", "policies", "kraam.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.starts_with("policies: `policies`, content hash sha256:"),
        "{said}"
    );
    assert_ne!(hash_in(&said), shipped);
    // A `./policies` that does not load: still a warning, naming the error
    edit(
        &policies.join("mfa.cedar"),
        "@reason(\"mfa_required\")",
        "@reason(\"x\")",
    );
    let out = zorg_in(&dir.0, &["test", "kraam.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(
            "warning: `./policies` does not load, and the shipped set (embedded) ran instead: "
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn test_verbose_lists_every_expectation_with_its_outcome() {
    let dir = TempDir::new("verbose");
    let file = dir.0.join("kraam.toml");
    // The dashboard expects one category too few: it fails, the decision passes
    fs::write(&file, kraamzorg("labuitslagen", r#""basis""#)).unwrap();
    let out = zorg(&["test", "-v", path(&file)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stdout(&out);
    let lines: Vec<&str> = said.lines().collect();
    let f = path(&file);
    assert!(
        lines[1].starts_with(&format!("ok    {f}:")) && lines[1].ends_with(": expect #1"),
        "{said}"
    );
    assert!(
        lines[2].starts_with(&format!("FAIL  {f}:")) && lines[2].ends_with(": expect_dashboard #1"),
        "{said}"
    );
    assert!(
        lines[3].starts_with("      expected the dashboard, got vp-noord: expected [basis], got ["),
        "{said}"
    );
    assert_eq!(lines.last(), Some(&"1 passed, 1 failed"));
    // Without -v only the failure, once
    let out = zorg(&["test", path(&file)]);
    let said = stdout(&out);
    assert!(!said.contains("ok    "), "{said}");
    assert_eq!(said.matches("expect_dashboard #1").count(), 1, "{said}");
}

#[test]
fn test_filter_runs_what_matches_and_says_how_many_were_filtered() {
    let tests = shipped_dir().join("tests");
    let out = zorg(&["test", "--filter", "R12", path(&tests)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    let line = said
        .lines()
        .find(|l| l.starts_with("filter `R12`: "))
        .unwrap();
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .skip(1)
        .collect();
    let (ran, filtered) = (numbers[0], numbers[1]);
    assert!(ran > 10 && filtered > 100, "{line}");
    let all = zorg(&["test", path(&tests)]);
    let total: usize = stdout(&all)
        .lines()
        .last()
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(ran + filtered, total, "{line}");
    assert_eq!(
        said.lines().last(),
        Some(format!("{ran} passed, 0 failed").as_str())
    );
    // A filter that selects nothing is an error, not a pass
    let out = zorg(&["test", "--filter", "no-such-expectation", path(&tests)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("the filter selects no expectation"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn test_junit_writes_well_formed_xml_one_suite_per_file_one_case_per_expectation() {
    let dir = TempDir::new("junit");
    let good = dir.0.join("a-good.toml");
    let failing = dir.0.join("b-failing.toml");
    let broken = dir.0.join("c-broken.toml");
    // A name with every character XML escapes, and a control character
    let named = kraamzorg("labuitslagen", VISIBLE).replacen(
        "[[expect]]\n",
        "[[expect]]\nname = \"<tag> & \\\"quotes\\\" 'apostrophes' \\u0007\"\n",
        1,
    );
    fs::write(&good, named).unwrap();
    fs::write(&failing, kraamzorg("labuitslagen", r#""basis""#)).unwrap();
    fs::write(&broken, "name = \n").unwrap();
    let report = dir.0.join("junit.xml");
    let out = zorg(&["test", "--junit", path(&report), path(&dir.0)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("junit report `{}`", report.display())));
    let xml = fs::read_to_string(&report).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("5"));
    assert_eq!(root.attribute("failures"), Some("1"));
    assert_eq!(root.attribute("errors"), Some("1"));
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let suite_names: Vec<&str> = suites.iter().filter_map(|s| s.attribute("name")).collect();
    assert_eq!(suite_names, [path(&good), path(&failing), path(&broken)]);
    let cases = |i: usize| -> Vec<roxmltree::Node<'_, '_>> {
        suites[i]
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect()
    };
    // The name comes back as written (the control character replaced)
    let first = cases(0)[0].attribute("name").unwrap();
    assert!(first.starts_with("expect #1 (line "), "{first}");
    assert!(
        first.ends_with(": <tag> & \"quotes\" 'apostrophes' \u{FFFD}"),
        "{first}"
    );
    assert_eq!(cases(0).len(), 2);
    assert!(cases(0).iter().all(|c| !c.has_children()), "both passed");
    // The failing dashboard has its failure, with the message
    let failure = cases(1)
        .iter()
        .find_map(|c| c.children().find(|n| n.has_tag_name("failure")))
        .unwrap();
    let message = failure.attribute("message").unwrap();
    assert!(
        message.starts_with("expected the dashboard, got vp-noord: expected [basis]"),
        "{message}"
    );
    assert_eq!(suites[1].attribute("failures"), Some("1"));
    // The file that does not parse is an error
    let error = cases(2)[0]
        .children()
        .find(|n| n.has_tag_name("error"))
        .unwrap();
    assert!(
        error
            .attribute("message")
            .unwrap()
            .starts_with(path(&broken)),
        "{xml}"
    );
    // Each suite names the policy set
    let hash = suites[0]
        .descendants()
        .find(|n| n.attribute("name") == Some("content_hash"))
        .and_then(|n| n.attribute("value"))
        .unwrap();
    assert!(hash.starts_with("sha256:"), "{xml}");
}

#[test]
fn coverage_counts_dashboards_and_lists_rules_in_numeric_order() {
    let tests = shipped_dir().join("tests");
    let out = zorg(&["test", "--coverage", path(&tests)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    let heading = said
        .lines()
        .find(|l| l.starts_with("policy coverage"))
        .unwrap();
    assert!(heading.contains(" of them dashboards"), "{heading}");
    let dashboards: usize = heading
        .split(", ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(dashboards > 10, "{heading}");
    let rules: Vec<u32> = said
        .lines()
        .skip_while(|l| !l.starts_with("rule coverage"))
        .skip(1)
        .take_while(|l| l.starts_with("  R"))
        .filter_map(|l| {
            l.trim_start()
                .trim_start_matches('R')
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(rules.len() > 20, "{said}");
    let mut sorted = rules.clone();
    sorted.sort_unstable();
    assert_eq!(rules, sorted, "R2 before R10: {rules:?}");
    let r2 = rules.iter().position(|&r| r == 2).unwrap();
    let r10 = rules.iter().position(|&r| r == 10).unwrap();
    assert!(r2 < r10);
}
