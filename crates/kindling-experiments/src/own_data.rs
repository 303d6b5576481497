//! Kim's CNN on the user's own files, from command-line arguments alone: the experiment that
//! `train textcnn --train FILE [--dev FILE] [--test FILE] [--pretrained VECTORS]` runs.
//!
//! The experiment is the registry's text CNN with Kim's training (Adadelta, batch 50, 25
//! epochs, dropout 0.5, max-norm 3, widths 3/4/5 × 100 maps): CNN-rand with 300-d random
//! vectors, or CNN-non-static over the given vectors, rescaled to the spread of Kim's word2vec
//! vectors (standard deviation 0.144) with 20 % of their coordinates dropped in training, as
//! `experiments/textcnn-*-nonstatic.toml` do. `--set` changes any field as for registry
//! experiments. The run folder holds what `classify` loads.

use std::path::{Path, PathBuf};

use kindling_data::labelled_files::LabelledFormat;
use kindling_embed::{VectorFormat, read_vectors};

use crate::overrides::Override;
use crate::spec::ExperimentSpec;
use crate::{Error, Result};

/// What the user gives on the command line.
#[derive(Debug, Clone)]
pub struct OwnTextCnn {
    /// How the files are laid out.
    pub format: LabelledFormat,
    /// Training examples.
    pub train: PathBuf,
    /// Dev examples (default: a stratified tenth of train).
    pub dev: Option<PathBuf>,
    /// Test examples (default: 10-fold cross-validation).
    pub test: Option<PathBuf>,
    /// Pretrained vectors (default: random vectors, CNN-rand).
    pub pretrained: Option<PathBuf>,
    /// Field overrides, `--set KEY=VALUE`.
    pub overrides: Vec<Override>,
}

