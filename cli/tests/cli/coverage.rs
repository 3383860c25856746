//! `test --coverage`: which policies determined the expectations

use std::fs;

use super::helpers::{TempDir, VISIBLE, kraamzorg, path, stderr, stdout, zorg};

/// A dashboard counts in policy coverage with the policies of the views it
/// summarises, each once
#[test]
fn a_dashboard_counts_in_policy_coverage() {
    let dir = TempDir::new("coverage");
    let file = dir.0.join("dashboard.toml");
    let text = kraamzorg("labuitslagen", VISIBLE);
    let only_dashboard = format!(
        "{}{}",
        &text[..text.find("[[expect]]").unwrap()],
        &text[text.find("[[expect_dashboard]]").unwrap()..]
    );
    fs::write(&file, only_dashboard).unwrap();
    let out = zorg(&["test", "--coverage", path(&file)]);
    // Most shipped policies are not reached by one dashboard
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stdout(&out);
    let count = |id: &str| {
        said.lines()
            .find(|l| l.trim_end().ends_with(&format!("  {id}")))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_owned)
    };
    // vp-noord's categories through the shared dossier, kz-oost's own
    // dossier, and the role matrix behind the hidden ones
    assert_eq!(
        count("permit-view-shared-dossier").as_deref(),
        Some("1"),
        "{said}"
    );
    assert_eq!(
        count("permit-view-own-dossier").as_deref(),
        Some("1"),
        "{said}"
    );
    assert_eq!(
        count("forbid-category-not-in-role-matrix").as_deref(),
        Some("1"),
        "{said}"
    );
    assert_eq!(
        count("permit-view-in-emergency").as_deref(),
        Some("0"),
        "{said}"
    );
    assert!(said.ends_with("1 passed, 0 failed\n"), "{said}");
}
