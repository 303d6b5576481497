//! The training loop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::progress::Progress;
use super::workers::{self, Workers};
use super::{Batcher, TrainConfig, TrainStep, log};
use crate::atomic::{rename_atomic, write_json_atomic};
use crate::checkpoint::Checkpoint;
use crate::metrics::Accumulator;
use crate::prefetch;
use crate::ranks::Ranks;
use crate::schedule::LrScheduler;
use crate::seed::{SeededRng, derive_seed, seed_thread};
use crate::{Error, Result};

/// File names inside a run's output directory.
pub mod files {
    /// Checkpoint after the most recent epoch (for resuming).
    pub const LAST: &str = "last.ckpt";
    /// Checkpoint of the epoch with the best monitored metric.
    pub const BEST: &str = "best.ckpt";
    /// A new best checkpoint written before `last.ckpt` names its epoch, renamed to `best.ckpt`
    /// after: a run stopped between the two finds it here on resume.
    pub const BEST_PENDING: &str = "best.ckpt.next";
    /// Per-epoch metrics, one JSON object per line.
    pub const LOG: &str = "log.jsonl";
    /// The training configuration.
    pub const CONFIG: &str = "train_config.json";
    /// Present while a run folder's run has not finished; loaders refuse such a folder (see
    /// [`super::ensure_finished`]).
    pub const UNFINISHED: &str = "UNFINISHED";
}

/// Marks `dir` as holding a run that has not finished (creating `dir`): loaders refuse it until
/// [`mark_finished`] removes the mark.
///
/// # Errors
/// [`Error::Io`] when the folder or the mark cannot be written.
pub fn mark_unfinished(dir: &Path) -> Result<()> {
    crate::atomic::write_atomic(
        &dir.join(files::UNFINISHED),
        b"This run has not finished: it is still running, or was stopped.\n",
    )
}

/// Removes the mark of [`mark_unfinished`] once everything the run writes is in place.
///
/// # Errors
/// [`Error::Io`] when the mark cannot be removed.
pub fn mark_finished(dir: &Path) -> Result<()> {
    let mark = dir.join(files::UNFINISHED);
    match std::fs::remove_file(&mark) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("removing", &mark, e)),
    }
}

/// Refuses a run folder marked unfinished by [`mark_unfinished`], so that a model is never
/// loaded from a run that is still writing it (or was stopped half way).
///
/// # Errors
/// [`Error::UnfinishedRun`] naming the folder.
pub fn ensure_finished(dir: &Path) -> Result<()> {
    if dir.join(files::UNFINISHED).exists() {
        return Err(Error::UnfinishedRun(dir.to_path_buf()));
    }
    Ok(())
}

/// Trains a [`TrainStep`] model: shuffled mini-batches, optimizer, clipping, schedule, dev
/// evaluation, early stopping, checkpoints and exact resume.
///
/// ```no_run
/// # use kindling_core::train::*;
/// # fn demo<M: TrainStep<B::Batch>, B: Batcher<Vec<f32>, Batch: Send>>(model: M, batcher: B,
/// #     train: Vec<Vec<f32>>, dev: Vec<Vec<f32>>, config: TrainConfig,
/// #     device: burn::tensor::Device) -> kindling_core::Result<()> {
/// let trained = Trainer::new(config, &device)?
///     .with_output("runs/demo")
///     .fit(model, &batcher, &train, Some(&dev))?;
/// println!("best dev {} at epoch {}", trained.best_metric.unwrap_or(f64::NAN), trained.best_epoch);
/// # Ok(()) }
/// ```
pub struct Trainer {
    config: TrainConfig,
    device: Device,
    out_dir: Option<PathBuf>,
    progress: bool,
    /// File operations allowed before the run stops (crash tests); `None`: no limit.
    write_limit: Option<usize>,
    /// File operations done so far.
    writes: AtomicUsize,
}

