//! Command-line entry point: `kindling-experiments list | run | train-… | …`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kindling_core::BackendKind;
use kindling_data::DataDir;
use kindling_data::check::{self, CheckStatus};
use kindling_experiments::Result;
use kindling_experiments::runner::{self, RunOptions};
use kindling_experiments::spec::ExperimentSpec;
use kindling_seq2seq::Translator;
use kindling_textcnn::Classifier;

/// Runs kindling's named experiments, trains on your own files and uses trained runs.
#[derive(Parser)]
#[command(name = "kindling-experiments")]
struct Cli {
    /// Directory of experiment files.
    #[arg(long, default_value = "experiments", global = true)]
    registry: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the experiments of the registry.
    List,
    /// Writes the Brown corpus as `bilstm-pos-brown` reads it (base tags, documents split
    /// 80/10/10) into `OUT/brown.{train,dev,test}.conll`, for `train-tagger`.
    ExportBrown {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The folder to write into.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the document split (the experiment's `split_seed`).
        #[arg(long, default_value_t = 1)]
        split_seed: u64,
    },
    /// Prints the registry datasets an experiment reads, one name per line.
    Needs {
        /// Experiment name (`experiments/NAME.toml`).
        name: String,
    },
    /// Runs one experiment and writes its results.
    Run {
        /// Experiment name (`experiments/NAME.toml`).
        name: String,
        /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<BackendKind>,
        /// Overrides the experiment's seed.
        #[arg(long, conflicts_with = "seeds")]
        seed: Option<u64>,
        /// Runs once per seed (comma-separated) into OUT/seed-N/ and writes summary.json and
        /// summary.md (mean ± standard deviation of every metric).
        #[arg(long, value_delimiter = ',')]
        seeds: Vec<u64>,
        /// Overrides any field of the experiment file, e.g. `--set train.epochs=5` or
        /// `--set train.optimizer.lr=0.01` (checked like the file: a wrong key is an error).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<kindling_experiments::overrides::Override>,
        /// Runs the cut-down smoke-test variant.
        #[arg(long)]
        quick: bool,
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Output directory (default: runs/NAME/<timestamp>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Hides progress bars.
        #[arg(long)]
        no_progress: bool,
        /// Continues the run in `--out` from its last checkpoint (bit-identical to an
        /// uninterrupted run on the same backend); with `--set train.epochs=N`, trains a
        /// finished run further. The settings must match the run's otherwise.
        #[arg(long, requires = "out")]
        resume: bool,
        /// Clears the run folder in `--out` first when it holds a run (without it, such a
        /// folder is an error unless `--resume` continues it).
        #[arg(long, requires = "out", conflicts_with = "resume")]
        overwrite: bool,
    },
    /// Trains Kim's CNN on your own files (CNN-rand, or CNN-non-static with --pretrained) and
    /// writes the run like `run` does; `classify` then loads the run folder.
    TrainTextcnn {
        #[command(flatten)]
        own: OwnClassifierArgs,
    },
    /// Trains a BiLSTM classifier on your own files (over random vectors, or fine-tuned
    /// --pretrained ones) and writes the run like `run` does; `classify` then loads it.
    TrainRnn {
        #[command(flatten)]
        own: OwnClassifierArgs,
    },
    /// The perplexity of a text (one sentence or paragraph per line; `-` for standard input)
    /// under the language model of a `language-model` run.
    Perplexity {
        /// The run's output directory.
        run: PathBuf,
        /// The text file.
        file: PathBuf,
        /// Steps per window (the state is carried across windows).
        #[arg(long, default_value_t = 35)]
        bptt: usize,
        /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<BackendKind>,
    },
    /// Corpus BLEU and chrF of hypotheses against references, one sentence per line, with
    /// sacreBLEU's defaults (13a tokenisation, exponential smoothing; chrF β = 2).
    Score {
        /// The reference file.
        #[arg(long = "ref")]
        reference: PathBuf,
        /// The hypothesis file (default: standard input).
        #[arg(long = "hyp")]
        hypothesis: Option<PathBuf>,
        /// Which scores: bleu, chrf or both (comma-separated).
        #[arg(long, default_value = "bleu,chrf", value_delimiter = ',', value_parser = ["bleu", "chrf"])]
        metric: Vec<String>,
    },
    /// Queries, evaluates or converts a word-vector file (word2vec text or binary, GloVe,
    /// fastText `.vec`; gzip allowed; the format from the file name: `.bin` binary, a `COUNT
    /// DIM` header word2vec text, else GloVe).
    Vectors {
        /// The vector file.
        file: PathBuf,
        #[command(subcommand)]
        query: VectorQuery,
    },
    /// Trains a BiLSTM tagger on your own tagged files (CoNLL columns or `word/TAG` lines) and
    /// writes the run like `run` does; `tag` then loads it.
    TrainTagger {
        #[command(flatten)]
        own: OwnTaggerArgs,
    },
    /// Trains an LSTM language model on your own text and writes the run like `run` does;
    /// `generate` then loads it.
    TrainLm {
        #[command(flatten)]
        own: OwnLanguageModelArgs,
    },
    /// Trains a grapheme-to-phoneme model on your own lexicon and writes the run like `run`
    /// does; `pronounce` then loads it.
    TrainG2p {
        #[command(flatten)]
        own: OwnG2pArgs,
    },
    /// Trains word vectors on your own corpus (word2vec, fastText-style subwords or GloVe)
    /// into the run folder's `vectors.vec`, which `vectors` then queries.
    TrainVectors {
        #[command(flatten)]
        own: OwnVectorsArgs,
    },
    /// Trains an attention encoder–decoder on your own parallel files (words, or joint BPE
    /// with --bpe) and writes the run like `run` does; `translate` then loads it.
    TrainTranslation {
        #[command(flatten)]
        own: OwnTranslationArgs,
    },
    /// Classifies sentences (arguments, else standard input, one per line) with the classifier
    /// of a `sentence-classifier` run: prints the label, then each label's probability.
    Classify {
        /// The run's output directory (holding classifier.json, vocab.txt and best.ckpt).
        run: PathBuf,
        /// Sentences; none: read standard input.
        sentences: Vec<String>,
        /// Shows the K most probable labels, best first (default: every label, in label order).
        #[arg(long)]
        top: Option<usize>,
        /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<BackendKind>,
    },
    /// Translates sentences (arguments, else standard input, one per line) with the model of a
    /// `translation` run: prints one translation per line.
    Translate {
        /// The run's output directory (holding seq2seq.json, the vocabularies and best.ckpt).
        run: PathBuf,
        /// Sentences; none: read standard input.
        sentences: Vec<String>,
        /// Search settings (default: the run's own).
        #[command(flatten)]
        decode: DecodeArgs,
        /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<BackendKind>,
    },
    /// Pronounces words (arguments, else standard input, one per line) with the model of a
    /// `g2p` run: prints `word<TAB>phonemes`.
    Pronounce {
        /// The run's output directory (holding seq2seq.json, the vocabularies and best.ckpt).
        run: PathBuf,
        /// Words; none: read standard input.
        words: Vec<String>,
        /// Search settings (default: the run's own).
        #[command(flatten)]
        decode: DecodeArgs,
        /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<BackendKind>,
    },
    /// Tags sentences (arguments, else standard input, one per line; words split at spaces)
    /// with the tagger of a `pos-tagging` run: prints `word/TAG` tokens.
    Tag {
        /// The run's output directory (holding model.json, vocab.txt and best.ckpt).
        run: PathBuf,
        /// Sentences; none: read standard input.
        sentences: Vec<String>,
        /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<BackendKind>,
    },
    /// Continues a prompt with the language model of a `language-model` run.
    Generate {
        /// The run's output directory (holding model.json, vocab.txt and best.ckpt).
        run: PathBuf,
        /// The prompt's words (none: start a sentence).
        prompt: Vec<String>,
        /// Words to sample at most (sampling stops at the end of a sentence).
        #[arg(long, default_value_t = 30)]
        words: usize,
        /// Softmax temperature (below 1: safer; above 1: more varied).
        #[arg(long, default_value_t = 0.8)]
        temperature: f64,
        /// Sampling seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<BackendKind>,
    },
    /// Writes docs/RESULTS.md (text CNN results next to Kim's, recurrent results next to their
    /// targets) from the archived metrics in docs/results; `--keep` first archives the newest
    /// run of each experiment.
    Results {
        /// Directory of experiment outputs (`DIR/NAME/<timestamp>/metrics.json` or
        /// `DIR/NAME/metrics.json`).
        #[arg(long, default_value = "runs")]
        runs: PathBuf,
        /// The Markdown file to write.
        #[arg(long, default_value = "docs/RESULTS.md")]
        out: PathBuf,
        /// The archive of the metrics behind the tables (`NAME.json`), the tables' only source.
        #[arg(long, default_value = "docs/results")]
        archive: PathBuf,
        /// First copies the newest full run (metrics.json or a multi-seed summary.json) of the
        /// committed experiment file, for every experiment in `runs`, into the archive; newer
        /// runs with other settings or `--quick` are passed over, each with the reason.
        #[arg(long)]
        keep: bool,
        /// With --keep: the newest run of each experiment, whatever its settings.
        #[arg(long, requires = "keep")]
        force: bool,
    },
    /// Verifies every dataset present in the data directory against its published counts and
    /// prints a table; fails when a present dataset is unreadable or differs.
    DataCheck {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Fails also when a dataset is missing.
        #[arg(long)]
        require_all: bool,
    },
}

/// What `vectors FILE …` does.
#[derive(Subcommand)]
enum VectorQuery {
    /// The nearest neighbours of a word by cosine similarity, one `word<TAB>cosine` per line
    /// (`fasttext nn`, gensim's `most_similar`).
    Nn {
        /// The word.
        word: String,
        /// How many neighbours.
        #[arg(short, default_value_t = 10)]
        k: usize,
    },
    /// The best answers to `A : B :: C : ?` (`fasttext analogies`, gensim's
    /// `most_similar(positive=[B, C], negative=[A])`).
    Analogy {
        /// A.
        a: String,
        /// B.
        b: String,
        /// C.
        c: String,
        /// How many answers.
        #[arg(short, default_value_t = 10)]
        k: usize,
        /// 3CosMul (gensim's `most_similar_cosmul`) instead of 3CosAdd.
        #[arg(long)]
        cosmul: bool,
    },
    /// The cosine similarity of two words.
    Similarity {
        /// The first word.
        a: String,
        /// The second word.
        b: String,
    },
    /// Prints `word v1 v2 …` for each word (`fasttext print-word-vectors`), each value as the
    /// shortest decimal that reads back as the same float.
    Print {
        /// The words; none: read them from standard input, one or more per line.
        words: Vec<String>,
    },
    /// Scores the vectors on analogy questions and word-pair similarities with gensim's
    /// protocols (`evaluate_word_analogies`, `evaluate_word_pairs`).
    Evaluate {
        /// Analogy questions (Google's `questions-words.txt` format).
        #[arg(long)]
        analogies: Option<PathBuf>,
        /// Word pairs with similarity scores (WordSim-353's `word TAB word TAB score`).
        #[arg(long)]
        pairs: Option<PathBuf>,
        /// Only the first this many words answer and ask (gensim's `restrict_vocab`).
        #[arg(long, default_value_t = 300_000)]
        restrict_vocab: usize,
    },
    /// Writes the vectors to OUT in the format its name says (`.bin`: word2vec binary; a name
    /// with `glove`: GloVe text, without a header; else word2vec text, as fastText's `.vec`;
    /// `.gz` compresses), or in `--format`.
    Convert {
        /// The output file.
        out: PathBuf,
        /// The output format (default: from OUT's name); `fasttext` writes a subword model
        /// (read from a fastText `.bin` or a kindling subword model) as a fastText `.bin`.
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
    },
}

/// The formats `vectors … convert` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    /// word2vec text (fastText's `.vec`).
    Word2vec,
    /// word2vec binary.
    Word2vecBinary,
    /// GloVe text, without a header.
    Glove,
    /// A fastText model file (`.bin`), n-grams included.
    Fasttext,
}

impl From<OutputFormat> for kindling_embed::VectorFormat {
    fn from(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Word2vec => Self::Word2VecText,
            OutputFormat::Word2vecBinary => Self::Word2VecBinary,
            OutputFormat::Glove => Self::GloveText,
            OutputFormat::Fasttext => Self::FastTextModel,
        }
    }
}

