//! Embedding training next to gensim and fastText, in one run on the same tokens: word2vec
//! skip-gram and CBOW against gensim's `Word2Vec`, fed both ways gensim documents (a
//! `LineSentence` iterable, and `corpus_file`, its fast path where each worker reads the file
//! in C); skip-gram against `fasttext skipgram -minn 0 -maxn 0`, both as word2vec and with
//! fastText's settings (sampling 1e-4, learning rate 0.05, negatives by count^0.5); subword
//! skip-gram against `fasttext skipgram` with its default n-grams. fastText runs as each
//! given build: the one compiled from its own sources with upstream's flags (`-O3
//! -march=native`) is the comparison; a distribution's generic build may be listed beside it.
//! Every tool's vectors are scored with the same evaluation (gensim's protocol).
//!
//! Speed is raw corpus tokens × epochs / training seconds. gensim's seconds are those of its
//! `train` call; fastText's rate is the words/s/thread it reports, times its threads (its own
//! wall clock also covers loading and writing an 800 MB model).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kindling_core::burn::tensor::Device;
use kindling_data::DataDir;
use kindling_data::read::corpus::{Corpus, CorpusFile};
use kindling_data::source::Encoding;
use kindling_data::tokenize::{Tokenizer, Whitespace, Words};
use kindling_embed::evaluate::AnalogyConfig;
use kindling_embed::subword::{SubwordConfig, SubwordModel};
use kindling_embed::word2vec::{Architecture, Word2Vec, Word2VecConfig};
use kindling_embed::{VectorFormat, WordVectors, read_vectors, write_vectors};
use serde::Serialize;

use crate::{Error, Result};

const GENSIM_TRAIN_PY: &str = include_str!("gensim_train.py");

/// Settings every tool trains with (default: dim 100, window 5, negative 5, 5 epochs, min count 5).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Threads for every tool.
    pub threads: usize,
    /// Vector size.
    pub dim: usize,
    /// Context window.
    pub window: usize,
    /// Negative samples.
    pub negative: usize,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Minimum word count.
    pub min_count: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            threads: 2,
            dim: 100,
            window: 5,
            negative: 5,
            epochs: 5,
            min_count: 5,
        }
    }
}

/// One training run and the quality of its vectors.
#[derive(Debug, Clone, Serialize)]
pub struct TrainRun {
    /// The tool and model, e.g. `kindling skip-gram`.
    pub run: String,
    /// Raw tokens × epochs / training seconds.
    pub words_per_second: f64,
    /// Vocabulary size.
    pub vocabulary: usize,
    /// Total analogy accuracy (gensim's protocol, all vocabulary words as candidates).
    pub analogy_total: f64,
    /// WordSim-353 Spearman ρ.
    pub wordsim353_spearman: f64,
}

/// Writes the corpus as one line of space-separated tokens per line, so every tool trains on
/// the same tokens; returns the path and the token count.
fn write_tokens(data: &DataDir, dir: &Path) -> Result<(PathBuf, u64)> {
    let corpus = data.corpus_en()?;
    let tokenizer = Words::corpus();
    let mut text = String::new();
    let mut count = 0u64;
    corpus.for_each_line(|line| {
        let mut first = true;
        tokenizer.for_each_token(line, &mut |token| {
            if !first {
                text.push(' ');
            }
            text.push_str(token);
            first = false;
            count += 1;
        });
        if !first {
            text.push('\n');
        }
        Ok(())
    })?;
    let path = dir.join("tokens.txt");
    std::fs::create_dir_all(dir).map_err(|e| Error::Bench(format!("{}: {e}", dir.display())))?;
    std::fs::write(&path, text).map_err(|e| Error::Bench(format!("{}: {e}", path.display())))?;
    Ok((path, count))
}

struct Scorer<'a> {
    data: &'a DataDir,
    device: &'a Device,
}

impl Scorer<'_> {
    fn score(&self, run: String, vectors: &WordVectors, words_per_second: f64) -> Result<TrainRun> {
        let metrics = kindling_experiments::tasks::evaluation_metrics(
            vectors,
            self.data,
            &AnalogyConfig::default(),
            300_000,
            self.device,
        )?;
        let number = |key: &str| metrics[key].as_f64().unwrap_or(f64::NAN);
        let row = TrainRun {
            run,
            words_per_second,
            vocabulary: vectors.len(),
            analogy_total: number("analogy_total"),
            wordsim353_spearman: number("wordsim353_spearman"),
        };
        eprintln!(
            "{}: {:.0} words/s, analogy {:.4}, WS-353 {:.4}",
            row.run, row.words_per_second, row.analogy_total, row.wordsim353_spearman
        );
        Ok(row)
    }
}

