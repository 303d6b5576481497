//! Crash-safe file writes.
//!
//! The bytes go to a hidden temporary file in the target's directory, which is synced and
//! renamed over the target; then the directory itself is synced so that the rename survives a
//! crash too. A rename within one directory is atomic on POSIX file systems, so a reader sees
//! the old file or the complete new one, never a torn write.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Writes `bytes` to `path` atomically, creating parent directories as needed.
///
/// # Errors
/// [`Error::Io`] naming the step and file when any step fails; the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| Error::io("creating directory", dir, e))?;
    let tmp = temp_path(dir, path);
    let written = File::create(&tmp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .map_err(|e| Error::io("writing", &tmp, e))
        .and_then(|()| {
            fs::rename(&tmp, path).map_err(|e| Error::io("renaming into place", path, e))
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Serialises `value` as pretty JSON (with a final newline) and writes it atomically to `path`.
///
/// # Errors
/// [`Error::Json`] when `value` does not serialise, else as [`write_atomic`].
pub fn write_json_atomic<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(value).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    json.push(b'\n');
    write_atomic(path, &json)
}

/// Renames `from` over `to` (both in one directory) and makes the rename durable: a reader
/// sees the old `to` or the complete `from`, never a mixture.
///
/// # Errors
/// [`Error::Io`] naming the step and file when the rename or the directory sync fails.
pub fn rename_atomic(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|e| Error::io("renaming into place", to, e))?;
    let dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(dir)
}

/// `.NAME.PID-N.partial` beside the target: unique per process and per call, so concurrent
/// writers of the same file never share a temporary file.
fn temp_path(dir: &Path, path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(
        ".{}-{}.partial",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    dir.join(name)
}

/// Makes a completed rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("syncing directory", dir, e))
}

/// Directories cannot be opened as files here; the rename is as durable as the platform makes
/// it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kindling-io-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = scratch("atomic");
        let path = dir.join("nested/file.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["file.txt"], "temporary file left behind");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn json_ends_with_a_newline() {
        let dir = scratch("json");
        let path = dir.join("value.json");
        write_json_atomic(&path, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\n  \"a\": 1\n}\n");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn failures_name_the_path() {
        let err = write_atomic(Path::new("/proc/kindling/x"), b"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/proc/kindling"), "{err}");
    }
}
