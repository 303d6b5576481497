//! kindling-embed: word vectors — training, file formats, similarity queries and evaluation.
//!
//! The crate is laid out in three folders around the vector table itself:
//!
//! - [`vectors`]: [`WordVectors`], words with a row-major matrix.
//! - [`train`] holds training:
//!   - [`word2vec`]: skip-gram and CBOW with negative sampling and/or hierarchical softmax over
//!     a streamed corpus; models saved whole continue training later.
//!   - [`subword`]: fastText-style subword skip-gram: hashed character n-grams, vectors for
//!     unseen words.
//!   - [`glove`]: GloVe with co-occurrence counting in bounded memory (spilling to disk).
//!   - the shared engine: one driver that trains, continues, saves and loads word2vec and
//!     subword models; the network and its threads; weights shared by the threads
//!     with rows behind striped spin locks (no data races, vectorised kernels); Huffman trees, sampling tables and co-occurrence counting.
//! - [`io`] holds files:
//!   - [`format`](mod@format): word2vec text and binary, GloVe text and fastText `.vec`; gzip
//!     transparently; hostile headers and non-finite values are errors.
//!   - [`io::fasttext_bin`]: fastText's own model files (`.bin`) read and written, so unknown
//!     words get the vectors fastText gives them; [`KeyedVectors`]: any of these files behind
//!     one type.
//!   - the model file that saves word2vec and subword models whole (settings, vocabulary,
//!     every weight matrix, checksums).
//! - [`query`] holds questions asked of vectors:
//!   - [`Similarity`]: nearest neighbours, 3CosAdd / 3CosMul analogies and odd-one-out,
//!     batched as matrix products on a burn device.
//!   - [`evaluate`]: the Google analogy set and word-pair similarity with gensim's protocols.
//! - [`pretrained`]: burn `Embedding`s aligned to a vocabulary from pretrained vectors, frozen,
//!   fine-tuned or both (two channels); [`layer`]: the input layer of the classifiers and
//!   taggers built from them ([`layer::WordEmbedding`], [`layer::Channels`]); [`lookup`]: an
//!   embedding lookup whose CPU backward pass writes only the rows a batch used.
//!
//! The training, file and evaluation modules are also reachable at the top level
//! (`kindling_embed::word2vec`, `kindling_embed::format`, `kindling_embed::evaluate`, …).

mod error;
pub mod io;
pub mod layer;
pub mod lookup;
pub mod pretrained;
pub mod query;
pub mod train;
pub mod vectors;

pub use error::{Error, Result};
pub use io::fasttext_bin::{read_fasttext_model, write_fasttext_model};
pub use io::format::{self, VectorFormat, read_vectors, write_vectors};
pub use io::keyed::KeyedVectors;
pub use query::{AnalogyMethod, Similarity, evaluate};
pub use train::{glove, subword, word2vec};
pub use vectors::WordVectors;
