//! Intrinsic evaluation of word vectors, with gensim's protocols so that numbers compare:
//!
//! - [`evaluate_analogies`] is `KeyedVectors.evaluate_word_analogies`: only the first
//!   `restrict_vocab` (30,000) words are candidates and only questions made of them are asked
//!   (the rest are counted as skipped); words are compared upper-cased; a question's own words
//!   are never the answer; accuracy per section, semantic (sections not starting with `gram`),
//!   syntactic and total.
//! - [`evaluate_word_pairs`] is `KeyedVectors.evaluate_word_pairs`: cosine similarity against
//!   human scores, Spearman ρ (average ranks for ties) and Pearson r, pairs with a word outside
//!   the first `restrict_vocab` (300,000) words counted as out of vocabulary.

use std::collections::HashMap;
use std::time::Instant;

use kindling_core::burn::tensor::Device;
use kindling_data::read::evaluation::{AnalogySection, WordPair};

use crate::Result;
use crate::query::{AnalogyMethod, Similarity};
use crate::vectors::{WordVectors, cosine};

/// Settings of [`evaluate_analogies`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalogyConfig {
    /// Candidates and question words come from the first this many words.
    pub restrict_vocab: usize,
    /// Compare words upper-cased (gensim's default).
    pub case_insensitive: bool,
    /// 3CosAdd (gensim's `most_similar`) or 3CosMul.
    pub method: AnalogyMethod,
    /// Questions per matrix product.
    pub batch: usize,
}

impl Default for AnalogyConfig {
    fn default() -> Self {
        Self {
            restrict_vocab: 300_000,
            case_insensitive: true,
            method: AnalogyMethod::CosAdd,
            batch: 64,
        }
    }
}

/// Correct and incorrect answers in one section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionScore {
    /// Section name (`capital-common-countries`, `gram1-adjective-to-adverb`, …).
    pub name: String,
    /// Questions answered correctly.
    pub correct: usize,
    /// Questions answered wrongly.
    pub incorrect: usize,
}

impl SectionScore {
    /// True for the syntactic (`gram…`) sections of the Google set.
    pub fn is_syntactic(&self) -> bool {
        self.name.starts_with("gram")
    }
}

/// The outcome of [`evaluate_analogies`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnalogyReport {
    /// Per section, in file order.
    pub sections: Vec<SectionScore>,
    /// Questions not asked because a word is outside the restricted vocabulary.
    pub skipped: usize,
    /// Wall-clock seconds of the evaluation.
    pub seconds: f64,
}

impl AnalogyReport {
    fn accuracy(&self, keep: impl Fn(&SectionScore) -> bool) -> Option<f64> {
        let (correct, asked) = self
            .sections
            .iter()
            .filter(|s| keep(s))
            .fold((0, 0), |(c, a), s| {
                (c + s.correct, a + s.correct + s.incorrect)
            });
        (asked > 0).then(|| correct as f64 / asked as f64)
    }

    /// Accuracy over every question asked.
    pub fn total(&self) -> Option<f64> {
        self.accuracy(|_| true)
    }

    /// Accuracy over the semantic sections.
    pub fn semantic(&self) -> Option<f64> {
        self.accuracy(|s| !s.is_syntactic())
    }

    /// Accuracy over the syntactic sections.
    pub fn syntactic(&self) -> Option<f64> {
        self.accuracy(SectionScore::is_syntactic)
    }

    /// Questions asked.
    pub fn asked(&self) -> usize {
        self.sections.iter().map(|s| s.correct + s.incorrect).sum()
    }
}

/// `word` as it is compared: upper-cased when case-insensitive (gensim's convention).
fn comparison_key(word: &str, case_insensitive: bool) -> String {
    if case_insensitive {
        word.to_uppercase()
    } else {
        word.to_string()
    }
}

