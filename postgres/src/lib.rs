//! Replicas of the zorg-pdp engine fed from a PostgreSQL transactional
//! outbox (SPEC.md §8, RULES.md R47–R50; the design is in
//! `docs/replicas.md`).
//!
//! The EHR writes its consent change **and** the engine entry in one
//! transaction: [`append`] inserts the entry into the outbox table
//! `zorg_pdp_outbox` and returns its position, which the EHR hands out as
//! the freshness token (`min_seq`). Every replica embeds an
//! [`Engine`](zorg_pdp::Engine) and runs a [`Feed`]: it tails the outbox in
//! position order and applies each row with
//! [`Engine::apply_entry`](zorg_pdp::Engine::apply_entry), never skipping a
//! row that commits later with a lower position.
//!
//! ```no_run
//! use std::sync::Arc;
//! use zorg_pdp::Engine;
//! use zorg_pdp_postgres::{Feed, FeedConfig};
//!
//! # async fn replica(url: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
//! tokio::spawn(connection);
//! zorg_pdp_postgres::migrate(&client).await?;
//!
//! let engine = Arc::new(Engine::new()?);
//! let feed = Feed::spawn(Arc::clone(&engine), FeedConfig::new(url)?);
//! // … decide with `engine`; readyz reports feed.status().is_ready() …
//! feed.stop().await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod feed;
mod outbox;

pub use feed::{Feed, FeedConfig, FeedError, FeedStatus, run};
pub use outbox::{MIGRATION, OutboxError, append, append_json, migrate};