/// What survives between epochs besides the model and optimizer; saved in checkpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrainState {
    epoch: usize,
    step: u64,
    rng: SeededRng,
    scheduler: LrScheduler,
    best_metric: Option<f64>,
    best_epoch: usize,
    epochs_without_improvement: usize,
    /// Wall-clock seconds of training up to the end of `epoch`, over every call that trained
    /// the run (`None` in checkpoints written without it).
    #[serde(default)]
    seconds: Option<f64>,
}

/// Steps no run reaches (2^53, where step counts stop being exact as JSON numbers): a larger
/// count in a checkpoint is corrupt.
const MAX_STEPS: u64 = 1 << 53;

impl TrainState {
    /// Checks a state read from a checkpoint for values no run writes.
    fn check(&self) -> std::result::Result<(), String> {
        if self.best_epoch > self.epoch {
            return Err(format!(
                "best epoch {} after the last epoch {}",
                self.best_epoch, self.epoch
            ));
        }
        if self.epochs_without_improvement > self.epoch {
            return Err(format!(
                "{} epochs without improvement in {} epochs",
                self.epochs_without_improvement, self.epoch
            ));
        }
        if self.step > MAX_STEPS {
            return Err(format!("step {} is more than any run takes", self.step));
        }
        if self.best_metric.is_some_and(|m| !m.is_finite()) {
            return Err("the best metric is not finite".into());
        }
        if self.seconds.is_some_and(|s| !(s.is_finite() && s >= 0.0)) {
            return Err("the training time is not a finite number of seconds".into());
        }
        self.scheduler.check()
    }
}

/// The result of [`Trainer::fit`].
pub struct Trained<M> {
    /// The model after the last epoch that ran.
    pub model: M,
    /// The model of the best epoch by the monitored metric.
    pub best_model: M,
    /// The best epoch (1-based; 0 when no epoch ran).
    pub best_epoch: usize,
    /// The monitored metric at the best epoch.
    pub best_metric: Option<f64>,
    /// The last epoch that ran.
    pub epochs_run: usize,
    /// Whether early stopping ended training before `epochs`.
    pub stopped_early: bool,
    /// The log record of every epoch: for a resumed run, those before the checkpoint too, as
    /// the log beside it has them.
    pub history: Vec<Map<String, Value>>,
    /// Wall-clock seconds of training, epochs and their evaluations: for a resumed run, those
    /// before the checkpoint too.
    pub train_seconds: f64,
}

