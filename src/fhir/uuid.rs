//! Stable `urn:uuid:` names for the entries of an export: derived from the
//! content, so the same statements give the same bundle byte for byte (no
//! randomness, no clock).

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// A `UUIDv8` (RFC 9562 §5.8, its SHA-256 example, B.2) of `parts`, as
/// `urn:uuid:…`: the first 16 bytes of SHA-256 over a fixed namespace and
/// each part with its length, with the version and variant bits set
pub(crate) fn urn_uuid(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"zorg-pdp fhir export 1\0");
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut b = [0u8; 16];
    for (slot, byte) in b.iter_mut().zip(digest.iter()) {
        *slot = *byte;
    }
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut hex = String::with_capacity(32);
    for x in b {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{x:02x}");
    }
    let part = |from: usize, to: usize| hex.get(from..to).unwrap_or_default();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_distinct_and_well_formed() {
        let a = urn_uuid(&["patient", "client-1"]);
        assert_eq!(a, urn_uuid(&["patient", "client-1"]));
        assert_ne!(a, urn_uuid(&["patient", "client-2"]));
        // A part boundary is part of the name
        assert_ne!(urn_uuid(&["ab", "c"]), urn_uuid(&["a", "bc"]));
        let hex = a.strip_prefix("urn:uuid:").unwrap();
        let groups: Vec<&str> = hex.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('8'), "version 8: {a}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{a}"
        );
        assert!(
            hex.bytes()
                .all(|c| c == b'-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}
