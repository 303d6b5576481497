//! Sentence classifiers on the user's own files, from command-line arguments alone: the
//! experiments that `train textcnn|rnn --train FILE [--dev FILE] [--test FILE]
//! [--pretrained VECTORS]` run.
//!
//! `rnn` is the registry's BiLSTM classifier (`lstm-sst2`: 150 units each way, mean pooling,
//! dropout 0.5, Adam at 0.001, gradients clipped to norm 5, batch 50, length-bucketed batches,
//! 10 epochs) over 300-d random vectors, or, with `--pretrained`, over those vectors fine-tuned
//! with max pooling (`bilstm-trec`).
//!
//! The experiment is the registry's text CNN with Kim's training (Adadelta, batch 50, 25
//! epochs, dropout 0.5, max-norm 3, widths 3/4/5 × 100 maps): CNN-rand with 300-d random
//! vectors, or CNN-non-static over the given vectors, rescaled to the spread of Kim's word2vec
//! vectors (standard deviation 0.144) with 20 % of their coordinates dropped in training, as
//! `experiments/textcnn-*-nonstatic.toml` do. `--set` changes any field as for registry
//! experiments. The run folder holds what `classify` loads.

use std::path::{Path, PathBuf};

use kindling_data::labelled_files::LabelledFormat;
use kindling_data::source::Encoding;
use kindling_embed::{VectorFormat, read_vectors};

use crate::overrides::Override;
use crate::spec::ExperimentSpec;
use crate::{Error, Result};

/// Which classifier an own-data run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnClassifierKind {
    /// Kim's CNN.
    TextCnn,
    /// A BiLSTM over word vectors.
    Rnn,
}

impl OwnClassifierKind {
    /// The family name: `textcnn` or `rnn` (the run is named `FAMILY-STEM`).
    pub fn name(self) -> &'static str {
        match self {
            Self::TextCnn => "textcnn",
            Self::Rnn => "rnn",
        }
    }
}

/// What the user gives on the command line.
#[derive(Debug, Clone)]
pub struct OwnClassifier {
    /// Which classifier to train.
    pub kind: OwnClassifierKind,
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
    /// The files' text encoding.
    pub encoding: Encoding,
    /// Field overrides, `--set KEY=VALUE`.
    pub overrides: Vec<Override>,
}

/// `FAMILY-STEM.toml`, the name of an own-data experiment: STEM is the file name up to its first
/// `.` (or `{`, for `{lang}` patterns): `train.{lang}.gz` → `train`, `reviews.train` → `reviews`.
fn run_name(family: &str, path: &Path) -> PathBuf {
    let file = path
        .file_name()
        .map_or_else(|| "own".into(), |s| s.to_string_lossy().into_owned());
    let stem = file
        .split(['.', '{'])
        .find(|part| !part.is_empty())
        .unwrap_or("own");
    PathBuf::from(format!("{family}-{stem}.toml"))
}

/// `path` made absolute, as a TOML string.
fn quoted(path: &Path) -> Result<String> {
    let absolute = std::path::absolute(path).map_err(|e| Error::io("resolving", path, e))?;
    Ok(toml::Value::String(absolute.display().to_string()).to_string())
}

impl OwnClassifier {
    /// The experiment, named `FAMILY-STEM` after the training file.
    ///
    /// # Errors
    /// [`Error::Io`] for a path that cannot be made absolute; vector-file errors while reading
    /// the vectors' dimension; [`Error::Spec`] for a bad override.
    pub fn spec(&self) -> Result<ExperimentSpec> {
        let encoding = toml::Value::try_from(self.encoding).map_err(|e| Error::Spec {
            path: self.train.clone(),
            message: format!("encoding: {e}"),
        })?;
        let mut dataset = format!(
            "format = \"{}\"\ntrain = {}\nencoding = {encoding}\n",
            self.format.name(),
            quoted(&self.train)?
        );
        for (key, path) in [("dev", &self.dev), ("test", &self.test)] {
            if let Some(path) = path {
                dataset.push_str(&format!("{key} = {}\n", quoted(path)?));
            }
        }
        let (pretrained, model, description, training) = match self.kind {
            OwnClassifierKind::TextCnn => self.cnn_parts()?,
            OwnClassifierKind::Rnn => self.rnn_parts()?,
        };
        let text = format!(
            "description = {description}\ntask = \"sentence-classifier\"\n\n\
             [options]\n{pretrained}\n[options.dataset]\n{dataset}\n\
             [options.model]\n{model}\n\
             [train]\n{training}\n[quick]\nmax_examples = 200\nepochs = 1\n",
            description = toml::Value::String(description),
        );
        let name = run_name(self.kind.name(), &self.train);
        ExperimentSpec::parse_with(&text, &name, &self.overrides)
    }

    /// The dimension of the pretrained vectors, read from their first entry.
    fn pretrained_dim(path: &Path) -> Result<usize> {
        Ok(read_vectors(path, VectorFormat::detect(path)?, Some(1))?.dim())
    }

