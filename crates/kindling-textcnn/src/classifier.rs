//! Text classifiers as a run trains and saves them, and loaded back for inference.
//!
//! [`ClassifierConfig`] picks the architecture (`architecture = "cnn"` for Kim's CNN,
//! `"clstm"` for C-LSTM, `"rnn"` for kindling-rnn's recurrent classifier, with that model's
//! settings beside it). A run's output directory holds
//! all inference needs: `classifier.json` (architecture, label names, tokenisation, written by
//! [`save_classifier`]), `vocab.txt` and `best.ckpt` (the weights of the best dev epoch, written
//! by the trainer); [`Classifier::load`] reads them back.

use std::path::Path;

use kindling_core::burn::tensor::{Device, Int, Tensor};
use kindling_core::checkpoint::Checkpoint;
use kindling_core::train::files;
use kindling_data::batch::{PaddedBatch, Padding};
use kindling_data::tokenize::KimClean;
use kindling_data::{LabelSet, OnUnknown, Vocab};
use serde::{Deserialize, Serialize};

use crate::embedding::Channels;
use kindling_rnn::{RnnClassifier, RnnClassifierConfig};

use crate::{ConvLstm, ConvLstmConfig, Error, Result, TextCnn, TextCnnConfig};

/// The description of a trained classifier, beside its checkpoint.
const MANIFEST: &str = "classifier.json";
/// Its vocabulary.
const VOCAB: &str = "vocab.txt";

/// Which classifier to build, with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "architecture", rename_all = "kebab-case")]
pub enum ClassifierConfig {
    /// Kim's CNN.
    Cnn(TextCnnConfig),
    /// The CNN + LSTM hybrid.
    Clstm(ConvLstmConfig),
    /// A recurrent encoder with pooling (kindling-rnn).
    Rnn(RnnClassifierConfig),
}

impl ClassifierConfig {
    /// The embedding variant.
    pub fn channels(&self) -> Channels {
        match self {
            Self::Cnn(config) => config.channels,
            Self::Clstm(config) => config.channels,
            Self::Rnn(config) => config.channels,
        }
    }

    /// The word-vector size.
    pub fn dim(&self) -> usize {
        match self {
            Self::Cnn(config) => config.dim,
            Self::Clstm(config) => config.dim,
            Self::Rnn(config) => config.dim,
        }
    }

    /// The shortest padded batch the model takes: its widest filter, one step for an RNN.
    pub fn min_len(&self) -> usize {
        match self {
            Self::Cnn(config) => config.widest_filter(),
            Self::Clstm(config) => config.width,
            Self::Rnn(_) => 1,
        }
    }

    /// Checks the settings (see [`TextCnnConfig::validate`], [`ConvLstmConfig::validate`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Cnn(config) => config.validate(),
            Self::Clstm(config) => config.validate(),
            Self::Rnn(config) => Ok(config.validate()?),
        }
    }

    /// A model of this structure with placeholder weights, to restore a checkpoint into.
    ///
    /// # Errors
    /// When the config is invalid.
    pub fn init_for_loading(
        &self,
        vocab_size: usize,
        classes: usize,
        device: &Device,
    ) -> Result<TrainedModel> {
        Ok(match self {
            Self::Cnn(config) => TrainedModel::Cnn(Box::new(
                config.init_for_loading(vocab_size, classes, device)?,
            )),
            Self::Clstm(config) => TrainedModel::Clstm(Box::new(
                config.init_for_loading(vocab_size, classes, device)?,
            )),
            Self::Rnn(config) => TrainedModel::Rnn(Box::new(
                config.init_for_loading(vocab_size, classes, device)?,
            )),
        })
    }
}

/// A model of either architecture.
#[derive(Debug)]
pub enum TrainedModel {
    /// Kim's CNN.
    Cnn(Box<TextCnn>),
    /// The CNN + LSTM hybrid.
    Clstm(Box<ConvLstm>),
    /// The recurrent classifier.
    Rnn(Box<RnnClassifier>),
}

impl TrainedModel {
    /// Class probabilities.
    ///
    /// # Shapes
    /// `tokens`: `[batch, len]`, `lengths`: one per sentence → `[batch, classes]`.
    ///
    /// # Errors
    /// When `lengths` does not fit `tokens`.
    pub fn probabilities(&self, tokens: Tensor<2, Int>, lengths: &[usize]) -> Result<Tensor<2>> {
        Ok(match self {
            Self::Cnn(model) => model.probabilities(tokens, lengths),
            Self::Clstm(model) => model.probabilities(tokens, lengths),
            Self::Rnn(model) => model.probabilities(tokens, lengths)?,
        })
    }

