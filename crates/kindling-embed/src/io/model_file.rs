//! Files of trainable embedding models: settings, vocabulary with counts and every weight
//! matrix, so that training can continue where it stopped.
//!
//! # Format
//!
//! A [`kindling_io::container`] file of kind `KNDLEMBD` (version 2): the JSON header holds
//! `{"kind", "config", "vocab": [[word, count], …], "matrices": [{"name", "rows", "cols"}, …]}`
//! and each matrix is one checksummed section of f32 little endian, row-major, named after the
//! matrix. The container checks the header's own checksum, every length with checked arithmetic
//! and the file's exact size, so a truncated or corrupted file is an error, not a half-loaded
//! model. Files are written atomically.

use std::path::Path;

use kindling_data::{Specials, Vocab};
use kindling_io::container::{self, FileKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// Embedding model files: magic `KNDLEMBD`, version 2 (version 1 had no header checksum).
const KIND: FileKind = FileKind::new(*b"KNDLEMBD", 2);

/// One named weight matrix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matrix {
    pub(crate) name: String,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) data: Vec<f32>,
}

/// A model's contents.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelFile {
    /// Which model (`word2vec`, `subword`): loading checks it.
    pub(crate) kind: String,
    pub(crate) config: Value,
    pub(crate) vocab: Vec<(String, u64)>,
    pub(crate) matrices: Vec<Matrix>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    kind: String,
    config: Value,
    vocab: Vec<(String, u64)>,
    matrices: Vec<MatrixEntry>,
}

#[derive(Serialize, Deserialize)]
struct MatrixEntry {
    name: String,
    rows: usize,
    cols: usize,
}

fn matrix_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn corrupt(path: &Path, problem: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        line: 0,
        problem: problem.into(),
    }
}

impl ModelFile {
    /// A model of `kind` with its settings, vocabulary and matrices of rows of length `dim`.
    pub(crate) fn new(
        kind: &str,
        config: &impl Serialize,
        vocab: &Vocab,
        dim: usize,
        matrices: &[(&str, &[f32])],
    ) -> Self {
        Self {
            kind: kind.into(),
            config: serde_json::to_value(config).expect("settings serialise"),
            vocab: vocab
                .tokens()
                .iter()
                .cloned()
                .zip(vocab.counts().iter().copied())
                .collect(),
            matrices: matrices
                .iter()
                .map(|&(name, data)| Matrix {
                    name: name.into(),
                    rows: data.len() / dim,
                    cols: dim,
                    data: data.to_vec(),
                })
                .collect(),
        }
    }

    /// Loads a model of `kind` and its settings (checked by `validate`) and vocabulary; the
    /// matrices are then [`ModelFile::take`]n.
    pub(crate) fn open<C: DeserializeOwned>(
        path: &Path,
        kind: &str,
        validate: impl FnOnce(&C) -> Result<()>,
    ) -> Result<(Self, C, Vocab)> {
        let mut file = Self::load(path, kind)?;
        let config: C = serde_json::from_value(file.config.clone())
            .map_err(|e| corrupt(path, format!("bad settings: {e}")))?;
        validate(&config).map_err(|e| corrupt(path, format!("bad settings: {e}")))?;
        let entries = std::mem::take(&mut file.vocab);
        if entries.is_empty() {
            return Err(corrupt(path, "empty vocabulary"));
        }
        let vocab = Vocab::from_parts(Specials::none(), entries)
            .map_err(|e| corrupt(path, format!("bad vocabulary: {e}")))?;
        Ok((file, config, vocab))
    }

