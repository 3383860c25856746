//! The service over loopback: every request goes through a real TCP socket
//! on 127.0.0.1 to the very router the binary serves.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "helpers outside #[test] fns unwrap and index too: in a test binary a failed setup \
              is a failed test"
)]

mod client;
mod conformance;
mod domain;