/// The first `limit` words, keyed as compared (upper-cased when case-insensitive), each key
/// mapped to its first row.
fn restricted_keys(
    vectors: &WordVectors,
    limit: usize,
    case_insensitive: bool,
) -> HashMap<String, u32> {
    let key = |w: &str| comparison_key(w, case_insensitive);
    let mut keys = HashMap::new();
    for (i, word) in vectors.words().iter().enumerate().take(limit) {
        keys.entry(key(word)).or_insert(i as u32);
    }
    keys
}

/// Answers the analogy questions as gensim's `evaluate_word_analogies` does (see the
/// [module docs](self)).
///
/// # Errors
/// Errors of the underlying queries (none for well-formed input).
pub fn evaluate_analogies(
    vectors: &WordVectors,
    sections: &[AnalogySection],
    config: &AnalogyConfig,
    device: &Device,
) -> Result<AnalogyReport> {
    let started = Instant::now();
    let restricted = vectors.clone().truncated(config.restrict_vocab);
    let keys = restricted_keys(&restricted, config.restrict_vocab, config.case_insensitive);
    let key = |w: &str| comparison_key(w, config.case_insensitive);

    let mut asked: Vec<(usize, [u32; 3], [String; 4])> = Vec::new();
    let mut skipped = 0;
    for (s, section) in sections.iter().enumerate() {
        for question in &section.questions {
            let upper = question.clone().map(|w| key(&w));
            match [&upper[0], &upper[1], &upper[2], &upper[3]].map(|w| keys.get(w.as_str())) {
                [Some(&a), Some(&b), Some(&c), Some(_)] => asked.push((s, [a, b, c], upper)),
                _ => skipped += 1,
            }
        }
    }

    let similarity = Similarity::new(&restricted, device);
    let triples: Vec<[u32; 3]> = asked.iter().map(|(_, t, _)| *t).collect();
    let ranked = similarity.rank_analogies(&triples, config.method, 5, config.batch)?;

    let mut scores: Vec<SectionScore> = sections
        .iter()
        .map(|s| SectionScore {
            name: s.name.clone(),
            correct: 0,
            incorrect: 0,
        })
        .collect();
    for ((section, _, words), candidates) in asked.iter().zip(&ranked) {
        let ignore = &words[..3];
        let mut predicted = None;
        for &row in candidates {
            let candidate = key(&restricted.words()[row as usize]);
            let usable = keys.contains_key(&candidate) && !ignore.contains(&candidate);
            predicted = Some(candidate);
            if usable {
                break;
            }
        }
        if predicted.as_deref() == Some(words[3].as_str()) {
            scores[*section].correct += 1;
        } else {
            scores[*section].incorrect += 1;
        }
    }
    Ok(AnalogyReport {
        sections: scores,
        skipped,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The outcome of [`evaluate_word_pairs`].
#[derive(Debug, Clone, PartialEq)]
pub struct PairReport {
    /// Pairs scored.
    pub pairs: usize,
    /// Pairs left out because a word is not in the restricted vocabulary.
    pub oov: usize,
    /// Spearman's ρ between human scores and cosine similarities.
    pub spearman: f64,
    /// Pearson's r between the same.
    pub pearson: f64,
}

/// Scores word pairs as gensim's `evaluate_word_pairs` does (see the [module docs](self)).
pub fn evaluate_word_pairs(
    vectors: &WordVectors,
    pairs: &[WordPair],
    restrict_vocab: usize,
    case_insensitive: bool,
) -> PairReport {
    let keys = restricted_keys(vectors, restrict_vocab, case_insensitive);
    let key = |w: &str| comparison_key(w, case_insensitive);
    let (mut gold, mut model) = (Vec::new(), Vec::new());
    let mut oov = 0;
    for pair in pairs {
        match (keys.get(&key(&pair.first)), keys.get(&key(&pair.second))) {
            (Some(&a), Some(&b)) => {
                gold.push(pair.score);
                model.push(cosine(vectors.row(a as usize), vectors.row(b as usize)));
            }
            _ => oov += 1,
        }
    }
    PairReport {
        pairs: gold.len(),
        oov,
        spearman: pearson(&ranks(&gold), &ranks(&model)),
        pearson: pearson(&gold, &model),
    }
}

/// 1-based ranks, ties sharing their average rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let average = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = average;
        }
        start = end;
    }
    ranks
}