    /// Writes the model to `path` atomically.
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        let sections: Vec<Vec<u8>> = self
            .matrices
            .iter()
            .map(|m| matrix_bytes(&m.data))
            .collect();
        let header = Header {
            kind: self.kind.clone(),
            config: self.config.clone(),
            vocab: self.vocab.clone(),
            matrices: self
                .matrices
                .iter()
                .map(|m| MatrixEntry {
                    name: m.name.clone(),
                    rows: m.rows,
                    cols: m.cols,
                })
                .collect(),
        };
        let named: Vec<(&str, &[u8])> = self
            .matrices
            .iter()
            .zip(&sections)
            .map(|(m, bytes)| (m.name.as_str(), bytes.as_slice()))
            .collect();
        Ok(container::write(path, KIND, &header, &named)?)
    }

    /// Reads a model of `kind` from `path`, checking lengths and checksums.
    pub(crate) fn load(path: &Path, kind: &str) -> Result<Self> {
        let file = container::read::<Header>(path, KIND)?;
        let header = &file.header;
        if header.kind != kind {
            return Err(corrupt(
                path,
                format!("holds a `{}` model, not a `{kind}` model", header.kind),
            ));
        }
        let mut matrices = Vec::with_capacity(header.matrices.len());
        for entry in &header.matrices {
            let section = file
                .section(&entry.name)
                .ok_or_else(|| corrupt(path, format!("no section for matrix `{}`", entry.name)))?;
            let len = entry
                .rows
                .checked_mul(entry.cols)
                .and_then(|n| n.checked_mul(4))
                .ok_or_else(|| corrupt(path, format!("matrix `{}` is too large", entry.name)))?;
            if section.len() != len {
                return Err(corrupt(
                    path,
                    format!(
                        "matrix `{}` is declared {}×{} but its section holds {} bytes",
                        entry.name,
                        entry.rows,
                        entry.cols,
                        section.len()
                    ),
                ));
            }
            let data = section
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
            matrices.push(Matrix {
                name: entry.name.clone(),
                rows: entry.rows,
                cols: entry.cols,
                data,
            });
        }
        if file.names().count() != matrices.len() {
            return Err(corrupt(path, "sections that no matrix declares"));
        }
        let Header {
            kind,
            config,
            vocab,
            ..
        } = file.header;
        Ok(Self {
            kind,
            config,
            vocab,
            matrices,
        })
    }

    /// Removes and returns the matrix `name` with `rows × cols` values.
    pub(crate) fn take(
        &mut self,
        path: &Path,
        name: &str,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>> {
        let at = self
            .matrices
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| corrupt(path, format!("no matrix `{name}`")))?;
        let m = self.matrices.remove(at);
        if m.rows != rows || m.cols != cols {
            return Err(corrupt(
                path,
                format!(
                    "matrix `{name}` is {}×{}, the settings need {rows}×{cols}",
                    m.rows, m.cols
                ),
            ));
        }
        Ok(m.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ModelFile {
        ModelFile {
            kind: "word2vec".into(),
            config: serde_json::json!({"dim": 2}),
            vocab: vec![("a".into(), 3), ("b".into(), 1)],
            matrices: vec![
                Matrix {
                    name: "input".into(),
                    rows: 2,
                    cols: 2,
                    data: vec![1.0, -2.5, 3.25, f32::MIN_POSITIVE],
                },
                Matrix {
                    name: "output".into(),
                    rows: 0,
                    cols: 2,
                    data: vec![],
                },
            ],
        }
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kindling-model-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn round_trips_exactly() {
        let path = scratch("round.kemb");
        sample().save(&path).unwrap();
        let mut loaded = ModelFile::load(&path, "word2vec").unwrap();
        assert_eq!(loaded, sample());
        assert_eq!(loaded.take(&path, "input", 2, 2).unwrap()[1], -2.5);
        let err = loaded.take(&path, "output", 3, 2).unwrap_err();
        assert!(err.to_string().contains("0×2"), "{err}");
    }

    #[test]
    fn corruption_truncation_and_wrong_kind_are_errors() {
        let path = scratch("corrupt.kemb");
        sample().save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let err = ModelFile::load(&path, "subword").unwrap_err().to_string();
        assert!(err.contains("not a `subword` model"), "{err}");

        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = ModelFile::load(&path, "word2vec").unwrap_err().to_string();
        assert!(err.contains("truncated") && err.contains("input"), "{err}");

        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        let err = ModelFile::load(&path, "word2vec").unwrap_err().to_string();
        assert!(
            err.contains("section `input`") && err.contains("corrupt"),
            "{err}"
        );

        // A flipped digit in the JSON header (here a vocabulary count) fails its checksum.
        let at = bytes.windows(3).position(|w| w == b",3]").unwrap() + 1;
        let mut digit = bytes.clone();
        digit[at] = b'4';
        std::fs::write(&path, &digit).unwrap();
        let err = ModelFile::load(&path, "word2vec").unwrap_err().to_string();
        assert!(err.contains("header") && err.contains("corrupt"), "{err}");

        std::fs::write(&path, b"not a model at all").unwrap();
        let err = ModelFile::load(&path, "word2vec").unwrap_err().to_string();
        assert!(err.contains("not a `KNDLEMBD` file"), "{err}");
    }
}
