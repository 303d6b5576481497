//! Running one experiment: resolve its settings, run its task, write `metrics.json`.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use kindling_core::BackendKind;
use kindling_core::atomic::write_json_atomic;
use kindling_core::burn::tensor::Device;
use kindling_core::ranks::Ranks;
use kindling_core::train::{
    Batcher, TrainConfig, TrainStep, Trained, Trainer, files, mark_finished, mark_unfinished,
};
use kindling_data::fingerprint::{self, FileFingerprint, Recording};
use serde_json::{Map, Value, json};

use crate::reporting::report::{config_hash, git_commit, peak_rss_bytes, write_report};
use crate::spec::ExperimentSpec;
use crate::{Error, Result, tasks};

/// Settings of one run, from the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The backend to train on.
    pub backend: BackendKind,
    /// Overrides the experiment's seed.
    pub seed: Option<u64>,
    /// Run the cut-down variant.
    pub quick: bool,
    /// Where the datasets are.
    pub data_dir: PathBuf,
    /// Where to write results; `runs/NAME/<timestamp>/` when `None`.
    pub out_dir: Option<PathBuf>,
    /// Show progress bars.
    pub progress: bool,
    /// Continue the run in `out_dir` from its last checkpoint instead of starting afresh.
    pub resume: bool,
    /// Clear a run folder `out_dir` that already holds a run before starting (without it, such
    /// a folder is an error unless `resume` is set).
    pub overwrite: bool,
}

/// Everything a task needs to run.
pub struct TaskContext<'a> {
    /// The experiment.
    pub spec: &'a ExperimentSpec,
    /// The training config with `--seed` and `--quick` applied (`None` for experiments that
    /// only evaluate).
    pub train: Option<TrainConfig>,
    /// `Some(n)` under `--quick`: use at most `n` training examples.
    pub max_examples: Option<usize>,
    /// The training device (autodiff enabled).
    pub device: Device,
    /// The dataset directory.
    pub data_dir: PathBuf,
    /// The run's output directory.
    pub out_dir: PathBuf,
    /// Show progress bars.
    pub progress: bool,
    /// The data files the task has opened so far (saved by content beside each training run,
    /// and checked on resume).
    pub data: Recording,
    /// Continue training from the last checkpoint of the output directory it is given, when
    /// there is one.
    pub resume: bool,
}

impl TaskContext<'_> {
    /// The training config, for tasks that train.
    ///
    /// # Errors
    /// [`Error::Spec`] when the experiment file has no `[train]` section.
    pub fn train(&self) -> Result<&TrainConfig> {
        self.train.as_ref().ok_or_else(|| {
            self.spec.error(format!(
                "task `{}` trains, so it needs a [train] section",
                self.spec.task.kind().name()
            ))
        })
    }

    /// Trains `model` with the run's training config, writing checkpoints and the epoch log
    /// into `out_dir`, and picks the epoch by `dev`. Under `--resume`, training continues from
    /// `out_dir`'s last checkpoint when there is one (a bit-identical continuation on the same
    /// backend).
    ///
    /// # Errors
    /// [`Error::Spec`] without a `[train]` section; the trainer's errors, among them a
    /// checkpoint written with another training config.
    pub fn fit<M, I, B>(
        &self,
        out_dir: &Path,
        model: M,
        batcher: &B,
        train: &[I],
        dev: &[I],
    ) -> Result<Trained<M>>
    where
        M: TrainStep<B::Batch>,
        B: Batcher<I>,
        I: Clone + Sync,
        B::Batch: Send,
    {
        let trainer = Trainer::new(self.train()?.clone(), &self.device)?
            .with_output(out_dir)
            .with_progress(self.progress);
        let checkpoint = out_dir.join(files::LAST);
        let resuming = self.resume && checkpoint.is_file();
        self.check_data(out_dir, resuming)?;
        let trained = if resuming {
            trainer.resume(model, &checkpoint, batcher, train, Some(dev))?
        } else {
            trainer.fit(model, batcher, train, Some(dev))?
        };
        Ok(trained)
    }
}

