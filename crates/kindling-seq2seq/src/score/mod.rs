//! Scoring generated sequences against references: corpus BLEU and chrF exactly as sacreBLEU's
//! defaults compute them, and the word and phoneme error rates of grapheme-to-phoneme models.
//!
//! Every function takes one reference per hypothesis (or, for
//! [`error_rates_against_any`], one list of references), in the same order; a different number
//! of each is an [`Error::Mismatch`](crate::Error::Mismatch).

mod bleu;
mod chrf;
mod error_rates;

pub use bleu::{BleuScore, corpus_bleu, tokenize_13a};
pub use chrf::{ChrfScore, corpus_chrf};
pub use error_rates::{ErrorRates, edit_distance, error_rates, error_rates_against_any};

/// Checks that there is one reference per hypothesis.
fn check_pairs(hypotheses: usize, references: usize) -> crate::Result<()> {
    if hypotheses == references {
        Ok(())
    } else {
        Err(crate::Error::Mismatch {
            what: "hypotheses and references",
            problem: format!("{hypotheses} hypotheses but {references} references"),
        })
    }
}
