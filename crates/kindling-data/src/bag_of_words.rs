//! Bag-of-words document features: a vocabulary of the words found in enough training
//! documents, and per document `log(1 + count)` of each, L2-normalised.

use std::collections::HashMap;

/// Words found in at least `min_count` training documents, each with its feature index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagOfWords {
    index: HashMap<String, usize>,
}

impl BagOfWords {
    /// The vocabulary of `documents` (each a sequence of words): words in at least `min_count`
    /// of them, ordered by document frequency (descending), then alphabetically.
    pub fn fit<D, W>(documents: impl IntoIterator<Item = D>, min_count: usize) -> Self
    where
        D: IntoIterator<Item = W>,
        W: AsRef<str>,
    {
        let mut doc_freq: HashMap<String, usize> = HashMap::new();
        for document in documents {
            let mut seen: Vec<String> = document
                .into_iter()
                .map(|w| w.as_ref().to_string())
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                *doc_freq.entry(w).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = doc_freq
            .into_iter()
            .filter(|&(_, n)| n >= min_count)
            .collect();
        words.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let index = words
            .into_iter()
            .enumerate()
            .map(|(i, (w, _))| (w, i))
            .collect();
        Self { index }
    }

    /// The number of features (vocabulary words).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no word made the vocabulary.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// `word`'s feature index, if it is in the vocabulary.
    pub fn index(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// `log(1 + count)` of each vocabulary word in `words`, L2-normalised (all zeros when none
    /// is in the vocabulary).
    pub fn features<W: AsRef<str>>(&self, words: impl IntoIterator<Item = W>) -> Vec<f32> {
        let mut counts = vec![0f32; self.len()];
        for w in words {
            if let Some(i) = self.index(w.as_ref()) {
                counts[i] += 1.0;
            }
        }
        let mut norm = 0f32;
        for c in &mut counts {
            *c = c.ln_1p();
            norm += *c * *c;
        }
        let norm = norm.sqrt().max(f32::MIN_POSITIVE);
        counts.iter_mut().for_each(|c| *c /= norm);
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_orders_by_document_frequency_and_features_are_normalised() {
        let docs = [vec!["x", "y", "y"], vec!["y", "z"], vec!["x", "y"]];
        let bag = BagOfWords::fit(&docs, 2);
        assert_eq!(bag.len(), 2);
        assert_eq!(bag.index("y"), Some(0));
        assert_eq!(bag.index("x"), Some(1));
        assert_eq!(bag.index("z"), None);
        let f = bag.features(&docs[0]);
        let expected_y = 3f32.ln() / (3f32.ln().powi(2) + 2f32.ln().powi(2)).sqrt();
        assert!((f[0] - expected_y).abs() < 1e-6);
        assert_eq!(bag.features(["unseen"]), vec![0.0, 0.0]);
    }
}
