//! Every sentence, table and figure of the report, once. Numbers are formatted here (one
//! wording for both renderers); user text stays [`Inline::Text`] for the renderer to escape.

use super::{
    code, plain, shortened, text, Align, Block, Column, Document, Inline, Picture, Row, Table, Tone,
};
use crate::aggregate::{column, find_row, find_summary, Column as StatColumn, SUMMARY_COLUMNS};
use crate::compare::{Comparison, RankedSample};
use crate::decide::{Recommendation, Status};
use crate::export::chart::{self, Chart, Legend, Plot, Series, Shape, WhiskerRow, XTicks};
use crate::fmt::{delta, fixed, hash_prefix, short};
use crate::report::Report;

/// Where a table's right-aligned (numeric) columns start.
fn columns(headers: Vec<Vec<Inline>>, align_right_from: usize) -> Vec<Column> {
    headers
        .into_iter()
        .enumerate()
        .map(|(i, header)| Column {
            header,
            align: if i >= align_right_from {
                Align::Right
            } else {
                Align::Left
            },
            pictures: false,
        })
        .collect()
}

fn plain_headers(names: &[&str]) -> Vec<Vec<Inline>> {
    names.iter().map(|n| vec![plain(*n)]).collect()
}

fn row(cells: Vec<Vec<Inline>>) -> Row {
    Row {
        cells,
        ..Row::default()
    }
}

fn table(headers: Vec<Vec<Inline>>, align_right_from: usize, rows: Vec<Vec<Vec<Inline>>>) -> Block {
    Block::Table(Table {
        columns: columns(headers, align_right_from),
        rows: rows.into_iter().map(row).collect(),
    })
}

fn heading(level: u8, text: Vec<Inline>) -> Block {
    Block::Heading {
        level,
        id: None,
        text,
    }
}

fn paragraph(text: Vec<Inline>) -> Block {
    Block::Paragraph { id: None, text }
}

/// A number or other maskgate-made cell.
fn cell(s: String) -> Vec<Inline> {
    vec![Inline::Plain(s)]
}

fn with_ci(d: Option<f64>, ci: Option<[f64; 2]>) -> String {
    match ci {
        Some([lo, hi]) => format!("{} [{}, {}]", delta(d), short(Some(lo)), short(Some(hi))),
        None => delta(d),
    }
}

fn tone(status: Status) -> Tone {
    match status {
        Status::Pass => Tone::Good,
        Status::Fail => Tone::Bad,
        Status::Inconclusive => Tone::Open,
    }
}

fn status_badge(status: Status) -> Inline {
    Inline::Badge(tone(status), status.as_str().into())
}

/// "a vs b" with both names as user text.
fn versus(a: &str, b: &str) -> Vec<Inline> {
    vec![text(a), plain(" vs "), text(b)]
}

/// "a − b" (a difference of two arms) with both names as user text.
fn minus(a: &str, b: &str) -> Vec<Inline> {
    vec![text(a), plain(" − "), text(b)]
}

fn concat(parts: Vec<Vec<Inline>>) -> Vec<Inline> {
    parts.into_iter().flatten().collect()
}

/// The report as one document.
pub fn build(r: &Report) -> Document {
    let mut blocks = vec![heading(1, vec![plain("maskgate report")])];
    if let Some(summary) = &r.verdict_summary {
        blocks.push(Block::Callout {
            tone: match r.recommendation {
                Some(Recommendation::Go) => Tone::Good,
                Some(Recommendation::NoGo) => Tone::Bad,
                _ => Tone::Open,
            },
            label: "Verdict.".into(),
            text: vec![Inline::Anchor {
                id: "verdict".into(),
                text: vec![text(summary.as_str())],
            }],
        });
    }
    blocks.push(Block::List(run_settings(r)));
    blocks.push(full_provenance(r));
    for corpus in &r.corpora {
        corpus_section(&mut blocks, r, corpus);
    }
    shared_photos(&mut blocks, r);
    suspects(&mut blocks, r);
    unmatched(&mut blocks, r);
    groups(&mut blocks, r);
    gallery(&mut blocks, r);
    criteria(&mut blocks, r);
    cost(&mut blocks, r);
    blocks.push(heading(2, vec![plain("Artifacts")]));
    blocks.push(Block::List(
        crate::export::exporters()
            .into_iter()
            .filter(|e| r.artifacts.iter().any(|a| a == e.file_name()))
            .map(|e| {
                vec![
                    plain(format!(
                        "{}: ",
                        e.file_name().split('.').next_back().unwrap_or("")
                    )),
                    code(e.file_name()),
                ]
            })
            .collect(),
    ));
    if let Some(verdict) = r.verdict() {
        blocks.push(Block::LastLine(
            verdict
                .line_pieces()
                .into_iter()
                .map(|(piece, from_user)| if from_user { text(piece) } else { plain(piece) })
                .collect(),
        ));
    }
    Document {
        title: vec![plain("maskgate report "), text(r.run.run_id.as_str())],
        blocks: with_contents(sectioned(blocks, 2, &mut Default::default())),
    }
}

/// Whether a top-level section starts folded: the long ones a reviewer opens when needed (a
/// corpus's tables, the gallery, the group metrics); the verdict's own sections stay open.
fn starts_folded(id: &str) -> bool {
    id.starts_with("corpus-") || matches!(id, "gallery" | "group-metrics")
}

/// The words of a heading, for its id.
fn words(parts: &[Inline]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Plain(t) | Inline::Text(t) | Inline::Code(t) | Inline::Badge(_, t) => t.clone(),
            Inline::Shortened { whole, .. } => whole.clone(),
            Inline::Strong(p) | Inline::Link { text: p, .. } | Inline::Anchor { text: p, .. } => {
                words(p)
            }
            Inline::Image { .. } => String::new(),
        })
        .collect()
}

/// Each heading of `level` (and, inside, of the next level) with the blocks after it, as one
/// [`Block::Section`]; ids unique over the page (a heading's own, else from its words).
fn sectioned(
    blocks: Vec<Block>,
    level: u8,
    ids: &mut std::collections::BTreeSet<String>,
) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, Vec<Inline>, Vec<Block>)> = None;
    let close = |open: &mut Option<(String, Vec<Inline>, Vec<Block>)>,
                 out: &mut Vec<Block>,
                 ids: &mut std::collections::BTreeSet<String>| {
        if let Some((id, title, inner)) = open.take() {
            let blocks = match level < 3 {
                true => sectioned(inner, level + 1, ids),
                false => inner,
            };
            out.push(Block::Section {
                level,
                folded: level == 2 && starts_folded(&id),
                id,
                title,
                blocks,
            });
        }
    };
    for b in blocks {
        match b {
            Block::Heading { level: l, id, text } if l == level => {
                close(&mut open, &mut out, ids);
                let base = id.unwrap_or_else(|| {
                    let slug: String = words(&text)
                        .to_lowercase()
                        .chars()
                        .map(|c| if c.is_alphanumeric() { c } else { '-' })
                        .collect();
                    slug.split('-')
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join("-")
                });
                let mut id = base.clone();
                let mut n = 1;
                while !ids.insert(id.clone()) {
                    n += 1;
                    id = format!("{base}-{n}");
                }
                open = Some((id, text, Vec::new()));
            }
            // The last line belongs to the page, not to the last section.
            b @ Block::LastLine(_) => {
                close(&mut open, &mut out, ids);
                out.push(b);
            }
            b => match &mut open {
                Some((_, _, inner)) => inner.push(b),
                None => out.push(b),
            },
        }
    }
    close(&mut open, &mut out, ids);
    out
}

/// The contents (a link to each top-level section) under the verdict, else under the title.
fn with_contents(mut blocks: Vec<Block>) -> Vec<Block> {
    let entries: Vec<(String, Vec<Inline>)> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Section { id, title, .. } => Some((id.clone(), title.clone())),
            _ => None,
        })
        .collect();
    if entries.is_empty() {
        return blocks;
    }
    let at = (blocks.iter())
        .position(|b| matches!(b, Block::Callout { .. }))
        .or_else(|| (blocks.iter()).position(|b| matches!(b, Block::Heading { level: 1, .. })))
        .map_or(0, |i| i + 1);
    blocks.insert(at, Block::Contents(entries));
    blocks
}

