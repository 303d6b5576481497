//! Learning-rate schedules: constant, step decay after epoch N, and reduce-on-plateau.
//!
//! A schedule is a serialisable config ([`LrSchedule`]) plus a small serialisable state
//! ([`LrScheduler`]), so that a resumed run continues with exactly the learning rate, plateau
//! counter and best value it had.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Whether a monitored metric is better when larger (accuracy) or smaller (loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    /// Larger is better.
    #[default]
    Max,
    /// Smaller is better.
    Min,
}

impl Goal {
    /// Whether `candidate` improves on `best` by more than `threshold` (relative, as in
    /// PyTorch's `ReduceLROnPlateau(threshold_mode="rel")`).
    pub fn improves(self, candidate: f64, best: Option<f64>, threshold: f64) -> bool {
        let Some(best) = best else {
            return candidate.is_finite();
        };
        match self {
            Goal::Max => candidate > best + threshold * best.abs(),
            Goal::Min => candidate < best - threshold * best.abs(),
        }
    }
}

/// How the learning rate changes over training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LrSchedule {
    /// The optimizer's learning rate throughout.
    #[default]
    Constant,
    /// Multiply by `factor` at the start of epoch `after_epoch + 1`, then again every `every`
    /// epochs if `every` is set (e.g. `after_epoch = 8, factor = 0.5` halves the rate from
    /// epoch 9 on, as in Luong et al. 2015).
    StepDecay {
        /// Last epoch (1-based) at the base rate.
        after_epoch: usize,
        /// Multiplier per decay.
        factor: f64,
        /// Epochs between further decays.
        #[serde(default)]
        every: Option<usize>,
    },
    /// Multiply by `factor` when the monitored dev metric has not improved for `patience`
    /// epochs (PyTorch `ReduceLROnPlateau`).
    ReduceOnPlateau {
        /// Multiplier per reduction.
        factor: f64,
        /// Epochs without improvement before reducing.
        patience: usize,
        /// The rate is never reduced below this.
        #[serde(default)]
        min_lr: f64,
        /// Relative improvement that counts.
        #[serde(default = "default_threshold")]
        threshold: f64,
    },
}

fn default_threshold() -> f64 {
    1e-4
}

/// A schedule with its running state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrScheduler {
    schedule: LrSchedule,
    base_lr: f64,
    lr: f64,
    best: Option<f64>,
    bad_epochs: usize,
}

impl LrScheduler {
    /// A scheduler starting at `base_lr`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a factor outside `(0, 1]` or `every = 0`.
    pub fn new(schedule: LrSchedule, base_lr: f64) -> Result<Self> {
        let factor = match &schedule {
            LrSchedule::Constant => 1.0,
            LrSchedule::StepDecay { factor, every, .. } => {
                if *every == Some(0) {
                    return Err(Error::InvalidConfig(
                        "step decay `every` must be ≥ 1".into(),
                    ));
                }
                *factor
            }
            LrSchedule::ReduceOnPlateau { factor, .. } => *factor,
        };
        if factor.is_nan() || factor <= 0.0 || factor > 1.0 {
            return Err(Error::InvalidConfig(format!(
                "learning-rate factor must be in (0, 1], got {factor}"
            )));
        }
        Ok(Self {
            schedule,
            base_lr,
            lr: base_lr,
            best: None,
            bad_epochs: 0,
        })
    }

    /// Checks a scheduler read back from a checkpoint for values no run writes: the schedule's
    /// own settings (as [`LrScheduler::new`]), rates that are not finite and positive, a best
    /// metric that is not finite, or a count of bad epochs no run reaches.
    ///
    /// # Errors
    /// A message naming the value.
    pub fn check(&self) -> std::result::Result<(), String> {
        Self::new(self.schedule.clone(), self.base_lr).map_err(|e| e.to_string())?;
        for (name, rate) in [("base rate", self.base_lr), ("rate", self.lr)] {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(format!("the scheduler's {name} is {rate}"));
            }
        }
        if self.best.is_some_and(|b| !b.is_finite()) {
            return Err("the scheduler's best metric is not finite".into());
        }
        if self.bad_epochs > u32::MAX as usize {
            return Err(format!("{} epochs without improvement", self.bad_epochs));
        }
        Ok(())
    }

    /// The learning rate to use now.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Sets the rate for `epoch` (1-based); call before its first step.
    pub fn start_epoch(&mut self, epoch: usize) {
        if let LrSchedule::StepDecay {
            after_epoch,
            factor,
            every,
        } = self.schedule
        {
            let decays = if epoch <= after_epoch {
                0
            } else {
                match every {
                    Some(every) => 1 + (epoch - after_epoch - 1) / every,
                    None => 1,
                }
            };
            self.lr = self.base_lr * factor.powi(decays as i32);
        }
    }

    /// Reports the epoch's monitored dev metric; may reduce the rate on a plateau.
    pub fn end_epoch(&mut self, metric: Option<f64>, goal: Goal) {
        let LrSchedule::ReduceOnPlateau {
            factor,
            patience,
            min_lr,
            threshold,
        } = self.schedule
        else {
            return;
        };
        let Some(metric) = metric else { return };
        if goal.improves(metric, self.best, threshold) {
            self.best = Some(metric);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
            if self.bad_epochs > patience {
                self.lr = (self.lr * factor).max(min_lr);
                self.bad_epochs = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_stays_constant() {
        let mut s = LrScheduler::new(LrSchedule::Constant, 0.1).unwrap();
        for epoch in 1..5 {
            s.start_epoch(epoch);
            s.end_epoch(Some(0.5), Goal::Max);
            assert_eq!(s.lr(), 0.1);
        }
    }

    #[test]
    fn step_decay_after_epoch_n() {
        let schedule = LrSchedule::StepDecay {
            after_epoch: 2,
            factor: 0.5,
            every: Some(1),
        };
        let mut s = LrScheduler::new(schedule, 1.0).unwrap();
        let lrs: Vec<f64> = (1..=5)
            .map(|e| {
                s.start_epoch(e);
                s.lr()
            })
            .collect();
        assert_eq!(lrs, vec![1.0, 1.0, 0.5, 0.25, 0.125]);
    }

    #[test]
    fn plateau_reduces_after_patience() {
        let schedule = LrSchedule::ReduceOnPlateau {
            factor: 0.1,
            patience: 1,
            min_lr: 1e-3,
            threshold: 0.0,
        };
        let mut s = LrScheduler::new(schedule, 1.0).unwrap();
        let losses = [
            1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85,
        ];
        let mut lrs = vec![];
        for loss in losses {
            s.end_epoch(Some(loss), Goal::Min);
            lrs.push(s.lr());
        }
        // Improvements at 1.0, 0.9, 0.8; two bad epochs in a row trigger a reduction.
        assert_eq!(lrs[..4], [1.0, 1.0, 1.0, 0.1]);
        assert!((lrs[5] - 0.01).abs() < 1e-12);
        assert!((lrs[10] - 1e-3).abs() < 1e-12, "{lrs:?}");
    }

    #[test]
    fn invalid_factor_is_rejected() {
        let schedule = LrSchedule::StepDecay {
            after_epoch: 1,
            factor: 2.0,
            every: None,
        };
        assert!(LrScheduler::new(schedule, 1.0).is_err());
    }
}
