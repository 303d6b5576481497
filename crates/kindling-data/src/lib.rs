//! kindling-data: the text pipeline every kindling model gets its data through.
//!
//! - [`source`]: files opened with gzip detected by content, lines split on `\n` only, and an
//!   explicit [`Encoding`] (UTF-8 strict by default; Latin-1 and lossy on request).
//! - [`tokenize`]: whitespace, Kim's `clean_str`, word/punctuation and character tokenizers
//!   behind one [`Tokenizer`] trait.
//! - [`vocab`]: token counts and vocabularies with special tokens, deterministic order,
//!   counts, encode/decode and a readable file format.
//! - [`read`]: readers for label-per-line, one-class, TSV/CSV, parallel, CMUdict, Brown,
//!   analogy and word-pair files, and streamed corpora.
//! - [`labels`]: label sets and unknown-label errors.
//! - [`bag_of_words`]: document-frequency vocabularies and normalised word-count features.
//! - [`batch`], [`sampler`], [`loader`]: padding with lengths and masks, length bucketing,
//!   seeded batch plans, and background batch preparation.
//! - [`split`]: seeded holdout, three-way (also stratified) splits and stratified k-fold.
//! - [`fingerprint`]: which files a run read, by size and checksum (resume checks its data).
//! - [`registry`], [`check`]: the named datasets under a data directory and their
//!   verification.
//!
//! Every reader error names the file and the line.
//!
//! # Features
//!
//! `burn` (on by default, and implied by the backend features `flex`, `ndarray`, `wgpu`,
//! `cuda`) adds [`batch`], [`tagged`] (sequence-labelling batches), [`bptt`] (language-model
//! windows), [`sampler`], [`loader`] and [`split`]. Without it the crate does not
//! depend on burn.

pub mod bag_of_words;
#[cfg(feature = "burn")]
pub mod batch;
#[cfg(feature = "burn")]
pub mod bptt;
pub mod check;
mod error;
pub mod fingerprint;
pub mod labelled_files;
pub mod labels;
#[cfg(feature = "burn")]
pub mod loader;
pub mod read;
pub mod registry;
#[cfg(feature = "burn")]
pub mod sampler;
pub mod source;
#[cfg(feature = "burn")]
pub mod split;
#[cfg(feature = "burn")]
pub mod tagged;
pub mod tokenize;
pub mod vocab;

#[cfg(test)]
mod testing;

pub use error::{Error, Result};
pub use labels::LabelSet;
pub use registry::{DataDir, DatasetName};
pub use source::Encoding;
pub use tokenize::Tokenizer;
pub use vocab::{OnUnknown, Specials, TokenCounts, Vocab, VocabConfig};
