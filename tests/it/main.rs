//! The integration test binary: scenario files, the public API, fail-closed
//! evaluation, and the property tests against the oracle.
#![expect(
    clippy::many_single_char_names,
    clippy::items_after_statements,
    clippy::match_same_arms,
    reason = "the oracle mirrors RULES.md notation (x, h, o, p, c) and lists event types one by one"
)]
#![expect(
    clippy::too_many_lines,
    reason = "a test tells one story, and the oracle lists every rule in one place"
)]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "helpers outside #[test] fns (setup, the oracle, the fuzz bodies) unwrap and index \
              too: in a test binary a failed setup is a failed test (clippy.toml's allow-*-in-tests \
              covers only #[test] fns and #[cfg(test)] modules)"
)]

mod analysis;
mod api;
mod architecture;
mod audit;
mod common;
mod consent;
mod consent_vocabulary;
mod durable;
mod fhir;
mod freshness;
mod fuzz_regressions;
mod least_privilege;
mod oracle;
mod privacy;
mod proptests;
mod scenarios;
mod schemas;
