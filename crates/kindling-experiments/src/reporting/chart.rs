//! Line charts as standalone SVG: what a run report draws its training curves with.
//!
//! Small on purpose: one or more series of `(x, y)` points on shared axes with rounded tick
//! values, a legend, and a title; no dependencies.

use std::fmt::Write as _;

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend's label.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// A chart of `series` titled `title` with axis labels `x_label` and `y_label`; points that
/// are not finite are left out. An empty chart (no finite points) still draws its frame.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let finite = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    // Whole-number x values (epochs) get whole-number ticks.
    let whole = finite().all(|(x, _)| x.fract() == 0.0);
    let (x_ticks, (x_lo, x_hi)) = ticks(finite().map(|p| p.0), if whole { 1.0 } else { 0.0 });
    let (y_ticks, (y_lo, y_hi)) = ticks(finite().map(|p| p.1), 0.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w;
    let py = |y: f64| TOP + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h;

    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        WIDTH / 2.0,
        escape(title)
    );
    for &t in &x_ticks {
        let x = px(t);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP + plot_h,
            TOP + plot_h + 16.0,
            label(t)
        );
    }
    for &t in &y_ticks {
        let y = py(t);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            label(t)
        );
    }
    let _ = writeln!(
        svg,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#333\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n<text x=\"16\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">{}</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 12.0,
        escape(x_label),
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    for (index, s) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        let points: Vec<String> = s
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        if !points.is_empty() {
            let _ = writeln!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                points.join(" ")
            );
            for point in &points {
                let (x, y) = point.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{colour}\"/>"
                );
            }
        }
        let legend_y = TOP + 16.0 + 18.0 * index as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{legend_y:.1}\" x2=\"{:.1}\" y2=\"{legend_y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LEFT + plot_w - 150.0,
            LEFT + plot_w - 130.0,
            LEFT + plot_w - 124.0,
            legend_y + 4.0,
            escape(&s.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A confusion matrix as a grid of `counts[gold][predicted]`: each cell shaded by its share of
/// its row (how often that gold class got that prediction) and labelled with its count.
pub fn confusion_heatmap(title: &str, labels: &[String], counts: &[Vec<u64>]) -> String {
    let n = labels.len().max(1);
    let cell = (360.0 / n as f64).clamp(14.0, 48.0);
    let label_width =
        8.0 * labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64 + 12.0;
    let (left, top) = (label_width + 24.0, 60.0);
    let width = left + cell * n as f64 + 20.0;
    let height = top + cell * n as f64 + label_width + 30.0;
    let font = (cell * 0.35).clamp(8.0, 12.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{:.1}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n<text x=\"{:.1}\" y=\"44\" text-anchor=\"middle\">predicted</text>\n<text x=\"14\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">gold</text>\n",
        width / 2.0,
        escape(title),
        left + cell * n as f64 / 2.0,
        top + cell * n as f64 / 2.0,
        top + cell * n as f64 / 2.0,
    );
    for (gold, row) in counts.iter().enumerate() {
        let total: u64 = row.iter().sum();
        let y = top + gold as f64 * cell;
        for (predicted, &count) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            // White to dark blue with the share; dark cells get white text.
            let shade = |full: f64| (255.0 - share * (255.0 - full)).round() as u8;
            let x = left + predicted as f64 * cell;
            let text = if share > 0.5 { "white" } else { "black" };
            let _ = writeln!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"rgb({},{},{})\" stroke=\"#ccc\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{font:.0}\" fill=\"{text}\">{count}</text>",
                shade(31.0),
                shade(119.0),
                shade(180.0),
                x + cell / 2.0,
                y + cell / 2.0 + font / 3.0,
            );
        }
    }
    for (i, label) in labels.iter().enumerate() {
        let middle = i as f64 * cell + cell / 2.0;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            top + middle + 4.0,
            escape(label)
        );
        let (x, y) = (left + middle + 4.0, top + cell * n as f64 + 8.0);
        let _ = writeln!(
            svg,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"start\" transform=\"rotate(90 {x:.1} {y:.1})\">{}</text>",
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Attention weights as a grid: one row per output token, one column per source token, each
/// cell shaded by its weight (0 white, 1 dark blue).
pub fn attention_heatmap(
    title: &str,
    source: &[String],
    output: &[String],
    weights: &[Vec<f64>],
) -> String {
    let (columns, rows) = (source.len().max(1), output.len().max(1));
    let cell = (480.0 / columns.max(rows) as f64).clamp(12.0, 32.0);
    let longest = |labels: &[String]| labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    let (row_label, column_label) = (
        7.5 * longest(output) as f64 + 12.0,
        7.5 * longest(source) as f64 + 12.0,
    );
    let (left, top) = (row_label + 10.0, 40.0);
    let width = left + cell * columns as f64 + 20.0;
    let height = top + cell * rows as f64 + column_label + 20.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{:.1}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        width / 2.0,
        escape(title),
    );
    for (r, row) in weights.iter().enumerate().take(rows) {
        for (c, &weight) in row.iter().enumerate().take(columns) {
            let w = weight.clamp(0.0, 1.0);
            let shade = |full: f64| (255.0 - w * (255.0 - full)).round() as u8;
            let _ = writeln!(
                svg,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"rgb({},{},{})\" stroke=\"#eee\"><title>{:.3}</title></rect>",
                left + c as f64 * cell,
                top + r as f64 * cell,
                shade(31.0),
                shade(119.0),
                shade(180.0),
                weight,
            );
        }
    }
    for (r, label) in output.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            top + r as f64 * cell + cell / 2.0 + 4.0,
            escape(label)
        );
    }
    for (c, label) in source.iter().enumerate() {
        let (x, y) = (
            left + c as f64 * cell + cell / 2.0 - 4.0,
            top + cell * rows as f64 + 8.0,
        );
        let _ = writeln!(
            svg,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"start\" transform=\"rotate(90 {x:.1} {y:.1})\">{}</text>",
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Tick values covering `values` at a round step (1, 2 or 5 × 10ⁿ, at least `min_step`),
/// about five of them, and the axis range they span. No values: the range 0–1.
fn ticks(values: impl Iterator<Item = f64>, min_step: f64) -> (Vec<f64>, (f64, f64)) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(min_step);
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let count = ((last - first) / step).round() as usize;
    let ticks = (0..=count).map(|i| first + i as f64 * step).collect();
    (ticks, (first, last))
}

/// A tick label without float noise (`0.30000000000000004` → `0.3`).
fn label(value: f64) -> String {
    let rounded = format!("{value:.6}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    if trimmed == "-0" {
        "0".into()
    } else {
        trimmed.into()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_values() {
        let (values, (lo, hi)) = ticks([0.43, 0.81].into_iter(), 0.0);
        assert!(
            (lo - 0.4).abs() < 1e-12 && (hi - 0.9).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert_eq!(values.len(), 6);
        assert_eq!(label(values[1]), "0.5");
        let (values, range) = ticks([1.0, 10.0].into_iter(), 0.0);
        assert_eq!((values.len(), range), (6, (0.0, 10.0)));
        assert_eq!(ticks([1.0, 3.0].into_iter(), 1.0).0, [1.0, 2.0, 3.0]);
        assert_eq!(ticks(std::iter::empty(), 0.0).1, (0.0, 1.0));
        let (lo, hi) = ticks([3.0].into_iter(), 0.0).1;
        assert!(lo < 3.0 && hi > 3.0);
    }

    #[test]
    fn heatmap_has_a_cell_per_pair_with_its_count() {
        let labels = vec!["neg".to_string(), "pos".to_string()];
        let svg = confusion_heatmap("test <set>", &labels, &[vec![8, 2], vec![0, 10]]);
        assert_eq!(svg.matches("<rect x=").count(), 4);
        assert!(svg.contains(">8</text>") && svg.contains(">10</text>"));
        // The all-correct row's diagonal is the darkest cell; an empty share is white.
        assert!(svg.contains("fill=\"rgb(31,119,180)\""));
        assert!(svg.contains("fill=\"rgb(255,255,255)\""));
        assert!(svg.contains("test &lt;set&gt;"));
    }

    #[test]
    fn chart_draws_each_series_and_escapes_text() {
        let svg = line_chart(
            "loss <train & dev>",
            "epoch",
            "loss",
            &[
                Series {
                    name: "train".into(),
                    points: vec![(1.0, 0.6), (2.0, 0.3), (3.0, f64::NAN)],
                },
                Series {
                    name: "dev".into(),
                    points: vec![(1.0, 0.5), (2.0, 0.45)],
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(
            svg.matches("<circle").count(),
            4,
            "the NaN point is left out"
        );
        assert!(svg.contains("loss &lt;train &amp; dev&gt;"));
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn attention_heatmap_has_a_cell_per_weight_and_both_axes_labelled() {
        let source = ["ein", "hund", "</s>"].map(String::from);
        let output = ["a", "dog", "</s>"].map(String::from);
        let weights = vec![
            vec![0.9, 0.1, 0.0],
            vec![0.1, 0.8, 0.1],
            vec![0.0, 0.2, 0.8],
        ];
        let svg = attention_heatmap("t <&>", &source, &output, &weights);
        assert_eq!(svg.matches("<title>").count(), 9);
        assert!(svg.contains(">hund</text>") && svg.contains(">dog</text>"));
        assert!(svg.contains("t &lt;&amp;&gt;"));
        // Weight 0.9 is darker than weight 0.1.
        assert!(
            svg.contains("fill=\"rgb(53,133,188)\" stroke=\"#eee\"><title>0.900"),
            "{svg}"
        );
        assert!(svg.contains("fill=\"rgb(233,241,248)\" stroke=\"#eee\"><title>0.100"));
    }
}
