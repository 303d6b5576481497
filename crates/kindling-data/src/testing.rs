//! Scratch files for the unit tests.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

fn fresh_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("kindling-data-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `content` to a new file called `name` in a fresh directory.
pub fn scratch_file(name: &str, content: &[u8]) -> PathBuf {
    let path = fresh_dir().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A fresh directory holding `files` (relative paths, parents created).
pub fn scratch_dir(files: &[(&str, &[u8])]) -> PathBuf {
    let dir = fresh_dir();
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
