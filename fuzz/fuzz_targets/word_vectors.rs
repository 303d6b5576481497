//! Every word-vector reader of kindling-embed (word2vec text and binary, GloVe text, fastText
//! `.vec`, plain or gzipped) on arbitrary bytes: `Ok` or a located error, never a panic.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kindling_embed::{VectorFormat, read_vectors};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("kindling-fuzz-vectors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the row limit, the rest is the file.
    let (limit, data) = match data.split_first() {
        Some((&b, rest)) if b < 8 => (Some(usize::from(b)), rest),
        _ => (None, data),
    };
    for name in ["vectors.bin", "vectors.vec", "vectors.txt"] {
        let path = dir().join(name);
        std::fs::write(&path, data).unwrap();
        if let Ok(format) = VectorFormat::detect(&path) {
            let _ = read_vectors(&path, format, limit);
        }
    }
    let path = dir().join("vectors.any");
    std::fs::write(&path, data).unwrap();
    for format in [
        VectorFormat::Word2VecText,
        VectorFormat::Word2VecBinary,
        VectorFormat::GloveText,
    ] {
        let _ = read_vectors(&path, format, limit);
    }
});
