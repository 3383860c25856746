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

#[cfg(test)]
mod api;
#[cfg(test)]
mod architecture;
#[cfg(test)]
mod audit;
#[cfg(test)]
mod fuzz_regressions;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod privacy;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod schemas;