/// The run's identity, inputs and settings: the provenance a reviewer checks first.
fn run_settings(r: &Report) -> Vec<Vec<Inline>> {
    let s = &r.settings;
    let mut items = vec![
        vec![plain("run_id: "), code(r.run.run_id.as_str())],
        vec![plain("generated_at: "), code(r.run.generated_at.as_str())],
        vec![plain(format!("tool: {} {}", r.tool.name, r.tool.version))],
        vec![
            plain("paths below: relative to "),
            text(r.run.paths_relative_to.as_str()),
        ],
        vec![plain("baseline: "), code(s.baseline.as_str())],
    ];
    let mut arms = vec![plain("arms: ")];
    for (i, a) in r.arms.iter().enumerate() {
        if i > 0 {
            arms.push(plain(", "));
        }
        arms.push(code(a.as_str()));
    }
    items.push(arms);
    // A predictions file is listed once, with its hash, among the inputs below.
    for a in &r.arm_details {
        let field = |k: &str| a.get(k).and_then(|v| v.as_str()).unwrap_or("");
        if field("kind") == "model" {
            let mut item = vec![
                plain("arm "),
                code(field("name")),
                plain(": adapter "),
                text(field("adapter")),
                plain(" ("),
                text(field("params")),
                plain("), model "),
                code(field("model")),
                plain(" (sha256 "),
                code(hash_prefix(field("model_sha256"))),
                plain(")"),
            ];
            // A checkpoint arm runs the ONNX its exporter made: both files are named.
            if !field("exporter").is_empty() {
                item.extend([
                    plain(", run as the ONNX "),
                    text(field("exporter")),
                    plain(" exported ("),
                    text(field("export")),
                    plain("; sha256 "),
                    code(hash_prefix(field("exported_onnx_sha256"))),
                    plain(")"),
                ]);
            }
            items.push(item);
        }
    }
    // A model is listed once, with its arm above.
    for f in r
        .run
        .inputs
        .iter()
        .filter(|f| !f.role.starts_with("model "))
    {
        items.push(vec![
            text(f.role.as_str()),
            plain(": "),
            code(f.path.as_str()),
            plain(" (sha256 "),
            code(hash_prefix(&f.sha256)),
            plain(")"),
        ]);
    }
    items.push(vec![plain(format!(
        "pass_iou (τ): {}",
        crate::fmt::num(s.pass_iou)
    ))]);
    items.push(vec![plain(format!(
        "grid: {}",
        s.grid
            .map(|g| format!("{g}×{g} ({})", s.grid_resampling))
            .unwrap_or_else(|| "none (native size)".into())
    ))]);
    items.push(vec![plain(format!("primary metric: {}", s.primary_metric))]);
    items.push(vec![plain(format!(
        "boundary IoU width: {}% of the image diagonal (min 1 px)",
        crate::fmt::num(s.boundary_dilation_ratio * 100.0)
    ))]);
    items.push(vec![plain(format!(
        "empty-mask policy: {}",
        s.empty_policy
    ))]);
    items.push(vec![plain(format!("percentiles: {}", s.percentile_method))]);
    items
}

/// What the settings list shortens: every input's whole hash, how each arm was made, the
/// bootstrap's resamples and seed.
fn full_provenance(r: &Report) -> Block {
    let s = &r.settings;
    let inputs = Table {
        columns: columns(plain_headers(&["input", "path", "sha256"]), usize::MAX),
        rows: r
            .run
            .inputs
            .iter()
            .map(|f| {
                row(vec![
                    vec![text(f.role.as_str())],
                    vec![code(f.path.as_str())],
                    vec![code(f.sha256.as_str())],
                ])
            })
            .collect(),
    };
    let arms = Table {
        columns: columns(plain_headers(&["arm", "how"]), usize::MAX),
        rows: r
            .arm_details
            .iter()
            .map(|a| {
                let name = a.get("name").and_then(|v| v.as_str()).unwrap_or("");
                row(vec![vec![text(name)], described(a)])
            })
            .collect(),
    };
    Block::Details {
        summary: vec![plain("Full provenance")],
        blocks: vec![
            paragraph(vec![plain(format!(
                "Bootstrap: {} resamples, seed {}.",
                s.bootstrap_resamples, s.seed
            ))]),
            Block::Table(inputs),
            Block::Table(arms),
        ],
    }
}

/// An arm's description as `key: value` pairs (nested keys dotted), not a JSON blob.
fn described(a: &serde_json::Value) -> Vec<Inline> {
    let all = crate::fmt::flattened(a);
    let mut cell = Vec::new();
    for (k, v) in all.into_iter().filter(|(k, _)| k != "name") {
        if !cell.is_empty() {
            cell.push(plain(" · "));
        }
        cell.extend([text(format!("{k}: ")), code(v)]);
    }
    if cell.is_empty() {
        cell.push(plain("-"));
    }
    cell
}

fn corpus_section(blocks: &mut Vec<Block>, r: &Report, corpus: &crate::evaluation::CorpusInfo) {
    blocks.push(Block::Heading {
        level: 2,
        id: Some(format!("corpus-{}", corpus.name)),
        text: vec![
            plain("Corpus "),
            code(corpus.name.as_str()),
            plain(format!(" ({} samples, format ", corpus.samples)),
            text(corpus.format.as_str()),
            plain(if corpus.held_out { ", held out)" } else { ")" }),
        ],
    });
    if let Some(d) = &corpus.dataset {
        blocks.push(paragraph(vec![
            plain("Read from the database "),
            code(d.source.as_str()),
            plain(format!(": {} rows; query sha256 ", d.rows)),
            code(d.query_sha256.as_str()),
            plain("; rows sha256 "),
            code(d.rows_sha256.as_str()),
            plain("."),
        ]));
    }
    if !corpus.meta_values.is_empty() {
        // The rows' own metadata, apart from the sample's source and corpus: e.g. which
        // production backend made the crop a reporter flagged.
        let mut said = vec![plain("The samples' metadata (")];
        said.extend([code("meta"), plain("), value (samples): ")]);
        for (i, m) in corpus.meta_values.iter().enumerate() {
            if i > 0 {
                said.push(plain("; "));
            }
            said.extend([code(m.key.as_str()), plain(" ")]);
            for (j, (value, n)) in m.values.iter().enumerate() {
                if j > 0 {
                    said.push(plain(", "));
                }
                said.extend([text(value.as_str()), plain(format!(" ({n})"))]);
            }
        }
        said.push(plain("."));
        blocks.push(paragraph(said));
    }
    if !corpus.duplicate_photos.is_empty() {
        let shared: usize = corpus.duplicate_photos.iter().map(Vec::len).sum();
        let mut note = vec![plain(format!(
            "Note: {shared} samples share their photo with another sample ({} byte-identical photos: ",
            corpus.duplicate_photos.len()
        ))];
        for (i, g) in corpus.duplicate_photos.iter().enumerate() {
            if i > 0 {
                note.push(plain("; "));
            }
            note.push(text(g.join(" = ")));
        }
        note.push(plain("). Each is scored as its own sample; "));
        note.push(code("dedupe = \"keep-first\""));
        note.push(plain(" counts each photo once."));
        blocks.push(Block::Paragraph {
            id: Some(format!("duplicates-{}", corpus.name)),
            text: note,
        });
    }
    overall(blocks, r, &corpus.name);
    blocks.push(Block::Figures(vec![(
        ecdf(r, &corpus.name),
        vec![plain(
            "Distribution of per-sample mIoU per arm (empirical CDF: a curve further right is better).",
        )],
    )]));
    overlaps(blocks, r, &corpus.name);
    instance_metrics(blocks, r, &corpus.name);
    for c in r.comparisons.iter().filter(|c| c.corpus == corpus.name) {
        per_class(blocks, r, c);
        by_group(blocks, r, c, "source");
        by_group(blocks, r, c, "failure_class");
        let p = &c.paired;
        blocks.push(paragraph(concat(vec![
            vec![plain("Paired per-sample mIoU, ")],
            minus(&c.arm, &c.baseline),
            vec![plain(format!(
                ": mean Δ {} over {} samples; {} improved, {} regressed, {} unchanged (sign test p = {}); pass→fail {}, fail→pass {} at τ.",
                delta(p.mean_delta),
                p.n,
                p.n_improved,
                p.n_regressed,
                p.n_unchanged,
                crate::fmt::sig(p.sign_test_p),
                p.pass_to_fail,
                p.fail_to_pass
            ))],
        ])));
        paired_tests(blocks, c);
        anatomy(blocks, r, c);
        weak_slices(blocks, r, c);
        ranked(
            blocks,
            r,
            "Top regressions",
            "regression",
            c,
            &c.regressions,
        );
        ranked(
            blocks,
            r,
            "Top improvements",
            "improvement",
            c,
            &c.improvements,
        );
    }
    if !corpus.problems.is_empty() {
        blocks.push(heading(
            3,
            vec![plain(format!("Input problems ({})", corpus.problems.len()))],
        ));
        blocks.push(table(
            plain_headers(&["sample", "kind", "message"]),
            3,
            corpus
                .problems
                .iter()
                .map(|p| {
                    vec![
                        vec![text(p.sample.as_str())],
                        vec![text(p.kind.as_str())],
                        vec![text(p.message.as_str())],
                    ]
                })
                .collect(),
        ));
    }
    failed_samples(blocks, r, &corpus.name);
}