/// A fastText binary to compare with.
#[derive(Debug, Clone)]
pub struct FastTextBuild {
    /// How the rows name it, e.g. `native, 1142dc4`.
    pub label: String,
    /// The command.
    pub command: String,
}

impl FastTextBuild {
    /// `command` named `kind`, with the description in a `VERSION` file beside the binary when
    /// there is one (the native build writes where its sources came from).
    pub fn described(kind: &str, command: String) -> Self {
        let version = Path::new(&command)
            .parent()
            .and_then(|dir| std::fs::read_to_string(dir.join("VERSION")).ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        Self {
            label: match version {
                Some(version) => format!("{kind}, {version}"),
                None => kind.to_string(),
            },
            command,
        }
    }
}

/// The runs as a Markdown table, then each of kindling's runs against every peer run of the
/// same model: speed ratio and quality differences.
pub fn render(rows: &[TrainRun], settings: &Settings) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "corpus-en, {} threads each, dim {}, window {}, negative {}, {} epochs, min count {}; words/s = corpus tokens × epochs / training seconds\n\n| run | words/s | vocabulary | analogy | WS-353 ρ |\n|---|---|---|---|---|\n",
        settings.threads,
        settings.dim,
        settings.window,
        settings.negative,
        settings.epochs,
        settings.min_count
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {:.4} | {:.4} |",
            r.run, r.words_per_second, r.vocabulary, r.analogy_total, r.wordsim353_spearman
        );
    }
    out.push('\n');
    let find = |name: &str| rows.iter().find(|r| r.run == name);
    let pairs = [
        ("kindling skip-gram", "gensim", " skip-gram ("),
        ("kindling cbow", "gensim", " cbow ("),
        (
            "kindling skip-gram, fastText settings",
            "fastText",
            "no subwords",
        ),
        ("kindling subword skip-gram", "fastText", "subwords 3-6"),
    ];
    for (ours, peer, model) in pairs {
        let Some(a) = find(ours) else { continue };
        for b in rows
            .iter()
            .filter(|r| r.run.starts_with(peer) && r.run.contains(model))
        {
            let _ = writeln!(
                out,
                "- {ours} vs {}: speed {:.2}×, analogy {:+.1} points, WS-353 {:+.3}",
                b.run,
                a.words_per_second / b.words_per_second,
                100.0 * (a.analogy_total - b.analogy_total),
                a.wordsim353_spearman - b.wordsim353_spearman
            );
        }
    }
    out
}

/// Trains every run and scores it; peers that cannot be started (no Python with gensim, a
/// fastText build that is not there) are skipped with a note.
///
/// # Errors
/// Missing data, or a peer that starts but fails.
pub fn compare(
    data: &DataDir,
    device: &Device,
    python: &str,
    fasttext: &[FastTextBuild],
    work_dir: &Path,
    settings: Settings,
) -> Result<Vec<TrainRun>> {
    let (tokens, raw_words) = write_tokens(data, work_dir)?;
    let corpus = Corpus::new(vec![CorpusFile::Text(tokens.clone())], Encoding::Utf8)?;
    let scorer = Scorer { data, device };
    let mut rows = Vec::new();
    for architecture in [Architecture::SkipGram, Architecture::Cbow] {
        let name = match architecture {
            Architecture::SkipGram => "skip-gram",
            Architecture::Cbow => "cbow",
        };
        let config = Word2VecConfig {
            architecture,
            dim: settings.dim,
            window: settings.window,
            negative: settings.negative,
            min_count: settings.min_count,
            epochs: settings.epochs,
            threads: settings.threads,
            alpha: if architecture == Architecture::Cbow {
                0.05
            } else {
                0.025
            },
            ..Word2VecConfig::default()
        };
        let (model, report) = Word2Vec::train(&corpus, &Whitespace::default(), &config)?;
        rows.push(scorer.score(
            format!("kindling {name}"),
            &model.vectors(),
            report.words_per_second,
        )?);
        for input in ["iterable", "corpus_file"] {
            let out = work_dir.join(format!("gensim-{name}-{input}.vec"));
            let args: Vec<String> = vec![
                tokens.display().to_string(),
                name.into(),
                out.display().to_string(),
                settings.threads.to_string(),
                settings.dim.to_string(),
                settings.window.to_string(),
                settings.negative.to_string(),
                settings.epochs.to_string(),
                settings.min_count.to_string(),
                config.sample.to_string(),
                input.into(),
            ];
            let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
            let Some(report) = super::python_json(python, GENSIM_TRAIN_PY, &args)? else {
                break;
            };
            let seconds = report["train_seconds"].as_f64().unwrap_or(f64::NAN);
            let vectors = read_vectors(&out, VectorFormat::Word2VecText, None)?;
            let version = report["gensim"].as_str().unwrap_or("?").to_owned();
            rows.push(scorer.score(
                format!("gensim {version} {name} ({input})"),
                &vectors,
                (raw_words * settings.epochs as u64) as f64 / seconds,
            )?);
        }
    }

    // fastText's defaults with the shared settings; `max_n = 0` is the like-for-like run for
    // `-minn 0 -maxn 0`.
    let subword_config = |max_n| SubwordConfig {
        dim: settings.dim,
        window: settings.window,
        negative: settings.negative,
        min_count: settings.min_count,
        epochs: settings.epochs,
        threads: settings.threads,
        max_n,
        ..SubwordConfig::default()
    };
    let plain = subword_config(0);
    let (model, report) = SubwordModel::train(&corpus, &Whitespace::default(), &plain)?;
    rows.push(scorer.score(
        "kindling skip-gram, fastText settings".into(),
        &model.vectors(),
        report.words_per_second,
    )?);

    let subword = subword_config(SubwordConfig::default().max_n);
    let (model, report) = SubwordModel::train(&corpus, &Whitespace::default(), &subword)?;
    let vectors = model.vectors();
    write_vectors(
        &vectors,
        &work_dir.join("kindling-subword.vec"),
        VectorFormat::Word2VecText,
    )?;
    rows.push(scorer.score(
        "kindling subword skip-gram".into(),
        &vectors,
        report.words_per_second,
    )?);

    for build in fasttext {
        for (name, ngrams) in [("no subwords", ["0", "0"]), ("subwords 3-6", ["3", "6"])] {
            let Some(row) = fasttext_run(build, name, ngrams, &tokens, work_dir, settings)? else {
                break;
            };
            let (vectors, words_per_second) = row;
            rows.push(scorer.score(
                format!("fastText ({}) skip-gram, {name}", build.label),
                &vectors,
                words_per_second,
            )?);
        }
    }
    Ok(rows)
}

