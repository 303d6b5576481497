//! Experiment specifications: one TOML file per experiment in the `experiments/` registry.
//!
//! ```toml
//! description = "what it measures"
//! task = "brown-genre"          # which task implementation runs it
//!
//! [options]                     # task-specific settings
//! min_count = 2
//!
//! [train]                       # a kindling_core::train::TrainConfig
//! epochs = 40
//! batch_size = 16
//! seed = 1
//! optimizer = { kind = "adam", lr = 0.02 }
//!
//! [quick]                       # the cut-down variant for smoke checks (--quick)
//! max_examples = 200
//! epochs = 2
//! ```

use std::path::{Path, PathBuf};

use kindling_core::train::TrainConfig;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One experiment of the registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExperimentSpec {
    /// Name, from the file name (`experiments/NAME.toml`).
    #[serde(skip_deserializing)]
    pub name: String,
    /// One line on what it measures.
    pub description: String,
    /// The task implementation that runs it.
    pub task: String,
    /// Task-specific options.
    #[serde(default)]
    pub options: toml::Table,
    /// How to train (absent for experiments that only evaluate).
    #[serde(default)]
    pub train: Option<TrainConfig>,
    /// The cut-down variant used by `--quick`.
    #[serde(default)]
    pub quick: QuickConfig,
}

/// Limits applied by `--quick` (by default: no limits).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default)]
pub struct QuickConfig {
    /// At most this many training examples.
    pub max_examples: usize,
    /// At most this many epochs.
    pub epochs: usize,
}

impl Default for QuickConfig {
    fn default() -> Self {
        Self {
            max_examples: usize::MAX,
            epochs: usize::MAX,
        }
    }
}

impl ExperimentSpec {
    /// Reads `path`, naming the experiment after the file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        let mut spec: ExperimentSpec = toml::from_str(&text).map_err(|e| Error::Spec {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        spec.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(train) = &spec.train {
            train.validate().map_err(|e| Error::Spec {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        Ok(spec)
    }

    /// Finds experiment `name` in the registry directory.
    pub fn find(registry: &Path, name: &str) -> Result<Self> {
        let path = registry.join(format!("{name}.toml"));
        if !path.is_file() {
            return Err(Error::UnknownExperiment {
                name: name.to_string(),
                dir: registry.to_path_buf(),
            });
        }
        Self::load(&path)
    }

    /// Every experiment in the registry, sorted by name.
    pub fn list(registry: &Path) -> Result<Vec<Self>> {
        let entries = std::fs::read_dir(registry).map_err(|e| Error::io("listing", registry, e))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| Self::load(p)).collect()
    }

    /// All task options as one `T` (typically a config struct with `#[serde(default)]`, so
    /// absent options keep their defaults).
    pub fn options_as<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        toml::Value::Table(self.options.clone())
            .try_into()
            .map_err(|e| Error::Spec {
                path: PathBuf::from(format!("experiments/{}.toml", self.name)),
                message: format!("options: {e}"),
            })
    }

    /// A task option as `T`, or `default` when absent.
    pub fn option<T: serde::de::DeserializeOwned>(&self, key: &str, default: T) -> Result<T> {
        match self.options.get(key) {
            None => Ok(default),
            Some(value) => value.clone().try_into().map_err(|e| Error::Spec {
                path: PathBuf::from(format!("experiments/{}.toml", self.name)),
                message: format!("option `{key}`: {e}"),
            }),
        }
    }
}
