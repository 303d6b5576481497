//! kindling's benchmarks, each measuring kindling next to a baseline in the same run, with the
//! Python peers' scripts beside them.
//!
//! - [`mlp`]: the same training step on every compiled CPU backend.
//! - [`data`]: tokenising and counting a corpus next to Python's `re` with Kim's `clean_str`,
//!   and the cost of preparing a batch next to a convolutional classifier's training step.
//! - [`embed_eval`]: analogy and WordSim-353 evaluation of GloVe vectors next to gensim.
//! - [`embed_train`]: word2vec and subword training next to gensim and fastText.
//! - [`textcnn`]: Kim's CNN-rand training next to the same model in PyTorch.
//! - [`rnn`]: the BiLSTM classifier and the LSTM language model next to PyTorch.
//! - [`seq2seq`]: the attention encoder–decoder's training and beam search next to PyTorch.
//! - [`peers`]: PyTorch, gensim and fastText installed on first use.
//! - [`record`]: each run's JSON record, the quiet-machine check, and `docs/BENCHMARKS.md`.
//! - [`start_weights`]: a model's initial weights handed to the PyTorch side.

pub mod data;
pub mod embed_eval;
pub mod embed_train;
pub mod mlp;
pub mod peers;
pub mod record;
pub mod rnn;
pub mod seq2seq;
mod sst2;
pub mod start_weights;
pub mod textcnn;

pub use mlp::{BackendTiming, StepShape, backends};

use std::ffi::OsStr;
use std::process::Command;

pub use kindling_experiments::{Error, Result};

/// This process's peak resident memory (`VmHWM`), MiB.
pub(crate) fn peak_rss_mb() -> Option<f64> {
    kindling_experiments::reporting::report::peak_rss_bytes()
        .map(|bytes| bytes as f64 / (1024.0 * 1024.0))
}

pub(crate) use kindling_core::metrics::mean_sd;

/// `values`' mean as `show` writes it, with `± sd` when there are several.
pub(crate) fn show_spread(values: &[f64], show: impl Fn(f64) -> String) -> String {
    let (mean, sd) = mean_sd(values);
    if values.len() < 2 {
        show(mean)
    } else {
        format!("{} ± {}", show(mean), show(sd))
    }
}

/// The median of `values` (the upper one of the middle two for an even count); sorts them.
///
/// # Panics
/// If `values` is empty.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Writes a benchmark's data file for the peer.
///
/// # Errors
/// [`Error::Bench`] naming the file.
pub(crate) fn write_text(path: &std::path::Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Bench(format!("writing {}: {e}", path.display())))
}

/// The number `key` of a PyTorch side's JSON.
///
/// # Errors
/// [`Error::Bench`] when it is missing or not a number.
pub(crate) fn torch_number(result: &serde_json::Value, key: &str) -> Result<f64> {
    result[key]
        .as_f64()
        .ok_or_else(|| Error::Bench(format!("the PyTorch side reported no `{key}`")))
}

/// `PyTorch VERSION`, as a PyTorch side's JSON reports its version.
pub(crate) fn torch_tool(result: &serde_json::Value) -> String {
    format!(
        "PyTorch {}",
        result["torch"].as_str().unwrap_or("(unknown version)")
    )
}

/// Runs the Python `script` with `args` under `python` and parses the one JSON object it
/// prints. `None` (with a note on stderr) when the interpreter cannot be started, so a
/// benchmark still reports our side; an error when the script fails.
pub(crate) fn python_json(
    python: &str,
    script: &str,
    args: &[&OsStr],
) -> Result<Option<serde_json::Value>> {
    let output = match Command::new(python)
        // The allocator settings this process runs under (`main` sets them), for a like-for-like
        // comparison.
        .env("GLIBC_TUNABLES", kindling_core::memory::GLIBC_TUNABLES)
        .args(["-c", script])
        .args(args)
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            eprintln!("python baseline skipped: could not run `{python}`: {e}");
            return Ok(None);
        }
    };
    if !output.status.success() {
        return Err(Error::Bench(format!(
            "python baseline failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    serde_json::from_slice(&output.stdout)
        .map(Some)
        .map_err(|e| Error::Bench(format!("python baseline printed no JSON: {e}")))
}