    /// Kim's CNN: `(options lines, model lines, description, train lines)`.
    fn cnn_parts(&self) -> Result<(String, String, String, String)> {
        let (pretrained, model, description) = match &self.pretrained {
            Some(path) => {
                let dim = Self::pretrained_dim(path)?;
                (
                    format!("pretrained = {}\n", quoted(path)?),
                    format!(
                        "channels = \"non-static\"\ndim = {dim}\npretrained_std = 0.144\n\
                         embedding_dropout = 0.2\nunknown_bound = 0.25\n"
                    ),
                    format!(
                        "Kim (2014) CNN-non-static on {} over {}",
                        self.train.display(),
                        path.display()
                    ),
                )
            }
            None => (
                String::new(),
                "channels = \"rand\"\ndim = 300\nunknown_bound = 0.1\n".to_string(),
                format!("Kim (2014) CNN-rand on {}", self.train.display()),
            ),
        };
        let model = format!(
            "architecture = \"cnn\"\n{model}filter_widths = [3, 4, 5]\nfeature_maps = 100\n\
             activation = \"relu\"\ndropout = 0.5\nmax_norm = 3.0\n"
        );
        let training = "epochs = 25\nbatch_size = 50\nseed = 1\nmonitor = \"accuracy\"\n\
             goal = \"max\"\noptimizer = { kind = \"adadelta\", lr = 1.0, rho = 0.95, \
             epsilon = 1e-6, sparse_rows = true }\n"
            .to_string();
        Ok((pretrained, model, description, training))
    }

    /// The BiLSTM classifier: `(options lines, model lines, description, train lines)`.
    fn rnn_parts(&self) -> Result<(String, String, String, String)> {
        let (pretrained, embedding, description) = match &self.pretrained {
            Some(path) => {
                let dim = Self::pretrained_dim(path)?;
                (
                    format!("pretrained = {}\n", quoted(path)?),
                    format!("channels = \"non-static\"\ndim = {dim}\npooling = \"max\"\n"),
                    format!(
                        "BiLSTM (150 units each way) on {} over {}, fine-tuned",
                        self.train.display(),
                        path.display()
                    ),
                )
            }
            None => (
                String::new(),
                "channels = \"rand\"\ndim = 300\npooling = \"mean\"\n".to_string(),
                format!(
                    "BiLSTM (150 units each way) over random vectors on {}",
                    self.train.display()
                ),
            ),
        };
        let pretrained = format!("{pretrained}bucket_pool = 20\n");
        let model = format!(
            "architecture = \"rnn\"\n{embedding}dropout = 0.5\n\n\
             [options.model.encoder]\ncell = \"lstm\"\nhidden = 150\nbidirectional = true\n"
        );
        let training = "epochs = 10\nbatch_size = 50\nseed = 1\nmonitor = \"accuracy\"\n\
             goal = \"max\"\noptimizer = { kind = \"adam\", lr = 0.001 }\n\
             clip = { kind = \"global_norm\", max_norm = 5.0 }\n"
            .to_string();
        Ok((pretrained, model, description, training))
    }
}

/// An encoder–decoder on the user's parallel files: what `train translation --source L1
/// --target L2 --train PATTERN [--dev PATTERN] [--test PATTERN] [--bpe N]` runs.
///
/// The experiment is the registry's Bahdanau model (`seq2seq-multi30k-de-en-bahdanau`:
/// bidirectional GRU encoder of 256 per direction, GRU decoder of 512 with additive attention,
/// 256-d vectors, dropout 0.3, lowercased words and punctuation seen at least twice, Adam at
/// 0.001, batch 128, gradients clipped to norm 1, up to 10 epochs with patience 3 on dev
/// perplexity, beam 5), on words or, with `--bpe N`, on joint BPE subwords.
#[derive(Debug, Clone)]
pub struct OwnTranslation {
    /// Source language code, e.g. `de`.
    pub source: String,
    /// Target language code, e.g. `en`.
    pub target: String,
    /// Training files, `{lang}` standing for the language code (e.g. `corpus/train.{lang}`).
    pub train: String,
    /// Dev files (default: a seeded 5 % of the training pairs).
    pub dev: Option<String>,
    /// Test files (default: none; dev scores only).
    pub test: Option<String>,
    /// Joint BPE subwords with this many pieces (default: whole words).
    pub bpe: Option<usize>,
    /// Field overrides, `--set KEY=VALUE`.
    pub overrides: Vec<Override>,
}

impl OwnTranslation {
    /// The experiment, named `translation-STEM` after the training files.
    ///
    /// # Errors
    /// [`Error::Io`] for a path that cannot be made absolute; [`Error::Spec`] for a pattern
    /// without `{lang}`, a bad language code or a bad override.
    pub fn spec(&self) -> Result<ExperimentSpec> {
        let mut data = format!(
            "source = {}\ntarget = {}\ntrain = {}\n",
            toml::Value::String(self.source.clone()),
            toml::Value::String(self.target.clone()),
            quoted(Path::new(&self.train))?
        );
        for (key, pattern) in [("dev", &self.dev), ("test", &self.test)] {
            if let Some(pattern) = pattern {
                data.push_str(&format!("{key} = {}\n", quoted(Path::new(pattern))?));
            }
        }
        let bpe = self
            .bpe
            .map_or(String::new(), |n| format!("bpe_vocabulary = {n}\n"));
        let description = format!(
            "Attention encoder–decoder (Bahdanau) {}→{} on {}{}",
            self.source,
            self.target,
            self.train,
            self.bpe
                .map_or(String::new(), |n| format!(", joint BPE of {n} pieces"))
        );
        let text = format!(
            "description = {description}\ntask = \"translation\"\n\n\
             [options]\nlowercase = true\nmin_count = 2\n{bpe}\n\
             [options.data]\n{data}\n\
             [options.model]\nembedding = 256\ndecoder_hidden = 512\nattention = \"bahdanau\"\n\
             dropout = 0.3\nencoder = {{ cell = \"gru\", hidden = 256, bidirectional = true }}\n\n\
             [options.decode]\nbeam = 5\n\n\
             [train]\nepochs = 10\nbatch_size = 128\neval_batch_size = 128\nseed = 1\n\
             monitor = \"perplexity\"\ngoal = \"min\"\npatience = 3\n\
             optimizer = {{ kind = \"adam\", lr = 0.001 }}\n\
             clip = {{ kind = \"global_norm\", max_norm = 1.0 }}\n\n\
             [quick]\nmax_examples = 400\nepochs = 1\n",
            description = toml::Value::String(description),
        );
        let name = run_name("translation", Path::new(&self.train));
        ExperimentSpec::parse_with(&text, &name, &self.overrides)
    }
}