/// The largest `-k` a vector query takes.
const MAX_NEIGHBOURS: usize = 100_000;

/// Runs a `vectors` query.
fn vectors(file: &std::path::Path, query: VectorQuery) -> Result<()> {
    use kindling_embed::{AnalogyMethod, KeyedVectors, Similarity, VectorFormat};

    let check_k = |k: usize| -> Result<()> {
        if (1..=MAX_NEIGHBOURS).contains(&k) {
            Ok(())
        } else {
            Err(kindling_experiments::Error::Flag {
                flag: "-k".into(),
                problem: format!("must be in 1..={MAX_NEIGHBOURS}, got {k}"),
            })
        }
    };
    match &query {
        VectorQuery::Nn { k, .. } | VectorQuery::Analogy { k, .. } => check_k(*k)?,
        _ => {}
    }
    let keyed = KeyedVectors::load(file)?;
    let vectors = keyed.vectors();
    let device = || BackendKind::Flex.device();
    match query {
        VectorQuery::Nn { word, k } => {
            for n in keyed.nearest(&Similarity::new(vectors, &device()?), &word, k)? {
                println!("{}\t{:.4}", n.word, n.score);
            }
        }
        VectorQuery::Analogy { a, b, c, k, cosmul } => {
            let method = if cosmul {
                AnalogyMethod::CosMul
            } else {
                AnalogyMethod::CosAdd
            };
            for n in Similarity::new(vectors, &device()?).analogy(&a, &b, &c, k, method)? {
                println!("{}\t{:.4}", n.word, n.score);
            }
        }
        VectorQuery::Similarity { a, b } => {
            let cosine =
                kindling_embed::vectors::cosine(&keyed.word_vector(&a)?, &keyed.word_vector(&b)?);
            println!("{cosine:.4}");
        }
        VectorQuery::Print { words } => {
            let print = |word: &str| -> Result<()> {
                let values: Vec<String> = keyed
                    .word_vector(word)?
                    .iter()
                    .map(|v| v.to_string())
                    .collect();
                println!("{word} {}", values.join(" "));
                Ok(())
            };
            if words.is_empty() {
                for line in std::io::stdin().lines() {
                    let line = line.map_err(|e| {
                        kindling_experiments::Error::io("reading", "standard input", e)
                    })?;
                    for word in line.split_whitespace() {
                        print(word)?;
                    }
                }
            } else {
                for word in &words {
                    print(word)?;
                }
            }
        }
        VectorQuery::Evaluate {
            analogies,
            pairs,
            restrict_vocab,
        } => {
            if analogies.is_none() && pairs.is_none() {
                return Err(kindling_experiments::Error::Flag {
                    flag: "--analogies/--pairs".into(),
                    problem: "give at least one evaluation file".into(),
                });
            }
            if let Some(path) = analogies {
                let sections = kindling_data::read::evaluation::read_analogies(&path)?;
                let config = kindling_embed::evaluate::AnalogyConfig {
                    restrict_vocab,
                    ..Default::default()
                };
                let report = kindling_embed::evaluate::evaluate_analogies(
                    vectors,
                    &sections,
                    &config,
                    &device()?,
                )?;
                let percent =
                    |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}", 100.0 * v));
                println!(
                    "analogies: total {} %, semantic {} %, syntactic {} % ({} questions, {} skipped)",
                    percent(report.total()),
                    percent(report.semantic()),
                    percent(report.syntactic()),
                    report.asked(),
                    report.skipped
                );
            }
            if let Some(path) = pairs {
                let pairs = kindling_data::read::evaluation::read_word_pairs(&path)?;
                let report = kindling_embed::evaluate::evaluate_word_pairs(
                    vectors,
                    &pairs,
                    restrict_vocab,
                    true,
                );
                println!(
                    "word pairs: Spearman {:.4}, Pearson {:.4} ({} pairs, {} out of vocabulary)",
                    report.spearman, report.pearson, report.pairs, report.oov
                );
            }
        }
        VectorQuery::Convert { out, format } => {
            let format = format.map_or_else(|| VectorFormat::for_output(&out), Into::into);
            keyed.write(&out, format)?;
            eprintln!(
                "{} vectors of {} dimensions written to {}",
                vectors.len(),
                vectors.dim(),
                out.display()
            );
        }
    }
    Ok(())
}

