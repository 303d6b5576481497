//! kindling-textcnn: the convolutional sentence classifier of Kim (2014), "Convolutional Neural
//! Networks for Sentence Classification", and the CNN + LSTM hybrid C-LSTM.
//!
//! Each model pairs a config with burn's shape — `XxxConfig::new(dim)`, `with_*` setters,
//! `validate()`, `init(vocab_size, classes, &device)` / `init_pretrained(vectors, …)` — with a
//! module that implements [`kindling_core::train::TrainStep`] over
//! [`kindling_data::batch::SequenceBatch`]es. Invalid settings are [`Error::InvalidConfig`]s,
//! never panics.
//!
//! - [`text_cnn`]: [`TextCnnConfig`] and [`TextCnn`] — embedding channels (rand, static,
//!   non-static, multichannel), filter widths and feature maps, activation, dropout, max-norm.
//! - [`conv_lstm`]: [`ConvLstmConfig`] and [`ConvLstm`], the CNN + LSTM hybrid (C-LSTM).
//! - [`embedding`]: [`Channels`] and [`WordEmbedding`] (from `kindling_embed::layer`), one
//!   table or Kim's two channels.
//! - [`init`]: [`WeightInit`], burn's or Kim's initialisation of the filters.
//! - [`classifier`]: [`ClassifierConfig`] (either model, chosen by `architecture`), saving a
//!   trained run's description and loading it back as a [`Classifier`] of raw sentences.
//! - [`filter_bank`]: how the filters of all widths share one matrix.
//! - [`window_max`]: convolution and max-over-time pooling as one operation that ignores
//!   padding, with a sparse backward pass on the CPU.

pub mod classifier;
pub mod conv_lstm;
pub mod embedding;
mod error;
pub mod filter_bank;
pub mod init;
pub mod text_cnn;
pub mod window_max;
mod window_max_kernel;

pub use classifier::{Classifier, ClassifierConfig, Prediction, TrainedModel, save_classifier};
pub use conv_lstm::{ConvLstm, ConvLstmConfig};
pub use embedding::{Channels, WordEmbedding};
pub use error::{Error, Result};
pub use filter_bank::FilterBank;
pub use init::WeightInit;
pub use text_cnn::{Activation, TextCnn, TextCnnConfig};
