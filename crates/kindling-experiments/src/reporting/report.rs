//! The human-readable side of a run: `report.md` beside `metrics.json`, with the training
//! curves drawn from the trainer's `log.jsonl` as SVG images, a classifier's confusion
//! matrices (`*_confusion` metrics) as heat maps, the final metrics, where and how
//! the run ran (backend, commit, config hash, wall time, speed, peak memory), and the resolved
//! config.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use kindling_core::atomic::write_atomic;
use kindling_core::checkpoint::fnv1a;
use serde_json::{Map, Value};

use super::chart::{Series, attention_heatmap, confusion_heatmap, line_chart};
use crate::{Error, Result};

/// The commit of the working tree the runner was started in (`git rev-parse HEAD`), with
/// `-dirty` when tracked files differ from it; `None` outside a git checkout.
pub fn git_commit() -> Option<String> {
    let output = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = output(&["rev-parse", "HEAD"])?;
    let dirty =
        output(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

/// A short, stable name for a resolved config: FNV-1a of its JSON (keys sorted), 16 hex
/// digits. It tells runs of the same settings apart from others; it is not a security hash.
pub fn config_hash(config: &Value) -> String {
    format!("{:016x}", fnv1a(config.to_string().as_bytes()))
}

/// This process's peak resident memory (`VmHWM`) in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The per-epoch records of a run's `log.jsonl` (empty when there is none).
///
/// # Errors
/// A line that is not a JSON object, named by file and line.
pub fn read_log(path: &Path) -> Result<Vec<Map<String, Value>>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Vec::new());
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str::<Map<String, Value>>(line).map_err(|e| Error::Log {
                path: path.to_path_buf(),
                line: index + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// One metric per epoch, for every epoch that has it.
fn curve(log: &[Map<String, Value>], key: &str) -> Vec<(f64, f64)> {
    log.iter()
        .filter_map(|record| Some((record.get("epoch")?.as_f64()?, record.get(key)?.as_f64()?)))
        .collect()
}

/// The training and dev curves of one measure, leaving out a curve the log does not have.
fn train_and_dev(log: &[Map<String, Value>], train_key: &str, dev_key: &str) -> Vec<Series> {
    [("train", train_key), ("dev", dev_key)]
        .into_iter()
        .map(|(name, key)| Series {
            name: name.into(),
            points: curve(log, key),
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// The dev metrics the log has besides the loss (`dev_accuracy`, `dev_perplexity`, …), in
/// the order they first appear.
fn dev_metrics(log: &[Map<String, Value>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for record in log {
        for key in record.keys() {
            if key.starts_with("dev_") && key != "dev_loss" && !names.contains(key) {
                names.push(key.clone());
            }
        }
    }
    names
}

/// Writes `report.md` and its charts into `out_dir` from the run's `metrics` and `config`
/// and the trainer's `log.jsonl` there. Returns the report's path.
///
/// # Errors
/// An unreadable log or a failed write.
pub fn write_report(
    out_dir: &Path,
    metrics: &Map<String, Value>,
    config: &Value,
) -> Result<std::path::PathBuf> {
    let log = read_log(&out_dir.join("log.jsonl"))?;
    let mut images = Vec::new();
    let mut write_svg = |name: &str, svg: String| -> Result<()> {
        write_atomic(&out_dir.join(name), svg.as_bytes())?;
        images.push(name.to_string());
        Ok(())
    };
    if !log.is_empty() {
        let loss = train_and_dev(&log, "train_loss", "dev_loss");
        write_svg(
            "loss.svg",
            line_chart("Loss per epoch", "epoch", "loss", &loss),
        )?;
        for metric in dev_metrics(&log) {
            let measure = metric.trim_start_matches("dev_");
            let series = train_and_dev(&log, &format!("train_{measure}"), &metric);
            write_svg(
                &format!("{measure}.svg"),
                line_chart(&format!("{measure} per epoch"), "epoch", measure, &series),
            )?;
        }
    }
    for (key, value) in metrics {
        let Some(split) = key.strip_suffix("_confusion") else {
            continue;
        };
        let labels: Option<Vec<String>> = value["labels"].as_array().map(|l| {
            l.iter()
                .map(|x| x.as_str().unwrap_or("?").to_string())
                .collect()
        });
        let counts: Option<Vec<Vec<u64>>> = value["counts"].as_array().map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .map(|r| r.iter().map(|c| c.as_u64().unwrap_or(0)).collect())
                        .unwrap_or_default()
                })
                .collect()
        });
        if let (Some(labels), Some(counts)) = (labels, counts) {
            write_svg(
                &format!("{key}.svg"),
                confusion_heatmap(&format!("{split} confusion matrix"), &labels, &counts),
            )?;
        }
    }
    for (key, value) in metrics {
        let Some(split) = key.strip_suffix("_attention") else {
            continue;
        };
        let strings = |field: &str| -> Vec<String> {
            value[field]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|x| x.as_str().unwrap_or("?").to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let weights: Vec<Vec<f64>> = value["weights"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        row.as_array()
                            .map(|r| r.iter().map(|w| w.as_f64().unwrap_or(0.0)).collect())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        write_svg(
            &format!("{key}.svg"),
            attention_heatmap(
                &format!("{split} attention (greedy search)"),
                &strings("source"),
                &strings("output"),
                &weights,
            ),
        )?;
    }
    let text = report_text(metrics, config, &log, &images);
    let path = out_dir.join("report.md");
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

fn report_text(
    metrics: &Map<String, Value>,
    config: &Value,
    log: &[Map<String, Value>],
    images: &[String],
) -> String {
    let get = |key: &str| metrics.get(key).cloned().unwrap_or(Value::Null);
    let show = |value: Value| match value {
        Value::String(s) => s,
        Value::Null => "–".into(),
        other => other.to_string(),
    };
    let mut out = format!("# {}\n\n| | |\n|---|---|\n", show(get("experiment")));
    let speed = log
        .iter()
        .filter_map(|r| r.get("examples_per_second")?.as_f64())
        .collect::<Vec<_>>();
    let mean_speed = (!speed.is_empty()).then(|| speed.iter().sum::<f64>() / speed.len() as f64);
    let rows = [
        ("backend", show(get("backend"))),
        ("seed", show(get("seed"))),
        ("commit", show(get("commit"))),
        ("config hash", show(get("config_hash"))),
        (
            "wall time",
            get("wall_seconds")
                .as_f64()
                .map_or("–".into(), |s| format!("{s:.1} s")),
        ),
        (
            "training speed",
            mean_speed.map_or("–".into(), |s| {
                format!("{s:.0} examples/s (mean over epochs)")
            }),
        ),
        (
            "peak memory",
            get("peak_rss_bytes")
                .as_f64()
                .map_or("–".into(), |b| format!("{:.0} MB", b / 1e6)),
        ),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "| {name} | {value} |");
    }
    out.push_str("\n## Final metrics\n\n| metric | value |\n|---|---|\n");
    for (key, value) in metrics {
        if value.is_number() {
            let _ = writeln!(out, "| {key} | {} |", format_number(value));
        }
    }
    if !images.is_empty() {
        out.push_str("\n## Training curves\n\n");
        for image in images {
            let _ = writeln!(out, "![{}]({image})\n", image.trim_end_matches(".svg"));
        }
    }
    let _ = write!(
        out,
        "\n## Configuration\n\n```json\n{}\n```\n",
        serde_json::to_string_pretty(config).unwrap_or_default()
    );
    out
}

fn format_number(value: &Value) -> String {
    match (value.as_u64(), value.as_i64(), value.as_f64()) {
        (Some(n), _, _) => n.to_string(),
        (_, Some(n), _) => n.to_string(),
        (_, _, Some(x)) => format!("{x:.4}"),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_hash_depends_on_the_settings_only() {
        let a = json!({"lr": 0.1, "epochs": 3});
        let b = json!({"epochs": 3, "lr": 0.1});
        assert_eq!(config_hash(&a), config_hash(&b));
        assert_ne!(
            config_hash(&a),
            config_hash(&json!({"lr": 0.2, "epochs": 3}))
        );
        assert_eq!(config_hash(&a).len(), 16);
    }

    #[test]
    fn report_draws_the_logged_curves_and_lists_the_metrics() {
        let dir = std::env::temp_dir().join(format!("kindling-report-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let log = [
            json!({"epoch": 1, "train_loss": 0.7, "dev_loss": 0.6, "train_accuracy": 0.6, "dev_accuracy": 0.7, "examples_per_second": 100.0}),
            json!({"epoch": 2, "train_loss": 0.4, "dev_loss": 0.5, "train_accuracy": 0.8, "dev_accuracy": 0.75, "examples_per_second": 120.0}),
        ];
        let text: Vec<String> = log.iter().map(Value::to_string).collect();
        std::fs::write(dir.join("log.jsonl"), text.join("\n")).unwrap();
        let metrics = json!({"experiment": "demo", "backend": "flex", "seed": 1, "test_accuracy": 0.75, "commit": "abc",
            "test_confusion": {"labels": ["a", "b"], "counts": [[3, 1], [0, 4]]}});
        let path = write_report(&dir, metrics.as_object().unwrap(), &json!({"lr": 1})).unwrap();
        let report = std::fs::read_to_string(path).unwrap();
        assert!(report.starts_with("# demo"));
        assert!(report.contains("| test_accuracy | 0.7500 |"));
        assert!(report.contains("| training speed | 110 examples/s"));
        assert!(
            report.contains("![loss](loss.svg)")
                && report.contains("![accuracy](accuracy.svg)")
                && report.contains("![test_confusion](test_confusion.svg)")
        );
        let heatmap = std::fs::read_to_string(dir.join("test_confusion.svg")).unwrap();
        assert!(heatmap.contains(">4</text>"));
        let chart = std::fs::read_to_string(dir.join("accuracy.svg")).unwrap();
        assert_eq!(chart.matches("<polyline").count(), 2);

        std::fs::write(dir.join("log.jsonl"), "{\"epoch\": 1}\nnot json\n").unwrap();
        let error = read_log(&dir.join("log.jsonl")).unwrap_err().to_string();
        assert!(error.contains("log.jsonl:2"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
