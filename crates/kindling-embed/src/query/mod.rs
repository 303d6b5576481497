//! Asking questions of word vectors: nearest neighbours, analogies and odd-one-out
//! ([`Similarity`], batched as matrix products on a burn device, on the top-k kernel in
//! `kernel`), and evaluation on benchmark sets ([`evaluate`]).

pub mod evaluate;
mod kernel;
mod similarity;

pub use similarity::{AnalogyMethod, Neighbour, Similarity};
