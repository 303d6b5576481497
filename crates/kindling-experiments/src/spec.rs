//! Experiment specifications: one TOML file per experiment in the `experiments/` registry.
//!
//! ```toml
//! description = "what it measures"
//! task = "brown-genre"          # which task runs it: a [`Task`] variant
//!
//! [options]                     # that task's typed options
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
//!
//! Every level is strict: an unknown key, a value of the wrong type or out of range is an error
//! naming the file, the key and what was expected, so a misspelt option can never silently
//! train something else.

use std::path::{Path, PathBuf};

use kindling_core::train::TrainConfig;
use serde::{Deserialize, Serialize};

use crate::overrides::{self, Override};
use crate::tasks::{Task, TaskKind};
use crate::{Error, Result};

/// One experiment of the registry.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentSpec {
    /// Name, from the file name (`NAME.toml`).
    pub name: String,
    /// The file it was read from.
    #[serde(skip)]
    pub path: PathBuf,
    /// One line on what it measures.
    pub description: String,
    /// The task that runs it, with the task's options.
    #[serde(flatten)]
    pub task: Task,
    /// How to train (absent for experiments that only evaluate).
    pub train: Option<TrainConfig>,
    /// The cut-down variant used by `--quick`.
    pub quick: QuickConfig,
}

/// Limits applied by `--quick` (by default: no limits).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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

/// The file as written: the options stay untyped until the task is known.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    description: String,
    task: TaskKind,
    #[serde(default)]
    options: Option<toml::Table>,
    #[serde(default)]
    train: Option<TrainConfig>,
    #[serde(default)]
    quick: QuickConfig,
}