impl Trainer {
    /// A trainer for `config` on `device`; autodiff is enabled on the device for training.
    pub fn new(config: TrainConfig, device: &Device) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            device: device.clone().autodiff(),
            out_dir: None,
            progress: true,
            write_limit: None,
            writes: AtomicUsize::new(0),
        })
    }

    /// Stops the run with [`Error::Interrupted`] instead of doing its file operation number
    /// `limit` (0-based), leaving the run folder as a kill at that moment would: for testing
    /// that a run stopped between any two writes resumes correctly.
    pub fn with_write_limit(mut self, limit: usize) -> Self {
        self.write_limit = Some(limit);
        self
    }

    /// Counts one file operation, or stops before it when the write limit is reached.
    fn before_write(&self, what: &str) -> Result<()> {
        let done = self.writes.fetch_add(1, Ordering::Relaxed);
        match self.write_limit {
            Some(limit) if done >= limit => Err(Error::Interrupted(what.to_string())),
            _ => Ok(()),
        }
    }

    /// Writes checkpoints, the training config and the JSONL log into `dir`.
    pub fn with_output(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Shows (the default) or hides the progress bar.
    pub fn with_progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// The training configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Trains `model` from scratch on `train`, evaluating on `dev` after every epoch.
    pub fn fit<M, I, B>(
        &self,
        model: M,
        batcher: &B,
        train: &[I],
        dev: Option<&[I]>,
    ) -> Result<Trained<M>>
    where
        M: TrainStep<B::Batch>,
        B: Batcher<I>,
        I: Clone + Sync,
        B::Batch: Send,
    {
        let optimizer = self.config.optimizer.init()?;
        let state = TrainState {
            epoch: 0,
            step: 0,
            rng: SeededRng::new(self.config.seed),
            scheduler: LrScheduler::new(self.config.schedule.clone(), self.config.optimizer.lr())?,
            best_metric: None,
            best_epoch: 0,
            epochs_without_improvement: 0,
            seconds: Some(0.0),
        };
        if let Some(dir) = &self.out_dir {
            self.before_write(files::CONFIG)?;
            write_json_atomic(&dir.join(files::CONFIG), &self.config)?;
            let log = dir.join(files::LOG);
            if log.exists() {
                self.before_write(files::LOG)?;
                std::fs::remove_file(&log).map_err(|e| Error::io("removing old log", &log, e))?;
            }
        }
        let best = model.clone();
        self.run(
            model,
            best,
            optimizer,
            state,
            Vec::new(),
            batcher,
            train,
            dev,
        )
    }

    /// Continues training from a checkpoint written by an earlier run, up to `epochs` of this
    /// trainer's config. `model` supplies the structure; its parameters are replaced.
    ///
    /// The run config must match the checkpoint's except for `epochs` and `patience`. On the
    /// same backend the result is bit-identical to a run that was never interrupted.
    ///
    /// burn reads optimizer state onto `Device::default()` and moves it to the training device
    /// at the next step. In a build with a GPU backend compiled in, that default is the GPU;
    /// set `BURN_DEVICE` (e.g. `BURN_DEVICE=flex`) to resume a CPU run on a machine without one.
    pub fn resume<M, I, B>(
        &self,
        model: M,
        checkpoint: &Path,
        batcher: &B,
        train: &[I],
        dev: Option<&[I]>,
    ) -> Result<Trained<M>>
    where
        M: TrainStep<B::Batch>,
        B: Batcher<I>,
        I: Clone + Sync,
        B::Batch: Send,
    {
        let saved = Checkpoint::load(checkpoint)?;
        let saved_config: TrainConfig = serde_json::from_value(saved.config.clone())
            .map_err(|e| Error::checkpoint(checkpoint, format!("run config: {e}")))?;
        if !self.config.resumable_from(&saved_config) {
            return Err(Error::checkpoint(
                checkpoint,
                "was written with a different training config (only `epochs` and `patience` may change)",
            ));
        }
        let mut state: TrainState = serde_json::from_value(saved.state.clone())
            .map_err(|e| Error::checkpoint(checkpoint, format!("trainer state: {e}")))?;
        state.check().map_err(|problem| {
            Error::checkpoint(checkpoint, format!("trainer state: {problem}"))
        })?;
        let earlier =
            log::records_through_epoch(&checkpoint.with_file_name(files::LOG), state.epoch)?;
        if state.seconds.is_none() {
            // Without a recorded total, the log has each epoch's training pass (evaluations
            // not included).
            state.seconds = Some(log::train_seconds(&earlier));
        }
        complete_pending_best(checkpoint, state.best_epoch)?;
        let model = saved.restore_model(model.to_device(&self.device), checkpoint)?;
        let optimizer = saved.restore_optimizer(self.config.optimizer.init()?, checkpoint)?;
        let best = if state.best_epoch > 0 {
            load_best(checkpoint, state.best_epoch, model.clone())?
        } else {
            model.clone()
        };
        if let Some(dir) = &self.out_dir {
            self.before_write(files::CONFIG)?;
            write_json_atomic(&dir.join(files::CONFIG), &self.config)?;
            self.before_write(files::LOG)?;
            log::truncate_after_epoch(&dir.join(files::LOG), state.epoch)?;
        }
        self.run(model, best, optimizer, state, earlier, batcher, train, dev)
    }

    #[allow(clippy::too_many_arguments)]
    fn run<M, I, B>(
        &self,
        mut model: M,
        mut best_model: M,
        mut optimizer: ModuleOptimizer,
        mut state: TrainState,
        mut history: Vec<Map<String, Value>>,
        batcher: &B,
        train: &[I],
        dev: Option<&[I]>,
    ) -> Result<Trained<M>>
    where
        M: TrainStep<B::Batch>,
        B: Batcher<I>,
        I: Clone + Sync,
        B::Batch: Send,
    {
        if train.is_empty() {
            return Err(Error::Empty("training set"));
        }
        if dev.is_some_and(<[I]>::is_empty) {
            return Err(Error::Empty("dev set"));
        }
        let started = Instant::now();
        let seconds_before = state.seconds.unwrap_or(0.0);
        let config = &self.config;
        let mut stopped_early = false;

        // With several ranks every batch is cut into ranks × workers shards, and the workers'
        // path (per-shard dropout generators) runs even for one worker per rank.
        let ranks = Ranks::current();
        let workers = if config.workers > 1 || ranks.size > 1 {
            Some(Workers::new(config.workers)?)
        } else {
            None
        };
        let first_shard = ranks.rank * config.workers;
        for epoch in state.epoch + 1..=config.epochs {
            let epoch_started = Instant::now();
            state.scheduler.start_epoch(epoch);
            let lr = state.scheduler.lr();
            seed_thread(derive_seed(config.seed, epoch as u64));
            let plan = batcher.plan(
                train,
                config.batch_size,
                config.shuffle.then_some(&mut state.rng),
            );

            let progress = Progress::epoch(self.progress, epoch, config.epochs, plan.len());
            let mut seen = Accumulator::new();
            let device = &self.device;
            let epoch_seed = derive_seed(config.seed, epoch as u64);
            model = std::thread::scope(|scope| {
                let batches = prefetch::scoped(scope, plan, config.prefetch, |indices| {
                    workers::shards(&indices, config.workers * ranks.size)
                        .into_iter()
                        .skip(first_shard)
                        .take(config.workers)
                        .map(|shard| {
                            let items: Vec<I> = shard.iter().map(|&i| train[i].clone()).collect();
                            batcher.batch(&items, device)
                        })
                        .collect::<Vec<_>>()
                });
                let mut model = model;
                for mut shards in batches {
                    let step_seed = derive_seed(epoch_seed, state.step);
                    state.step += 1;
                    let (loss, mut grads) = if let Some(workers) = &workers {
                        let mut steps = workers.step(&model, shards, step_seed, first_shard);
                        for shard in &steps {
                            seen.add(shard.loss, shard.examples, &shard.outcome);
                        }
                        let weight = workers::total_weight(&steps);
                        // A batch smaller than ranks × workers leaves some ranks no shard.
                        let (loss, grads) = if steps.is_empty() {
                            (0.0, GradientsParams::new())
                        } else {
                            let loss = workers::combined_loss(&steps);
                            (loss, workers::combined_grads(&model, &mut steps))
                        };
                        if ranks.size > 1 {
                            workers::sum_over_ranks(&ranks, &model, loss, weight, grads)
                        } else {
                            (loss, grads)
                        }
                    } else {
                        let output = model.step(&shards.remove(0));
                        let loss = f64::from(output.loss.clone().into_scalar::<f32>());
                        seen.add(loss, output.examples, &output.outcome);
                        (
                            loss,
                            GradientsParams::from_grads(output.loss.backward(), &model),
                        )
                    };
                    if !loss.is_finite() {
                        return Err(Error::NonFiniteLoss {
                            value: loss,
                            epoch,
                            step: state.step,
                        });
                    }
                    if let Some(clip) = &config.clip
                        && let Some(norm) = clip.apply(&model, &mut grads)
                        && !norm.is_finite()
                    {
                        return Err(Error::NonFinite {
                            what: format!("the gradient norm ({norm})"),
                            epoch,
                            step: state.step,
                        });
                    }
                    model = optimizer.step(lr, model, grads).constrain();
                    let rate = seen.examples() as f64 / epoch_started.elapsed().as_secs_f64();
                    progress.update(seen.mean_loss(), rate);
                }
                Ok(model)
            })?;
            let train_seconds = epoch_started.elapsed().as_secs_f64();
            if let Some(what) = first_non_finite_parameter(&model) {
                return Err(Error::NonFinite {
                    what,
                    epoch,
                    step: state.step,
                });
            }

            let dev_metrics = match dev {
                Some(dev) => Some(self.evaluate(&model, batcher, dev)?),
                None => None,
            };
            let monitored_on = dev_metrics.as_ref().unwrap_or(&seen);
            let mut value = monitored_on.metric(config.monitor).ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "monitored metric `{}` is not reported by this model (it reports {:?})",
                    config.monitor,
                    monitored_on
                        .metrics()
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                ))
            })?;
            if ranks.size > 1 && dev_metrics.is_none() {
                // Training metrics are each rank's own: every rank takes rank 0's, so that all
                // make the same best-epoch and stopping decisions.
                let mut shared = [if ranks.is_writer() { value as f32 } else { 0.0 }];
                ranks.sum(&mut shared);
                value = f64::from(shared[0]);
            }
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    what: format!("the monitored `{}` ({value})", config.monitor),
                    epoch,
                    step: state.step,
                });
            }
            let improved = config.goal.improves(value, state.best_metric, 0.0);
            if improved {
                state.best_metric = Some(value);
                state.best_epoch = epoch;
                state.epochs_without_improvement = 0;
                best_model = model.clone();
            } else {
                state.epochs_without_improvement += 1;
            }
            state.scheduler.end_epoch(Some(value), config.goal);
            state.epoch = epoch;
            state.seconds = Some(seconds_before + started.elapsed().as_secs_f64());

            let mut record = Map::new();
            record.insert("epoch".into(), json!(epoch));
            record.insert("step".into(), json!(state.step));
            record.insert("lr".into(), json!(lr));
            for (name, v) in seen.metrics() {
                record.insert(format!("train_{name}"), json!(v));
            }
            if let Some(dev_metrics) = &dev_metrics {
                for (name, v) in dev_metrics.metrics() {
                    record.insert(format!("dev_{name}"), json!(v));
                }
            }
            record.insert("train_seconds".into(), json!(train_seconds));
            record.insert(
                "examples_per_second".into(),
                json!(train.len() as f64 / train_seconds),
            );
            record.insert("improved".into(), json!(improved));
            progress.finish(format!(
                "loss {:.4} · {} {value:.4}{}",
                seen.mean_loss(),
                config.monitor,
                if improved { " *" } else { "" }
            ));

            if let Some(dir) = &self.out_dir {
                self.save_epoch(dir, &model, &optimizer, &state, &record, improved)?;
            }
            history.push(record);

            if config
                .patience
                .is_some_and(|patience| state.epochs_without_improvement >= patience)
            {
                stopped_early = epoch < config.epochs;
                break;
            }
        }

        Ok(Trained {
            model,
            best_model,
            best_epoch: state.best_epoch,
            best_metric: state.best_metric,
            epochs_run: state.epoch,
            stopped_early,
            history,
            train_seconds: seconds_before + started.elapsed().as_secs_f64(),
        })
    }

    /// Writes an epoch's files so that a kill between any two of them leaves a run that
    /// resumes to the same result: the log record first (a resume drops records after
    /// `last.ckpt`'s epoch), a new best model to [`files::BEST_PENDING`], then `last.ckpt`
    /// (which names the best epoch), then the pending best renamed over `best.ckpt` (a resume
    /// that finds `last.ckpt` naming an epoch that `best.ckpt` does not hold completes the
    /// rename).
    fn save_epoch<M: Module>(
        &self,
        dir: &Path,
        model: &M,
        optimizer: &ModuleOptimizer,
        state: &TrainState,
        record: &Map<String, Value>,
        improved: bool,
    ) -> Result<()> {
        let state_json = serde_json::to_value(state).expect("state serialises");
        let config_json = serde_json::to_value(&self.config).expect("config serialises");
        let checkpoint = Checkpoint::capture(model, optimizer, state_json, config_json)?;
        self.before_write(files::LOG)?;
        log::append(&dir.join(files::LOG), record)?;
        let pending = dir.join(files::BEST_PENDING);
        if improved {
            self.before_write(files::BEST_PENDING)?;
            checkpoint.save(&pending)?;
        }
        self.before_write(files::LAST)?;
        checkpoint.save(&dir.join(files::LAST))?;
        if improved {
            self.before_write(files::BEST)?;
            rename_atomic(&pending, &dir.join(files::BEST))?;
        }
        Ok(())
    }

    /// Evaluates `model` on `data` without gradients, in batches of the evaluation batch size.
    pub fn evaluate<M, I, B>(&self, model: &M, batcher: &B, data: &[I]) -> Result<Accumulator>
    where
        M: TrainStep<B::Batch>,
        B: Batcher<I>,
        I: Clone,
    {
        evaluate(
            model,
            batcher,
            data,
            self.config
                .eval_batch_size
                .unwrap_or(self.config.batch_size),
            &self.device,
        )
    }
}

