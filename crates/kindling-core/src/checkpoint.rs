//! Checkpoint files: model parameters, optimizer state and the trainer's state in one file.
//!
//! # Format
//!
//! A [`kindling_io::container`] file with magic `KNDLCKPT`, format version 2:
//!
//! ```text
//! "KNDLCKPT" | version 2 | header length | header | header checksum | model | optimizer
//! ```
//!
//! The JSON header holds the trainer state, the run config and each section's length and
//! FNV-1a 64 checksum; the header has a checksum of its own. A truncated file, trailing bytes,
//! a flipped bit in a section or a changed digit in the header (the epoch, the RNG state) is
//! reported as such rather than half-loaded. Version 1 files (no header checksum) are refused
//! with the version found. Files are written atomically ([`crate::atomic`]).

use std::path::Path;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use kindling_io::container::{self, FileKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

pub use kindling_io::fnv::fnv1a;

/// Magic bytes and format version of checkpoint files.
pub const KIND: FileKind = FileKind::new(*b"KNDLCKPT", 2);
const MODEL: &str = "model";
const OPTIMIZER: &str = "optimizer";

#[derive(Serialize, Deserialize)]
struct Header {
    state: Value,
    config: Value,
}

/// The contents of a checkpoint file, before they are applied to a model and optimizer.
pub struct Checkpoint {
    /// The trainer's state (epoch, step, RNG, schedule …) as JSON.
    pub state: Value,
    /// The run's configuration as JSON.
    pub config: Value,
    model: Vec<u8>,
    optimizer: Vec<u8>,
}

impl Checkpoint {
    /// Captures `model` and `optimizer` together with trainer `state` and run `config`.
    pub fn capture<M: Module>(
        model: &M,
        optimizer: &ModuleOptimizer,
        state: Value,
        config: Value,
    ) -> Result<Self> {
        let model = model
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| Error::InvalidConfig(format!("serialising the model: {e}")))?;
        let optimizer = optimizer
            .into_bytes()
            .map_err(|e| Error::InvalidConfig(format!("serialising the optimizer: {e}")))?;
        Ok(Self {
            state,
            config,
            model: model.to_vec(),
            optimizer: optimizer.to_vec(),
        })
    }

    /// Writes the checkpoint to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.encode(path)?;
        crate::atomic::write_atomic(path, &bytes)
    }

    /// The checkpoint file's bytes, as [`Checkpoint::save`] writes them.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.encode(Path::new("<memory>"))
    }

    fn encode(&self, path: &Path) -> Result<Vec<u8>> {
        let header = Header {
            state: self.state.clone(),
            config: self.config.clone(),
        };
        container::encode(
            KIND,
            &header,
            &[
                (MODEL, self.model.as_slice()),
                (OPTIMIZER, self.optimizer.as_slice()),
            ],
        )
        .map_err(|e| from_container(path, e))
    }

    /// Reads and verifies a checkpoint file.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Checkpoint`] when it is not a
    /// kindling checkpoint, has another format version, is truncated or has trailing bytes,
    /// or fails its header or section checksums.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading checkpoint", path, e))?;
        Self::from_bytes(bytes, path)
    }

    /// Verifies and parses a checkpoint file's `bytes`; `origin` names them in errors.
    ///
    /// # Errors
    /// As [`Checkpoint::load`].
    pub fn from_bytes(bytes: Vec<u8>, origin: &Path) -> Result<Self> {
        let file = container::decode::<Header>(bytes, KIND, origin)
            .map_err(|e| from_container(origin, e))?;
        let model = file.take(MODEL).map_err(|e| from_container(origin, e))?;
        let optimizer = file
            .take(OPTIMIZER)
            .map_err(|e| from_container(origin, e))?;
        Ok(Self {
            state: file.header.state,
            config: file.header.config,
            model,
            optimizer,
        })
    }

    /// Loads the saved parameters into `model`, which must have the same structure.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when parameter names or shapes differ.
    pub fn restore_model<M: Module>(&self, model: M, path: &Path) -> Result<M> {
        let bytes = Bytes::from_bytes_vec(self.model.clone());
        let record = without_panic(path, "model section", || ModuleRecord::from_bytes(bytes))?
            .map_err(|e| Error::checkpoint(path, format!("model section: {e}")))?;
        without_panic(path, "model section", || model.try_load_record(record))?
            .map_err(|e| Error::checkpoint(path, format!("does not fit this model: {e}")))
    }

    /// Loads the saved optimizer state into `optimizer`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the section is not an optimizer record of this model.
    pub fn restore_optimizer(
        &self,
        optimizer: ModuleOptimizer,
        path: &Path,
    ) -> Result<ModuleOptimizer> {
        let bytes = Bytes::from_bytes_vec(self.optimizer.clone());
        without_panic(path, "optimizer section", || optimizer.from_bytes(bytes))?
            .map_err(|e| Error::checkpoint(path, format!("optimizer section: {e}")))
    }
}

