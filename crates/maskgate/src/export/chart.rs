//! The SVG charts of `report.html` and `trend.html`: one frame with axes, ticks, grid and
//! legend, drawing numeric series (step lines, lines with points, dots) and whisker rows.
//! Charts hold numbers; [`svg`] is the only place that formats them as coordinates.

use crate::fmt::{delta, html as esc, short};

/// Distinct series colours (colour-blind-safe Okabe–Ito order).
const COLOURS: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];

/// The colour of the `index`-th series.
pub fn colour(index: usize) -> &'static str {
    COLOURS[index % COLOURS.len()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An empirical CDF: a step from (0, 0) through every point to x = 1.
    Steps,
    /// A line through the points with a dot at each.
    Line,
    /// Dots only.
    Dots,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    pub shape: Shape,
    /// (x, y), both on the unit scale the axes show.
    pub points: Vec<(f64, f64)>,
}

/// Where the x ticks sit: quarter steps of 0..1 with grid lines, or one label per position
/// (runs of a trend), spread evenly.
#[derive(Debug, Clone, PartialEq)]
pub enum XTicks {
    Unit,
    Labels(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    None,
    /// In the plot's top-left corner.
    Inside,
    /// Beside the plot, on the right.
    Right,
}

/// A plot over the unit square: y always 0..1.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    pub label: String,
    pub width: f64,
    pub height: f64,
    pub x_title: String,
    pub y_title: String,
    pub x_ticks: XTicks,
    pub legend: Legend,
    /// A dashed y = x line (paired scatter: above it the second arm is better).
    pub diagonal: bool,
    pub series: Vec<Series>,
}

/// One whisker row: label, n, Δ, 95% interval.
#[derive(Debug, Clone, PartialEq)]
pub struct WhiskerRow {
    pub label: String,
    pub n: usize,
    pub delta: Option<f64>,
    pub ci95: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    Plot(Plot),
    /// Δ and its 95% interval per row, a dot with whiskers around a zero line.
    Whiskers {
        rows: Vec<WhiskerRow>,
        colour: &'static str,
    },
}

/// The chart as an inline `<svg>` element; every piece of text is escaped for HTML.
pub fn svg(chart: &Chart) -> String {
    match chart {
        Chart::Plot(p) => plot_svg(p),
        Chart::Whiskers { rows, colour } => whiskers_svg(rows, colour),
    }
}

fn open(width: f64, height: f64, label: &str) -> String {
    format!(
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">",
        esc(label)
    )
}

/// Characters of a legend entry: what fits the legend's column at the page's 11 px font.
const LEGEND_CHARS: usize = 26;

fn plot_svg(p: &Plot) -> String {
    // The left margin holds the tick labels and, rotated, the y title: its glyphs' ascenders
    // point left, so its baseline sits well inside the picture.
    let (l, t) = (58.0, 10.0);
    let legend_w = if p.legend == Legend::Right {
        180.0
    } else {
        12.0
    };
    let (pw, ph) = (p.width - l - legend_w, p.height - t - 40.0);
    let x = |v: f64| l + v.clamp(0.0, 1.0) * pw;
    let y = |v: f64| t + ph - v.clamp(0.0, 1.0) * ph;
    let mut svg = open(p.width, p.height, &p.label);
    svg += &format!(
        "<rect x=\"{l}\" y=\"{t}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>"
    );
    for k in 0..=4 {
        let f = k as f64 / 4.0;
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{f}</text>",
            l - 5.0,
            y(f) + 4.0
        );
    }
    match &p.x_ticks {
        XTicks::Unit => {
            for k in 0..=4 {
                let f = k as f64 / 4.0;
                svg += &format!(
                    "<line x1=\"{0:.1}\" y1=\"{t}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#eee\"/><text x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\">{f}</text>",
                    x(f),
                    t + ph,
                    t + ph + 14.0
                );
            }
        }
        XTicks::Labels(labels) => {
            let last = labels.len().max(2) - 1;
            for (i, label) in labels.iter().enumerate() {
                // The end labels align with the plot's edges, so neither leaves the picture.
                let anchor = match i {
                    0 => "start",
                    i if i == last => "end",
                    _ => "middle",
                };
                svg += &format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
                    x(i as f64 / last as f64),
                    t + ph + 16.0,
                    esc(&label.chars().take(12).collect::<String>())
                );
            }
        }
    }
    if !p.x_title.is_empty() {
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            l + pw / 2.0,
            t + ph + 30.0,
            esc(&p.x_title)
        );
    }
    if !p.y_title.is_empty() {
        let (yx, yy) = (16.0, t + ph / 2.0);
        svg += &format!(
            "<text x=\"{yx:.1}\" y=\"{yy:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 {yx:.1} {yy:.1})\">{}</text>",
            esc(&p.y_title)
        );
    }
    if p.diagonal {
        svg += &format!(
            "<line x1=\"{l}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{t}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>",
            t + ph,
            l + pw
        );
    }
    for (k, s) in p.series.iter().enumerate() {
        let colour = s.colour;
        match s.shape {
            Shape::Steps => {
                let mut d = format!("M{:.1} {:.1}", x(0.0), y(0.0));
                for (px, py) in &s.points {
                    d += &format!(" H{:.1} V{:.1}", x(*px), y(*py));
                }
                d += &format!(" H{:.1}", x(1.0));
                svg += &format!(
                    "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>"
                );
            }
            Shape::Line => {
                let pts: Vec<String> = s
                    .points
                    .iter()
                    .map(|(px, py)| format!("{:.1},{:.1}", x(*px), y(*py)))
                    .collect();
                svg += &format!(
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                    pts.join(" ")
                );
                for (px, py) in &s.points {
                    svg += &format!(
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                        x(*px),
                        y(*py)
                    );
                }
            }
            Shape::Dots => {
                for (px, py) in &s.points {
                    svg += &format!(
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\" fill-opacity=\"0.6\"/>",
                        x(*px),
                        y(*py)
                    );
                }
            }
        }
        let (lx, ly) = match p.legend {
            Legend::None => continue,
            Legend::Inside => (l + 8.0, t + 6.0 + 14.0 * k as f64),
            Legend::Right => (l + pw + 12.0, t + 14.0 * k as f64),
        };
        svg += &format!(
            "<rect x=\"{lx:.1}\" y=\"{ly:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            lx + 14.0,
            ly + 9.0,
            esc(&match s.name.chars().count() > LEGEND_CHARS {
                true => format!(
                    "{}…",
                    s.name.chars().take(LEGEND_CHARS - 1).collect::<String>()
                ),
                false => s.name.clone(),
            })
        );
    }
    svg + "</svg>"
}

