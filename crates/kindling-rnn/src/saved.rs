//! Trained taggers and language models saved beside their checkpoints, and loaded back for
//! inference: a run directory holds `model.json` (what to build, how raw text becomes its
//! tokens, and the tag names), `vocab.txt` and the trainer's `best.ckpt`.

use std::path::Path;

use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::checkpoint::Checkpoint;
use kindling_core::seed::SeededRng;
use kindling_core::train::{evaluate, files};
use kindling_data::bptt::{BpttBatcher, bptt_windows};
use kindling_data::{OnUnknown, Vocab};
use serde::{Deserialize, Serialize};

use crate::{Error, LanguageModel, LanguageModelConfig, Result, Tagger, TaggerConfig};

/// The description of a saved model.
const MANIFEST: &str = "model.json";
/// Its vocabulary.
const VOCAB: &str = "vocab.txt";

/// How raw text becomes a model's tokens: words split at whitespace, or characters (a run of
/// whitespace read as one [`SPACE`]), optionally lowercased. Saved with the model, so a loaded
/// model prepares text the way its training data was prepared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextPreparation {
    /// Lowercase every token.
    #[serde(default)]
    pub lowercase: bool,
    /// One token per character instead of per word.
    #[serde(default)]
    pub characters: bool,
}

/// The token of a run of whitespace in a character model.
pub const SPACE: &str = "▁";

impl TextPreparation {
    /// Words, optionally lowercased.
    pub fn words(lowercase: bool) -> Self {
        Self {
            lowercase,
            characters: false,
        }
    }

    /// Characters, optionally lowercased.
    pub fn characters(lowercase: bool) -> Self {
        Self {
            lowercase,
            characters: true,
        }
    }

    /// The tokens of `text`.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        if !self.characters {
            return text.split_whitespace().map(|t| self.token(t)).collect();
        }
        let mut tokens = Vec::new();
        for (i, word) in text.split_whitespace().enumerate() {
            if i > 0 {
                tokens.push(SPACE.to_string());
            }
            tokens.extend(self.token(word).chars().map(String::from));
        }
        tokens
    }

    /// One word as the model saw it.
    pub fn token(&self, token: &str) -> String {
        if self.lowercase {
            token.to_lowercase()
        } else {
            token.to_string()
        }
    }

    /// Tokens back into text: words separated by spaces, or characters joined with [`SPACE`]
    /// read as a space.
    pub fn join<S: AsRef<str>>(&self, tokens: &[S]) -> String {
        if !self.characters {
            let words: Vec<&str> = tokens.iter().map(AsRef::as_ref).collect();
            return words.join(" ");
        }
        tokens
            .iter()
            .map(|t| if t.as_ref() == SPACE { " " } else { t.as_ref() })
            .collect()
    }
}

/// What `model.json` holds (runs saved before `text` existed read as unprepared text).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum Manifest {
    Tagger {
        model: TaggerConfig,
        tags: Vec<String>,
        #[serde(default)]
        text: TextPreparation,
    },
    LanguageModel {
        model: LanguageModelConfig,
        #[serde(default)]
        text: TextPreparation,
    },
}

fn save(dir: &Path, manifest: &Manifest, vocab: &Vocab) -> Result<()> {
    kindling_core::atomic::write_json_atomic(&dir.join(MANIFEST), manifest)?;
    vocab.save(&dir.join(VOCAB))?;
    Ok(())
}

