//! kindling-textcnn: the convolutional sentence classifier of Kim (2014), "Convolutional Neural
//! Networks for Sentence Classification".
//!
//! - [`config`]: [`TextCnnConfig`] — embedding channels (rand, static, non-static,
//!   multichannel), filter widths and feature maps, activation, dropout, max-norm.
//! - [`filter_bank`]: how the filters of all widths share one matrix.
//! - [`window_max`]: convolution and max-over-time pooling as one operation that ignores
//!   padding, with a sparse backward pass on the CPU.
//! - [`lookup`]: embedding lookup whose CPU backward pass writes only the rows a batch used.
//! - [`clstm`]: [`ConvLstm`], the CNN + LSTM hybrid (C-LSTM).
//! - [`model`]: [`TextCnn`], a [`kindling_core::train::TrainStep`] over
//!   [`kindling_data::batch::SequenceBatch`]es.

pub mod clstm;
pub mod config;
pub mod filter_bank;
#[cfg(feature = "flex")]
mod flex_tensors;
pub mod lookup;
pub mod model;
pub mod window_max;
mod window_max_kernel;

pub use clstm::{ConvLstm, ConvLstmConfig};
pub use config::{Activation, Channels, TextCnnConfig, WeightInit};
pub use filter_bank::FilterBank;
pub use model::TextCnn;
