//! The policy set compiled: the finite space of abstract inputs, and per
//! policy a truth table over just the dimensions it reads, each cell filled
//! by Cedar at load. The request path decides from the tables alone.
//!
//! `crate::analysis` (a later stage) re-exports the public types and builds
//! the diff and the matrix on them.

pub(crate) mod error;
pub(crate) mod fast;
pub(crate) mod reads;
pub(crate) mod space;
pub(crate) mod tables;
