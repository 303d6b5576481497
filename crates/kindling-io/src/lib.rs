//! kindling-io: the file plumbing under kindling's binary formats, free of burn.
//!
//! - [`atomic`]: crash-safe writes (temporary file, sync, rename, directory sync).
//! - [`fnv`]: the FNV-1a 64 checksum.
//! - [`container`]: a magic- and version-tagged file of a JSON header and named, checksummed
//!   byte sections, read back with every length and checksum verified.

pub mod atomic;
pub mod container;
mod error;
pub mod fnv;

pub use atomic::{write_atomic, write_json_atomic};
pub use error::{Error, Problem, Result};
pub use fnv::fnv1a;