/// Where the arm's error differs from the baseline's: the change in each kind of wrong pixel
/// (shares of the union, which sum to 1 − IoU), so a reviewer sees whether a loss is edge
/// quality, extent or whole objects.
fn anatomy(blocks: &mut Vec<Block>, r: &Report, c: &Comparison) {
    const KINDS: [(&str, &str); 3] = [
        ("boundary_error_mean", "boundary (within the edge band)"),
        (
            "extent_error_mean",
            "extent (beyond the band, in overlapping regions)",
        ),
        (
            "segment_error_mean",
            "segment (whole objects missed or invented)",
        ),
    ];
    let Some(d) = c.delta("all", "all", None) else {
        return;
    };
    let get = |arm: &str, stat: &str| {
        let s = find_summary(&r.summaries, arm, &c.corpus, "all", "all")?;
        let i = SUMMARY_COLUMNS.iter().position(|col| col.name == stat)?;
        s.stats()[i]
    };
    let mut rows = Vec::new();
    let mut largest: Option<(f64, &str)> = None;
    for (stat, label) in KINDS {
        let change = d.deltas.get(stat).copied().flatten();
        if let Some(x) = change {
            if largest.is_none_or(|(l, _)| x.abs() > l.abs()) {
                largest = Some((x, label));
            }
        }
        // Four decimals throughout: segment errors are often a few ten-thousandths.
        let ci = match d.ci95.get(stat).copied().flatten() {
            Some([lo, hi]) => format!(" [{}, {}]", fixed(Some(lo), 4), fixed(Some(hi), 4)),
            None => String::new(),
        };
        rows.push(vec![
            cell(label.into()),
            cell(fixed(get(&c.baseline, stat), 4)),
            cell(fixed(get(&c.arm, stat), 4)),
            cell(format!("{}{ci}", signed4(change))),
        ]);
    }
    blocks.push(heading(
        3,
        concat(vec![
            vec![plain("Error anatomy: ")],
            versus(&c.arm, &c.baseline),
        ]),
    ));
    let mut sentence = vec![plain(
        "Each sample's wrong pixels (FP ∪ FN) as shares of the union, per kind; the three sum to 1 − IoU.",
    )];
    if let Some((x, label)) = largest.filter(|(x, _)| *x != 0.0) {
        sentence.extend(concat(vec![
            vec![plain(" The largest change for ")],
            vec![text(c.arm.as_str())],
            vec![plain(format!(
                " is in {label}: {} ({}).",
                signed4(Some(x)),
                if x > 0.0 { "more error" } else { "less error" }
            ))],
        ]));
    }
    blocks.push(paragraph(sentence));
    blocks.push(table(
        vec![
            vec![plain("kind")],
            vec![text(c.baseline.as_str())],
            vec![text(c.arm.as_str())],
            vec![plain("Δ [95% CI]")],
        ],
        1,
        rows,
    ));
}

/// A signed change with four decimals ("+0.0002", "-0.0670", "0.0000").
fn signed4(v: Option<f64>) -> String {
    match v {
        Some(x) if x > 0.0 => format!("+{}", fixed(Some(x), 4)),
        other => fixed(other, 4),
    }
}

/// The slice bins where the arm does worst against the baseline, found from sample
/// properties nobody tagged, with a whisker plot per property in HTML.
fn weak_slices(blocks: &mut Vec<Block>, r: &Report, c: &Comparison) {
    let worst: Vec<&crate::slices::WeakSlice> = (r.weak_slices.iter())
        .filter(|w| w.arm == c.arm && w.corpus == c.corpus)
        .collect();
    if worst.is_empty() {
        return;
    }
    let label_of = |name: &str| {
        crate::score::properties::PROPERTIES
            .iter()
            .find(|p| p.name == name)
    };
    let range = |name: &str, min: f64, max: f64| {
        let d = label_of(name).map_or(3, |p| p.decimals);
        match min == max {
            true => fixed(Some(min), d),
            false => format!("{}–{}", fixed(Some(min), d), fixed(Some(max), d)),
        }
    };
    let tested = worst[0].tested;
    blocks.push(heading(
        3,
        concat(vec![
            vec![plain("Weak slices: ")],
            versus(&c.arm, &c.baseline),
        ]),
    ));
    blocks.push(paragraph(vec![
        plain(format!(
            "Every sample property cut into up to {} quantile bins; the {} bins (of {tested} tested) with the lowest paired Δ mean mIoU, with the paired bootstrap 95% interval and Wilcoxon's p adjusted by Holm across all {tested}. A criterion checks every bin of a property with ",
            r.settings.slices.bins,
            worst.len()
        )),
        code("per = \"slice:<property>\""),
        plain("."),
    ]));
    blocks.push(table(
        plain_headers(&[
            "property",
            "bin",
            "values",
            "n",
            "Δ mIoU [95% CI]",
            "p (Holm)",
        ]),
        3,
        worst
            .iter()
            .map(|w| {
                vec![
                    cell(label_of(w.property).map_or(w.property, |p| p.label).into()),
                    cell(w.group.clone()),
                    cell(range(w.property, w.min, w.max)),
                    cell(w.n.to_string()),
                    cell(with_ci(Some(w.delta), w.ci95)),
                    cell(crate::fmt::sig(w.p_holm)),
                ]
            })
            .collect(),
    ));
    // A plot per property that has a listed bin: every bin's Δ with its interval.
    let mut figures = Vec::new();
    for b in (r.slices.iter()).filter(|b| b.corpus == c.corpus) {
        if !worst.iter().any(|w| w.property == b.property) {
            continue;
        }
        let rows = (b.bins.iter())
            .filter_map(|bin| {
                let d = (c.summary_deltas.iter())
                    .find(|d| d.group_by == b.group_by && d.group == bin.group)?;
                Some(WhiskerRow {
                    label: format!("{} {}", bin.group, range(b.property, bin.min, bin.max)),
                    n: bin.n,
                    delta: d.deltas.get("miou_mean").copied().flatten(),
                    ci95: d.ci95.get("miou_mean").copied().flatten(),
                })
            })
            .collect();
        figures.push((
            Chart::Whiskers {
                rows,
                colour: arm_colour(r, &c.arm),
            },
            vec![plain(format!(
                "{}: Δ mean mIoU per bin with its 95% interval.",
                label_of(b.property).map_or(b.property, |p| p.label)
            ))],
        ));
    }
    if !figures.is_empty() {
        blocks.push(Block::Figures(figures));
    }
}

