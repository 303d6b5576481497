//! Every line reader of kindling-data on arbitrary bytes (plain, or gzip when the input starts
//! with the gzip magic): each must return `Ok` or a located error, never panic or hang.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kindling_data::read::brown::read_tagged_file;
use kindling_data::read::cmudict::{CmudictOptions, read_cmudict, read_tab_lexicon};
use kindling_data::read::evaluation::{read_analogies, read_word_pairs};
use kindling_data::read::labelled::{TrecLabels, read_fasttext, read_label_first, read_trec};
use kindling_data::read::parallel::read_parallel;
use kindling_data::read::table::{Delimiter, read_table};
use kindling_data::read::tagged_text::{TaggedLayout, read_tagged};
use kindling_data::source::{Encoding, read_lines};
use kindling_data::tokenize::{Chars, KimClean, Tokenizer, Whitespace, Words};
use kindling_data::{Error, Vocab};
use libfuzzer_sys::fuzz_target;

fn input_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kindling-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("input")
    })
}

/// A reader error must point into the input: a line number no larger than the input has lines.
fn check<T>(result: Result<T, Error>, lines: usize) {
    if let Err(
        Error::Malformed { line, .. }
        | Error::Encoding { line, .. }
        | Error::UnknownLabel { line, .. },
    ) = result
    {
        assert!(
            line >= 1 && line <= lines.max(1),
            "error at line {line} of {lines}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    std::fs::write(path, data).unwrap();
    let lines = match read_lines(path, Encoding::Lossy) {
        Ok(lines) => {
            for line in &lines {
                for tokenizer in [
                    &KimClean { lowercase: true } as &dyn Tokenizer,
                    &Words::translation(),
                    &Whitespace { lowercase: true },
                    &Chars {
                        lowercase: true,
                        keep_whitespace: true,
                    },
                ] {
                    tokenizer.for_each_token(&line.text, &mut |t| assert!(!t.is_empty()));
                }
            }
            lines.len()
        }
        Err(_) => return, // a corrupt gzip stream: every reader would stop at the same place
    };
    for encoding in [Encoding::Utf8, Encoding::Latin1] {
        check(read_tagged(path, TaggedLayout::Columns, encoding), lines);
        check(read_tagged(path, TaggedLayout::Slashed, encoding), lines);
        check(read_label_first(path, encoding), lines);
        check(read_trec(path, encoding, TrecLabels::Fine), lines);
        check(read_fasttext(path, encoding), lines);
        check(read_table(path, Delimiter::Tab, encoding), lines);
        check(read_table(path, Delimiter::Comma, encoding), lines);
    }
    check(read_tab_lexicon(path), lines);
    check(
        read_cmudict(
            path,
            CmudictOptions {
                strip_stress: true,
                first_only: false,
            },
        ),
        lines,
    );
    check(read_analogies(path), lines);
    check(read_word_pairs(path), lines);
    check(read_tagged_file(path), lines);
    check(read_parallel(path, path, Encoding::Utf8), lines);
    check(Vocab::load(path), lines);
});
