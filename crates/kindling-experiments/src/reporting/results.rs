//! The results tables, written to `docs/RESULTS.md` from the runs' `metrics.json` files: the
//! text CNN experiments next to Kim (2014), then the recurrent models next to their targets.
//!
//! The tables are made from the archive alone (`docs/results/NAME.json`, the `metrics.json` of
//! the run behind each cell, committed with the table), so they can be rebuilt from the
//! repository; [`archive`] copies a newer run from the runs directory into it first.
//! A run of several seeds (`--seeds`, a `summary.json` instead of a `metrics.json`) counts as
//! one set of metrics: each metric's mean under its own name, its standard deviation under
//! `NAME_sd`, and the seeds under `seeds`; the tables then show mean ± standard deviation.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::spec::ExperimentSpec;
use crate::{Error, Result};
use kindling_core::metrics::mean_sd;

/// Datasets in table order, with their column titles.
const DATASETS: [(&str, &str); 4] = [
    ("mr", "MR"),
    ("sst1", "SST-1"),
    ("sst2", "SST-2"),
    ("trec", "TREC"),
];

/// Variants in table order: experiment suffix, row title, the published accuracies (MR,
/// SST-1, SST-2, TREC): Kim's Table 2 (300-d word2vec vectors, SST trained on phrases too) and,
/// for C-LSTM, Zhou et al. (2015), who report no MR result.
const VARIANTS: [(&str, &str, [Option<f64>; 4]); 5] = [
    (
        "rand",
        "CNN-rand",
        [Some(76.1), Some(45.0), Some(82.7), Some(91.2)],
    ),
    (
        "static",
        "CNN-static",
        [Some(81.0), Some(45.5), Some(86.8), Some(92.8)],
    ),
    (
        "nonstatic",
        "CNN-non-static",
        [Some(81.5), Some(48.0), Some(87.2), Some(93.6)],
    ),
    (
        "multichannel",
        "CNN-multichannel",
        [Some(81.1), Some(47.4), Some(88.1), Some(92.2)],
    ),
    (
        "clstm",
        "C-LSTM",
        [None, Some(49.2), Some(87.8), Some(94.6)],
    ),
];

/// The recurrent experiments in table order: name, what is measured, the target or reference.
const RECURRENT: [(&str, &str, &str); 9] = [
    (
        "lstm-sst2",
        "SST-2 test accuracy %",
        "≥ 80.3 (PyTorch BiLSTM here)",
    ),
    ("bilstm-sst2-glove", "SST-2 test accuracy %", "≥ 82.5"),
    ("bilstm-trec", "TREC test accuracy %", "≥ 90"),
    (
        "bilstm-pos-brown",
        "Brown POS test accuracy % (unknown words)",
        "≥ 95",
    ),
    (
        "lstm-lm-brown",
        "Brown dev / test perplexity",
        "PyTorch, same model: `bench rnn`",
    ),
    (
        "adding-rnn",
        "adding problem, T = 100: test MSE",
        "≈ 0.167 (vanishing gradients)",
    ),
    ("adding-irnn", "adding problem, T = 100: test MSE", "< 0.01"),
    ("adding-lstm", "adding problem, T = 100: test MSE", "< 0.01"),
    (
        "adding-gru",
        "adding problem, T = 100: test MSE",
        "< 0.01 expected",
    ),
];

/// The archived metrics of experiment `name`, if any.
fn archived(archive: &Path, name: &str) -> Result<Option<Value>> {
    let path = archive.join(format!("{name}.json"));
    if !path.is_file() {
        return Ok(None);
    }
    parse(&path).map(Some)
}

fn parse(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Spec {
        path: path.to_path_buf(),
        message: format!("not a metrics file: {e}"),
    })
}

/// Which runs [`archive`] may take.
#[derive(Debug, Clone, Copy)]
pub enum Archivable<'a> {
    /// Only full runs (not `--quick`) of the experiment file as committed in this registry
    /// folder: the run's `config.json` must hold the same experiment (no `--set` overrides, no
    /// older version of the file), and an own-data run never matches a registry name's file.
    Committed(&'a Path),
    /// The newest run of each name, whatever its settings (`--force`).
    Any,
}

