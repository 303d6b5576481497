//! kindling-rnn: recurrent layers — Elman RNN, LSTM and GRU — as cells with a per-step API
//! (for decoders) and as whole-sequence layers built for speed (for encoders, taggers and
//! language models).
//!
//! Each pairs a config with burn's shape — `XxxConfig::new(d_input, d_hidden)`, `with_*`
//! setters, `validate()`, `init(&device)` — and invalid settings or inputs are [`Error`]s,
//! never panics. Gate orders and weight layouts follow PyTorch (LSTM `i, f, g, o`; GRU
//! `r, z, n`; `h' = (1 − z) ⊙ n + z ⊙ h`), transposed to burn's `[d_in, d_out]`, so trained
//! PyTorch weights map 1:1.
//!
//! - [`rnn_cell`], [`lstm_cell`], [`gru_cell`]: the cells.
//! - [`rnn`], [`lstm`], [`gru`]: batch-first sequence layers — stacked, bidirectional,
//!   dropout between layers, optional initial state, masking by per-sequence lengths.
//! - [`init`]: Xavier-uniform input weights, orthogonal or identity recurrent weights, zero
//!   biases and the LSTM's forget-gate bias of 1.
//! - [`sequence`]: how the sequence layers run (the fused input projection, masking and the
//!   per-sequence reversal of the backward direction).
//! - [`encoder`]: any of the three layers chosen by name, as the models' configs give it.
//! - Models that train with [`kindling_core::train::Trainer`]: [`classifier`] (sentence
//!   classification with last, mean or max pooling), [`tagger`] (a softmax over tags at every
//!   token), [`language_model`] (a stacked LSTM language model with truncated BPTT) and
//!   [`regressor`] (real-valued sequences to numbers, with the adding problem);
//!   [`tagging`]: tagged sentences as a tagger's examples; [`streams`]: text as a language model's id streams; [`saved`]: a trained tagger or language model loaded back from its run directory.

pub mod classifier;
pub mod encoder;
mod error;
#[cfg(feature = "flex")]
mod fused_lstm;
pub mod gru;
pub mod gru_cell;
pub mod init;
pub mod language_model;
pub mod lstm;
pub mod lstm_cell;
pub mod regressor;
pub mod rnn;
pub mod rnn_cell;
pub mod saved;
pub mod sequence;
pub mod streams;
pub mod tagger;
pub mod tagging;
mod word_input;

pub use classifier::{Pooling, RnnClassifier, RnnClassifierConfig};
pub use encoder::{Cell, CellKind, Encoded, Encoder, EncoderConfig};
pub use error::{Error, Result};
pub use gru::{Gru, GruConfig};
pub use gru_cell::{GruCell, GruCellConfig, GruReset};
pub use language_model::{LanguageModel, LanguageModelConfig, LstmInit};
pub use lstm::{Lstm, LstmConfig, LstmStates};
pub use lstm_cell::{LstmCell, LstmCellConfig, LstmState};
pub use rnn::{Rnn, RnnConfig};
pub use rnn_cell::{RnnActivation, RnnCell, RnnCellConfig};
pub use tagger::{Tagger, TaggerConfig};

#[cfg(all(test, feature = "flex"))]
mod model_tests;
#[cfg(all(test, feature = "flex"))]
mod tests;
