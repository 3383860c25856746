//! Finding the cvc5 executable and starting it for symcc

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use cedar_policy_symcc::solver::LocalSolver;

/// How to get cvc5, for the message when it is missing
const HOW_TO_INSTALL: &str = "install it (Debian/Ubuntu: `apt-get install cvc5`; 1.0.3 is the \
     version checked with symcc; other systems: https://cvc5.github.io/downloads.html), or point \
     at it with `--solver PATH` or the `CVC5` environment variable";

/// The solver cannot be used
#[derive(Debug, thiserror::Error)]
pub(crate) enum SolverError {
    /// No executable found
    #[error("the SMT solver cvc5 was not found: `{tried}` {why}; {HOW_TO_INSTALL}")]
    Missing {
        /// What was looked for: a path, or `cvc5` on the PATH
        tried: String,
        why: &'static str,
    },
    /// It is there but does not run as cvc5 does
    #[error("the SMT solver `{path}` does not run as cvc5: {why}; {HOW_TO_INSTALL}")]
    Broken { path: String, why: String },
    /// It could not be started for the proof
    #[error("starting the SMT solver `{path}`: {source}")]
    Start {
        path: String,
        #[source]
        source: cedar_policy_symcc::solver::SolverError,
    },
}

/// A solver executable that answered `--version` as cvc5
#[derive(Debug, Clone)]
pub(crate) struct Cvc5 {
    pub(crate) path: PathBuf,
    /// `1.0.3`
    pub(crate) version: String,
}

impl Cvc5 {
    /// The solver named by `--solver`, else by `CVC5`, else `cvc5` on the PATH
    pub(crate) fn find(flag: Option<&Path>) -> Result<Self, SolverError> {
        let named = flag.map(Path::to_path_buf).or_else(|| {
            std::env::var_os("CVC5")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let path = match named {
            Some(path) if path.is_file() => path,
            Some(path) => {
                return Err(SolverError::Missing {
                    tried: path.display().to_string(),
                    why: "does not exist",
                });
            }
            None => on_path("cvc5").ok_or(SolverError::Missing {
                tried: "cvc5".to_owned(),
                why: "is not on the PATH",
            })?,
        };
        let shown = path.display().to_string();
        let out = std::process::Command::new(&path)
            .arg("--version")
            .output()
            .map_err(|e| SolverError::Broken {
                path: shown.clone(),
                why: e.to_string(),
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("This is cvc5 version "))
            .map(|v| v.trim().to_owned());
        match version {
            Some(version) if out.status.success() => Ok(Self { path, version }),
            _ => Err(SolverError::Broken {
                path: shown,
                why: format!(
                    "`--version` did not say \"This is cvc5 version …\" (exit code {}, said: {})",
                    out.status
                        .code()
                        .map_or_else(|| "none".to_owned(), |c| c.to_string()),
                    text.lines().next().unwrap_or("nothing")
                ),
            }),
        }
    }

    /// A fresh cvc5 process reading SMT-LIB from symcc, giving up on one
    /// query after `timeout_s` seconds (it then answers `unknown`)
    pub(crate) fn start(&self, timeout_s: u32) -> Result<LocalSolver, SolverError> {
        let limit = format!("--tlimit-per={}", u64::from(timeout_s) * 1000);
        LocalSolver::from_command(
            tokio::process::Command::new(&self.path)
                .args(["--lang", "smt"])
                .arg(limit)
                .kill_on_drop(true),
        )
        .map_err(|source| SolverError::Start {
            path: self.path.display().to_string(),
            source,
        })
    }
}

/// The first executable file `name` in a folder of the PATH
fn on_path(name: &str) -> Option<PathBuf> {
    let path: OsString = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_solver_says_how_to_install_and_point_at_it() {
        let e = Cvc5::find(Some(Path::new("/nonexistent/cvc5"))).unwrap_err();
        let said = e.to_string();
        assert!(
            said.contains("`/nonexistent/cvc5` does not exist"),
            "{said}"
        );
        assert!(said.contains("apt-get install cvc5"), "{said}");
        assert!(
            said.contains("--solver PATH") && said.contains("`CVC5`"),
            "{said}"
        );
    }

    #[test]
    fn a_program_that_is_not_cvc5_is_refused() {
        // `true` exits 0 and says nothing
        let not_cvc5 = on_path("true").expect("`true` is on the PATH");
        let e = Cvc5::find(Some(&not_cvc5)).unwrap_err();
        assert!(e.to_string().contains("does not run as cvc5"), "{e}");
    }
}
