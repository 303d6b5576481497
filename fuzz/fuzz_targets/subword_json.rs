//! A saved subword encoding (`bpe.json`, the `tokenizers` JSON that `Subwords::save` writes)
//! on arbitrary bytes: `Ok` and an encoding that splits and joins text, or an error naming the
//! file, never a panic. (The vocabularies beside it are fuzzed by `saved_runs`.)

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kindling_seq2seq::subword::Subwords;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kindling-fuzz-subwords-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    let path = dir.join("bpe.json");
    std::fs::write(&path, data).unwrap();
    if let Ok(subwords) = Subwords::load(&path) {
        let _ = subwords.vocabulary_size();
        if let Ok(pieces) = subwords.split(&["unseen", "words", "ab"]) {
            let _ = Subwords::join(&pieces);
        }
    }
});