/// Copies the newest archivable run (`metrics.json`, or a multi-seed `summary.json`) of every
/// experiment in the tables from `runs` into the archive as `NAME.json`; returns the names
/// copied and, for each newer run passed over, its folder and why.
///
/// # Errors
/// Unreadable metrics, an unreadable experiment file, or a failed write.
pub fn archive_runs(
    runs: &Path,
    archive: &Path,
    archivable: Archivable<'_>,
) -> Result<(Vec<String>, Vec<String>)> {
    let mut skipped = Vec::new();
    let copied = archive_with(runs, archive, |name, dir| {
        let Archivable::Committed(registry) = archivable else {
            return Ok(true);
        };
        match not_archivable(dir, &ExperimentSpec::find(registry, name)?)? {
            None => Ok(true),
            Some(why) => {
                skipped.push(format!("{}: {why}", dir.display()));
                Ok(false)
            }
        }
    })?;
    Ok((copied, skipped))
}

/// Why the run in `dir` is not a full run of `spec` as committed, if it is not.
fn not_archivable(dir: &Path, spec: &ExperimentSpec) -> Result<Option<String>> {
    // A multi-seed folder: every seed ran the same experiment; its first seed tells.
    let config = if dir.join("config.json").is_file() {
        dir.join("config.json")
    } else {
        let mut seeds: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path().join("config.json")))
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        seeds.sort();
        match seeds.into_iter().next() {
            Some(config) => config,
            None => return Ok(Some("no config.json says how it ran".into())),
        }
    };
    let config = parse(&config)?;
    if config["quick"].as_bool() == Some(true) {
        return Ok(Some("a --quick run".into()));
    }
    let committed = serde_json::to_value(spec).expect("experiments serialise");
    if config["experiment"] != committed {
        return Ok(Some(format!(
            "its settings differ from {}.toml as committed (--set overrides, another file of the same name, or an older version)",
            spec.name
        )));
    }
    Ok(None)
}

/// Copies the newest `metrics.json` of every experiment in the tables from `runs` into the
/// archive as `NAME.json`, whatever its settings; returns the names copied.
///
/// # Errors
/// Unreadable metrics or a failed write.
pub fn archive(runs: &Path, archive: &Path) -> Result<Vec<String>> {
    Ok(archive_runs(runs, archive, Archivable::Any)?.0)
}

/// [`archive_runs`] with `take(name, folder)` deciding whether a run folder may be archived.
fn archive_with(
    runs: &Path,
    archive: &Path,
    mut take: impl FnMut(&str, &Path) -> Result<bool>,
) -> Result<Vec<String>> {
    let mut names: Vec<String> = VARIANTS
        .iter()
        .flat_map(|(suffix, _, _)| {
            DATASETS
                .iter()
                .map(move |(dataset, _)| format!("textcnn-{dataset}-{suffix}"))
        })
        .collect();
    names.extend(RECURRENT.iter().map(|(name, _, _)| (*name).to_string()));
    names.extend(TRANSLATION.iter().map(|(name, _, _)| (*name).to_string()));
    names.push("g2p-cmudict".into());
    let mut copied = Vec::new();
    for name in names {
        if let Some(metrics) = latest_metrics(runs, &name, |dir| take(&name, dir))? {
            let text = serde_json::to_string_pretty(&metrics).expect("JSON values serialise");
            kindling_core::atomic::write_atomic(
                &archive.join(format!("{name}.json")),
                format!("{text}\n").as_bytes(),
            )?;
            copied.push(name);
        }
    }
    Ok(copied)
}

/// The results of one run folder: its `metrics.json`, or its `summary.json` flattened (see
/// [`flatten_summary`]); `None` when it has neither.
fn folder_metrics(dir: &Path) -> Result<Option<Value>> {
    let metrics = dir.join("metrics.json");
    if metrics.is_file() {
        return parse(&metrics).map(Some);
    }
    let summary = dir.join("summary.json");
    if summary.is_file() {
        let mut flat = flatten_summary(&parse(&summary)?);
        add_fold_means_over_seeds(dir, &mut flat)?;
        return Ok(Some(flat));
    }
    Ok(None)
}

/// What a cross-validated run reports only per fold — dev accuracy (and its spread over the
/// folds) and training speed — as the mean over folds.
fn fold_means(metrics: &Value) -> serde_json::Map<String, Value> {
    let folds = metrics["folds"].as_u64().unwrap_or(0);
    let mut means = serde_json::Map::new();
    for key in ["dev_accuracy", "train_sentences_per_second"] {
        let values: Vec<f64> = (1..=folds)
            .filter_map(|k| metrics[format!("fold_{k}")][key].as_f64())
            .collect();
        if values.is_empty() {
            continue;
        }
        let (mean, sd) = mean_sd(&values);
        means.insert(key.into(), serde_json::json!(mean));
        if key == "dev_accuracy" && values.len() > 1 {
            means.insert("dev_accuracy_std".into(), serde_json::json!(sd));
        }
    }
    means
}

