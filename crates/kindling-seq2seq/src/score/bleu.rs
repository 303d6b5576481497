//! Corpus BLEU (Papineni et al. 2002) with sacreBLEU's defaults: the `13a` tokenizer of
//! mteval-v13a.pl, case kept, n-grams up to 4 clipped by the reference, the exponential
//! brevity penalty over the whole corpus, and the `exp` smoothing of orders without a match.

use std::collections::HashMap;

use super::check_pairs;
use crate::Result;

/// Highest n-gram order.
const ORDER: usize = 4;

/// A corpus BLEU score with its sufficient statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuScore {
    /// BLEU in percent (0–100).
    pub score: f64,
    /// Matched (clipped) n-grams of each order 1–4.
    pub matches: [u64; ORDER],
    /// Hypothesis n-grams of each order.
    pub totals: [u64; ORDER],
    /// n-gram precisions in percent, after smoothing.
    pub precisions: [f64; ORDER],
    /// `exp(1 − ref/hyp)` when the hypotheses are shorter than the references, else 1.
    pub brevity_penalty: f64,
    /// Tokens in all hypotheses.
    pub hypothesis_length: u64,
    /// Tokens in all references.
    pub reference_length: u64,
}

/// Corpus BLEU of `hypotheses` against one reference each, as `sacrebleu.corpus_bleu(hyps,
/// [refs])` computes it by default.
///
/// # Errors
/// [`crate::Error::Mismatch`] when the counts differ.
pub fn corpus_bleu<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
) -> Result<BleuScore> {
    check_pairs(hypotheses.len(), references.len())?;
    let mut matches = [0u64; ORDER];
    let mut totals = [0u64; ORDER];
    let (mut hypothesis_length, mut reference_length) = (0u64, 0u64);
    for (hypothesis, reference) in hypotheses.iter().zip(references) {
        let hypothesis = tokenize_13a(hypothesis.as_ref());
        let reference = tokenize_13a(reference.as_ref());
        hypothesis_length += hypothesis.len() as u64;
        reference_length += reference.len() as u64;
        for n in 1..=ORDER {
            let reference_counts = ngram_counts(&reference, n);
            for (ngram, count) in ngram_counts(&hypothesis, n) {
                totals[n - 1] += count;
                matches[n - 1] += count.min(reference_counts.get(&ngram).copied().unwrap_or(0));
            }
        }
    }
    Ok(score(matches, totals, hypothesis_length, reference_length))
}

/// BLEU from the statistics (sacreBLEU's `compute_bleu` with `smooth_method = "exp"`).
fn score(
    matches: [u64; ORDER],
    totals: [u64; ORDER],
    hypothesis_length: u64,
    reference_length: u64,
) -> BleuScore {
    let brevity_penalty = if hypothesis_length < reference_length {
        if hypothesis_length > 0 {
            (1.0 - reference_length as f64 / hypothesis_length as f64).exp()
        } else {
            0.0
        }
    } else {
        1.0
    };
    let mut precisions = [0.0; ORDER];
    let mut result = BleuScore {
        score: 0.0,
        matches,
        totals,
        precisions,
        brevity_penalty,
        hypothesis_length,
        reference_length,
    };
    if matches.iter().all(|&m| m == 0) {
        return result;
    }
    let mut smoothing = 1.0;
    for n in 0..ORDER {
        if totals[n] == 0 {
            break;
        }
        precisions[n] = if matches[n] == 0 {
            smoothing *= 2.0;
            100.0 / (smoothing * totals[n] as f64)
        } else {
            100.0 * matches[n] as f64 / totals[n] as f64
        };
    }
    // sacreBLEU floors log(0) at −9999999999, which makes the score 0 in practice.
    let log = |p: f64| if p == 0.0 { -9_999_999_999.0 } else { p.ln() };
    let mean_log = precisions.iter().map(|&p| log(p)).sum::<f64>() / ORDER as f64;
    result.precisions = precisions;
    result.score = brevity_penalty * mean_log.exp();
    result
}

