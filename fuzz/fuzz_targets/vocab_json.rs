//! kindling-data's JSON vocabulary loader on arbitrary bytes: `Ok` or a located error, never a
//! panic. A vocabulary it accepts must be a consistent bijection that saves and reloads equal.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kindling_data::Vocab;
use kindling_data::vocab::OnUnknown;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kindling-fuzz-vocab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let input = dir().join("input.json");
    std::fs::write(&input, data).unwrap();
    let Ok(vocab) = Vocab::load(&input) else {
        return;
    };
    for id in 0..vocab.len() as u32 {
        let token = vocab.token(id).expect("every id below len has a token");
        assert_eq!(vocab.id(token), Some(id));
        vocab.is_special(id);
        vocab.count(id);
    }
    assert_eq!(vocab.token(vocab.len() as u32), None);
    let ids = vocab
        .encode(vocab.tokens(), OnUnknown::Error)
        .expect("known tokens encode");
    let _ = vocab.decode(&ids, true).expect("known ids decode");
    let _ = vocab.encode(&["\u{0}never-a-token"], OnUnknown::Skip);
    for id in [
        vocab.pad_id(),
        vocab.unk_id(),
        vocab.bos_id(),
        vocab.eos_id(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(vocab.is_special(id));
    }
    let output = dir().join("output.json");
    vocab.save(&output).expect("an accepted vocabulary saves");
    assert_eq!(Vocab::load(&output).expect("and reloads"), vocab);
});
