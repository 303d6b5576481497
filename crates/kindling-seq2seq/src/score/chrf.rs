//! Corpus chrF (Popović 2015) with sacreBLEU's defaults (chrF2): character n-grams of orders
//! 1–6 over each segment with its whitespace removed, statistics summed over the corpus, the
//! precision and recall averaged over the orders that occur, and their F-score with β = 2.

use std::collections::HashMap;

use super::check_pairs;
use crate::Result;

/// Highest character n-gram order.
const ORDER: usize = 6;
/// Recall weighs β² = 4 times as much as precision.
const BETA: f64 = 2.0;

/// A corpus chrF score with its statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct ChrfScore {
    /// chrF in percent (0–100).
    pub score: f64,
    /// Per order 1–6: hypothesis n-grams (counted only where the reference has n-grams of
    /// that order), reference n-grams, and matched n-grams.
    pub statistics: [[u64; 3]; ORDER],
}

/// Corpus chrF of `hypotheses` against one reference each, as `sacrebleu.corpus_chrf(hyps,
/// [refs])` computes it by default.
///
/// # Errors
/// [`crate::Error::Mismatch`] when the counts differ.
pub fn corpus_chrf<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
) -> Result<ChrfScore> {
    check_pairs(hypotheses.len(), references.len())?;
    let mut statistics = [[0u64; 3]; ORDER];
    for (hypothesis, reference) in hypotheses.iter().zip(references) {
        let hypothesis = without_whitespace(hypothesis.as_ref());
        let reference = without_whitespace(reference.as_ref());
        for n in 1..=ORDER {
            let hypothesis_counts = char_ngrams(&hypothesis, n);
            let reference_counts = char_ngrams(&reference, n);
            let mut hypothesis_total = 0;
            let mut matched = 0;
            for (ngram, &count) in &hypothesis_counts {
                hypothesis_total += count;
                matched += count.min(reference_counts.get(ngram).copied().unwrap_or(0));
            }
            let stats = &mut statistics[n - 1];
            if !reference_counts.is_empty() {
                stats[0] += hypothesis_total;
            }
            stats[1] += reference_counts.values().sum::<u64>();
            stats[2] += matched;
        }
    }
    Ok(ChrfScore {
        score: f_score(&statistics),
        statistics,
    })
}

/// sacreBLEU's `_compute_f_score` without epsilon smoothing.
fn f_score(statistics: &[[u64; 3]; ORDER]) -> f64 {
    let factor = BETA * BETA;
    let (mut precision, mut recall, mut orders) = (0.0, 0.0, 0usize);
    for &[hypothesis, reference, matched] in statistics {
        if hypothesis > 0 && reference > 0 {
            precision += matched as f64 / hypothesis as f64;
            recall += matched as f64 / reference as f64;
            orders += 1;
        }
    }
    if orders == 0 {
        return 0.0;
    }
    precision /= orders as f64;
    recall /= orders as f64;
    if precision + recall == 0.0 {
        return 0.0;
    }
    100.0 * (1.0 + factor) * precision * recall / (factor * precision + recall)
}

fn without_whitespace(text: &str) -> Vec<char> {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn char_ngrams(chars: &[char], n: usize) -> HashMap<&[char], u64> {
    let mut counts = HashMap::new();
    for ngram in chars.windows(n) {
        *counts.entry(ngram).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_text_scores_100_and_disjoint_text_0() {
        let text = ["a cat", "on the mat"];
        assert!((corpus_chrf(&text, &text).unwrap().score - 100.0).abs() < 1e-9);
        assert_eq!(corpus_chrf(&["xyz"], &["abc"]).unwrap().score, 0.0);
        assert_eq!(corpus_chrf(&[""], &[""]).unwrap().score, 0.0);
    }

    #[test]
    fn whitespace_does_not_count() {
        let spaced = corpus_chrf(&["a b c d"], &["abcd"]).unwrap();
        assert!((spaced.score - 100.0).abs() < 1e-9);
    }
}
