//! Snapshot files: the registry at one position, framed and checksummed.
//!
//! `snapshot-<P>.snap` (P in 20 digits), little endian:
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `ZPDPSNAP` |
//! | 4 | format version (`u32`, now 1) |
//! | 32 | the vocabulary hash (SHA-256, see [`vocabulary_hash`]) |
//! | 8 | position P (`u64`) |
//! | 8 | length L of the registry's encoding (`u64`) |
//! | L | the registry (`src/registry/snapshot.rs`) |
//! | 4 | CRC-32 of every byte before it |

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::model::vocab::Vocabulary;
use crate::registry::Registry;

use super::{StoreError, io_error, sync_dir};

/// The first bytes of every snapshot
pub(super) const MAGIC: &[u8; 8] = b"ZPDPSNAP";
/// The format version this build writes and reads
pub const FORMAT_VERSION: u32 = 1;
/// Magic, version, hash, position, length
const HEAD_LEN: usize = 8 + 4 + 32 + 8 + 8;

/// The file name of the snapshot at `position`
pub(super) fn snapshot_name(position: u64) -> String {
    format!("snapshot-{position:020}.snap")
}

/// The position a snapshot's file name gives
pub(super) fn parse_snapshot_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".snap")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// SHA-256 over everything the registry checked entries against: the roles,
/// tasks, categories and modules, and the Mitz data, holder and requesting
/// categories, each list in its declared order. A snapshot made under
/// another vocabulary is foreign: its entries might not be accepted now.
pub(super) fn vocabulary_hash(v: &Vocabulary) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"zorg-pdp vocabulary v1");
    let mut list = |name: &str, items: &mut dyn Iterator<Item = &str>| {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        for item in items {
            h.update((item.len() as u64).to_le_bytes());
            h.update(item.as_bytes());
        }
        h.update(u64::MAX.to_le_bytes());
    };
    let c = v.consent();
    list("roles", &mut v.roles().iter().map(AsRef::as_ref));
    list("tasks", &mut v.tasks().iter().map(AsRef::as_ref));
    list("categories", &mut v.categories().iter().map(AsRef::as_ref));
    list("modules", &mut v.modules().iter().map(AsRef::as_ref));
    list("data", &mut c.data_categories().iter().map(AsRef::as_ref));
    list(
        "holders",
        &mut c.holder_categories().iter().map(AsRef::as_ref),
    );
    list(
        "requesters",
        &mut c.requester_categories().iter().map(AsRef::as_ref),
    );
    h.finalize().into()
}

/// Why a snapshot was refused
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotProblem {
    /// The file is shorter than its frame or than the length it declares
    #[error("the file is cut short: {len} bytes, {needed} needed")]
    Truncated {
        /// Its length
        len: u64,
        /// The length its frame needs
        needed: u64,
    },
    /// It does not start with the magic bytes `ZPDPSNAP`
    #[error("not a zorg-pdp snapshot (no `ZPDPSNAP` at byte 0)")]
    NotASnapshot,
    /// Another format version (foreign)
    #[error("format version {found}, this build reads version {FORMAT_VERSION}")]
    Version {
        /// The version in the file
        found: u32,
    },
    /// The checksum does not match its bytes (corrupt)
    #[error("checksum mismatch: the file says {stored:08x}, its bytes give {computed:08x}")]
    Checksum {
        /// The CRC-32 stored at its end
        stored: u32,
        /// The CRC-32 of its bytes
        computed: u32,
    },
    /// Made under another vocabulary (foreign)
    #[error(
        "made under another vocabulary (hash {found}, the policies now loaded give {expected})"
    )]
    Foreign {
        /// The vocabulary hash in the file, hex
        found: String,
        /// The hash of the vocabulary loaded now, hex
        expected: String,
    },
    /// The position inside differs from the file name's
    #[error("its name says position {named}, its contents position {found}")]
    Position {
        /// The file name's position
        named: u64,
        /// The position inside
        found: u64,
    },
    /// The checksum matches but the registry does not decode
    #[error("the registry does not decode: {0}")]
    Decode(String),
    /// The file could not be read
    #[error("cannot read it: {0}")]
    Read(String),
}