/// Samples whose label every arm disputes: a label-review queue.
fn suspects(blocks: &mut Vec<Block>, r: &Report) {
    if r.arms.len() < 2 {
        return;
    }
    let s = &r.settings.suspects;
    blocks.push(Block::Heading {
        level: 2,
        id: Some("suspects".into()),
        text: vec![plain(format!("Suspect labels ({})", r.suspects.len()))],
    });
    let rule = format!(
        "every pair of arms agrees (mask IoU ≥ {}) while every arm scores mIoU ≤ {} against the ground truth",
        crate::fmt::num(s.agreement),
        crate::fmt::num(s.truth_iou)
    );
    if r.suspects.is_empty() {
        blocks.push(paragraph(vec![plain(format!("No sample where {rule}."))]));
        return;
    }
    let fate = if r.suspects_excluded {
        format!(
            "These {} samples were left out of the aggregates, comparisons and verdict (exclude_suspects = true).",
            r.suspects.len()
        )
    } else {
        "They count like any other sample; exclude_suspects = true leaves them out of the verdict."
            .to_string()
    };
    blocks.push(paragraph(vec![plain(format!(
        "Samples where {rule}: the label is the likelier error. {fate}"
    ))]));
    let mut header = vec![
        vec![plain("corpus")],
        vec![plain("sample")],
        vec![plain("photo")],
        vec![plain("arm agreement")],
    ];
    header.extend(
        r.arms
            .iter()
            .map(|a| vec![plain("mIoU "), text(a.as_str())]),
    );
    blocks.push(table(
        header,
        3,
        r.suspects
            .iter()
            .map(|x| {
                let mut row = vec![
                    vec![text(x.corpus.as_str())],
                    vec![text(x.id.as_str())],
                    vec![code(hash_prefix(&x.hash))],
                    cell(fixed(Some(x.agreement), 3)),
                ];
                row.extend(
                    r.arms
                        .iter()
                        .map(|a| cell(fixed(x.miou.get(a).copied(), 3))),
                );
                row
            })
            .collect(),
    ));
}

/// The paired tests of each scope, beside the bootstrap: Wilcoxon signed-rank, the
/// Hodges–Lehmann shift with its interval, and McNemar's test on the pass/fail flips at τ.
fn paired_tests(blocks: &mut Vec<Block>, c: &Comparison) {
    if c.paired_tests.is_empty() {
        return;
    }
    let rows = c
        .paired_tests
        .iter()
        // Slice bins have their own section (the weakest, with Holm's adjustment), and a
        // grouping with one group in this corpus would repeat the `all` row.
        .filter(|t| crate::score::properties::by_grouping(&t.group_by).is_none())
        .filter(|t| {
            t.group_by == "all"
                || (c.paired_tests.iter())
                    .filter(|o| o.group_by == t.group_by)
                    .nth(1)
                    .is_some()
        })
        .map(|t| {
            let scope = if t.group_by == "all" {
                "all".to_string()
            } else {
                format!("{}={}", t.group_by, t.group)
            };
            let wilcoxon = match (t.wilcoxon_p, t.wilcoxon_method) {
                (Some(p), Some(m)) => format!("{} ({m})", crate::fmt::sig(p)),
                _ => "no difference".to_string(),
            };
            vec![
                vec![text(scope.as_str())],
                cell(t.n.to_string()),
                cell(wilcoxon),
                cell(with_ci(t.hodges_lehmann, t.hodges_lehmann_ci95)),
                cell(format!("{} / {}", t.pass_to_fail, t.fail_to_pass)),
                cell(crate::fmt::sig(t.mcnemar_p)),
            ]
        })
        .collect();
    blocks.push(Block::Details {
        summary: concat(vec![
            vec![plain("Paired tests per group, ")],
            minus(&c.arm, &c.baseline),
            vec![plain(" (p-values as scipy.stats computes them)")],
        ]),
        blocks: vec![table(
            plain_headers(&[
                "scope",
                "n",
                "Wilcoxon p",
                "Hodges–Lehmann shift [95% CI]",
                "pass→fail / fail→pass",
                "McNemar p",
            ]),
            1,
            rows,
        )],
    });
}

/// Failed samples listed per arm, at most this many each (`samples.jsonl` has every one).
const FAILED_SHOWN: usize = 20;
/// A note's characters a ranked table shows; the page shows the rest on hover.
const NOTES_SHOWN: usize = 60;

/// A corpus's failed samples with the message the terminal showed for them
/// ([`crate::model::FailReason::message`]): reason, what failed, what to do.
fn failed_samples(blocks: &mut Vec<Block>, r: &Report, corpus: &str) {
    let failed: Vec<_> = r
        .samples
        .iter()
        .filter(|s| *s.corpus == *corpus)
        .filter_map(|s| Some((s, s.fail_reason?)))
        .collect();
    if failed.is_empty() {
        return;
    }
    blocks.push(heading(
        3,
        vec![plain(format!("Failed samples ({})", failed.len()))],
    ));
    let mut rows = Vec::new();
    for arm in &r.arms {
        let of_arm: Vec<_> = failed.iter().filter(|(s, _)| *s.arm == **arm).collect();
        for (s, reason) in of_arm.iter().take(FAILED_SHOWN) {
            rows.push(vec![
                vec![text(arm.as_str())],
                vec![text(s.id.as_str())],
                vec![text(reason.message(s.fail_detail.as_deref()))],
            ]);
        }
        if of_arm.len() > FAILED_SHOWN {
            rows.push(vec![
                vec![text(arm.as_str())],
                vec![plain(format!("… and {} more", of_arm.len() - FAILED_SHOWN))],
                vec![plain("samples.jsonl lists every one")],
            ]);
        }
    }
    blocks.push(table(plain_headers(&["arm", "sample", "message"]), 3, rows));
}

fn overall(blocks: &mut Vec<Block>, r: &Report, corpus: &str) {
    let base = &r.settings.baseline;
    let others: Vec<&String> = r.arms.iter().filter(|a| *a != base).collect();
    let mut header = vec![
        vec![plain("metric")],
        vec![text(base.as_str()), plain(" (baseline)")],
    ];
    for a in &others {
        header.push(vec![text(a.as_str())]);
        header.push(vec![plain("Δ "), text(a.as_str()), plain(" [95% CI]")]);
    }
    let get = |arm: &str| find_summary(&r.summaries, arm, corpus, "all", "all");
    let ci = |arm: &str, stat: &str| {
        r.comparisons
            .iter()
            .find(|c| c.arm == arm && c.corpus == corpus)
            .and_then(|c| c.delta("all", "all", None))
            .and_then(|d| d.ci95.get(stat).copied().flatten())
    };
    let Some(b) = get(base) else { return };
    // Each arm's summary and statistics, looked up once for every row of the table.
    let arms: Vec<_> = others
        .iter()
        .map(|a| {
            let s = get(a);
            (a, s, s.map(|s| s.stats()))
        })
        .collect();
    let mut rows = vec![{
        let mut row = vec![cell("samples".into()), cell(b.n.to_string())];
        for (_, s, _) in &arms {
            row.push(cell(s.map_or_else(|| "-".into(), |s| s.n.to_string())));
            row.push(vec![]);
        }
        row
    }];
    let base_stats = b.stats();
    for (i, col) in SUMMARY_COLUMNS.iter().enumerate() {
        let mut row = vec![
            cell(col.label.into()),
            cell(fixed(base_stats[i], col.decimals)),
        ];
        for (a, _, stats) in &arms {
            let v = stats.and_then(|s| s[i]);
            row.push(cell(fixed(v, col.decimals)));
            row.push(cell(with_ci(
                v.zip(base_stats[i]).map(|(x, y)| x - y),
                ci(a, col.name),
            )));
        }
        rows.push(row);
    }
    for (code_name, &base_rate) in &b.fail_rates {
        let rate = |s: &Option<&crate::aggregate::SummaryRow>| {
            s.and_then(|s| s.fail_rates.get(code_name).copied())
        };
        let any = base_rate > 0.0
            || arms
                .iter()
                .any(|(_, s, _)| rate(s).is_some_and(|v| v > 0.0));
        if !any {
            continue;
        }
        let mut row = vec![
            cell(format!("{code_name} rate")),
            cell(short(Some(base_rate))),
        ];
        for (_, s, _) in &arms {
            let v = rate(s);
            row.push(cell(short(v)));
            row.push(cell(delta(v.map(|x| x - base_rate))));
        }
        rows.push(row);
    }
    blocks.push(heading(
        3,
        vec![plain(format!(
            "Overall ({} vs baseline)",
            if others.len() == 1 { "arm" } else { "arms" }
        ))],
    ));
    blocks.push(table(header, 1, rows));
}

/// Per-sample mIoU of `arm` on `corpus`, by sample id.
fn mious<'a>(r: &'a Report, arm: &str, corpus: &str) -> Vec<(&'a str, f64)> {
    r.samples
        .iter()
        .filter(|s| *s.arm == *arm && *s.corpus == *corpus)
        .filter_map(|s| Some((s.id.as_str(), s.miou()?)))
        .collect()
}

