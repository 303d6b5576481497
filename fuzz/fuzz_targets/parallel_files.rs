//! `read_parallel` on two arbitrary files of different lengths (the input split in two at a
//! point its first byte chooses): `Ok` with one pair per line of both, or an error naming a
//! file and a line inside it, never a panic.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kindling_data::Error;
use kindling_data::read::parallel::read_parallel;
use kindling_data::source::Encoding;
use libfuzzer_sys::fuzz_target;

fn paths() -> &'static (PathBuf, PathBuf) {
    static PATHS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    PATHS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kindling-fuzz-parallel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        (dir.join("source"), dir.join("target"))
    })
}

/// The most lines a reader can find in `bytes`; unbounded for gzip.
fn lines(bytes: &[u8]) -> usize {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        usize::MAX
    } else {
        bytes.split(|&b| b == b'\n').count()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = usize::from(split) * rest.len() / 255;
    let (source_bytes, target_bytes) = rest.split_at(at.min(rest.len()));
    let (source, target) = paths();
    std::fs::write(source, source_bytes).unwrap();
    std::fs::write(target, target_bytes).unwrap();
    for encoding in [Encoding::Utf8, Encoding::Lossy] {
        match read_parallel(source, target, encoding) {
            Ok(pairs) => {
                let most = lines(source_bytes).min(lines(target_bytes));
                assert!(pairs.len() <= most);
                assert!(pairs.iter().all(|p| p.line >= 1 && p.line <= most));
            }
            Err(Error::Malformed { path, line, .. } | Error::Encoding { path, line, .. }) => {
                let bytes = if &path == source { source_bytes } else { target_bytes };
                assert!(path == *source || path == *target, "{}", path.display());
                assert!(line >= 1 && line <= lines(bytes), "line {line}");
            }
            Err(_) => {}
        }
    }
});
