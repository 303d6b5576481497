//! Trained taggers and language models saved beside their checkpoints, and loaded back for
//! inference: a run directory holds `model.json` (what to build, and the tag names),
//! `vocab.txt` and the trainer's `best.ckpt`.

use std::path::Path;

use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::checkpoint::Checkpoint;
use kindling_core::seed::SeededRng;
use kindling_core::train::files;
use kindling_data::{OnUnknown, Vocab};
use serde::{Deserialize, Serialize};

use crate::{Error, LanguageModel, LanguageModelConfig, Result, Tagger, TaggerConfig};

/// The description of a saved model.
const MANIFEST: &str = "model.json";
/// Its vocabulary.
const VOCAB: &str = "vocab.txt";

/// What `model.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum Manifest {
    Tagger {
        model: TaggerConfig,
        tags: Vec<String>,
    },
    LanguageModel {
        model: LanguageModelConfig,
    },
}

fn save(dir: &Path, manifest: &Manifest, vocab: &Vocab) -> Result<()> {
    kindling_core::atomic::write_json_atomic(&dir.join(MANIFEST), manifest)?;
    vocab.save(&dir.join(VOCAB))?;
    Ok(())
}

/// Reads `model.json` and `vocab.txt` of `dir`.
fn load(dir: &Path) -> Result<(Manifest, Vocab)> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| kindling_core::Error::io("reading", &path, e))?;
    let manifest = serde_json::from_str(&text).map_err(|e| Error::Manifest {
        path: path.clone(),
        problem: format!("not a model description: {e}"),
    })?;
    Ok((manifest, Vocab::load(&dir.join(VOCAB))?))
}

/// The best checkpoint of `dir` restored into `model`.
fn restore<M: kindling_core::burn::module::Module>(dir: &Path, model: M) -> Result<M> {
    let path = dir.join(files::BEST);
    Ok(Checkpoint::load(&path)?.restore_model(model, &path)?)
}

fn wrong_kind(dir: &Path, expected: &str) -> Error {
    Error::Manifest {
        path: dir.join(MANIFEST),
        problem: format!("describes another kind of model, not a {expected}"),
    }
}

/// Writes the description of a tagger run (its config, tag names and vocabulary) into `dir`,
/// beside the trainer's checkpoints.
///
/// # Errors
/// Write failures.
pub fn save_tagger(dir: &Path, model: &TaggerConfig, tags: &[String], vocab: &Vocab) -> Result<()> {
    let manifest = Manifest::Tagger {
        model: model.clone(),
        tags: tags.to_vec(),
    };
    save(dir, &manifest, vocab)
}

/// A trained tagger ready to tag tokenised sentences.
pub struct SavedTagger {
    model: Tagger,
    tags: Vec<String>,
    vocab: Vocab,
    device: Device,
}

impl SavedTagger {
    /// Loads the tagger saved in run directory `dir` onto `device`.
    ///
    /// # Errors
    /// Missing or malformed `model.json`, `vocab.txt` or `best.ckpt`, or a run of another
    /// kind.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (manifest, vocab) = load(dir)?;
        let Manifest::Tagger { model, tags } = manifest else {
            return Err(wrong_kind(dir, "tagger"));
        };
        if vocab.pad_id().is_none() || vocab.unk_id().is_none() {
            return Err(Error::Manifest {
                path: dir.join(VOCAB),
                problem: "the vocabulary needs <pad> and <unk>".into(),
            });
        }
        let model = restore(
            dir,
            model.init_for_loading(vocab.len(), tags.len(), device)?,
        )?;
        Ok(Self {
            model,
            tags,
            vocab,
            device: device.clone(),
        })
    }

    /// The tag of every word of every sentence (unknown words read as `<unk>`; an empty
    /// sentence gets no tags).
    ///
    /// # Errors
    /// None in practice: the vocabulary has `<unk>` and `<pad>`.
    pub fn tag<S: AsRef<str>>(&self, sentences: &[Vec<S>]) -> Result<Vec<Vec<String>>> {
        let pad = self.vocab.pad_id().expect("checked at load");
        let mut tagged = vec![Vec::new(); sentences.len()];
        let real: Vec<usize> = (0..sentences.len())
            .filter(|&i| !sentences[i].is_empty())
            .collect();
        if real.is_empty() {
            return Ok(tagged);
        }
        let encoded = real
            .iter()
            .map(|&i| self.vocab.encode(&sentences[i], OnUnknown::MapToUnk))
            .collect::<kindling_data::Result<Vec<_>>>()?;
        let len = encoded.iter().map(Vec::len).max().unwrap_or(1);
        let ids: Vec<i64> = encoded
            .iter()
            .flat_map(|s| {
                s.iter()
                    .map(|&i| i64::from(i))
                    .chain(std::iter::repeat(i64::from(pad)))
                    .take(len)
            })
            .collect();
        let lengths: Vec<usize> = encoded.iter().map(Vec::len).collect();
        let tokens =
            Tensor::<2, Int>::from_data(TensorData::new(ids, [encoded.len(), len]), &self.device);
        for (i, predicted) in real.into_iter().zip(self.model.predict(tokens, &lengths)?) {
            tagged[i] = predicted
                .into_iter()
                .map(|t| self.tags[t as usize].clone())
                .collect();
        }
        Ok(tagged)
    }
}

/// Writes the description of a language-model run (its config and vocabulary) into `dir`.
///
/// # Errors
/// Write failures.
pub fn save_language_model(dir: &Path, model: &LanguageModelConfig, vocab: &Vocab) -> Result<()> {
    save(
        dir,
        &Manifest::LanguageModel {
            model: model.clone(),
        },
        vocab,
    )
}

/// A trained language model ready to continue text.
pub struct SavedLanguageModel {
    model: LanguageModel,
    vocab: Vocab,
}

impl SavedLanguageModel {
    /// Loads the language model saved in run directory `dir` onto `device`.
    ///
    /// # Errors
    /// Missing or malformed `model.json`, `vocab.txt` or `best.ckpt`, or a run of another
    /// kind.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (manifest, vocab) = load(dir)?;
        let Manifest::LanguageModel { model } = manifest else {
            return Err(wrong_kind(dir, "language model"));
        };
        let model = restore(dir, model.init(vocab.len(), device)?)?;
        Ok(Self { model, vocab })
    }

    /// The model's vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Continues `prompt` (words; unknown ones read as `<unk>`) with up to `words` sampled
    /// words at `temperature`, stopping after an end-of-sentence token when the vocabulary has
    /// one. Returns the sampled words.
    ///
    /// # Errors
    /// An empty prompt or a temperature that is not positive.
    pub fn generate<S: AsRef<str>>(
        &self,
        prompt: &[S],
        words: usize,
        temperature: f64,
        seed: u64,
    ) -> Result<Vec<String>> {
        let ids = self.vocab.encode(prompt, OnUnknown::MapToUnk)?;
        let sampled = self.model.generate(
            &ids,
            words,
            temperature,
            self.vocab.eos_id(),
            &mut SeededRng::new(seed),
        )?;
        Ok(self
            .vocab
            .decode(&sampled, false)?
            .into_iter()
            .map(str::to_string)
            .collect())
    }
}