/// Reads `model.json` and `vocab.txt` of `dir`.
fn load(dir: &Path) -> Result<(Manifest, Vocab)> {
    kindling_core::train::ensure_finished(dir)?;
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

/// Writes the description of a tagger run (its config, text preparation, tag names and
/// vocabulary) into `dir`, beside the trainer's checkpoints.
///
/// # Errors
/// Write failures.
pub fn save_tagger(
    dir: &Path,
    model: &TaggerConfig,
    text: TextPreparation,
    tags: &[String],
    vocab: &Vocab,
) -> Result<()> {
    let manifest = Manifest::Tagger {
        model: model.clone(),
        tags: tags.to_vec(),
        text,
    };
    save(dir, &manifest, vocab)
}

/// Sentences [`SavedTagger::tag`] puts in one padded batch.
pub const TAG_BATCH: usize = 256;

/// A trained tagger ready to tag tokenised sentences.
pub struct SavedTagger {
    model: Tagger,
    tags: Vec<String>,
    vocab: Vocab,
    text: TextPreparation,
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
        let Manifest::Tagger { model, tags, text } = manifest else {
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
            text,
            device: device.clone(),
        })
    }

    /// How the tagger prepares raw text.
    pub fn text_preparation(&self) -> TextPreparation {
        self.text
    }

    /// Tags raw sentences: each split at whitespace and prepared as the training data was;
    /// returns every sentence's `(word, tag)` pairs with the words as given.
    ///
    /// # Errors
    /// As [`SavedTagger::tag`].
    pub fn tag_text<S: AsRef<str>>(&self, sentences: &[S]) -> Result<Vec<Vec<(String, String)>>> {
        let words: Vec<Vec<&str>> = sentences
            .iter()
            .map(|s| s.as_ref().split_whitespace().collect())
            .collect();
        let prepared: Vec<Vec<String>> = words
            .iter()
            .map(|s| s.iter().map(|w| self.text.token(w)).collect())
            .collect();
        Ok(words
            .iter()
            .zip(self.tag(&prepared)?)
            .map(|(words, tags)| words.iter().map(|w| w.to_string()).zip(tags).collect())
            .collect())
    }

    /// The tag of every word of every sentence (unknown words read as `<unk>`; an empty
    /// sentence gets no tags), [`TAG_BATCH`] sentences at a time, so that any number of
    /// sentences takes bounded memory.
    ///
    /// # Errors
    /// None in practice: the vocabulary has `<unk>` and `<pad>`.
    pub fn tag<S: AsRef<str>>(&self, sentences: &[Vec<S>]) -> Result<Vec<Vec<String>>> {
        let mut tagged = Vec::with_capacity(sentences.len());
        for chunk in sentences.chunks(TAG_BATCH) {
            tagged.extend(self.tag_batch(chunk)?);
        }
        Ok(tagged)
    }

    /// [`SavedTagger::tag`] for one padded batch.
    fn tag_batch<S: AsRef<str>>(&self, sentences: &[Vec<S>]) -> Result<Vec<Vec<String>>> {
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
pub fn save_language_model(
    dir: &Path,
    model: &LanguageModelConfig,
    text: TextPreparation,
    vocab: &Vocab,
) -> Result<()> {
    save(
        dir,
        &Manifest::LanguageModel {
            model: model.clone(),
            text,
        },
        vocab,
    )
}

/// A trained language model ready to continue text.
pub struct SavedLanguageModel {
    model: LanguageModel,
    vocab: Vocab,
    text: TextPreparation,
}

impl SavedLanguageModel {
    /// Loads the language model saved in run directory `dir` onto `device`.
    ///
    /// # Errors
    /// Missing or malformed `model.json`, `vocab.txt` or `best.ckpt`, or a run of another
    /// kind.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (manifest, vocab) = load(dir)?;
        let Manifest::LanguageModel { model, text } = manifest else {
            return Err(wrong_kind(dir, "language model"));
        };
        let model = restore(dir, model.init(vocab.len(), device)?)?;
        Ok(Self { model, vocab, text })
    }

    /// How the model prepares raw text.
    pub fn text_preparation(&self) -> TextPreparation {
        self.text
    }

    /// The perplexity of raw text, one sentence (or paragraph) per line, as the run measured
    /// its dev and test splits: lines prepared as the training text was, `<eos>` after each
    /// (when the vocabulary has it), unknown words read as `<unk>`, the whole text one stream
    /// read in windows of `bptt` steps with the state carried across them; `exp` of the mean
    /// negative log-likelihood per token, `<eos>` included.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for text too short for one step (fewer than two tokens) or a
    /// `bptt` of 0.
    pub fn perplexity<S: AsRef<str>>(&self, lines: &[S], bptt: usize) -> Result<f64> {
        if bptt == 0 {
            return Err(Error::input("bptt", "must be at least 1"));
        }
        let eos = self.vocab.eos_id();
        let mut stream = Vec::new();
        for line in lines {
            let tokens = self.text.tokens(line.as_ref());
            if tokens.is_empty() {
                continue;
            }
            stream.extend(self.vocab.encode(&tokens, OnUnknown::MapToUnk)?);
            stream.extend(eos);
        }
        let windows = bptt_windows(&stream, 1, bptt);
        if windows.is_empty() {
            return Err(Error::input(
                "text",
                format!("has {} tokens; at least 2 are needed", stream.len()),
            ));
        }
        let device = self
            .model
            .devices()
            .into_iter()
            .next()
            .expect("a model has parameters on a device");
        let seen = evaluate(&self.model, &BpttBatcher, &windows, 64, &device)?;
        Ok(seen
            .metric(kindling_core::metrics::Metric::Perplexity)
            .expect("a language model reports perplexity"))
    }

    /// Continues the raw text `prompt`, prepared as the training data was; an empty prompt
    /// starts a new sentence (from `<eos>` when the vocabulary has it). Returns the prompt's
    /// tokens followed by `words` sampled ones at most, end-of-sentence tokens left out (join
    /// them into text with [`TextPreparation::join`]).
    ///
    /// # Errors
    /// As [`SavedLanguageModel::generate`]; an empty prompt for a vocabulary without `<eos>`.
    pub fn continue_text(
        &self,
        prompt: &str,
        words: usize,
        temperature: f64,
        seed: u64,
    ) -> Result<Vec<String>> {
        let eos = self
            .vocab
            .eos_id()
            .and_then(|id| self.vocab.token(id))
            .map(str::to_string);
        let mut tokens = self.text.tokens(prompt);
        if tokens.is_empty()
            && let Some(eos) = &eos
        {
            tokens.push(eos.clone());
        }
        let sampled = self.generate(&tokens, words, temperature, seed)?;
        Ok(tokens
            .into_iter()
            .chain(sampled)
            .filter(|t| Some(t) != eos.as_ref())
            .collect())
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
