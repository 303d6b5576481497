//! Evaluation metrics: accuracy, macro-F1, confusion matrix, perplexity and mean loss.
//!
//! Metrics are computed on the host from predictions and counts that models report per batch
//! (see [`crate::train::Outcome`]); they are accumulated over an epoch with [`Accumulator`].

use serde::{Deserialize, Serialize};

/// A square matrix of counts: `counts[gold][predicted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    n_classes: usize,
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix over `n_classes` classes.
    pub fn new(n_classes: usize) -> Self {
        Self {
            n_classes,
            counts: vec![0; n_classes * n_classes],
        }
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Records one (gold, predicted) pair, growing the matrix when a class index is new.
    pub fn add(&mut self, gold: usize, predicted: usize) {
        let needed = gold.max(predicted) + 1;
        if needed > self.n_classes {
            self.grow(needed);
        }
        self.counts[gold * self.n_classes + predicted] += 1;
    }

    /// Records many pairs.
    pub fn extend(&mut self, gold: &[u32], predicted: &[u32]) {
        for (&g, &p) in gold.iter().zip(predicted) {
            self.add(g as usize, p as usize);
        }
    }

    fn grow(&mut self, n: usize) {
        let mut grown = Self::new(n);
        for g in 0..self.n_classes {
            for p in 0..self.n_classes {
                grown.counts[g * n + p] = self.get(g, p);
            }
        }
        *self = grown;
    }

    /// How often class `gold` was predicted as `predicted`.
    pub fn get(&self, gold: usize, predicted: usize) -> u64 {
        self.counts[gold * self.n_classes + predicted]
    }

    /// Total number of recorded pairs.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Fraction of pairs on the diagonal; 0 when empty.
    pub fn accuracy(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let correct: u64 = (0..self.n_classes).map(|c| self.get(c, c)).sum();
        correct as f64 / total as f64
    }

    /// Unweighted mean of per-class F1 over the classes that occur as gold or prediction.
    ///
    /// A class with no true positives scores 0, as in scikit-learn's `f1_score(average="macro")`
    /// restricted to the labels present.
    pub fn macro_f1(&self) -> f64 {
        let mut sum = 0.0;
        let mut classes = 0;
        for c in 0..self.n_classes {
            let tp = self.get(c, c) as f64;
            let gold: u64 = (0..self.n_classes).map(|p| self.get(c, p)).sum();
            let predicted: u64 = (0..self.n_classes).map(|g| self.get(g, c)).sum();
            if gold == 0 && predicted == 0 {
                continue;
            }
            classes += 1;
            let denominator = (gold + predicted) as f64;
            sum += 2.0 * tp / denominator;
        }
        if classes == 0 {
            0.0
        } else {
            sum / classes as f64
        }
    }

    /// Rows of counts, gold class by gold class.
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.counts
            .chunks(self.n_classes.max(1))
            .map(<[u64]>::to_vec)
            .collect()
    }
}

/// Fraction of `predicted` equal to `gold`.
pub fn accuracy(gold: &[u32], predicted: &[u32]) -> f64 {
    if gold.is_empty() {
        return 0.0;
    }
    let correct = gold.iter().zip(predicted).filter(|(g, p)| g == p).count();
    correct as f64 / gold.len() as f64
}

/// Macro-averaged F1 of `predicted` against `gold`.
pub fn macro_f1(gold: &[u32], predicted: &[u32]) -> f64 {
    let mut matrix = ConfusionMatrix::new(0);
    matrix.extend(gold, predicted);
    matrix.macro_f1()
}

/// Token-weighted perplexity: `exp(total negative log-likelihood / tokens)`.
pub fn perplexity(total_nll: f64, tokens: u64) -> f64 {
    if tokens == 0 {
        return f64::NAN;
    }
    (total_nll / tokens as f64).exp()
}