/// The flags of `train-textcnn` and `train-rnn`.
#[derive(clap::Args)]
struct OwnClassifierArgs {
    /// Training examples (a directory of class files for `one-file-per-class`).
    #[arg(long)]
    train: PathBuf,
    /// Dev examples (default: a stratified, seeded tenth of train).
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Test examples (default: stratified 10-fold cross-validation).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Layout of the files: fasttext (`__label__X text`), label-first (`X text`), tsv (a
    /// header with `label` and `text` or `sentence` columns) or one-file-per-class.
    #[arg(long, default_value = "fasttext")]
    format: kindling_data::labelled_files::LabelledFormat,
    /// Pretrained word vectors (word2vec text/binary, GloVe, fastText `.vec`; gzip allowed),
    /// fine-tuned in training.
    #[arg(long)]
    pretrained: Option<PathBuf>,
    /// The files' text encoding: utf8 (strict), latin1 or lossy (UTF-8, invalid bytes
    /// replaced).
    #[arg(long, default_value = "utf8", value_parser = ["utf8", "latin1", "lossy"])]
    encoding: String,
    #[command(flatten)]
    run: OwnRunArgs,
}

/// The flags of `train-translation`.
#[derive(clap::Args)]
struct OwnTranslationArgs {
    /// Source language code, e.g. `de` (what `{lang}` becomes in the source files).
    #[arg(long)]
    source: String,
    /// Target language code, e.g. `en`.
    #[arg(long)]
    target: String,
    /// Training files as a pattern with `{lang}`, e.g. `corpus/train.{lang}.gz`.
    #[arg(long)]
    train: String,
    /// Dev files (default: a seeded 5 % of the training pairs).
    #[arg(long)]
    dev: Option<String>,
    /// Test files (default: none; the run reports dev scores).
    #[arg(long)]
    test: Option<String>,
    /// Joint byte-pair-encoding subwords with this many pieces (default: whole words).
    #[arg(long)]
    bpe: Option<usize>,
    #[command(flatten)]
    run: OwnRunArgs,
}

/// The flags of `train-tagger`.
#[derive(clap::Args)]
struct OwnTaggerArgs {
    /// Training sentences.
    #[arg(long)]
    train: PathBuf,
    /// Dev sentences (default: a seeded tenth of train).
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Test sentences (default: none; the run reports dev scores).
    #[arg(long)]
    test: Option<PathBuf>,
    /// Layout: conll (`word TAB tag` per line, a blank line between sentences) or slashed
    /// (one sentence of `word/TAG` tokens per line).
    #[arg(long, default_value = "conll", value_parser = ["conll", "slashed"])]
    format: String,
    #[command(flatten)]
    run: OwnRunArgs,
}

impl OwnTaggerArgs {
    /// Trains the tagger the flags describe.
    fn train(self) -> Result<()> {
        use kindling_experiments::tasks::TaggedFormat;
        let spec = kindling_experiments::own_data::OwnTagger {
            format: if self.format == "slashed" {
                TaggedFormat::Slashed
            } else {
                TaggedFormat::Conll
            },
            train: self.train,
            dev: self.dev,
            test: self.test,
            overrides: self.run.set.clone(),
        }
        .spec()?;
        self.run.run(&spec)
    }
}

/// The flags of `train-lm`.
#[derive(clap::Args)]
struct OwnLanguageModelArgs {
    /// Training text: one sentence or paragraph per line (plain or gzip).
    #[arg(long)]
    train: PathBuf,
    /// Dev text (default: a seeded tenth of the training lines).
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Test text (default: none; the run reports dev perplexity).
    #[arg(long)]
    test: Option<PathBuf>,
    #[command(flatten)]
    run: OwnRunArgs,
}

impl OwnLanguageModelArgs {
    /// Trains the language model the flags describe.
    fn train(self) -> Result<()> {
        let spec = kindling_experiments::own_data::OwnLanguageModel {
            train: self.train,
            dev: self.dev,
            test: self.test,
            overrides: self.run.set.clone(),
        }
        .spec()?;
        self.run.run(&spec)
    }
}

/// The flags of `train-g2p`.
#[derive(clap::Args)]
struct OwnG2pArgs {
    /// The pronouncing dictionary (plain or gzip).
    #[arg(long)]
    lexicon: PathBuf,
    /// Layout: cmudict (`WORD P1 P2 …`, alternates `WORD(2)`, ARPAbet) or tsv (`word TAB p1
    /// p2 …`, any phones).
    #[arg(long, default_value = "cmudict", value_parser = ["cmudict", "tsv"])]
    format: String,
    #[command(flatten)]
    run: OwnRunArgs,
}

impl OwnG2pArgs {
    /// Trains the grapheme-to-phoneme model the flags describe.
    fn train(self) -> Result<()> {
        use kindling_experiments::tasks::LexiconFormat;
        let spec = kindling_experiments::own_data::OwnG2p {
            lexicon: self.lexicon,
            format: if self.format == "tsv" {
                LexiconFormat::Tsv
            } else {
                LexiconFormat::Cmudict
            },
            overrides: self.run.set.clone(),
        }
        .spec()?;
        self.run.run(&spec)
    }
}

/// The flags of `train-vectors`.
#[derive(clap::Args)]
struct OwnVectorsArgs {
    /// word2vec (skip-gram, negative sampling), fasttext (subword skip-gram) or glove.
    #[arg(long, value_parser = ["word2vec", "fasttext", "glove"])]
    method: String,
    /// The corpus: plain or gzip text, streamed from disk on every pass.
    #[arg(long)]
    corpus: PathBuf,
    #[command(flatten)]
    run: OwnRunArgs,
}

impl OwnVectorsArgs {
    /// Trains the vectors the flags describe.
    fn train(self) -> Result<()> {
        use kindling_experiments::own_data::OwnVectorsMethod;
        let method = match self.method.as_str() {
            "fasttext" => OwnVectorsMethod::Fasttext,
            "glove" => OwnVectorsMethod::Glove,
            _ => OwnVectorsMethod::Word2vec,
        };
        let spec = kindling_experiments::own_data::OwnVectors {
            method,
            corpus: self.corpus,
            overrides: self.run.set.clone(),
        }
        .spec()?;
        self.run.run(&spec)
    }
}

/// How an own-data run runs.
#[derive(clap::Args)]
struct OwnRunArgs {
    /// Overrides any field of the experiment, e.g. `--set train.epochs=10`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<kindling_experiments::overrides::Override>,
    /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
    #[arg(long)]
    backend: Option<BackendKind>,
    /// Runs the cut-down smoke-test variant.
    #[arg(long)]
    quick: bool,
    /// Output directory (default: runs/FAMILY-STEM/<timestamp>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Hides progress bars.
    #[arg(long)]
    no_progress: bool,
    /// Continues the run in `--out` from its last checkpoint; the files must have the same
    /// contents as when the run started (checked by size and checksum), wherever they are now.
    #[arg(long, requires = "out")]
    resume: bool,
    /// Clears the run folder in `--out` first when it holds a run.
    #[arg(long, requires = "out", conflicts_with = "resume")]
    overwrite: bool,
}

impl OwnRunArgs {
    /// Runs `spec` with these flags and prints its metrics.
    fn run(self, spec: &ExperimentSpec) -> Result<()> {
        let options = RunOptions {
            backend: chosen_backend(self.backend)?,
            seed: None,
            quick: self.quick,
            data_dir: DataDir::resolve(None).root().to_path_buf(),
            out_dir: self.out,
            progress: !self.no_progress,
            resume: self.resume,
            overwrite: self.overwrite,
        };
        let metrics = runner::run(spec, &options)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&metrics).expect("metrics serialise")
        );
        Ok(())
    }
}