/// A BiLSTM tagger on the user's tagged files: what `train tagger --train FILE [--dev FILE]
/// [--test FILE] [--format conll|slashed]` runs.
///
/// The experiment is the registry's Brown tagger (`bilstm-pos-brown`: 150 units each way,
/// dropout 0.5, Adam at 0.001, gradients clipped to norm 5, batch 32, length-bucketed batches,
/// 6 epochs) over 50-d random word vectors (words seen at least twice; the rest read as
/// `<unk>`), words keeping their case.
#[derive(Debug, Clone)]
pub struct OwnTagger {
    /// How the files are laid out.
    pub format: crate::tasks::TaggedFormat,
    /// Training sentences.
    pub train: PathBuf,
    /// Dev sentences (default: a seeded tenth of train).
    pub dev: Option<PathBuf>,
    /// Test sentences (default: none).
    pub test: Option<PathBuf>,
    /// Field overrides, `--set KEY=VALUE`.
    pub overrides: Vec<Override>,
}

impl OwnTagger {
    /// The experiment, named `tagger-STEM` after the training file.
    ///
    /// # Errors
    /// [`Error::Io`] for a path that cannot be made absolute; [`Error::Spec`] for a bad
    /// override.
    pub fn spec(&self) -> Result<ExperimentSpec> {
        let format = match self.format {
            crate::tasks::TaggedFormat::Conll => "conll",
            crate::tasks::TaggedFormat::Slashed => "slashed",
        };
        let mut files = format!("format = \"{format}\"\ntrain = {}\n", quoted(&self.train)?);
        for (key, path) in [("dev", &self.dev), ("test", &self.test)] {
            if let Some(path) = path {
                files.push_str(&format!("{key} = {}\n", quoted(path)?));
            }
        }
        let description = format!(
            "BiLSTM tagger (150 units each way) over random word vectors on {}",
            self.train.display()
        );
        let text = format!(
            "description = {description}\ntask = \"pos-tagging\"\n\n\
             [options]\nsplit_seed = 1\nmin_count = 2\nbucket_pool = 20\n\n\
             [options.files]\n{files}\n\
             [options.model]\nchannels = \"rand\"\ndim = 50\ndropout = 0.5\n\n\
             [options.model.encoder]\ncell = \"lstm\"\nhidden = 150\nbidirectional = true\n\n\
             [train]\nepochs = 6\nbatch_size = 32\nseed = 1\nmonitor = \"accuracy\"\n\
             goal = \"max\"\noptimizer = {{ kind = \"adam\", lr = 0.001 }}\n\
             clip = {{ kind = \"global_norm\", max_norm = 5.0 }}\n\n\
             [quick]\nmax_examples = 300\nepochs = 1\n",
            description = toml::Value::String(description),
        );
        let name = run_name("tagger", &self.train);
        ExperimentSpec::parse_with(&text, &name, &self.overrides)
    }
}

/// An LSTM language model of the user's text: what `train lm --train FILE [--dev FILE]
/// [--test FILE]` runs.
///
/// The experiment is the registry's Brown model (`lstm-lm-brown`, PyTorch's
/// word_language_model recipe: 2 × 200 LSTM, 200-d vectors, dropout 0.5, truncated BPTT of 35
/// steps over 20 rows, SGD at 20 divided by 4 when dev perplexity stalls, gradients clipped to
/// norm 0.25, 3 epochs), on lower-cased words seen at least twice.
#[derive(Debug, Clone)]
pub struct OwnLanguageModel {
    /// Training text, one sentence or paragraph per line.
    pub train: PathBuf,
    /// Dev text (default: a seeded tenth of the training lines).
    pub dev: Option<PathBuf>,
    /// Test text (default: none).
    pub test: Option<PathBuf>,
    /// Field overrides, `--set KEY=VALUE`.
    pub overrides: Vec<Override>,
}

impl OwnLanguageModel {
    /// The experiment, named `lm-STEM` after the training file.
    ///
    /// # Errors
    /// [`Error::Io`] for a path that cannot be made absolute; [`Error::Spec`] for a bad
    /// override.
    pub fn spec(&self) -> Result<ExperimentSpec> {
        let mut files = format!("train = {}\n", quoted(&self.train)?);
        for (key, path) in [("dev", &self.dev), ("test", &self.test)] {
            if let Some(path) = path {
                files.push_str(&format!("{key} = {}\n", quoted(path)?));
            }
        }
        let description = format!(
            "Word-level LSTM language model (2 x 200) of {}",
            self.train.display()
        );
        let text = format!(
            "description = {description}\ntask = \"language-model\"\n\n\
             [options]\nsplit_seed = 1\nmin_count = 2\nbptt = 35\neval_rows = 10\n\n\
             [options.files]\n{files}\n\
             [options.model]\ndim = 200\nhidden = 200\nlayers = 2\ndropout = 0.5\ntied = false\n\n\
             [train]\nepochs = 3\nbatch_size = 20\nseed = 1\nmonitor = \"perplexity\"\n\
             goal = \"min\"\noptimizer = {{ kind = \"sgd\", lr = 20.0 }}\n\
             clip = {{ kind = \"global_norm\", max_norm = 0.25 }}\n\
             schedule = {{ kind = \"reduce_on_plateau\", factor = 0.25, patience = 0 }}\n\n\
             [quick]\nmax_examples = 300\nepochs = 1\n",
            description = toml::Value::String(description),
        );
        let name = run_name("lm", &self.train);
        ExperimentSpec::parse_with(&text, &name, &self.overrides)
    }
}

