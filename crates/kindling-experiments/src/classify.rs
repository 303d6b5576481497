//! Classifying sentences with a trained text CNN. The output directory of a `textcnn` run holds
//! all it needs: `classifier.json` (architecture, label names, tokenisation), `vocab.txt` and
//! `best.ckpt` (the weights of the best dev epoch).

use std::path::Path;

use kindling_core::burn::tensor::Device;
use kindling_core::checkpoint::Checkpoint;
use kindling_core::train::files;
use kindling_data::batch::PaddedBatch;
use kindling_data::batch::Padding;
use kindling_data::tokenize::KimClean;
use kindling_data::{LabelSet, OnUnknown, Vocab};
use kindling_textcnn::{TextCnn, TextCnnConfig};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The description of a trained classifier, beside its checkpoint.
const MANIFEST: &str = "classifier.json";
/// Its vocabulary.
const VOCAB: &str = "vocab.txt";

/// What `classifier.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Manifest {
    model: TextCnnConfig,
    labels: Vec<String>,
    lowercase: bool,
}

/// Writes `classifier.json` and `vocab.txt` into `dir`, beside the trainer's checkpoints.
///
/// # Errors
/// Write failures.
pub fn save_classifier(
    dir: &Path,
    model: &TextCnnConfig,
    labels: &LabelSet,
    tokenizer: &KimClean,
    vocab: &Vocab,
) -> Result<()> {
    let manifest = Manifest {
        model: model.clone(),
        labels: labels.names().to_vec(),
        lowercase: tokenizer.lowercase,
    };
    kindling_core::atomic::write_json_atomic(&dir.join(MANIFEST), &manifest)?;
    vocab.save(&dir.join(VOCAB))?;
    Ok(())
}

/// One sentence's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The most probable label.
    pub label: String,
    /// Every label with its probability, in label order.
    pub probabilities: Vec<(String, f32)>,
}

/// A trained text CNN ready to classify raw sentences.
pub struct Classifier {
    model: TextCnn,
    vocab: Vocab,
    labels: Vec<String>,
    tokenizer: KimClean,
    padding: Padding,
    device: Device,
}

