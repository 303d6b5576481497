//! Train Kim's CNN on a labelled file, save the run, load it back and classify raw sentences:
//! the whole life of a kindling text classifier in one program.
//!
//! ```sh
//! cargo run -p kindling-textcnn --example classify               # on a small file it writes
//! cargo run -p kindling-textcnn --example classify -- FILE       # on yours (`__label__X text`)
//! ```

use std::path::{Path, PathBuf};

use kindling_core::BackendKind;
use kindling_core::optim::OptimizerConfig;
use kindling_core::schedule::Goal;
use kindling_core::seed::try_build_seeded;
use kindling_core::train::{TrainConfig, Trainer};
use kindling_data::batch::{EncodedExample, Padding, SequenceBatcher};
use kindling_data::labelled_files::{LabelledFiles, LabelledFormat};
use kindling_data::tokenize::KimClean;
use kindling_data::{OnUnknown, TokenCounts, Vocab, VocabConfig};
use kindling_textcnn::{Channels, Classifier, ClassifierConfig, TextCnnConfig, save_classifier};

/// What a run of the example measured.
#[derive(Debug)]
pub struct Report {
    /// Dev accuracy of the best epoch.
    pub dev_accuracy: f64,
    /// Sentences and the label the loaded classifier gave them.
    pub predictions: Vec<(String, String)>,
}

/// A small sentiment file in fastText's format: each sentence says what it thinks in words the
/// model can pick up (`great`, `awful`, …) among neutral ones.
fn write_sample(path: &Path) -> std::io::Result<()> {
    let good = ["great", "wonderful", "moving", "funny", "brilliant"];
    let bad = ["awful", "boring", "dull", "clumsy", "tedious"];
    let filler = [
        "the", "film", "was", "plot", "acting", "a", "story", "really", "quite",
    ];
    let mut lines = String::new();
    for i in 0..400 {
        let (label, words) = if i % 2 == 0 {
            ("pos", &good)
        } else {
            ("neg", &bad)
        };
        let cue = words[(i / 2) % words.len()];
        let a = filler[i % filler.len()];
        let b = filler[(i * 7 + 3) % filler.len()];
        lines.push_str(&format!("__label__{label} {a} {b} {cue} {a}\n"));
    }
    std::fs::write(path, lines)
}

/// Trains on `file` (10 % held out for dev), saves the run in `dir` and classifies `sentences`
/// with the loaded classifier.
pub fn run(
    file: &Path,
    dir: &Path,
    sentences: &[&str],
) -> Result<Report, Box<dyn std::error::Error>> {
    let device = BackendKind::Flex.train_device()?;

    // 1. Read the file (errors name the file and line) and hold out a stratified tenth.
    let data = LabelledFiles {
        format: LabelledFormat::Fasttext,
        train: file.to_path_buf(),
        dev: None,
        test: None,
        encoding: Default::default(),
    }
    .load()?
    .with_dev_from_train(0.1, 1)?;

    // 2. Tokenise as Kim did and build the vocabulary.
    let tokenizer = KimClean { lowercase: true };
    let mut counts = TokenCounts::new();
    for example in &data.train {
        counts.add_text(&tokenizer, &example.text);
    }
    let vocab = Vocab::build(&counts, &VocabConfig::default());
    let encode = |examples: &[kindling_data::registry::TextExample]| {
        EncodedExample::encode_texts(examples, &vocab, &tokenizer, OnUnknown::MapToUnk)
    };
    let train = encode(&data.train)?;
    let dev = encode(data.dev.as_deref().unwrap_or_default())?;

    // 3. Kim's CNN (widths 3/4/5 × 100 maps, dropout 0.5, max-norm 3) over 50-d random vectors.
    let config = ClassifierConfig::Cnn(TextCnnConfig::new(50).with_channels(Channels::Rand));
    let classes = data.labels.len();
    let ClassifierConfig::Cnn(cnn) = &config else {
        unreachable!("built as a CNN above")
    };
    let model = try_build_seeded(&device, 1, || cnn.init(vocab.len(), classes, &device))?;

    // 4. Train with Kim's Adadelta, keeping the epoch of the best dev accuracy.
    let train_config = TrainConfig {
        monitor: kindling_core::metrics::Metric::Accuracy,
        goal: Goal::Max,
        ..TrainConfig::new(4, 50, 1, OptimizerConfig::kim_adadelta())
    };
    let batcher = SequenceBatcher::new(Padding {
        min_len: config.min_len(),
        ..Padding::new(vocab.pad_id().expect("the default specials have <pad>"))
    });
    std::fs::create_dir_all(dir)?;
    let trained = Trainer::new(train_config, &device)?
        .with_progress(false)
        .with_output(dir)
        .fit(model, &batcher, &train, Some(&dev))?;

    // 5. Save what inference needs beside the checkpoint, load it and classify raw text.
    save_classifier(dir, &config, &data.labels, &tokenizer, &vocab)?;
    let classifier = Classifier::load(dir, &BackendKind::Flex.device()?)?;
    let predictions = classifier
        .classify(sentences)?
        .into_iter()
        .zip(sentences)
        .map(|(p, s)| (s.to_string(), p.label))
        .collect();
    Ok(Report {
        dev_accuracy: trained.best_metric.unwrap_or(f64::NAN),
        predictions,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("kindling-example-classify");
    let file = match std::env::args_os().nth(1) {
        Some(file) => PathBuf::from(file),
        None => {
            let file = std::env::temp_dir().join("kindling-example-sentiment.txt");
            write_sample(&file)?;
            file
        }
    };
    let sentences = [
        "a brilliant and moving story",
        "the plot was dull and tedious",
    ];
    let report = run(&file, &dir, &sentences)?;
    println!("dev accuracy {:.1} %", 100.0 * report.dev_accuracy);
    for (sentence, label) in &report.predictions {
        println!("{label}\t{sentence}");
    }
    println!("the run is in {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn learns_the_sample_and_classifies_after_loading() {
        let dir = std::env::temp_dir().join(format!(
            "kindling-example-classify-test-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sample.txt");
        super::write_sample(&file).unwrap();
        let report = super::run(
            &file,
            &dir.join("run"),
            &[
                "a brilliant and moving story",
                "the plot was dull and tedious",
            ],
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(report.dev_accuracy > 0.9, "{report:?}");
        assert_eq!(report.predictions[0].1, "pos", "{report:?}");
        assert_eq!(report.predictions[1].1, "neg", "{report:?}");
    }
}