/// One `fasttext skipgram` run of `build` with n-grams `ngrams` (`-minn`, `-maxn`): its vectors
/// and words/s, or `None` (with a note) when the build cannot be started.
fn fasttext_run(
    build: &FastTextBuild,
    name: &str,
    ngrams: [&str; 2],
    tokens: &Path,
    work_dir: &Path,
    settings: Settings,
) -> Result<Option<(WordVectors, f64)>> {
    {
        let output = work_dir.join(format!("fasttext-{}", ngrams.join("-")));
        let started = Instant::now();
        // glibc's default allocator settings, not the ones kindling and the Python peers run
        // under: fastText allocates its matrices once, so they cannot speed it up, and with all
        // three of them (no mmap, no trim, one arena) the build from source stopped with
        // "Encountered NaN" at start-up in every run tried (Debian's build did not).
        let run = Command::new(&build.command)
            .env_remove("GLIBC_TUNABLES")
            .arg("skipgram")
            .arg("-input")
            .arg(tokens)
            .arg("-output")
            .arg(&output)
            .args(["-dim", &settings.dim.to_string()])
            .args(["-ws", &settings.window.to_string()])
            .args(["-neg", &settings.negative.to_string()])
            .args(["-epoch", &settings.epochs.to_string()])
            .args(["-minCount", &settings.min_count.to_string()])
            .args(["-thread", &settings.threads.to_string()])
            .args(["-minn", ngrams[0], "-maxn", ngrams[1]])
            .output();
        let run = match run {
            Ok(run) => run,
            Err(e) => {
                eprintln!(
                    "fastText baseline ({}) skipped: could not run `{}`: {e}",
                    build.label, build.command
                );
                return Ok(None);
            }
        };
        let wall = started.elapsed().as_secs_f64();
        let log = String::from_utf8_lossy(&run.stderr).into_owned()
            + &String::from_utf8_lossy(&run.stdout);
        if !run.status.success() {
            return Err(Error::Bench(format!("fasttext failed: {log}")));
        }
        let per_thread = log
            .rsplit("words/sec/thread:")
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .ok_or_else(|| {
                Error::Bench(format!("no words/sec/thread in fastText's output: {log}"))
            })?;
        eprintln!(
            "fastText ({}, {name}) wall clock {wall:.1} s, loading and saving included",
            build.label
        );
        let vec_path = output.with_extension("vec");
        let vectors = read_vectors(&vec_path, VectorFormat::Word2VecText, None)?;
        let _ = std::fs::remove_file(output.with_extension("bin"));
        Ok(Some((vectors, per_thread * settings.threads as f64)))
    }
}
