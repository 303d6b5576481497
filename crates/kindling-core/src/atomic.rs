//! Crash-safe file writes: a temporary file beside the target is synced and renamed over it,
//! then the directory is synced, so a reader sees the old file or the complete new one.
//!
//! These are [`kindling_io::atomic`]'s functions with kindling-core's [`Error`](crate::Error).

use std::path::Path;

use crate::Result;

/// Writes `bytes` to `path` atomically, creating parent directories as needed.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) naming the step and file that failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(kindling_io::write_atomic(path, bytes)?)
}

/// Serialises `value` as pretty JSON and writes it atomically to `path`.
///
/// # Errors
/// [`Error::Json`](crate::Error::Json) when `value` does not serialise, else as
/// [`write_atomic`].
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    Ok(kindling_io::write_json_atomic(path, value)?)
}

/// Renames `from` over `to` durably (see [`kindling_io::atomic::rename_atomic`]).
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) naming the step and file that failed.
pub fn rename_atomic(from: &Path, to: &Path) -> Result<()> {
    Ok(kindling_io::atomic::rename_atomic(from, to)?)
}
