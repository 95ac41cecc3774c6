//! `report.md`: the shape of the reports maskgate replaces — run header, overall delta table,
//! per-class side-by-side table, ranked regressions and improvements, artifacts list.

use super::Exporter;
use crate::aggregate::{column, find_row, find_summary, Column, SUMMARY_COLUMNS};
use crate::compare::{Comparison, RankedSample};
use crate::fmt::{delta, fixed, md, short};
use crate::report::Report;
use std::io::Write;

pub struct ReportMarkdown;

fn code(s: &str) -> String {
    // Inline code cannot hold a backtick; fall back to escaped text.
    if s.chars().any(|c| c == '`' || c == '|' || c.is_control()) {
        md(s)
    } else {
        format!("`{s}`")
    }
}

fn fail(f: Option<crate::model::FailReason>) -> &'static str {
    f.map(|f| f.code()).unwrap_or("-")
}

fn table(
    out: &mut dyn Write,
    header: &[String],
    align_right_from: usize,
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    writeln!(out, "| {} |", header.join(" | "))?;
    let aligns: Vec<&str> = (0..header.len())
        .map(|i| if i >= align_right_from { "---:" } else { "---" })
        .collect();
    writeln!(out, "|{}|", aligns.join("|"))?;
    for r in rows {
        writeln!(out, "| {} |", r.join(" | "))?;
    }
    writeln!(out)
}

fn with_ci(d: Option<f64>, ci: Option<[f64; 2]>) -> String {
    match ci {
        Some([lo, hi]) => format!("{} [{}, {}]", delta(d), short(Some(lo)), short(Some(hi))),
        None => delta(d),
    }
}