impl ExperimentSpec {
    /// Reads `path`, naming the experiment after the file.
    ///
    /// # Errors
    /// [`Error::Spec`] naming the file, the key and what was expected for an unknown key, a
    /// missing one, a value of the wrong type or one out of range.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        Self::parse(&text, path)
    }

    /// Parses the text of an experiment file read from `path` (which names it in errors).
    ///
    /// # Errors
    /// As [`ExperimentSpec::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        Self::parse_text(text, path, true)
    }

    /// [`ExperimentSpec::parse`]; `snippets` quotes the offending line of `text` in TOML
    /// errors (pointless for text rewritten from overrides, whose lines are not the file's).
    fn parse_text(text: &str, path: &Path, snippets: bool) -> Result<Self> {
        let spec_error = |message: String| Error::Spec {
            path: path.to_path_buf(),
            message,
        };
        let file: SpecFile = toml::from_str(text).map_err(|e| {
            spec_error(if snippets {
                e.to_string()
            } else {
                e.message().to_string()
            })
        })?;
        let options = file.options.unwrap_or_default();
        let task = file.task.with_options(options).map_err(|e| {
            let at = e.path().to_string();
            let at = if at == "." {
                "options".to_string()
            } else {
                format!("options.{at}")
            };
            spec_error(format!("{at}: {}", e.inner()))
        })?;
        task.validate()
            .map_err(|message| spec_error(format!("options.{message}")))?;
        if let Some(train) = &file.train {
            train
                .validate()
                .map_err(|e| spec_error(format!("train: {e}")))?;
        }
        if task.trains() && file.train.is_none() {
            return Err(spec_error(format!(
                "task `{}` trains, so it needs a [train] section",
                task.kind().name()
            )));
        }
        Ok(Self {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.to_path_buf(),
            description: file.description,
            task,
            train: file.train,
            quick: file.quick,
        })
    }

    /// Finds experiment `name` in the registry directory.
    ///
    /// # Errors
    /// [`Error::UnknownExperiment`] when there is no such file; else as
    /// [`ExperimentSpec::load`].
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

    /// [`ExperimentSpec::find`] with `overrides` applied to the file before it is read, so they
    /// pass the same checks as the file (see [`crate::overrides`]).
    ///
    /// # Errors
    /// As [`ExperimentSpec::find`]; an error caused by an override says so.
    pub fn find_with(registry: &Path, name: &str, overrides: &[Override]) -> Result<Self> {
        if overrides.is_empty() {
            return Self::find(registry, name);
        }
        let path = registry.join(format!("{name}.toml"));
        if !path.is_file() {
            return Err(Error::UnknownExperiment {
                name: name.to_string(),
                dir: registry.to_path_buf(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
        Self::parse_with(&text, &path, overrides)
    }

    /// [`ExperimentSpec::parse`] with `overrides` applied to `text` first.
    ///
    /// # Errors
    /// As [`ExperimentSpec::parse`]; an error caused by an override says so.
    pub fn parse_with(text: &str, path: &Path, overrides: &[Override]) -> Result<Self> {
        if overrides.is_empty() {
            return Self::parse(text, path);
        }
        let spec_error = |message: String| Error::Spec {
            path: path.to_path_buf(),
            message,
        };
        let mut table: toml::Table = text.parse().map_err(|e| spec_error(format!("{e}")))?;
        overrides::apply(&mut table, overrides).map_err(spec_error)?;
        let text = toml::to_string(&table).map_err(|e| spec_error(e.to_string()))?;
        let applied: Vec<String> = overrides.iter().map(Override::to_string).collect();
        Self::parse_text(&text, path, false).map_err(|e| match e {
            Error::Spec { path, message } => Error::Spec {
                path,
                message: format!("{message} (with --set {})", applied.join(", --set ")),
            },
            other => other,
        })
    }

    /// Every experiment in the registry, sorted by name.
    ///
    /// # Errors
    /// When the directory cannot be listed or any file fails to load.
    pub fn list(registry: &Path) -> Result<Vec<Self>> {
        let entries = std::fs::read_dir(registry).map_err(|e| Error::io("listing", registry, e))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| Self::load(p)).collect()
    }

    /// An [`Error::Spec`] about this experiment's file.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::Spec {
            path: self.path.clone(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
    }

    #[test]
    fn overrides_change_fields_and_are_checked_like_the_file() {
        let set = |text: &str| -> Override { text.parse().unwrap() };
        let spec = ExperimentSpec::find_with(
            &registry(),
            "lstm-sst2",
            &[set("train.epochs=7"), set("train.optimizer.lr=0.01")],
        )
        .unwrap();
        let train = spec.train.unwrap();
        assert_eq!(train.epochs, 7);
        assert!((train.optimizer.lr() - 0.01).abs() < 1e-12);
        let error = ExperimentSpec::find_with(&registry(), "lstm-sst2", &[set("train.epoch=3")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("unknown field `epoch`") && error.contains("with --set train.epoch=3"),
            "{error}"
        );
        assert!(
            !error.contains("line"),
            "no lines of the rewritten text: {error}"
        );
    }

    /// The dotted paths of every table in `table`, `""` for the top level.
    fn table_paths(table: &toml::Table, prefix: &str, into: &mut Vec<String>) {
        into.push(prefix.to_string());
        for (key, value) in table {
            if let toml::Value::Table(inner) = value {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                table_paths(inner, &path, into);
            }
        }
    }

    fn table_at<'a>(table: &'a mut toml::Table, path: &str) -> &'a mut toml::Table {
        if path.is_empty() {
            return table;
        }
        path.split('.')
            .fold(table, |table, key| match table.get_mut(key) {
                Some(toml::Value::Table(inner)) => inner,
                _ => unreachable!("paths come from table_paths"),
            })
    }

    #[test]
    fn every_shipped_experiment_loads() {
        let specs = ExperimentSpec::list(&registry()).unwrap();
        assert!(specs.len() >= 20, "{} experiments", specs.len());
        for spec in &specs {
            assert_eq!(spec.task.trains(), spec.train.is_some(), "{}", spec.name);
        }
    }

    /// For every table of every shipped experiment (top level, `[options]` and the tables
    /// inside it, `[train]` and its optimizer, `[quick]`), a copy of one of its keys with the
    /// last letter dropped must be an error naming that key and the file.
    #[test]
    fn a_misspelt_key_at_any_level_is_an_error_naming_it() {
        let mut checked = 0;
        for entry in std::fs::read_dir(registry()).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let document: toml::Table = toml::from_str(&text).unwrap();
            let mut paths = Vec::new();
            table_paths(&document, "", &mut paths);
            for table_path in paths {
                let mut broken = document.clone();
                let table = table_at(&mut broken, &table_path);
                let Some((key, value)) = table.iter().next().map(|(k, v)| (k.clone(), v.clone()))
                else {
                    continue;
                };
                let typo = key[..key.len() - 1].to_string();
                table.insert(typo.clone(), value);
                let broken = toml::to_string(&broken).unwrap();
                let message = match ExperimentSpec::parse(&broken, &path) {
                    Ok(_) => panic!(
                        "{}: `{typo}` in [{table_path}] was accepted",
                        path.display()
                    ),
                    Err(e) => e.to_string(),
                };
                assert!(
                    message.contains(&format!("`{typo}`"))
                        && message.contains(&path.display().to_string()),
                    "{}: [{table_path}] `{typo}`: {message}",
                    path.display()
                );
                checked += 1;
            }
        }
        assert!(checked >= 60, "only {checked} tables checked");
    }

    #[test]
    fn errors_say_where_the_key_is_and_what_was_expected() {
        let path = Path::new("elsewhere/clstm.toml");
        let spec = |options: &str| {
            let text = format!(
                "description = \"d\"\ntask = \"sentence-classifier\"\n{options}\n\
                 [train]\nepochs = 1\nbatch_size = 2\nseed = 1\n\
                 optimizer = {{ kind = \"adam\", lr = 0.1 }}\n"
            );
            ExperimentSpec::parse(&text, path)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        let typo = spec(
            "[options]\ndataset = \"trec\"\narchitecure = \"clstm\"\n\
             [options.model]\narchitecture = \"cnn\"",
        );
        assert!(
            typo.starts_with("elsewhere/clstm.toml: options")
                && typo.contains("`architecure`")
                && typo.contains("`dataset`"),
            "{typo}"
        );
        let dataset =
            spec("[options]\ndataset = \"brown\"\n[options.model]\narchitecture = \"cnn\"");
        assert!(
            dataset.contains("options.dataset") && dataset.contains("sst2"),
            "{dataset}"
        );
        let unknown =
            spec("[options]\ndataset = \"imdb\"\n[options.model]\narchitecture = \"cnn\"");
        assert!(
            unknown.contains("imdb") && unknown.contains("trec"),
            "{unknown}"
        );
        let maps = spec(
            "[options]\ndataset = \"trec\"\n[options.model]\narchitecture = \"cnn\"\nfeature_maps = 0",
        );
        assert!(
            maps.contains("options.model") && maps.contains("feature_maps"),
            "{maps}"
        );
        let dropout = spec(
            "[options]\ndataset = \"trec\"\n[options.model]\narchitecture = \"clstm\"\ndropout = 1.0",
        );
        assert!(
            dropout.contains("dropout") && dropout.contains("[0, 1)"),
            "{dropout}"
        );
        let task = ExperimentSpec::parse("description = \"d\"\ntask = \"textcn\"\n", path)
            .unwrap_err()
            .to_string();
        assert!(
            task.contains("textcn") && task.contains("brown-genre"),
            "{task}"
        );
        let zero_epochs = ExperimentSpec::parse(
            "description = \"d\"\ntask = \"brown-genre\"\n[train]\nepochs = 0\nbatch_size = 2\n\
             seed = 1\noptimizer = { kind = \"adam\", lr = 0.1 }\n",
            path,
        )
        .unwrap_err()
        .to_string();
        assert!(
            zero_epochs.contains("train") && zero_epochs.contains("epochs"),
            "{zero_epochs}"
        );
        let untrained =
            ExperimentSpec::parse("description = \"d\"\ntask = \"brown-genre\"\n", path)
                .unwrap_err()
                .to_string();
        assert!(untrained.contains("[train]"), "{untrained}");
    }
}
