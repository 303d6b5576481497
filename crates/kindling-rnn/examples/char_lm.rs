//! A character-level LSTM language model: train it on a text, save it with how it reads text,
//! load it back, measure it and let it continue a prompt.
//!
//! ```sh
//! cargo run -p kindling-rnn --example char_lm              # on a small text it makes
//! cargo run -p kindling-rnn --example char_lm -- FILE      # on yours
//! ```

use std::path::Path;

use kindling_core::BackendKind;
use kindling_core::optim::{GradientClip, OptimizerConfig};
use kindling_core::schedule::Goal;
use kindling_core::seed::try_build_seeded;
use kindling_core::train::{TrainConfig, Trainer};
use kindling_data::bptt::{BpttBatcher, bptt_windows};
use kindling_data::{OnUnknown, Specials, TokenCounts, Vocab, VocabConfig};
use kindling_rnn::LanguageModelConfig;
use kindling_rnn::saved::{SavedLanguageModel, TextPreparation, save_language_model};

/// What a run of the example measured.
#[derive(Debug)]
pub struct Report {
    /// Dev perplexity per character of the best epoch.
    pub dev_perplexity: f64,
    /// The loaded model's perplexity on the dev lines, measured from their raw text.
    pub loaded_dev_perplexity: f64,
    /// The number of distinct characters (the vocabulary without its special tokens).
    pub characters: usize,
    /// A continuation of the prompt by the loaded model.
    pub sample: String,
}

/// A small text: a few sentences repeated with variations, so that a tiny model finds
/// patterns in seconds.
pub fn sample_text() -> String {
    let subjects = ["the cat", "a dog", "the bird", "my friend"];
    let verbs = ["sees", "likes", "follows", "watches"];
    let objects = ["the moon", "a ball", "the river", "the garden"];
    let mut text = String::new();
    for i in 0..600 {
        text.push_str(&format!(
            "{} {} {}.\n",
            subjects[i % 4],
            verbs[(i / 4) % 4],
            objects[(i / 16) % 4]
        ));
    }
    text
}

/// Trains on the lines of `text` (every tenth line held out for dev), saves the run in `dir`
/// and continues `prompt` with the loaded model.
pub fn run(text: &str, dir: &Path, prompt: &str) -> Result<Report, Box<dyn std::error::Error>> {
    let device = BackendKind::Flex.train_device()?;
    // 1. Characters, lowercased; `▁` between words and `<eos>` after every line.
    let preparation = TextPreparation::characters(true);
    let lines: Vec<Vec<String>> = text.lines().map(|l| preparation.tokens(l)).collect();
    let (train_lines, dev_lines): (Vec<_>, Vec<_>) =
        lines.iter().enumerate().partition(|(i, _)| i % 10 != 9);
    let mut counts = TokenCounts::new();
    for (_, line) in &train_lines {
        for token in line.iter() {
            counts.add(token);
        }
    }
    let vocab = Vocab::build(
        &counts,
        &VocabConfig {
            min_count: 1,
            max_size: None,
            specials: Specials::seq2seq(),
        },
    );
    let eos = vocab.eos_id().expect("seq2seq specials have <eos>");
    let stream = |lines: &[(usize, &Vec<String>)]| -> Result<Vec<u32>, kindling_data::Error> {
        let mut ids = Vec::new();
        for (_, line) in lines {
            ids.extend(vocab.encode(line, OnUnknown::MapToUnk)?);
            ids.push(eos);
        }
        Ok(ids)
    };
    // 2. Truncated backpropagation through time: 16 parallel rows, windows of 32 steps.
    let train = bptt_windows(&stream(&train_lines)?, 16, 32);
    let dev = bptt_windows(&stream(&dev_lines)?, 4, 32);

    // 3. A one-layer LSTM of 128 units over 32-d character vectors, Adam, clipped gradients.
    let config = LanguageModelConfig::new(32, 128).with_dropout(0.1);
    let model = try_build_seeded(&device, 1, || config.init(vocab.len(), &device))?;
    let train_config = TrainConfig {
        monitor: kindling_core::metrics::Metric::Perplexity,
        goal: Goal::Min,
        clip: Some(GradientClip::GlobalNorm { max_norm: 1.0 }),
        ..TrainConfig::new(6, 1, 1, OptimizerConfig::adam(0.01))
    };
    std::fs::create_dir_all(dir)?;
    let trained = Trainer::new(train_config, &device)?
        .with_progress(false)
        .with_output(dir)
        .fit(model, &BpttBatcher, &train, Some(&dev))?;

    // 4. Save the model with its text preparation; load it and continue a prompt.
    save_language_model(dir, &config, preparation, &vocab)?;
    let loaded = SavedLanguageModel::load(dir, &BackendKind::Flex.device()?)?;
    let tokens = loaded.continue_text(prompt, 40, 0.5, 7)?;
    let dev_text: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| i % 10 == 9)
        .map(|(_, line)| line)
        .collect();
    let loaded_dev_perplexity = loaded.perplexity(&dev_text, 32)?;
    Ok(Report {
        dev_perplexity: trained.best_metric.unwrap_or(f64::NAN),
        loaded_dev_perplexity,
        characters: (0..vocab.len() as u32)
            .filter(|&id| !vocab.is_special(id))
            .count(),
        sample: loaded.text_preparation().join(&tokens),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = match std::env::args_os().nth(1) {
        Some(file) => std::fs::read_to_string(&file)
            .map_err(|e| format!("{}: {e}", Path::new(&file).display()))?,
        None => sample_text(),
    };
    let dir = std::env::temp_dir().join("kindling-example-char-lm");
    let report = run(&text, &dir, "the cat")?;
    println!(
        "{} characters; dev perplexity {:.2} per character ({:.2} measured by the loaded model)",
        report.characters, report.dev_perplexity, report.loaded_dev_perplexity
    );
    println!("{}", report.sample);
    println!("the run is in {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn learns_the_sample_text_and_continues_a_prompt_after_loading() {
        let dir = std::env::temp_dir().join(format!(
            "kindling-example-char-lm-test-{}",
            std::process::id()
        ));
        let report = super::run(&super::sample_text(), &dir, "The cat").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        // Uniform guessing over the characters would score their number; the text is very
        // regular, so a model that learnt it does far better.
        assert!(
            report.dev_perplexity < 2.0,
            "dev perplexity {}",
            report.dev_perplexity
        );
        assert!(report.sample.starts_with("the cat "), "{report:?}");
        // The run read the dev lines in 4 rows, the loaded model in one: close, not equal.
        assert!(
            (report.loaded_dev_perplexity - report.dev_perplexity).abs() < 0.1,
            "{report:?}"
        );
        assert!(report.sample.len() > "the cat ".len(), "{report:?}");
    }
}
