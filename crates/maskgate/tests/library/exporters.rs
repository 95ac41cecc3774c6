//! Every exporter, snapshot-tested on one small fixed report whose ids, class, arm, corpus and
//! run names carry hostile text (HTML, Markdown syntax, pipes, backticks, CR/LF). Review a
//! changed snapshot with `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use maskgate::compare::CompareSettings;
use maskgate::decide::criteria::CriteriaFile;
use maskgate::decide::decide;
use maskgate::evaluation::{evaluate, EvalInput};
use maskgate::export::exporters;
use maskgate::model::{sample_hash, MaskData, Prediction, Sample};
use maskgate::observe::Silent;
use maskgate::predict::Arm;
use maskgate::read::Corpus;
use maskgate::report::{InputFile, Report, ReportParts, RunMeta, Settings};
use maskgate::score::ScoreSettings;
use maskgate_core::Mask;
use std::collections::BTreeMap;
use std::path::Path;

const HOSTILE: &str = "<img src=x onerror=alert(1)>|`x`\r\n# [a](b)";
const CLASS: &str = "fg<b>|x";

/// Predicts the top `rows` rows of an 8×8 canvas.
struct TopRows {
    name: String,
    rows: u32,
}

impl Arm for TopRows {
    fn name(&self) -> &str {
        &self.name
    }
    fn predict(&self, _: &Sample, _: &maskgate::predict::image::SamplePhoto) -> Prediction {
        Prediction {
            masks: BTreeMap::from([(
                CLASS.to_string(),
                MaskData::Mask(Mask::from_fn(8, 8, |y, _| y < self.rows)),
            )]),
            ..Default::default()
        }
    }
}

fn report() -> Report {
    let corpus_name = "corpus\r\n<script>";
    let samples = (0..4)
        .map(|i| {
            let id = if i == 0 {
                HOSTILE.to_string()
            } else {
                format!("s{i}")
            };
            Sample {
                instances: None,
                hash: sample_hash(corpus_name, &id),
                id,
                source: Some(if i % 2 == 0 { "a|b" } else { "c`d" }.into()),
                image: None,
                size: (8, 8),
                gt: BTreeMap::from([(
                    CLASS.to_string(),
                    MaskData::Mask(Mask::from_fn(8, 8, |y, _| y < 3 + i % 2)),
                )]),
                void: None,
                fit_predictions: false,
                predicted_modules: None,
                notes: Some(format!("glare {HOSTILE}")),
                meta: Default::default(),
            }
        })
        .collect();
    // Held out, so the shared photo below is a warning in the verdict too.
    let mut corpus = Corpus::in_memory(corpus_name, samples);
    corpus.held_out = true;
    let corpora = [corpus];
    let base = TopRows {
        name: "base|<i>".into(),
        rows: 3,
    };
    let cand = TopRows {
        name: "cand`\r\n".into(),
        rows: 4,
    };
    let arms: [&dyn Arm; 2] = [&base, &cand];
    let criteria = CriteriaFile::parse(
        Path::new("c.toml"),
        "pass_iou = 0.8\n[[failure_class]]\nname = \"glare<x>\"\nnotes = \"glare\"\n\
         [[criterion]]\nid = \"mean-iou\"\narm = \"cand`\\r\\n\"\nmetric = \"iou.mean\"\nmin_gain = 0.05\n",
    )
    .unwrap();
    let compare = CompareSettings {
        top_k: 3,
        pass_iou: 0.8,
        resamples: 200,
        seed: 1,
        keep_draws: true,
    };
    let evaluation = evaluate(
        &EvalInput {
            corpora: &corpora,
            arms: &arms,
            variants: &[],
            baseline: "base|<i>",
            score: ScoreSettings::default(),
            compare,
            taxonomy: &criteria.taxonomy,
            saved: None,
            suspects: Default::default(),
            slices: Default::default(),
        },
        &Silent,
    );
    let verdict = decide(&evaluation, &criteria.criteria, &Default::default(), None);
    Report::assemble(
        evaluation,
        ReportParts {
            run: RunMeta {
                run_id: "run\r<h2>x</h2>".into(),
                generated_at: "2026-01-01T00:00:00Z\n# not a heading".into(),
                paths_relative_to: "the folder of the config <c>|.toml".into(),
                inputs: vec![InputFile {
                    role: "gold".into(),
                    path: "data/<g>|.ndjson".into(),
                    named: "data/<g>|.ndjson".into(),
                    sha256: "0123456789abcdef0123456789abcdef".into(),
                }],
            },
            settings: Settings::new(
                "base|<i>",
                &ScoreSettings::default(),
                &compare,
                Some("c.toml".into()),
                &criteria.taxonomy,
            ),
            arm_details: arms.iter().map(|a| a.describe()).collect(),
            unmatched_predictions: BTreeMap::new(),
            verdict: Some(verdict),
            groups: None,
            gallery: vec![],
            artifacts: maskgate::export::file_names(
                &exporters()
                    .iter()
                    .map(|e| e.name().to_string())
                    .collect::<Vec<_>>(),
            ),
            cost: None,
            shared_photos: {
                use maskgate::read::shared::{SampleRef, SharedPhoto, SharedPhotos};
                let at = |corpus: &str, id: &str| SampleRef {
                    corpus: corpus.into(),
                    id: id.into(),
                };
                SharedPhotos {
                    between_corpora: vec![SharedPhoto {
                        sha256: "ab".repeat(32),
                        samples: vec![at("corpus\r\n<script>", "a*1"), at("other", "<b>2")],
                    }],
                    training_manifest: Some("train/<t>|.txt".into()),
                    in_training: vec![SharedPhoto {
                        sha256: "cd".repeat(32),
                        samples: vec![at("other", "`3`")],
                    }],
                    ..Default::default()
                }
            },
        },
    )
}

