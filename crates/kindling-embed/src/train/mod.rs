//! Training word vectors.
//!
//! - [`word2vec`]: skip-gram and CBOW with negative sampling and/or hierarchical softmax.
//! - [`subword`]: fastText-style subword skip-gram over hashed character n-grams.
//! - [`glove`]: GloVe over co-occurrences counted in bounded memory.
//!
//! The engine behind them: `driver` (what word2vec and subword models share: training,
//! training further, saving and loading), `trainer` (the shallow network and the threads streaming the
//! corpus), `shared_matrix` (weights shared between threads, rows behind striped spin locks), `huffman` and
//! `sampling` (hierarchical softmax, negatives and subsampling) and `cooccur` (GloVe's
//! counting).

mod cooccur;
mod driver;
pub mod glove;
// The one module with unsafe code: rows of weights shared by training threads, each behind
// its own lock, and a prefetch hint.
mod huffman;
mod sampling;
#[allow(unsafe_code)]
mod shared_matrix;
pub mod subword;
mod trainer;
pub mod word2vec;

/// The largest starting learning rate the shallow trainers take: far above any published
/// setting (word2vec 0.025–0.05, fastText 0.05–1.0), low enough that the updates stay finite.
pub const MAX_ALPHA: f64 = 10.0;

/// What is wrong with the learning rates and subsampling threshold of a word2vec or subword
/// config, if anything: `0 < alpha <= MAX_ALPHA`, `0 <= min_alpha <= alpha`, `0 <= sample < 1`,
/// all finite.
fn rates_problem(alpha: f64, min_alpha: f64, sample: f64) -> Option<String> {
    if !(alpha > 0.0 && alpha <= MAX_ALPHA) {
        return Some(format!("alpha must be in (0, {MAX_ALPHA}], got {alpha}"));
    }
    if !(0.0..=alpha).contains(&min_alpha) {
        return Some(format!(
            "min_alpha must be in [0, alpha = {alpha}], got {min_alpha}"
        ));
    }
    if !(0.0..1.0).contains(&sample) {
        return Some(format!("sample must be in [0, 1), got {sample}"));
    }
    None
}
