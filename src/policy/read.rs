//! Reading a policy directory: the schema, the consent vocabulary and every
//! `*.cedar` file.

use std::path::Path;

use super::policy_load_errors::{FileTooLargeError, IoError, NoSchemaError};
use super::{CONSENT_FILE, MAX_POLICY_FILE_LEN, PolicyLoadError, SCHEMA_FILE};

/// The schema text and the `(file name, text)` of every `*.cedar` file in
/// `dir`, and of `consent.toml` when there is one
pub(super) fn read_dir(dir: &Path) -> Result<(String, Vec<(String, String)>), PolicyLoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| IoError::new(dir, e))?;
    let schema_path = dir.join(SCHEMA_FILE);
    if !schema_path.is_file() {
        return Err(NoSchemaError::new(dir).into());
    }
    let schema = read_limited(&schema_path)?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| IoError::new(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "cedar") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, read_limited(&path)?));
        }
    }
    let consent = dir.join(CONSENT_FILE);
    if consent.is_file() {
        files.push((CONSENT_FILE.to_owned(), read_limited(&consent)?));
    }
    files.sort();
    Ok((schema, files))
}

/// Reads a file of at most [`MAX_POLICY_FILE_LEN`] bytes
fn read_limited(path: &Path) -> Result<String, PolicyLoadError> {
    let io = |e| IoError::new(path, e);
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_POLICY_FILE_LEN as u64 {
        return Err(FileTooLargeError::new(path.display().to_string(), len).into());
    }
    Ok(std::fs::read_to_string(path).map_err(io)?)
}