impl TaskContext<'_> {
    /// Writes the fingerprints of the data read so far into `out_dir/data.json` for a new
    /// training run; when `resuming`, compares them with the saved ones instead, by content
    /// (size and checksum) alone, so moved files are fine and edited ones are refused.
    ///
    /// # Errors
    /// [`Error::Resume`] naming the files that differ; I/O errors naming the file.
    fn check_data(&self, out_dir: &Path, resuming: bool) -> Result<()> {
        let current = fingerprint::fingerprint(&self.data.files())?;
        let path = out_dir.join(DATA_FINGERPRINTS);
        if !resuming {
            return Ok(write_json_atomic(&path, &current)?);
        }
        if !path.is_file() {
            // Written before runs recorded their data: nothing to compare with.
            return Ok(());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
        let saved: Vec<FileFingerprint> =
            serde_json::from_str(&text).map_err(|e| Error::Resume {
                path: path.clone(),
                problem: format!("is not a list of data fingerprints: {e}"),
            })?;
        fingerprint::compare(&saved, &current).map_err(|problem| Error::Resume {
            path: out_dir.to_path_buf(),
            problem,
        })
    }
}

/// The file in a training run's folder that records its data by content.
pub const DATA_FINGERPRINTS: &str = "data.json";

/// Runs `spec` and returns the flat metrics it wrote to `metrics.json`; `report.md` and its
/// charts go beside it.
pub fn run(spec: &ExperimentSpec, options: &RunOptions) -> Result<Map<String, Value>> {
    let started = Instant::now();
    let train = resolved_train(spec, options);
    // Under mpirun, rank 0 writes the run folder and the other ranks a private scratch copy.
    let ranks = Ranks::current();
    let out_dir = if ranks.is_writer() {
        prepare_out_dir(spec, options)?
    } else {
        scratch_dir(options, ranks)?
    };
    let config = json!({
        "experiment": spec,
        "resolved_train": train,
        "backend": options.backend,
        "quick": options.quick,
        "data_dir": options.data_dir,
    });
    if options.resume {
        check_resumable(&out_dir, &config)?;
    }
    mark_unfinished(&out_dir)?;
    write_json_atomic(&out_dir.join("config.json"), &config)?;

    let context = TaskContext {
        spec,
        data: Recording::start(),
        max_examples: options.quick.then_some(spec.quick.max_examples),
        device: options.backend.train_device()?,
        data_dir: options.data_dir.clone(),
        out_dir: out_dir.clone(),
        progress: options.progress && ranks.is_writer(),
        resume: options.resume,
        train,
    };
    let task_metrics = tasks::run(&context)?;

    let mut metrics = Map::new();
    metrics.insert("experiment".into(), json!(spec.name));
    metrics.insert("backend".into(), json!(options.backend.name()));
    if let Some(train) = &context.train {
        metrics.insert("seed".into(), json!(train.seed));
    }
    metrics.insert("quick".into(), json!(options.quick));
    metrics.extend(task_metrics);
    metrics.insert("commit".into(), json!(git_commit()));
    metrics.insert("config_hash".into(), json!(settings_hash(&config)));
    metrics.insert("peak_rss_bytes".into(), json!(peak_rss_bytes()));
    // The compute threads the backend had (RAYON_NUM_THREADS, else the machine's cores).
    metrics.insert("threads".into(), json!(rayon::current_num_threads()));
    metrics.insert(
        "wall_seconds".into(),
        json!(started.elapsed().as_secs_f64()),
    );
    write_json_atomic(&out_dir.join("metrics.json"), &metrics)?;
    write_report(&out_dir, &metrics, &config)?;
    mark_finished(&out_dir)?;
    if !ranks.is_writer() {
        std::fs::remove_dir_all(&out_dir).map_err(|e| Error::io("removing", &out_dir, e))?;
    }
    Ok(metrics)
}

/// A rank other than 0's own folder for what the run writes: empty, or under `--resume` a copy
/// of the run folder (which holds the checkpoint every rank continues from). It is removed when
/// the run ends.
fn scratch_dir(options: &RunOptions, ranks: Ranks) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "kindling-rank-{}-of-{}-{}",
        ranks.rank,
        ranks.size,
        std::process::id()
    ));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("clearing", &dir, e))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
    if let (true, Some(run)) = (options.resume, &options.out_dir) {
        copy_folder(run, &dir)?;
    }
    Ok(dir)
}

/// Copies the files and folders of `from` into `to`.
fn copy_folder(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from).map_err(|e| Error::io("reading", from, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io("reading", from, e))?.path();
        let target = to.join(path.file_name().expect("a folder entry has a name"));
        if path.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| Error::io("creating", &target, e))?;
            copy_folder(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| Error::io("copying", &path, e))?;
        }
    }
    Ok(())
}

