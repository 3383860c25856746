//! The command line end to end: `test` (walking folders, vocabulary typos),
//! `test --audit-log`, `audit verify` and `audit overview` (also on a
//! tampered log), `matrix` and `diff`, and output cut by a closed pipe, run as a user would run
//! them, checked by exit code, output and what they leave behind.

#[cfg(test)]
mod audit;
#[cfg(test)]
mod coverage;
#[cfg(test)]
mod diff;
#[cfg(test)]
mod helpers;
#[cfg(test)]
mod limits;
#[cfg(test)]
mod matrix;
#[cfg(test)]
mod pipe;
#[cfg(test)]
mod readme;
#[cfg(test)]
mod vocabulary;
#[cfg(test)]
mod walk;