/// The model of `best.ckpt` beside `checkpoint`, which must hold epoch `best_epoch`.
///
/// Every improving epoch writes `best.ckpt`, so a run that recorded a best epoch has one; a
/// missing or mismatched file is an error rather than a silent substitution of the current
/// model as the best.
fn load_best<M: Module>(checkpoint: &Path, best_epoch: usize, model: M) -> Result<M> {
    let path = checkpoint.with_file_name(files::BEST);
    if !path.exists() {
        return Err(Error::checkpoint(
            &path,
            format!(
                "{} is missing, but {} records epoch {best_epoch} as the best; restore it, or \
                 start a new run",
                files::BEST,
                checkpoint.display()
            ),
        ));
    }
    let saved = Checkpoint::load(&path)?;
    let epoch = saved.state.get("epoch").and_then(Value::as_u64);
    if epoch != Some(best_epoch as u64) {
        return Err(Error::checkpoint(
            &path,
            format!(
                "holds epoch {}, but {} records epoch {best_epoch} as the best",
                epoch.map_or_else(|| "?".to_string(), |e| e.to_string()),
                checkpoint.display()
            ),
        ));
    }
    saved.restore_model(model, &path)
}

/// `a weight of parameter N (shape …)` for the first parameter of `model` holding a value that
/// is not finite, if any.
fn first_non_finite_parameter<M: Module>(model: &M) -> Option<String> {
    struct Find {
        index: usize,
        found: Option<String>,
    }
    impl ModuleVisitor for Find {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.found.is_none() {
                let finite = param.val().is_finite().all().into_scalar::<bool>();
                if !finite {
                    self.found = Some(format!(
                        "a weight of parameter {} (shape {:?})",
                        self.index,
                        param.val().dims()
                    ));
                }
            }
            self.index += 1;
        }
    }
    let mut find = Find {
        index: 0,
        found: None,
    };
    model.visit(&mut find);
    find.found
}

