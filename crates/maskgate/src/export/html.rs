//! `report.html`: one self-contained page a reviewer reads in a browser. The verdict comes
//! first, then per corpus the IoU distributions (ECDF and the paired per-sample scatter), the
//! per-class and per-failure-class deltas with their 95% intervals as whiskers, pass rates, the
//! ranked regressions and improvements with thumbnails, the gallery with its legend, and the
//! provenance. Charts are inline SVG written here; there is no script, nothing is fetched, and
//! a Content-Security-Policy allows only the page's own stylesheet (by hash) and images beside
//! it. Every piece of user text (ids, names, notes, paths, run ids) goes through [`esc`].

use super::Exporter;
use crate::compare::{Comparison, RankedSample};
use crate::decide::Status;
use crate::fmt::{delta, short};
use crate::report::Report;
use sha2::{Digest, Sha256};
use std::io::Write;

pub struct ReportHtml;

const STYLE: &str = "
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}h3{margin-top:1.5rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}th,td{border:1px solid #d4d4d4;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.verdict{padding:1rem 1.2rem;border-radius:.4rem;margin:1rem 0;font-size:1.05rem}
.go{background:#e3f5e5;border:2px solid #2e8b3d}.no-go{background:#fde4e4;border:2px solid #c0392b}.inconclusive{background:#fff4d6;border:2px solid #c98b00}
.badge{display:inline-block;padding:0 .45rem;border-radius:.3rem;font-weight:600;font-size:.85rem}
.pass{background:#2e8b3d;color:#fff}.fail{background:#c0392b;color:#fff}.open{background:#c98b00;color:#fff}
tr.deciding td{background:#fde4e4}tr.closest td{background:#fff4d6}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.charts figure{margin:0}
figcaption{font-size:.85rem;color:#444;max-width:40rem}
svg text{font:11px system-ui,sans-serif;fill:#222}
.gallery figure{margin:0 0 1.5rem}.gallery img{max-width:100%;border:1px solid #ccc}
img.thumb{height:64px;border:1px solid #ccc}
.legend span{display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;margin:0 .3rem 0 .8rem;border:1px solid #999}
.tp{background:rgb(40,200,60)}.fp{background:rgb(230,40,40)}.fn{background:rgb(40,90,240)}.gt{background:#fff}
code{font-size:.85rem;word-break:break-all}.last{font-weight:600;margin-top:2rem}
";

/// Distinct arm colours for the charts (colour-blind-safe Okabe–Ito order).
pub const ARM_COLOURS: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A relative link to a file the run wrote: only its own gallery paths, never a URL.
fn local_src(path: &str) -> Option<String> {
    let safe = !path.contains("://") && !path.starts_with('/') && !path.contains("..");
    safe.then(|| esc(path))
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The page's policy: no script, no network, the stylesheet by its hash, images from beside
/// the page.
pub fn content_security_policy() -> String {
    content_security_policy_for(STYLE)
}

/// The same policy for a page whose one stylesheet is `style`.
pub fn content_security_policy_for(style: &str) -> String {
    format!(
        "default-src 'none'; img-src 'self'; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'",
        base64(&Sha256::digest(style.as_bytes()))
    )
}

fn status_badge(s: Status) -> &'static str {
    match s {
        Status::Pass => "<span class=\"badge pass\">pass</span>",
        Status::Fail => "<span class=\"badge fail\">fail</span>",
        Status::Inconclusive => "<span class=\"badge open\">inconclusive</span>",
    }
}

fn ci(v: Option<[f64; 2]>) -> String {
    v.map_or(String::new(), |[lo, hi]| {
        format!("[{}, {}]", short(Some(lo)), short(Some(hi)))
    })
}

fn arm_colour(r: &Report, arm: &str) -> &'static str {
    let i = r.arms.iter().position(|a| a == arm).unwrap_or(0);
    ARM_COLOURS[i % ARM_COLOURS.len()]
}

/// Per-sample mIoU of `arm` on `corpus`, by sample id.
fn mious<'a>(r: &'a Report, arm: &str, corpus: &str) -> Vec<(&'a str, f64)> {
    r.samples
        .iter()
        .filter(|s| *s.arm == *arm && *s.corpus == *corpus)
        .filter_map(|s| Some((s.id.as_str(), s.miou()?)))
        .collect()
}

/// Empirical CDF of per-sample mIoU, one step line per arm.
fn ecdf_svg(r: &Report, corpus: &str) -> String {
    let (w, h, l, b) = (420.0, 260.0, 40.0, 30.0);
    let (pw, ph) = (w - l - 12.0, h - b - 22.0);
    let mut svg = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"ECDF of per-sample mIoU\">"
    );
    axes(&mut svg, l, 10.0, pw, ph, "mIoU", "share of samples ≤ x");
    for (k, arm) in r.arms.iter().enumerate() {
        let mut v: Vec<f64> = mious(r, arm, corpus).into_iter().map(|x| x.1).collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len() as f64;
        let x = |t: f64| l + t.clamp(0.0, 1.0) * pw;
        let y = |q: f64| 10.0 + ph - q * ph;
        let mut d = format!("M{:.1} {:.1}", x(0.0), y(0.0));
        for (i, t) in v.iter().enumerate() {
            d += &format!(" H{:.1} V{:.1}", x(*t), y((i + 1) as f64 / n));
        }
        d += &format!(" H{:.1}", x(1.0));
        svg += &format!(
            "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            arm_colour(r, arm)
        );
        svg += &format!(
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            l + 8.0,
            16.0 + 14.0 * k as f64,
            arm_colour(r, arm),
            l + 22.0,
            25.0 + 14.0 * k as f64,
            esc(arm)
        );
    }
    svg + "</svg>"
}

fn axes(svg: &mut String, l: f64, t: f64, pw: f64, ph: f64, xlabel: &str, ylabel: &str) {
    *svg += &format!(
        "<rect x=\"{l}\" y=\"{t}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>"
    );
    for k in 0..=4 {
        let f = k as f64 / 4.0;
        let (x, y) = (l + f * pw, t + ph - f * ph);
        *svg += &format!(
            "<line x1=\"{x:.1}\" y1=\"{t}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{:.1}\">{f}</text><text x=\"{:.1}\" y=\"{:.1}\">{f}</text>",
            t + ph,
            x - 8.0,
            t + ph + 14.0,
            l - 30.0,
            y + 4.0
        );
    }
    *svg += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" transform=\"rotate(-90 {:.1} {:.1})\">{}</text>",
        l + pw / 2.0 - 20.0,
        t + ph + 28.0,
        esc(xlabel),
        l - 34.0,
        t + ph / 2.0 + 40.0,
        l - 34.0,
        t + ph / 2.0 + 40.0,
        esc(ylabel)
    );
}

/// Baseline mIoU (x) against the arm's (y), one dot per sample both scored: above the diagonal
/// the arm is better.
fn paired_svg(r: &Report, c: &Comparison) -> String {
    let (w, h, l, b) = (300.0, 290.0, 40.0, 30.0);
    let (pw, ph) = (w - l - 12.0, h - b - 22.0);
    let mut svg = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"paired per-sample mIoU\">"
    );
    axes(&mut svg, l, 10.0, pw, ph, &c.baseline, &c.arm);
    svg += &format!(
        "<line x1=\"{l}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"10\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>",
        10.0 + ph,
        l + pw
    );
    let base: std::collections::BTreeMap<&str, f64> =
        mious(r, &c.baseline, &c.corpus).into_iter().collect();
    for (id, y) in mious(r, &c.arm, &c.corpus) {
        if let Some(x) = base.get(id) {
            svg += &format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\" fill-opacity=\"0.6\"/>",
                l + x.clamp(0.0, 1.0) * pw,
                10.0 + ph - y.clamp(0.0, 1.0) * ph,
                arm_colour(r, &c.arm)
            );
        }
    }
    svg + "</svg>"
}

/// Δ and its 95% interval per row, drawn as a dot with whiskers around a zero line.
/// One whisker row: label, n, Δ, 95% interval.
type WhiskerRow = (String, usize, Option<f64>, Option<[f64; 2]>);

fn whiskers_svg(rows: &[WhiskerRow], colour: &str) -> String {
    let (label_w, plot_w, row_h) = (170.0, 300.0, 22.0);
    let h = 30.0 + row_h * rows.len() as f64;
    let w = label_w + plot_w + 20.0;
    let extent = rows
        .iter()
        .flat_map(|(_, _, d, c)| {
            d.iter()
                .copied()
                .chain(c.iter().flat_map(|c| c.iter().copied()))
        })
        .fold(0.01f64, |m, v| m.max(v.abs()))
        * 1.1;
    let x = |v: f64| label_w + (v / extent + 1.0) / 2.0 * plot_w;
    let mut svg = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"deltas with 95% intervals\">"
    );
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
    for (i, (label, n, d, c)) in rows.iter().enumerate() {
        let y = 16.0 + row_h * i as f64;
        let short_label: String = label.chars().take(22).collect();
        svg += &format!(
            "<text x=\"4\" y=\"{:.1}\">{} (n={n})</text>",
            y + 4.0,
            esc(&short_label)
        );
        if let Some([lo, hi]) = c {
            svg += &format!(
                "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/><line x1=\"{0:.1}\" y1=\"{2:.1}\" x2=\"{0:.1}\" y2=\"{3:.1}\" stroke=\"{colour}\"/><line x1=\"{1:.1}\" y1=\"{2:.1}\" x2=\"{1:.1}\" y2=\"{3:.1}\" stroke=\"{colour}\"/>",
                x(*lo),
                x(*hi),
                y - 5.0,
                y + 5.0
            );
        }
        if let Some(d) = d {
            svg += &format!(
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\"/>",
                x(*d)
            );
        }
    }
    svg + "</svg>"
}

fn verdict_section(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    let Some(v) = r.verdict() else {
        return writeln!(
            out,
            "<div class=\"verdict inconclusive\">No criteria were given: this report measures, it does not decide.</div>"
        );
    };
    writeln!(
        out,
        "<div class=\"verdict {}\" id=\"verdict\"><strong>{}</strong></div>",
        v.recommendation.as_str(),
        esc(&v.summary())
    )?;
    writeln!(
        out,
        "<table id=\"criteria\"><tr><th>criterion</th><th>status</th><th>rule</th><th>scope</th><th>n</th><th>value</th><th>baseline</th><th>Δ</th><th>95% CI</th><th>reason</th></tr>"
    )?;
    for c in &v.criteria {
        let deciding = v.deciding_criteria.contains(&c.id) && c.status != Status::Pass;
        let closest = v.closest.as_ref().is_some_and(|k| k.criterion == c.id);
        let class = if deciding {
            " class=\"deciding\""
        } else if closest {
            " class=\"closest\""
        } else {
            ""
        };
        let rows = c.checks.len().max(1);
        write!(
            out,
            "<tr{class} data-criterion=\"{}\"><td rowspan=\"{rows}\"><strong>{}</strong><br>{}</td><td rowspan=\"{rows}\">{}</td><td rowspan=\"{rows}\">{} {}</td>",
            esc(&c.id),
            esc(&c.id),
            esc(&c.description),
            status_badge(c.status),
            esc(&c.metric),
            esc(&c.rule)
        )?;
        if c.checks.is_empty() {
            writeln!(out, "<td colspan=\"7\">{}</td></tr>", esc(&c.reason))?;
        }
        for (i, k) in c.checks.iter().enumerate() {
            if i > 0 {
                write!(out, "<tr{class}>")?;
            }
            let mut scope = k.corpus.clone();
            if k.group_by != "all" {
                scope += &format!(", {}={}", k.group_by, k.group);
            }
            if let Some(cl) = &k.class {
                scope += &format!(", {cl}");
            }
            writeln!(
                out,
                "<td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{} {}</td></tr>",
                esc(&scope),
                k.n.map_or("-".into(), |n| n.to_string()),
                short(k.value),
                short(k.baseline),
                delta(k.delta),
                ci(k.ci95),
                status_badge(k.status),
                esc(&k.reason)
            )?;
        }
    }
    writeln!(out, "</table>")
}

fn ranked_table(
    out: &mut dyn Write,
    r: &Report,
    c: &Comparison,
    title: &str,
    kind: &str,
    list: &[RankedSample],
) -> std::io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<h4>{} ({} of {})</h4><table><tr><th>#</th><th>id</th><th>sample hash</th><th>source</th><th>mIoU {}</th><th>mIoU {}</th><th>Δ</th><th>picture</th></tr>",
        esc(title),
        list.len().min(r.settings.top_k),
        list.len(),
        esc(&c.baseline),
        esc(&c.arm)
    )?;
    for s in list.iter().take(r.settings.top_k) {
        let thumb = r
            .gallery
            .iter()
            .find(|g| g.corpus == c.corpus && g.id == s.id && g.arm == c.arm && g.kind == kind)
            .and_then(|g| local_src(&g.strip_png))
            .map_or(String::new(), |src| {
                format!(
                    "<a href=\"{src}\"><img class=\"thumb\" src=\"{src}\" alt=\"{}\"></a>",
                    esc(&s.id)
                )
            });
        writeln!(
            out,
            "<tr><td class=\"n\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{thumb}</td></tr>",
            s.rank,
            match r.same_photo(&c.corpus, &s.id) {
                Some(others) => format!("{} (same photo as {})", esc(&s.id), esc(&others.join(", "))),
                None => esc(&s.id),
            },
            esc(&s.hash),
            esc(s.source.as_deref().unwrap_or("")),
            short(Some(s.miou_baseline)),
            short(Some(s.miou_arm)),
            delta(Some(s.miou_arm - s.miou_baseline))
        )?;
    }
    writeln!(out, "</table>")
}

fn corpus_section(
    out: &mut dyn Write,
    r: &Report,
    corpus: &crate::evaluation::CorpusInfo,
) -> std::io::Result<()> {
    let name = &corpus.name;
    writeln!(
        out,
        "<h2 id=\"corpus-{}\">Corpus {} <small>({} samples, format {})</small></h2>",
        esc(name),
        esc(name),
        corpus.samples,
        esc(&corpus.format)
    )?;
    if let Some(d) = &corpus.dataset {
        writeln!(
            out,
            "<p>Read from the database <code>{}</code>: {} rows; query sha256 <code>{}</code>; rows sha256 <code>{}</code>.</p>",
            esc(&d.source),
            d.rows,
            esc(&d.query_sha256),
            esc(&d.rows_sha256)
        )?;
    }
    if let Some((shared, photos, groups)) = corpus.duplicate_note(esc) {
        writeln!(
            out,
            "<p class=\"note\" id=\"duplicates-{}\">Note: {shared} samples share their photo with another sample ({photos} byte-identical photos: {groups}). Each is scored as its own sample; <code>dedupe = \"keep-first\"</code> counts each photo once.</p>",
            esc(name),
        )?;
    }
    if !corpus.problems.is_empty() {
        writeln!(
            out,
            "<p>{} samples could not be loaded (see report.json).</p>",
            corpus.problems.len()
        )?;
    }
    // Overall, with the pass rate at τ.
    writeln!(
        out,
        "<table><tr><th>arm</th><th>n</th><th>mIoU mean</th><th>Δ [95% CI]</th><th>median</th><th>p10</th><th>p90</th><th>pass rate (mIoU ≥ τ = {})</th><th>Δ pass rate [95% CI]</th></tr>",
        short(Some(r.settings.pass_iou))
    )?;
    for arm in &r.arms {
        let Some(s) = r
            .summaries
            .iter()
            .find(|s| &s.arm == arm && s.corpus == *name && s.group_by == "all")
        else {
            continue;
        };
        let d = r
            .comparisons
            .iter()
            .find(|c| &c.arm == arm && c.corpus == *name)
            .and_then(|c| c.delta("all", "all", None));
        let cell = |stat: &str| {
            d.map_or(String::new(), |d| {
                format!(
                    "{} {}",
                    delta(d.deltas.get(stat).copied().flatten()),
                    ci(d.ci95.get(stat).copied().flatten())
                )
            })
        };
        let label = if *arm == r.settings.baseline {
            format!("{} (baseline)", esc(arm))
        } else {
            esc(arm)
        };
        writeln!(
            out,
            "<tr><td>{label}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            s.n,
            short(s.miou_mean),
            cell("miou_mean"),
            short(s.miou_median),
            short(s.miou_p10),
            short(s.miou_p90),
            short(s.pass_rate),
            cell("pass_rate")
        )?;
    }
    writeln!(out, "</table>")?;
    writeln!(out, "<div class=\"charts\"><figure>{}<figcaption>Distribution of per-sample mIoU per arm (empirical CDF: a curve further right is better).</figcaption></figure>", ecdf_svg(r, name))?;
    for c in r.comparisons.iter().filter(|c| c.corpus == *name) {
        writeln!(
            out,
            "<figure>{}<figcaption>Paired by sample: {} (x) against {} (y); above the diagonal {} is better.</figcaption></figure>",
            paired_svg(r, c),
            esc(&c.baseline),
            esc(&c.arm),
            esc(&c.arm)
        )?;
    }
    writeln!(out, "</div>")?;
    for c in r.comparisons.iter().filter(|c| c.corpus == *name) {
        writeln!(out, "<h3>{} vs {}</h3>", esc(&c.arm), esc(&c.baseline))?;
        let n_of = |gb: &str, g: &str, class: Option<&str>| {
            r.metrics
                .iter()
                .find(|m| {
                    m.arm == c.arm
                        && m.corpus == c.corpus
                        && m.group_by == gb
                        && m.group == g
                        && class.is_none_or(|k| k == m.class)
                })
                .map_or(0, |m| m.n)
        };
        let classes: Vec<_> = c
            .class_deltas
            .iter()
            .filter(|d| d.group_by == "all")
            .map(|d| {
                (
                    d.class.clone(),
                    n_of("all", "all", Some(&d.class)),
                    d.deltas.get("iou_mean").copied().flatten(),
                    d.ci95.get("iou_mean").copied().flatten(),
                )
            })
            .collect();
        let colour = arm_colour(r, &c.arm);
        if !classes.is_empty() {
            writeln!(out, "<figure>{}<figcaption>Per class: Δ mean IoU ({} − {}) with its paired bootstrap 95% interval.</figcaption></figure>", whiskers_svg(&classes, colour), esc(&c.arm), esc(&c.baseline))?;
        }
        let groups: Vec<_> = c
            .summary_deltas
            .iter()
            .filter(|d| d.group_by == "failure_class")
            .map(|d| {
                let n = r
                    .summaries
                    .iter()
                    .find(|s| {
                        s.arm == c.arm
                            && s.corpus == c.corpus
                            && s.group_by == d.group_by
                            && s.group == d.group
                    })
                    .map_or(0, |s| s.n);
                (
                    d.group.clone(),
                    n,
                    d.deltas.get("miou_mean").copied().flatten(),
                    d.ci95.get("miou_mean").copied().flatten(),
                )
            })
            .collect();
        if !groups.is_empty() {
            writeln!(out, "<figure>{}<figcaption>Per failure class: Δ mean mIoU with its 95% interval (n = samples in the class).</figcaption></figure>", whiskers_svg(&groups, colour))?;
        }
        ranked_table(out, r, c, "Top regressions", "regression", &c.regressions)?;
        ranked_table(
            out,
            r,
            c,
            "Top improvements",
            "improvement",
            &c.improvements,
        )?;
    }
    Ok(())
}

fn gallery_section(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    if r.gallery.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h2 id=\"gallery\">Gallery</h2>")?;
    writeln!(
        out,
        "<p class=\"legend\">Each strip: baseline | arm, labelled in the picture with arm, IoU and Δ. Photo in dimmed grey;<span class=\"gt\"></span>ground truth outline<span class=\"tp\"></span>true positive<span class=\"fp\"></span>false positive<span class=\"fn\"></span>false negative</p><div class=\"gallery\">"
    )?;
    for e in &r.gallery {
        let Some(src) = local_src(&e.strip_png) else {
            continue;
        };
        writeln!(
            out,
            "<figure><img src=\"{src}\" alt=\"{} {} {}\"><figcaption>{} <code>{}</code> ({}), class {}: IoU {} → {} ({} vs {})</figcaption></figure>",
            esc(e.kind),
            esc(&e.id),
            esc(&e.class),
            esc(e.kind),
            esc(&e.hash),
            esc(&e.id),
            esc(&e.class),
            short(e.iou_baseline),
            short(e.iou_arm),
            esc(&e.arm),
            esc(&e.baseline)
        )?;
    }
    writeln!(out, "</div>")
}

