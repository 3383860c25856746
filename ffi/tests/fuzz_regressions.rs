//! Replays `fuzz/regressions/ffi_json/*` through the body of the `ffi_json`
//! fuzz target (`fuzz/ffi_target.rs`) on stable Rust.
//!
//! A seed is a file whose name does not start with a dot (`.keep` keeps the
//! folder in git and is not an input). The first byte picks the entry point
//! (`register`, `apply`, `decide`, `dashboard`, modulo 4), the rest is the
//! JSON text; see the fuzz body.

#![expect(
    unsafe_code,
    reason = "the fuzz body calls the C ABI as a C host would"
)]

#[cfg(test)]
#[path = "../../fuzz/ffi_target.rs"]
mod ffi_target;

/// How many seeds are committed in `fuzz/regressions/ffi_json/`; raise it
/// when you add one (a new crasher, minimised), never lower it
#[cfg(test)]
const COMMITTED_SEEDS: usize = 14;

/// The seed files of the folder, sorted, without dotfiles
#[cfg(test)]
fn seeds(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut seeds: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.is_file()
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    seeds.sort();
    seeds
}

#[cfg(test)]
#[test]
fn ffi_json_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/ffi_json");
    let seeds = seeds(&dir);
    let names: Vec<_> = seeds.iter().filter_map(|p| p.file_name()).collect();
    assert!(
        seeds.len() >= COMMITTED_SEEDS,
        "{} seeds in `{}`, {COMMITTED_SEEDS} committed: {names:?}",
        seeds.len(),
        dir.display()
    );
    // Every selector is covered, so each entry point is replayed
    let mut selectors: Vec<u8> = seeds
        .iter()
        .filter_map(|p| std::fs::read(p).unwrap().first().map(|b| b % 4))
        .collect();
    selectors.sort_unstable();
    selectors.dedup();
    assert_eq!(selectors, [0, 1, 2, 3], "seeds for every entry point");
    // Each replays without a panic; a failure names the file
    let mut panicked = Vec::new();
    for path in &seeds {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| ffi_target::ffi_json(&data)).is_err() {
            panicked.push(path.display().to_string());
        }
    }
    assert!(panicked.is_empty(), "seeds that panic: {panicked:?}");
}

#[cfg(test)]
#[test]
fn dotfiles_are_not_seeds() {
    let dir = std::env::temp_dir().join(format!("zpdp-seeds-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for name in [".keep", ".DS_Store", "a-seed", "b-seed"] {
        std::fs::write(dir.join(name), b"\x02{}").unwrap();
    }
    let found: Vec<_> = seeds(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found, ["a-seed", "b-seed"]);
}
