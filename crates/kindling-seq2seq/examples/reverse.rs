//! Teach an attention encoder–decoder to spell words backwards, save it, load it back and
//! translate with it: the whole life of a kindling seq2seq model, from pairs of strings to a
//! `Translator`, in one program.
//!
//! ```sh
//! cargo run -p kindling-seq2seq --example reverse
//! ```
//!
//! Swap `reversed` for your own pairs of strings (a transliteration table, a lexicon of
//! pronunciations) and the rest stays as it is.

use std::path::Path;

use kindling_core::BackendKind;
use kindling_core::optim::OptimizerConfig;
use kindling_core::schedule::Goal;
use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::{TrainConfig, Trainer};
use kindling_rnn::{CellKind, EncoderConfig};
use kindling_seq2seq::{
    AttentionKind, DecodeSettings, PairVocabularies, SavedSeq2Seq, Segmenter, Seq2SeqConfig,
    Translator, save_seq2seq,
};

/// What a run of the example measured.
#[derive(Debug)]
pub struct Report {
    /// Share of held-out words spelt backwards exactly, greedy search.
    pub greedy_accuracy: f64,
    /// The same with the saved beam search.
    pub beam_accuracy: f64,
    /// A few words and what the loaded model made of them.
    pub samples: Vec<(String, String)>,
}

/// `n` random lowercase words of 3 to 7 letters.
fn words(n: usize, seed: u64) -> Vec<String> {
    let mut rng = SeededRng::new(seed);
    (0..n)
        .map(|_| {
            let len = 3 + rng.below(5) as usize;
            (0..len)
                .map(|_| char::from(b'a' + rng.below(26) as u8))
                .collect()
        })
        .collect()
}

fn reversed(word: &str) -> String {
    word.chars().rev().collect()
}

/// Trains on 3,000 words, saves the run into `dir`, loads it and scores 200 new words.
pub fn run(dir: &Path) -> Result<Report, Box<dyn std::error::Error>> {
    let device = BackendKind::Flex.train_device()?;
    // 1. Text → tokens: one token per character on both sides.
    let segmenter = Segmenter::Characters { lowercase: true };
    let pairs = |words: &[String]| -> Vec<(Vec<String>, Vec<String>)> {
        words
            .iter()
            .map(|w| (segmenter.tokens(w), segmenter.tokens(&reversed(w))))
            .collect()
    };
    let train_tokens = pairs(&words(3000, 1));
    let dev_tokens = pairs(&words(200, 2));

    // 2. Tokens → ids: vocabularies with <pad>, <unk>, <s>, </s>, and encoded pairs.
    let vocabularies =
        PairVocabularies::build(train_tokens.iter().map(|(s, t)| (&s[..], &t[..])), 1);
    let encode = |pairs: &[(Vec<String>, Vec<String>)]| {
        pairs
            .iter()
            .map(|(s, t)| vocabularies.encode_pair(s, t))
            .collect::<Result<Vec<_>, _>>()
    };
    let (train, dev) = (encode(&train_tokens)?, encode(&dev_tokens)?);

    // 3. The model: a bidirectional GRU encoder and a GRU decoder with Bahdanau attention.
    let config = Seq2SeqConfig {
        embedding: 32,
        encoder: EncoderConfig::new(CellKind::Gru, 48).with_bidirectional(true),
        decoder_hidden: 64,
        attention: AttentionKind::Bahdanau,
        attention_size: None,
        dropout: 0.0,
        label_smoothing: 0.0,
        teacher_forcing: 1.0,
        seed: 1,
    };
    let (sources, targets) = (vocabularies.source().len(), vocabularies.target().len());
    let model = try_build_seeded(&device, 1, || config.init(sources, targets, &device))?;

    // 4. Training: Adam, batches of similar length, the epoch of the lowest dev perplexity
    //    kept as `best.ckpt` in `dir`.
    let train_config = TrainConfig {
        monitor: kindling_core::metrics::Metric::Perplexity,
        goal: Goal::Min,
        ..TrainConfig::new(8, 32, 1, OptimizerConfig::adam(0.005))
    };
    std::fs::create_dir_all(dir)?;
    let trained = Trainer::new(train_config, &device)?
        .with_progress(false)
        .with_output(dir)
        .fit(model, &vocabularies.batcher(Some(8)), &train, Some(&dev))?;
    println!(
        "trained {} epochs in {:.1} s; best dev perplexity {:.3} (epoch {})",
        trained.epochs_run,
        trained.train_seconds,
        trained.best_metric.unwrap_or(f64::NAN),
        trained.best_epoch,
    );

    // 5. Save what inference needs beside the checkpoint: text preparation, vocabularies and
    //    the search settings a loaded model decodes with.
    let decode = DecodeSettings::default().with_beam(3);
    save_seq2seq(
        dir,
        &SavedSeq2Seq {
            model: &config,
            segmenter,
            subwords: None,
            vocabularies: &vocabularies,
            decode: &decode,
        },
    )?;

    // 6. Load the run as a user of it would, and translate raw strings.
    let translator = Translator::load(dir, &BackendKind::Flex.device()?)?;
    let held_out = words(200, 3);
    let expected: Vec<String> = held_out.iter().map(|w| reversed(w)).collect();
    let accuracy = |outputs: Vec<String>| {
        let right = outputs
            .iter()
            .zip(&expected)
            .filter(|(output, expected)| output.replace(' ', "") == **expected)
            .count();
        right as f64 / expected.len() as f64
    };
    let greedy = translator
        .translate_nbest(&held_out, &decode.greedy())?
        .into_iter()
        .map(|mut best| best.remove(0).text)
        .collect();
    let beam = translator.translate(&held_out)?;
    let samples: Vec<String> = ["kindling", "burn", "abcdef"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let sample_outputs = translator.translate(&samples)?;
    Ok(Report {
        greedy_accuracy: accuracy(greedy),
        beam_accuracy: accuracy(beam),
        samples: samples.into_iter().zip(sample_outputs).collect(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("kindling-example-reverse");
    let report = run(&dir)?;
    println!(
        "held-out words reversed exactly: {:.1} % greedy, {:.1} % beam 3",
        100.0 * report.greedy_accuracy,
        100.0 * report.beam_accuracy
    );
    for (word, output) in &report.samples {
        println!("{word} → {output}");
    }
    println!("the run is in {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn learns_to_reverse_words_and_translates_after_loading() {
        let dir = std::env::temp_dir().join(format!(
            "kindling-example-reverse-test-{}",
            std::process::id()
        ));
        let report = super::run(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(report.greedy_accuracy > 0.8, "{report:?}");
        assert!(
            report.beam_accuracy >= report.greedy_accuracy - 0.05,
            "{report:?}"
        );
        // Output tokens are separated by spaces, one per letter here.
        assert_eq!(report.samples[1].1, "n r u b", "{report:?}");
    }
}
