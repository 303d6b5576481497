//! The results archive (`docs/results/NAME.json`) with one file replaced by arbitrary bytes:
//! rendering the results page gives the page or an error naming the file, never a panic.
//!
//! Input: byte 0 picks the archived file; the rest is its new contents. The archive starts as
//! a copy of the repository's.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kindling_experiments::reporting::results;
use libfuzzer_sys::fuzz_target;

struct Archive {
    dir: PathBuf,
    files: Vec<(PathBuf, Vec<u8>)>,
}

fn archive() -> &'static Archive {
    static ARCHIVE: OnceLock<Archive> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results");
        let dir = std::env::temp_dir().join(format!("kindling-fuzz-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&committed).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).unwrap();
                let copy = dir.join(path.file_name().unwrap());
                std::fs::write(&copy, &bytes).unwrap();
                files.push((copy, bytes));
            }
        }
        files.sort();
        assert!(!files.is_empty(), "no archive in {}", committed.display());
        Archive { dir, files }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, contents)) = data.split_first() else {
        return;
    };
    let archive = archive();
    let (path, original) = &archive.files[usize::from(pick) % archive.files.len()];
    std::fs::write(path, contents).unwrap();
    let _ = results::table(&archive.dir);
    std::fs::write(path, original).unwrap();
});
