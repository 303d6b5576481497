//! What a benchmark run leaves behind: a JSON record (the machine, how busy it was, the
//! command, the date, the rendered tables and the numbers behind them), and
//! `docs/BENCHMARKS.md`, generated from a folder of such records.
//!
//! Before timing anything a benchmark checks that nothing else is running: it samples the
//! number of runnable threads (`/proc/loadavg`'s fourth field, which counts the sampler itself)
//! and waits for the rest to go idle; if they do not, it refuses unless told to run anyway, and
//! the record and the generated page then say the machine was busy.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use kindling_core::atomic::write_json_atomic;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The machine a benchmark ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name (`/proc/cpuinfo`).
    pub cpu: String,
    /// Logical cores available to the process.
    pub cores: usize,
    /// The vector extensions the CPU reports that matter here (`avx512f`, `avx2`, `fma`).
    pub simd: Vec<String>,
    /// Memory in GiB.
    pub memory_gib: f64,
}

impl Machine {
    /// This machine, from `/proc` (fields it cannot read stay empty or zero).
    pub fn current() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        };
        let flags = field("flags").unwrap_or_default();
        let simd = ["avx512f", "avx2", "fma"]
            .into_iter()
            .filter(|f| flags.split_whitespace().any(|x| x == *f))
            .map(String::from)
            .collect();
        let memory_kib: f64 = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0.0);
        Self {
            cpu: field("model name").unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            simd,
            memory_gib: memory_kib / (1024.0 * 1024.0),
        }
    }
}

/// How busy the machine was when a benchmark started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// The 1-minute load average (it includes this process's own recent work).
    pub load_average: f64,
    /// Runnable threads other than the sampler, averaged over a couple of seconds.
    pub other_runnable: f64,
    /// Seconds waited for the machine to go quiet.
    pub waited_seconds: f64,
    /// Whether it did.
    pub quiet: bool,
}

/// More runnable threads than this, on average, means something else is running.
const BUSY: f64 = 0.3;

/// Samples the other runnable threads over about two seconds.
fn other_runnable() -> f64 {
    let samples = 20;
    let mut total = 0.0;
    for _ in 0..samples {
        total += runnable_in(&std::fs::read_to_string("/proc/loadavg").unwrap_or_default())
            .map_or(0.0, |r| r.saturating_sub(1) as f64);
        std::thread::sleep(Duration::from_millis(100));
    }
    total / f64::from(samples)
}

/// The running-thread count of a `/proc/loadavg` line (`0.52 0.58 0.59 2/467 12345`).
fn runnable_in(loadavg: &str) -> Option<usize> {
    loadavg
        .split_whitespace()
        .nth(3)?
        .split('/')
        .next()?
        .parse()
        .ok()
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Waits up to `patience` for other work to stop. With `allow_busy` a busy machine is
/// recorded and the benchmark goes on; without, it is an error.
///
/// # Errors
/// [`Error::Bench`] when the machine stayed busy and `allow_busy` is false.
pub fn wait_for_quiet(patience: Duration, allow_busy: bool) -> Result<Load> {
    let started = Instant::now();
    loop {
        let other = other_runnable();
        let waited = started.elapsed();
        if other < BUSY || waited >= patience {
            let load = Load {
                load_average: load_average(),
                other_runnable: other,
                waited_seconds: waited.as_secs_f64(),
                quiet: other < BUSY,
            };
            if !load.quiet && !allow_busy {
                return Err(Error::Bench(format!(
                    "the machine is busy ({other:.1} other runnable threads on average after \
                     waiting {:.0} s): benchmarks measured beside other work are noise; stop it \
                     or pass --allow-busy to record the run as taken on a busy machine",
                    waited.as_secs_f64()
                )));
            }
            return Ok(load);
        }
        eprintln!("waiting for the machine to go quiet ({other:.1} other runnable threads)");
        std::thread::sleep(Duration::from_secs(10));
    }
}

/// One benchmark run as written to its JSON record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The benchmark's name (`textcnn`, `rnn`, `embed`, …).
    pub bench: String,
    /// A one-line title for the generated page.
    pub title: String,
    /// When it finished, `YYYY-mm-dd HH:MM:SS UTC`.
    pub date: String,
    /// The command line that ran it.
    pub command: String,
    /// The machine.
    pub machine: Machine,
    /// How busy it was at the start.
    pub load: Load,
    /// The rendered tables (Markdown).
    pub markdown: String,
    /// The numbers behind them.
    pub data: serde_json::Value,
}

