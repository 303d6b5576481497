//! `cargo xtask fuzz`: builds and runs every libFuzzer target of `fuzz/` in turn.
//!
//! cargo-fuzz must be installed (`cargo install cargo-fuzz --locked`); this task installs
//! nothing itself. Targets run on the stable toolchain without a sanitizer (`-s none`), each
//! from its seeds (`fuzz/seeds/NAME`) and its growing corpus (`fuzz/corpus/NAME`); crashing
//! inputs land in `fuzz/artifacts/NAME`.

use std::process::Command;

use crate::{Result, cargo_bin, root, run};

/// Every target (`[[bin]]`) of `manifest` (fuzz/Cargo.toml), and whether it needs the fuzz
/// crate's `burn` feature (an instrumented burn build, much slower than the rest).
fn targets(manifest: &str) -> Vec<(String, bool)> {
    let mut targets: Vec<(String, bool)> = Vec::new();
    for section in manifest.split("[[bin]]").skip(1) {
        let value = |key: &str| {
            section.lines().find_map(|line| {
                let (k, v) = line.split_once('=')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
        };
        if let Some(name) = value("name") {
            let needs_burn = value("required-features").is_some_and(|f| f.contains("\"burn\""));
            targets.push((name.trim_matches('"').to_string(), needs_burn));
        }
    }
    targets
}

/// Builds the targets (all, or those without burn when `burn_free`), then runs each for
/// `seconds`. A target that crashes does not stop the others; the task fails at the end
/// naming every target that crashed.
pub fn fuzz(seconds: u64, burn_free: bool) -> Result {
    let dir = root().join("fuzz");
    let manifest = dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("reading {}: {e}", manifest.display()))?;
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
    let targets: Vec<String> = targets(&manifest)
        .into_iter()
        .filter(|(_, burn)| !(burn_free && *burn))
        .map(|(name, _)| name)
        .collect();

    eprintln!("::: building {} fuzz targets", targets.len());
    run(Command::new(cargo_bin())
        .current_dir(&dir)
        .args(["fuzz", "build", "-s", "none"])
        .args(features))?;

    let mut crashed = Vec::new();
    for target in targets {
        eprintln!("::: fuzzing {} for {seconds} s", target);
        let corpus = dir.join("corpus").join(&target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("creating {}: {e}", corpus.display()))?;
        let outcome = run(Command::new(cargo_bin())
            .current_dir(&dir)
            .args(["fuzz", "run", "-s", "none"])
            .args(features)
            .arg(&target)
            .arg(&corpus)
            .arg(dir.join("seeds").join(&target))
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

#[cfg(test)]
mod tests {
    #[test]
    fn every_target_of_the_fuzz_manifest_is_found_with_its_features() {
        let manifest = std::fs::read_to_string(crate::root().join("fuzz/Cargo.toml")).unwrap();
        let targets = super::targets(&manifest);
        assert_eq!(targets.len(), manifest.matches("[[bin]]").count());
        assert!(targets.contains(&("line_readers".to_string(), false)));
        assert!(targets.contains(&("checkpoint".to_string(), true)));
    }
}
