//! Checkpoint files: model parameters, optimizer state and the trainer's state in one file.
//!
//! # Format
//!
//! ```text
//! "KNDLCKPT"            8-byte magic
//! version               u32, little endian (currently 1)
//! header length         u64, little endian
//! header                JSON: the trainer state, the run config, section lengths and checksums
//! model section         burnpack bytes of the module record
//! optimizer section     burnpack bytes of the optimizer record
//! ```
//!
//! Each section carries an FNV-1a 64 checksum in the header, and the file length must equal
//! the sum of its parts, so a truncated or bit-flipped file is reported as such rather than
//! half-loaded. Files are written atomically ([`crate::atomic`]).

use std::path::Path;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result, atomic::write_atomic};

const MAGIC: &[u8; 8] = b"KNDLCKPT";
const VERSION: u32 = 1;
const PREAMBLE: usize = 8 + 4 + 8;

#[derive(Serialize, Deserialize)]
struct Header {
    state: Value,
    config: Value,
    model_len: u64,
    model_fnv: String,
    optimizer_len: u64,
    optimizer_fnv: String,
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
        let header = Header {
            state: self.state.clone(),
            config: self.config.clone(),
            model_len: self.model.len() as u64,
            model_fnv: format!("{:016x}", fnv1a(&self.model)),
            optimizer_len: self.optimizer.len() as u64,
            optimizer_fnv: format!("{:016x}", fnv1a(&self.optimizer)),
        };
        let header = serde_json::to_vec(&header).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let mut bytes =
            Vec::with_capacity(PREAMBLE + header.len() + self.model.len() + self.optimizer.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(&self.model);
        bytes.extend_from_slice(&self.optimizer);
        write_atomic(path, &bytes)
    }

    /// Reads and verifies a checkpoint file.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the file is not a kindling checkpoint, has another version,
    /// is truncated or has trailing bytes, or fails its checksums.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading checkpoint", path, e))?;
        let bad = |problem: String| Error::checkpoint(path, problem);
        if bytes.len() < PREAMBLE || &bytes[..8] != MAGIC {
            return Err(bad("not a kindling checkpoint (bad magic bytes)".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(bad(format!(
                "format version {version}, this build reads version {VERSION}"
            )));
        }
        let header_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")) as usize;
        let header_end = PREAMBLE
            .checked_add(header_len)
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| {
                bad(format!(
                    "truncated: header of {header_len} bytes is cut off"
                ))
            })?;
        let header: Header = serde_json::from_slice(&bytes[PREAMBLE..header_end])
            .map_err(|e| bad(format!("unreadable header: {e}")))?;
        let expected = header_end as u64 + header.model_len + header.optimizer_len;
        if expected != bytes.len() as u64 {
            let what = if (bytes.len() as u64) < expected {
                "truncated"
            } else {
                "trailing bytes"
            };
            return Err(bad(format!(
                "{what}: expected {expected} bytes, found {}",
                bytes.len()
            )));
        }
        let model_end = header_end + header.model_len as usize;
        let model = bytes[header_end..model_end].to_vec();
        let optimizer = bytes[model_end..].to_vec();
        for (name, section, checksum) in [
            ("model", &model, &header.model_fnv),
            ("optimizer", &optimizer, &header.optimizer_fnv),
        ] {
            let actual = format!("{:016x}", fnv1a(section));
            if &actual != checksum {
                return Err(bad(format!(
                    "{name} section is corrupt: checksum {actual}, header says {checksum}"
                )));
            }
        }
        Ok(Self {
            state: header.state,
            config: header.config,
            model,
            optimizer,
        })
    }

    /// Loads the saved parameters into `model`, which must have the same structure.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when parameter names or shapes differ.
    pub fn restore_model<M: Module>(&self, model: M, path: &Path) -> Result<M> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.model.clone()))
            .map_err(|e| Error::checkpoint(path, format!("model section: {e}")))?;
        model
            .try_load_record(record)
            .map_err(|e| Error::checkpoint(path, format!("does not fit this model: {e}")))
    }

    /// Loads the saved optimizer state into `optimizer`.
    pub fn restore_optimizer(
        &self,
        optimizer: ModuleOptimizer,
        path: &Path,
    ) -> Result<ModuleOptimizer> {
        optimizer
            .from_bytes(Bytes::from_bytes_vec(self.optimizer.clone()))
            .map_err(|e| Error::checkpoint(path, format!("optimizer section: {e}")))
    }
}

/// FNV-1a, 64-bit: a fast checksum against truncation and corruption (not against tampering).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        // Test vectors from the FNV reference (draft-eastlake-fnv).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