fn arm_colour(r: &Report, arm: &str) -> &'static str {
    chart::colour(r.arms.iter().position(|a| a == arm).unwrap_or(0))
}

/// Empirical CDF of per-sample mIoU, one step line per arm.
fn ecdf(r: &Report, corpus: &str) -> Chart {
    let series = r
        .arms
        .iter()
        .filter_map(|arm| {
            let mut v: Vec<f64> = mious(r, arm, corpus).into_iter().map(|x| x.1).collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            let n = v.len() as f64;
            Some(Series {
                name: arm.clone(),
                colour: arm_colour(r, arm),
                shape: Shape::Steps,
                points: v
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (*t, (i + 1) as f64 / n))
                    .collect(),
            })
        })
        .collect();
    Chart::Plot(Plot {
        label: "ECDF of per-sample mIoU".into(),
        width: 420.0,
        height: 270.0,
        x_title: "mIoU".into(),
        y_title: "share of samples ≤ x".into(),
        x_ticks: XTicks::Unit,
        legend: Legend::Inside,
        diagonal: false,
        series,
    })
}

/// Baseline mIoU (x) against the arm's (y), one dot per sample both scored.
fn paired(r: &Report, c: &Comparison) -> Chart {
    let base: std::collections::BTreeMap<&str, f64> =
        mious(r, &c.baseline, &c.corpus).into_iter().collect();
    let points = mious(r, &c.arm, &c.corpus)
        .into_iter()
        .filter_map(|(id, y)| Some((*base.get(id)?, y)))
        .collect();
    Chart::Plot(Plot {
        label: "paired per-sample mIoU".into(),
        width: 300.0,
        height: 300.0,
        x_title: c.baseline.clone(),
        y_title: c.arm.clone(),
        x_ticks: XTicks::Unit,
        legend: Legend::None,
        diagonal: true,
        series: vec![Series {
            name: c.arm.clone(),
            colour: arm_colour(r, &c.arm),
            shape: Shape::Dots,
            points,
        }],
    })
}

/// Region × class overlap means, one column per arm (lower is better for every built-in one).
fn overlaps(blocks: &mut Vec<Block>, r: &Report, corpus: &str) {
    let rows: Vec<_> = r.overlaps.iter().filter(|o| o.corpus == corpus).collect();
    if rows.is_empty() {
        return;
    }
    let mut measures: Vec<&str> = rows.iter().map(|o| o.measure.as_str()).collect();
    measures.sort_unstable();
    measures.dedup();
    let mut header = vec![vec![plain("overlap (mean share)")]];
    header.extend(r.arms.iter().map(|a| vec![text(a.as_str())]));
    let body = measures
        .iter()
        .map(|m| {
            let mut row = vec![vec![code(*m)]];
            row.extend(r.arms.iter().map(|a| {
                cell(
                    rows.iter()
                        .find(|o| o.arm == *a && o.measure == *m)
                        .and_then(|o| o.mean.map(|v| format!("{} (n={})", short(Some(v)), o.n)))
                        .unwrap_or_else(|| "–".into()),
                )
            }));
            row
        })
        .collect();
    blocks.push(heading(3, vec![plain("Region overlaps")]));
    blocks.push(table(header, 1, body));
}

/// COCOeval's 12 numbers per arm (every class, then each), and each comparison's Δ mAP.
fn instance_metrics(blocks: &mut Vec<Block>, r: &Report, corpus: &str) {
    use crate::aggregate::{ALL_CLASSES, INSTANCE_LABELS};
    let rows: Vec<_> = (r.instances.iter())
        .filter(|i| i.corpus == corpus && i.group_by == "all")
        .collect();
    if rows.is_empty() {
        return;
    }
    blocks.push(heading(3, vec![plain("Instance metrics (mask AP/AR)")]));
    blocks.push(paragraph(vec![plain(
        "COCOeval's segmentation numbers, as pycocotools computes them: IoU thresholds 0.50:0.05:0.95, 101-point interpolated precision, at most 100 detections an image and class, areas small < 32², medium < 96², large; crowds ignored. AP is the mean over the classes with a ground truth (\"all\"); a dash is a number COCOeval leaves at −1.",
    )]));
    let mut header = plain_headers(&["arm", "class", "images", "instances", "detections"]);
    header.extend(INSTANCE_LABELS.iter().map(|l| vec![plain(*l)]));
    let body = rows
        .iter()
        .map(|i| {
            let mut row = vec![
                vec![text(i.arm.as_str())],
                match i.class.as_str() {
                    ALL_CLASSES => vec![plain("all")],
                    c => vec![text(c)],
                },
                cell(i.images.to_string()),
                cell(i.gts.to_string()),
                cell(i.dts.to_string()),
            ];
            row.extend(i.stats.iter().map(|v| cell(fixed(*v, 3))));
            row
        })
        .collect();
    blocks.push(table(header, 2, body));
    for c in r.comparisons.iter().filter(|c| c.corpus == corpus) {
        let Some(d) = c.delta("all", "all", None) else {
            continue;
        };
        let Some(map) = d.deltas.get("map").copied() else {
            continue;
        };
        let ci = d.ci95.get("map").copied().flatten();
        let n = rows
            .iter()
            .find(|i| i.arm == c.arm && i.class == ALL_CLASSES)
            .map_or(0, |i| i.images);
        blocks.push(paragraph(concat(vec![
            vec![plain("Δ mask AP (")],
            minus(&c.arm, &c.baseline),
            vec![plain(format!(
                "): {} over {n} images (paired bootstrap over images, 95%).",
                with_ci(map, ci)
            ))],
        ])));
    }
}

fn per_class(blocks: &mut Vec<Block>, r: &Report, c: &Comparison) {
    let (base, arm) = (&c.baseline, &c.arm);
    let stats: Vec<&StatColumn> = [
        "iou_mean",
        "leakage_mean",
        "coverage_mean",
        "boundary_iou_mean",
    ]
    .iter()
    .filter_map(|name| column(name))
    .collect();
    let mut header = plain_headers(&["class", "n"]);
    for label in stats.iter().map(|c| c.label) {
        header.push(vec![plain(format!("{label} ")), text(base.as_str())]);
        header.push(vec![plain(format!("{label} ")), text(arm.as_str())]);
        header.push(vec![plain(format!("Δ {label}"))]);
    }
    let classes: Vec<&String> = r
        .corpora
        .iter()
        .filter(|k| k.name == c.corpus)
        .flat_map(|k| &k.classes)
        .collect();
    let mut rows = Vec::new();
    let mut whiskers = Vec::new();
    for class in classes {
        let (Some(b), Some(a)) = (
            find_row(&r.metrics, base, &c.corpus, "all", "all", class),
            find_row(&r.metrics, arm, &c.corpus, "all", "all", class),
        ) else {
            continue;
        };
        let mut row = vec![vec![text(class.as_str())], cell(a.n.to_string())];
        for col in &stats {
            let (vb, va) = (b.stat(col.name).flatten(), a.stat(col.name).flatten());
            row.push(cell(fixed(vb, col.decimals)));
            row.push(cell(fixed(va, col.decimals)));
            row.push(cell(delta(va.zip(vb).map(|(x, y)| x - y))));
        }
        rows.push(row);
        if let Some(d) = c.delta("all", "all", Some(class)) {
            whiskers.push(WhiskerRow {
                label: class.clone(),
                n: a.n,
                delta: d.deltas.get("iou_mean").copied().flatten(),
                ci95: d.ci95.get("iou_mean").copied().flatten(),
            });
        }
    }
    blocks.push(heading(
        3,
        concat(vec![vec![plain("Per class: ")], versus(arm, base)]),
    ));
    blocks.push(table(header, 1, rows));
    let mut figures = vec![(
        paired(r, c),
        vec![
            plain("Paired by sample: "),
            text(base.as_str()),
            plain(" (x) against "),
            text(arm.as_str()),
            plain(" (y); above the diagonal "),
            text(arm.as_str()),
            plain(" is better."),
        ],
    )];
    if !whiskers.is_empty() {
        figures.push((
            Chart::Whiskers {
                rows: whiskers,
                colour: arm_colour(r, arm),
            },
            concat(vec![
                vec![plain("Per class: Δ mean IoU (")],
                minus(arm, base),
                vec![plain(") with its paired bootstrap 95% interval.")],
            ]),
        ));
    }
    blocks.push(Block::Figures(figures));
}

