//! `cargo xtask fuzz`: builds and runs every libFuzzer target of `fuzz/` in turn.
//!
//! cargo-fuzz must be installed (`cargo install cargo-fuzz --locked`); this task installs
//! nothing itself. Targets run on the stable toolchain without a sanitizer (`-s none`), each
//! from its seeds (`fuzz/seeds/NAME`) and its growing corpus (`fuzz/corpus/NAME`); crashing
//! inputs land in `fuzz/artifacts/NAME`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, run};

/// Every target in `fuzz/Cargo.toml`, and whether it needs the fuzz crate's `burn` feature (an
/// instrumented burn build, much slower than the rest).
const TARGETS: &[(&str, bool)] = &[
    ("line_readers", false),
    ("container", false),
    ("vocab_json", false),
    ("parallel_files", false),
    ("checkpoint", true),
    ("word_vectors", true),
    ("embedding_models", true),
    ("checkpoint_sections", true),
    ("resume_state", true),
    ("saved_runs", true),
    ("subword_json", true),
    ("experiment_spec", true),
    ("results_archive", true),
];

/// Builds the targets (all, or those without burn when `burn_free`), then runs each for
/// `seconds`. A target that crashes does not stop the others; the task fails at the end
/// naming every target that crashed.
pub fn fuzz(seconds: u64, burn_free: bool) -> Result {
    let dir = fuzz_dir();
    let installed = Command::new(cargo_bin())
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        return Err(
            "cargo-fuzz is not installed; install it with `cargo install cargo-fuzz --locked` \
             and run this again"
                .into(),
        );
    }
    let features: &[&str] = if burn_free {
        &[]
    } else {
        &["--features", "burn"]
    };
    let targets: Vec<&str> = TARGETS
        .iter()
        .filter(|(_, burn)| !(burn_free && *burn))
        .map(|(name, _)| *name)
        .collect();

    eprintln!("::: building {} fuzz targets", targets.len());
    run(Command::new(cargo_bin())
        .current_dir(&dir)
        .args(["fuzz", "build", "-s", "none"])
        .args(features))?;

    let mut crashed = Vec::new();
    for target in targets {
        eprintln!("::: fuzzing {} for {seconds} s", target);
        let corpus = dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("creating {}: {e}", corpus.display()))?;
        let outcome = run(Command::new(cargo_bin())
            .current_dir(&dir)
            .args(["fuzz", "run", "-s", "none"])
            .args(features)
            .arg(target)
            .arg(&corpus)
            .arg(dir.join("seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}")));
        if let Err(message) = outcome {
            eprintln!("xtask: {message}");
            crashed.push(target);
        }
    }
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz targets failed: {} (crashing inputs are in fuzz/artifacts/TARGET)",
            crashed.join(", ")
        ))
    }
}

/// `fuzz/` beside this crate.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .join("fuzz")
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