/// Pearson's correlation coefficient (NaN for fewer than two points or a constant series).
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> Device {
        kindling_core::BackendKind::Flex.device().unwrap()
    }

    fn vectors() -> WordVectors {
        // Axes: male (+) / female (−), royal, young. "Apple" is the rare 7th word.
        let words = ["man", "woman", "king", "queen", "boy", "girl", "Apple"]
            .map(String::from)
            .to_vec();
        #[rustfmt::skip]
        let data = vec![
            1.0, 0.0, 0.0,   -1.0, 0.0, 0.0,   1.0, 1.0, 0.0,   -1.0, 1.0, 0.0,
            1.0, 0.0, 1.0,   -1.0, 0.0, 1.0,   0.0, 0.0, -1.0,
        ];
        WordVectors::new(words, 3, data).unwrap()
    }

    fn section(name: &str, questions: &[[&str; 4]]) -> AnalogySection {
        AnalogySection {
            name: name.into(),
            questions: questions.iter().map(|q| q.map(String::from)).collect(),
        }
    }

    #[test]
    fn analogy_protocol_counts_sections_skips_and_case() {
        let sections = [
            section(
                "family",
                &[
                    ["MAN", "king", "woman", "queen"],
                    ["man", "boy", "woman", "girl"],
                    ["man", "woman", "king", "apple"],
                ],
            ),
            section(
                "gram-plural",
                &[
                    ["king", "queen", "man", "woman"],
                    ["man", "woman", "boy", "king"],
                    ["man", "king", "woman", "prince"],
                ],
            ),
        ];
        let report = evaluate_analogies(
            &vectors(),
            &sections,
            &AnalogyConfig {
                restrict_vocab: 6,
                ..Default::default()
            },
            &device(),
        )
        .unwrap();
        // "apple" is 7th (outside the 6 allowed) and "prince" unknown: two skipped.
        assert_eq!(report.skipped, 2);
        assert_eq!(report.asked(), 4);
        // king − man + woman → queen (1.414 against girl's .914); boy − man + woman → girl.
        assert_eq!(
            (report.sections[0].correct, report.sections[0].incorrect),
            (2, 0)
        );
        // queen − king + man → woman (right); woman − man + boy → girl, not king (wrong).
        assert_eq!(
            (report.sections[1].correct, report.sections[1].incorrect),
            (1, 1)
        );
        assert_eq!(report.total(), Some(0.75));
        assert_eq!(report.semantic(), Some(1.0));
        assert_eq!(report.syntactic(), Some(0.5));
    }

    #[test]
    fn word_pairs_use_cosine_and_average_ranks() {
        let pairs: Vec<WordPair> = [
            ("man", "king", 8.0),
            ("man", "woman", 2.0),
            ("king", "queen", 8.0),
            ("MAN", "Prince", 5.0),
        ]
        .iter()
        .enumerate()
        .map(|(i, &(a, b, s))| WordPair {
            first: a.into(),
            second: b.into(),
            score: s,
            line: i + 1,
        })
        .collect();
        let report = evaluate_word_pairs(&vectors(), &pairs, 300_000, true);
        assert_eq!((report.pairs, report.oov), (3, 1));
        // Cosines: man-king .707, man-woman −1, king-queen 0 → ranks 3,1,2; gold ranks 2.5,1,2.5.
        let expected = pearson(&[2.5, 1.0, 2.5], &[3.0, 1.0, 2.0]);
        assert!((report.spearman - expected).abs() < 1e-12);
        assert!((expected - 0.866_025_4).abs() < 1e-6);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
    }
}
