//! kindling-embed's model files (`Word2Vec::load`, `SubwordModel::load`) on arbitrary bytes:
//! `Ok` or a format error, never a panic or an allocation the file merely claims.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kindling_embed::subword::SubwordModel;
use kindling_embed::word2vec::Word2Vec;
use libfuzzer_sys::fuzz_target;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kindling-fuzz-models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("model.bin")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).unwrap();
    let _ = Word2Vec::load(path);
    let _ = SubwordModel::load(path);
});