/// Grapheme-to-phoneme conversion learnt from the user's lexicon: what `train g2p --lexicon
/// FILE [--format cmudict|tsv]` runs.
///
/// The experiment is the registry's CMUdict model (`g2p-cmudict`: two-layer bidirectional GRU
/// encoder of 256 per direction with dropout 0.2 between layers, GRU decoder of 512 with
/// additive attention, 128-d symbol vectors, dropout 0.2, Adam at 0.001 halved after epoch 6
/// and every 2 epochs after, batch 128, gradients clipped to norm 1, 14 epochs with patience
/// 3, beam 5), with the words split 90/5/5 at random (seed 1).
#[derive(Debug, Clone)]
pub struct OwnG2p {
    /// The lexicon.
    pub lexicon: PathBuf,
    /// Its layout.
    pub format: crate::tasks::LexiconFormat,
    /// Field overrides, `--set KEY=VALUE`.
    pub overrides: Vec<Override>,
}

impl OwnG2p {
    /// The experiment, named `g2p-STEM` after the lexicon.
    ///
    /// # Errors
    /// [`Error::Io`] for a path that cannot be made absolute; [`Error::Spec`] for a bad
    /// override.
    pub fn spec(&self) -> Result<ExperimentSpec> {
        let format = match self.format {
            crate::tasks::LexiconFormat::Cmudict => "cmudict",
            crate::tasks::LexiconFormat::Tsv => "tsv",
        };
        let description = format!(
            "Grapheme-to-phoneme encoder–decoder with attention on {}",
            self.lexicon.display()
        );
        let text = format!(
            "description = {description}\ntask = \"g2p\"\n\n\
             [options]\nsplit_seed = 1\ndev_fraction = 0.05\ntest_fraction = 0.05\nstress = true\n\n\
             [options.lexicon]\npath = {path}\nformat = \"{format}\"\n\n\
             [options.model]\nembedding = 128\ndecoder_hidden = 512\nattention = \"bahdanau\"\n\
             dropout = 0.2\nencoder = {{ cell = \"gru\", hidden = 256, bidirectional = true, \
             layers = 2, dropout = 0.2 }}\n\n\
             [options.decode]\nbeam = 5\n\n\
             [train]\nepochs = 14\nbatch_size = 128\neval_batch_size = 256\nseed = 1\n\
             monitor = \"perplexity\"\ngoal = \"min\"\npatience = 3\n\
             optimizer = {{ kind = \"adam\", lr = 0.001 }}\n\
             schedule = {{ kind = \"step_decay\", after_epoch = 6, factor = 0.5, every = 2 }}\n\
             clip = {{ kind = \"global_norm\", max_norm = 1.0 }}\n\n\
             [quick]\nmax_examples = 2000\nepochs = 1\n",
            description = toml::Value::String(description),
            path = quoted(&self.lexicon)?,
        );
        let name = run_name("g2p", &self.lexicon);
        ExperimentSpec::parse_with(&text, &name, &self.overrides)
    }
}

/// Which word vectors an own-corpus run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnVectorsMethod {
    /// word2vec skip-gram with negative sampling (`word2vec-sgns-en`'s settings).
    Word2vec,
    /// fastText-style subword skip-gram, n-grams of 3–6 characters (`fasttext-sg-en`'s).
    Fasttext,
    /// GloVe (`glove-en`'s).
    Glove,
}

impl OwnVectorsMethod {
    /// `word2vec`, `fasttext` or `glove`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Word2vec => "word2vec",
            Self::Fasttext => "fasttext",
            Self::Glove => "glove",
        }
    }
}

/// Word vectors trained on the user's corpus: what `train word2vec|fasttext|glove --corpus
/// FILE` runs. The settings are the registry experiments' (100 dimensions, window 5, words
/// seen at least 5 times, 5 epochs); the vectors land in the run folder's `vectors.vec`, and
/// the run is scored on Google's analogies and WordSim-353 when the data directory has them.
#[derive(Debug, Clone)]
pub struct OwnVectors {
    /// The method.
    pub method: OwnVectorsMethod,
    /// The corpus (plain or gzip text, streamed).
    pub corpus: PathBuf,
    /// Field overrides, `--set KEY=VALUE`.
    pub overrides: Vec<Override>,
}

