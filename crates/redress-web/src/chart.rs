//! Charts drawn by our own code as inline SVG: no script, no library, nothing fetched.
//!
//! The SVG carries no `style` attribute (the Content-Security-Policy forbids inline styles):
//! shapes use presentation attributes (`fill`, `stroke`, `font-size`), which the stylesheet
//! may override through the classes `chart`, `bar` (`chart-bar`), `axis` (`chart-axis`),
//! `chart-grid`, `chart-label`, `chart-value`, `chart-line`, `chart-dot` and `chart-empty`.
//! Heat maps are tables shaded by the classes `heat-0` … `heat-9` ([`heat_level`]). Every text that goes into the markup is
//! escaped here, so the result can be placed in a page as it is.

use std::fmt::{self, Write as _};

/// One bar: its axis label, its value and the tooltip shown when pointing at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// Label under the bar (a day, `01-20`).
    pub label: String,
    /// Height.
    pub value: u64,
    /// Tooltip (`<title>`), e.g. `2025-01-20: 5`.
    pub tooltip: String,
}

/// A finished chart: SVG markup built by this module with every text escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The markup is built here with every text escaped.
impl askama::filters::HtmlSafe for Svg {}

/// Width of the drawing, in user units (it scales to its box).
pub const WIDTH: f64 = 800.0;
/// Height of the drawing.
pub const HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;
/// Most labels written under the bars; beyond that every n-th bar is labelled.
const MAX_X_LABELS: usize = 12;
/// The widest a bar is drawn (a chart of one or two days should not be one slab).
const MAX_BAR_WIDTH: f64 = 56.0;

