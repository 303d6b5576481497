//! The per-epoch metrics log: one JSON object per line (JSONL).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value};

use crate::atomic::write_atomic;
use crate::{Error, Result};

/// Appends one record to the JSONL file at `path`.
pub(crate) fn append(path: &Path, record: &Map<String, Value>) -> Result<()> {
    let mut line = serde_json::to_string(record).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    line.push('\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("opening log", path, e))?;
    file.write_all(line.as_bytes())
        .map_err(|e| Error::io("appending to log", path, e))
}

/// Drops the records of epochs after `epoch`: a run that resumes from the checkpoint of
/// `epoch` redoes them, and must not log them twice.
pub(crate) fn truncate_after_epoch(path: &Path, epoch: usize) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("reading log", path, e)),
    };
    let kept: String = text
        .lines()
        .filter(|line| {
            serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| v.get("epoch").and_then(Value::as_u64))
                .is_some_and(|e| e as usize <= epoch)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    write_atomic(path, kept.as_bytes())
}
