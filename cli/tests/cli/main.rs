//! The command line end to end: `validate` and `fmt` (diagnostics at their
//! place, the consent vocabulary too; every error of a scenario file), `test` (walking folders, vocabulary typos, which policy set ran,
//! `-v`, `--filter`, `--junit`),
//! `test --audit-log`, `audit verify` and `audit overview` (also on a
//! tampered log), `prove`, `explain`, `matrix` and `diff`, and output cut by a
//! closed pipe, run as a user would run them, checked by exit code, output and what they leave behind.

#[cfg(test)]
mod audit;
#[cfg(test)]
mod authoring;
#[cfg(test)]
mod consent_questions;
#[cfg(test)]
mod consent_vocabulary;
#[cfg(test)]
mod coverage;
#[cfg(test)]
mod data;
#[cfg(test)]
mod diff;
#[cfg(test)]
mod explain;
#[cfg(test)]
mod fhir;
#[cfg(test)]
mod freshness;
#[cfg(test)]
mod helpers;
#[cfg(test)]
mod least_privilege;
#[cfg(test)]
mod limits;
#[cfg(test)]
mod matrix;
#[cfg(test)]
mod pipe;
#[cfg(test)]
mod prove;
#[cfg(test)]
mod readme;
#[cfg(test)]
mod scenario_errors;
#[cfg(test)]
mod test_flags;
#[cfg(test)]
mod vocabulary;
#[cfg(test)]
mod walk;