/// For a multi-seed run of a cross-validated experiment, whose summary has no per-fold
/// numbers: the fold means of each seed's `seed-N/metrics.json` ([`fold_means`]), averaged over
/// the seeds, added where the summary lacks them.
fn add_fold_means_over_seeds(dir: &Path, flat: &mut Value) -> Result<()> {
    let seeds: Vec<u64> = flat["seeds"]
        .as_array()
        .map(|s| s.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let mut per_seed = Vec::new();
    for seed in seeds {
        let path = dir.join(format!("seed-{seed}")).join("metrics.json");
        if path.is_file() {
            per_seed.push(fold_means(&parse(&path)?));
        }
    }
    let Some(first) = per_seed.first() else {
        return Ok(());
    };
    for key in first.keys() {
        if flat.get(key).is_some() {
            continue;
        }
        let values: Vec<f64> = per_seed
            .iter()
            .filter_map(|m| m.get(key)?.as_f64())
            .collect();
        if values.len() == per_seed.len() {
            flat[key] = serde_json::json!(mean_sd(&values).0);
        }
    }
    Ok(())
}

/// A multi-seed `summary.json` as one metrics object: each metric's mean under its name, its
/// standard deviation under `NAME_sd`, plus `experiment` and `seeds`.
fn flatten_summary(summary: &Value) -> Value {
    let mut flat = serde_json::Map::new();
    flat.insert("experiment".into(), summary["experiment"].clone());
    flat.insert("seeds".into(), summary["seeds"].clone());
    if let Some(metrics) = summary["metrics"].as_object() {
        for (key, m) in metrics {
            flat.insert(key.clone(), m["mean"].clone());
            flat.insert(format!("{key}_sd"), m["sd"].clone());
            flat.insert(format!("{key}_values"), m["values"].clone());
        }
    }
    Value::Object(flat)
}

/// The newest results of experiment `name` under `runs`: `runs/NAME/` itself when it is a run
/// folder, else the latest (by name, i.e. timestamp) run folder `runs/NAME/*/`.
fn latest_metrics(
    runs: &Path,
    name: &str,
    mut take: impl FnMut(&Path) -> Result<bool>,
) -> Result<Option<Value>> {
    let dir = runs.join(name);
    if let Some(metrics) = folder_metrics(&dir)? {
        return Ok(take(&dir)?.then_some(metrics));
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("metrics.json").is_file() || p.join("summary.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    // The newest folder that may be archived.
    while let Some(newest) = candidates.pop() {
        if take(&newest)? {
            return folder_metrics(&newest);
        }
    }
    Ok(None)
}

/// `metrics[key]` formatted by `show`, with `± sd` when it is a mean over seeds.
fn with_spread(metrics: Option<&Value>, key: &str, show: impl Fn(f64) -> String) -> String {
    let Some(value) = metrics.and_then(|m| m[key].as_f64()) else {
        return "–".into();
    };
    match metrics.and_then(|m| m[format!("{key}_sd")].as_f64()) {
        Some(sd) => format!("{} ± {}", show(value), show(sd)),
        None => show(value),
    }
}

/// One cell: our test accuracy, then our dev accuracy, in percent, each ± its standard
/// deviation over seeds or folds; a dash for what is missing. A run of one seed without folds
/// says so.
fn cell(metrics: Option<&Value>) -> String {
    let Some(metrics) = metrics else {
        return "–".into();
    };
    let Some(test) = metrics["test_accuracy"].as_f64() else {
        return "–".into();
    };
    let percent = |value: f64, sd: Option<f64>| match sd {
        Some(sd) => format!("{:.1} ± {:.1}", 100.0 * value, 100.0 * sd),
        None => format!("{:.1}", 100.0 * value),
    };
    let test_sd = metrics["test_accuracy_std"]
        .as_f64()
        .or_else(|| metrics["test_accuracy_sd"].as_f64());
    let folds: Vec<f64> = (1..=metrics["folds"].as_u64().unwrap_or(0))
        .filter_map(|k| metrics[format!("fold_{k}")]["dev_accuracy"].as_f64())
        .collect();
    let dev = match metrics["dev_accuracy"].as_f64() {
        Some(dev) => percent(
            dev,
            metrics["dev_accuracy_std"]
                .as_f64()
                .or_else(|| metrics["dev_accuracy_sd"].as_f64()),
        ),
        None if !folds.is_empty() => {
            let (mean, sd) = mean_sd(&folds);
            percent(mean, (folds.len() > 1).then_some(sd))
        }
        None => "–".into(),
    };
    let mut notes = Vec::new();
    if metrics["quick"].as_bool() == Some(true) {
        notes.push("quick".to_string());
    }
    if metrics["seeds"].is_null() && folds.is_empty() {
        notes.push("1 seed".to_string());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    format!("{} / {dev}{notes}", percent(test, test_sd))
}

/// The Markdown tables from the archived metrics in `archive` (`NAME.json`): test and dev
/// accuracy next to the published numbers, training speed, then the recurrent models.
///
/// # Errors
/// An archived file that cannot be read or parsed.
pub fn table(archive: &Path) -> Result<String> {
    let mut out = String::from(
        "# Results\n\nKim's CNN (Kim 2014) and the CNN + LSTM hybrid C-LSTM (Zhou et al. 2015) as trained by `cargo xtask experiment textcnn-DATASET-VARIANT --seeds 1,2,3`: each cell is our test accuracy / our dev accuracy / the published test accuracy, in percent, ours as mean ± standard deviation over seeds 1, 2 and 3 (the model of the best dev epoch of each run). MR is stratified 10-fold cross-validation, also over seeds 1, 2 and 3: its cells are the mean over seeds of the 10-fold means ± the standard deviation over the folds (averaged over the seeds), dev being each fold's held-out tenth of its training part; the others use their published test sets. Every setting was chosen on dev accuracy, never on test. Our pretrained variants use GloVe 6B 50-d vectors where the papers used 300-d word2vec, and SST is trained on sentences only (the papers also trained on phrases). Training is Kim's (Adadelta, batch 50, 25 epochs, the test accuracy of the best dev epoch) except for the scale of the word vectors: CNN-rand draws them from U(±0.1) instead of U(±0.25), and the pretrained CNN variants (not C-LSTM) rescale GloVe to the standard deviation of Kim's word2vec vectors (0.144; GloVe's own is 0.69) and drop 20 % of the word-vector coordinates in training (see docs/ARCHITECTURE.md). A dash: not run yet, or not published.\n\n",
    );
    let mut speed = String::from(
        "\n## Training speed\n\nTraining sentences per second of the same runs (burn-flex, all cores of the machine that ran them; a run's epochs divided by its training time, dev evaluation excluded). These are not benchmarks (other jobs may have shared the machine); side-by-side comparisons with PyTorch are `cargo xtask bench textcnn`.\n\n",
    );
    for text in [&mut out, &mut speed] {
        text.push_str("| model |");
        for (_, title) in DATASETS {
            text.push_str(&format!(" {title} |"));
        }
        text.push_str("\n| --- |");
        text.push_str(&" --- |".repeat(DATASETS.len()));
        text.push('\n');
    }
    for (suffix, title, published) in VARIANTS {
        out.push_str(&format!("| {title} |"));
        speed.push_str(&format!("| {title} |"));
        for ((dataset, _), published) in DATASETS.iter().zip(published) {
            let metrics = archived(archive, &format!("textcnn-{dataset}-{suffix}"))?;
            let published = published.map_or_else(|| "–".into(), |p| format!("{p:.1}"));
            out.push_str(&format!(" {} / {published} |", cell(metrics.as_ref())));
            speed.push_str(&format!(" {} |", speed_cell(metrics.as_ref())));
        }
        out.push('\n');
        speed.push('\n');
    }
    out.push_str(&speed);
    out.push_str(&recurrent(archive)?);
    out.push_str(&sequence_to_sequence(archive)?);
    Ok(out)
}

/// The recurrent models' table.
fn recurrent(archive: &Path) -> Result<String> {
    let mut out = String::from(
        "\n## Recurrent models\n\nkindling-rnn's models as trained by `cargo xtask experiment NAME` (settings in `experiments/NAME.toml`, chosen on dev only): the test score of the model of the best dev epoch, as mean ± standard deviation where the experiment ran with `--seeds` (the seeds column), and training speed on burn-flex over the machine's cores (the taggers' and language model's time includes dev evaluation; not a benchmark, other jobs shared the machine: `cargo xtask bench rnn` is one). A dash: not run yet.\n\n| experiment | measured | seeds | ours | target | dev | training speed |\n| --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for (name, measured, target) in RECURRENT {
        let metrics = archived(archive, name)?;
        let m = metrics.as_ref();
        let value = |key: &str| m.and_then(|m| m[key].as_f64());
        let percent = |key: &str| with_spread(m, key, |v| format!("{:.2}", 100.0 * v));
        let (ours, dev) = if name.starts_with("adding") {
            let mse = |key: &str| with_spread(m, key, |v| format!("{v:.4}"));
            (mse("test_mse"), mse("dev_mse"))
        } else if name.starts_with("lstm-lm") {
            let ppl = |key: &str| with_spread(m, key, |v| format!("{v:.1}"));
            (
                format!("{} / {}", ppl("dev_perplexity"), ppl("test_perplexity")),
                ppl("dev_perplexity"),
            )
        } else if name.contains("pos") {
            (
                format!(
                    "{} ({})",
                    percent("test_accuracy"),
                    percent("test_unknown_accuracy")
                ),
                percent("dev_accuracy"),
            )
        } else {
            (percent("test_accuracy"), percent("dev_accuracy"))
        };
        let seeds = match m.map(|m| &m["seeds"]) {
            Some(Value::Array(seeds)) => seeds
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            _ => m
                .and_then(|m| m["seed"].as_u64())
                .map_or("–".to_string(), |s| s.to_string()),
        };
        let speed = match (
            value("train_tokens_per_second"),
            value("train_sentences_per_second"),
            value("train_seconds"),
        ) {
            (Some(tokens), _, _) => format!("{tokens:.0} tokens/s"),
            (None, Some(sentences), _) => format!("{sentences:.0} sentences/s"),
            (None, None, Some(seconds)) => format!("{seconds:.0} s"),
            _ => "–".to_string(),
        };
        out.push_str(&format!(
            "| {name} | {measured} | {seeds} | {ours} | {target} | {dev} | {speed} |\n"
        ));
    }
    Ok(out)
}

/// The translation experiments in table order: name, decoder, target.
const TRANSLATION: [(&str, &str, &str); 4] = [
    (
        "seq2seq-multi30k-de-en-context",
        "context vector (Cho et al. 2014)",
        "≥ 18 expected",
    ),
    (
        "seq2seq-multi30k-de-en-bahdanau",
        "additive attention (Bahdanau et al. 2015)",
        "≥ 28 greedy, ≥ 30 beam 5",
    ),
    (
        "seq2seq-multi30k-de-en-luong",
        "multiplicative attention (Luong et al. 2015)",
        "–",
    ),
    (
        "seq2seq-multi30k-de-en-bpe",
        "additive attention, joint BPE",
        "–",
    ),
];

/// A run's training time in minutes, with its compute threads where the run recorded them
/// (`45 min, 1 thread`).
fn training_minutes(m: Option<&Value>) -> String {
    let Some(seconds) = m.and_then(|m| m["train_seconds"].as_f64()) else {
        return "–".to_string();
    };
    let minutes = seconds / 60.0;
    match m.and_then(|m| m["threads"].as_u64()) {
        Some(1) => format!("{minutes:.0} min, 1 thread"),
        Some(n) => format!("{minutes:.0} min, {n} threads"),
        None => format!("{minutes:.0} min"),
    }
}

/// The encoder–decoder tables: translation, then grapheme-to-phoneme.
fn sequence_to_sequence(archive: &Path) -> Result<String> {
    let mut out = String::from(
        "\n## Sequence to sequence\n\nkindling-seq2seq's encoder–decoders as trained by `cargo xtask experiment NAME` on burn-flex (over the machine's 2 cores unless the time says fewer threads; runs held to one thread ran two at a time): Multi30k German→English (lowercased words and punctuation; test = 2016 Flickr), test BLEU and chrF as sacreBLEU computes them by default, with greedy search and beam search of width 5, the per-token test perplexity (per piece with BPE, so not comparable across units), greedy BLEU by the source sentence's length in words, and the training time (all epochs up to early stopping on dev perplexity; not a benchmark: `cargo xtask bench seq2seq` is one). With subwords, BLEU is scored on the words they join back into. A dash: not run yet.\n\n| experiment | decoder | BLEU greedy | BLEU beam 5 | chrF | perplexity | BLEU by source length ≤ 10 / 11–20 / > 20 | training time | target |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for (name, decoder, target) in TRANSLATION {
        let metrics = archived(archive, name)?;
        let m = metrics.as_ref();
        let number = |key: &str, digits: usize| {
            m.and_then(|m| m[key].as_f64())
                .map_or("–".to_string(), |v| format!("{v:.digits$}"))
        };
        let buckets = ["1_10", "11_20", "21_up"]
            .map(|b| number(&format!("test_bleu_source_{b}"), 1))
            .join(" / ");
        let minutes = training_minutes(m);
        out.push_str(&format!(
            "| {name} | {decoder} | {} | {} | {} | {} | {buckets} | {minutes} | {target} |\n",
            number("test_bleu", 1),
            number("test_bleu_beam5", 1),
            number("test_chrf", 1),
            number("test_perplexity", 1),
        ));
    }
    if let Some(m) = archived(archive, "seq2seq-multi30k-de-en-bpe")?
        && let (Some(words), Some(pieces)) = (
            m["test_reference_unknown_share"].as_f64(),
            m["test_reference_unknown_pieces_share"].as_f64(),
        )
    {
        out.push_str(&format!(
            "\nOf the test references' words, {:.2} % are outside the word-level target vocabulary (seen fewer than twice in training), so no word-level model can produce them; with the joint BPE vocabulary ({} pieces), {:.2} % of the references' pieces are unknown.\n",
            100.0 * words,
            m["bpe_pieces"].as_u64().map_or("–".to_string(), |n| n.to_string()),
            100.0 * pieces
        ));
    }
    out.push_str("\nGrapheme-to-phoneme conversion on CMUdict (first pronunciation of each word, ARPAbet with stress, words split 90/5/5 at random with seed 1): word and phoneme error rates in percent on the test words against their first pronunciation; then (greedy) against the nearest of the word's listed pronunciations, and that again with the stress digits removed from outputs and references, the way stress-free results with several references are scored.\n\n| experiment | WER greedy | PER greedy | WER beam 5 | PER beam 5 | WER / PER, any listed pronunciation | same, stress ignored | training time | target |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    let metrics = archived(archive, "g2p-cmudict")?;
    let m = metrics.as_ref();
    let percent = |key: &str| {
        m.and_then(|m| m[key].as_f64())
            .map_or("–".to_string(), |v| format!("{:.1}", 100.0 * v))
    };
    let minutes = training_minutes(m);
    out.push_str(&format!(
        "| g2p-cmudict | {} | {} | {} | {} | {} / {} | {} / {} | {minutes} | WER ≤ 25, PER ≤ 6 (published bi-LSTM, stress-free: 23.6 / 5.5) |\n",
        percent("test_wer"),
        percent("test_per"),
        percent("test_wer_beam5"),
        percent("test_per_beam5"),
        percent("test_wer_any_pronunciation"),
        percent("test_per_any_pronunciation"),
        percent("test_wer_ignoring_stress_any_pronunciation"),
        percent("test_per_ignoring_stress_any_pronunciation"),
    ));
    Ok(out)
}

/// Training sentences per second (the mean over folds for MR), or a dash.
fn speed_cell(metrics: Option<&Value>) -> String {
    let Some(metrics) = metrics else {
        return "–".into();
    };
    let speed = metrics["train_sentences_per_second"].as_f64().or_else(|| {
        fold_means(metrics)
            .get("train_sentences_per_second")?
            .as_f64()
    });
    speed.map_or_else(|| "–".into(), |s| format!("{s:.0}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kindling-results-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn write(dir: &Path, file: &str, json: &str) {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, json).unwrap();
    }

    fn row(table: &str, start: &str) -> String {
        table
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap()
            .to_owned()
    }

    #[test]
    fn cells_show_test_and_dev_from_the_archive_and_dashes_for_the_rest() {
        let archive = scratch("cells");
        write(
            &archive,
            "textcnn-trec-rand.json",
            r#"{"test_accuracy": 0.89, "dev_accuracy": 0.85, "seed": 1}"#,
        );
        write(
            &archive,
            "textcnn-sst2-rand.json",
            r#"{"test_accuracy": 0.812, "test_accuracy_sd": 0.004, "dev_accuracy": 0.8,
                "dev_accuracy_sd": 0.01, "seeds": [1, 2, 3]}"#,
        );
        write(
            &archive,
            "textcnn-mr-nonstatic.json",
            r#"{"test_accuracy": 0.785, "test_accuracy_std": 0.012, "folds": 2,
                "fold_1": {"train_sentences_per_second": 1000.0, "dev_accuracy": 0.7},
                "fold_2": {"train_sentences_per_second": 2000.0, "dev_accuracy": 0.8}}"#,
        );
        let table = table(&archive).unwrap();
        assert_eq!(
            row(&table, "| CNN-rand |"),
            "| CNN-rand | – / 76.1 | – / 45.0 | 81.2 ± 0.4 / 80.0 ± 1.0 / 82.7 | 89.0 / 85.0 (1 seed) / 91.2 |"
        );
        assert!(
            row(&table, "| CNN-non-static |").contains("| 78.5 ± 1.2 / 75.0 ± 7.1 / 81.5 |"),
            "{table}"
        );
        let speed = table.split("## Training speed").nth(1).unwrap();
        assert_eq!(
            row(speed, "| CNN-non-static |"),
            "| CNN-non-static | 1500 | – | – | – |"
        );
        let _ = std::fs::remove_dir_all(&archive);
    }

    #[test]
    fn the_newest_run_is_archived_and_a_multi_seed_run_shows_mean_and_spread() {
        let runs = scratch("seeds");
        write(
            &runs,
            "lstm-sst2/20260103-000000/summary.json",
            r#"{"experiment": "lstm-sst2", "seeds": [1, 2, 3], "metrics": {
                "test_accuracy": {"mean": 0.8043, "sd": 0.0058, "values": [0.7985, 0.8045, 0.81]},
                "dev_accuracy": {"mean": 0.7986, "sd": 0.0034, "values": [0.8005, 0.7947, 0.8005]}}}"#,
        );
        // An older single run is not the newest.
        write(
            &runs,
            "lstm-sst2/20260101-000000/metrics.json",
            r#"{"test_accuracy": 0.5, "seed": 1}"#,
        );
        let archive = runs.join("archive");
        assert!(
            table(&archive)
                .unwrap()
                .contains("| lstm-sst2 | SST-2 test accuracy % | – |")
        );
        let copied = super::archive(&runs, &archive).unwrap();
        assert_eq!(copied, ["lstm-sst2"]);
        let kept = parse(&archive.join("lstm-sst2.json")).unwrap();
        assert_eq!(kept["test_accuracy_sd"].as_f64(), Some(0.0058));
        let table = table(&archive).unwrap();
        let row = row(&table, "| lstm-sst2 |");
        assert!(
            row.contains("| 1, 2, 3 | 80.43 ± 0.58 |") && row.contains("| 79.86 ± 0.34 |"),
            "{row}"
        );
        let _ = std::fs::remove_dir_all(&runs);
    }

    #[test]
    fn only_full_runs_of_the_committed_experiment_are_archived_unless_forced() {
        let runs = scratch("committed");
        let registry = runs.join("experiments");
        write(
            &registry,
            "bilstm-trec.toml",
            "description = \"d\"\ntask = \"adding\"\n[options]\nlength = 5\n\
             train_sequences = 4\neval_sequences = 2\ndata_seed = 1\n[options.encoder]\n\
             cell = \"gru\"\nhidden = 2\n[train]\nepochs = 1\nbatch_size = 2\nseed = 1\n\
             optimizer = { kind = \"adam\", lr = 0.01 }\n",
        );
        let committed = ExperimentSpec::find(&registry, "bilstm-trec").unwrap();
        let config = |experiment: &ExperimentSpec, quick: bool| {
            serde_json::json!({ "experiment": experiment, "quick": quick }).to_string()
        };
        let mut changed = committed.clone();
        changed.description = "changed by --set".into();
        for (folder, accuracy, config) in [
            ("20260101-000000", 0.9, config(&committed, false)),
            ("20260102-000000", 0.5, config(&committed, true)),
            ("20260103-000000", 0.6, config(&changed, false)),
        ] {
            let dir = format!("bilstm-trec/{folder}");
            write(&runs, &format!("{dir}/config.json"), &config);
            write(
                &runs,
                &format!("{dir}/metrics.json"),
                &format!(r#"{{"test_accuracy": {accuracy}}}"#),
            );
        }
        let archive = runs.join("archive");
        let (kept, skipped) =
            archive_runs(&runs, &archive, Archivable::Committed(&registry)).unwrap();
        assert_eq!(kept, ["bilstm-trec"]);
        let kept = parse(&archive.join("bilstm-trec.json")).unwrap();
        assert_eq!(
            kept["test_accuracy"].as_f64(),
            Some(0.9),
            "the full committed run"
        );
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(skipped[0].contains("20260103") && skipped[0].contains("settings differ"));
        assert!(skipped[1].contains("20260102") && skipped[1].contains("--quick"));
        archive_runs(&runs, &archive, Archivable::Any).unwrap();
        let forced = parse(&archive.join("bilstm-trec.json")).unwrap();
        assert_eq!(
            forced["test_accuracy"].as_f64(),
            Some(0.6),
            "forced: the newest"
        );
        let _ = std::fs::remove_dir_all(&runs);
    }

    #[test]
    fn sequence_to_sequence_rows_show_bleu_by_length_and_error_rates() {
        let archive = scratch("seq2seq");
        write(
            &archive,
            "seq2seq-multi30k-de-en-bahdanau.json",
            r#"{"test_bleu": 30.04, "test_bleu_beam5": 31.5, "test_chrf": 55.55,
                "test_perplexity": 12.34, "test_bleu_source_1_10": 35.0,
                "test_bleu_source_11_20": 30.0, "test_bleu_source_21_up": 20.0,
                "train_seconds": 3000.0}"#,
        );
        write(
            &archive,
            "g2p-cmudict.json",
            r#"{"test_wer": 0.25, "test_per": 0.061, "test_wer_any_pronunciation": 0.22,
                "test_per_any_pronunciation": 0.055,
                "test_wer_ignoring_stress_any_pronunciation": 0.2,
                "test_per_ignoring_stress_any_pronunciation": 0.05,
                "train_seconds": 600.0, "threads": 1}"#,
        );
        let table = table(&archive).unwrap();
        assert_eq!(
            row(&table, "| seq2seq-multi30k-de-en-bahdanau |"),
            "| seq2seq-multi30k-de-en-bahdanau | additive attention (Bahdanau et al. 2015) | 30.0 | 31.5 | 55.5 | 12.3 | 35.0 / 30.0 / 20.0 | 50 min | ≥ 28 greedy, ≥ 30 beam 5 |"
        );
        assert!(row(&table, "| seq2seq-multi30k-de-en-context |").contains("| – | – |"));
        assert!(row(&table, "| g2p-cmudict |").starts_with(
            "| g2p-cmudict | 25.0 | 6.1 | – | – | 22.0 / 5.5 | 20.0 / 5.0 | 10 min, 1 thread |"
        ));
        let _ = std::fs::remove_dir_all(&archive);
    }

    #[test]
    fn a_cross_validated_multi_seed_run_gets_dev_and_speed_from_its_seeds_folds() {
        let runs = scratch("folds");
        write(
            &runs,
            "textcnn-mr-rand/20260104-000000/summary.json",
            r#"{"experiment": "textcnn-mr-rand", "seeds": [1, 2], "metrics": {
                "test_accuracy": {"mean": 0.77, "sd": 0.001, "values": [0.769, 0.771]},
                "test_accuracy_std": {"mean": 0.012, "sd": 0.0, "values": [0.012, 0.012]},
                "folds": {"mean": 2.0, "sd": 0.0, "values": [2.0, 2.0]}}}"#,
        );
        for (seed, dev) in [(1, [0.70, 0.72]), (2, [0.74, 0.76])] {
            write(
                &runs,
                &format!("textcnn-mr-rand/20260104-000000/seed-{seed}/metrics.json"),
                &format!(
                    r#"{{"folds": 2, "fold_1": {{"dev_accuracy": {}, "train_sentences_per_second": 100.0}},
                        "fold_2": {{"dev_accuracy": {}, "train_sentences_per_second": 300.0}}}}"#,
                    dev[0], dev[1]
                ),
            );
        }
        let archive = runs.join("archive");
        super::archive(&runs, &archive).unwrap();
        let table = table(&archive).unwrap();
        // Dev: the mean of the seeds' fold means (0.71, 0.75), with their mean fold spread.
        assert!(
            row(&table, "| CNN-rand |")
                .starts_with("| CNN-rand | 77.0 ± 1.2 / 73.0 ± 1.4 / 76.1 |"),
            "{table}"
        );
        let speed = table.split("## Training speed").nth(1).unwrap();
        assert!(row(speed, "| CNN-rand |").starts_with("| CNN-rand | 200 |"));
        let _ = std::fs::remove_dir_all(&runs);
    }
}
