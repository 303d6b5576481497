//! Trained encoder–decoders saved beside their checkpoints and loaded back to translate: a run
//! directory holds `seq2seq.json` (the model config, how text is split into tokens and how
//! outputs are searched for),
//! `source_vocab.txt`, `target_vocab.txt`, the trainer's `best.ckpt` and, for a subword model,
//! `bpe.json`.

use std::path::{Path, PathBuf};

use kindling_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use kindling_core::checkpoint::Checkpoint;
use kindling_core::train::files;
use kindling_data::Vocab;
use kindling_data::batch::{PaddedBatch, Padding};
use kindling_data::tokenize::{Chars, Tokenizer, Words};
use serde::{Deserialize, Serialize};

use crate::decode::{DecodeSettings, decode};
use crate::search::{Hypothesis, Sources};
use crate::subword::Subwords;
use crate::vocab::PairVocabularies;
use crate::{Error, Result, Seq2Seq, Seq2SeqConfig};

/// The description of a saved model.
const MANIFEST: &str = "seq2seq.json";
/// The subword encoding of a subword model.
pub const SUBWORDS: &str = "bpe.json";

/// How raw text becomes source tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "units", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Segmenter {
    /// Words and punctuation marks ([`Words::translation`]), optionally lowercased.
    Words {
        /// Lowercase first.
        lowercase: bool,
    },
    /// One token per character, whitespace dropped (a word's letters, for G2P).
    Characters {
        /// Lowercase first.
        lowercase: bool,
    },
}

impl Segmenter {
    /// The tokens of `text`.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        match *self {
            Self::Words { lowercase } => Words {
                lowercase,
                ..Words::translation()
            }
            .tokenize(text),
            Self::Characters { lowercase } => Chars {
                lowercase,
                keep_whitespace: false,
            }
            .tokenize(text),
        }
    }
}

/// What `seq2seq.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    model: Seq2SeqConfig,
    segmenter: Segmenter,
    /// Tokens are further split into the subwords of `bpe.json`.
    #[serde(default)]
    subwords: bool,
    /// How outputs are searched for (runs saved before this field: the defaults).
    #[serde(default)]
    decode: DecodeSettings,
}

/// Everything but the weights that a saved encoder–decoder needs to translate raw text.
#[derive(Clone)]
pub struct SavedSeq2Seq<'a> {
    /// The model's shape.
    pub model: &'a Seq2SeqConfig,
    /// How raw text becomes tokens (both sides).
    pub segmenter: Segmenter,
    /// The subword encoding applied after the segmenter, if any.
    pub subwords: Option<&'a Subwords>,
    /// Both vocabularies.
    pub vocabularies: &'a PairVocabularies,
    /// The search settings a loaded model decodes with unless told otherwise.
    pub decode: &'a DecodeSettings,
}

/// Writes the description of a run (model config, segmenter, subword encoding if any, search
/// settings and both vocabularies) into `dir`, beside the trainer's checkpoints.
///
/// # Errors
/// Search settings out of range; write failures.
pub fn save_seq2seq(dir: &Path, saved: &SavedSeq2Seq<'_>) -> Result<()> {
    saved.decode.validate()?;
    let manifest = Manifest {
        model: saved.model.clone(),
        segmenter: saved.segmenter,
        subwords: saved.subwords.is_some(),
        decode: saved.decode.clone(),
    };
    if let Some(subwords) = saved.subwords {
        subwords.save(&dir.join(SUBWORDS))?;
    }
    saved.vocabularies.save(dir)?;
    kindling_core::atomic::write_json_atomic(&dir.join(MANIFEST), &manifest)?;
    Ok(())
}

/// One output of [`Translator::translate_nbest`].
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// The output's tokens separated by spaces (subwords joined back into words).
    pub text: String,
    /// Its log-probability under the model (`</s>` included when produced).
    pub log_probability: f64,
}

/// A trained encoder–decoder ready to translate raw text.
pub struct Translator {
    model: Seq2Seq,
    segmenter: Segmenter,
    subwords: Option<Subwords>,
    vocabularies: PairVocabularies,
    decode: DecodeSettings,
    device: Device,
}