impl OwnVectors {
    /// The experiment, named `METHOD-STEM` after the corpus.
    ///
    /// # Errors
    /// [`Error::Io`] for a path that cannot be made absolute; [`Error::Spec`] for a bad
    /// override.
    pub fn spec(&self) -> Result<ExperimentSpec> {
        let (task, settings) = match self.method {
            OwnVectorsMethod::Word2vec => (
                "word2vec",
                "architecture = \"skip-gram\"\ndim = 100\nwindow = 5\nnegative = 5\n\
                 min_count = 5\nsample = 0.001\nalpha = 0.025\nepochs = 5\nseed = 1\n",
            ),
            OwnVectorsMethod::Fasttext => (
                "subword",
                "architecture = \"skip-gram\"\ndim = 100\nwindow = 5\nnegative = 5\n\
                 min_count = 5\nsample = 0.0001\nalpha = 0.05\nepochs = 5\nmin_n = 3\n\
                 max_n = 6\nbuckets = 2000000\nseed = 1\n",
            ),
            OwnVectorsMethod::Glove => (
                "glove",
                "dim = 100\nwindow = 5\nmin_count = 5\nx_max = 100.0\nalpha = 0.75\n\
                 eta = 0.05\nepochs = 5\nseed = 1\n",
            ),
        };
        let description = format!(
            "{} vectors of {}",
            self.method.name(),
            self.corpus.display()
        );
        let text = format!(
            "description = {description}\ntask = \"{task}\"\n\n\
             [options]\ncorpus = {corpus}\n{settings}",
            description = toml::Value::String(description),
            corpus = quoted(&self.corpus)?,
        );
        let name = run_name(self.method.name(), &self.corpus);
        ExperimentSpec::parse_with(&text, &name, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `spec` on the CPU into `out`, the data directory `dir`; returns its metrics.
    fn run_own(
        spec: &ExperimentSpec,
        dir: &Path,
        out: &Path,
    ) -> serde_json::Map<String, serde_json::Value> {
        let options = crate::runner::RunOptions {
            backend: kindling_core::BackendKind::Flex,
            seed: None,
            quick: false,
            data_dir: dir.to_path_buf(),
            out_dir: Some(out.to_path_buf()),
            progress: false,
            resume: false,
            overwrite: false,
        };
        crate::runner::run(spec, &options).unwrap()
    }
    use crate::tasks::{ClassificationSource, Task};
    use serde_json::json;

    fn own(train: &str) -> OwnClassifier {
        OwnClassifier {
            kind: OwnClassifierKind::TextCnn,
            encoding: Encoding::Utf8,
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
    fn builds_a_bilstm_experiment_with_random_or_pretrained_vectors() {
        let mut args = own("data/reviews.train");
        args.kind = OwnClassifierKind::Rnn;
        let spec = args.spec().unwrap();
        assert_eq!(spec.name, "rnn-reviews");
        let Task::SentenceClassifier(options) = &spec.task else {
            panic!("not a sentence classifier: {:?}", spec.task);
        };
        let model = serde_json::to_value(&options.model).unwrap();
        assert_eq!(model["architecture"], "rnn");
        assert_eq!(model["encoder"]["cell"], "lstm");
        assert_eq!(model["encoder"]["bidirectional"], true);
        assert_eq!(
            (model["dim"].as_u64(), model["pooling"].as_str()),
            (Some(300), Some("mean"))
        );
        assert_eq!(options.bucket_pool, Some(20));
        let train = spec.train.as_ref().unwrap();
        assert_eq!((train.epochs, train.batch_size), (10, 50));
        assert_eq!(train.optimizer.lr(), 0.001);
    }

    #[test]
    fn builds_a_translation_experiment_on_parallel_files() {
        let own = OwnTranslation {
            source: "de".into(),
            target: "en".into(),
            train: "corpus/train.{lang}.gz".into(),
            dev: None,
            test: Some("corpus/test.{lang}".into()),
            bpe: Some(8000),
            overrides: vec!["train.epochs=2".parse().unwrap()],
        };
        let spec = own.spec().unwrap();
        assert_eq!(spec.name, "translation-train");
        let Task::Translation(options) = &spec.task else {
            panic!("not a translation: {:?}", spec.task);
        };
        assert!(options.data.train.ends_with("corpus/train.{lang}.gz"));
        assert!(Path::new(&options.data.train).is_absolute());
        assert!(options.data.dev.is_none());
        assert_eq!(options.bpe_vocabulary, Some(8000));
        assert_eq!(spec.train.as_ref().unwrap().epochs, 2);
        let without_lang = OwnTranslation {
            train: "corpus/train.de".into(),
            ..own
        };
        let err = without_lang.spec().unwrap_err().to_string();
        assert!(err.contains("{lang}"), "{err}");
    }

    #[test]
    fn translates_after_training_on_own_parallel_files_without_dev_or_test() {
        use kindling_core::BackendKind;

        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-own-mt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let words = [
            ("haus", "house"),
            ("katze", "cat"),
            ("hund", "dog"),
            ("baum", "tree"),
        ];
        let (mut de, mut en) = (String::new(), String::new());
        for i in 0..60 {
            let (a, b) = words[i % 4];
            let (c, d) = words[(i / 4) % 4];
            de.push_str(&format!("das {a} und {c}\n"));
            en.push_str(&format!("the {b} and {d}\n"));
        }
        std::fs::write(dir.join("train.de"), de).unwrap();
        std::fs::write(dir.join("train.en"), en).unwrap();
        let own = OwnTranslation {
            source: "de".into(),
            target: "en".into(),
            train: dir.join("train.{lang}").display().to_string(),
            dev: None,
            test: None,
            bpe: None,
            overrides: [
                "train.epochs=2",
                "train.batch_size=8",
                "options.model.embedding=8",
                "options.model.decoder_hidden=8",
                "options.model.encoder.hidden=4",
                "options.min_count=1",
            ]
            .iter()
            .map(|o| o.parse().unwrap())
            .collect(),
        };
        let out = dir.join("run");
        let metrics = run_own(&own.spec().unwrap(), &dir, &out);
        assert_eq!(metrics["experiment"], "translation-train");
        assert!(metrics["dev_bleu"].is_number(), "{metrics:?}");
        assert!(metrics.get("test_bleu").is_none());
        assert_eq!(
            metrics["train_pairs"], 57,
            "5 % of 60 pairs held out as dev"
        );
        let translator =
            kindling_seq2seq::Translator::load(&out, &BackendKind::Flex.device().unwrap()).unwrap();
        assert_eq!(
            translator.translate(&["das haus und hund"]).unwrap().len(),
            1
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tags_after_training_on_own_conll_files_without_dev_or_test() {
        use kindling_core::BackendKind;

        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-own-tag-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        for i in 0..40 {
            let noun = ["dog", "cat"][i % 2];
            let verb = ["runs", "sleeps"][(i / 2) % 2];
            text.push_str(&format!("the\tDET\n{noun}\tNOUN\n{verb}\tVERB\n\n"));
        }
        std::fs::write(dir.join("toy.conll"), text).unwrap();
        let own = OwnTagger {
            format: crate::tasks::TaggedFormat::Conll,
            train: dir.join("toy.conll"),
            dev: None,
            test: None,
            overrides: [
                "train.epochs=2",
                "train.batch_size=8",
                "options.model.dim=8",
                "options.model.encoder.hidden=4",
            ]
            .iter()
            .map(|o| o.parse().unwrap())
            .collect(),
        };
        let spec = own.spec().unwrap();
        assert_eq!(spec.name, "tagger-toy");
        assert!(spec.task.datasets().is_empty(), "needs no registry dataset");
        let out = dir.join("run");
        let metrics = run_own(&spec, &dir, &out);
        assert_eq!(
            metrics["sentences"],
            json!([36, 4, 0]),
            "a tenth held out as dev"
        );
        assert!(metrics["dev_accuracy"].is_number());
        assert!(metrics.get("test_accuracy").is_none());
        let tagger =
            kindling_rnn::saved::SavedTagger::load(&out, &BackendKind::Flex.device().unwrap())
                .unwrap();
        let tagged = tagger.tag_text(&["the cat runs"]).unwrap();
        assert_eq!(tagged[0].len(), 3);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn resume_checks_the_data_by_content_not_by_path() {
        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-own-resume-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        for i in 0..30 {
            let noun = ["dog", "cat"][i % 2];
            text.push_str(&format!("the\tDET\n{noun}\tNOUN\nruns\tVERB\n\n"));
        }
        let train = dir.join("toy.conll");
        std::fs::write(&train, &text).unwrap();
        let spec = |epochs: usize| {
            OwnTagger {
                format: crate::tasks::TaggedFormat::Conll,
                train: train.clone(),
                dev: None,
                test: None,
                overrides: [
                    format!("train.epochs={epochs}"),
                    "train.batch_size=8".into(),
                    "options.model.dim=4".into(),
                    "options.model.encoder.hidden=2".into(),
                ]
                .iter()
                .map(|o| o.parse().unwrap())
                .collect(),
            }
            .spec()
            .unwrap()
        };
        let out = dir.join("run");
        run_own(&spec(1), &dir, &out);
        let saved = std::fs::read_to_string(out.join(crate::runner::DATA_FINGERPRINTS)).unwrap();
        assert!(saved.contains("toy.conll"), "{saved}");
        let options = |resume| crate::runner::RunOptions {
            backend: kindling_core::BackendKind::Flex,
            seed: None,
            quick: false,
            data_dir: dir.clone(),
            out_dir: Some(out.clone()),
            progress: false,
            resume,
            overwrite: false,
        };

        // The same path with other contents (same size: one letter changed) is refused …
        std::fs::write(&train, text.replacen("dog", "dug", 1)).unwrap();
        let refused = crate::runner::run(&spec(2), &options(true)).expect_err("edited data");
        let message = refused.to_string();
        assert!(
            message.contains("cannot resume") && message.contains("toy.conll"),
            "{message}"
        );
        // … and the same contents continue the run.
        std::fs::write(&train, &text).unwrap();
        let metrics = crate::runner::run(&spec(2), &options(true)).unwrap();
        assert_eq!(metrics["epochs_run"], json!(2));
        let log = std::fs::read_to_string(out.join("log.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 2, "one epoch trained, one resumed");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_language_model_of_own_text_continues_a_prompt() {
        use kindling_core::BackendKind;

        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-own-lm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        for i in 0..200 {
            let subject = ["The cat", "A dog", "The bird"][i % 3];
            let verb = ["sees", "likes"][(i / 3) % 2];
            text.push_str(&format!("{subject} {verb} the moon .\n\n"));
        }
        std::fs::write(dir.join("story.txt"), &text).unwrap();
        let test_text: String = text.lines().take(40).map(|l| format!("{l}\n")).collect();
        std::fs::write(dir.join("test.txt"), &test_text).unwrap();
        let own = OwnLanguageModel {
            train: dir.join("story.txt"),
            dev: None,
            test: Some(dir.join("test.txt")),
            overrides: [
                "train.epochs=1",
                "train.batch_size=4",
                "options.bptt=5",
                "options.eval_rows=1",
                "options.model.dim=8",
                "options.model.hidden=8",
                "options.model.layers=1",
            ]
            .iter()
            .map(|o| o.parse().unwrap())
            .collect(),
        };
        let spec = own.spec().unwrap();
        assert_eq!(spec.name, "lm-story");
        assert!(spec.task.datasets().is_empty(), "needs no registry dataset");
        let out = dir.join("run");
        let metrics = run_own(&spec, &dir, &out);
        assert!(metrics["dev_perplexity"].is_number(), "{metrics:?}");
        let model = kindling_rnn::saved::SavedLanguageModel::load(
            &out,
            &BackendKind::Flex.device().unwrap(),
        )
        .unwrap();
        let words = model.continue_text("The cat", 5, 1.0, 1).unwrap();
        assert_eq!(
            &words[..2],
            ["the", "cat"],
            "the prompt, lower-cased as in training"
        );
        // The loaded model measures a file as the run measured its test split.
        let lines: Vec<&str> = test_text.lines().collect();
        let perplexity = model.perplexity(&lines, 5).unwrap();
        let reported = metrics["test_perplexity"].as_f64().unwrap();
        assert!(
            (perplexity - reported).abs() < 1e-3 * reported,
            "{perplexity} vs {reported}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn pronounces_after_learning_an_own_tab_lexicon() {
        use kindling_core::BackendKind;

        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-own-g2p-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Letters spelt as themselves: any alphabet of phones will do.
        let mut lexicon = String::new();
        for a in ["b", "d", "k", "m", "t"] {
            for b in ["a", "e", "i", "o"] {
                for c in ["n", "s", "p", "l"] {
                    lexicon.push_str(&format!("{a}{b}{c}\t{a} {b}ː {c}\n"));
                }
            }
        }
        std::fs::write(dir.join("toy.tsv"), lexicon).unwrap();
        let own = OwnG2p {
            lexicon: dir.join("toy.tsv"),
            format: crate::tasks::LexiconFormat::Tsv,
            overrides: [
                "train.epochs=1",
                "train.batch_size=16",
                "options.model.embedding=8",
                "options.model.decoder_hidden=8",
                "options.model.encoder.hidden=4",
                "options.model.encoder.layers=1",
                "options.dev_fraction=0.1",
                "options.test_fraction=0.1",
            ]
            .iter()
            .map(|o| o.parse().unwrap())
            .collect(),
        };
        let spec = own.spec().unwrap();
        assert_eq!(spec.name, "g2p-toy");
        assert!(spec.task.datasets().is_empty(), "needs no registry dataset");
        let out = dir.join("run");
        let metrics = run_own(&spec, &dir, &out);
        assert_eq!(metrics["test_words"], 8, "{metrics:?}");
        assert!(metrics["test_wer"].is_number());
        let translator =
            kindling_seq2seq::Translator::load(&out, &BackendKind::Flex.device().unwrap()).unwrap();
        assert_eq!(translator.translate(&["bal"]).unwrap().len(), 1);
        // One decode: what the experiment wrote for its test words, greedy and with the saved
        // beam, is what the loaded run (as `pronounce` uses it) says for them.
        let saved = translator.decode_settings().clone();
        assert!(saved.beam > 1, "the default search is a beam");
        for (file, settings) in [
            ("test.greedy.txt".to_string(), saved.greedy()),
            (format!("test.beam{}.txt", saved.beam), saved.clone()),
        ] {
            let written = std::fs::read_to_string(out.join(&file)).unwrap();
            let (words, outputs): (Vec<&str>, Vec<&str>) = written
                .lines()
                .map(|line| line.split_once('\t').unwrap())
                .unzip();
            assert_eq!(words.len(), 8, "{file}");
            let again: Vec<String> = translator
                .translate_nbest(&words, &settings)
                .unwrap()
                .into_iter()
                .map(|best| best[0].text.clone())
                .collect();
            assert_eq!(again, outputs, "{file}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn word_vectors_of_an_own_corpus_land_in_the_run_folder() {
        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-own-vec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        for i in 0..300 {
            let colour = ["red", "blue", "green"][i % 3];
            text.push_str(&format!("the {colour} car is here\n"));
        }
        std::fs::write(dir.join("cars.txt"), text).unwrap();
        for method in [
            OwnVectorsMethod::Word2vec,
            OwnVectorsMethod::Fasttext,
            OwnVectorsMethod::Glove,
        ] {
            let own = OwnVectors {
                method,
                corpus: dir.join("cars.txt"),
                overrides: ["options.dim=8", "options.min_count=1", "options.threads=1"]
                    .iter()
                    .chain(if method == OwnVectorsMethod::Fasttext {
                        ["options.buckets=1000"].iter()
                    } else {
                        [].iter()
                    })
                    .map(|o| o.parse().unwrap())
                    .collect(),
            };
            let spec = own.spec().unwrap();
            assert_eq!(spec.name, format!("{}-cars", method.name()));
            assert!(spec.task.datasets().is_empty(), "needs no registry dataset");
            let out = dir.join(method.name());
            let metrics = run_own(&spec, &dir, &out);
            assert_eq!(metrics["vocabulary"], 7, "{metrics:?}");
            assert!(
                metrics.get("analogy_total").is_none(),
                "no evaluation sets here"
            );
            let vectors = kindling_embed::read_vectors(
                &out.join("vectors.vec"),
                kindling_embed::VectorFormat::Word2VecText,
                None,
            )
            .unwrap();
            assert_eq!((vectors.len(), vectors.dim()), (7, 8));
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn embedding_options_still_refuse_misspelt_keys() {
        let own = OwnVectors {
            method: OwnVectorsMethod::Word2vec,
            corpus: "corpus.txt".into(),
            overrides: vec!["options.dimm=8".parse().unwrap()],
        };
        let err = own.spec().unwrap_err().to_string();
        assert!(err.contains("dimm"), "{err}");
        let Task::Word2vec(options) = own_spec_without_overrides(&own).task else {
            panic!("not word2vec");
        };
        assert!(options.corpus.unwrap().ends_with("corpus.txt"));
        assert_eq!(options.config.dim, 100);
    }

    fn own_spec_without_overrides(own: &OwnVectors) -> ExperimentSpec {
        OwnVectors {
            overrides: Vec::new(),
            ..own.clone()
        }
        .spec()
        .unwrap()
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

        let _alone = crate::train_alone();

        let dir = std::env::temp_dir().join(format!("kindling-own-run-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Latin-1 bytes: `café` is `caf\xE9`, which is not UTF-8.
        let lines = |n: usize| -> Vec<u8> {
            (0..n)
                .flat_map(|i| {
                    let line = if i % 2 == 0 {
                        format!("__label__up good great fine film {i} caf")
                    } else {
                        format!("__label__down bad awful dull film {i} caf")
                    };
                    line.into_bytes().into_iter().chain([0xE9, b'\n'])
                })
                .collect()
        };
        std::fs::write(dir.join("tiny.train"), lines(40)).unwrap();
        std::fs::write(dir.join("tiny.test"), lines(8)).unwrap();
        // Read as UTF-8, the first line is an error naming file and line.
        let utf8 = OwnClassifier {
            kind: OwnClassifierKind::TextCnn,
            encoding: Encoding::Utf8,
            format: LabelledFormat::Fasttext,
            train: dir.join("tiny.train"),
            dev: None,
            test: Some(dir.join("tiny.test")),
            pretrained: None,
            overrides: Vec::new(),
        };
        let err = crate::runner::run(
            &utf8.spec().unwrap(),
            &crate::runner::RunOptions {
                backend: kindling_core::BackendKind::Flex,
                seed: None,
                quick: false,
                data_dir: dir.clone(),
                out_dir: Some(dir.join("utf8")),
                progress: false,
                resume: false,
                overwrite: false,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("tiny.train:1"), "{err}");
        for (kind, overrides) in [
            (
                OwnClassifierKind::TextCnn,
                vec!["options.model.dim=8", "options.model.feature_maps=4"],
            ),
            (
                OwnClassifierKind::Rnn,
                vec!["options.model.dim=8", "options.model.encoder.hidden=4"],
            ),
        ] {
            let args = OwnClassifier {
                kind,
                encoding: Encoding::Latin1,
                format: LabelledFormat::Fasttext,
                train: dir.join("tiny.train"),
                dev: None,
                test: Some(dir.join("tiny.test")),
                pretrained: None,
                overrides: ["train.epochs=3", "train.batch_size=8"]
                    .iter()
                    .chain(&overrides)
                    .map(|o| o.parse().unwrap())
                    .collect(),
            };
            let out = dir.join(kind.name());
            let metrics = run_own(&args.spec().unwrap(), &dir, &out);
            assert_eq!(metrics["experiment"], format!("{}-tiny", kind.name()));
            assert_eq!(metrics["test_examples"], 8);
            assert_eq!(
                metrics["dev_examples"], 4,
                "a tenth of train held out as dev"
            );
            let classifier =
                kindling_textcnn::Classifier::load(&out, &BackendKind::Flex.device().unwrap())
                    .unwrap();
            let predicted = classifier.classify(&["a good film".to_string()]).unwrap();
            assert!(["up", "down"].contains(&predicted[0].label.as_str()));
        }
        // Without a test file the run cross-validates, then trains the model it leaves at the
        // run's root (where `classify` loads it) on all of train.
        let args = OwnClassifier {
            kind: OwnClassifierKind::TextCnn,
            encoding: Encoding::Latin1,
            format: LabelledFormat::Fasttext,
            train: dir.join("tiny.train"),
            dev: None,
            test: None,
            pretrained: None,
            overrides: [
                "train.epochs=2",
                "train.batch_size=8",
                "options.model.dim=8",
                "options.model.feature_maps=4",
                "options.folds=2",
            ]
            .iter()
            .map(|o| o.parse().unwrap())
            .collect(),
        };
        let out = dir.join("cross-validated");
        let metrics = run_own(&args.spec().unwrap(), &dir, &out);
        assert_eq!(metrics["folds"], 2);
        assert!(metrics["test_accuracy"].is_number(), "the fold mean");
        let final_model = &metrics["final_model"];
        assert!(final_model["dev_accuracy"].is_number(), "{final_model}");
        assert!(final_model.get("test_accuracy").is_none(), "{final_model}");
        assert_eq!(
            final_model["train_examples"].as_u64().unwrap()
                + final_model["dev_examples"].as_u64().unwrap(),
            metrics["fold_1"]["train_examples"].as_u64().unwrap()
                + metrics["fold_1"]["dev_examples"].as_u64().unwrap()
                + metrics["fold_1"]["test_examples"].as_u64().unwrap(),
            "all of train"
        );
        let classifier =
            kindling_textcnn::Classifier::load(&out, &BackendKind::Flex.device().unwrap()).unwrap();
        assert_eq!(classifier.classify(&["a good film"]).unwrap().len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
