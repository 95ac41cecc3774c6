//! Trends across checkpoints: archived `report.json` files, in order of `generated_at`, as one
//! table per headline metric (mean mIoU and pass rate per corpus and arm), every criterion's
//! status per run, and the model hashes that identify each checkpoint by content. Writes
//! `trend.csv`, and `trend.md` and `trend.html` as one [`Document`] rendered like the report
//! (the HTML with a line plot per headline metric, drawn by [`crate::export::chart`]).

use crate::error::{Error, Result};
use crate::export::chart::{self, Chart, Legend, Plot, Series, Shape, XTicks};
use crate::export::document::{
    self, code, plain, text, Align, Block, Column, Document, Inline, Row, Table, Tone,
};
use crate::fmt::short;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The report schema versions this build reads.
pub const READABLE_SCHEMAS: &[u64] = &[crate::report::SCHEMA_VERSION as u64];

/// The headline metrics, as (summary field, label).
const HEADLINES: [(&str, &str); 2] = [("miou_mean", "mean mIoU"), ("pass_rate", "pass rate")];

/// One archived run.
#[derive(Debug)]
pub struct Run {
    pub file: String,
    pub run_id: String,
    pub generated_at: String,
    pub recommendation: String,
    /// (arm, sha256, file name) of every model the run loaded.
    pub models: Vec<(String, String, String)>,
    /// (corpus, arm, metric) → value.
    pub metrics: BTreeMap<(String, String, String), Option<f64>>,
    /// criterion id → status.
    pub criteria: BTreeMap<String, String>,
}

/// Folder levels [`find_reports`] descends below a folder it is given: archives are a few
/// levels deep, and a bound keeps a pathological tree from walking for ever.
pub const MAX_DEPTH: usize = 64;

/// `report.json` files named directly, or found under a folder (up to [`MAX_DEPTH`] levels),
/// sorted. Symlinked folders are not followed, so a link loop cannot list a report twice or
/// walk without end.
pub fn find_reports(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            let mut stack = vec![(p.clone(), 0usize)];
            while let Some((d, depth)) = stack.pop() {
                for e in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
                    let e = e.map_err(|e| Error::io(&d, e))?;
                    let path = e.path();
                    // The entry's own type: a symlink to a folder is a symlink, not a folder.
                    let ft = e.file_type().map_err(|e| Error::io(&path, e))?;
                    if ft.is_dir() {
                        if depth + 1 > MAX_DEPTH {
                            return Err(Error::file(
                                &path,
                                format!(
                                    "more than {MAX_DEPTH} folder levels below {}; name a folder nearer the reports",
                                    crate::fmt::clip_path(p)
                                ),
                            ));
                        }
                        stack.push((path, depth + 1));
                    } else if path.file_name().is_some_and(|n| n == "report.json") {
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(Error::Usage(
            "no report.json found in the given paths".into(),
        ));
    }
    Ok(out)
}

/// Reads one archived report; a report of another schema version is refused by name.
pub fn read_run(path: &Path) -> Result<Run> {
    let text = crate::limits::read_text(path)?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| Error::file(path, format!("not a maskgate report.json: {e}")))?;
    let version = v["schema_version"]
        .as_u64()
        .ok_or_else(|| Error::file(path, "no schema_version: not a maskgate report.json"))?;
    if !READABLE_SCHEMAS.contains(&version) {
        return Err(Error::file(
            path,
            format!(
                "report schema_version {version}; this maskgate reads {:?} (use the maskgate that wrote it)",
                READABLE_SCHEMAS
            ),
        ));
    }
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut metrics = BTreeMap::new();
    for row in v["summaries"].as_array().into_iter().flatten() {
        if row["group_by"] != "all" {
            continue;
        }
        for (field, _) in HEADLINES {
            metrics.insert(
                (s(&row["corpus"]), s(&row["arm"]), field.to_string()),
                row[field].as_f64(),
            );
        }
    }
    let models = v["run"]["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let role = i["role"].as_str()?;
            let file = s(&i["path"]);
            let name = file.rsplit('/').next().unwrap_or(&file).to_string();
            Some((
                role.strip_prefix("model ")?.to_string(),
                s(&i["sha256"]),
                name,
            ))
        })
        .collect();
    let criteria = v["criteria"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (s(&c["id"]), s(&c["status"])))
        .collect();
    Ok(Run {
        file: crate::pathnames::display(path),
        run_id: s(&v["run"]["run_id"]),
        generated_at: s(&v["run"]["generated_at"]),
        recommendation: v["recommendation"].as_str().unwrap_or("-").to_string(),
        models,
        metrics,
        criteria,
    })
}