    fn restore(self, checkpoint: &Checkpoint, path: &Path) -> Result<Self> {
        Ok(match self {
            Self::Cnn(model) => Self::Cnn(Box::new(checkpoint.restore_model(*model, path)?)),
            Self::Clstm(model) => Self::Clstm(Box::new(checkpoint.restore_model(*model, path)?)),
            Self::Rnn(model) => Self::Rnn(Box::new(checkpoint.restore_model(*model, path)?)),
        })
    }
}

/// What `classifier.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    model: ClassifierConfig,
    labels: Vec<String>,
    lowercase: bool,
}

/// Writes `classifier.json` and `vocab.txt` into `dir`, beside the trainer's checkpoints.
///
/// # Errors
/// Write failures.
pub fn save_classifier(
    dir: &Path,
    model: &ClassifierConfig,
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

/// Sentences [`Classifier::classify`] puts in one padded batch.
pub const CLASSIFY_BATCH: usize = 256;

/// One sentence's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The most probable label.
    pub label: String,
    /// Every label with its probability, in label order.
    pub probabilities: Vec<(String, f32)>,
}

impl Prediction {
    /// The `k` most probable labels with their probabilities, best first (ties in label
    /// order).
    pub fn top(&self, k: usize) -> Vec<(String, f32)> {
        let mut ranked = self.probabilities.clone();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(k);
        ranked
    }
}