/// Accumulates loss and outcomes over the batches of an epoch.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    loss_sum: f64,
    examples: u64,
    confusion: Option<ConfusionMatrix>,
    nll_sum: f64,
    tokens: u64,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a batch: its mean loss, its number of examples and what the model reported.
    pub fn add(&mut self, mean_loss: f64, examples: usize, outcome: &crate::train::Outcome) {
        self.loss_sum += mean_loss * examples as f64;
        self.examples += examples as u64;
        match outcome {
            crate::train::Outcome::Classes { gold, predicted } => self
                .confusion
                .get_or_insert_with(|| ConfusionMatrix::new(0))
                .extend(gold, predicted),
            crate::train::Outcome::Tokens { nll_sum, tokens } => {
                self.nll_sum += nll_sum;
                self.tokens += tokens;
            }
            crate::train::Outcome::LossOnly => {}
        }
    }

    /// Examples seen.
    pub fn examples(&self) -> u64 {
        self.examples
    }

    /// Example-weighted mean loss.
    pub fn mean_loss(&self) -> f64 {
        if self.examples == 0 {
            f64::NAN
        } else {
            self.loss_sum / self.examples as f64
        }
    }

    /// The confusion matrix, when the model reported classes.
    pub fn confusion(&self) -> Option<&ConfusionMatrix> {
        self.confusion.as_ref()
    }

    /// The named metrics this accumulator can compute: always `loss`; `accuracy` and `macro_f1`
    /// for classifiers; `perplexity` for token-level models.
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let mut out = vec![("loss", self.mean_loss())];
        if let Some(confusion) = &self.confusion {
            out.push(("accuracy", confusion.accuracy()));
            out.push(("macro_f1", confusion.macro_f1()));
        }
        if self.tokens > 0 {
            out.push(("perplexity", perplexity(self.nll_sum, self.tokens)));
        }
        out
    }

    /// One metric, if this accumulator reports it.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        self.metrics()
            .into_iter()
            .find(|(n, _)| *n == metric.name())
            .map(|(_, v)| v)
    }
}

/// A metric that picks the best epoch (`monitor` in a training config): one that
/// [`Accumulator::metrics`] reports. A misspelt name is an error when the config is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// The mean loss (every model).
    #[default]
    Loss,
    /// The share of correct predictions (classifiers, taggers).
    Accuracy,
    /// The unweighted mean of the per-class F1 scores (classifiers, taggers).
    MacroF1,
    /// `exp` of the mean negative log-likelihood per token (language models, seq2seq).
    Perplexity,
}

impl Metric {
    /// Its name, as in logs and metrics files (`accuracy`, `macro_f1`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::Accuracy => "accuracy",
            Self::MacroF1 => "macro_f1",
            Self::Perplexity => "perplexity",
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Mean and sample standard deviation of `values` (sd 0 for a single value), as seed and fold
/// summaries report them.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_matches() {
        assert_eq!(accuracy(&[0, 1, 1, 2], &[0, 1, 0, 2]), 0.75);
        assert_eq!(accuracy(&[], &[]), 0.0);
    }

    #[test]
    fn macro_f1_matches_scikit_learn() {
        // sklearn.metrics.f1_score([0,0,1,1,2,2], [0,1,1,1,2,0], average="macro") = 0.6555…
        let f1 = macro_f1(&[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 2, 0]);
        assert!((f1 - 0.655_555_555_6).abs() < 1e-9, "{f1}");
        assert_eq!(macro_f1(&[1, 1], &[1, 1]), 1.0);
    }

    #[test]
    fn confusion_matrix_rows_and_growth() {
        let mut m = ConfusionMatrix::new(2);
        m.add(0, 0);
        m.add(0, 1);
        m.add(3, 3);
        assert_eq!(m.n_classes(), 4);
        assert_eq!(m.rows()[0], vec![1, 1, 0, 0]);
        assert_eq!(m.get(3, 3), 1);
        assert_eq!(m.total(), 3);
    }

    #[test]
    fn perplexity_is_token_weighted() {
        // Two batches: 10 tokens at nll 1.0 each, 30 tokens at nll 2.0 each.
        let ppl = perplexity(10.0 * 1.0 + 30.0 * 2.0, 40);
        assert!((ppl - (70.0f64 / 40.0).exp()).abs() < 1e-12);
        let mut acc = Accumulator::new();
        acc.add(
            1.0,
            1,
            &crate::train::Outcome::Tokens {
                nll_sum: 10.0,
                tokens: 10,
            },
        );
        acc.add(
            2.0,
            1,
            &crate::train::Outcome::Tokens {
                nll_sum: 60.0,
                tokens: 30,
            },
        );
        assert!((acc.metric(Metric::Perplexity).unwrap() - ppl).abs() < 1e-12);
    }

    #[test]
    fn mean_loss_is_example_weighted() {
        let mut acc = Accumulator::new();
        let none = crate::train::Outcome::LossOnly;
        acc.add(1.0, 1, &none);
        acc.add(4.0, 3, &none);
        assert_eq!(acc.mean_loss(), 13.0 / 4.0);
        assert_eq!(acc.examples(), 4);
    }
}
