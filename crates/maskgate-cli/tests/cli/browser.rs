//! `report.html` in a real browser (Debian's headless Chromium through ChromeDriver, driven by
//! `tools/browser_check.py`), on a gate whose ids, class, source, run id and criterion text carry
//! HTML, script, CR/LF and Markdown; plus the CI outputs: JUnit XML parsed back, and the job
//! summary appended to GITHUB_STEP_SUMMARY. `scripts/test.sh` installs chromium and
//! chromium-driver; without them this test fails unless MASKGATE_SKIP_BROWSER=1.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const IDS: [&str; 4] = [
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "cr\r\nlf",
    "# [md](javascript:alert(3)) | `c`",
];
const CLASS: &str = "fg<b onmouseover=alert(4)>";
const RUN_ID: &str = "<img src=x onerror=alert(5)>";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("browser-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// COCO RLE (column-major) of the first `cols` columns of a 16×16 canvas.
fn left_cols(cols: u32) -> Value {
    serde_json::json!({"size": [16, 16], "counts": [0, cols * 16, (16 - cols) * 16]})
}

fn fixture(d: &Path) {
    let mut gold = String::new();
    let (mut base, mut cand) = (String::new(), String::new());
    for (i, id) in IDS.iter().enumerate() {
        let photo = format!("p{i}.png");
        image::RgbImage::from_fn(16, 16, |x, y| {
            image::Rgb([(x * 16) as u8, (y * 16) as u8, 200])
        })
        .save(d.join(&photo))
        .unwrap();
        let line = |cols: u32| {
            serde_json::json!({"id": id, "size": [16, 16], "masks": {CLASS: left_cols(cols)}})
                .to_string()
        };
        let mut g: Value = serde_json::json!({
            "id": id, "image": photo, "source": "<script>alert(6)</script>",
            "notes": "<img src=x onerror=alert(7)>", "size": [16, 16],
            "masks": {CLASS: left_cols(8)}
        });
        g["meta"] = serde_json::json!({"k": "</style><b>"});
        gold += &format!("{g}\n");
        base += &format!("{}\n", line(6));
        // Two better, two worse than the baseline.
        cand += &format!("{}\n", line([8, 7, 4, 3][i]));
    }
    std::fs::write(d.join("gold.ndjson"), gold).unwrap();
    std::fs::write(d.join("base.jsonl"), base).unwrap();
    std::fs::write(d.join("cand.jsonl"), cand).unwrap();
    std::fs::write(
        d.join("criteria.toml"),
        "pass_iou = 0.5\n\
         [[criterion]]\nid = \"passes\"\ndescription = \"<img src=x onerror=alert(8)> | **bold**\"\nmetric = \"pass_rate\"\narm = \"cand\"\nmin = 0.1\n\
         [[criterion]]\nid = \"gains\"\nmetric = \"iou.mean\"\narm = \"cand\"\nmin_gain = 0.5\n\
         [[criterion]]\nid = \"enough\"\nmetric = \"iou.mean\"\narm = \"cand\"\nmin = 0.1\nmin_n = 100\n",
    )
    .unwrap();
}

#[test]
fn report_html_renders_safely_in_chromium_and_ci_outputs_parse() {
    let d = tmp("gate");
    fixture(&d);
    let out = d.join("out");
    let summary = d.join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let res = Command::new(env!("CARGO_BIN_EXE_maskgate"))
        .current_dir(&d)
        .args([
            "compare",
            "--gold",
            "gold.ndjson",
            "--pred",
            "base=base.jsonl",
        ])
        .args(["--pred", "cand=cand.jsonl", "--baseline", "base"])
        .args([
            "--criteria",
            "criteria.toml",
            "--gallery",
            "2",
            "--out",
            "out",
        ])
        .args(["--run-id", RUN_ID, "--generated-at", "2026-01-01T00:00:00Z"])
        .args(["--junit", "junit.xml"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(
        res.status.code(),
        Some(1),
        "a failing criterion: no-go\n{stderr}"
    );

    // JUnit: one test case per criterion; the failing one a <failure>, the undecided <skipped>.
    let xml = std::fs::read_to_string(d.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert_eq!(names, ["passes", "gains", "enough"]);
    let child = |i: usize| {
        cases[i]
            .children()
            .find(|n| n.is_element() && !n.has_tag_name("system-out"))
            .map(|n| n.tag_name().name().to_string())
    };
    // Every check's line, with the paired-bootstrap interval of a check against the baseline.
    let out_of = |i: usize| {
        cases[i]
            .children()
            .find(|n| n.has_tag_name("system-out"))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_string()
    };
    assert!(out_of(1).contains(", 95% CI ["), "{}", out_of(1));
    assert!(out_of(1).contains(": fail, Δ "), "{}", out_of(1));
    assert_eq!(child(0), None);
    assert_eq!(child(1).as_deref(), Some("failure"));
    assert_eq!(child(2).as_deref(), Some("skipped"));
    let failure = cases[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(failure
        .attribute("message")
        .unwrap()
        .contains("min_gain 0.5"));
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(suite.attribute("skipped"), Some("1"));
    assert!(
        suite.attribute("name").unwrap().contains(RUN_ID),
        "the run id, unescaped by the parser"
    );

    // The job summary is appended, not overwritten.
    let s = std::fs::read_to_string(&summary).unwrap();
    assert!(s.starts_with("earlier step\n## maskgate"), "{s}");
    assert!(
        s.contains("No-go: 1 of 3 criteria fail; deciding: gains"),
        "{s}"
    );

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let gallery = report["gallery"].as_array().unwrap().len();
    assert!(
        gallery >= 2,
        "the fixture has regressions and improvements to picture"
    );

    let python = root().join("vendor/py/bin/python");
    let has_browser =
        Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists();
    if !has_browser {
        assert_eq!(
            std::env::var("MASKGATE_SKIP_BROWSER").as_deref(),
            Ok("1"),
            "no chromium/chromedriver: run `bash scripts/test.sh` (it installs them), or set MASKGATE_SKIP_BROWSER=1"
        );
        return;
    }
    let shot = d.join("screenshot.png");
    let check = |page: &Path, extra: &[&str]| {
        let o = Command::new(&python)
            .arg(root().join("tools/browser_check.py"))
            .arg(page)
            .arg("--screenshot")
            .arg(&shot)
            .args(extra)
            .output()
            .unwrap();
        let found: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stderr)));
        (o.status.code(), found)
    };
    // Each gallery picture appears twice: in the ranked table (thumbnail) and the gallery.
    let images = (2 * gallery).to_string();
    let (code, found) = check(
        &out.join("report.html"),
        &["--expect-images", &images, "--expect-criteria", "3"],
    );
    assert_eq!(code, Some(0), "{found}");
    // The page folds: every top-level section is in the contents and opens on its own; no
    // chart text is cut by its picture (checked with every section open, over real texts).
    let n = |k: &str| found[k].as_u64().unwrap_or_else(|| panic!("{k}: {found}"));
    assert!(n("sections") >= 4, "{found}");
    assert_eq!(n("contents_links"), n("sections"));
    assert_eq!(found["folds_that_do_not_open"], serde_json::json!([]));
    assert!(n("svg_texts") > 20, "{found}");
    assert_eq!(found["clipped_svg_text"], serde_json::json!([]));
    assert!(
        n("height_folded") < n("height_open") && n("height_folded") < 2500,
        "{found}"
    );
    assert!(found["verdict"]
        .as_str()
        .unwrap()
        .starts_with("No-go: 1 of 3 criteria fail"));
    assert!(found["last_line"]
        .as_str()
        .unwrap()
        .starts_with("recommendation: no-go"));
    assert_eq!(found["scripts"], 0);
    assert_eq!(found["event_handler_attributes"], serde_json::json!([]));
    assert_eq!(found["outside_requests"], serde_json::json!([]));
    assert_eq!(
        found["title"],
        format!("maskgate report {RUN_ID}"),
        "the run id is text"
    );
    // Not blank: many colours (text, tables, charts).
    let png = image::open(&shot).unwrap().to_rgb8();
    let colours: std::collections::BTreeSet<[u8; 3]> = png.pixels().map(|p| p.0).collect();
    assert!(
        colours.len() > 50,
        "screenshot looks blank: {} colours",
        colours.len()
    );

    // The demo's committed page (docs/examples/crop-gate/, regenerated with the code): every
    // picture loads, no chart text is cut, it opens at about two screens with its corpora
    // folded, and each section opens.
    let (code, demo) = check(
        &root().join("docs/examples/crop-gate/report.html"),
        &["--expect-criteria", "4"],
    );
    assert_eq!(code, Some(0), "{demo}");
    let n = |k: &str| demo[k].as_u64().unwrap_or_else(|| panic!("{k}: {demo}"));
    assert!(
        n("sections") >= 7 && n("svg_texts") > 100 && n("images") >= 8,
        "{demo}"
    );
    assert!(
        n("height_as_opened") < 3000 && n("height_open") > 4 * n("height_as_opened"),
        "{demo}"
    );

    // The checker itself catches what it is there to catch: a missing picture and a remote one.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let first_png = report["gallery"][0]["strip_png"].as_str().unwrap();
    std::fs::write(
        out.join("broken.html"),
        html.replacen(first_png, "gallery/missing.png", 2),
    )
    .unwrap();
    let (code, found) = check(&out.join("broken.html"), &[]);
    assert_eq!(code, Some(1), "{found}");
    std::fs::write(
        out.join("remote.html"),
        "<html><body><img src=\"https://maskgate.invalid/x.png\"></body></html>",
    )
    .unwrap();
    let (code, found) = check(&out.join("remote.html"), &[]);
    assert_eq!(code, Some(1), "{found}");
    assert_eq!(
        found["outside_requests"][0],
        "https://maskgate.invalid/x.png"
    );
}
