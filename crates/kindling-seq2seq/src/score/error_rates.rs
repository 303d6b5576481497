//! Word and phoneme error rates of sequence predictions such as a grapheme-to-phoneme model's
//! pronunciations.

use super::check_pairs;
use crate::Result;

/// How far predicted sequences are from the references.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorRates {
    /// Share of sequences not predicted exactly (word error rate, for G2P), 0–1.
    pub sequence_error_rate: f64,
    /// Edit distance summed over the sequences, divided by the reference tokens (phoneme
    /// error rate, for G2P), 0 upwards (insertions can take it past 1).
    pub token_error_rate: f64,
    /// Sequences compared.
    pub sequences: usize,
    /// Tokens in the references.
    pub reference_tokens: usize,
}

/// The error rates of `predictions` against one reference each.
///
/// # Errors
/// [`crate::Error::Mismatch`] when the counts differ, or there are no reference tokens.
pub fn error_rates<T: PartialEq, P: AsRef<[T]>, R: AsRef<[T]>>(
    predictions: &[P],
    references: &[R],
) -> Result<ErrorRates> {
    check_pairs(predictions.len(), references.len())?;
    let (mut wrong, mut edits, mut tokens) = (0usize, 0usize, 0usize);
    for (prediction, reference) in predictions.iter().zip(references) {
        let distance = edit_distance(prediction.as_ref(), reference.as_ref());
        wrong += usize::from(distance > 0);
        edits += distance;
        tokens += reference.as_ref().len();
    }
    if tokens == 0 {
        return Err(crate::Error::Mismatch {
            what: "references",
            problem: "no reference tokens to compare with".into(),
        });
    }
    Ok(ErrorRates {
        sequence_error_rate: wrong as f64 / predictions.len() as f64,
        token_error_rate: edits as f64 / tokens as f64,
        sequences: predictions.len(),
        reference_tokens: tokens,
    })
}

/// The error rates of `predictions` when each may match any of several references, the usual
/// way to score words with more than one dictionary pronunciation: each prediction is
/// compared with its nearest reference (the first of equally near ones), so a word is right
/// when it matches any of them.
///
/// # Errors
/// [`crate::Error::Mismatch`] when the counts differ, a prediction has no references, or
/// there are no reference tokens.
pub fn error_rates_against_any<T, P, A, R>(
    predictions: &[P],
    references: &[A],
) -> Result<ErrorRates>
where
    T: PartialEq,
    P: AsRef<[T]>,
    A: AsRef<[R]>,
    R: AsRef<[T]>,
{
    check_pairs(predictions.len(), references.len())?;
    let nearest = predictions
        .iter()
        .zip(references)
        .enumerate()
        .map(|(i, (prediction, choices))| {
            choices
                .as_ref()
                .iter()
                .map(AsRef::as_ref)
                .min_by_key(|reference| edit_distance(prediction.as_ref(), reference))
                .ok_or_else(|| crate::Error::Mismatch {
                    what: "references",
                    problem: format!("prediction {} has no reference", i + 1),
                })
        })
        .collect::<Result<Vec<&[T]>>>()?;
    error_rates(predictions, &nearest)
}

/// The Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a`
/// into `b`.
///
/// ```
/// use kindling_seq2seq::score::edit_distance;
/// assert_eq!(edit_distance(&["K", "AE1", "T"], &["K", "AH0", "T", "S"]), 2);
/// ```
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(x != y);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_of_hand_made_pairs() {
        let d = |a: &str, b: &str| {
            edit_distance(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("flaw", "lawn"), 2);
        assert_eq!(d("same", "same"), 0);
    }

    #[test]
    fn word_and_phoneme_error_rates() {
        // "cat" right; "dog" one substitution in three phonemes; "eat" one deletion of two.
        let predicted = [vec!["K", "AE1", "T"], vec!["D", "AA1", "K"], vec!["IY1"]];
        let reference = [
            vec!["K", "AE1", "T"],
            vec!["D", "AO1", "G"],
            vec!["IY1", "T"],
        ];
        let rates = error_rates(&predicted, &reference).unwrap();
        assert!((rates.sequence_error_rate - 2.0 / 3.0).abs() < 1e-12);
        // 0 + 2 + 1 edits over 3 + 3 + 2 reference phonemes.
        assert!((rates.token_error_rate - 3.0 / 8.0).abs() < 1e-12);
        assert_eq!((rates.sequences, rates.reference_tokens), (3, 8));
        assert!(error_rates(&predicted, &reference[..2]).is_err());
        let empty: [Vec<&str>; 1] = [vec![]];
        assert!(error_rates(&empty, &empty).is_err());
    }

    #[test]
    fn each_prediction_is_scored_against_its_nearest_reference() {
        // "either": right by its second pronunciation; "route": one substitution from the
        // second (4 phonemes), two from the first (3 phonemes).
        let predicted = [vec!["AY1", "DH", "ER0"], vec!["R", "AW1", "T", "S"]];
        let references = [
            vec![vec!["IY1", "DH", "ER0"], vec!["AY1", "DH", "ER0"]],
            vec![vec!["R", "UW1", "T"], vec!["R", "AW1", "T", "Z"]],
        ];
        let rates = error_rates_against_any(&predicted, &references).unwrap();
        assert!((rates.sequence_error_rate - 0.5).abs() < 1e-12);
        assert_eq!(rates.reference_tokens, 3 + 4);
        assert!((rates.token_error_rate - 1.0 / 7.0).abs() < 1e-12);
        // Equally near references: the first one counts.
        let tie = error_rates_against_any(
            &[vec!["A", "B"]],
            &[vec![vec!["A", "C"], vec!["A", "B", "D"]]],
        )
        .unwrap();
        assert_eq!(tie.reference_tokens, 2);
        // A single reference each: the same as `error_rates`.
        let single: Vec<Vec<Vec<&str>>> = references.iter().map(|r| vec![r[0].clone()]).collect();
        let firsts: Vec<Vec<&str>> = references.iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            error_rates_against_any(&predicted, &single).unwrap(),
            error_rates(&predicted, &firsts).unwrap()
        );
        let none: [Vec<Vec<&str>>; 2] = [vec![], vec![vec!["R"]]];
        assert!(error_rates_against_any(&predicted, &none).is_err());
        assert!(error_rates_against_any(&predicted, &references[..1]).is_err());
    }
}
