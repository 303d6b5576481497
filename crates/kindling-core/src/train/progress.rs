//! The progress bar shown while training: loss, monitored metric and examples per second.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over the batches of one epoch; draws nothing when disabled or when standard
/// error is not a terminal.
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub(crate) fn epoch(enabled: bool, epoch: usize, epochs: usize, batches: usize) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(batches as u64),
            if enabled {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("epoch {epoch}/{epochs}"));
        Self { bar }
    }

    pub(crate) fn update(&self, loss: f64, examples_per_second: f64) {
        self.bar
            .set_message(format!("loss {loss:.4} · {examples_per_second:.0} ex/s"));
        self.bar.inc(1);
    }

    pub(crate) fn finish(&self, summary: String) {
        self.bar.set_message(summary);
        self.bar.finish();
    }
}