/// Finishes the epoch write that a stopped run left half done: when `best.ckpt` does not hold
/// `best_epoch` but [`files::BEST_PENDING`] does, renames the pending file into place. A pending
/// file of another epoch (written before its `last.ckpt`) is stale and removed.
fn complete_pending_best(checkpoint: &Path, best_epoch: usize) -> Result<()> {
    let pending = checkpoint.with_file_name(files::BEST_PENDING);
    if !pending.exists() {
        return Ok(());
    }
    let epoch_of = |path: &Path| -> Option<u64> {
        Checkpoint::load(path)
            .ok()
            .and_then(|c| c.state.get("epoch").and_then(Value::as_u64))
    };
    let best = checkpoint.with_file_name(files::BEST);
    if epoch_of(&best) != Some(best_epoch as u64) && epoch_of(&pending) == Some(best_epoch as u64) {
        rename_atomic(&pending, &best)
    } else {
        std::fs::remove_file(&pending).map_err(|e| Error::io("removing stale", &pending, e))
    }
}

/// Evaluates `model` on `data` without gradients, in batches of `batch_size`, on `device`
/// (autodiff is removed from both).
pub fn evaluate<M, I, B>(
    model: &M,
    batcher: &B,
    data: &[I],
    batch_size: usize,
    device: &Device,
) -> Result<Accumulator>
where
    M: TrainStep<B::Batch>,
    B: Batcher<I>,
    I: Clone,
{
    if data.is_empty() {
        return Err(Error::Empty("evaluation set"));
    }
    if batch_size == 0 {
        return Err(Error::InvalidConfig("batch size must be at least 1".into()));
    }
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let mut seen = Accumulator::new();
    for items in data.chunks(batch_size) {
        let batch = batcher.batch(items, &device);
        let output = model.step(&batch);
        let loss = f64::from(output.loss.into_scalar::<f32>());
        seen.add(loss, output.examples, &output.outcome);
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Tensor, TensorData};

    use super::*;
    use crate::BackendKind;
    use crate::optim::OptimizerConfig;
    use crate::train::{Outcome, StepOutput};

    /// `y = w·x + b` fitted by squared error.
    #[derive(Module, Debug)]
    struct Line {
        linear: Linear,
    }

    struct Pairs;

    impl Batcher<(f32, f32)> for Pairs {
        type Batch = (Tensor<2>, Tensor<2>);

        fn batch(&self, items: &[(f32, f32)], device: &Device) -> Self::Batch {
            let column = |values: Vec<f32>| {
                Tensor::from_data(TensorData::new(values, [items.len(), 1]), device)
            };
            (
                column(items.iter().map(|p| p.0).collect()),
                column(items.iter().map(|p| p.1).collect()),
            )
        }
    }

    impl TrainStep<(Tensor<2>, Tensor<2>)> for Line {
        fn step(&self, (x, y): &(Tensor<2>, Tensor<2>)) -> StepOutput {
            let examples = x.dims()[0];
            let diff = self.linear.forward(x.clone()) - y.clone();
            StepOutput {
                loss: (diff.clone() * diff).mean(),
                examples,
                outcome: Outcome::LossOnly,
            }
        }
    }

    /// Trains two epochs into a fresh run folder; returns it, the config and the data.
    fn two_epoch_run(name: &str) -> (PathBuf, TrainConfig, Vec<(f32, f32)>, Device) {
        let device = BackendKind::Flex.train_device().unwrap();
        let dir = std::env::temp_dir().join(format!("kindling-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data: Vec<(f32, f32)> = (0..16)
            .map(|i| (i as f32 / 16.0, 2.0 * i as f32 / 16.0 + 1.0))
            .collect();
        let config = TrainConfig::new(
            2,
            4,
            1,
            OptimizerConfig::Sgd {
                lr: 0.1,
                momentum: 0.0,
                nesterov: false,
                weight_decay: 0.0,
            },
        );
        let model = crate::seed::build_seeded(&device, 1, || Line {
            linear: LinearConfig::new(1, 1).init(&device),
        });
        let trained = Trainer::new(config.clone(), &device)
            .unwrap()
            .with_progress(false)
            .with_output(&dir)
            .fit(model, &Pairs, &data, Some(&data))
            .unwrap();
        assert!(trained.best_epoch > 0);
        (dir, config, data, device)
    }

    fn resume(dir: &Path, config: &TrainConfig, data: &[(f32, f32)], device: &Device) -> Error {
        let config = TrainConfig {
            epochs: 3,
            ..config.clone()
        };
        let model = crate::seed::build_seeded(device, 2, || Line {
            linear: LinearConfig::new(1, 1).init(device),
        });
        Trainer::new(config, device)
            .unwrap()
            .with_progress(false)
            .with_output(dir)
            .resume(model, &dir.join(files::LAST), &Pairs, data, Some(data))
            .err()
            .expect("resume should fail")
    }

    #[test]
    fn a_resumed_run_counts_the_seconds_before_its_checkpoint() {
        let (dir, config, data, device) = two_epoch_run("resume-seconds");
        let last = dir.join(files::LAST);
        let saved = Checkpoint::load(&last).unwrap().state["seconds"]
            .as_f64()
            .unwrap();
        let logged =
            log::train_seconds(&log::records_through_epoch(&dir.join(files::LOG), 2).unwrap());
        assert!(saved >= logged && logged > 0.0, "{saved} {logged}");
        let config = TrainConfig {
            epochs: 3,
            ..config
        };
        let model = crate::seed::build_seeded(&device, 1, || Line {
            linear: LinearConfig::new(1, 1).init(&device),
        });
        let resumed = Trainer::new(config, &device)
            .unwrap()
            .with_progress(false)
            .with_output(&dir)
            .resume(model, &last, &Pairs, &data, Some(&data))
            .unwrap();
        assert_eq!(resumed.epochs_run, 3);
        assert_eq!(resumed.history.len(), 3);
        assert_eq!(resumed.history[0]["epoch"], 1);
        assert!(
            resumed.train_seconds > saved,
            "{} {saved}",
            resumed.train_seconds
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn resume_without_best_checkpoint_is_an_error_naming_it() {
        let (dir, config, data, device) = two_epoch_run("resume-no-best");
        std::fs::remove_file(dir.join(files::BEST)).unwrap();
        let err = resume(&dir, &config, &data, &device).to_string();
        assert!(err.contains("best.ckpt is missing"), "{err}");
        assert!(err.contains("as the best"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn resume_from_a_checkpoint_with_a_flipped_header_digit_is_an_error() {
        let (dir, config, data, device) = two_epoch_run("resume-flipped");
        let last = dir.join(files::LAST);
        let mut bytes = std::fs::read(&last).unwrap();
        let at = bytes.windows(9).position(|w| w == b"\"epoch\":2").unwrap() + 8;
        bytes[at] = b'1';
        std::fs::write(&last, &bytes).unwrap();
        let err = resume(&dir, &config, &data, &device);
        assert!(matches!(err, Error::Checkpoint { .. }), "{err}");
        let err = err.to_string();
        assert!(
            err.contains("last.ckpt") && err.contains("the header at byte 20 is corrupt"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn resume_refuses_a_trainer_state_no_run_writes() {
        // Checksums recomputed: the state parses, but its values are impossible. Each used to
        // panic (an overflowing step count, a step decay dividing by zero) or run on.
        for (change, expected) in [
            (json!({"step": u64::MAX}), "more than any run takes"),
            (
                json!({"best_epoch": 7}),
                "best epoch 7 after the last epoch 2",
            ),
            (
                json!({"epochs_without_improvement": 9}),
                "9 epochs without improvement",
            ),
            (json!({"seconds": -1.0}), "training time"),
        ] {
            let (dir, config, data, device) = two_epoch_run("resume-state");
            let last = dir.join(files::LAST);
            let mut checkpoint = Checkpoint::load(&last).unwrap();
            let fields = checkpoint.state.as_object_mut().unwrap();
            fields.extend(change.as_object().unwrap().clone());
            checkpoint.save(&last).unwrap();
            let err = resume(&dir, &config, &data, &device).to_string();
            assert!(
                err.contains("last.ckpt")
                    && err.contains("trainer state")
                    && err.contains(expected),
                "{change}: {err}"
            );
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn a_scheduler_read_back_is_checked() {
        let constant = LrScheduler::new(crate::schedule::LrSchedule::Constant, 0.1).unwrap();
        assert_eq!(constant.check(), Ok(()));
        let read = |change: Value| {
            let mut value = serde_json::to_value(&constant).unwrap();
            value
                .as_object_mut()
                .unwrap()
                .extend(change.as_object().unwrap().clone());
            serde_json::from_value::<LrScheduler>(value)
                .unwrap()
                .check()
        };
        assert!(
            read(json!({"lr": -1.0}))
                .unwrap_err()
                .contains("rate is -1")
        );
        let every_zero = json!({"schedule": {"kind": "step_decay", "after_epoch": 1, "factor": 0.5, "every": 0}});
        assert!(read(every_zero).unwrap_err().contains("every"));
    }
}