/// Runs burn's parsing of a record section, turning a panic into a checkpoint error.
///
/// burn 0.22 parses records with `expect`s on what the bytes claim (e.g. "Optimizer record
/// tensors should carry a parameter id"), so a section that passes its checksum but was not
/// written by burn — or was written by a different structure — would abort the program instead
/// of failing. The closure only reads the bytes and builds new values, so nothing half-changed
/// survives an unwind.
fn without_panic<T>(path: &Path, section: &str, parse: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unreadable".into());
        Error::checkpoint(
            path,
            format!("{section} is not a record burn can read: {message}"),
        )
    })
}

/// A container error as a checkpoint error: format problems become [`Error::Checkpoint`].
fn from_container(path: &Path, e: kindling_io::Error) -> Error {
    match e {
        kindling_io::Error::Format { problem, .. } => Error::checkpoint(path, problem.to_string()),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Checkpoint {
        Checkpoint {
            state: json!({"epoch": 3, "step": 120, "rng": {"state": 987654321}}),
            config: json!({"epochs": 10}),
            model: b"model section".to_vec(),
            optimizer: b"optimizer section".to_vec(),
        }
    }

    fn problem(bytes: Vec<u8>) -> String {
        match Checkpoint::from_bytes(bytes, Path::new("run/last.ckpt")) {
            Err(e @ Error::Checkpoint { .. }) => e.to_string(),
            Err(e) => panic!("not a checkpoint error: {e}"),
            Ok(_) => panic!("corrupt checkpoint accepted"),
        }
    }

    #[test]
    fn fnv1a_is_reachable_from_here() {
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn round_trips_through_bytes() {
        let bytes = sample().to_bytes().unwrap();
        let back = Checkpoint::from_bytes(bytes, Path::new("x")).unwrap();
        assert_eq!(back.state, sample().state);
        assert_eq!(back.config, sample().config);
        assert_eq!(back.model, sample().model);
        assert_eq!(back.optimizer, sample().optimizer);
    }

    #[test]
    fn flipped_epoch_digit_in_a_saved_checkpoint_is_reported() {
        let dir = std::env::temp_dir().join(format!("kindling-ckpt-{}", std::process::id()));
        let path = dir.join("last.ckpt");
        sample().save(&path).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.windows(9).position(|w| w == b"\"epoch\":3").unwrap() + 8;
        bytes[at] = b'4';
        std::fs::write(&path, &bytes).unwrap();
        let err = Checkpoint::load(&path).err().unwrap().to_string();
        assert!(
            err.contains("last.ckpt") && err.contains("the header") && err.contains("corrupt"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn flipped_rng_digit_is_reported() {
        let mut bytes = sample().to_bytes().unwrap();
        let at = bytes.windows(9).position(|w| w == b"987654321").unwrap();
        bytes[at + 4] = b'0';
        assert!(problem(bytes).contains("the header at byte 20 is corrupt"));
    }

    #[test]
    fn flipped_section_byte_names_the_section() {
        let mut bytes = sample().to_bytes().unwrap();
        *bytes.last_mut().unwrap() ^= 0x10;
        assert!(problem(bytes).contains("section `optimizer`"));
    }

    #[test]
    fn truncation_and_trailing_bytes_are_reported() {
        let bytes = sample().to_bytes().unwrap();
        let err = problem(bytes[..bytes.len() - 3].to_vec());
        assert!(
            err.starts_with("checkpoint run/last.ckpt: truncated"),
            "{err}"
        );
        let mut longer = bytes;
        longer.push(0);
        assert!(problem(longer).contains("trailing bytes"));
    }

    #[test]
    fn version_1_files_are_refused_with_their_version() {
        let mut bytes = sample().to_bytes().unwrap();
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        let err = problem(bytes);
        assert_eq!(
            err,
            "checkpoint run/last.ckpt: format version 1, this build reads version 2"
        );
        let err = problem(b"NOTACKPT........................".to_vec());
        assert!(err.contains("not a `KNDLCKPT` file"), "{err}");
    }
}
