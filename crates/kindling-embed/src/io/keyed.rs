//! Word vectors from any file kindling reads, with vectors for unknown words when the file is a
//! subword model: what gensim's `KeyedVectors.load_word2vec_format` and
//! `load_facebook_vectors` give, behind one type.

use std::borrow::Cow;
use std::path::Path;

use super::fasttext_bin::{read_fasttext_model, write_fasttext_model};
use super::format::{VectorFormat, read_head, read_vectors, write_vectors};
use crate::query::{Neighbour, Similarity};
use crate::subword::SubwordModel;
use crate::vectors::WordVectors;
use crate::word2vec::Word2Vec;
use crate::{Error, Result};

/// The magic bytes of kindling's own embedding model files.
const KINDLING_MODEL: &[u8; 8] = b"KNDLEMBD";

/// The words of a vector file or model, and the subword model when there is one.
pub struct KeyedVectors {
    vectors: WordVectors,
    model: Option<SubwordModel>,
}

impl KeyedVectors {
    /// Reads `path` in whatever format it is: a fastText model file (`.bin` of `fasttext
    /// skipgram|cbow`), a kindling subword or word2vec model file, or a vector file (word2vec
    /// text or binary, GloVe, `.vec`; gzip too). Formats are told by content where they can be
    /// (see [`VectorFormat::detect`]).
    ///
    /// # Errors
    /// As the reader of the format found.
    pub fn load(path: &Path) -> Result<Self> {
        let mut head = [0u8; 8];
        let read = read_head(path, &mut head)?;
        if head[..read] == KINDLING_MODEL[..] {
            return match SubwordModel::load(path) {
                Ok(model) => Ok(Self::from_model(model)),
                Err(subword) => match Word2Vec::load(path) {
                    Ok(model) => Ok(Self::from_vectors(model.vectors())),
                    Err(_) => Err(subword),
                },
            };
        }
        match VectorFormat::detect(path)? {
            VectorFormat::FastTextModel => Ok(Self::from_model(read_fasttext_model(path)?)),
            format => Ok(Self::from_vectors(read_vectors(path, format, None)?)),
        }
    }

    /// Vectors without a subword model: unknown words have none.
    pub fn from_vectors(vectors: WordVectors) -> Self {
        Self {
            vectors,
            model: None,
        }
    }

    /// A subword model's word vectors; unknown words get vectors from their n-grams.
    pub fn from_model(model: SubwordModel) -> Self {
        Self {
            vectors: model.vectors(),
            model: Some(model),
        }
    }

    /// The vectors of the vocabulary's words.
    pub fn vectors(&self) -> &WordVectors {
        &self.vectors
    }

    /// The subword model, when the file held one.
    pub fn model(&self) -> Option<&SubwordModel> {
        self.model.as_ref()
    }

    /// The vector of `word`: its row for a vocabulary word; from its n-grams for another word
    /// when there is a subword model (as `fasttext print-word-vectors` gives it: zeros for a
    /// word without known n-grams).
    ///
    /// # Errors
    /// [`Error::UnknownWord`] for a word outside the vocabulary without a subword model.
    pub fn word_vector(&self, word: &str) -> Result<Cow<'_, [f32]>> {
        match (self.vectors.get(word), &self.model) {
            (Some(row), _) => Ok(Cow::Borrowed(row)),
            (None, Some(model)) => Ok(Cow::Owned(model.word_vector(word))),
            (None, None) => Err(Error::UnknownWord(word.to_string())),
        }
    }

    /// The `k` vocabulary words nearest to `word` (cosine) under `similarity` (built over
    /// [`KeyedVectors::vectors`]), the word itself excluded; an unknown word is looked up by
    /// its n-gram vector when there is a subword model, as `fasttext nn` does.
    ///
    /// # Errors
    /// As [`KeyedVectors::word_vector`].
    pub fn nearest(&self, similarity: &Similarity, word: &str, k: usize) -> Result<Vec<Neighbour>> {
        if self.vectors.get(word).is_some() {
            return similarity.nearest(word, k);
        }
        let vector = self.word_vector(word)?;
        let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        let unit: Vec<f32> = vector
            .iter()
            .map(|v| v / norm.max(f32::MIN_POSITIVE))
            .collect();
        similarity.nearest_to_vector(&unit, k, &[])
    }

    /// Writes the vectors to `path` in `format`; [`VectorFormat::FastTextModel`] writes the
    /// whole subword model as a fastText model file.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a fastText model file without a subword model; as
    /// [`write_vectors`] and [`write_fasttext_model`].
    pub fn write(&self, path: &Path, format: VectorFormat) -> Result<()> {
        match (format, &self.model) {
            (VectorFormat::FastTextModel, Some(model)) => write_fasttext_model(model, path),
            (VectorFormat::FastTextModel, None) => Err(Error::Invalid {
                what: "format",
                problem: format!(
                    "{}: a fastText model file needs a subword model (a fastText `.bin` or a kindling subword model), not vectors alone",
                    path.display()
                ),
            }),
            (format, _) => write_vectors(&self.vectors, path, format),
        }
    }
}
