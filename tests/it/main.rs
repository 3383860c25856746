//! The integration test binary: scenario files, the public API, fail-closed
//! evaluation, and the property tests against the oracle.
#![expect(
    clippy::many_single_char_names,
    clippy::items_after_statements,
    clippy::match_same_arms,
    reason = "the oracle mirrors RULES.md notation (x, h, o, p, c) and lists event types one by one"
)]

mod api;
mod audit;
mod common;
mod fuzz_regressions;
mod oracle;
mod proptests;
mod scenarios;
mod schemas;
