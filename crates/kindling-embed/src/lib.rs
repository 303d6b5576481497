//! kindling-embed: word vectors — file formats, similarity queries and evaluation.
//!
//! - [`vectors`]: [`WordVectors`], words with a row-major matrix.
//! - [`word2vec`]: skip-gram and CBOW with negative sampling over a streamed corpus.
//! - [`format`]: word2vec text and binary, GloVe text and fastText `.vec`; gzip transparently.
//! - [`query`]: nearest neighbours, 3CosAdd / 3CosMul analogies and odd-one-out, batched as
//!   matrix products on a burn device.
//! - [`evaluate`]: the Google analogy set and word-pair similarity with gensim's protocols.
//! - [`pretrained`]: burn `Embedding`s aligned to a vocabulary from pretrained vectors, frozen,
//!   fine-tuned or both (two channels).

mod error;
pub mod evaluate;
pub mod format;
mod kernel;
pub mod pretrained;
pub mod query;
pub mod vectors;
pub mod word2vec;

pub use error::{Error, Result};
pub use format::{VectorFormat, read_vectors, write_vectors};
pub use query::{AnalogyMethod, Similarity};
pub use vectors::WordVectors;
