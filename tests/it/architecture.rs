//! The one-way flow of ARCHITECTURE.md, checked in the source: event →
//! registry → facts → policies → decision → audit record (with `diagnostic`,
//! where an error is in its file, before them all, and `fhir`, FHIR parsing
//! and serialising, on the model alone). A module may use
//! only the modules before it; this test fails when a back-reference comes
//! back (a `use crate::…` or a `crate::…::` path to a later stage).

use std::path::{Path, PathBuf};

/// Each module of `src/` and the modules it must not name
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "diagnostic",
        &[
            "model", "fhir", "registry", "policy", "engine", "audit", "scenario", "schema", "store",
        ],
    ),
    (
        "model",
        &[
            "fhir", "registry", "policy", "engine", "audit", "scenario", "schema", "analysis",
            "store",
        ],
    ),
    // FHIR parse and serialise: on the model alone (the engine supplies the
    // registry's lookups through its traits)
    (
        "fhir",
        &[
            "registry", "policy", "engine", "audit", "scenario", "schema", "analysis", "store",
        ],
    ),
    (
        "registry",
        &[
            "fhir", "policy", "engine", "audit", "scenario", "analysis", "store",
        ],
    ),
    (
        "policy",
        &[
            "fhir", "registry", "engine", "audit", "scenario", "analysis", "store",
        ],
    ),
    (
        "audit",
        &[
            "fhir", "engine", "registry", "scenario", "analysis", "store",
        ],
    ),
    // The engine reaches the data directory only through its journal hook
    ("engine", &["scenario", "analysis", "store"]),
    // A stage after the engine: it may use everything before it
    ("analysis", &["scenario", "store"]),
    // The data directory (journal, snapshots): after the engine and the
    // audit sink (its `Durability`)
    ("store", &["scenario", "analysis", "fhir"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files of module `name`: `src/name.rs` or everything under `src/name/`
fn files_of(name: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join(name), &mut files);
    let single = src.join(format!("{name}.rs"));
    if single.is_file() {
        files.push(single);
    }
    files
}

/// The `crate::X` modules a source text names, outside comments and unit
/// tests (a test may load the shipped policies to get a vocabulary)
fn named_modules(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let module: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((n + 1, module));
            rest = after;
        }
    }
    found
}

#[test]
fn modules_depend_only_on_earlier_stages() {
    let mut violations = Vec::new();
    for (module, forbidden) in FORBIDDEN {
        let files = files_of(module);
        assert!(!files.is_empty(), "no source files for `{module}`");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, named) in named_modules(&text) {
                if forbidden.contains(&named.as_str()) {
                    violations.push(format!(
                        "{}:{line}: `{module}` names `crate::{named}`",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "back-references:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_check_sees_a_back_reference() {
    let named = named_modules("use crate::engine::Answer; // crate::audit in a comment\n");
    assert_eq!(named, vec![(1, "engine".to_owned())]);
    let named = named_modules("    let x = crate::registry::Tag::new();");
    assert_eq!(named, vec![(1, "registry".to_owned())]);
    let named =
        named_modules("use crate::model::Fact;\n#[cfg(test)]\nuse crate::policy::Policies;\n");
    assert_eq!(named, vec![(1, "model".to_owned())]);
}