fn written(name: &str) -> String {
    let r = report();
    let e = exporters().into_iter().find(|e| e.name() == name).unwrap();
    let mut out = Vec::new();
    e.write(&r, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn markdown_snapshot_escapes_every_user_string() {
    let md = written("md");
    // No user text can open an HTML element, break a line or a table row.
    assert!(!md.contains("<img") && !md.contains("<script") && !md.contains("<h2>"));
    assert!(!md.contains('\r'));
    assert!(!md.lines().any(|l| l.starts_with("# not a heading")));
    let last = md.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with(
            "recommendation: no-go — failed: mean-iou: iou.mean of cand\\`   on corpus  &lt;script&gt;"
        ),
        "{last}"
    );
    insta::assert_snapshot!("report.md", md);
}

#[test]
fn csv_snapshot_round_trips_hostile_text() {
    let csv = written("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header[..7],
        ["arm", "corpus", "group_by", "group", "class", "n", "n_empty"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(rows
        .iter()
        .any(|r| &r[0] == "cand`\r\n" && &r[1] == "corpus\r\n<script>" && &r[4] == CLASS));
    insta::assert_snapshot!("metrics.csv", csv);
}

#[test]
fn json_snapshots_parse_back() {
    let json = written("json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["run"]["run_id"], "run\r<h2>x</h2>");
    insta::assert_snapshot!("report.json", json);
    let jsonl = written("jsonl");
    for line in jsonl.lines() {
        let s: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(s["id"].is_string());
    }
    assert!(jsonl.contains(&serde_json::to_string(HOSTILE).unwrap()));
    insta::assert_snapshot!("samples.jsonl", jsonl);
}

#[test]
fn html_snapshot_escapes_every_user_string_and_loads_nothing() {
    let html = written("html");
    // The hostile id, class, corpus and arm names appear only as text.
    assert!(!html.contains("<img src=x"));
    for tag in html.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        assert!(
            !tag.contains("onerror"),
            "an element carries onerror: <{tag}>"
        );
    }
    assert!(!html.contains("<script") && !html.contains("<b>|x"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // No script, no remote resource: every src and href is a relative file of the run.
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains(&format!(
        "content=\"{}\"",
        maskgate::export::html::content_security_policy()
    )));
    assert!(html.contains("id=\"verdict\""));
    assert!(html.trim_end().ends_with("</html>"));
    insta::assert_snapshot!("report.html", html);
}

#[test]
fn one_quantity_shown_twice_has_one_interval() {
    // The fixture has one class, so a sample's mIoU is its class IoU: the overall table's
    // interval, the per-class one and the one a criterion reads must be the same numbers.
    let r = report();
    let c = &r.comparisons[0];
    let overall = c.delta("all", "all", None).unwrap().ci95["miou_mean"];
    let class = c.delta("all", "all", Some(CLASS)).unwrap().ci95["iou_mean"];
    assert!(overall.is_some());
    assert_eq!(overall, class);
}