/// Whether `dir` holds a `last.ckpt` to continue from: its own, or one of its folds'
/// (cross-validation writes `fold-N/`).
fn has_checkpoint(dir: &Path) -> bool {
    std::iter::once(dir.join(files::LAST))
        .chain(
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(|entry| entry.ok().map(|e| e.path().join(files::LAST))),
        )
        .any(|checkpoint| checkpoint.is_file())
}

/// The files that make a folder a run folder (any one of them).
const RUN_FILES: [&str; 5] = [
    "config.json",
    "metrics.json",
    "summary.json",
    files::UNFINISHED,
    files::LAST,
];

/// The run's output folder, ready to write into: a new `runs/NAME/<timestamp>[-N]/` by default;
/// else `out_dir`, which may hold a run only under `resume` (continued) or `overwrite`
/// (cleared first).
///
/// # Errors
/// [`Error::Spec`] for a folder that holds a run without `--resume` or `--overwrite`, or that
/// `--overwrite` would clear but that is not a run folder; I/O errors naming the folder.
fn prepare_out_dir(spec: &ExperimentSpec, options: &RunOptions) -> Result<PathBuf> {
    let Some(dir) = &options.out_dir else {
        return unique_run_dir(&PathBuf::from("runs").join(&spec.name), SystemTime::now());
    };
    let holds_run = RUN_FILES.iter().any(|name| dir.join(name).exists());
    let holds_anything = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    let refuse = |problem: &str| -> Result<PathBuf> {
        Err(Error::Spec {
            path: dir.clone(),
            message: problem.to_string(),
        })
    };
    if options.overwrite && holds_anything {
        if !holds_run {
            return refuse(
                "--overwrite clears run folders only, and this folder holds no run (no config.json, metrics.json, summary.json, UNFINISHED or last.ckpt); choose another --out",
            );
        }
        std::fs::remove_dir_all(dir).map_err(|e| Error::io("clearing", dir, e))?;
    } else if holds_run && !options.resume {
        return refuse(
            "holds a run already: continue it with --resume, replace it with --overwrite, or choose another --out",
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    Ok(dir.clone())
}

/// A new folder `parent/<timestamp>`, or `<timestamp>-2`, `-3`, … when runs started in the
/// same second took the earlier names (each name is claimed by creating it, so two processes
/// never share one).
fn unique_run_dir(parent: &Path, now: SystemTime) -> Result<PathBuf> {
    std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
    let stamp = timestamp(now);
    for n in 1.. {
        let name = if n == 1 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = parent.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io("creating", &dir, e)),
        }
    }
    unreachable!("some numbered name is free")
}

