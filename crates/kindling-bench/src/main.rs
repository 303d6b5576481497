//! Command-line entry point: `kindling-bench data | embed | embed-eval | textcnn | rnn | seq2seq
//! | backends | page`, each measuring kindling next to its peer in the same run
//! (`cargo xtask bench NAME` provides the peers).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kindling_bench::{StepShape, peers};
use kindling_core::BackendKind;
use kindling_data::DataDir;
use kindling_experiments::{Error, Result};

/// Where a benchmark's JSON record goes, and whether it may run on a busy machine.
#[derive(clap::Args)]
struct RecordArgs {
    /// Write the run's JSON record (machine, load, command, date, tables, numbers) to
    /// DIR/NAME.json.
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Run even when other work keeps the machine busy (the record says so).
    #[arg(long)]
    allow_busy: bool,
}

impl RecordArgs {
    /// Waits for the machine to go quiet (up to five minutes).
    fn wait_for_quiet(&self) -> Result<kindling_bench::record::Load> {
        kindling_bench::record::wait_for_quiet(std::time::Duration::from_secs(300), self.allow_busy)
    }

    /// Prints `markdown` and writes the record when asked.
    fn finish<T: serde::Serialize>(
        &self,
        bench_name: &str,
        title: &str,
        load: kindling_bench::record::Load,
        markdown: String,
        data: &T,
    ) -> Result<()> {
        print!("{markdown}");
        if let Some(dir) = &self.record {
            let data = serde_json::to_value(data)
                .map_err(|e| Error::Bench(format!("recording the results: {e}")))?;
            kindling_bench::record::Record::new(bench_name, title, load, markdown, data)
                .write(dir)?;
        }
        Ok(())
    }
}

/// The experiment whose trained model the seq2seq comparison decodes with.
const SEQ2SEQ_RUN: &str = "seq2seq-multi30k-de-en-bahdanau";