impl Translator {
    /// Loads the run in `dir` onto `device`.
    ///
    /// # Errors
    /// Missing or unreadable files, a description that does not parse, a checkpoint that does
    /// not fit the model, or vocabularies without the special tokens decoding needs.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        kindling_core::train::ensure_finished(dir)?;
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| kindling_core::Error::io("reading", &path, e))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Manifest {
            path: path.clone(),
            problem: format!("not a seq2seq description: {e}"),
        })?;
        manifest.decode.validate().map_err(|e| Error::Manifest {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        manifest.model.validate().map_err(|e| Error::Manifest {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        let vocabularies = PairVocabularies::load(dir)?;
        let model = manifest.model.init(
            vocabularies.source().len(),
            vocabularies.target().len(),
            device,
        )?;
        let checkpoint: PathBuf = dir.join(files::BEST);
        let model = Checkpoint::load(&checkpoint)?.restore_model(model, &checkpoint)?;
        let subwords = if manifest.subwords {
            Some(Subwords::load(&dir.join(SUBWORDS))?)
        } else {
            None
        };
        Ok(Self {
            model,
            segmenter: manifest.segmenter,
            subwords,
            vocabularies,
            decode: manifest.decode,
            device: device.clone(),
        })
    }

    /// The model.
    pub fn model(&self) -> &Seq2Seq {
        &self.model
    }

    /// The search settings the run was saved with.
    pub fn decode_settings(&self) -> &DecodeSettings {
        &self.decode
    }

    /// Translates `texts` with the saved search settings: the best output of each, its tokens
    /// joined by spaces. Unknown source words become `<unk>`.
    ///
    /// # Errors
    /// As [`Translator::translate_nbest`].
    pub fn translate<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<String>> {
        let settings = DecodeSettings {
            nbest: 1,
            ..self.decode.clone()
        };
        Ok(self
            .translate_nbest(texts, &settings)?
            .into_iter()
            .map(|mut best| best.remove(0).text)
            .collect())
    }

    /// Translates `texts` with `settings`: the `settings.nbest` best outputs of each, best
    /// first. Inputs are decoded `settings.batch_size` at a time, sorted by length.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for settings out of range.
    pub fn translate_nbest<S: AsRef<str>>(
        &self,
        texts: &[S],
        settings: &DecodeSettings,
    ) -> Result<Vec<Vec<Translation>>> {
        let encoded: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.encode_source(t.as_ref()))
            .collect::<Result<_>>()?;
        self.decode(&encoded, settings)?
            .into_iter()
            .map(|outputs| {
                outputs
                    .into_iter()
                    .map(|h| {
                        Ok(Translation {
                            text: self.target_text(&h.tokens)?,
                            log_probability: h.log_probability,
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// Both vocabularies.
    pub fn vocabularies(&self) -> &PairVocabularies {
        &self.vocabularies
    }

    /// The source vocabulary.
    pub fn source_vocab(&self) -> &Vocab {
        self.vocabularies.source()
    }

    /// The target vocabulary.
    pub fn target_vocab(&self) -> &Vocab {
        self.vocabularies.target()
    }

    /// The model's units of `text`: the segmenter's tokens, split into subwords when the model
    /// uses them.
    ///
    /// # Errors
    /// A subword encoding that fails to apply.
    pub fn units(&self, text: &str) -> Result<Vec<String>> {
        let tokens = self.segmenter.tokens(text);
        match &self.subwords {
            Some(subwords) => subwords.split(&tokens),
            None => Ok(tokens),
        }
    }

    /// The target ids of `text` as the model was trained on them (no `<s>` or `</s>`).
    ///
    /// # Errors
    /// As [`Translator::units`].
    pub fn encode_target(&self, text: &str) -> Result<Vec<u32>> {
        self.vocabularies.encode_target(&self.units(text)?)
    }

    /// The source ids of `text`, ending with `</s>`.
    ///
    /// # Errors
    /// As [`Translator::units`].
    pub fn encode_source(&self, text: &str) -> Result<Vec<u32>> {
        self.vocabularies.encode_source(&self.units(text)?)
    }

    /// Decodes encoded sources (each ending with `</s>`) with `settings` (see [`decode`]).
    ///
    /// # Errors
    /// As [`decode`].
    pub fn decode(
        &self,
        sources: &[Vec<u32>],
        settings: &DecodeSettings,
    ) -> Result<Vec<Vec<Hypothesis>>> {
        decode(
            &self.model,
            &self.vocabularies,
            sources,
            settings,
            &self.device,
        )
    }

    /// Output ids as text, tokens (subwords joined back into words) separated by spaces.
    ///
    /// # Errors
    /// An id outside the target vocabulary.
    pub fn target_text(&self, ids: &[u32]) -> Result<String> {
        target_text(&self.vocabularies, ids, self.subwords.is_some())
    }
}

/// Output ids as text: the target tokens (special tokens dropped), subwords first joined back
/// into words when `subwords` is set, separated by spaces.
///
/// # Errors
/// An id outside the target vocabulary.
pub fn target_text(vocabularies: &PairVocabularies, ids: &[u32], subwords: bool) -> Result<String> {
    let tokens = vocabularies.decode_target(ids)?;
    Ok(if subwords {
        Subwords::join(&tokens).join(" ")
    } else {
        tokens.join(" ")
    })
}

/// Encoded sources as a padded batch.
pub fn batch_sources(sources: &[Vec<u32>], pad: u32, device: &Device) -> Sources {
    let padded = PaddedBatch::new(
        sources,
        &Padding {
            min_len: 1,
            ..Padding::new(pad)
        },
    );
    let [batch, len] = [padded.lengths.len(), padded.len];
    let padding: Vec<bool> = padded.mask.iter().map(|real| !real).collect();
    Sources {
        ids: Tensor::<2, Int>::from_data(TensorData::new(padded.ids.clone(), [batch, len]), device),
        padding: Tensor::<2, Bool>::from_data(TensorData::new(padding, [batch, len]), device),
        lengths: padded.lengths,
    }
}
