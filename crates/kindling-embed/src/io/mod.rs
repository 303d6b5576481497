//! Files: word-vector formats ([`format`](mod@format)) and whole trainable models (`model_file`).

pub mod format;
pub(crate) mod model_file;
