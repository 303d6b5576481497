//! Files: word-vector formats ([`format`](mod@format)), fastText's model files
//! ([`fasttext_bin`]), any of them behind one type ([`keyed::KeyedVectors`]) and whole trainable
//! models (`model_file`).

pub mod fasttext_bin;
pub mod format;
pub mod keyed;
pub(crate) mod model_file;
