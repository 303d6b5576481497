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