fn ngram_counts(tokens: &[String], n: usize) -> HashMap<&[String], u64> {
    let mut counts = HashMap::new();
    for ngram in tokens.windows(n) {
        *counts.entry(ngram).or_insert(0) += 1;
    }
    counts
}

/// The `13a` tokenization of mteval-v13a.pl as sacreBLEU implements it: HTML entities for
/// quotes, ampersands and angle brackets decoded, most ASCII punctuation split off, periods
/// and commas split off unless between digits, a dash split off after a digit.
///
/// ```
/// use kindling_seq2seq::score::tokenize_13a;
/// assert_eq!(tokenize_13a("It's 3.5 km (2.2 mi), 1990-91."),
///            ["It's", "3.5", "km", "(", "2.2", "mi", ")", ",", "1990", "-", "91", "."]);
/// ```
pub fn tokenize_13a(line: &str) -> Vec<String> {
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let mut spaced = String::with_capacity(line.len() * 2);
    spaced.push(' ');
    for c in line.chars() {
        if is_split_punctuation(c) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    spaced.push(' ');
    let digit = |c: char| c.is_ascii_digit();
    let period_or_comma = |c: char| c == '.' || c == ',';
    // `([^0-9])([\.,])` → `\1 \2 `
    let spaced = replace_pairs(
        &spaced,
        |a| !digit(a),
        period_or_comma,
        |a, b, out| {
            out.extend([a, ' ', b, ' ']);
        },
    );
    // `([\.,])([^0-9])` → ` \1 \2`
    let spaced = replace_pairs(
        &spaced,
        period_or_comma,
        |b| !digit(b),
        |a, b, out| {
            out.extend([' ', a, ' ', b]);
        },
    );
    // `([0-9])(-)` → `\1 \2 `
    let spaced = replace_pairs(
        &spaced,
        digit,
        |b| b == '-',
        |a, b, out| {
            out.extend([a, ' ', b, ' ']);
        },
    );
    spaced.split_whitespace().map(str::to_string).collect()
}

/// The first regular expression's class `[\{-\~\[-\` -\&\(-\+\:-\@\/]`.
fn is_split_punctuation(c: char) -> bool {
    matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/')
}

/// Python's `re.sub` of a two-character pattern: scanning left to right, each non-overlapping
/// pair `(a, b)` with `first(a)` and `second(b)` is replaced by what `replace` writes.
fn replace_pairs(
    text: &str,
    first: impl Fn(char) -> bool,
    second: impl Fn(char) -> bool,
    replace: impl Fn(char, char, &mut String),
) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut i = 0;
    while i < chars.len() {
        if i + 1 < chars.len() && first(chars[i]) && second(chars[i + 1]) {
            replace(chars[i], chars[i + 1], &mut out);
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_text_scores_100_and_nothing_in_common_scores_0() {
        let text = ["the cat sat on the mat .", "a dog runs in the park"];
        let bleu = corpus_bleu(&text, &text).unwrap();
        assert!((bleu.score - 100.0).abs() < 1e-9, "{bleu:?}");
        let bleu = corpus_bleu(&["x y z"], &["a b c"]).unwrap();
        assert_eq!(bleu.score, 0.0);
        assert!(corpus_bleu(&["a"], &["a", "b"]).is_err());
    }

    #[test]
    fn tokenization_follows_the_regular_expressions_pair_by_pair() {
        assert_eq!(tokenize_13a("a,b.c"), ["a", ",", "b", ".", "c"]);
        assert_eq!(
            tokenize_13a("1,000.5 x.5 5."),
            ["1,000.5", "x", ".", "5", "5", "."]
        );
        assert_eq!(
            tokenize_13a("&quot;hi&quot; &amp; <b>"),
            ["\"", "hi", "\"", "&", "<", "b", ">"]
        );
        assert_eq!(
            tokenize_13a("well-known 3-4"),
            ["well-known", "3", "-", "4"]
        );
        assert!(tokenize_13a("  ").is_empty());
    }
}
