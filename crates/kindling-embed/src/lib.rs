//! kindling-embed: word vectors — training, file formats, similarity queries and evaluation.
//!
//! - [`vectors`]: [`WordVectors`], words with a row-major matrix.
//! - [`word2vec`]: skip-gram and CBOW with negative sampling and/or hierarchical softmax over a
//!   streamed corpus; models saved whole ([`model_file`]) continue training later.
//! - [`subword`]: fastText-style subword skip-gram: hashed character n-grams, vectors for
//!   unseen words.
//! - [`glove`]: GloVe with co-occurrence counting in bounded memory (spilling to disk).
//! - [`format`]: word2vec text and binary, GloVe text and fastText `.vec`; gzip transparently.
//! - [`query`]: nearest neighbours, 3CosAdd / 3CosMul analogies and odd-one-out, batched as
//!   matrix products on a burn device.
//! - [`evaluate`]: the Google analogy set and word-pair similarity with gensim's protocols.
//! - [`pretrained`]: burn `Embedding`s aligned to a vocabulary from pretrained vectors, frozen,
//!   fine-tuned or both (two channels).

mod cooccur;
mod error;
pub mod evaluate;
pub mod format;
pub mod glove;
// The one module with unsafe code: weights shared by training threads without locks.
#[allow(unsafe_code)]
mod hogwild;
mod huffman;
mod kernel;
mod model_file;
pub mod pretrained;
pub mod query;
mod sampling;
pub mod subword;
mod trainer;
pub mod vectors;
pub mod word2vec;

pub use error::{Error, Result};
pub use format::{VectorFormat, read_vectors, write_vectors};
pub use query::{AnalogyMethod, Similarity};
pub use vectors::WordVectors;