/// Checks that `out_dir` holds a run that `config` may continue: its `config.json` has the same
/// settings except the training length (`epochs`, `patience`), the description and where the
/// data lives.
fn check_resumable(out_dir: &Path, config: &Value) -> Result<()> {
    let path = out_dir.join("config.json");
    if !path.is_file() {
        return Err(Error::Resume {
            path,
            problem: "is missing, so there is no run to resume here".into(),
        });
    }
    if !has_checkpoint(out_dir) {
        return Err(Error::Resume {
            path: out_dir.join(files::LAST),
            problem: "is missing: the run stopped before its first epoch ended (or does not \
                      train), so there is nothing to continue; start it again with --overwrite"
                .into(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
    let saved: Value = serde_json::from_str(&text).map_err(|e| Error::Resume {
        path: path.clone(),
        problem: format!("is not valid JSON: {e}"),
    })?;
    let resumable_settings = |config: &Value| {
        let mut settings = settings(config);
        for train in ["/experiment/train", "/resolved_train"] {
            if let Some(Value::Object(train)) = settings.pointer_mut(train) {
                train.remove("epochs");
                train.remove("patience");
            }
        }
        if let Some(Value::Object(experiment)) = settings.pointer_mut("/experiment") {
            experiment.remove("description");
        }
        settings
    };
    if resumable_settings(&saved) != resumable_settings(config) {
        return Err(Error::Resume {
            path,
            problem: "was written with other settings (only [train] epochs and patience may \
                      change when a run resumes)"
                .into(),
        });
    }
    Ok(())
}

/// The training config with `--seed` and `--quick` applied.
fn resolved_train(spec: &ExperimentSpec, options: &RunOptions) -> Option<TrainConfig> {
    let mut train = spec.train.clone();
    if let Some(train) = &mut train {
        if let Some(seed) = options.seed {
            train.seed = seed;
        }
        if options.quick {
            train.epochs = train.epochs.min(spec.quick.epochs);
        }
    }
    train
}

/// The hash of the settings that decide a run's result: its resolved config without where the
/// data happened to live.
fn settings_hash(config: &Value) -> String {
    config_hash(&settings(config))
}

/// A run's resolved config without where the data happened to live.
fn settings(config: &Value) -> Value {
    let mut settings = config.clone();
    if let Some(fields) = settings.as_object_mut() {
        fields.remove("data_dir");
    }
    settings
}

/// Runs `spec` once per seed into `out_dir/seed-N/` (default `runs/NAME/<timestamp>/`) and
/// writes `summary.json` there: every numeric metric that all runs report, as mean, standard
/// deviation and the per-seed values. Returns the summary. A seed whose folder already holds
/// the `metrics.json` of a finished run with the same settings (the same config hash) is not
/// run again, so an interrupted multi-seed run resumes where it stopped; with
/// [`RunOptions::resume`] the interrupted seed continues from its last checkpoint too.
///
/// # Errors
/// As [`run`], for the first seed that fails.
pub fn run_seeds(
    spec: &ExperimentSpec,
    options: &RunOptions,
    seeds: &[u64],
) -> Result<Map<String, Value>> {
    // Under mpirun only rank 0 makes and writes the folder; the others train in scratch folders.
    let writer = Ranks::current().is_writer();
    let base = match &options.out_dir {
        Some(base) => base.clone(),
        None if writer => {
            unique_run_dir(&PathBuf::from("runs").join(&spec.name), SystemTime::now())?
        }
        None => std::env::temp_dir().join(format!("kindling-seeds-{}", std::process::id())),
    };
    let mut runs = Vec::with_capacity(seeds.len());
    for &seed in seeds {
        let out_dir = base.join(format!("seed-{seed}"));
        // Under --resume, a seed that never started starts now, and one stopped before its
        // first checkpoint (nothing to continue, nothing to lose) starts again.
        let continuable = out_dir.join("config.json").is_file() && has_checkpoint(&out_dir);
        let options = RunOptions {
            seed: Some(seed),
            resume: options.resume && continuable,
            overwrite: options.overwrite || (options.resume && !continuable),
            out_dir: Some(out_dir),
            ..options.clone()
        };
        let reusable = if options.overwrite {
            None
        } else {
            finished_run(spec, &options)?
        };
        match reusable {
            Some(metrics) => {
                eprintln!(
                    "seed {seed}: reusing the finished run in {}",
                    base.display()
                );
                runs.push(metrics);
            }
            None => runs.push(run(spec, &options)?),
        }
    }
    let summary = summarise(&spec.name, seeds, &runs);
    if writer {
        write_json_atomic(&base.join("summary.json"), &summary)?;
        write_summary_table(&base, &summary)?;
    }
    Ok(summary)
}

/// The metrics of a finished run of `spec` with `options` in `options.out_dir`, if its config
/// hash says it had the same settings.
fn finished_run(spec: &ExperimentSpec, options: &RunOptions) -> Result<Option<Map<String, Value>>> {
    let Some(dir) = &options.out_dir else {
        return Ok(None);
    };
    let path = dir.join("metrics.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
    let Ok(Value::Object(metrics)) = serde_json::from_str::<Value>(&text) else {
        return Ok(None);
    };
    let config = json!({
        "experiment": spec,
        "resolved_train": resolved_train(spec, options),
        "backend": options.backend,
        "quick": options.quick,
    });
    let same =
        metrics.get("config_hash").and_then(Value::as_str) == Some(settings_hash(&config).as_str());
    Ok(same.then_some(metrics))
}

/// Mean ± standard deviation of each numeric metric every run has (seeds and bookkeeping
/// fields such as `seed`, `wall_seconds` and `peak_rss_bytes` included, so speed and memory
/// spread are visible too).
fn summarise(name: &str, seeds: &[u64], runs: &[Map<String, Value>]) -> Map<String, Value> {
    let mut metrics = Map::new();
    if let Some(first) = runs.first() {
        for key in first.keys() {
            let values: Option<Vec<f64>> = runs.iter().map(|r| r.get(key)?.as_f64()).collect();
            let Some(values) = values else { continue };
            if key == "seed" {
                continue;
            }
            let (mean, sd) = kindling_core::metrics::mean_sd(&values);
            metrics.insert(
                key.clone(),
                json!({ "mean": mean, "sd": sd, "values": values }),
            );
        }
    }
    let mut summary = Map::new();
    summary.insert("experiment".into(), json!(name));
    summary.insert("seeds".into(), json!(seeds));
    summary.insert("metrics".into(), Value::Object(metrics));
    summary
}

/// `summary.md`: one row per metric, mean ± sd and each seed's value.
fn write_summary_table(dir: &Path, summary: &Map<String, Value>) -> Result<()> {
    use std::fmt::Write as _;
    let mut text = format!(
        "# {} over seeds {}\n\n| metric | mean ± sd | per seed |\n|---|---|---|\n",
        summary["experiment"].as_str().unwrap_or_default(),
        summary["seeds"]
    );
    if let Some(metrics) = summary["metrics"].as_object() {
        for (key, m) in metrics {
            let values: Vec<String> = m["values"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(Value::as_f64)
                        .map(|x| format!("{x:.4}"))
                        .collect()
                })
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "| {key} | {:.4} ± {:.4} | {} |",
                m["mean"].as_f64().unwrap_or(f64::NAN),
                m["sd"].as_f64().unwrap_or(f64::NAN),
                values.join(", ")
            );
        }
    }
    kindling_core::atomic::write_atomic(&dir.join("summary.md"), text.as_bytes())?;
    Ok(())
}

/// `YYYYmmdd-HHMMSS` in UTC.
pub fn timestamp(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(UNIX_EPOCH), "19700101-000000");
        // 2024-02-29T12:34:56Z
        let leap = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(timestamp(leap), "20240229-123456");
    }

    const TINY: &str = "description = \"tiny\"\ntask = \"adding\"\n[options]\nlength = 5\n\
        train_sequences = 40\neval_sequences = 10\ndata_seed = 1\n[options.encoder]\n\
        cell = \"gru\"\nhidden = 4\n[train]\nepochs = 1\nbatch_size = 20\nseed = 1\n\
        monitor = \"loss\"\ngoal = \"min\"\noptimizer = { kind = \"adam\", lr = 0.01 }\n";

    fn tiny(replace: (&str, &str)) -> ExperimentSpec {
        let text = TINY.replace(replace.0, replace.1);
        ExperimentSpec::parse(&text, Path::new("tiny-adding.toml")).unwrap()
    }

    fn options(out_dir: &Path, resume: bool) -> RunOptions {
        RunOptions {
            backend: BackendKind::Flex,
            seed: None,
            quick: false,
            data_dir: out_dir.to_path_buf(),
            out_dir: Some(out_dir.to_path_buf()),
            progress: false,
            resume,
            overwrite: false,
        }
    }

    #[test]
    fn a_run_resumed_for_more_epochs_ends_where_an_uninterrupted_one_does() {
        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-resume-run-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let three = tiny(("epochs = 1", "epochs = 3"));
        let whole = run(&three, &options(&dir.join("whole"), false)).unwrap();
        let parts = dir.join("parts");
        run(&tiny(("", "")), &options(&parts, false)).unwrap();
        let resumed = run(&three, &options(&parts, true)).unwrap();
        for key in [
            "test_mse",
            "dev_mse",
            "best_epoch",
            "steps",
            "dev_mse_by_step",
        ] {
            // NaN serialises to null, and null equals null: each value must be a real number.
            fn all_numbers(value: &Value) -> bool {
                match value {
                    Value::Array(values) => !values.is_empty() && values.iter().all(all_numbers),
                    value => value.is_number(),
                }
            }
            assert!(all_numbers(&whole[key]), "{key}: {}", whole[key]);
            assert_eq!(resumed[key], whole[key], "{key}");
        }
        let log = std::fs::read_to_string(parts.join("log.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 3);
        assert!(resumed["train_seconds"].as_f64() > Some(0.0));

        // Other settings, or no run at all: nothing to resume.
        let other = run(&tiny(("lr = 0.01", "lr = 0.02")), &options(&parts, true));
        let message = other.expect_err("other settings").to_string();
        assert!(
            message.contains("config.json") && message.contains("other settings"),
            "{message}"
        );
        let empty = run(&three, &options(&dir.join("empty"), true));
        let message = empty.expect_err("no run").to_string();
        assert!(message.contains("is missing"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_multi_seed_run_resumes_with_the_finished_seeds_of_the_same_settings() {
        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-resume-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spec = ExperimentSpec::parse(TINY, Path::new("tiny-adding.toml")).unwrap();
        let options = RunOptions {
            backend: BackendKind::Flex,
            seed: None,
            quick: false,
            data_dir: dir.clone(),
            out_dir: Some(dir.clone()),
            progress: false,
            resume: false,
            overwrite: false,
        };
        let first = run_seeds(&spec, &options, &[1, 2]).unwrap();
        let values =
            |summary: &Map<String, Value>| summary["metrics"]["test_mse"]["values"].clone();
        // Mark seed 2's finished run: a resumed run must take it as it is.
        let path = dir.join("seed-2/metrics.json");
        let mut marked: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        marked["test_mse"] = json!(123.0);
        std::fs::write(&path, marked.to_string()).unwrap();
        let resumed = run_seeds(&spec, &options, &[1, 2]).unwrap();
        assert_eq!(values(&resumed)[0], values(&first)[0]);
        assert_eq!(values(&resumed)[1], json!(123.0));
        // Other settings: the seed runs again.
        let changed = ExperimentSpec::parse(
            &TINY.replace("lr = 0.01", "lr = 0.02"),
            Path::new("tiny-adding.toml"),
        )
        .unwrap();
        let refused = run_seeds(&changed, &options, &[2]).unwrap_err().to_string();
        assert!(refused.contains("holds a run already"), "{refused}");
        let overwrite = RunOptions {
            overwrite: true,
            ..options.clone()
        };
        let rerun = run_seeds(&changed, &overwrite, &[2]).unwrap();
        assert_ne!(values(&rerun)[0], json!(123.0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_run_folder_is_never_overwritten_unless_asked_and_stays_marked_until_finished() {
        let _alone = crate::train_alone();
        let dir = std::env::temp_dir().join(format!("kindling-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let run_dir = dir.join("run");
        run(&tiny(("", "")), &options(&run_dir, false)).unwrap();
        assert!(!run_dir.join(files::UNFINISHED).exists());
        std::fs::write(run_dir.join("keep.txt"), "from the first run").unwrap();

        // Into the same folder again: refused before anything is touched.
        let config_before = std::fs::read(run_dir.join("config.json")).unwrap();
        let log_before = std::fs::read(run_dir.join("log.jsonl")).unwrap();
        let err = run(&tiny(("lr = 0.01", "lr = 0.02")), &options(&run_dir, false))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("holds a run already") && err.contains("--overwrite"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(run_dir.join("config.json")).unwrap(),
            config_before
        );
        assert_eq!(
            std::fs::read(run_dir.join("log.jsonl")).unwrap(),
            log_before
        );

        // --overwrite clears it first: nothing of the first run is left.
        let overwrite = RunOptions {
            overwrite: true,
            ..options(&run_dir, false)
        };
        run(&tiny(("lr = 0.01", "lr = 0.02")), &overwrite).unwrap();
        assert!(!run_dir.join("keep.txt").exists());

        // --overwrite never clears a folder that holds no run.
        let other = dir.join("not-a-run");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("notes.txt"), "mine").unwrap();
        let err = run(
            &tiny(("", "")),
            &RunOptions {
                overwrite: true,
                ..options(&other, false)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("holds no run"), "{err}");
        assert!(other.join("notes.txt").exists());

        // A run that stops part way leaves its folder marked, and loaders refuse it.
        let stopped = dir.join("stopped");
        // (A metric the task does not report — a regression has no accuracy: the first epoch
        // ends in an error.)
        let failing = tiny(("monitor = \"loss\"", "monitor = \"accuracy\""));
        assert!(run(&failing, &options(&stopped, false)).is_err());
        assert!(stopped.join(files::UNFINISHED).exists());
        let err = kindling_core::train::ensure_finished(&stopped)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has not finished") && err.contains("--resume"),
            "{err}"
        );
        // It stopped before its first epoch ended: no last.ckpt, so --resume has nothing to
        // continue and says so instead of starting afresh.
        let err = run(&failing, &options(&stopped, true))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("last.ckpt") && err.contains("--overwrite"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn runs_started_in_the_same_second_get_folders_of_their_own() {
        let parent = std::env::temp_dir().join(format!("kindling-stamps-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        let now = SystemTime::now();
        let folders: Vec<PathBuf> = (0..3)
            .map(|_| unique_run_dir(&parent, now).unwrap())
            .collect();
        let stamp = timestamp(now);
        assert_eq!(folders[0], parent.join(&stamp));
        assert_eq!(folders[1], parent.join(format!("{stamp}-2")));
        assert_eq!(folders[2], parent.join(format!("{stamp}-3")));
        assert!(folders.iter().all(|f| f.is_dir()));
        let _ = std::fs::remove_dir_all(&parent);
    }
}
