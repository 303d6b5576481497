//! A table of word vectors: words in file (usually frequency) order and one row-major matrix.

use std::collections::HashMap;

use crate::{Error, Result};

/// Words and their vectors.
///
/// A word that appears twice keeps its first row for lookups (later rows stay in the matrix, so
/// row numbers match the file).
#[derive(Debug, Clone, PartialEq)]
pub struct WordVectors {
    words: Vec<String>,
    index: HashMap<String, u32>,
    dim: usize,
    data: Vec<f32>,
}

impl WordVectors {
    /// Vectors of dimension `dim`, `data` holding `words.len() × dim` values row by row.
    ///
    /// # Errors
    /// [`Error::Dimension`] when `data` does not hold exactly one row per word, or `dim` is 0;
    /// [`Error::Invalid`] naming the word, row and component of a NaN or infinite value.
    pub fn new(words: Vec<String>, dim: usize, data: Vec<f32>) -> Result<Self> {
        check_shape(&words, dim, &data)?;
        if let Some(at) = data.iter().position(|v| !v.is_finite()) {
            let row = at / dim;
            return Err(Error::Invalid {
                what: "word vectors",
                problem: format!(
                    "`{}` (row {}) has the non-finite value {} (component {})",
                    words[row],
                    row + 1,
                    data[at],
                    at % dim + 1
                ),
            });
        }
        Ok(Self::from_checked(words, dim, data))
    }

    /// Vectors computed by training: the shape must fit, but diverged (non-finite) values are
    /// kept, so that a model can always hand out what it holds.
    ///
    /// # Errors
    /// [`Error::Dimension`] as [`WordVectors::new`].
    pub(crate) fn from_training(words: Vec<String>, dim: usize, data: Vec<f32>) -> Result<Self> {
        check_shape(&words, dim, &data)?;
        Ok(Self::from_checked(words, dim, data))
    }

