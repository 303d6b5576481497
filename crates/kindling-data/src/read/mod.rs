//! Readers for the file formats of the standard text datasets. Each returns a clear error
//! naming the file and line on malformed input.

pub mod brown;
pub mod cmudict;
pub mod corpus;
pub mod evaluation;
pub mod labelled;
pub mod parallel;
pub mod table;
pub mod tagged_text;
