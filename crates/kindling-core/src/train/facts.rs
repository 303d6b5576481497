//! The facts every training run reports beside its scores: how long it trained, how fast, and
//! which epoch it kept.

use serde_json::{Map, Value, json};

use super::Trained;

/// Wall time, speed and epochs of a finished [`Trained`] run, as metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingFacts {
    /// Seconds of training, evaluations included (before a resume too).
    pub train_seconds: f64,
    /// The epoch whose model was kept (1-based; 0 when none ran).
    pub best_epoch: usize,
    /// Epochs that ran.
    pub epochs_run: usize,
    /// `(unit, per second)`: e.g. `("tokens", 12345.6)`, the units of one epoch times the
    /// epochs run over the training seconds.
    pub rates: Vec<(String, f64)>,
}

impl TrainingFacts {
    /// The facts of `trained`, with a rate for each `(unit, units in one epoch)`.
    pub fn of<M>(trained: &Trained<M>, units_per_epoch: &[(&str, usize)]) -> Self {
        let seconds = trained.train_seconds;
        Self {
            train_seconds: seconds,
            best_epoch: trained.best_epoch,
            epochs_run: trained.epochs_run,
            rates: units_per_epoch
                .iter()
                .map(|&(unit, count)| {
                    let rate = (trained.epochs_run * count) as f64 / seconds;
                    (unit.to_string(), rate)
                })
                .collect(),
        }
    }

    /// Adds `train_seconds`, `best_epoch`, `epochs_run` and one `train_{unit}_per_second` per
    /// rate to `metrics`.
    pub fn insert_into(&self, metrics: &mut Map<String, Value>) {
        metrics.insert("train_seconds".into(), json!(self.train_seconds));
        metrics.insert("best_epoch".into(), json!(self.best_epoch));
        metrics.insert("epochs_run".into(), json!(self.epochs_run));
        for (unit, rate) in &self.rates {
            metrics.insert(format!("train_{unit}_per_second"), json!(rate));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_count_every_epoch_that_ran() {
        let trained = Trained {
            model: (),
            best_model: (),
            best_epoch: 2,
            best_metric: Some(0.5),
            epochs_run: 3,
            stopped_early: true,
            history: Vec::new(),
            train_seconds: 6.0,
        };
        let facts = TrainingFacts::of(&trained, &[("tokens", 100), ("sentences", 4)]);
        let mut metrics = Map::new();
        facts.insert_into(&mut metrics);
        assert_eq!(metrics["train_seconds"], json!(6.0));
        assert_eq!(metrics["best_epoch"], json!(2));
        assert_eq!(metrics["epochs_run"], json!(3));
        assert_eq!(metrics["train_tokens_per_second"], json!(50.0));
        assert_eq!(metrics["train_sentences_per_second"], json!(2.0));
    }
}
