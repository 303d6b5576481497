//! fastText model files both ways. `data/fasttext-skipgram.bin` was written by fastText 0.9
//! (commit 1142dc4, `fasttext skipgram -dim 8 -minCount 5 -minn 2 -maxn 4 -bucket 200
//! -epoch 1 -thread 1` on a small generated corpus), and `data/fasttext-skipgram.vectors.txt`
//! is what `fasttext print-word-vectors` printed for words in and out of its vocabulary
//! (non-ASCII n-grams included, whose hash depends on fastText's sign extension).

use std::path::{Path, PathBuf};

use kindling_embed::{KeyedVectors, VectorFormat, read_fasttext_model, write_fasttext_model};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The largest difference between a value and its print with 5 significant digits (fastText's
/// `std::setprecision(5)`), plus float noise.
fn print_tolerance(printed: f32) -> f32 {
    let exponent = printed.abs().max(1e-30).log10().floor();
    0.5 * 10f32.powf(exponent - 4.0) + 1e-6
}

#[test]
fn unknown_and_known_words_get_the_vectors_fasttext_prints() {
    let model = read_fasttext_model(&data("fasttext-skipgram.bin")).unwrap();
    assert_eq!(model.config().dim, 8);
    assert_eq!((model.config().min_n, model.config().max_n), (2, 4));
    assert_eq!(model.config().buckets, 200);
    let expected = std::fs::read_to_string(data("fasttext-skipgram.vectors.txt")).unwrap();
    let mut unknown = 0;
    for line in expected.lines() {
        let mut fields = line.split_whitespace();
        let word = fields.next().unwrap();
        let printed: Vec<f32> = fields.map(|v| v.parse().unwrap()).collect();
        unknown += usize::from(model.vocab().id(word).is_none());
        let ours = model.word_vector(word);
        assert_eq!(ours.len(), printed.len(), "{word}");
        for (o, p) in ours.iter().zip(&printed) {
            assert!(
                (o - p).abs() <= print_tolerance(*p),
                "{word}: ours {ours:?}, fastText {printed:?}"
            );
        }
    }
    assert!(unknown >= 5, "the fixture has unknown words");
}

#[test]
fn a_written_model_reads_back_the_same_and_is_detected_by_content() {
    let model = read_fasttext_model(&data("fasttext-skipgram.bin")).unwrap();
    let dir = std::env::temp_dir().join(format!("kindling-fasttext-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A name that says nothing of the format.
    let path = dir.join("model.data");
    write_fasttext_model(&model, &path).unwrap();
    assert_eq!(
        VectorFormat::detect(&path).unwrap(),
        VectorFormat::FastTextModel
    );
    let back = read_fasttext_model(&path).unwrap();
    for word in ["mivo", "</s>", "kätzchen", "zzz"] {
        assert_eq!(back.word_vector(word), model.word_vector(word), "{word}");
    }
    assert_eq!(back.vocab().tokens(), model.vocab().tokens());
    assert_eq!(back.vocab().counts(), model.vocab().counts());

    // Through the one type that reads any file: vectors of known and unknown words, and
    // conversions both ways.
    let keyed = KeyedVectors::load(&path).unwrap();
    assert_eq!(
        keyed.word_vector("kätzchen").unwrap().as_ref(),
        model.word_vector("kätzchen")
    );
    let vec = dir.join("vectors.vec");
    keyed.write(&vec, VectorFormat::Word2VecText).unwrap();
    let plain = KeyedVectors::load(&vec).unwrap();
    assert!(
        plain.word_vector("kätzchen").is_err(),
        "a .vec has no n-grams"
    );
    let message = plain
        .write(&dir.join("again.bin"), VectorFormat::FastTextModel)
        .unwrap_err()
        .to_string();
    assert!(message.contains("needs a subword model"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn damaged_model_files_are_errors_naming_the_problem() {
    let bytes = std::fs::read(data("fasttext-skipgram.bin")).unwrap();
    let dir = std::env::temp_dir().join(format!("kindling-fasttext-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let problem = |bytes: &[u8]| {
        let path = dir.join("bad.bin");
        std::fs::write(&path, bytes).unwrap();
        read_fasttext_model(&path).unwrap_err().to_string()
    };
    assert!(problem(&bytes[..bytes.len() - 3]).contains("ends inside the output matrix"));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(problem(&longer).contains("trailing bytes"));
    let mut version = bytes.clone();
    version[4] = 11;
    assert!(problem(&version).contains("version 11"));
    let mut supervised = bytes.clone();
    supervised[8 + 7 * 4] = 3; // args.model
    assert!(problem(&supervised).contains("supervised"));
    let mut huge = bytes.clone();
    // After the magic, the version, 12 ints and a double: the dictionary's size and word count.
    huge[64..68].copy_from_slice(&i32::MAX.to_le_bytes());
    huge[68..72].copy_from_slice(&i32::MAX.to_le_bytes());
    let message = problem(&huge);
    assert!(message.contains("more than the file"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}