impl OwnClassifierArgs {
    /// Trains the `kind` of classifier the flags describe.
    fn train(self, kind: kindling_experiments::own_data::OwnClassifierKind) -> Result<()> {
        use kindling_data::source::Encoding;
        let spec = kindling_experiments::own_data::OwnClassifier {
            kind,
            encoding: match self.encoding.as_str() {
                "latin1" => Encoding::Latin1,
                "lossy" => Encoding::Lossy,
                _ => Encoding::Utf8,
            },
            format: self.format,
            train: self.train,
            dev: self.dev,
            test: self.test,
            pretrained: self.pretrained,
            overrides: self.run.set.clone(),
        }
        .spec()?;
        self.run.run(&spec)
    }
}

impl OwnTranslationArgs {
    /// Trains the encoder–decoder the flags describe.
    fn train(self) -> Result<()> {
        let spec = kindling_experiments::own_data::OwnTranslation {
            source: self.source,
            target: self.target,
            train: self.train,
            dev: self.dev,
            test: self.test,
            bpe: self.bpe,
            overrides: self.run.set.clone(),
        }
        .spec()?;
        self.run.run(&spec)
    }
}

fn main() -> ExitCode {
    // Before any other thread starts: large training buffers are reused instead of mapped
    // afresh every step (see `kindling_core::memory`).
    kindling_core::memory::keep_freed_memory();
    let outcome = run(Cli::parse());
    let ranks = kindling_core::ranks::Ranks::current();
    match outcome {
        Ok(()) => {
            kindling_core::ranks::finish();
            ExitCode::SUCCESS
        }
        Err(e) if ranks.size > 1 => {
            // The other ranks would wait for this one's next step: end them all.
            eprintln!("error on rank {} of {}: {e}", ranks.rank, ranks.size);
            ranks.abort(1);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::List => {
            for spec in ExperimentSpec::list(&cli.registry)? {
                println!("{:<24} {}", spec.name, spec.description);
            }
        }
        Command::ExportBrown {
            data,
            out,
            split_seed,
        } => {
            let data = DataDir::resolve(data);
            for path in kindling_experiments::tasks::export_brown_conll(&data, split_seed, &out)? {
                println!("{}", path.display());
            }
        }
        Command::Needs { name } => {
            for dataset in ExperimentSpec::find(&cli.registry, &name)?.task.datasets() {
                println!("{dataset}");
            }
        }
        Command::Run {
            name,
            backend,
            seed,
            seeds,
            set,
            quick,
            data,
            out,
            no_progress,
            resume,
            overwrite,
        } => {
            let spec = ExperimentSpec::find_with(&cli.registry, &name, &set)?;
            let options = RunOptions {
                backend: chosen_backend(backend)?,
                seed,
                quick,
                data_dir: DataDir::resolve(data).root().to_path_buf(),
                out_dir: out,
                progress: !no_progress,
                resume,
                overwrite,
            };
            let metrics = if seeds.is_empty() {
                runner::run(&spec, &options)?
            } else {
                runner::run_seeds(&spec, &options, &seeds)?
            };
            if !kindling_core::ranks::Ranks::current().is_writer() {
                return Ok(());
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&metrics).expect("metrics serialise")
            );
        }
        Command::TrainTextcnn { own } => {
            own.train(kindling_experiments::own_data::OwnClassifierKind::TextCnn)?
        }
        Command::TrainRnn { own } => {
            own.train(kindling_experiments::own_data::OwnClassifierKind::Rnn)?
        }
        Command::TrainTranslation { own } => own.train()?,
        Command::TrainTagger { own } => own.train()?,
        Command::TrainLm { own } => own.train()?,
        Command::TrainG2p { own } => own.train()?,
        Command::TrainVectors { own } => own.train()?,
        Command::Vectors { file, query } => vectors(&file, query)?,
        Command::Perplexity {
            run,
            file,
            bptt,
            backend,
        } => {
            let lines = read_text_lines(&file)?;
            let backend = chosen_backend(backend)?;
            let model = kindling_rnn::saved::SavedLanguageModel::load(&run, &backend.device()?)?;
            println!("{:.4}", model.perplexity(&lines, bptt)?);
        }
        Command::Score {
            reference,
            hypothesis,
            metric,
        } => {
            let references = read_text_lines(&reference)?;
            let hypotheses = read_text_lines(&hypothesis.unwrap_or_else(|| "-".into()))?;
            if references.len() != hypotheses.len() {
                return Err(kindling_experiments::Error::Flag {
                    flag: "--hyp".into(),
                    problem: format!(
                        "{} lines, but {} has {}",
                        hypotheses.len(),
                        reference.display(),
                        references.len()
                    ),
                });
            }
            for name in metric {
                if name == "bleu" {
                    let bleu = kindling_seq2seq::score::corpus_bleu(&hypotheses, &references)?;
                    let precisions: Vec<String> =
                        bleu.precisions.iter().map(|p| format!("{p:.1}")).collect();
                    println!(
                        "BLEU = {:.2} {} (BP = {:.3} ratio = {:.3} hyp_len = {} ref_len = {})",
                        bleu.score,
                        precisions.join("/"),
                        bleu.brevity_penalty,
                        bleu.hypothesis_length as f64 / bleu.reference_length.max(1) as f64,
                        bleu.hypothesis_length,
                        bleu.reference_length
                    );
                } else {
                    let chrf = kindling_seq2seq::score::corpus_chrf(&hypotheses, &references)?;
                    println!("chrF2 = {:.2}", chrf.score);
                }
            }
        }
        Command::DataCheck { data, require_all } => {
            let data = DataDir::resolve(data);
            println!("data directory: {}\n", data.root().display());
            let results = check::check_all(&data);
            print!("{}", check::render(&results));
            let failed = results.iter().filter(|(_, s)| match s {
                CheckStatus::Failed(_) => true,
                CheckStatus::Missing(_) => require_all,
                CheckStatus::Verified(_) => false,
            });
            let failed: Vec<String> = failed.map(|(d, _)| d.to_string()).collect();
            if !failed.is_empty() {
                return Err(kindling_experiments::Error::DataCheck(failed));
            }
        }
        Command::Results {
            runs,
            out,
            archive,
            keep,
            force,
        } => {
            if keep {
                use kindling_experiments::reporting::results::{Archivable, archive_runs};
                let archivable = if force {
                    Archivable::Any
                } else {
                    Archivable::Committed(&cli.registry)
                };
                let (kept, skipped) = archive_runs(&runs, &archive, archivable)?;
                for why in &skipped {
                    eprintln!("not archived: {why}");
                }
                eprintln!("archived {} runs: {}", kept.len(), kept.join(", "));
            }
            let table = kindling_experiments::reporting::results::table(&archive)?;
            kindling_core::atomic::write_atomic(&out, table.as_bytes())?;
            print!("{table}");
        }
        Command::Tag {
            run,
            sentences,
            backend,
        } => {
            let backend = chosen_backend(backend)?;
            let tagger = kindling_rnn::saved::SavedTagger::load(&run, &backend.device()?)?;
            for_each_chunk(sentences, 256, |chunk| {
                for tagged in tagger.tag_text(chunk)? {
                    let tagged: Vec<String> =
                        tagged.iter().map(|(w, t)| format!("{w}/{t}")).collect();
                    println!("{}", tagged.join(" "));
                }
                Ok(())
            })?;
        }
        Command::Generate {
            run,
            prompt,
            words,
            temperature,
            seed,
            backend,
        } => {
            kindling_rnn::language_model::check_sampling(words, temperature).map_err(
                |e| match e {
                    kindling_rnn::Error::InvalidInput { what, problem } => {
                        kindling_experiments::Error::Flag {
                            flag: format!("--{what}"),
                            problem,
                        }
                    }
                    other => other.into(),
                },
            )?;
            let backend = chosen_backend(backend)?;
            let model = kindling_rnn::saved::SavedLanguageModel::load(&run, &backend.device()?)?;
            let tokens = model.continue_text(&prompt.join(" "), words, temperature, seed)?;
            println!("{}", model.text_preparation().join(&tokens));
        }
        Command::Translate {
            run,
            sentences,
            decode,
            backend,
        } => decode_inputs(&run, sentences, &decode, backend, false)?,
        Command::Pronounce {
            run,
            words,
            decode,
            backend,
        } => decode_inputs(&run, words, &decode, backend, true)?,
        Command::Classify {
            run,
            sentences,
            top,
            backend,
        } => {
            if top == Some(0) {
                return Err(kindling_experiments::Error::Flag {
                    flag: "--top".into(),
                    problem: "must be at least 1".into(),
                });
            }
            let backend = chosen_backend(backend)?;
            let classifier = Classifier::load(&run, &backend.device()?)?;
            for_each_chunk(sentences, 256, |chunk| {
                for (sentence, prediction) in chunk.iter().zip(classifier.classify(chunk)?) {
                    let shown = match top {
                        Some(k) => prediction.top(k),
                        None => prediction.probabilities.clone(),
                    };
                    let probabilities: Vec<String> = shown
                        .iter()
                        .map(|(label, p)| format!("{label}={p:.4}"))
                        .collect();
                    println!(
                        "{}\t{}\t{sentence}",
                        prediction.label,
                        probabilities.join(" ")
                    );
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// `sentences`, or the lines of standard input when there are none.
/// Search settings on the command line (fairseq's names); each one left out keeps the run's
/// saved value.
#[derive(clap::Args, Debug)]
struct DecodeArgs {
    /// Beam width; 1 is greedy search.
    #[arg(long)]
    beam: Option<usize>,
    /// Outputs per input, best first, printed as `INDEX ||| OUTPUT ||| LOG-PROBABILITY` lines
    /// (1: the output alone).
    #[arg(long)]
    nbest: Option<usize>,
    /// Outputs get at most `max-len-a · input length + max-len-b` tokens.
    #[arg(long)]
    max_len_a: Option<f64>,
    /// See --max-len-a.
    #[arg(long)]
    max_len_b: Option<usize>,
    /// Beam search ranks outputs by log-probability / length^P.
    #[arg(long)]
    length_penalty: Option<f64>,
    /// Inputs decoded together (standard input is read 16 batches at a time).
    #[arg(long)]
    batch_size: Option<usize>,
}

impl DecodeArgs {
    /// Checks the given flags against their ranges before anything is loaded (`--nbest`
    /// against the beam once the run's own beam is known, in [`DecodeArgs::settings`]).
    fn check(&self) -> kindling_experiments::Result<()> {
        let widest = kindling_seq2seq::DecodeSettings {
            beam: kindling_seq2seq::search::MAX_BEAM,
            ..Default::default()
        };
        self.settings(&widest).map(drop)
    }

    /// The run's settings with the given flags applied, each checked against its range.
    fn settings(
        &self,
        saved: &kindling_seq2seq::DecodeSettings,
    ) -> kindling_experiments::Result<kindling_seq2seq::DecodeSettings> {
        let settings = kindling_seq2seq::DecodeSettings {
            beam: self.beam.unwrap_or(saved.beam),
            nbest: self.nbest.unwrap_or(1),
            max_len_a: self.max_len_a.unwrap_or(saved.max_len_a),
            max_len_b: self.max_len_b.unwrap_or(saved.max_len_b),
            length_penalty: self.length_penalty.unwrap_or(saved.length_penalty),
            batch_size: self.batch_size.unwrap_or(saved.batch_size),
        };
        settings.validate().map_err(|e| match e {
            kindling_seq2seq::Error::InvalidConfig { field, problem } => {
                kindling_experiments::Error::Flag {
                    flag: format!("--{}", field.replace('_', "-")),
                    problem,
                }
            }
            other => other.into(),
        })?;
        Ok(settings)
    }
}

/// Every line of a UTF-8 text file (`-`: standard input), without line terminators.
fn read_text_lines(path: &std::path::Path) -> Result<Vec<String>> {
    if path == std::path::Path::new("-") {
        return std::io::stdin()
            .lines()
            .collect::<std::io::Result<_>>()
            .map_err(|e| kindling_experiments::Error::io("reading", "standard input", e));
    }
    kindling_data::source::read_lines(path, kindling_data::source::Encoding::Utf8)
        .map(|lines| lines.into_iter().map(|l| l.text).collect())
        .map_err(Into::into)
}

/// `translate` and `pronounce`: decodes each input (arguments, else standard input) with the
/// run's saved search settings overridden by the flags; `echo` prints each input before its
/// output.
fn decode_inputs(
    run: &std::path::Path,
    inputs: Vec<String>,
    decode: &DecodeArgs,
    backend: Option<BackendKind>,
    echo: bool,
) -> Result<()> {
    decode.check()?;
    let translator = Translator::load(run, &chosen_backend(backend)?.device()?)?;
    let settings = decode.settings(translator.decode_settings())?;
    let mut index = 0;
    for_each_chunk(inputs, input_buffer(&settings), |chunk| {
        for (input, outputs) in chunk
            .iter()
            .zip(translator.translate_nbest(chunk, &settings)?)
        {
            print_outputs(index, echo.then_some(input), &outputs, settings.nbest);
            index += 1;
        }
        Ok(())
    })
}

/// Input lines read at a time for decoding: 16 batches, so that sorting by length within them
/// leaves little padding (fairseq's `--buffer-size` idea).
fn input_buffer(settings: &kindling_seq2seq::DecodeSettings) -> usize {
    settings.batch_size.saturating_mul(16)
}

/// Prints one input's outputs: the best alone (after `input` and a tab, when given), or
/// `INDEX ||| OUTPUT ||| LOG-PROBABILITY` lines for n-best lists.
fn print_outputs(
    index: usize,
    input: Option<&String>,
    outputs: &[kindling_seq2seq::Translation],
    nbest: usize,
) {
    let prefix = input.map_or(String::new(), |input| format!("{input}\t"));
    if nbest == 1 {
        println!("{prefix}{}", outputs[0].text);
        return;
    }
    for output in outputs {
        println!(
            "{index} ||| {prefix}{} ||| {:.4}",
            output.text, output.log_probability
        );
    }
}

/// Runs `work` on the inputs given as arguments, else on standard input's lines, at most
/// `chunk` lines at a time, so that any amount of input takes bounded memory.
fn for_each_chunk(
    given: Vec<String>,
    chunk: usize,
    mut work: impl FnMut(&[String]) -> kindling_experiments::Result<()>,
) -> kindling_experiments::Result<()> {
    if !given.is_empty() {
        for part in given.chunks(chunk) {
            work(part)?;
        }
        return Ok(());
    }
    let mut lines = Vec::with_capacity(chunk);
    for line in std::io::stdin().lines() {
        lines.push(
            line.map_err(|e| kindling_experiments::Error::io("reading", "standard input", e))?,
        );
        if lines.len() == chunk {
            work(&lines)?;
            lines.clear();
        }
    }
    if !lines.is_empty() {
        work(&lines)?;
    }
    Ok(())
}

/// The backend named on the command line, else the one `KINDLING_BACKEND` names (flex by
/// default).
fn chosen_backend(backend: Option<BackendKind>) -> kindling_core::Result<BackendKind> {
    backend.map_or_else(BackendKind::from_env, Ok)
}
