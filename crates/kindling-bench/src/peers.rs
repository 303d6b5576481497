//! The peers the benchmarks run beside kindling, installed on first use under `target/` of the
//! folder the benchmark runs in (the repository root under `cargo xtask bench`): PyTorch and
//! gensim in their own virtualenvs, fastText compiled from its sources with upstream's flags.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

/// The PyTorch release the benchmarks compare against.
pub const TORCH: &str = "torch==2.15.0";
/// The gensim release the embedding benchmarks compare against.
pub const GENSIM: &str = "gensim==4.4.0";

/// The Python of `target/torch-venv`, with [`TORCH`] installed when missing.
///
/// # Errors
/// When the virtualenv cannot be made or the install fails.
pub fn torch_python() -> Result<String> {
    python_venv(Path::new("target/torch-venv"), &[TORCH])
}

/// The Python of `target/bench-venv`, with [`GENSIM`] installed when missing.
///
/// # Errors
/// When the virtualenv cannot be made or the install fails.
pub fn gensim_python() -> Result<String> {
    python_venv(Path::new("target/bench-venv"), &[GENSIM])
}

/// The Python of the virtualenv at `venv`, created with `packages` installed when missing.
fn python_venv(venv: &Path, packages: &[&str]) -> Result<String> {
    let python = venv.join("bin/python");
    let marker = venv.join(format!("installed-{}", packages.join("+")));
    if !marker.is_file() {
        if !python.is_file() {
            run(Command::new("python3").args(["-m", "venv"]).arg(venv))
                .map_err(|e| Error::Bench(format!("{e} (is python3-venv installed?)")))?;
        }
        run(Command::new(&python)
            .args(["-m", "pip", "install", "-q"])
            .args(packages))?;
        std::fs::write(&marker, b"").map_err(|e| Error::io("writing", &marker, e))?;
    }
    Ok(python.display().to_string())
}

/// fastText compiled from its own sources with upstream's release flags (its Makefile's
/// `opt`: `-pthread -std=c++17 -march=native -O3 -funroll-loops -DNDEBUG`) into
/// `target/fasttext-native`, once. The sources are `../shared/peers/fasttext/src` when present,
/// else those of PyPI's `fasttext` source distribution, fetched with `python`'s pip.
///
/// # Errors
/// When the sources cannot be found or fetched, or the compiler fails.
pub fn fasttext_native(python: &str) -> Result<String> {
    let out = PathBuf::from("target/fasttext-native");
    let binary = out.join("fasttext");
    if binary.is_file() {
        return Ok(binary.display().to_string());
    }
    std::fs::create_dir_all(&out).map_err(|e| Error::io("creating", &out, e))?;
    let shared = PathBuf::from("../shared/peers/fasttext/src");
    let (sources, version) = if shared.is_dir() {
        let commit = std::fs::read_to_string("../shared/peers/fasttext/COMMIT").unwrap_or_default();
        let commit: String = commit.trim().chars().take(12).collect();
        (shared, format!("source {commit}"))
    } else {
        let version = "0.9.3";
        // pip prepares an sdist's metadata even to download it, without build isolation in
        // this virtualenv: it needs fastText's build requirements there.
        let pip = [
            "-m",
            "pip",
            "install",
            "-q",
            "setuptools",
            "wheel",
            "pybind11",
        ];
        run(Command::new(python).args(pip))?;
        run(Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-build-isolation",
            ])
            .args([
                "--no-binary",
                ":all:",
                &format!("fasttext=={version}"),
                "-d",
            ])
            .arg(&out))?;
        let sdist = out.join(format!("fasttext-{version}.tar.gz"));
        run(Command::new("tar")
            .arg("-xzf")
            .arg(sdist)
            .arg("-C")
            .arg(&out))?;
        (
            out.join(format!("fasttext-{version}/src")),
            format!("PyPI sdist {version}"),
        )
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sources)
        .map_err(|e| Error::io("reading", &sources, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "cc"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Bench(format!(
            "no fastText sources (*.cc) in {}",
            sources.display()
        )));
    }
    let flags = [
        "-pthread",
        "-std=c++17",
        "-march=native",
        "-O3",
        "-funroll-loops",
        "-DNDEBUG",
    ];
    run(Command::new("g++")
        .args(flags)
        .args(&files)
        .arg("-o")
        .arg(&binary))?;
    let version_file = out.join("VERSION");
    std::fs::write(&version_file, format!("{version}, -O3 -march=native\n"))
        .map_err(|e| Error::io("writing", &version_file, e))?;
    Ok(binary.display().to_string())
}

/// A distribution's generic fastText build, listed beside the native one when installed.
pub fn fasttext_generic() -> Option<String> {
    let path = Path::new("/usr/bin/fasttext");
    path.is_file().then(|| path.display().to_string())
}

/// The newest finished run (one with `metrics.json`) of `experiment` under `runs/`.
pub fn newest_run(experiment: &str) -> Option<PathBuf> {
    let dir = PathBuf::from("runs").join(experiment);
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("metrics.json").is_file())
        .collect();
    runs.sort();
    runs.pop()
}

/// Runs `command`, an error naming it when it cannot start or fails.
fn run(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| Error::Bench(format!("could not start {shown}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Bench(format!("{shown} failed ({status})")))
    }
}