fn by_group(blocks: &mut Vec<Block>, r: &Report, c: &Comparison, group_by: &str) {
    let groups: Vec<&String> = r
        .summaries
        .iter()
        .filter(|s| s.arm == c.baseline && s.corpus == c.corpus && s.group_by == group_by)
        .map(|s| &s.group)
        .collect();
    if groups.len() < 2 {
        return;
    }
    let named = |label: &str, arm: &str| vec![plain(format!("{label} ")), text(arm)];
    let header = vec![
        vec![text(group_by)],
        vec![plain("n")],
        named("mIoU", &c.baseline),
        named("mIoU", &c.arm),
        vec![plain("Δ mIoU")],
        named("pass rate", &c.baseline),
        named("pass rate", &c.arm),
        vec![plain("Δ pass rate")],
    ];
    let mut rows = Vec::new();
    let mut whiskers = Vec::new();
    for g in groups {
        let b = find_summary(&r.summaries, &c.baseline, &c.corpus, group_by, g);
        let a = find_summary(&r.summaries, &c.arm, &c.corpus, group_by, g);
        let (bm, am) = (b.and_then(|s| s.miou_mean), a.and_then(|s| s.miou_mean));
        let (bp, ap) = (b.and_then(|s| s.pass_rate), a.and_then(|s| s.pass_rate));
        rows.push(vec![
            vec![text(g.as_str())],
            cell(a.map(|s| s.n.to_string()).unwrap_or_default()),
            cell(short(bm)),
            cell(short(am)),
            cell(delta(am.zip(bm).map(|(x, y)| x - y))),
            cell(short(bp)),
            cell(short(ap)),
            cell(delta(ap.zip(bp).map(|(x, y)| x - y))),
        ]);
        if let Some(d) = c
            .summary_deltas
            .iter()
            .find(|d| d.group_by == group_by && d.group == *g)
        {
            whiskers.push(WhiskerRow {
                label: g.clone(),
                n: a.map_or(0, |s| s.n),
                delta: d.deltas.get("miou_mean").copied().flatten(),
                ci95: d.ci95.get("miou_mean").copied().flatten(),
            });
        }
    }
    blocks.push(heading(
        3,
        concat(vec![
            vec![plain("By "), text(group_by), plain(": ")],
            versus(&c.arm, &c.baseline),
        ]),
    ));
    blocks.push(table(header, 1, rows));
    if !whiskers.is_empty() {
        blocks.push(Block::Figures(vec![(
            Chart::Whiskers {
                rows: whiskers,
                colour: arm_colour(r, &c.arm),
            },
            vec![
                plain("By "),
                text(group_by),
                plain(": Δ mean mIoU with its paired bootstrap 95% interval (n = samples in the group)."),
            ],
        )]));
    }
}

fn ranked(
    blocks: &mut Vec<Block>,
    r: &Report,
    title: &str,
    kind: &str,
    c: &Comparison,
    list: &[RankedSample],
) {
    blocks.push(heading(
        3,
        concat(vec![
            vec![plain(format!("{title}: "))],
            versus(&c.arm, &c.baseline),
            vec![plain(format!(" (top {})", list.len()))],
        ]),
    ));
    if list.is_empty() {
        blocks.push(paragraph(vec![plain("None.")]));
        return;
    }
    // What the corpus says of a sample, each column only where a listed sample has it.
    let with_source = list.iter().any(|s| s.source.is_some());
    // `unclassified` beside every sample says nothing: the column shows only where a class matched.
    let with_class = (list.iter()).any(|s| {
        s.failure_class
            .as_deref()
            .is_some_and(|c| c != crate::taxonomy::UNCLASSIFIED)
    });
    let with_notes = list.iter().any(|s| s.notes.is_some());
    let mut headers = vec!["rank"];
    headers.extend(with_source.then_some("source"));
    headers.extend(["sample_hash", "id"]);
    headers.extend(with_class.then_some("failure class"));
    headers.extend(with_notes.then_some("notes"));
    let described = headers.len();
    headers.extend([
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
    ]);
    let mut cols = columns(plain_headers(&headers), described);
    let pictured = |s: &RankedSample| {
        r.gallery
            .iter()
            .find(|g| g.corpus == c.corpus && g.id == s.id && g.arm == c.arm && g.kind == kind)
    };
    let any_picture = list.iter().any(|s| pictured(s).is_some());
    if any_picture {
        cols.push(Column {
            header: vec![plain("picture")],
            align: Align::Left,
            pictures: true,
        });
    }
    let fail = |f: Option<crate::model::FailReason>| cell(f.map_or("-", |f| f.code()).into());
    let rows = list
        .iter()
        .map(|s| {
            let d = |k: &str| cell(delta(s.deltas.get(k).copied().flatten()));
            let id = match r.same_photo(&c.corpus, &s.id) {
                Some(others) => vec![
                    text(s.id.as_str()),
                    plain(" (same photo as "),
                    text(others.join(", ")),
                    plain(")"),
                ],
                None => vec![text(s.id.as_str())],
            };
            let picture = pictured(s).map_or_else(Vec::new, |g| {
                vec![Inline::Link {
                    text: vec![Inline::Image {
                        alt: vec![text(s.id.as_str())],
                        src: g.strip_png.clone(),
                    }],
                    href: g.strip_png.clone(),
                }]
            });
            let mut cells = vec![cell(s.rank.to_string())];
            if with_source {
                cells.push(vec![text(s.source.as_deref().unwrap_or("-"))]);
            }
            cells.extend([vec![code(s.hash.as_str())], id]);
            if with_class {
                cells.push(vec![text(s.failure_class.as_deref().unwrap_or("-"))]);
            }
            if with_notes {
                cells.push(vec![s
                    .notes
                    .as_deref()
                    .map_or_else(|| plain("-"), |n| shortened(n, NOTES_SHOWN))]);
            }
            cells.extend([
                cell(short(Some(s.miou_baseline))),
                cell(short(Some(s.miou_arm))),
                cell(delta(Some(s.miou_arm - s.miou_baseline))),
                d("leakage"),
                d("coverage"),
                d("boundary_iou"),
                fail(s.fail_reason_baseline),
                fail(s.fail_reason_arm),
                cell(s.gt_pixels.to_string()),
                cell(s.pred_pixels_baseline.to_string()),
                cell(s.pred_pixels_arm.to_string()),
                picture,
            ]);
            row(cells)
        })
        .collect();
    blocks.push(Block::Table(Table {
        columns: cols,
        rows,
    }));
}

/// Photos two corpora share, and evaluated photos of the training set: each with the samples
/// that hold it.
fn shared_photos(blocks: &mut Vec<Block>, r: &Report) {
    let s = &r.shared_photos;
    if s.unchecked() {
        return;
    }
    let n_between = s.between_corpora.len();
    let n_training = s.in_training.len();
    blocks.push(Block::Heading {
        level: 2,
        id: Some("shared-photos".into()),
        text: vec![plain(format!(
            "Shared photos ({n_between} between corpora, {n_training} of the training set)"
        ))],
    });
    let policy = match s.policy {
        crate::read::shared::Policy::Keep => {
            "They were scored in every corpus that holds them (overlap = \"keep\"); overlap = \"drop\" leaves them out of every corpus but the first, and \"refuse\" stops the run."
        }
        crate::read::shared::Policy::Drop => {
            "Every corpus but the first that holds a photo left it out, and photos of the training set were left out of every corpus (overlap = \"drop\"); the corpus sections list them."
        }
        crate::read::shared::Policy::Refuse => "The run refuses them (overlap = \"refuse\").",
    };
    let mut intro = vec![plain(
        "Byte-identical photos (same sha256) held by more than one corpus are counted in each, so those corpora are not independent samples; a photo the model was trained on measures memory, not generalisation. ",
    )];
    if let Some(m) = &s.training_manifest {
        intro.extend([plain("Training manifest: "), code(m.as_str()), plain(". ")]);
    }
    intro.push(plain(policy));
    blocks.push(paragraph(intro));
    let table = |list: &[crate::read::shared::SharedPhoto]| {
        Block::Table(Table {
            columns: columns(plain_headers(&["photo sha256", "samples (corpus: id)"]), 2),
            rows: list
                .iter()
                .map(|p| {
                    let mut held = Vec::new();
                    for (i, x) in p.samples.iter().enumerate() {
                        if i > 0 {
                            held.push(plain(" · "));
                        }
                        held.extend([code(x.corpus.as_str()), plain(": "), text(x.id.as_str())]);
                    }
                    row(vec![vec![code(hash_prefix(&p.sha256))], held])
                })
                .collect(),
        })
    };
    if n_between > 0 {
        blocks.push(heading(3, vec![plain("Between corpora")]));
        blocks.push(table(&s.between_corpora));
    }
    if n_training > 0 {
        blocks.push(heading(3, vec![plain("In the training set")]));
        blocks.push(table(&s.in_training));
    } else if s.training_manifest.is_some() {
        blocks.push(paragraph(vec![plain(
            "No evaluated photo is in the training manifest.",
        )]));
    }
}

