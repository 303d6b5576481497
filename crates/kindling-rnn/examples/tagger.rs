//! A BiLSTM part-of-speech tagger: read a CoNLL-style file (`word TAB tag`, a blank line
//! between sentences), train, save the run with how it reads text, load it back and tag raw
//! sentences.
//!
//! ```sh
//! cargo run -p kindling-rnn --example tagger              # on a small file it writes
//! cargo run -p kindling-rnn --example tagger -- FILE      # on yours
//! ```

use std::path::{Path, PathBuf};

use kindling_core::BackendKind;
use kindling_core::optim::OptimizerConfig;
use kindling_core::schedule::Goal;
use kindling_core::seed::try_build_seeded;
use kindling_core::train::{TrainConfig, Trainer};
use kindling_data::read::tagged_text::{TaggedLayout, read_tagged};
use kindling_data::source::Encoding;
use kindling_data::tagged::{TaggedBatcher, TaggedExample};
use kindling_data::{LabelSet, OnUnknown, TokenCounts, Vocab, VocabConfig};
use kindling_rnn::saved::{SavedTagger, TextPreparation, save_tagger};
use kindling_rnn::{CellKind, EncoderConfig, TaggerConfig};

/// What a run of the example measured.
#[derive(Debug)]
pub struct Report {
    /// Dev token accuracy of the best epoch.
    pub dev_accuracy: f64,
    /// Raw sentences tagged by the loaded tagger, `word/TAG` tokens.
    pub tagged: Vec<String>,
}

/// A small tagged corpus: determiner–adjective–noun–verb sentences in CoNLL columns. Whether
/// `runs` or `walks` is a noun or a verb depends on its place, so the tagger must read context.
pub fn write_sample(path: &Path) -> std::io::Result<()> {
    let dets = ["the", "a", "every"];
    let adjs = ["quick", "small", "old"];
    let nouns = ["dog", "cat", "runs", "walks"];
    let verbs = ["sees", "runs", "walks", "likes"];
    let mut text = String::new();
    for i in 0..300 {
        let noun = nouns[i % 4];
        let verb = verbs[(i / 4) % 4];
        let object = nouns[(i / 16) % 4];
        let rows = [
            (dets[i % 3], "DET"),
            (adjs[(i / 3) % 3], "ADJ"),
            (noun, "NOUN"),
            (verb, "VERB"),
            (dets[(i / 9) % 3], "DET"),
            (object, "NOUN"),
        ];
        for (word, tag) in rows {
            text.push_str(&format!("{word}\t{tag}\n"));
        }
        text.push('\n');
    }
    std::fs::write(path, text)
}

/// Trains on `file` (every tenth sentence held out for dev), saves the run in `dir` and tags
/// `sentences` with the loaded tagger.
pub fn run(
    file: &Path,
    dir: &Path,
    sentences: &[&str],
) -> Result<Report, Box<dyn std::error::Error>> {
    let device = BackendKind::Flex.train_device()?;
    // 1. Read the file (errors name the file and line); words lowercased.
    let preparation = TextPreparation::words(true);
    let read = read_tagged(file, TaggedLayout::Columns, Encoding::Utf8)?;
    let (train_sentences, dev_sentences): (Vec<_>, Vec<_>) =
        read.iter().enumerate().partition(|(i, _)| i % 10 != 9);

    // 2. The vocabulary of the training words and the tag set.
    let mut counts = TokenCounts::new();
    for (_, sentence) in &train_sentences {
        for word in &sentence.words {
            counts.add(&preparation.token(word));
        }
    }
    let vocab = Vocab::build(&counts, &VocabConfig::default());
    let tags = LabelSet::from_observed(
        train_sentences
            .iter()
            .flat_map(|(_, s)| s.tags.iter().map(String::as_str)),
    )?;
    let encode = |sentences: &[(usize, &kindling_data::read::tagged_text::TaggedSentence)]| {
        sentences
            .iter()
            .map(|(_, s)| {
                let words: Vec<String> = s.words.iter().map(|w| preparation.token(w)).collect();
                Ok(TaggedExample {
                    ids: vocab.encode(&words, OnUnknown::MapToUnk)?,
                    tags: s
                        .tags
                        .iter()
                        .map(|t| tags.id(t).ok_or_else(|| format!("unknown tag `{t}`")))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()
    };
    let (train, dev) = (encode(&train_sentences)?, encode(&dev_sentences)?);

    // 3. A bidirectional LSTM over 32-d word vectors, a softmax over tags at every word.
    let config = TaggerConfig::new(
        32,
        EncoderConfig::new(CellKind::Lstm, 32).with_bidirectional(true),
    )
    .with_dropout(0.2);
    let model = try_build_seeded(&device, 1, || config.init(vocab.len(), tags.len(), &device))?;
    let train_config = TrainConfig {
        monitor: kindling_core::metrics::Metric::Accuracy,
        goal: Goal::Max,
        ..TrainConfig::new(5, 16, 1, OptimizerConfig::adam(0.01))
    };
    std::fs::create_dir_all(dir)?;
    let batcher = TaggedBatcher::new(vocab.pad_id().expect("the default specials have <pad>"));
    let trained = Trainer::new(train_config, &device)?
        .with_progress(false)
        .with_output(dir)
        .fit(model, &batcher, &train, Some(&dev))?;

    // 4. Save the tagger with its text preparation; load it and tag raw sentences.
    save_tagger(dir, &config, preparation, tags.names(), &vocab)?;
    let tagger = SavedTagger::load(dir, &BackendKind::Flex.device()?)?;
    let tagged = tagger
        .tag_text(sentences)?
        .into_iter()
        .map(|pairs| {
            let tokens: Vec<String> = pairs.iter().map(|(w, t)| format!("{w}/{t}")).collect();
            tokens.join(" ")
        })
        .collect();
    Ok(Report {
        dev_accuracy: trained.best_metric.unwrap_or(f64::NAN),
        tagged,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let file = match std::env::args_os().nth(1) {
        Some(file) => PathBuf::from(file),
        None => {
            let file = std::env::temp_dir().join("kindling-example-tags.conll");
            write_sample(&file)?;
            file
        }
    };
    let dir = std::env::temp_dir().join("kindling-example-tagger");
    let report = run(
        &file,
        &dir,
        &["The old dog runs", "A small runs sees every cat"],
    )?;
    println!("dev token accuracy {:.1} %", 100.0 * report.dev_accuracy);
    for line in &report.tagged {
        println!("{line}");
    }
    println!("the run is in {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn learns_the_sample_and_tags_raw_text_after_loading() {
        let dir = std::env::temp_dir().join(format!(
            "kindling-example-tagger-test-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sample.conll");
        super::write_sample(&file).unwrap();
        let report = super::run(
            &file,
            &dir.join("run"),
            &["The old dog runs", "A small runs sees every cat"],
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(report.dev_accuracy > 0.95, "{report:?}");
        // Capitalised words are read lowercased, as in training, and shown as given; "runs"
        // is a verb after a noun and a noun after an adjective.
        assert_eq!(report.tagged[0], "The/DET old/ADJ dog/NOUN runs/VERB");
        assert_eq!(
            report.tagged[1],
            "A/DET small/ADJ runs/NOUN sees/VERB every/DET cat/NOUN"
        );
    }
}
