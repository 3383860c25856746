//! The integration test binary: scenario files, the public API, fail-closed
//! evaluation, and the property tests against the oracle.

mod api;
mod oracle;
mod proptests;
mod scenarios;