/// Every series (corpus, arm) any run has, sorted.
fn series(runs: &[Run]) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = runs
        .iter()
        .flat_map(|r| r.metrics.keys().map(|(c, a, _)| (c.clone(), a.clone())))
        .collect();
    s.sort();
    s.dedup();
    s
}

fn criterion_ids(runs: &[Run]) -> Vec<String> {
    let mut ids: Vec<String> = runs
        .iter()
        .flat_map(|r| r.criteria.keys().cloned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Each model as `arm=file@sha-prefix`, marked `(changed)` where the arm's model differs from
/// the run before: a reader sees which checkpoint moved, by name and by content.
fn models_text(r: &Run, before: Option<&Run>) -> String {
    r.models
        .iter()
        .map(|(arm, sha, file)| {
            let changed = before
                .and_then(|b| b.models.iter().find(|(a, _, _)| a == arm))
                .is_some_and(|(_, old, _)| old != sha);
            format!(
                "{arm}={file}@{}{}",
                crate::fmt::hash_prefix(sha),
                if changed { " (changed)" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn csv(runs: &[Run]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "generated_at",
        "run_id",
        "recommendation",
        "corpus",
        "arm",
        "model_sha256",
        "metric",
        "value",
    ]);
    for r in runs {
        for ((corpus, arm, metric), value) in &r.metrics {
            let sha = r
                .models
                .iter()
                .find(|(a, _, _)| a == arm)
                .map_or("", |(_, s, _)| s.as_str());
            let _ = w.write_record([
                r.generated_at.as_str(),
                &r.run_id,
                &r.recommendation,
                corpus,
                arm,
                sha,
                metric,
                &crate::fmt::opt_num(*value),
            ]);
        }
        for (id, status) in &r.criteria {
            let _ = w.write_record([
                r.generated_at.as_str(),
                &r.run_id,
                &r.recommendation,
                "",
                "",
                "",
                &format!("criterion:{id}"),
                status,
            ]);
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// One line per (corpus, arm) over the runs, in run order: the shared chart code with the
/// numbers themselves, not their formatted text.
fn line_plot(runs: &[Run], series: &[(String, String)], field: &str) -> Chart {
    let last = runs.len().max(2) - 1;
    let lines = series
        .iter()
        .enumerate()
        .filter_map(|(k, (c, a))| {
            let points: Vec<(f64, f64)> = runs
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let v = r
                        .metrics
                        .get(&(c.clone(), a.clone(), field.to_string()))
                        .copied()
                        .flatten()?;
                    Some((i as f64 / last as f64, v))
                })
                .collect();
            (!points.is_empty()).then(|| Series {
                name: format!("{c} / {a}"),
                colour: chart::colour(k),
                shape: Shape::Line,
                points,
            })
        })
        .collect();
    Chart::Plot(Plot {
        label: field.to_string(),
        width: 640.0,
        height: 260.0,
        x_title: String::new(),
        y_title: String::new(),
        x_ticks: XTicks::Labels(runs.iter().map(|r| r.run_id.clone()).collect()),
        legend: Legend::Right,
        diagonal: false,
        series: lines,
    })
}

fn numeric(header: Vec<Inline>) -> Column {
    Column {
        header,
        align: Align::Right,
        pictures: false,
    }
}

fn words(header: Vec<Inline>) -> Column {
    Column {
        header,
        align: Align::Left,
        pictures: false,
    }
}

fn table(columns: Vec<Column>, rows: Vec<Vec<Vec<Inline>>>) -> Block {
    Block::Table(Table {
        columns,
        rows: rows
            .into_iter()
            .map(|cells| Row {
                cells,
                ..Row::default()
            })
            .collect(),
    })
}

/// A criterion's status as the report shows it (a badge), or the archived word as it is.
fn status(word: Option<&String>) -> Inline {
    let tone = match word.map(String::as_str) {
        Some("pass") => Tone::Good,
        Some("fail") => Tone::Bad,
        Some("inconclusive") => Tone::Open,
        Some(other) => return text(other),
        None => return plain("-"),
    };
    Inline::Badge(tone, word.cloned().unwrap_or_default())
}

/// The trend as one document, rendered to `trend.md` and `trend.html` like the report: every
/// sentence and table once, the line plots shown where the format can draw them.
pub fn document(runs: &[Run]) -> Document {
    let series = series(runs);
    let mut blocks = vec![
        Block::Heading {
            level: 1,
            id: None,
            text: vec![plain("maskgate trend")],
        },
        Block::Paragraph {
            id: None,
            text: vec![plain(format!(
                "{} runs in order of generated_at. Checkpoints are named by the sha256 of their model files.",
                runs.len()
            ))],
        },
        table(
            ["generated_at", "run", "recommendation", "models (file@sha256 prefix)", "report"]
                .map(|h| words(vec![plain(h)]))
                .into(),
            runs.iter()
                .enumerate()
                .map(|(i, r)| {
                    let before = i.checked_sub(1).map(|b| &runs[b]);
                    vec![
                        vec![text(r.generated_at.as_str())],
                        vec![text(r.run_id.as_str())],
                        vec![text(r.recommendation.as_str())],
                        vec![code(models_text(r, before))],
                        vec![code(r.file.as_str())],
                    ]
                })
                .collect(),
        ),
    ];
    for (field, label) in HEADLINES {
        blocks.push(Block::Heading {
            level: 2,
            id: None,
            text: vec![plain(label)],
        });
        let mut columns = vec![words(vec![plain("run")])];
        columns.extend(
            series
                .iter()
                .map(|(c, a)| numeric(vec![text(c.as_str()), plain(" / "), text(a.as_str())])),
        );
        let rows = runs
            .iter()
            .map(|r| {
                let mut row = vec![vec![text(r.run_id.as_str())]];
                row.extend(series.iter().map(|(c, a)| {
                    let v = r
                        .metrics
                        .get(&(c.clone(), a.clone(), field.to_string()))
                        .copied()
                        .flatten();
                    vec![plain(short(v))]
                }));
                row
            })
            .collect();
        blocks.push(table(columns, rows));
        blocks.push(Block::Figures(vec![(
            line_plot(runs, &series, field),
            vec![plain(format!("{label} of each corpus / arm, run by run."))],
        )]));
    }
    let ids = criterion_ids(runs);
    if !ids.is_empty() {
        blocks.push(Block::Heading {
            level: 2,
            id: None,
            text: vec![plain("Criteria")],
        });
        let mut columns = vec![words(vec![plain("run")])];
        columns.extend(ids.iter().map(|id| words(vec![text(id.as_str())])));
        let rows = runs
            .iter()
            .map(|r| {
                let mut row = vec![vec![text(r.run_id.as_str())]];
                row.extend(ids.iter().map(|id| vec![status(r.criteria.get(id))]));
                row
            })
            .collect();
        blocks.push(table(columns, rows));
    }
    Document {
        title: vec![plain("maskgate trend")],
        blocks,
    }
}

/// Reads the reports under `inputs`, orders them by `generated_at` (then run id, then file) and
/// writes `trend.csv`, `trend.md` and `trend.html` into `out`. Returns the files written.
pub fn write_trend(inputs: &[PathBuf], out: &Path) -> Result<Vec<PathBuf>> {
    let mut runs = find_reports(inputs)?
        .iter()
        .map(|p| read_run(p))
        .collect::<Result<Vec<_>>>()?;
    runs.sort_by(|a, b| {
        (&a.generated_at, &a.run_id, &a.file).cmp(&(&b.generated_at, &b.run_id, &b.file))
    });
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let trend = document(&runs);
    let mut written = Vec::new();
    for (name, text) in [
        ("trend.csv", csv(&runs)),
        ("trend.md", document::markdown::render(&trend)),
        ("trend.html", document::html::render(&trend)),
    ] {
        let path = out.join(name);
        crate::persist::write_atomically(&path, |w| w.write_all(text.as_bytes()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(at: &str, run: &str, miou: f64, status: &str, sha: &str) -> String {
        serde_json::json!({
            "schema_version": 1,
            "recommendation": if status == "pass" { "go" } else { "no-go" },
            "run": {"run_id": run, "generated_at": at, "inputs": [
                {"role": "model candidate", "path": "m.onnx", "sha256": sha}]},
            "summaries": [{"arm": "candidate", "corpus": "test", "group_by": "all", "group": "all",
                           "miou_mean": miou, "pass_rate": 0.5}],
            "criteria": [{"id": "mean<iou>", "status": status}]
        })
        .to_string()
    }

    #[test]
    fn runs_are_ordered_by_time_and_named_by_model_hash() {
        let d = tempfile::tempdir().unwrap();
        for (dir, at, run, miou, status, sha) in [
            ("b", "2026-02-01T00:00:00Z", "second", 0.9, "pass", "bbbb"),
            ("a", "2026-03-01T00:00:00Z", "third", 0.7, "fail", "cccc"),
            ("c", "2026-01-01T00:00:00Z", "first", 0.8, "pass", "aaaa"),
        ] {
            std::fs::create_dir_all(d.path().join(dir)).unwrap();
            std::fs::write(
                d.path().join(dir).join("report.json"),
                report(at, run, miou, status, sha),
            )
            .unwrap();
        }
        let out = d.path().join("out");
        let written = write_trend(&[d.path().to_path_buf()], &out).unwrap();
        assert_eq!(written.len(), 3);
        let csv = std::fs::read_to_string(out.join("trend.csv")).unwrap();
        let runs: Vec<&str> = csv
            .lines()
            .skip(1)
            .filter(|l| l.contains(",miou_mean,"))
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(runs, ["first", "second", "third"]);
        assert!(csv.contains("first,go,test,candidate,aaaa,miou_mean,0.8"));
        let md = std::fs::read_to_string(out.join("trend.md")).unwrap();
        // Each checkpoint by file and content; a model that moved since the run before says so.
        assert!(
            md.contains("`candidate=m.onnx@aaaa`")
                && md.contains("`candidate=m.onnx@cccc (changed)`")
                && md.contains("mean&lt;iou&gt;"),
            "{md}"
        );
        let html = std::fs::read_to_string(out.join("trend.html")).unwrap();
        assert!(html.contains("<polyline") && !html.contains("mean<iou>"));
        // One document: the same sentence and the same columns in both pages.
        let sentence = "3 runs in order of generated_at.";
        assert!(
            md.contains(sentence) && html.contains(sentence),
            "{md}\n{html}"
        );
        assert!(
            md.contains("| report |") && html.contains("<th>report</th>"),
            "{md}\n{html}"
        );
        let report = format!("a{}report.json", std::path::MAIN_SEPARATOR);
        assert!(md.contains(&report) && html.contains(&report), "{md}");
        assert!(
            md.contains("| **FAIL** |") && html.contains("<span class=\"badge bad\">FAIL</span>")
        );
        assert!(html.contains(&format!(
            "content=\"{}\"",
            crate::export::html::content_security_policy()
        )));
    }

    #[test]
    fn another_schema_version_is_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.json");
        std::fs::write(&p, r#"{"schema_version": 99}"#).unwrap();
        let e = read_run(&p).unwrap_err().to_string();
        assert!(e.contains("schema_version 99") && e.contains("[1]"), "{e}");
        std::fs::write(&p, "[1, 2]").unwrap();
        assert!(read_run(&p)
            .unwrap_err()
            .to_string()
            .contains("no schema_version"));
    }
}