impl Classifier {
    /// Loads the classifier saved in run directory `dir` onto `device`.
    ///
    /// # Errors
    /// Missing or malformed `classifier.json`, `vocab.txt` or `best.ckpt`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Spec {
            path: path.clone(),
            message: format!("not a classifier description: {e}"),
        })?;
        let vocab = Vocab::load(&dir.join(VOCAB))?;
        let pad = vocab.pad_id().ok_or_else(|| Error::Spec {
            path: dir.join(VOCAB),
            message: "the vocabulary has no padding token".into(),
        })?;
        let checkpoint_path = dir.join(files::BEST);
        let model =
            TextCnn::for_loading(&manifest.model, vocab.len(), manifest.labels.len(), device);
        let model = Checkpoint::load(&checkpoint_path)?.restore_model(model, &checkpoint_path)?;
        Ok(Self {
            model,
            vocab,
            padding: Padding {
                min_len: manifest.model.widest_filter(),
                ..Padding::new(pad)
            },
            labels: manifest.labels,
            tokenizer: KimClean {
                lowercase: manifest.lowercase,
            },
            device: device.clone(),
        })
    }

    /// Classifies `sentences` (raw text, tokenised as in training; unknown words map to
    /// `<unk>`).
    ///
    /// # Errors
    /// None in practice: encoding maps unknown words to `<unk>`, which the vocabulary has.
    pub fn classify<S: AsRef<str>>(&self, sentences: &[S]) -> Result<Vec<Prediction>> {
        if sentences.is_empty() {
            return Ok(Vec::new());
        }
        let encoded = sentences
            .iter()
            .map(|s| {
                self.vocab
                    .encode_text(&self.tokenizer, s.as_ref(), OnUnknown::MapToUnk)
            })
            .collect::<kindling_data::Result<Vec<_>>>()?;
        let batch = PaddedBatch::new(&encoded, &self.padding);
        let probabilities: Vec<f32> = self
            .model
            .probabilities(batch.ids_tensor(&self.device), &batch.lengths)
            .into_data()
            .convert::<f32>()
            .try_to_vec()
            .expect("float probabilities");
        Ok(probabilities
            .chunks(self.labels.len())
            .map(|row| {
                let best = row
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i);
                Prediction {
                    label: self.labels[best].clone(),
                    probabilities: self
                        .labels
                        .iter()
                        .cloned()
                        .zip(row.iter().copied())
                        .collect(),
                }
            })
            .collect())
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;
    use kindling_core::burn::module::Module;
    use kindling_core::optim::OptimizerConfig;
    use kindling_core::seed::build_seeded;
    use kindling_core::train::{TrainConfig, Trainer};
    use kindling_data::batch::{EncodedExample, SequenceBatcher};
    use kindling_data::{Specials, TokenCounts, VocabConfig};
    use kindling_textcnn::Channels;

    #[test]
    fn a_saved_run_classifies_like_the_trained_model() {
        let device = BackendKind::Flex.device().unwrap();
        let sentences = [
            "good fine great",
            "bad awful poor",
            "great good",
            "poor bad",
        ];
        let tokenizer = KimClean::default();
        let mut counts = TokenCounts::new();
        sentences
            .iter()
            .for_each(|s| counts.add_text(&tokenizer, s));
        let vocab = Vocab::build(
            &counts,
            &VocabConfig {
                min_count: 1,
                max_size: None,
                specials: Specials::default(),
            },
        );
        let labels = LabelSet::new(["pos", "neg"]).unwrap();
        let examples: Vec<EncodedExample> = sentences
            .iter()
            .enumerate()
            .map(|(i, s)| EncodedExample {
                ids: vocab.encode_text(&tokenizer, s, OnUnknown::Error).unwrap(),
                label: (i % 2) as u32,
            })
            .collect();
        let config = TextCnnConfig {
            channels: Channels::Rand,
            dim: 6,
            filter_widths: vec![1, 2],
            feature_maps: 3,
            ..TextCnnConfig::default()
        };
        let train_device = device.clone().autodiff();
        let model = build_seeded(&train_device, 1, || {
            TextCnn::random(&config, vocab.len(), 2, &train_device)
        });
        let dir = std::env::temp_dir().join(format!("kindling-classify-{}", std::process::id()));
        let batcher = SequenceBatcher::new(Padding {
            min_len: 2,
            ..Padding::new(vocab.pad_id().unwrap())
        });
        let trained = Trainer::new(
            TrainConfig::new(2, 2, 1, OptimizerConfig::kim_adadelta()),
            &device,
        )
        .unwrap()
        .with_output(&dir)
        .with_progress(false)
        .fit(model, &batcher, &examples, Some(&examples))
        .unwrap();
        save_classifier(&dir, &config, &labels, &tokenizer, &vocab).unwrap();

        let classifier = Classifier::load(&dir, &device).unwrap();
        let got = classifier
            .classify(&["Great, good!", "never seen words"])
            .unwrap();
        let ids: Vec<Vec<u32>> = ["Great, good!", "never seen words"]
            .iter()
            .map(|s| {
                vocab
                    .encode_text(&tokenizer, s, OnUnknown::MapToUnk)
                    .unwrap()
            })
            .collect();
        let padded = PaddedBatch::new(&ids, &classifier.padding);
        let expected: Vec<f32> = trained
            .best_model
            .valid()
            .probabilities(padded.ids_tensor(&device), &padded.lengths)
            .into_data()
            .try_to_vec()
            .unwrap();
        for (prediction, row) in got.iter().zip(expected.chunks(2)) {
            let probabilities: Vec<f32> = prediction.probabilities.iter().map(|p| p.1).collect();
            assert_eq!(probabilities, row);
            assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        assert_eq!(got[0].probabilities[0].0, "pos");
        assert!(Classifier::load(&dir.join("missing"), &device).is_err());
    }
}