/// A snapshot of `registry`: the whole file's bytes
pub(super) fn encode(registry: &Registry, vocabulary: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEAD_LEN + 4 + 1024);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(vocabulary);
    out.extend_from_slice(&registry.seq().to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    registry.encode_snapshot(&mut out);
    let len = (out.len() - HEAD_LEN) as u64;
    if let Some(slot) = out.get_mut(HEAD_LEN - 8..HEAD_LEN) {
        slot.copy_from_slice(&len.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The registry in the snapshot `bytes`, named for `position`, checked
/// against the vocabulary hash `vocabulary`
pub(super) fn decode(
    bytes: &[u8],
    position: u64,
    vocabulary: &[u8; 32],
) -> Result<Registry, SnapshotProblem> {
    let len = bytes.len() as u64;
    let short = |needed: usize| SnapshotProblem::Truncated {
        len,
        needed: needed as u64,
    };
    if bytes.get(..8) != Some(&MAGIC[..]) {
        return Err(if bytes.len() < 8 {
            short(HEAD_LEN + 4)
        } else {
            SnapshotProblem::NotASnapshot
        });
    }
    let version = le_u32(bytes, 8).ok_or_else(|| short(HEAD_LEN + 4))?;
    if version != FORMAT_VERSION {
        return Err(SnapshotProblem::Version { found: version });
    }
    let payload = le_u64(bytes, HEAD_LEN - 8).ok_or_else(|| short(HEAD_LEN + 4))?;
    let end = usize::try_from(payload)
        .ok()
        .and_then(|p| p.checked_add(HEAD_LEN))
        .filter(|e| e.checked_add(4).is_some_and(|total| total == bytes.len()))
        .ok_or_else(|| SnapshotProblem::Truncated {
            len,
            needed: payload.saturating_add(HEAD_LEN as u64 + 4),
        })?;
    let (framed, crc) = bytes.split_at(end);
    let stored = le_u32(crc, 0).ok_or_else(|| short(end + 4))?;
    let computed = crc32fast::hash(framed);
    if stored != computed {
        return Err(SnapshotProblem::Checksum { stored, computed });
    }
    let found_hash = framed.get(12..44).unwrap_or_default();
    if found_hash != vocabulary {
        return Err(SnapshotProblem::Foreign {
            found: crate::model::hex::hex(found_hash),
            expected: crate::model::hex::hex(vocabulary),
        });
    }
    let found = le_u64(framed, 44).unwrap_or_default();
    if found != position {
        return Err(SnapshotProblem::Position {
            named: position,
            found,
        });
    }
    let registry = Registry::decode_snapshot(framed.get(HEAD_LEN..).unwrap_or_default())
        .map_err(|e| SnapshotProblem::Decode(e.to_string()))?;
    if registry.seq() != position {
        return Err(SnapshotProblem::Position {
            named: position,
            found: registry.seq(),
        });
    }
    Ok(registry)
}

/// Reads and decodes the snapshot at `path`
pub(super) fn load(
    path: &Path,
    position: u64,
    vocabulary: &[u8; 32],
) -> Result<Registry, SnapshotProblem> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| {
            let len = f.metadata().map_or(0, |m| m.len());
            bytes.reserve(usize::try_from(len).unwrap_or(0));
            f.read_to_end(&mut bytes)
        })
        .map_err(|e| SnapshotProblem::Read(e.to_string()))?;
    decode(&bytes, position, vocabulary)
}

/// Writes `bytes` as the snapshot at `position`: a temporary file, synced,
/// renamed, the directory synced
pub(super) fn write(dir: &Path, position: u64, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let path = dir.join(snapshot_name(position));
    let tmp = dir.join(format!("{}.tmp", snapshot_name(position)));
    let written = File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(|e| io_error(&tmp, e));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))?;
    sync_dir(dir)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flipped_bit_of_a_small_snapshot_is_refused() {
        let policies = crate::policy::Policies::shipped().unwrap();
        let hash = vocabulary_hash(policies.vocabulary());
        let mut r = Registry::new();
        r.register_patient(&crate::model::entities::Patient::new(
            crate::model::ids::PatientId::new("c1").unwrap(),
        ))
        .unwrap();
        let bytes = encode(&r, &hash);
        assert!(decode(&bytes, 1, &hash).is_ok());
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert!(decode(&bad, 1, &hash).is_err(), "byte {i}");
        }
        assert!(matches!(
            decode(&bytes, 2, &hash),
            Err(SnapshotProblem::Position { named: 2, found: 1 })
        ));
        assert!(matches!(
            decode(&bytes, 1, &[0; 32]),
            Err(SnapshotProblem::Foreign { .. })
        ));
        assert!(matches!(
            decode(&bytes[..bytes.len() - 1], 1, &hash),
            Err(SnapshotProblem::Truncated { .. })
        ));
    }
}