fn overall(out: &mut dyn Write, r: &Report, corpus: &str) -> std::io::Result<()> {
    let base = &r.settings.baseline;
    let others: Vec<&String> = r.arms.iter().filter(|a| *a != base).collect();
    let mut header = vec!["metric".to_string(), format!("{} (baseline)", md(base))];
    for a in &others {
        header.push(md(a));
        header.push(format!("Δ {} [95% CI]", md(a)));
    }
    let get = |arm: &str| find_summary(&r.summaries, arm, corpus, "all", "all");
    let ci = |arm: &str, stat: &str| {
        r.comparisons
            .iter()
            .find(|c| c.arm == arm && c.corpus == corpus)
            .and_then(|c| c.delta("all", "all", None))
            .and_then(|d| d.ci95.get(stat).copied().flatten())
    };
    let Some(b) = get(base) else { return Ok(()) };
    let mut rows = vec![{
        let mut row = vec!["samples".to_string(), b.n.to_string()];
        for a in &others {
            row.push(
                get(a)
                    .map(|s| s.n.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            row.push(String::new());
        }
        row
    }];
    let base_stats = crate::compare::summary_stats(b);
    for (i, col) in SUMMARY_COLUMNS.iter().enumerate() {
        let mut row = vec![col.label.to_string(), fixed(base_stats[i], col.decimals)];
        for a in &others {
            let v = get(a).and_then(|s| crate::compare::summary_stats(s)[i]);
            row.push(fixed(v, col.decimals));
            row.push(with_ci(
                v.zip(base_stats[i]).map(|(x, y)| x - y),
                ci(a, col.name),
            ));
        }
        rows.push(row);
    }
    for (code_name, &base_rate) in &b.fail_rates {
        let any = base_rate > 0.0
            || others.iter().any(|a| {
                get(a)
                    .and_then(|s| s.fail_rates.get(code_name))
                    .is_some_and(|&v| v > 0.0)
            });
        if !any {
            continue;
        }
        let mut row = vec![format!("{code_name} rate"), short(Some(base_rate))];
        for a in &others {
            let v = get(a).and_then(|s| s.fail_rates.get(code_name).copied());
            row.push(short(v));
            row.push(delta(v.map(|x| x - base_rate)));
        }
        rows.push(row);
    }
    writeln!(
        out,
        "### Overall ({} vs baseline)\n",
        if others.len() == 1 { "arm" } else { "arms" }
    )?;
    table(out, &header, 1, &rows)
}

/// Failed samples listed per arm, at most this many each (`samples.jsonl` has every one).
const FAILED_SHOWN: usize = 20;

/// A corpus's failed samples with the message the terminal showed for them
/// ([`crate::model::FailReason::message`]): reason, what failed, what to do.
fn failed_samples(out: &mut dyn Write, r: &Report, corpus: &str) -> std::io::Result<()> {
    let failed: Vec<_> = r
        .samples
        .iter()
        .filter(|s| *s.corpus == *corpus)
        .filter_map(|s| Some((s, s.fail_reason?)))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Failed samples ({})\n", failed.len())?;
    let mut rows = Vec::new();
    for arm in &r.arms {
        let of_arm: Vec<_> = failed.iter().filter(|(s, _)| *s.arm == **arm).collect();
        for (s, reason) in of_arm.iter().take(FAILED_SHOWN) {
            rows.push(vec![
                md(arm),
                md(&s.id),
                md(&reason.message(s.fail_detail.as_deref())),
            ]);
        }
        if of_arm.len() > FAILED_SHOWN {
            rows.push(vec![
                md(arm),
                format!("… and {} more", of_arm.len() - FAILED_SHOWN),
                "samples.jsonl lists every one".into(),
            ]);
        }
    }
    table(
        out,
        &["arm".into(), "sample".into(), "message".into()],
        3,
        &rows,
    )
}

/// Region × class overlap means, one column per arm (lower is better for every built-in one).
fn overlaps(out: &mut dyn Write, r: &Report, corpus: &str) -> std::io::Result<()> {
    let rows: Vec<_> = r.overlaps.iter().filter(|o| o.corpus == corpus).collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut measures: Vec<&str> = rows.iter().map(|o| o.measure.as_str()).collect();
    measures.sort_unstable();
    measures.dedup();
    let mut header = vec!["overlap (mean share)".to_string()];
    header.extend(r.arms.iter().map(|a| md(a)));
    let body: Vec<Vec<String>> = measures
        .iter()
        .map(|m| {
            let mut row = vec![code(m)];
            row.extend(r.arms.iter().map(|a| {
                rows.iter()
                    .find(|o| o.arm == *a && o.measure == *m)
                    .and_then(|o| o.mean.map(|v| format!("{} (n={})", short(Some(v)), o.n)))
                    .unwrap_or_else(|| "–".into())
            }));
            row
        })
        .collect();
    writeln!(out, "### Region overlaps\n")?;
    table(out, &header, 1, &body)
}

fn groups(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    let Some(g) = &r.groups else { return Ok(()) };
    writeln!(out, "## Group metrics\n")?;
    let weights: Vec<String> = g
        .terms
        .iter()
        .map(|(n, w, m)| {
            format!(
                "{}{}·{} ({})",
                if *w < 0.0 { "−" } else { "+" },
                short(Some(w.abs())),
                md(n),
                md(m)
            )
        })
        .collect();
    writeln!(
        out,
        "score = {}, each term the mean over its classes of that class aggregate.\n",
        weights.join(" ")
    )?;
    let multi = r.corpora.len() > 1;
    let mut header: Vec<String> = vec!["group".into()];
    if multi {
        header.push("corpus".into());
    }
    header.extend(g.terms.iter().map(|(n, _, _)| md(n)));
    header.push("score".into());
    header.push("delta_vs_baseline".into());
    let rows: Vec<Vec<String>> = g
        .scores
        .iter()
        .map(|s| {
            let mut row = vec![if Some(&s.group) == g.recommended_group.as_ref() {
                format!("**{}**", md(&s.group))
            } else {
                md(&s.group)
            }];
            if multi {
                row.push(md(&s.corpus));
            }
            row.extend(
                g.terms
                    .iter()
                    .map(|(n, _, _)| short(s.terms.get(n).copied().flatten())),
            );
            row.push(short(s.score));
            row.push(delta(s.delta_vs_baseline));
            row
        })
        .collect();
    table(out, &header, 1, &rows)?;
    writeln!(out, "## Recommendation\n")?;
    match &g.recommended_group {
        Some(x) => writeln!(out, "- recommended_group: {}", code(x))?,
        None => writeln!(
            out,
            "- recommended_group: none (no group has a defined score)"
        )?,
    }
    writeln!(out, "- rationale: {}", md(&g.rationale))?;
    if let Some(x) = g
        .recommended_group
        .as_ref()
        .filter(|x| **x != r.settings.baseline)
    {
        writeln!(out, "- regressions of {} against the baseline: the \"Top regressions: {} vs {}\" table above", code(x), md(x), md(&r.settings.baseline))?;
    }
    writeln!(out)
}

fn gallery(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    if r.gallery.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Gallery\n")?;
    writeln!(out, "Each strip: baseline | arm, each panel labelled with its arm, IoU and (on the arm) Δ. Legend: photo in dimmed grey; ground truth outlined in white; green = true positive (both), red = false positive (predicted, not in the ground truth), blue = false negative (ground truth missed).\n")?;
    for e in &r.gallery {
        writeln!(
            out,
            "- {} `{}` ({}), class {}: IoU {} → {} ({} vs {}) — [baseline]({}) · [arm]({})\n\n  ![{} {}]({})\n",
            e.kind,
            e.hash,
            md(&e.id),
            md(&e.class),
            short(e.iou_baseline),
            short(e.iou_arm),
            md(&e.arm),
            md(&e.baseline),
            e.baseline_png,
            e.arm_png,
            e.kind,
            e.hash,
            e.strip_png
        )?;
    }
    Ok(())
}

fn criteria(out: &mut dyn Write, r: &Report) -> std::io::Result<()> {
    let Some(list) = &r.criteria else {
        return Ok(());
    };
    writeln!(out, "## Criteria\n")?;
    if let Some(f) = &r.settings.criteria_file {
        writeln!(
            out,
            "From {} (τ = {}).\n",
            code(f),
            crate::fmt::num(r.settings.pass_iou)
        )?;
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                md(&c.id),
                md(&c.description),
                md(&c.metric),
                md(&c.arm),
                md(&c.rule),
                c.checks.len().to_string(),
                match c.status {
                    crate::decide::Status::Pass => "pass".into(),
                    crate::decide::Status::Fail => "**FAIL**".into(),
                    crate::decide::Status::Inconclusive => "inconclusive".into(),
                },
                md(&c.reason),
            ]
        })
        .collect();
    let header: Vec<String> = [
        "criterion",
        "description",
        "metric",
        "arm",
        "rule",
        "checks",
        "status",
        "reason",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    table(out, &header, 99, &rows)
}

fn per_class(out: &mut dyn Write, r: &Report, c: &Comparison) -> std::io::Result<()> {
    let (base, arm) = (&c.baseline, &c.arm);
    let stats: Vec<&Column> = [
        "iou_mean",
        "leakage_mean",
        "coverage_mean",
        "boundary_iou_mean",
    ]
    .iter()
    .filter_map(|name| column(name))
    .collect();
    let mut header = vec!["class".to_string(), "n".to_string()];
    for label in stats.iter().map(|c| c.label) {
        header.push(format!("{label} {}", md(base)));
        header.push(format!("{label} {}", md(arm)));
        header.push(format!("Δ {label}"));
    }
    let classes: Vec<&String> = r
        .corpora
        .iter()
        .filter(|k| k.name == c.corpus)
        .flat_map(|k| &k.classes)
        .collect();
    let mut rows = Vec::new();
    for class in classes {
        let (Some(b), Some(a)) = (
            find_row(&r.metrics, base, &c.corpus, "all", "all", class),
            find_row(&r.metrics, arm, &c.corpus, "all", "all", class),
        ) else {
            continue;
        };
        let mut row = vec![md(class), a.n.to_string()];
        for col in &stats {
            let (vb, va) = (b.stat(col.name).flatten(), a.stat(col.name).flatten());
            row.push(fixed(vb, col.decimals));
            row.push(fixed(va, col.decimals));
            row.push(delta(va.zip(vb).map(|(x, y)| x - y)));
        }
        rows.push(row);
    }
    writeln!(out, "### Per class: {} vs {}\n", md(arm), md(base))?;
    table(out, &header, 1, &rows)
}

fn by_group(
    out: &mut dyn Write,
    r: &Report,
    c: &Comparison,
    group_by: &str,
) -> std::io::Result<()> {
    let groups: Vec<&String> = r
        .summaries
        .iter()
        .filter(|s| s.arm == c.baseline && s.corpus == c.corpus && s.group_by == group_by)
        .map(|s| &s.group)
        .collect();
    if groups.len() < 2 {
        return Ok(());
    }
    let header: Vec<String> = [
        group_by.to_string(),
        "n".into(),
        format!("mIoU {}", md(&c.baseline)),
        format!("mIoU {}", md(&c.arm)),
        "Δ mIoU".into(),
        format!("pass rate {}", md(&c.baseline)),
        format!("pass rate {}", md(&c.arm)),
        "Δ pass rate".into(),
    ]
    .into();
    let mut rows = Vec::new();
    for g in groups {
        let b = find_summary(&r.summaries, &c.baseline, &c.corpus, group_by, g);
        let a = find_summary(&r.summaries, &c.arm, &c.corpus, group_by, g);
        let (bm, am) = (b.and_then(|s| s.miou_mean), a.and_then(|s| s.miou_mean));
        let (bp, ap) = (b.and_then(|s| s.pass_rate), a.and_then(|s| s.pass_rate));
        rows.push(vec![
            md(g),
            a.map(|s| s.n.to_string()).unwrap_or_default(),
            short(bm),
            short(am),
            delta(am.zip(bm).map(|(x, y)| x - y)),
            short(bp),
            short(ap),
            delta(ap.zip(bp).map(|(x, y)| x - y)),
        ]);
    }
    writeln!(
        out,
        "### By {}: {} vs {}\n",
        md(group_by),
        md(&c.arm),
        md(&c.baseline)
    )?;
    table(out, &header, 1, &rows)
}

fn ranked(
    out: &mut dyn Write,
    r: &Report,
    title: &str,
    c: &Comparison,
    list: &[RankedSample],
) -> std::io::Result<()> {
    writeln!(
        out,
        "### {title}: {} vs {} (top {})\n",
        md(&c.arm),
        md(&c.baseline),
        list.len()
    )?;
    if list.is_empty() {
        return writeln!(out, "None.\n");
    }
    let header: Vec<String> = [
        "rank",
        "source",
        "sample_hash",
        "id",
        "mIoU base",
        "mIoU arm",
        "Δ mIoU",
        "Δ leakage",
        "Δ coverage",
        "Δ boundary IoU",
        "fail_reason_base",
        "fail_reason_arm",
        "gt_pixels",
        "pred_pixels_base",
        "pred_pixels_arm",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let d = |k: &str| delta(s.deltas.get(k).copied().flatten());
            vec![
                s.rank.to_string(),
                md(s.source.as_deref().unwrap_or("-")),
                format!("`{}`", s.hash),
                match r.same_photo(&c.corpus, &s.id) {
                    Some(others) => {
                        format!("{} (same photo as {})", md(&s.id), md(&others.join(", ")))
                    }
                    None => md(&s.id),
                },
                short(Some(s.miou_baseline)),
                short(Some(s.miou_arm)),
                delta(Some(s.miou_arm - s.miou_baseline)),
                d("leakage"),
                d("coverage"),
                d("boundary_iou"),
                fail(s.fail_reason_baseline).into(),
                fail(s.fail_reason_arm).into(),
                s.gt_pixels.to_string(),
                s.pred_pixels_baseline.to_string(),
                s.pred_pixels_arm.to_string(),
            ]
        })
        .collect();
    table(out, &header, 4, &rows)
}