impl Record {
    /// A record of `bench`, finished now, that started under `load`, with this process's
    /// command line.
    pub fn new(
        bench: &str,
        title: &str,
        load: Load,
        markdown: String,
        data: serde_json::Value,
    ) -> Self {
        let stamp = kindling_experiments::runner::timestamp(SystemTime::now());
        Self {
            bench: bench.into(),
            title: title.into(),
            date: format!(
                "{}-{}-{} {}:{}:{} UTC",
                &stamp[0..4],
                &stamp[4..6],
                &stamp[6..8],
                &stamp[9..11],
                &stamp[11..13],
                &stamp[13..15]
            ),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            machine: Machine::current(),
            load,
            markdown,
            data,
        }
    }

    /// Writes the record to `dir/BENCH.json` (atomically).
    ///
    /// # Errors
    /// A failed write.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Bench(format!("creating {}: {e}", dir.display())))?;
        write_json_atomic(&dir.join(format!("{}.json", self.bench)), self)?;
        Ok(())
    }
}

/// The order of the page's sections; records of other benchmarks follow, by name.
const ORDER: [&str; 7] = [
    "textcnn",
    "rnn",
    "seq2seq",
    "embed",
    "embed-eval",
    "backends",
    "data",
];

/// `docs/BENCHMARKS.md` from the records in `dir`.
///
/// # Errors
/// An unreadable folder or a record that does not parse (named).
pub fn render_page(dir: &Path) -> Result<String> {
    let mut records = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Bench(format!("reading {}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Error::Bench(format!("reading {}: {e}", dir.display())))?
            .path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Bench(format!("reading {}: {e}", path.display())))?;
        let record: Record = serde_json::from_str(&text).map_err(|e| {
            Error::Bench(format!("{}: not a benchmark record: {e}", path.display()))
        })?;
        records.push(record);
    }
    let rank = |name: &str| ORDER.iter().position(|o| *o == name).unwrap_or(ORDER.len());
    records.sort_by(|a, b| (rank(&a.bench), &a.bench).cmp(&(rank(&b.bench), &b.bench)));
    Ok(page(&records))
}

fn page(records: &[Record]) -> String {
    let mut out = String::from(
        "# Benchmarks\n\n<!-- Generated by `cargo xtask bench all` from docs/benchmarks/*.json; edit those, not this. -->\n\n\
         Each section is one run of `cargo xtask bench NAME`: kindling next to its peers in the same run, on the same \
         data in the same order, with the same threads. Ratios are against the peer measured in that run; absolute rates \
         move between runs on a shared machine. A benchmark waits for the machine to go quiet before it starts and says \
         so below when it did not.\n",
    );
    for record in records {
        let m = &record.machine;
        out.push_str(&format!(
            "\n## {}\n\n`{}` on {} ({} cores, {}, {:.0} GiB), {}. Load at start: {:.2} (1-minute average), {:.1} other runnable threads{}.\n\n{}\n",
            record.title,
            record.command,
            m.cpu,
            m.cores,
            if m.simd.is_empty() {
                "no AVX".to_string()
            } else {
                m.simd.join(", ")
            },
            m.memory_gib,
            record.date,
            record.load.load_average,
            record.load.other_runnable,
            if record.load.quiet {
                String::new()
            } else {
                " — **the machine was busy: other work shared it, so these numbers are noisy**"
                    .to_string()
            },
            record.markdown.trim_end()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_count_is_the_fourth_field() {
        assert_eq!(runnable_in("0.52 0.58 0.59 2/467 12345"), Some(2));
        assert_eq!(runnable_in("0.52 0.58"), None);
    }

    fn record(bench: &str, quiet: bool) -> Record {
        Record {
            bench: bench.into(),
            title: format!("The {bench} benchmark"),
            date: "2026-01-02 03:04:05 UTC".into(),
            command: format!("kindling-bench {bench}"),
            machine: Machine {
                cpu: "Some CPU".into(),
                cores: 2,
                simd: vec!["avx2".into()],
                memory_gib: 24.0,
            },
            load: Load {
                load_average: 0.1,
                other_runnable: if quiet { 0.0 } else { 1.5 },
                waited_seconds: 0.0,
                quiet,
            },
            markdown: format!("| {bench} |\n"),
            data: serde_json::json!({}),
        }
    }

    #[test]
    fn page_orders_sections_and_marks_busy_runs() {
        let dir = std::env::temp_dir().join(format!("kindling-bench-page-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        record("zeta", true).write(&dir).unwrap();
        record("rnn", false).write(&dir).unwrap();
        record("textcnn", true).write(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let page = render_page(&dir).unwrap();
        let at = |s: &str| page.find(s).unwrap();
        assert!(at("## The textcnn") < at("## The rnn") && at("## The rnn") < at("## The zeta"));
        assert_eq!(page.matches("the machine was busy").count(), 1);
        assert!(page.contains("Some CPU (2 cores, avx2, 24 GiB)"));
        std::fs::write(dir.join("broken.json"), "{").unwrap();
        let error = render_page(&dir).unwrap_err().to_string();
        assert!(error.contains("broken.json"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