fn unmatched(blocks: &mut Vec<Block>, r: &Report) {
    let unmatched: Vec<_> = r
        .unmatched_predictions
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if unmatched.is_empty() {
        return;
    }
    blocks.push(heading(
        2,
        vec![plain("Predictions without gold (not scored)")],
    ));
    blocks.push(Block::List(
        unmatched
            .into_iter()
            .map(|(arm, ids)| {
                let mut item = vec![code(arm.as_str()), plain(format!(": {} ids: ", ids.len()))];
                for (i, id) in ids.iter().take(20).enumerate() {
                    if i > 0 {
                        item.push(plain(", "));
                    }
                    item.push(text(id.as_str()));
                }
                if ids.len() > 20 {
                    item.push(plain(format!(" … and {} more", ids.len() - 20)));
                }
                item
            })
            .collect(),
    ));
}

fn groups(blocks: &mut Vec<Block>, r: &Report) {
    let Some(g) = &r.groups else { return };
    blocks.push(heading(2, vec![plain("Group metrics")]));
    let mut score = vec![plain("score = ")];
    for (i, (n, w, m)) in g.terms.iter().enumerate() {
        if i > 0 {
            score.push(plain(" "));
        }
        score.push(plain(format!(
            "{}{}·",
            if *w < 0.0 { "−" } else { "+" },
            short(Some(w.abs()))
        )));
        score.extend([text(n.as_str()), plain(" ("), text(m.as_str()), plain(")")]);
    }
    score.push(plain(
        ", each term the mean over its classes of that class aggregate.",
    ));
    blocks.push(paragraph(score));
    let multi = r.corpora.len() > 1;
    let mut header = vec![vec![plain("group")]];
    if multi {
        header.push(vec![plain("corpus")]);
    }
    header.extend(g.terms.iter().map(|(n, _, _)| vec![text(n.as_str())]));
    header.push(vec![plain("score")]);
    header.push(vec![plain("delta_vs_baseline")]);
    let rows = g
        .scores
        .iter()
        .map(|s| {
            let name = text(s.group.as_str());
            let mut row = vec![if Some(&s.group) == g.recommended_group.as_ref() {
                vec![Inline::Strong(vec![name])]
            } else {
                vec![name]
            }];
            if multi {
                row.push(vec![text(s.corpus.as_str())]);
            }
            row.extend(
                g.terms
                    .iter()
                    .map(|(n, _, _)| cell(short(s.terms.get(n).copied().flatten()))),
            );
            row.push(cell(short(s.score)));
            row.push(cell(delta(s.delta_vs_baseline)));
            row
        })
        .collect();
    blocks.push(table(header, 1, rows));
    blocks.push(heading(2, vec![plain("Recommendation")]));
    let mut items = vec![match &g.recommended_group {
        Some(x) => vec![plain("recommended_group: "), code(x.as_str())],
        None => vec![plain(
            "recommended_group: none (no group has a defined score)",
        )],
    }];
    items.push(vec![plain("rationale: "), text(g.rationale.as_str())]);
    if let Some(x) = g
        .recommended_group
        .as_ref()
        .filter(|x| **x != r.settings.baseline)
    {
        items.push(concat(vec![
            vec![
                plain("regressions of "),
                code(x.as_str()),
                plain(" against the baseline: the \"Top regressions: "),
            ],
            versus(x, &r.settings.baseline),
            vec![plain("\" table above")],
        ]));
    }
    blocks.push(Block::List(items));
}

fn gallery(blocks: &mut Vec<Block>, r: &Report) {
    if r.gallery.is_empty() {
        return;
    }
    blocks.push(Block::Heading {
        level: 2,
        id: Some("gallery".into()),
        text: vec![plain("Gallery")],
    });
    blocks.push(paragraph(vec![plain("Each strip: baseline | arm, each panel labelled with its arm, IoU and (on the arm) Δ. Legend: photo in dimmed grey; ground truth outlined in white; green = true positive (both), red = false positive (predicted, not in the ground truth), blue = false negative (ground truth missed).")]));
    blocks.push(Block::Pictures(
        r.gallery
            .iter()
            .map(|e| Picture {
                caption: concat(vec![
                    vec![
                        plain(format!("{} ", e.kind)),
                        code(e.hash.as_str()),
                        plain(" ("),
                        text(e.id.as_str()),
                        plain("), class "),
                        text(e.class.as_str()),
                        plain(format!(
                            ": IoU {} → {} (",
                            short(e.iou_baseline),
                            short(e.iou_arm)
                        )),
                    ],
                    versus(&e.arm, &e.baseline),
                    vec![
                        plain(") — "),
                        Inline::Link {
                            text: vec![plain("baseline")],
                            href: e.baseline_png.clone(),
                        },
                        plain(" · "),
                        Inline::Link {
                            text: vec![plain("arm")],
                            href: e.arm_png.clone(),
                        },
                    ],
                    said_of(r, e),
                ]),
                image: Inline::Image {
                    alt: vec![plain(format!("{} {}", e.kind, e.hash))],
                    src: e.strip_png.clone(),
                },
            })
            .collect(),
    ));
}

/// What the corpus says of a pictured sample: its source, the failure class with the rule that
/// gave it, and the reporter's notes.
fn said_of(r: &Report, e: &crate::gallery::GalleryEntry) -> Vec<Inline> {
    let Some(s) = crate::evaluation::find_sample(&r.samples, &e.arm, &e.corpus, &e.id) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(source) = &s.source {
        out.extend([plain(". Source: "), text(source.as_str())]);
    }
    // `unclassified` says nothing beside one sample (the corpus section counts them).
    if let Some(class) = s
        .failure_class
        .as_ref()
        .filter(|c| ***c != *crate::taxonomy::UNCLASSIFIED)
    {
        out.extend([plain(". Failure class "), text(&**class)]);
        match r
            .settings
            .failure_classes
            .iter()
            .find(|c| *c.name == **class)
        {
            Some(c) => out.extend([plain(" ("), text(c.rule.as_str()), plain(")")]),
            None => out.push(plain(" (no class's rule matched)")),
        }
    }
    if let Some(notes) = &s.notes {
        out.extend([plain(". Notes: "), shortened(notes, 400)]);
    }
    out
}