impl Exporter for ReportMarkdown {
    fn name(&self) -> &'static str {
        "md"
    }

    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn write(&self, r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let s = &r.settings;
        writeln!(out, "# maskgate report\n")?;
        if let Some(summary) = &r.verdict_summary {
            writeln!(out, "**Verdict.** {}\n", md(summary))?;
        }
        writeln!(out, "- run_id: {}", code(&r.run.run_id))?;
        writeln!(out, "- generated_at: {}", code(&r.run.generated_at))?;
        writeln!(out, "- tool: {} {}", r.tool.name, r.tool.version)?;
        writeln!(out, "- baseline: {}", code(&s.baseline))?;
        writeln!(
            out,
            "- arms: {}",
            r.arms
                .iter()
                .map(|a| code(a))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        // A predictions file is listed once, with its hash, among the inputs below.
        for a in &r.arm_details {
            let text = |k: &str| a.get(k).and_then(|v| v.as_str()).unwrap_or("");
            if text("kind") == "model" {
                writeln!(
                    out,
                    "- arm {}: adapter {} ({}), model {} (sha256 {})",
                    code(text("name")),
                    md(text("adapter")),
                    md(text("params")),
                    code(text("model")),
                    code(&text("model_sha256")[..16.min(text("model_sha256").len())])
                )?;
            }
        }
        // A model is listed once, with its arm above.
        for f in r
            .run
            .inputs
            .iter()
            .filter(|f| !f.role.starts_with("model "))
        {
            writeln!(
                out,
                "- {}: {} (sha256 {})",
                md(&f.role),
                code(&f.path),
                code(&f.sha256[..16.min(f.sha256.len())])
            )?;
        }
        writeln!(out, "- pass_iou (τ): {}", crate::fmt::num(s.pass_iou))?;
        writeln!(
            out,
            "- grid: {}",
            s.grid
                .map(|g| format!("{g}×{g} ({})", s.grid_resampling))
                .unwrap_or_else(|| "none (native size)".into())
        )?;
        writeln!(out, "- primary metric: {}", s.primary_metric)?;
        writeln!(
            out,
            "- boundary IoU width: {}% of the image diagonal (min 1 px)",
            crate::fmt::num(s.boundary_dilation_ratio * 100.0)
        )?;
        writeln!(out, "- empty-mask policy: {}", s.empty_policy)?;
        writeln!(out, "- percentiles: {}\n", s.percentile_method)?;

        for corpus in &r.corpora {
            writeln!(
                out,
                "## Corpus {} ({} samples, format {})\n",
                code(&corpus.name),
                corpus.samples,
                md(&corpus.format)
            )?;
            if let Some(d) = &corpus.dataset {
                writeln!(
                    out,
                    "Read from the database {}: {} rows; query sha256 {}; rows sha256 {}.\n",
                    code(&d.source),
                    d.rows,
                    code(&d.query_sha256),
                    code(&d.rows_sha256)
                )?;
            }
            if let Some((shared, photos, groups)) = corpus.duplicate_note(md) {
                writeln!(
                    out,
                    "Note: {shared} samples share their photo with another sample ({photos} byte-identical photos: {groups}). Each is scored as its own sample; `dedupe = \"keep-first\"` counts each photo once.\n",
                )?;
            }
            overall(out, r, &corpus.name)?;
            overlaps(out, r, &corpus.name)?;
            for c in r.comparisons.iter().filter(|c| c.corpus == corpus.name) {
                per_class(out, r, c)?;
                by_group(out, r, c, "source")?;
                by_group(out, r, c, "failure_class")?;
                let p = &c.paired;
                writeln!(
                    out,
                    "Paired per-sample mIoU, {} − {}: mean Δ {} over {} samples; {} improved, {} regressed, {} unchanged (sign test p = {}); pass→fail {}, fail→pass {} at τ.\n",
                    md(&c.arm), md(&c.baseline), delta(p.mean_delta), p.n, p.n_improved, p.n_regressed, p.n_unchanged,
                    crate::fmt::sig(p.sign_test_p), p.pass_to_fail, p.fail_to_pass
                )?;
                ranked(out, r, "Top regressions", c, &c.regressions)?;
                ranked(out, r, "Top improvements", c, &c.improvements)?;
            }
            if !corpus.problems.is_empty() {
                writeln!(out, "### Input problems ({})\n", corpus.problems.len())?;
                let rows: Vec<Vec<String>> = corpus
                    .problems
                    .iter()
                    .map(|p| vec![md(&p.sample), md(&p.kind), md(&p.message)])
                    .collect();
                table(
                    out,
                    &["sample".into(), "kind".into(), "message".into()],
                    3,
                    &rows,
                )?;
            }
            failed_samples(out, r, &corpus.name)?;
        }
        let unmatched: Vec<_> = r
            .unmatched_predictions
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if !unmatched.is_empty() {
            writeln!(out, "## Predictions without gold (not scored)\n")?;
            for (arm, ids) in unmatched {
                let shown: Vec<String> = ids.iter().take(20).map(|i| md(i)).collect();
                let more = if ids.len() > 20 {
                    format!(" … and {} more", ids.len() - 20)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "- {}: {} ids: {}{more}",
                    code(arm),
                    ids.len(),
                    shown.join(", ")
                )?;
            }
            writeln!(out)?;
        }
        groups(out, r)?;
        gallery(out, r)?;
        criteria(out, r)?;
        writeln!(out, "## Artifacts\n")?;
        for e in super::exporters()
            .into_iter()
            .filter(|e| r.artifacts.iter().any(|a| a == e.file_name()))
        {
            writeln!(
                out,
                "- {}: `{}`",
                e.file_name().split('.').next_back().unwrap_or(""),
                e.file_name()
            )?;
        }
        if let Some(verdict) = r.verdict() {
            writeln!(out, "\n{}", verdict.last_line())?;
        }
        Ok(())
    }
}
