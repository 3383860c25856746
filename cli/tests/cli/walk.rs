//! `zorg-pdp test DIR`: every scenario file once, whatever links the folder holds

use std::fs;
use std::process::Stdio;
use std::time::Duration;

use super::helpers::{TempDir, VISIBLE, kraamzorg, path, stderr, stdout, zorg, zorg_within};

#[cfg(unix)]
#[test]
fn links_back_up_end_the_walk_and_each_file_runs_once() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new("links");
    let root = dir.0.join("tests");
    fs::create_dir_all(root.join("sub")).unwrap();
    let scenario = kraamzorg("labuitslagen", VISIBLE);
    fs::write(root.join("kraam.toml"), &scenario).unwrap();
    fs::write(root.join("sub/kraam-too.toml"), &scenario).unwrap();
    // Two links to the folder itself, one to its parent, one to a file
    symlink(".", root.join("self-a")).unwrap();
    symlink(&root, root.join("self-b")).unwrap();
    symlink("..", root.join("sub/up")).unwrap();
    symlink("kraam.toml", root.join("again.toml")).unwrap();

    let out = zorg_within(
        &["test", path(&root)],
        Stdio::piped(),
        Duration::from_secs(120),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Two files of two expectations each, each file once
    assert_eq!(
        stdout(&out).lines().last(),
        Some("4 passed, 0 failed"),
        "{}",
        stderr(&out)
    );
    // Named by their own paths, not through a link: a failure says where
    let failing = kraamzorg("labuitslagen", r#""basis""#);
    fs::write(root.join("kraam.toml"), &failing).unwrap();
    let out = zorg(&["test", path(&root)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains("/tests/kraam.toml:"), "{said}");
    assert!(!said.contains("again.toml"), "{said}");
    assert!(said.ends_with("3 passed, 1 failed\n"), "{said}");
    fs::write(root.join("kraam.toml"), &scenario).unwrap();

    // A file named beside its folder, or a folder named through a link, still runs once
    let out = zorg(&[
        "test",
        path(&root),
        path(&root.join("kraam.toml")),
        path(&root.join("self-a")),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().last(), Some("4 passed, 0 failed"));
}

#[test]
fn a_folder_without_scenario_files_is_an_error() {
    let dir = TempDir::new("empty");
    fs::write(dir.0.join("README.md"), "no scenarios here\n").unwrap();
    let out = zorg(&["test", path(&dir.0)]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(said.contains(path(&dir.0)), "{said}");
    assert!(said.contains("no scenario file"), "{said}");
}
