//! The service over loopback: every request goes through a real TCP socket
//! on 127.0.0.1 to the very router the binary serves.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "helpers outside #[test] fns unwrap and panic too: in a test binary a failed setup \
              is a failed test"
)]
#![expect(
    clippy::too_many_lines,
    clippy::many_single_char_names,
    reason = "a test tells one story or holds one table; `s` the server, `r` a reply, `d` a decision"
)]

mod binary;
mod client;
mod conformance;
mod consent;
mod domain;
mod guard;
mod load;
mod operations;
mod replicas;
mod schemas;
