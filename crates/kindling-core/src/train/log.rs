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

/// The sum of the records' `train_seconds`.
pub(crate) fn train_seconds(records: &[Map<String, Value>]) -> f64 {
    records
        .iter()
        .filter_map(|record| record.get("train_seconds").and_then(Value::as_f64))
        .sum()
}

/// The records of epochs up to `epoch`, in order (none without a log).
pub(crate) fn records_through_epoch(path: &Path, epoch: usize) -> Result<Vec<Map<String, Value>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("reading log", path, e)),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Map<String, Value>>(line).ok())
        .filter(|record| {
            record
                .get("epoch")
                .and_then(Value::as_u64)
                .is_some_and(|e| e as usize <= epoch)
        })
        .collect())
}

/// Drops the records of epochs after `epoch`: a run that resumes from the checkpoint of
/// `epoch` redoes them, and must not log them twice.
pub(crate) fn truncate_after_epoch(path: &Path, epoch: usize) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let kept: String = records_through_epoch(path, epoch)?
        .iter()
        .map(|record| format!("{}\n", Value::Object(record.clone())))
        .collect();
    write_atomic(path, kept.as_bytes())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(epoch: u64, seconds: f64) -> Map<String, Value> {
        let mut record = Map::new();
        record.insert("epoch".into(), json!(epoch));
        record.insert("train_seconds".into(), json!(seconds));
        record
    }

    #[test]
    fn truncating_keeps_the_records_of_earlier_epochs_and_their_seconds() {
        let dir = std::env::temp_dir().join(format!("kindling-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.jsonl");
        let _ = std::fs::remove_file(&path);
        assert!(records_through_epoch(&path, 3).unwrap().is_empty());
        for (epoch, seconds) in [(1, 1.5), (2, 2.25), (3, 4.0)] {
            append(&path, &record(epoch, seconds)).unwrap();
        }
        assert_eq!(
            train_seconds(&records_through_epoch(&path, 2).unwrap()),
            3.75
        );
        truncate_after_epoch(&path, 1).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"epoch\":1,\"train_seconds\":1.5}\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
