//! Trained encoder–decoders saved beside their checkpoints and loaded back to translate: a run
//! directory holds `seq2seq.json` (the model config and how text is split into tokens),
//! `source_vocab.txt`, `target_vocab.txt`, the trainer's `best.ckpt` and, for a subword model,
//! `bpe.json`.

use std::path::{Path, PathBuf};

use kindling_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use kindling_core::checkpoint::Checkpoint;
use kindling_core::train::files;
use kindling_data::batch::{PaddedBatch, Padding};
use kindling_data::tokenize::{Chars, Tokenizer, Words};
use kindling_data::{OnUnknown, Vocab};
use serde::{Deserialize, Serialize};

use crate::search::{Hypothesis, SearchConfig, Sources, beam_search, greedy};
use crate::subword::Subwords;
use crate::{Error, Result, Seq2Seq, Seq2SeqConfig};

/// The description of a saved model.
const MANIFEST: &str = "seq2seq.json";
const SOURCE_VOCAB: &str = "source_vocab.txt";
const TARGET_VOCAB: &str = "target_vocab.txt";
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
}

/// Writes the description of a run (model config, segmenter, subword encoding if any and both
/// vocabularies) into `dir`, beside the trainer's checkpoints.
///
/// # Errors
/// Write failures.
pub fn save_seq2seq(
    dir: &Path,
    model: &Seq2SeqConfig,
    segmenter: Segmenter,
    subwords: Option<&Subwords>,
    source_vocab: &Vocab,
    target_vocab: &Vocab,
) -> Result<()> {
    let manifest = Manifest {
        model: model.clone(),
        segmenter,
        subwords: subwords.is_some(),
    };
    if let Some(subwords) = subwords {
        subwords.save(&dir.join(SUBWORDS))?;
    }
    kindling_core::atomic::write_json_atomic(&dir.join(MANIFEST), &manifest)?;
    source_vocab.save(&dir.join(SOURCE_VOCAB))?;
    target_vocab.save(&dir.join(TARGET_VOCAB))?;
    Ok(())
}

/// A trained encoder–decoder ready to translate raw text.
pub struct Translator {
    model: Seq2Seq,
    segmenter: Segmenter,
    subwords: Option<Subwords>,
    source_vocab: Vocab,
    target_vocab: Vocab,
    device: Device,
}

impl Translator {
    /// Loads the run in `dir` onto `device`.
    ///
    /// # Errors
    /// Missing or unreadable files, a description that does not parse, a checkpoint that does
    /// not fit the model, or vocabularies without the special tokens decoding needs.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| kindling_core::Error::io("reading", &path, e))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Manifest {
            path: path.clone(),
            problem: format!("not a seq2seq description: {e}"),
        })?;
        let source_vocab = Vocab::load(&dir.join(SOURCE_VOCAB))?;
        let target_vocab = Vocab::load(&dir.join(TARGET_VOCAB))?;
        for (vocab, file) in [(&source_vocab, SOURCE_VOCAB), (&target_vocab, TARGET_VOCAB)] {
            if vocab.pad_id().is_none() || vocab.eos_id().is_none() || vocab.unk_id().is_none() {
                return Err(Error::Manifest {
                    path: dir.join(file),
                    problem: "needs <pad>, <unk> and </s> tokens".into(),
                });
            }
        }
        if target_vocab.bos_id().is_none() {
            return Err(Error::Manifest {
                path: dir.join(TARGET_VOCAB),
                problem: "needs a <s> token".into(),
            });
        }
        let model = manifest
            .model
            .init(source_vocab.len(), target_vocab.len(), device)?;
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
            source_vocab,
            target_vocab,
            device: device.clone(),
        })
    }

    /// The model.
    pub fn model(&self) -> &Seq2Seq {
        &self.model
    }

    /// Translates `texts`: each output's tokens joined by spaces, greedy search for a `beam`
    /// of `None`, else beam search of that width. Unknown source words become `<unk>`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a beam of 0.
    pub fn translate<S: AsRef<str>>(
        &self,
        texts: &[S],
        beam: Option<usize>,
    ) -> Result<Vec<String>> {
        let encoded: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.encode_source(t.as_ref()))
            .collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(texts.len());
        for chunk in encoded.chunks(64) {
            for hypothesis in self.decode(chunk, beam)? {
                out.push(self.target_text(&hypothesis.tokens)?);
            }
        }
        Ok(out)
    }

    /// The source vocabulary.
    pub fn source_vocab(&self) -> &Vocab {
        &self.source_vocab
    }

    /// The target vocabulary.
    pub fn target_vocab(&self) -> &Vocab {
        &self.target_vocab
    }

    /// The target ids of `text` as the model was trained on them (no `<s>` or `</s>`).
    ///
    /// # Errors
    /// Vocabulary errors (none in practice: unknown tokens map to `<unk>`).
    pub fn encode_target(&self, text: &str) -> Result<Vec<u32>> {
        let mut tokens = self.segmenter.tokens(text);
        if let Some(subwords) = &self.subwords {
            tokens = subwords.split(&tokens)?;
        }
        Ok(self.target_vocab.encode(&tokens, OnUnknown::MapToUnk)?)
    }

    /// The source ids of `text`, ending with `</s>`.
    ///
    /// # Errors
    /// Vocabulary errors (none in practice: unknown tokens map to `<unk>`).
    pub fn encode_source(&self, text: &str) -> Result<Vec<u32>> {
        let mut tokens = self.segmenter.tokens(text);
        if let Some(subwords) = &self.subwords {
            tokens = subwords.split(&tokens)?;
        }
        let mut ids = self.source_vocab.encode(&tokens, OnUnknown::MapToUnk)?;
        ids.push(self.source_vocab.eos_id().expect("checked on load"));
        Ok(ids)
    }

    /// Decodes encoded sources (each ending with `</s>`).
    ///
    /// # Errors
    /// As [`Translator::translate`].
    pub fn decode(&self, sources: &[Vec<u32>], beam: Option<usize>) -> Result<Vec<Hypothesis>> {
        let sources = batch_sources(
            sources,
            self.source_vocab.pad_id().expect("checked"),
            &self.device,
        );
        let search = SearchConfig::new(
            self.target_vocab.bos_id().expect("checked on load"),
            self.target_vocab.eos_id().expect("checked on load"),
        );
        match beam {
            None => greedy(&self.model, &sources, &search),
            Some(width) => beam_search(&self.model, &sources, &search, width),
        }
    }

    /// Output ids as text, tokens (subwords joined back into words) separated by spaces.
    ///
    /// # Errors
    /// An id outside the target vocabulary.
    pub fn target_text(&self, ids: &[u32]) -> Result<String> {
        let tokens = self.target_vocab.decode(ids, true)?;
        Ok(match self.subwords {
            Some(_) => Subwords::join(&tokens).join(" "),
            None => tokens.join(" "),
        })
    }
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