    fn from_checked(words: Vec<String>, dim: usize, data: Vec<f32>) -> Self {
        let mut index = HashMap::with_capacity(words.len());
        for (i, word) in words.iter().enumerate() {
            index.entry(word.clone()).or_insert(i as u32);
        }
        Self {
            words,
            index,
            dim,
            data,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Vector length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The words in row order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// All values, row-major `[len, dim]`.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Row of `word`.
    pub fn index(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// Row `i`.
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The vector of `word`.
    pub fn get(&self, word: &str) -> Option<&[f32]> {
        self.index(word).map(|i| self.row(i as usize))
    }

    /// The vector of `word`.
    ///
    /// # Errors
    /// [`Error::UnknownWord`].
    pub fn vector(&self, word: &str) -> Result<&[f32]> {
        self.get(word)
            .ok_or_else(|| Error::UnknownWord(word.to_string()))
    }

    /// The first `n` rows only.
    pub fn truncated(mut self, n: usize) -> Self {
        if n < self.len() {
            for word in self.words.drain(n..) {
                if self.index.get(&word).is_some_and(|&i| i as usize >= n) {
                    self.index.remove(&word);
                }
            }
            self.data.truncate(n * self.dim);
        }
        self
    }

    /// The standard deviation of all components together (0 for no vectors).
    pub fn component_std(&self) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        let n = self.data.len() as f64;
        let mean = self.data.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let variance = self
            .data
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        variance.sqrt()
    }

    /// A copy with every component multiplied by one factor, chosen so that the components'
    /// standard deviation becomes `std` (vectors that are all zeros are returned unchanged).
    pub fn scaled_to_std(&self, std: f64) -> Self {
        let current = self.component_std();
        if current == 0.0 {
            return self.clone();
        }
        let factor = (std / current) as f32;
        let mut scaled = self.clone();
        scaled.data.iter_mut().for_each(|v| *v *= factor);
        scaled
    }

    /// A copy with every row scaled to unit length (all-zero rows stay zero).
    pub fn normalized(&self) -> Self {
        let mut normalized = self.clone();
        for row in normalized.data.chunks_exact_mut(self.dim) {
            let norm = row
                .iter()
                .map(|x| f64::from(*x).powi(2))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                let scale = (1.0 / norm) as f32;
                row.iter_mut().for_each(|x| *x *= scale);
            }
        }
        normalized
    }
}

/// An error unless `data` holds exactly `words.len()` rows of `dim > 0` values.
fn check_shape(words: &[String], dim: usize, data: &[f32]) -> Result<()> {
    let expected = words.len().checked_mul(dim).ok_or(Error::Invalid {
        what: "word vectors",
        problem: format!("{} words of dimension {dim} are too many", words.len()),
    })?;
    if dim == 0 || data.len() != expected {
        return Err(Error::Dimension {
            expected: words.len().saturating_mul(dim.max(1)),
            found: data.len(),
        });
    }
    Ok(())
}

/// Cosine similarity of two vectors (0 when either is all zeros).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        dot / (aa.sqrt() * bb.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescaling_reaches_the_requested_spread() {
        // Mean 0.5, standard deviation 1.
        let vectors =
            WordVectors::new(vec!["x".into(), "y".into()], 2, vec![1.5, -0.5, 1.5, -0.5]).unwrap();
        assert!((vectors.component_std() - 1.0).abs() < 1e-12);
        let scaled = vectors.scaled_to_std(0.25);
        assert_eq!(scaled.data(), &[0.375, -0.125, 0.375, -0.125]);
        assert_eq!(scaled.words(), vectors.words());
        let zeros = WordVectors::new(vec!["z".into()], 2, vec![0.0, 0.0]).unwrap();
        assert_eq!(zeros.scaled_to_std(0.25), zeros);
    }

    fn sample() -> WordVectors {
        WordVectors::new(
            vec!["a".into(), "b".into(), "a".into()],
            2,
            vec![3.0, 4.0, 0.0, 0.0, 1.0, 1.0],
        )
        .unwrap()
    }

    #[test]
    fn lookups_keep_the_first_duplicate() {
        let v = sample();
        assert_eq!(v.get("a"), Some(&[3.0, 4.0][..]));
        assert_eq!(v.index("b"), Some(1));
        assert!(v.vector("zz").is_err());
        assert!(WordVectors::new(vec!["a".into()], 2, vec![1.0]).is_err());
    }

    #[test]
    fn non_finite_values_and_impossible_shapes_are_errors() {
        let words = || vec!["a".to_string(), "b".to_string()];
        for (bad, shown) in [
            (f32::NAN, "NaN"),
            (f32::INFINITY, "inf"),
            (f32::NEG_INFINITY, "-inf"),
        ] {
            let err = WordVectors::new(words(), 2, vec![1.0, 2.0, 3.0, bad])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!(
                    "`b` (row 2) has the non-finite value {shown} (component 2)"
                )),
                "{err}"
            );
        }
        let err = WordVectors::new(words(), usize::MAX, vec![])
            .unwrap_err()
            .to_string();
        assert!(err.contains("too many"), "{err}");
        let err = WordVectors::new(words(), 0, vec![]).unwrap_err();
        assert!(matches!(err, Error::Dimension { .. }), "{err}");
        // What training produced is handed out as it is.
        let trained = WordVectors::from_training(words(), 1, vec![f32::NAN, 1.0]).unwrap();
        assert!(trained.data()[0].is_nan());
    }

    #[test]
    fn normalizing_keeps_zero_rows_and_truncating_drops_lookups() {
        let n = sample().normalized();
        assert_eq!(n.row(0), [0.6, 0.8]);
        assert_eq!(n.row(1), [0.0, 0.0]);
        let t = sample().truncated(1);
        assert_eq!((t.len(), t.index("b"), t.index("a")), (1, None, Some(0)));
    }

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]) - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }
}
