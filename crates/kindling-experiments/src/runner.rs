//! Running one experiment: resolve its settings, run its task, write `metrics.json`.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use kindling_core::BackendKind;
use kindling_core::atomic::write_json_atomic;
use kindling_core::burn::tensor::Device;
use kindling_core::train::TrainConfig;
use serde_json::{Map, Value, json};

use crate::report::{config_hash, git_commit, peak_rss_bytes, write_report};
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
}

/// Runs `spec` and returns the flat metrics it wrote to `metrics.json`; `report.md` and its
/// charts go beside it.
pub fn run(spec: &ExperimentSpec, options: &RunOptions) -> Result<Map<String, Value>> {
    let started = Instant::now();
    let train = resolved_train(spec, options);
    let out_dir = options.out_dir.clone().unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(&spec.name)
            .join(timestamp(SystemTime::now()))
    });
    std::fs::create_dir_all(&out_dir).map_err(|e| Error::io("creating", &out_dir, e))?;
    let config = json!({
        "experiment": spec,
        "resolved_train": train,
        "backend": options.backend,
        "quick": options.quick,
        "data_dir": options.data_dir,
    });
    write_json_atomic(&out_dir.join("config.json"), &config)?;

    let context = TaskContext {
        spec,
        max_examples: options.quick.then_some(spec.quick.max_examples),
        device: options.backend.train_device()?,
        data_dir: options.data_dir.clone(),
        out_dir: out_dir.clone(),
        progress: options.progress,
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
    Ok(metrics)
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
    let mut settings = config.clone();
    if let Some(fields) = settings.as_object_mut() {
        fields.remove("data_dir");
    }
    config_hash(&settings)
}

/// Runs `spec` once per seed into `out_dir/seed-N/` (default `runs/NAME/<timestamp>/`) and
/// writes `summary.json` there: every numeric metric that all runs report, as mean, standard
/// deviation and the per-seed values. Returns the summary. A seed whose folder already holds
/// the `metrics.json` of a finished run with the same settings (the same config hash) is not
/// run again, so an interrupted multi-seed run resumes where it stopped.
///
/// # Errors
/// As [`run`], for the first seed that fails.
pub fn run_seeds(
    spec: &ExperimentSpec,
    options: &RunOptions,
    seeds: &[u64],
) -> Result<Map<String, Value>> {
    let base = options.out_dir.clone().unwrap_or_else(|| {
        PathBuf::from("runs")
            .join(&spec.name)
            .join(timestamp(SystemTime::now()))
    });
    let mut runs = Vec::with_capacity(seeds.len());
    for &seed in seeds {
        let options = RunOptions {
            seed: Some(seed),
            out_dir: Some(base.join(format!("seed-{seed}"))),
            ..options.clone()
        };
        match finished_run(spec, &options)? {
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
    write_json_atomic(&base.join("summary.json"), &summary)?;
    write_summary_table(&base, &summary)?;
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
            let (mean, sd) = crate::bench::mean_sd(&values);
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
pub(crate) fn timestamp(now: SystemTime) -> String {
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

    #[test]
    fn a_multi_seed_run_resumes_with_the_finished_seeds_of_the_same_settings() {
        const TINY: &str = "description = \"tiny\"\ntask = \"adding\"\n[options]\nlength = 5\n\
            train_sequences = 40\neval_sequences = 10\ndata_seed = 1\n[options.encoder]\n\
            cell = \"gru\"\nhidden = 4\n[train]\nepochs = 1\nbatch_size = 20\nseed = 1\n\
            monitor = \"loss\"\ngoal = \"min\"\noptimizer = { kind = \"adam\", lr = 0.01 }\n";
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
        let rerun = run_seeds(&changed, &options, &[2]).unwrap();
        assert_ne!(values(&rerun)[0], json!(123.0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