impl OwnTextCnn {
    /// The experiment, named `textcnn-STEM` after the training file.
    ///
    /// # Errors
    /// [`Error::Io`] for a path that cannot be made absolute; vector-file errors while reading
    /// the vectors' dimension; [`Error::Spec`] for a bad override.
    pub fn spec(&self) -> Result<ExperimentSpec> {
        let absolute =
            |path: &Path| std::path::absolute(path).map_err(|e| Error::io("resolving", path, e));
        let quoted = |path: &Path| -> Result<String> {
            Ok(toml::Value::String(absolute(path)?.display().to_string()).to_string())
        };
        let mut dataset = format!(
            "format = \"{}\"\ntrain = {}\n",
            self.format.name(),
            quoted(&self.train)?
        );
        for (key, path) in [("dev", &self.dev), ("test", &self.test)] {
            if let Some(path) = path {
                dataset.push_str(&format!("{key} = {}\n", quoted(path)?));
            }
        }
        let (pretrained, model) = match &self.pretrained {
            Some(path) => {
                let dim = read_vectors(path, VectorFormat::detect(path)?, Some(1))?.dim();
                (
                    format!("pretrained = {}\n", quoted(path)?),
                    format!(
                        "channels = \"non-static\"\ndim = {dim}\npretrained_std = 0.144\n\
                         embedding_dropout = 0.2\nunknown_bound = 0.25\n"
                    ),
                )
            }
            None => (
                String::new(),
                "channels = \"rand\"\ndim = 300\nunknown_bound = 0.1\n".to_string(),
            ),
        };
        let description = match &self.pretrained {
            Some(path) => format!(
                "Kim (2014) CNN-non-static on {} over {}",
                self.train.display(),
                path.display()
            ),
            None => format!("Kim (2014) CNN-rand on {}", self.train.display()),
        };
        let text = format!(
            "description = {description}\ntask = \"sentence-classifier\"\n\n\
             [options]\n{pretrained}\n[options.dataset]\n{dataset}\n\
             [options.model]\narchitecture = \"cnn\"\n{model}filter_widths = [3, 4, 5]\n\
             feature_maps = 100\nactivation = \"relu\"\ndropout = 0.5\nmax_norm = 3.0\n\n\
             [train]\nepochs = 25\nbatch_size = 50\nseed = 1\nmonitor = \"accuracy\"\n\
             goal = \"max\"\noptimizer = {{ kind = \"adadelta\", lr = 1.0, rho = 0.95, \
             epsilon = 1e-6, sparse_rows = true }}\n\n[quick]\nmax_examples = 200\nepochs = 1\n",
            description = toml::Value::String(description),
        );
        let stem = self
            .train
            .file_stem()
            .map_or_else(|| "own".into(), |s| s.to_string_lossy().into_owned());
        let name = PathBuf::from(format!("textcnn-{stem}.toml"));
        ExperimentSpec::parse_with(&text, &name, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{ClassificationSource, Task};

    fn own(train: &str) -> OwnTextCnn {
        OwnTextCnn {
            format: LabelledFormat::Fasttext,
            train: train.into(),
            dev: None,
            test: Some("data/reviews.test".into()),
            pretrained: None,
            overrides: vec![],
        }
    }

    #[test]
    fn builds_a_checked_cnn_rand_experiment_named_after_the_file() {
        let spec = own("data/reviews.train").spec().unwrap();
        assert_eq!(spec.name, "textcnn-reviews");
        let Task::SentenceClassifier(options) = &spec.task else {
            panic!("not a sentence classifier: {:?}", spec.task);
        };
        let ClassificationSource::Files(files) = &options.dataset else {
            panic!("not the user's files");
        };
        assert!(files.train.is_absolute() && files.train.ends_with("data/reviews.train"));
        assert!(files.test.as_ref().unwrap().ends_with("data/reviews.test"));
        assert!(files.dev.is_none());
        assert_eq!(spec.train.as_ref().unwrap().epochs, 25);
    }

    #[test]
    fn overrides_are_checked_like_the_registry_files() {
        let mut args = own("r.train");
        args.overrides = vec!["train.epochs=3".parse().unwrap()];
        assert_eq!(args.spec().unwrap().train.unwrap().epochs, 3);
        args.overrides = vec!["train.epoch=3".parse().unwrap()];
        let err = args.spec().unwrap_err().to_string();
        assert!(
            err.contains("epoch") && err.contains("--set train.epoch=3"),
            "{err}"
        );
    }

    #[test]
    fn pretrained_vectors_set_the_dimension() {
        let dir = std::env::temp_dir().join(format!("kindling-own-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vectors = dir.join("tiny.vec");
        std::fs::write(&vectors, "2 3\ngood 0.1 0.2 0.3\nbad -0.1 0 0.5\n").unwrap();
        let mut args = own("r.train");
        args.pretrained = Some(vectors.clone());
        let spec = args.spec().unwrap();
        let Task::SentenceClassifier(options) = &spec.task else {
            panic!("not a sentence classifier");
        };
        assert_eq!(options.pretrained.as_deref(), Some(vectors.as_path()));
        let model = serde_json::to_value(&options.model).unwrap();
        assert_eq!(
            (model["dim"].as_u64(), model["channels"].as_str()),
            (Some(3), Some("non-static"))
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn trains_on_own_files_and_the_run_folder_classifies() {
        use kindling_core::BackendKind;

        use crate::runner::{self, RunOptions};

        let _alone = crate::train_alone();

        let dir = std::env::temp_dir().join(format!("kindling-own-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let lines = |n: usize| -> String {
            (0..n)
                .map(|i| {
                    if i % 2 == 0 {
                        format!("__label__up good great fine film {i}\n")
                    } else {
                        format!("__label__down bad awful dull film {i}\n")
                    }
                })
                .collect()
        };
        std::fs::write(dir.join("tiny.train"), lines(40)).unwrap();
        std::fs::write(dir.join("tiny.test"), lines(8)).unwrap();
        let args = OwnTextCnn {
            format: LabelledFormat::Fasttext,
            train: dir.join("tiny.train"),
            dev: None,
            test: Some(dir.join("tiny.test")),
            pretrained: None,
            overrides: [
                "train.epochs=3",
                "train.batch_size=8",
                "options.model.dim=8",
                "options.model.feature_maps=4",
            ]
            .iter()
            .map(|o| o.parse().unwrap())
            .collect(),
        };
        let out = dir.join("run");
        let options = RunOptions {
            backend: BackendKind::Flex,
            seed: None,
            quick: false,
            data_dir: dir.clone(),
            out_dir: Some(out.clone()),
            progress: false,
            resume: false,
            overwrite: false,
        };
        let metrics = runner::run(&args.spec().unwrap(), &options).unwrap();
        assert_eq!(metrics["experiment"], "textcnn-tiny");
        assert_eq!(metrics["test_examples"], 8);
        assert_eq!(
            metrics["dev_examples"], 4,
            "a tenth of train held out as dev"
        );
        let classifier =
            kindling_textcnn::Classifier::load(&out, &BackendKind::Flex.device().unwrap()).unwrap();
        let predicted = classifier.classify(&["a good film".to_string()]).unwrap();
        assert!(["up", "down"].contains(&predicted[0].label.as_str()));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