/// A trained classifier ready to classify raw sentences.
pub struct Classifier {
    model: TrainedModel,
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
        kindling_core::train::ensure_finished(dir)?;
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| kindling_core::Error::io("reading", &path, e))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Manifest {
            path: path.clone(),
            problem: format!("not a classifier description: {e}"),
        })?;
        if manifest.labels.is_empty() {
            return Err(Error::Manifest {
                path,
                problem: "no labels".into(),
            });
        }
        let vocab = Vocab::load(&dir.join(VOCAB))?;
        let pad = vocab.pad_id().ok_or_else(|| Error::Manifest {
            path: dir.join(VOCAB),
            problem: "the vocabulary has no padding token".into(),
        })?;
        let checkpoint_path = dir.join(files::BEST);
        let model = manifest
            .model
            .init_for_loading(vocab.len(), manifest.labels.len(), device)?
            .restore(&Checkpoint::load(&checkpoint_path)?, &checkpoint_path)?;
        Ok(Self {
            model,
            vocab,
            padding: Padding {
                min_len: manifest.model.min_len(),
                ..Padding::new(pad)
            },
            labels: manifest.labels,
            tokenizer: KimClean {
                lowercase: manifest.lowercase,
            },
            device: device.clone(),
        })
    }

    /// The label names, in the order of [`Prediction::probabilities`].
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Classifies `sentences` (raw text, tokenised as in training; unknown words map to
    /// `<unk>`), [`CLASSIFY_BATCH`] at a time, so that any number of sentences takes bounded
    /// memory.
    ///
    /// # Errors
    /// None in practice: encoding maps unknown words to `<unk>`, which the vocabulary has.
    pub fn classify<S: AsRef<str>>(&self, sentences: &[S]) -> Result<Vec<Prediction>> {
        let mut predictions = Vec::with_capacity(sentences.len());
        for chunk in sentences.chunks(CLASSIFY_BATCH) {
            predictions.extend(self.classify_batch(chunk)?);
        }
        Ok(predictions)
    }

    /// [`Classifier::classify`] for one padded batch.
    fn classify_batch<S: AsRef<str>>(&self, sentences: &[S]) -> Result<Vec<Prediction>> {
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
            .probabilities(batch.ids_tensor(&self.device), &batch.lengths)?
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

    #[test]
    fn top_labels_come_best_first() {
        let prediction = Prediction {
            label: "b".into(),
            probabilities: vec![("a".into(), 0.2), ("b".into(), 0.5), ("c".into(), 0.3)],
        };
        let names = |k| -> Vec<String> { prediction.top(k).into_iter().map(|(l, _)| l).collect() };
        assert_eq!(names(2), ["b", "c"]);
        assert_eq!(names(9), ["b", "c", "a"]);
    }
    use kindling_core::BackendKind;
    use kindling_core::burn::module::Module;
    use kindling_core::optim::OptimizerConfig;
    use kindling_core::seed::build_seeded;
    use kindling_core::train::{TrainConfig, Trainer};
    use kindling_data::batch::{EncodedExample, SequenceBatcher};
    use kindling_data::{TokenCounts, VocabConfig};

    /// Trains a tiny model of `config` on four sentences, saves the run and checks that the
    /// loaded classifier gives the trained model's probabilities.
    fn round_trip(name: &str, config: ClassifierConfig) {
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
        let vocab = Vocab::build(&counts, &VocabConfig::default());
        let labels = LabelSet::new(["pos", "neg"]).unwrap();
        let examples: Vec<EncodedExample> = sentences
            .iter()
            .enumerate()
            .map(|(i, s)| EncodedExample {
                ids: vocab.encode_text(&tokenizer, s, OnUnknown::Error).unwrap(),
                label: (i % 2) as u32,
            })
            .collect();
        let train_device = device.clone().autodiff();
        let dir =
            std::env::temp_dir().join(format!("kindling-classify-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let batcher = SequenceBatcher::new(Padding {
            min_len: config.min_len(),
            ..Padding::new(vocab.pad_id().unwrap())
        });
        let trainer = || {
            Trainer::new(
                TrainConfig::new(2, 2, 1, OptimizerConfig::kim_adadelta()),
                &device,
            )
            .unwrap()
            .with_output(&dir)
            .with_progress(false)
        };
        let trained = match &config {
            ClassifierConfig::Cnn(cnn) => {
                let model = build_seeded(&train_device, 1, || {
                    cnn.init(vocab.len(), 2, &train_device).unwrap()
                });
                let fit = trainer()
                    .fit(model, &batcher, &examples, Some(&examples))
                    .unwrap();
                TrainedModel::Cnn(Box::new(fit.best_model.valid()))
            }
            ClassifierConfig::Clstm(clstm) => {
                let model = build_seeded(&train_device, 1, || {
                    clstm.init(vocab.len(), 2, &train_device).unwrap()
                });
                let fit = trainer()
                    .fit(model, &batcher, &examples, Some(&examples))
                    .unwrap();
                TrainedModel::Clstm(Box::new(fit.best_model.valid()))
            }
            ClassifierConfig::Rnn(rnn) => {
                let model = build_seeded(&train_device, 1, || {
                    rnn.init(vocab.len(), 2, &train_device).unwrap()
                });
                let fit = trainer()
                    .fit(model, &batcher, &examples, Some(&examples))
                    .unwrap();
                TrainedModel::Rnn(Box::new(fit.best_model.valid()))
            }
        };
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
            .probabilities(padded.ids_tensor(&device), &padded.lengths)
            .unwrap()
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
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_saved_cnn_run_classifies_like_the_trained_model() {
        round_trip(
            "cnn",
            ClassifierConfig::Cnn(
                TextCnnConfig::new(6)
                    .with_filter_widths(vec![1, 2])
                    .with_feature_maps(3),
            ),
        );
    }

    #[test]
    fn a_saved_clstm_run_classifies_like_the_trained_model() {
        round_trip(
            "clstm",
            ClassifierConfig::Clstm(
                ConvLstmConfig::new(6)
                    .with_channels(Channels::Rand)
                    .with_width(2)
                    .with_maps(3)
                    .with_hidden(4),
            ),
        );
    }

    #[test]
    fn a_saved_rnn_run_classifies_like_the_trained_model() {
        use kindling_rnn::{CellKind, EncoderConfig, Pooling};
        for (name, cell, pooling) in [
            ("bilstm-max", CellKind::Lstm, Pooling::Max),
            ("gru-last", CellKind::Gru, Pooling::Last),
        ] {
            let encoder = EncoderConfig::new(cell, 4).with_bidirectional(true);
            round_trip(
                name,
                ClassifierConfig::Rnn(RnnClassifierConfig::new(6, encoder).with_pooling(pooling)),
            );
        }
    }

    #[test]
    fn an_architecture_typo_is_an_error_naming_it() {
        let typo = serde_json::from_str::<ClassifierConfig>(r#"{"architecture": "clstn"}"#)
            .unwrap_err()
            .to_string();
        assert!(typo.contains("clstn") && typo.contains("cnn"), "{typo}");
        let field =
            serde_json::from_str::<ClassifierConfig>(r#"{"architecture": "clstm", "hiden": 3}"#)
                .unwrap_err()
                .to_string();
        assert!(field.contains("hiden"), "{field}");
    }
}
