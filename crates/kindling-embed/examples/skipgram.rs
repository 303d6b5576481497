//! Train skip-gram word vectors on a text file, write them as a `.vec` file, read them back
//! and ask for nearest neighbours: what `fasttext skipgram` plus `fasttext nn`, or gensim's
//! `Word2Vec` plus `most_similar`, do.
//!
//! ```sh
//! cargo run -p kindling-embed --example skipgram                  # on a text it writes
//! cargo run -p kindling-embed --example skipgram -- FILE WORD     # on yours (plain or gzip)
//! ```

use std::path::{Path, PathBuf};

use kindling_core::BackendKind;
use kindling_data::read::corpus::{Corpus, CorpusFile};
use kindling_data::source::Encoding;
use kindling_data::tokenize::Whitespace;
use kindling_embed::word2vec::{self, Word2VecConfig};
use kindling_embed::{Similarity, VectorFormat, read_vectors, write_vectors};

/// A text where the colour words share contexts ("a red car", "the blue car") and so do the
/// animals ("the cat sleeps", "a dog sleeps"): their vectors should end up close.
pub fn write_sample(path: &Path) -> std::io::Result<()> {
    let colours = ["red", "blue", "green", "yellow"];
    let things = ["car", "house", "door", "coat"];
    let animals = ["cat", "dog", "horse", "cow"];
    let actions = ["sleeps", "eats", "runs", "waits"];
    let mut text = String::new();
    for i in 0..4000 {
        let det = if i % 3 == 0 { "the" } else { "a" };
        if i % 2 == 0 {
            let colour = colours[(i / 2) % 4];
            let thing = things[(i / 8) % 4];
            text.push_str(&format!("{det} {colour} {thing} is here today\n"));
        } else {
            let animal = animals[(i / 2) % 4];
            let action = actions[(i / 8) % 4];
            text.push_str(&format!("{det} old {animal} {action} in the field\n"));
        }
    }
    std::fs::write(path, text)
}

/// Trains on `corpus_file`, writes `vectors.vec` into `dir`, reads it back and returns the `k`
/// nearest neighbours of `word` with their cosine similarity.
pub fn run(
    corpus_file: &Path,
    dir: &Path,
    word: &str,
    k: usize,
) -> Result<Vec<(String, f32)>, Box<dyn std::error::Error>> {
    // 1. The corpus is streamed from disk on every pass; gzip is detected by content.
    let corpus = Corpus::new(
        vec![CorpusFile::Text(corpus_file.to_path_buf())],
        Encoding::Utf8,
    )?;
    // 2. Skip-gram with negative sampling; gensim's defaults otherwise, one thread so that a
    //    seed gives the same vectors bit for bit.
    let config = Word2VecConfig {
        dim: 32,
        window: 3,
        min_count: 2,
        epochs: 5,
        sample: 0.0,
        threads: 1,
        ..Word2VecConfig::default()
    };
    let (vectors, report) = word2vec::train(&corpus, &Whitespace { lowercase: true }, &config)?;
    println!(
        "{} words, {} dimensions, {:.0} words/s",
        vectors.len(),
        vectors.dim(),
        report.words_per_second
    );
    // 3. Write and read back the usual text format (`.vec`, as fastText writes it).
    std::fs::create_dir_all(dir)?;
    let path = dir.join("vectors.vec");
    write_vectors(&vectors, &path, VectorFormat::Word2VecText)?;
    let vectors = read_vectors(&path, VectorFormat::detect(&path)?, None)?;
    // 4. Nearest neighbours by cosine similarity.
    let similarity = Similarity::new(&vectors, &BackendKind::Flex.device()?);
    Ok(similarity
        .nearest(word, k)?
        .into_iter()
        .map(|n| (n.word, n.score))
        .collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (file, word) = match (args.next(), args.next()) {
        (Some(file), Some(word)) => (PathBuf::from(file), word.to_string_lossy().into_owned()),
        _ => {
            let file = std::env::temp_dir().join("kindling-example-corpus.txt");
            write_sample(&file)?;
            (file, "red".to_string())
        }
    };
    let dir = std::env::temp_dir().join("kindling-example-skipgram");
    for (neighbour, score) in run(&file, &dir, &word, 5)? {
        println!("{neighbour}\t{score:.3}");
    }
    println!("the vectors are in {}", dir.join("vectors.vec").display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn colours_are_nearest_to_a_colour() {
        let dir = std::env::temp_dir().join(format!(
            "kindling-example-skipgram-test-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("corpus.txt");
        super::write_sample(&file).unwrap();
        let neighbours = super::run(&file, &dir, "red", 3).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let words: Vec<&str> = neighbours.iter().map(|(w, _)| w.as_str()).collect();
        for word in &words {
            assert!(
                ["blue", "green", "yellow"].contains(word),
                "neighbours of `red`: {neighbours:?}"
            );
        }
    }
}