fn criteria(blocks: &mut Vec<Block>, r: &Report) {
    let Some(list) = &r.criteria else { return };
    blocks.push(Block::Heading {
        level: 2,
        id: Some("criteria".into()),
        text: vec![plain("Criteria")],
    });
    if let Some(f) = &r.settings.criteria_file {
        blocks.push(paragraph(vec![
            plain("From "),
            code(f.as_str()),
            plain(format!(" (τ = {}).", crate::fmt::num(r.settings.pass_iou))),
        ]));
    }
    let verdict = r.verdict();
    // Only what decided is marked: a deciding criterion and its failed checks, and on a go
    // the one check nearest its bound (not every check of its criterion).
    let deciding = |id: &str, status: Status| {
        let v = verdict.as_ref()?;
        (status != Status::Pass && v.deciding_criteria.iter().any(|d| d == id)).then_some(Tone::Bad)
    };
    let closest = |id: &str, k: &crate::decide::Check| {
        let v = verdict.as_ref()?;
        let c = v.closest.as_ref()?;
        let scope = crate::decide::scope_text(&k.corpus, &k.group_by, &k.group, k.class.as_deref());
        (c.criterion == id && c.scope == scope).then_some(Tone::Open)
    };
    let rows = list
        .iter()
        .map(|c| Row {
            cells: vec![
                vec![text(c.id.as_str())],
                vec![text(c.description.as_str())],
                vec![text(c.metric.as_str())],
                vec![text(c.arm.as_str())],
                vec![text(c.rule.as_str())],
                cell(c.checks.len().to_string()),
                vec![status_badge(c.status)],
                vec![text(c.reason.as_str())],
            ],
            criterion: Some(c.id.clone()),
            tone: deciding(&c.id, c.status),
        })
        .collect();
    blocks.push(Block::Table(Table {
        columns: columns(
            plain_headers(&[
                "criterion",
                "description",
                "metric",
                "arm",
                "rule",
                "checks",
                "status",
                "reason",
            ]),
            usize::MAX,
        ),
        rows,
    }));
    let checks: Vec<Row> = list
        .iter()
        .flat_map(|c| c.checks.iter().map(move |k| (c, k)))
        .map(|(c, k)| {
            let mut scope = vec![text(k.corpus.as_str())];
            if k.group_by != "all" {
                scope.extend([plain(", "), text(format!("{}={}", k.group_by, k.group))]);
            }
            if let Some(cl) = &k.class {
                scope.extend([plain(", "), text(cl.as_str())]);
            }
            Row {
                criterion: Some(c.id.clone()),
                tone: deciding(&c.id, k.status).or_else(|| closest(&c.id, k)),
                ..row(vec![
                    vec![text(c.id.as_str())],
                    scope,
                    cell(k.n.map_or("-".into(), |n| n.to_string())),
                    cell(short(k.value)),
                    cell(short(k.baseline)),
                    cell(delta(k.delta)),
                    cell(k.ci95.map_or(String::new(), |[lo, hi]| {
                        format!("[{}, {}]", short(Some(lo)), short(Some(hi)))
                    })),
                    cell(k.mde.map_or(String::new(), |m| short(Some(m)))),
                    cell(k.n_needed.map_or(String::new(), |n| n.to_string())),
                    vec![status_badge(k.status)],
                    vec![text(k.reason.as_str())],
                ])
            }
        })
        .collect();
    if !checks.is_empty() {
        let mut cols = columns(
            plain_headers(&[
                "criterion",
                "scope",
                "n",
                "value",
                "baseline",
                "Δ",
                "95% CI",
                "MDE (80% power)",
                "n to resolve",
            ]),
            2,
        );
        cols.extend(columns(plain_headers(&["status", "reason"]), usize::MAX));
        blocks.push(Block::Details {
            summary: vec![plain(format!("Every check ({})", checks.len()))],
            blocks: vec![Block::Table(Table {
                columns: cols,
                rows: checks,
            })],
        });
    }
    noise_flips(blocks, r);
}

/// Milliseconds (or MiB), to two decimals.
fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// What each model arm cost on this host: measurements, marked as such.
fn cost(blocks: &mut Vec<Block>, r: &Report) {
    let Some(c) = &r.cost else { return };
    blocks.push(Block::Heading {
        level: 2,
        id: Some("cost".into()),
        text: vec![plain("Cost")],
    });
    let h = &c.host;
    let threads = c
        .threads
        .map_or("one per core".to_string(), |t| t.to_string());
    blocks.push(paragraph(vec![
        plain("Measured on "),
        text(h.cpu.as_str()),
        plain(format!(
            " ({}, {}; {} cores; {} execution provider, ONNX Runtime {}; {threads} worker threads). Measurements vary from run to run: they are in cost.json and here, never in metrics.csv, samples.jsonl or report.json. Latency is one inference (input in, run, outputs out) after {} warm-up inferences; throughput = 1000 / mean latency, one session's, photo after photo (a light model may run a session per busy worker side by side); memory = the resident memory the first session's creation and its first inference added, each read around that work alone.",
            h.arch,
            if h.cpu_features.is_empty() { "no vector extensions".to_string() } else { h.cpu_features.join(", ") },
            h.cores,
            h.execution_provider,
            h.onnxruntime,
            c.warmup
        )),
    ]));
    let priced = c.price_per_hour.is_some();
    let mut headers = vec![
        "arm",
        "model MiB",
        "load ms",
        "timed",
        "from cache",
        "p50 ms [95% CI]",
        "p90 ms",
        "p95 ms [95% CI]",
        "p99 ms",
        "mean ms",
        "photos/s",
        "outside model ms",
        "memory MiB",
    ];
    if priced {
        headers.push("cost / 1,000 photos");
    }
    let with = |v: f64, ci: Option<[f64; 2]>| match ci {
        Some([lo, hi]) => format!("{v:.2} [{lo:.2}, {hi:.2}]"),
        None => format!("{v:.2}"),
    };
    let rows = c
        .arms
        .iter()
        .map(|a| {
            let l = a.latency.as_ref().or(a.cached_latency.as_ref());
            let mut cells = vec![
                vec![text(a.arm.as_str())],
                cell(format!("{:.2}", a.model_mb)),
                cell(ms(a.load_ms)),
                cell(a.measured.to_string()),
                cell(a.from_cache.to_string()),
                cell(l.map_or("-".into(), |l| with(l.p50_ms, l.p50_ci95))),
                cell(ms(l.map(|l| l.p90_ms))),
                cell(l.map_or("-".into(), |l| with(l.p95_ms, l.p95_ci95))),
                cell(ms(l.map(|l| l.p99_ms))),
                cell(ms(l.map(|l| l.mean_ms))),
                cell(ms(a.throughput_per_s)),
                cell(ms(a.outside_ms)),
                cell(ms(a.memory_peak_mb)),
            ];
            if priced {
                cells.push(cell(
                    a.cost_per_1000.map_or("-".into(), |v| format!("{v:.4}")),
                ));
            }
            cells
        })
        .collect();
    blocks.push(table(plain_headers(&headers), 1, rows));
    for a in &c.arms {
        let said = match a.timed_in.as_deref() {
            Some(crate::cost::THIS_RUN) => None,
            Some(run) => Some(format!(
                ": every latency comes from the prediction cache, timed on this host in run {run} ({} photos); latency criteria read them.",
                a.from_cache
            )),
            None if a.from_cache > 0 => Some(format!(
                ": {} latencies come from the prediction cache beside {} timed now ({} on another host): latencies of several runs, which no latency criterion reads (--no-cache times every photo in one run).",
                a.from_cache, a.measured, a.from_other_hosts
            )),
            None => None,
        };
        if let Some(said) = said {
            blocks.push(paragraph(vec![text(a.arm.as_str()), plain(said)]));
        }
        if !a.repeat_p50_ms.is_empty() {
            blocks.push(paragraph(vec![
                text(a.arm.as_str()),
                plain(format!(
                    ": p50 over the repeated subset, per round: {} ms (spread {} ms).",
                    a.repeat_p50_ms
                        .iter()
                        .map(|v| format!("{v:.2}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    ms(a.repeat_spread_ms)
                )),
            ]));
        }
    }
}

/// The checks inference noise could flip (the verdict's summary says how many, and of what).
fn noise_flips(blocks: &mut Vec<Block>, r: &Report) {
    let Some(n) = r.noise_check.as_ref().filter(|n| !n.flips.is_empty()) else {
        return;
    };
    blocks.push(heading(
        3,
        vec![plain(format!(
            "Checks inference noise could flip (ε = {})",
            crate::fmt::num(n.epsilon)
        ))],
    ));
    let rows = n
        .flips
        .iter()
        .map(|f| {
            row(vec![
                vec![text(f.criterion.as_str())],
                vec![text(f.scope.as_str())],
                vec![status_badge(f.from)],
                vec![status_badge(f.to)],
                vec![text(f.reason.as_str())],
            ])
        })
        .collect();
    blocks.push(Block::Table(Table {
        columns: columns(
            plain_headers(&[
                "criterion",
                "scope",
                "measured",
                "flipped",
                "flipped reason",
            ]),
            usize::MAX,
        ),
        rows,
    }));
}