fn whiskers_svg(rows: &[WhiskerRow], colour: &str) -> String {
    let (label_w, plot_w, row_h) = (170.0, 300.0, 22.0);
    let h = 30.0 + row_h * rows.len() as f64;
    let w = label_w + plot_w + 20.0;
    let extent = rows
        .iter()
        .flat_map(|r| {
            r.delta
                .iter()
                .copied()
                .chain(r.ci95.iter().flat_map(|c| c.iter().copied()))
        })
        .fold(0.01f64, |m, v| m.max(v.abs()))
        * 1.1;
    let x = |v: f64| label_w + (v / extent + 1.0) / 2.0 * plot_w;
    let mut svg = open(w, h, "deltas with 95% intervals");
    svg += &format!(
        "<line x1=\"{0:.1}\" y1=\"4\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#999\"/><text x=\"{2:.1}\" y=\"{3:.1}\">{4}</text><text x=\"{5:.1}\" y=\"{3:.1}\">{7}</text><text x=\"{6:.1}\" y=\"{3:.1}\">0</text>",
        x(0.0),
        h - 22.0,
        label_w - 10.0,
        h - 8.0,
        short(Some(-extent)),
        label_w + plot_w - 30.0,
        x(0.0) - 3.0,
        delta(Some(extent))
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 16.0 + row_h * i as f64;
        let short_label: String = r.label.chars().take(22).collect();
        svg += &format!(
            "<text x=\"4\" y=\"{:.1}\">{} (n={})</text>",
            y + 4.0,
            esc(&short_label),
            r.n
        );
        if let Some([lo, hi]) = r.ci95 {
            svg += &format!(
                "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/><line x1=\"{0:.1}\" y1=\"{2:.1}\" x2=\"{0:.1}\" y2=\"{3:.1}\" stroke=\"{colour}\"/><line x1=\"{1:.1}\" y1=\"{2:.1}\" x2=\"{1:.1}\" y2=\"{3:.1}\" stroke=\"{colour}\"/>",
                x(lo),
                x(hi),
                y - 5.0,
                y + 5.0
            );
        }
        if let Some(d) = r.delta {
            svg += &format!(
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\"/>",
                x(d)
            );
        }
    }
    svg + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_series_draws_one_dot_per_point_and_escapes_its_name() {
        let plot = Plot {
            label: "a<b".into(),
            width: 640.0,
            height: 260.0,
            x_title: String::new(),
            y_title: String::new(),
            x_ticks: XTicks::Labels(vec!["r\"1&".into(), "r2".into(), "r3".into()]),
            legend: Legend::Right,
            diagonal: false,
            series: vec![Series {
                name: "<x>".into(),
                colour: colour(0),
                shape: Shape::Line,
                points: vec![(0.0, 0.5), (0.5, 2.0), (1.0, 0.0)],
            }],
        };
        let s = svg(&Chart::Plot(plot));
        assert_eq!(s.matches("<circle").count(), 3);
        assert!(
            s.contains("&lt;x&gt;") && !s.contains("<x>") && s.contains("aria-label=\"a&lt;b\""),
            "{s}"
        );
        assert!(s.contains(">r&quot;1&amp;</text>"), "{s}");
        // A value beyond the axis is drawn at its edge.
        assert!(!s.contains("cy=\"-"));
    }
}