/// Runs kindling's benchmarks.
#[derive(Parser)]
#[command(name = "kindling-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every benchmark in turn (the model comparisons over seeds 1, 2, 3), each recorded into
    /// docs/benchmarks, then docs/BENCHMARKS.md; the seq2seq comparison is skipped while no
    /// trained run exists.
    All {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Run even when other work keeps the machine busy (the records say so).
        #[arg(long)]
        allow_busy: bool,
    },
    /// Tokenise-and-count throughput next to Python's `re` + `clean_str`, and batch preparation
    /// next to a convolutional classifier's training step.
    Data {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Repetitions of the tokenise-and-count pass (median reported).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Timed training steps (median reported).
        #[arg(long, default_value_t = 30)]
        steps: usize,
        /// Python interpreter for the baseline.
        #[arg(long, default_value = "python3")]
        python: String,
        /// Backend of the training step (default: KINDLING_BACKEND, else flex).
        #[arg(long)]
        backend: Option<BackendKind>,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// word2vec and subword training on corpus-en next to gensim and fastText, same tokens,
    /// same threads; every tool's vectors scored the same way.
    Embed {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Python interpreter with gensim installed (default: target/bench-venv's, made with
        /// gensim 4.4.0 when missing).
        #[arg(long)]
        python: Option<String>,
        /// fastText built from its own sources with upstream's flags (`-O3 -march=native`): the
        /// comparison (default: compiled into target/fasttext-native when missing).
        #[arg(long)]
        fasttext: Option<String>,
        /// Another fastText build to list beside it (default: /usr/bin/fasttext when there).
        #[arg(long)]
        fasttext_generic: Option<String>,
        /// Threads for every tool.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Scratch directory for the token file and the peers' vectors.
        #[arg(long, default_value = "target/bench-embed")]
        work_dir: PathBuf,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// Kim's CNN-rand on SST-2 next to the same model in PyTorch: same batches, same
    /// optimiser, same threads.
    Textcnn {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Python interpreter with torch installed (default: target/torch-venv's, made with
        /// torch 2.15.0 when missing).
        #[arg(long)]
        python: Option<String>,
        /// Passes over the training sentences per tool.
        #[arg(long, default_value_t = 3)]
        epochs: usize,
        /// Threads for both tools.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seeds, comma-separated: one comparison each (batch order, the shared starting
        /// weights, dropout); the report gives means and spread.
        #[arg(long, value_delimiter = ',', default_value = "1")]
        seeds: Vec<u64>,
        /// Scratch directory for the batches file.
        #[arg(long, default_value = "target/bench-textcnn")]
        work_dir: PathBuf,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// The BiLSTM classifier (SST-2) and the LSTM language model (Brown) next to PyTorch.
    Rnn {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Python interpreter with torch installed (default: target/torch-venv's, made with
        /// torch 2.15.0 when missing).
        #[arg(long)]
        python: Option<String>,
        /// Passes over SST-2's training sentences per tool.
        #[arg(long, default_value_t = 3)]
        classifier_epochs: usize,
        /// Passes over the Brown training stream per tool.
        #[arg(long, default_value_t = 1)]
        lm_epochs: usize,
        /// Threads for PyTorch.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seeds, comma-separated: one full comparison each (batch order, the shared starting
        /// weights, dropout); the report gives means and spread.
        #[arg(long, value_delimiter = ',', default_value = "1")]
        seeds: Vec<u64>,
        /// Scratch directory for the data files.
        #[arg(long, default_value = "target/bench-rnn")]
        work_dir: PathBuf,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// The attention encoder–decoder (Multi30k) next to PyTorch: training and beam search.
    Seq2seq {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Python interpreter with torch installed (default: target/torch-venv's, made with
        /// torch 2.15.0 when missing).
        #[arg(long)]
        python: Option<String>,
        /// A finished `seq2seq-multi30k-de-en-bahdanau` run (its settings, vocabularies and
        /// trained weights; default: the newest under runs/).
        #[arg(long)]
        run: Option<PathBuf>,
        /// Training batches per seed.
        #[arg(long, default_value_t = 30)]
        train_batches: usize,
        /// Pairs per training batch.
        #[arg(long, default_value_t = 128)]
        batch_size: usize,
        /// Beam width of the decoding comparison.
        #[arg(long, default_value_t = 5)]
        beam: usize,
        /// Test sources decoded together.
        #[arg(long, default_value_t = 64)]
        decode_batch: usize,
        /// Decode only the first N test sources (default: all).
        #[arg(long, value_name = "N")]
        test_sentences: Option<usize>,
        /// Threads for PyTorch.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Seeds of the training comparison, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1")]
        seeds: Vec<u64>,
        /// Scratch directory for the data and weight files.
        #[arg(long, default_value = "target/bench-seq2seq")]
        work_dir: PathBuf,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// Writes the benchmarks page from a folder of JSON records.
    Page {
        /// The records (`--record DIR` of the bench commands).
        #[arg(long, default_value = "docs/benchmarks")]
        records: PathBuf,
        /// The page.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: PathBuf,
    },
    /// Analogy and WordSim-353 evaluation of the GloVe vectors next to gensim's.
    EmbedEval {
        /// Dataset directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Python interpreter with gensim installed (default: target/bench-venv's, made with
        /// gensim 4.4.0 when missing).
        #[arg(long)]
        python: Option<String>,
        #[command(flatten)]
        record: RecordArgs,
    },
    /// Times the same MLP training step on every compiled CPU backend.
    Backends {
        /// Timed steps per backend.
        #[arg(long, default_value_t = 30)]
        steps: usize,
        /// Untimed steps first.
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// Examples per batch.
        #[arg(long, default_value_t = 256)]
        batch: usize,
        /// Input and hidden width.
        #[arg(long, default_value_t = 1024)]
        width: usize,
        #[command(flatten)]
        record: RecordArgs,
    },
}

fn main() -> ExitCode {
    // Before any other thread starts, as in the runner: large training buffers are reused
    // instead of mapped afresh every step (see `kindling_core::memory`).
    kindling_core::memory::keep_freed_memory();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::All { data, allow_busy } => {
            for name in [
                "textcnn",
                "rnn",
                "seq2seq",
                "embed",
                "embed-eval",
                "data",
                "backends",
            ] {
                if name == "seq2seq" && peers::newest_run(SEQ2SEQ_RUN).is_none() {
                    eprintln!("skipping the seq2seq comparison: no finished run of {SEQ2SEQ_RUN}");
                    continue;
                }
                let mut args = vec!["kindling-bench", name, "--record", "docs/benchmarks"];
                if matches!(name, "textcnn" | "rnn" | "seq2seq") {
                    args.extend(["--seeds", "1,2,3"]);
                }
                let data = data.as_ref().map(|d| d.display().to_string());
                if let Some(dir) = data.as_deref().filter(|_| name != "backends") {
                    args.extend(["--data", dir]);
                }
                if allow_busy {
                    args.push("--allow-busy");
                }
                run(Cli::try_parse_from(args).expect("the benchmarks take these flags"))?;
            }
            run(Cli::try_parse_from(["kindling-bench", "page"]).expect("page takes no flags"))?;
        }
        Command::Data {
            data,
            reps,
            steps,
            python,
            backend,
            record,
        } => {
            let load = record.wait_for_quiet()?;
            let data = DataDir::resolve(data);
            let report = kindling_bench::data::tokenize(&data, reps, &python)?;
            let mut markdown = format!(
                "tokenise + count corpus/sotu.txt.gz ({:.1} MB in memory), single thread, median of {reps}:\n\n\
                 | tokenizer | MB/s | tokens | types |\n|---|---|---|---|\n",
                report.bytes as f64 / 1e6
            );
            for t in report.rust.iter().chain(&report.python) {
                markdown.push_str(&format!(
                    "| {} | {:.1} | {} | {} |\n",
                    t.name, t.mb_per_second, t.tokens, t.types
                ));
            }
            if let Some(python) = &report.python {
                markdown.push_str(&format!(
                    "\nKimClean / Python clean_str: {:.1}x\n",
                    report.rust[0].mb_per_second / python.mb_per_second
                ));
            }
            let backend = chosen_backend(backend)?;
            let cost = kindling_bench::data::batch_cost(&data, &backend.train_device()?, steps)?;
            markdown.push_str(&format!(
                "\nSST-2 batch of {} (vocabulary {}), {backend}, median of {steps}: prepare {:.3} ms, \
                 CNN training step {:.2} ms; preparation = {:.2}% of a step\n",
                cost.batch_size,
                cost.vocabulary,
                cost.prepare_ms,
                cost.step_ms,
                100.0 * cost.prepare_ms / cost.step_ms
            ));
            record.finish(
                "data",
                "Tokenising and batching",
                load,
                markdown,
                &serde_json::json!({ "tokenize": report, "batch_cost": cost }),
            )?;
        }
        Command::Embed {
            data,
            python,
            fasttext,
            fasttext_generic,
            threads,
            work_dir,
            record,
        } => {
            let device = BackendKind::Flex.device()?;
            let python = python.map_or_else(peers::gensim_python, Ok)?;
            let fasttext = fasttext.map_or_else(|| peers::fasttext_native(&python), Ok)?;
            let mut builds = vec![kindling_bench::embed_train::FastTextBuild::described(
                "native", fasttext,
            )];
            builds.extend(
                fasttext_generic
                    .or_else(peers::fasttext_generic)
                    .map(|command| {
                        kindling_bench::embed_train::FastTextBuild::described("generic", command)
                    }),
            );
            let settings = kindling_bench::embed_train::Settings {
                threads,
                ..Default::default()
            };
            let load = record.wait_for_quiet()?;
            let rows = kindling_bench::embed_train::compare(
                &DataDir::resolve(data),
                &device,
                &python,
                &builds,
                &work_dir,
                settings,
            )?;
            record.finish(
                "embed",
                "Word embeddings: word2vec and subword skip-gram next to gensim and fastText",
                load,
                kindling_bench::embed_train::render(&rows, &settings),
                &rows,
            )?;
        }
        Command::Textcnn {
            data,
            python,
            epochs,
            threads,
            seeds,
            work_dir,
            record,
        } => {
            let python = python.map_or_else(peers::torch_python, Ok)?;
            let device = BackendKind::Flex.train_device()?;
            let settings = kindling_bench::textcnn::Settings {
                epochs,
                threads,
                seeds,
                work_dir,
                ..Default::default()
            };
            let load = record.wait_for_quiet()?;
            let report = kindling_bench::textcnn::compare(
                &DataDir::resolve(data),
                &device,
                &python,
                &settings,
            )?;
            record.finish(
                "textcnn",
                "Kim's CNN-rand on SST-2 next to PyTorch",
                load,
                kindling_bench::textcnn::render(&report),
                &report,
            )?;
        }
        Command::Rnn {
            data,
            python,
            classifier_epochs,
            lm_epochs,
            threads,
            seeds,
            work_dir,
            record,
        } => {
            let python = python.map_or_else(peers::torch_python, Ok)?;
            let device = BackendKind::Flex.train_device()?;
            let settings = kindling_bench::rnn::Settings {
                classifier_epochs,
                lm_epochs,
                threads,
                seeds,
                work_dir,
            };
            let load = record.wait_for_quiet()?;
            let report =
                kindling_bench::rnn::compare(&DataDir::resolve(data), &device, &python, &settings)?;
            record.finish(
                "rnn",
                "Recurrent models: BiLSTM classifier and LSTM language model next to PyTorch",
                load,
                kindling_bench::rnn::render(&report),
                &report,
            )?;
        }
        Command::Seq2seq {
            data,
            python,
            run,
            train_batches,
            batch_size,
            beam,
            decode_batch,
            test_sentences,
            threads,
            seeds,
            work_dir,
            record,
        } => {
            let run = match run {
                Some(run) => run,
                None => peers::newest_run(SEQ2SEQ_RUN).ok_or_else(|| {
                    Error::Bench(format!(
                        "no finished run of {SEQ2SEQ_RUN} in runs/: train one first with \
                         `cargo xtask experiment {SEQ2SEQ_RUN}` (about an hour on 2 cores), or \
                         pass --run DIR"
                    ))
                })?,
            };
            let python = python.map_or_else(peers::torch_python, Ok)?;
            let device = BackendKind::Flex.train_device()?;
            let settings = kindling_bench::seq2seq::Settings {
                run,
                train_batches,
                batch_size,
                beam,
                decode_batch,
                test_sentences,
                threads,
                seeds,
                work_dir,
            };
            let load = record.wait_for_quiet()?;
            let report = kindling_bench::seq2seq::compare(
                &DataDir::resolve(data),
                &device,
                &python,
                &settings,
            )?;
            record.finish(
                "seq2seq",
                "Attention encoder–decoder on Multi30k next to PyTorch",
                load,
                kindling_bench::seq2seq::render(&report),
                &report,
            )?;
        }
        Command::Page { records, out } => {
            let page = kindling_bench::record::render_page(&records)?;
            kindling_core::atomic::write_atomic(&out, page.as_bytes())?;
            println!("wrote {}", out.display());
        }
        Command::EmbedEval {
            data,
            python,
            record,
        } => {
            let python = python.map_or_else(peers::gensim_python, Ok)?;
            let load = record.wait_for_quiet()?;
            let device = BackendKind::Flex.device()?;
            let rows =
                kindling_bench::embed_eval::compare(&DataDir::resolve(data), &device, &python)?;
            let mut markdown = String::from(
                "| tool | load s | analogy s | analogy total | questions | WS-353 ρ |\n|---|---|---|---|---|---|\n",
            );
            for r in &rows {
                markdown.push_str(&format!(
                    "| {} | {:.2} | {:.2} | {:.4} | {} | {:.4} |\n",
                    r.tool,
                    r.load_seconds,
                    r.analogy_seconds,
                    r.analogy_total,
                    r.analogy_questions,
                    r.wordsim353_spearman
                ));
            }
            if let [ours, theirs] = rows.as_slice() {
                markdown.push_str(&format!(
                    "\nanalogy evaluation speed-up over gensim: {:.1}x\n",
                    theirs.analogy_seconds / ours.analogy_seconds
                ));
            }
            record.finish(
                "embed-eval",
                "Evaluating GloVe 6B 50-d: analogies and WordSim-353",
                load,
                markdown,
                &rows,
            )?;
        }
        Command::Backends {
            steps,
            warmup,
            batch,
            width,
            record,
        } => {
            let load = record.wait_for_quiet()?;
            let shape = StepShape {
                batch,
                d_input: width,
                d_hidden: width,
                n_classes: 10,
            };
            let cpu: Vec<BackendKind> = BackendKind::compiled()
                .into_iter()
                .filter(|b| matches!(b, BackendKind::Flex | BackendKind::Ndarray))
                .collect();
            let timings = kindling_bench::backends(&cpu, shape, warmup, steps)?;
            let mut markdown = format!(
                "MLP training step {batch}x{width} -> {width} -> {}, Adam, median of {steps} steps\n\n\
                 | backend | ms/step | GFLOP/s | time / {} |\n|---|---|---|---|\n",
                shape.n_classes,
                cpu[0].name()
            );
            let baseline = timings.first().map(|t| t.median_ms);
            for t in &timings {
                markdown.push_str(&format!(
                    "| {} | {:.2} | {:.1} | {:.2}x |\n",
                    t.backend.name(),
                    t.median_ms,
                    t.gflops,
                    t.median_ms / baseline.unwrap_or(t.median_ms),
                ));
            }
            record.finish(
                "backends",
                "CPU backends: one MLP training step",
                load,
                markdown,
                &serde_json::json!({ "shape": shape, "timings": timings }),
            )?;
        }
    }
    Ok(())
}

/// The backend named on the command line, else the one `KINDLING_BACKEND` names (flex by
/// default).
fn chosen_backend(backend: Option<BackendKind>) -> kindling_core::Result<BackendKind> {
    backend.map_or_else(BackendKind::from_env, Ok)
}
