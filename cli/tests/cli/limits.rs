//! A scenario or world file is read up to its limit and no further

use std::process::Stdio;
use std::time::Duration;

use super::helpers::{stderr, zorg_within};

/// An endless world file (`/dev/zero` claims no size) is refused once
/// the limit is passed, not read until memory runs out
#[cfg(unix)]
#[test]
fn an_endless_world_file_is_refused_at_the_limit() {
    let out = zorg_within(
        &["decide", "--world", "/dev/zero", "--request", "{}"],
        Stdio::piped(),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert!(
        said.contains("/dev/zero: more than the limit of 4194304 bytes"),
        "{said}"
    );
}