fn provenance(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    let s = &r.settings;
    writeln!(out, "<h2 id=\"provenance\">Provenance</h2><table>")?;
    for (k, v) in [
        ("run id", r.run.run_id.clone()),
        ("generated at", r.run.generated_at.clone()),
        ("tool", format!("{} {}", r.tool.name, r.tool.version)),
        ("baseline", s.baseline.clone()),
        ("τ (pass_iou)", crate::fmt::num(s.pass_iou)),
        (
            "bootstrap",
            format!("{} resamples, seed {}", s.bootstrap_resamples, s.seed),
        ),
        ("primary metric", s.primary_metric.to_string()),
    ] {
        writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v))?;
    }
    writeln!(
        out,
        "</table><table><tr><th>input</th><th>path</th><th>sha256</th></tr>"
    )?;
    for i in &r.run.inputs {
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(&i.role),
            esc(&i.path),
            esc(&i.sha256)
        )?;
    }
    writeln!(out, "</table><table><tr><th>arm</th><th>how</th></tr>")?;
    for a in &r.arm_details {
        let name = a.get("name").and_then(|v| v.as_str()).unwrap_or("");
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            esc(name),
            esc(&a.to_string())
        )?;
    }
    writeln!(out, "</table>")
}

impl Exporter for ReportHtml {
    fn name(&self) -> &'static str {
        "html"
    }

    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn write(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        )?;
        writeln!(
            out,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
            content_security_policy()
        )?;
        writeln!(
            out,
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>maskgate report {}</title><style>{STYLE}</style></head><body>",
            esc(&r.run.run_id)
        )?;
        writeln!(
            out,
            "<h1>maskgate report</h1><p>run <code>{}</code>, {}; baseline <code>{}</code>; arms {}.</p>",
            esc(&r.run.run_id),
            esc(&r.run.generated_at),
            esc(&r.settings.baseline),
            r.arms
                .iter()
                .map(|a| format!("<code>{}</code>", esc(a)))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        verdict_section(out, r)?;
        for corpus in &r.corpora {
            corpus_section(out, r, corpus)?;
        }
        gallery_section(out, r)?;
        provenance(out, r)?;
        if let Some(v) = r.verdict() {
            writeln!(
                out,
                "<p class=\"last\" id=\"last-line\">{}</p>",
                esc(&v.plain_line())
            )?;
        }
        writeln!(out, "</body></html>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn escaping_leaves_no_markup() {
        let e = esc("<img src=x onerror=alert(1)>\"'&\r\n</script>");
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''));
        assert!(e.contains("&lt;img"));
        assert_eq!(local_src("gallery/a.png").as_deref(), Some("gallery/a.png"));
        assert_eq!(local_src("https://x/a.png"), None);
        assert_eq!(local_src("../a.png"), None);
    }
}