/// The top of the value axis and the step of its ticks: a round step (1, 2, 5 × 10ⁿ) giving at
/// most five steps up to at least `max`.
pub fn scale(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut magnitude = 1u64;
    loop {
        for m in [1u64, 2, 5] {
            let step = m.saturating_mul(magnitude);
            if max.div_ceil(step) <= 5 {
                return (max.div_ceil(step) * step, step);
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// A bar chart of `bars` in order, with a value axis (round ticks) and labels under the bars;
/// `label` describes the chart to screen readers (`role="img"` + `aria-label`), `empty` is
/// shown when there are no bars.
pub fn bar_chart(label: &str, bars: &[Bar], empty: &str) -> Svg {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{}">"#,
        escape(label)
    );
    let _ = write!(out, "<title>{}</title>", escape(label));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let base = TOP + plot_h;
    if bars.is_empty() {
        let _ = write!(
            out,
            r#"<line class="axis chart-axis" x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="currentColor" stroke-width="1"/><text class="chart-empty" x="{}" y="{}" text-anchor="middle" font-size="14" fill="currentColor">{}</text></svg>"#,
            WIDTH - RIGHT,
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0,
            escape(empty)
        );
        return Svg(out);
    }
    let (top, step) = scale(bars.iter().map(|b| b.value).max().unwrap_or(0));
    // The value axis: grid lines and round ticks.
    let mut tick = 0;
    while tick <= top {
        let y = base - plot_h * tick as f64 / top as f64;
        let _ = write!(
            out,
            r#"<line class="chart-grid" x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="currentColor" stroke-opacity="0.15" stroke-width="1"/><text class="chart-label" x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="currentColor">{tick}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
        tick += step;
    }
    let _ = write!(out, r#"<line class="axis chart-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="currentColor" stroke-width="1"/>"#);
    let _ = write!(out, r#"<line class="axis chart-axis" x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="currentColor" stroke-width="1"/>"#, WIDTH - RIGHT);
    let band = plot_w / bars.len() as f64;
    let every = bars.len().div_ceil(MAX_X_LABELS);
    for (i, b) in bars.iter().enumerate() {
        let h = plot_h * b.value as f64 / top as f64;
        let w = (band * 0.8).min(MAX_BAR_WIDTH);
        let x = LEFT + band * i as f64 + (band - w) / 2.0;
        let _ = write!(
            out,
            r#"<rect class="bar chart-bar" x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="currentColor"><title>{}</title></rect>"#,
            base - h,
            w,
            escape(&b.tooltip)
        );
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="currentColor">{}</text>"#,
                LEFT + band * (i as f64 + 0.5),
                base + 16.0,
                escape(&b.label)
            );
        }
    }
    out.push_str("</svg>");
    Svg(out)
}

/// Height of one row of a horizontal bar chart.
const ROW: f64 = 24.0;
/// Width of the label column of a horizontal bar chart.
const LABEL_WIDTH: f64 = 250.0;
/// Room kept right of the longest horizontal bar for its value.
const VALUE_ROOM: f64 = 70.0;
/// Most characters of a label written beside a horizontal bar (the tooltip has it whole).
const MAX_LABEL_CHARS: usize = 20;

/// A label cut to `max` characters, with an ellipsis when cut.
fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max { label.to_string() } else { format!("{}…", label.chars().take(max.saturating_sub(1)).collect::<String>()) }
}

/// A horizontal bar chart of categories (one row per bar, largest first as given): the label
/// at the left, the bar, and the value at its end. Suits long names (business types, units).
pub fn hbar_chart(label: &str, bars: &[Bar], empty: &str) -> Svg {
    let height = if bars.is_empty() { 48.0 } else { TOP + ROW * bars.len() as f64 + 8.0 };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart chart-h" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{}">"#,
        escape(label)
    );
    let _ = write!(out, "<title>{}</title>", escape(label));
    if bars.is_empty() {
        let _ = write!(out, r#"<text class="chart-empty" x="{}" y="30" text-anchor="middle" font-size="14" fill="currentColor">{}</text></svg>"#, WIDTH / 2.0, escape(empty));
        return Svg(out);
    }
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let span = WIDTH - LABEL_WIDTH - VALUE_ROOM;
    let _ = write!(
        out,
        r#"<line class="axis chart-axis" x1="{LABEL_WIDTH}" y1="{TOP}" x2="{LABEL_WIDTH}" y2="{:.1}" stroke="currentColor" stroke-width="1"/>"#,
        TOP + ROW * bars.len() as f64
    );
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let w = span * b.value as f64 / max as f64;
        let _ = write!(
            out,
            r#"<text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="end" font-size="12" fill="currentColor">{}</text>"#,
            LABEL_WIDTH - 8.0,
            y + ROW * 0.65,
            escape(&shorten(&b.label, MAX_LABEL_CHARS))
        );
        let _ = write!(
            out,
            r#"<rect class="bar chart-bar" x="{LABEL_WIDTH}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="currentColor"><title>{}</title></rect>"#,
            y + ROW * 0.15,
            ROW * 0.7,
            escape(&b.tooltip)
        );
        let _ = write!(
            out,
            r#"<text class="chart-label chart-value" x="{:.1}" y="{:.1}" font-size="12" fill="currentColor">{}</text>"#,
            LABEL_WIDTH + w + 6.0,
            y + ROW * 0.65,
            b.value
        );
    }
    out.push_str("</svg>");
    Svg(out)
}

/// One point of a level chart: its label under the axis, a level from 0 to 1, and a tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// Label under the point (a day).
    pub label: String,
    /// From 0 to 1 (clamped).
    pub value: f64,
    /// Tooltip (`<title>`).
    pub tooltip: String,
}

/// Height of a level chart.
pub const LEVEL_HEIGHT: f64 = 160.0;

/// A small line chart of levels from 0 to 1 in order (an emotion's intensity over time), with
/// a dot per point and the axis marked 0, 50 and 100 %.
pub fn level_chart(label: &str, points: &[Level], empty: &str) -> Svg {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart chart-level" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {LEVEL_HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{}">"#,
        escape(label)
    );
    let _ = write!(out, "<title>{}</title>", escape(label));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = LEVEL_HEIGHT - TOP - BOTTOM;
    let base = TOP + plot_h;
    for (tick, text) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        let y = base - plot_h * tick;
        let _ = write!(
            out,
            r#"<line class="chart-grid" x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="currentColor" stroke-opacity="0.15" stroke-width="1"/><text class="chart-label" x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="currentColor">{text}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let _ = write!(out, r#"<line class="axis chart-axis" x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="currentColor" stroke-width="1"/>"#, WIDTH - RIGHT);
    if points.is_empty() {
        let _ = write!(
            out,
            r#"<text class="chart-empty" x="{}" y="{}" text-anchor="middle" font-size="14" fill="currentColor">{}</text></svg>"#,
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0,
            escape(empty)
        );
        return Svg(out);
    }
    let band = plot_w / points.len() as f64;
    let every = points.len().div_ceil(MAX_X_LABELS);
    let at = |i: usize, v: f64| {
        let v = if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
        (LEFT + band * (i as f64 + 0.5), base - plot_h * v)
    };
    if points.len() > 1 {
        let path: Vec<String> = points.iter().enumerate().map(|(i, p)| {
            let (x, y) = at(i, p.value);
            format!("{x:.1},{y:.1}")
        }).collect();
        let _ = write!(out, r#"<polyline class="chart-line" points="{}" fill="none" stroke="currentColor" stroke-width="2"/>"#, path.join(" "));
    }
    for (i, p) in points.iter().enumerate() {
        let (x, y) = at(i, p.value);
        let _ = write!(out, r#"<circle class="chart-dot" cx="{x:.1}" cy="{y:.1}" r="5" fill="currentColor"><title>{}</title></circle>"#, escape(&p.tooltip));
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text class="chart-label" x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="currentColor">{}</text>"#,
                base + 16.0,
                escape(&p.label)
            );
        }
    }
    out.push_str("</svg>");
    Svg(out)
}

/// Width of a sparkline, in user units.
pub const SPARK_WIDTH: f64 = 210.0;
/// Height of a sparkline.
pub const SPARK_HEIGHT: f64 = 40.0;

/// A sparkline: one thin bar per value in order, no axis labels, the last `window` bars marked
/// (class `spark-window`, the days under test) and the others plain (`spark-bar`). Each bar
/// has its tooltip; `label` describes the whole to screen readers. Suits a few dozen values
/// (the 35 days of a hotspot).
pub fn sparkline(label: &str, bars: &[Bar], window: usize) -> Svg {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart chart-spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" preserveAspectRatio="none" role="img" aria-label="{}">"#,
        escape(label)
    );
    let _ = write!(out, "<title>{}</title>", escape(label));
    let base = SPARK_HEIGHT - 1.0;
    let _ = write!(out, r#"<line class="axis chart-axis" x1="0" y1="{base}" x2="{SPARK_WIDTH}" y2="{base}" stroke="currentColor" stroke-width="1"/>"#);
    if !bars.is_empty() {
        let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
        let band = SPARK_WIDTH / bars.len() as f64;
        let w = (band * 0.75).max(1.0);
        let first_marked = bars.len().saturating_sub(window);
        for (i, b) in bars.iter().enumerate() {
            // A day with complaints keeps at least a sliver, so it shows beside an empty one.
            let h = if b.value == 0 { 0.0 } else { ((base - 2.0) * b.value as f64 / max as f64).max(1.5) };
            let class = if i >= first_marked { "spark-window" } else { "spark-bar" };
            let _ = write!(
                out,
                r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" fill="currentColor"><title>{}</title></rect>"#,
                band * i as f64 + (band - w) / 2.0,
                base - h,
                escape(&b.tooltip)
            );
        }
    }
    out.push_str("</svg>");
    Svg(out)
}

/// The shade (0–9) of a heat-map cell: 0 only for nothing, 9 for the largest value.
pub fn heat_level(value: i64, max: i64) -> u8 {
    if value <= 0 || max <= 0 {
        return 0;
    }
    let level = (value.min(max) as f64 / max as f64 * 9.0).ceil();
    // Between 1 and 9 by construction.
    level.clamp(1.0, 9.0) as u8
}

/// Escapes a text for SVG content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: u64) -> Bar {
        Bar { label: label.to_string(), value, tooltip: format!("{label}: {value}") }
    }

    /// The `height` attributes of the bars, in order.
    fn heights(svg: &Svg) -> Vec<f64> {
        svg.as_str()
            .split("<rect ")
            .skip(1)
            .map(|r| {
                let at = r.find("height=\"").expect("a height") + 8;
                r[at..r[at..].find('"').expect("closed") + at].parse().expect("a number")
            })
            .collect()
    }

    #[test]
    fn the_value_axis_ends_at_a_round_number_above_the_largest_value() {
        assert_eq!(scale(0), (1, 1));
        assert_eq!(scale(1), (1, 1));
        assert_eq!(scale(5), (5, 1));
        assert_eq!(scale(6), (6, 2));
        assert_eq!(scale(9), (10, 2));
        assert_eq!(scale(23), (25, 5));
        assert_eq!(scale(40), (40, 10));
        assert_eq!(scale(20_001), (25_000, 5_000));
    }

    #[test]
    fn bars_are_scaled_to_the_values() {
        let svg = bar_chart("per day", &[bar("01-20", 10), bar("01-21", 5), bar("01-22", 0)], "none");
        let h = heights(&svg);
        let full = HEIGHT - TOP - BOTTOM;
        assert_eq!(h.len(), 3);
        assert!((h[0] - full).abs() < 0.11, "{h:?}");
        assert!((h[1] - full / 2.0).abs() < 0.11, "{h:?}");
        assert_eq!(h[2], 0.0);
        // Every bar has its tooltip, and the ticks run 0, 2, … 10.
        assert_eq!(svg.as_str().matches("<title>").count(), 4);
        assert!(svg.as_str().contains("<title>01-21: 5</title>"));
        for t in ["0", "2", "4", "6", "8", "10"] {
            assert!(svg.as_str().contains(&format!(">{t}</text>")), "tick {t}");
        }
        assert!(svg.as_str().contains(r#"role="img" aria-label="per day""#));
        assert!(!svg.as_str().contains("style"), "no inline style: the CSP forbids it");
        assert!(!svg.as_str().contains("NaN") && !svg.as_str().contains("inf"));
    }

    #[test]
    fn an_empty_series_is_an_axis_and_the_message() {
        let svg = bar_chart("per day", &[], "no complaints");
        assert!(heights(&svg).is_empty());
        assert!(svg.as_str().contains(">no complaints</text>"));
        assert!(svg.as_str().starts_with("<svg ") && svg.as_str().ends_with("</svg>"));
        assert!(!svg.as_str().contains("NaN"));
        // All zero: bars of no height, a scale of 1.
        let zeros = bar_chart("per day", &[bar("a", 0), bar("b", 0)], "none");
        assert_eq!(heights(&zeros), vec![0.0, 0.0]);
        assert!(!zeros.as_str().contains("NaN"));
    }

    #[test]
    fn labels_and_tooltips_are_escaped() {
        let evil = bar("<script>alert(\"x\")</script>&'", 3);
        let svg = bar_chart("a \"quoted\" <label>", &[evil], "<none>");
        let s = svg.as_str();
        assert!(!s.contains("<script>"), "{s}");
        assert!(s.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
        assert!(s.contains(r#"aria-label="a &quot;quoted&quot; &lt;label&gt;""#));
        let empty = bar_chart("x", &[], "<b>none</b>");
        assert!(empty.as_str().contains("&lt;b&gt;none&lt;/b&gt;"));
    }

    #[test]
    fn a_short_series_has_slim_bars() {
        let svg = bar_chart("x", &[bar("a", 1)], "");
        let rect = &svg.as_str()[svg.as_str().find("<rect ").expect("a bar")..];
        let at = rect.find(r#" width=""#).expect("a bar width") + 8;
        let width: f64 = rect[at..at + rect[at..].find('"').expect("closed")].parse().expect("a number");
        assert!(width <= MAX_BAR_WIDTH, "{width}");
    }

    #[test]
    fn horizontal_bars_scale_to_the_largest_and_escape_their_labels() {
        let svg = hbar_chart("by type", &[bar("<信用卡>", 8), bar("a very long label that goes on and on", 2)], "none");
        let s = svg.as_str();
        assert_eq!(s.matches("<rect ").count(), 2);
        assert!(s.contains("&lt;信用卡&gt;") && !s.contains("<信用卡>"));
        assert!(s.contains("…"), "a long label is cut");
        assert!(s.contains("<title>a very long label that goes on and on: 2</title>"), "the tooltip keeps it whole");
        assert!(!s.contains("style") && !s.contains("NaN"));
        let widths: Vec<f64> = s
            .split("<rect ")
            .skip(1)
            .map(|r| {
                let at = r.find(" width=\"").expect("a width") + 8;
                r[at..at + r[at..].find('"').expect("closed")].parse().expect("a number")
            })
            .collect();
        assert!((widths[0] - 4.0 * widths[1]).abs() < 0.5, "{widths:?}");
        assert!(hbar_chart("x", &[], "<none>").as_str().contains("&lt;none&gt;"));
    }

    #[test]
    fn a_level_chart_has_a_dot_per_point_within_the_plot() {
        let points: Vec<Level> = [0.0, 0.5, 1.0, 7.0, f64::NAN]
            .iter()
            .enumerate()
            .map(|(i, v)| Level { label: format!("d{i}"), value: *v, tooltip: format!("<{i}>") })
            .collect();
        let svg = level_chart("intensity", &points, "none");
        let s = svg.as_str();
        assert_eq!(s.matches("<circle ").count(), 5);
        assert!(s.contains("<polyline "));
        assert!(!s.contains("NaN") && !s.contains("inf") && !s.contains("style"));
        assert!(s.contains("&lt;3&gt;"));
        assert!(level_chart("x", &[], "empty").as_str().contains(">empty</text>"));
    }

    #[test]
    fn a_sparkline_marks_the_window_and_escapes_its_texts() {
        let bars: Vec<Bar> = (0..35).map(|i| bar(&format!("d{i}"), if i >= 28 { 6 } else { i % 2 })).collect();
        let svg = sparkline("<daily> \"counts\"", &bars, 7);
        let s = svg.as_str();
        assert_eq!(s.matches("<rect ").count(), 35);
        assert_eq!(s.matches(r#"class="spark-window""#).count(), 7, "the last week is marked");
        assert!(s.contains(r#"aria-label="&lt;daily&gt; &quot;counts&quot;""#));
        assert!(!s.contains("style") && !s.contains("NaN") && !s.contains("inf"));
        let h = heights(&svg);
        assert!((h[34] - (SPARK_HEIGHT - 3.0)).abs() < 0.11, "the largest bar fills the height: {h:?}");
        assert_eq!(h[0], 0.0, "nothing is no bar");
        assert!(sparkline("x", &[], 7).as_str().ends_with("</svg>"));
    }

    #[test]
    fn heat_levels_run_from_zero_to_nine() {
        assert_eq!(heat_level(0, 10), 0);
        assert_eq!(heat_level(1, 0), 0);
        assert_eq!(heat_level(1, 100), 1);
        assert_eq!(heat_level(50, 100), 5);
        assert_eq!(heat_level(100, 100), 9);
        assert_eq!(heat_level(200, 100), 9);
    }

    #[test]
    fn long_series_label_every_nth_bar() {
        let bars: Vec<Bar> = (0..30).map(|i| bar(&format!("d{i}"), i)).collect();
        let svg = bar_chart("x", &bars, "");
        assert_eq!(heights(&svg).len(), 30);
        let labels = svg.as_str().matches(r#"text-anchor="middle""#).count();
        assert!(labels <= MAX_X_LABELS, "{labels}");
        assert!(svg.as_str().contains(">d0</text>") && !svg.as_str().contains(">d1</text>"));
    }
}
