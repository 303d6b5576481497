//! kindling-textcnn: the convolutional sentence classifier of Kim (2014), "Convolutional Neural
//! Networks for Sentence Classification".
//!
//! - [`config`]: [`TextCnnConfig`] — embedding channels (rand, static, non-static,
//!   multichannel), filter widths and feature maps, activation, dropout, max-norm.
//! - [`pooling`]: max-over-time pooling that ignores windows reaching into padding.
//! - [`window_conv`]: the convolution over word windows as one matrix product.
//! - [`model`]: [`TextCnn`], a [`kindling_core::train::TrainStep`] over
//!   [`kindling_data::batch::SequenceBatch`]es.

pub mod config;
pub mod model;
pub mod pooling;
pub mod window_conv;

pub use config::{Activation, Channels, TextCnnConfig};
pub use model::TextCnn;
