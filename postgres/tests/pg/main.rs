//! zorg-pdp-postgres against a real PostgreSQL server: the outbox's DDL, the
//! feed's ordering under interleaved writers, replicas converging (R50), a
//! withdrawal never answered from older facts (R47, R9), reconnects and
//! restarts, and the replicas example.
//!
//! The server's URL comes from `ZORG_PDP_POSTGRES_URL` (`.ci/run` starts a
//! throw-away cluster with `postgres/tests/cluster.sh` and exports it); the
//! tests fail without it. Each test works in a database of its own, so they
//! run in parallel.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "helpers outside #[test] fns (setup, writers) unwrap and index too: in a test binary \
              a failed setup is a failed test"
)]

mod common;
mod example;
mod ordering;
mod outbox;
mod reconnect;
mod replicas;
mod restart;
