//! The verdict at every rule's boundary, on a corpus whose metrics are exact by construction.

use maskgate::compare::CompareSettings;
use maskgate::decide::criteria::CriteriaFile;
use maskgate::decide::{decide, Recommendation, Status};
use maskgate::evaluation::{evaluate, EvalInput};
use maskgate::model::{sample_hash, MaskData, Prediction, Sample};
use maskgate::observe::Silent;
use maskgate::predict::Arm;
use maskgate::read::Corpus;
use maskgate::report::{Report, ReportParts, RunMeta, Settings};
use maskgate::score::ScoreSettings;
use maskgate_core::Mask;
use std::collections::BTreeMap;
use std::path::Path;

/// Predicts the top `rows` rows of a 10×10 canvas for every sample (but sample `s4`, which
/// gets `s4_rows` when given).
struct TopRows {
    name: &'static str,
    rows: u32,
    s4_rows: Option<u32>,
}

impl Arm for TopRows {
    fn name(&self) -> &str {
        self.name
    }
    fn predict(&self, s: &Sample, _: &maskgate::predict::image::SamplePhoto) -> Prediction {
        let rows = match self.s4_rows {
            Some(r) if s.id == "s4" => r,
            _ => self.rows,
        };
        let m = Mask::from_fn(10, 10, |y, _| y < rows);
        Prediction {
            masks: BTreeMap::from([("fg".to_string(), MaskData::Mask(m))]),
            ..Default::default()
        }
    }
}

/// Five samples whose GT is the top 5 rows; sources alternate; notes drive failure classes.
fn corpus() -> Corpus {
    let gt = Mask::from_fn(10, 10, |y, _| y < 5);
    let samples = (0..5)
        .map(|i| Sample {
            instances: None,
            id: format!("s{i}"),
            hash: sample_hash("k", &format!("s{i}")),
            source: Some(if i % 2 == 0 { "even" } else { "odd" }.into()),
            image: None,
            size: (10, 10),
            gt: BTreeMap::from([("fg".to_string(), MaskData::Mask(gt.clone()))]),
            void: None,
            fit_predictions: false,
            predicted_modules: None,
            notes: Some(if i < 2 { "Glare on the rim" } else { "fine" }.into()),
            meta: Default::default(),
        })
        .collect();
    Corpus::in_memory("k", samples)
}

const TAXONOMY: &str = "[[failure_class]]\nname = \"glare\"\nnotes = \"glare\"\n";

fn run(criteria: &str, threads: usize) -> Report {
    run_rows(criteria, threads, 5, 4)
}

/// `run` with the arms' predicted row counts chosen: `base` predicts the top `base_rows` rows,
/// `cand` the top `cand_rows`.
fn run_rows(criteria: &str, threads: usize, base_rows: u32, cand_rows: u32) -> Report {
    run_arms(criteria, threads, base_rows, cand_rows, None)
}

/// `run_rows` with the candidate's sample `s4` predicting `cand_s4_rows` rows.
fn run_arms(
    criteria: &str,
    threads: usize,
    base_rows: u32,
    cand_rows: u32,
    cand_s4_rows: Option<u32>,
) -> Report {
    let text = format!("pass_iou = 0.8\n{TAXONOMY}\n{criteria}");
    let file = CriteriaFile::parse(Path::new("c.toml"), &text).expect("criteria parse");
    let (base, cand) = (
        TopRows {
            name: "base",
            rows: base_rows,
            s4_rows: None,
        },
        TopRows {
            name: "cand",
            rows: cand_rows,
            s4_rows: cand_s4_rows,
        },
    );
    let classes = BTreeMap::from([("k".to_string(), vec!["fg".to_string()])]);
    file.validate(&["base".into(), "cand".into()], "base", &classes)
        .expect("valid");
    let compare = CompareSettings {
        top_k: 5,
        pass_iou: 0.8,
        resamples: 500,
        seed: 3,
        keep_draws: true,
    };
    in_pool(threads, || {
        let evaluation = evaluate_arms(&[&base, &cand], &file.taxonomy, compare);
        let verdict = decide(&evaluation, &file.criteria, &Default::default(), None);
        let settings = Settings::new(
            "base",
            &ScoreSettings::default(),
            &compare,
            None,
            &[maskgate::taxonomy::FailureClass::new(
                "glare",
                Some("glare"),
                None,
                Default::default(),
            )
            .unwrap()],
        );
        Report::assemble(
            evaluation,
            ReportParts {
                run: RunMeta {
                    run_id: "t".into(),
                    generated_at: "t".into(),
                    paths_relative_to: "the working folder".into(),
                    inputs: vec![],
                },
                settings,
                arm_details: vec![],
                unmatched_predictions: BTreeMap::new(),
                verdict: Some(verdict),
                groups: None,
                gallery: vec![],
                artifacts: vec![],
                cost: None,
                shared_photos: Default::default(),
            },
        )
    })
}

/// Runs `f` on a pool of `threads` workers.
fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Evaluates `arms` (the first is the baseline, `base`) on [`corpus`].
fn evaluate_arms(
    arms: &[&dyn Arm],
    taxonomy: &[maskgate::taxonomy::FailureClass],
    compare: CompareSettings,
) -> maskgate::evaluation::Evaluation {
    evaluate(
        &EvalInput {
            corpora: &[corpus()],
            arms,
            variants: &[],
            baseline: "base",
            score: ScoreSettings::default(),
            compare,
            taxonomy,
            saved: None,
            suspects: Default::default(),
            slices: Default::default(),
        },
        &Silent,
    )
}

fn status(rule: &str) -> Status {
    status_rows(rule, 5, 4)
}

fn status_rows(rule: &str, base_rows: u32, cand_rows: u32) -> Status {
    let r = run_rows(
        &format!("[[criterion]]\nid = \"c\"\narm = \"cand\"\n{rule}\n"),
        1,
        base_rows,
        cand_rows,
    );
    r.criteria.unwrap()[0].status
}

#[test]
fn every_rule_at_and_past_its_bound() {
    // cand IoU is 0.8 on every sample, base 1.0: mean 0.8, drop 0.2, CI [-0.2, -0.2].
    let m = "metric = \"iou.mean\"\nclass = \"fg\"\n";
    assert_eq!(status(&format!("{m}min = 0.8")), Status::Pass);
    assert_eq!(status(&format!("{m}min = 0.80001")), Status::Fail);
    assert_eq!(status(&format!("{m}max = 0.8")), Status::Pass);
    assert_eq!(status(&format!("{m}max = 0.79999")), Status::Fail);
    assert_eq!(status(&format!("{m}max_drop = 0.2")), Status::Pass);
    assert_eq!(status(&format!("{m}max_drop = 0.19999")), Status::Fail);
    assert_eq!(status(&format!("{m}min_gain = -0.2")), Status::Pass);
    assert_eq!(status(&format!("{m}min_gain = -0.19999")), Status::Fail);
    assert_eq!(
        status(&format!("{m}noninferiority_margin = 0.2")),
        Status::Pass
    );
    assert_eq!(
        status(&format!("{m}noninferiority_margin = 0.19999")),
        Status::Fail
    );
    // Pass rate at τ = 0.8 from the file: every cand sample sits exactly on τ.
    assert_eq!(
        status("metric = \"pass_rate\"\nclass = \"fg\"\nmin = 1.0"),
        Status::Pass
    );
    // Whole-sample scope (no class): per-sample mIoU.
    assert_eq!(status("metric = \"iou.mean\"\nmin = 0.8"), Status::Pass);
}

#[test]
fn leakage_rules_treat_lower_as_better() {
    // GT is the top 5 rows of 10×10; an arm predicting the top r ≥ 5 rows has leakage
    // FP / (TP + FP) = 10(r − 5) / 10r on every sample: 6 rows → 1/6, 8 rows → 3/8.
    // Leakage rising from 1/6 to 3/8 is a drop of 3/8 − 1/6 = 5/24 ≈ 0.208333.
    let m = "metric = \"leakage.mean\"\nclass = \"fg\"\n";
    // cand (8 rows) leaks more than base (6 rows): worse by 5/24.
    assert_eq!(
        status_rows(&format!("{m}max_drop = 0.2084"), 6, 8),
        Status::Pass
    );
    assert_eq!(
        status_rows(&format!("{m}max_drop = 0.2083"), 6, 8),
        Status::Fail
    );
    assert_eq!(
        status_rows(&format!("{m}min_gain = 0.0"), 6, 8),
        Status::Fail
    );
    assert_eq!(
        status_rows(&format!("{m}min_gain = -0.2084"), 6, 8),
        Status::Pass
    );
    // The same pair swapped: cand (6 rows) leaks less, a gain of 5/24 and no drop.
    assert_eq!(
        status_rows(&format!("{m}max_drop = 0.0"), 8, 6),
        Status::Pass
    );
    assert_eq!(
        status_rows(&format!("{m}min_gain = 0.2083"), 8, 6),
        Status::Pass
    );
    assert_eq!(
        status_rows(&format!("{m}min_gain = 0.2084"), 8, 6),
        Status::Fail
    );
    // Absolute bounds read the arm's own leakage, 3/8 = 0.375 for 8 rows.
    assert_eq!(status_rows(&format!("{m}max = 0.375"), 6, 8), Status::Pass);
    assert_eq!(status_rows(&format!("{m}max = 0.3749"), 6, 8), Status::Fail);
}

#[test]
fn min_n_and_empty_scopes_are_inconclusive() {
    let m = "metric = \"iou.mean\"\nclass = \"fg\"\nmin = 0.5\n";
    assert_eq!(status(&format!("{m}min_n = 5")), Status::Pass);
    assert_eq!(status(&format!("{m}min_n = 6")), Status::Inconclusive);
    assert_eq!(
        status(&format!("{m}group_by = \"source\"\ngroup = \"nope\"")),
        Status::Inconclusive
    );
    assert_eq!(
        status(&format!(
            "{m}group_by = \"source\"\ngroup = \"odd\"\nmin_n = 3"
        )),
        Status::Inconclusive
    );
    assert_eq!(
        status(&format!(
            "{m}group_by = \"source\"\ngroup = \"even\"\nmin_n = 3"
        )),
        Status::Pass
    );
}

#[test]
fn per_failure_class_and_verdict() {
    let r = run(
        "[[criterion]]\nid = \"floor\"\narm = \"cand\"\nmetric = \"iou.mean\"\nclass = \"fg\"\nmin = 0.5\n\
         [[criterion]]\nid = \"fc\"\narm = \"cand\"\nmetric = \"iou.mean\"\nclass = \"fg\"\nper = \"failure_class\"\nmax_drop = 0.1\n\
         [[criterion]]\nid = \"later\"\narm = \"cand\"\nmetric = \"iou.mean\"\nmin = 0.9\n",
        1,
    );
    let crit = r.criteria.as_ref().unwrap();
    assert_eq!(
        crit[1]
            .checks
            .iter()
            .map(|c| c.group.as_str())
            .collect::<Vec<_>>(),
        ["glare", "unclassified"]
    );
    assert_eq!(crit[1].checks[0].n, Some(2));
    assert_eq!(r.recommendation, Some(Recommendation::NoGo));
    assert_eq!(
        r.deciding_criteria.as_deref(),
        Some(&["fc".to_string(), "later".to_string()][..])
    );
    let glare = r
        .metrics
        .iter()
        .find(|m| m.arm == "cand" && m.group_by == "failure_class" && m.group == "glare")
        .unwrap();
    assert_eq!(glare.n, 2);

    // A group the baseline has but the arm lacks is not silently passed.
    let mut partial = r.clone();
    partial
        .summaries
        .retain(|s| !(s.arm == "cand" && s.group == "glare"));
    partial
        .metrics
        .retain(|m| !(m.arm == "cand" && m.group == "glare"));
    let crits = CriteriaFile::parse(
        Path::new("c.toml"),
        &format!("{TAXONOMY}[[criterion]]\nid = \"fc\"\narm = \"cand\"\nmetric = \"iou.mean\"\nclass = \"fg\"\nper = \"failure_class\"\nmax_drop = 0.5\n"),
    )
    .unwrap();
    let v = decide(
        &partial.evaluation(),
        &crits.criteria,
        &Default::default(),
        None,
    );
    assert_eq!(
        v.criteria[0].status,
        Status::Inconclusive,
        "{}",
        v.criteria[0].reason
    );
    assert_eq!(v.recommendation, Recommendation::Inconclusive);
    let v = decide(&r.evaluation(), &crits.criteria, &Default::default(), None);
    assert_eq!(v.recommendation, Recommendation::Go);
    // A go names what it came closest to failing on, and a group-wise criterion without min_n
    // says how small a group it passed on.
    assert!(
        v.last_line()
            .starts_with("recommendation: go; closest: fc, Δ "),
        "{}",
        v.last_line()
    );
    let closest = v.closest.as_ref().unwrap();
    let margins: Vec<f64> = v.criteria[0]
        .checks
        .iter()
        .filter_map(|k| k.margin)
        .collect();
    assert_eq!(
        closest.margin,
        margins.iter().copied().fold(f64::INFINITY, f64::min)
    );
    assert!(
        v.criteria[0].reason.contains("smallest group n = "),
        "{}",
        v.criteria[0].reason
    );
    assert!(v
        .summary()
        .starts_with("Go: all 1 criteria pass; the closest to failing is fc"));
}

#[test]
fn a_point_pass_the_interval_does_not_back_says_so() {
    // cand IoU is 1.0 on four samples and 0.2 on s4, base 1.0 everywhere: a drop of 0.16, whose
    // paired-bootstrap interval reaches far past 0.2 (a resample with s4 twice drops 0.32).
    let one = planted;
    let c = one("max_drop = 0.2");
    assert_eq!(c.status, Status::Pass, "{}", c.reason);
    let check = &c.checks[0];
    let [lo, hi] = check.ci95.expect("a max_drop check carries its interval");
    assert!(lo < -0.2 && hi <= 0.0, "[{lo}, {hi}]");
    assert!(
        check
            .reason
            .contains("; pass on the point estimate: the 95% CI allows a drop of 0."),
        "{}",
        check.reason
    );
    // Its power: the MDE from the interval's width, and as the interval holds the bound, the
    // samples that would resolve it, n·(mde / bound)².
    let n = check.n.unwrap();
    let t = maskgate_core::stats::student_t_quantile(0.975, (n - 1) as f64);
    let mde = (1.959963984540054 + 0.8416212335729143) * (hi - lo) / (2.0 * t);
    assert!((check.mde.unwrap() - mde).abs() < 1e-12, "{check:?}");
    assert_eq!(
        check.n_needed,
        Some((n as f64 * (mde / 0.2).powi(2)).ceil() as usize)
    );
    assert!(check.n_needed.unwrap() > n, "more samples than it has");
    assert!(
        check
            .reason
            .contains(&format!("; within noise: n = {n} resolves a drop ≥ ")),
        "{}",
        check.reason
    );
    // A bound the interval clears gets no such note, and still its interval.
    let c = one("max_drop = 0.9");
    assert!(c.checks[0].mde.is_some() && c.checks[0].n_needed.is_none());
    assert_eq!(c.status, Status::Pass);
    assert!(c.checks[0].ci95.is_some());
    assert!(
        !c.checks[0].reason.contains("point estimate"),
        "{}",
        c.checks[0].reason
    );
    // min_gain: a gain of −0.16 fails min_gain −0.2 on no account; −0.3 passes on the point only.
    let c = one("min_gain = -0.3");
    assert_eq!(c.status, Status::Pass);
    assert!(
        c.checks[0]
            .reason
            .contains("; pass on the point estimate: the 95% CI allows a gain of only -0."),
        "{}",
        c.checks[0].reason
    );
}

#[test]
fn verdict_and_cis_do_not_depend_on_threads() {
    let c = "[[criterion]]\nid = \"ni\"\narm = \"cand\"\nmetric = \"iou.mean\"\nnoninferiority_margin = 0.3\n";
    let (a, b) = (run(c, 1), run(c, 2));
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

/// One criterion on the planted case: the candidate equals the baseline but for `s4`, where it
/// predicts 1 row of 5 (a drop of 0.16 in mean IoU, with a wide interval).
fn planted(rule: &str) -> maskgate::decide::CriterionResult {
    let r = run_arms(
        &format!("[[criterion]]\nid = \"c\"\narm = \"cand\"\nmetric = \"iou.mean\"\nclass = \"fg\"\n{rule}\n"),
        1,
        5,
        5,
        Some(1),
    );
    r.criteria.unwrap().remove(0)
}

fn parse_err(body: &str) -> String {
    let text = format!("{TAXONOMY}{body}");
    let classes = BTreeMap::from([("k".to_string(), vec!["fg".to_string()])]);
    match CriteriaFile::parse(Path::new("c.toml"), &text) {
        Err(e) => e.to_string(),
        Ok(f) => f
            .validate(&["base".into(), "cand".into()], "base", &classes)
            .unwrap_err()
            .to_string(),
    }
}

#[test]
fn bad_criteria_files_are_refused_with_file_and_line() {
    let head = "\n[[criterion]]\nid = \"x\"\narm = \"cand\"\n";
    let e = parse_err(&format!(
        "{head}metric = \"iou.bogus\"\nclass = \"fg\"\nmin = 1"
    ));
    assert!(
        e.starts_with("c.toml:6:") && e.contains("unknown metric"),
        "{e}"
    );
    let e = parse_err(&format!("{head}metric = \"iou.mean\"\nclass = \"fg\""));
    assert!(e.starts_with("c.toml:6:") && e.contains("no rule"), "{e}");
    let e = parse_err(&format!(
        "{head}metric = \"overlap.forehead_hair_overlap\"\nper = \"failure_class\"\nmax = 0.1"
    ));
    assert!(e.contains("no group_by or per"), "{e}");
    let e = parse_err(&format!(
        "{head}metric = \"overlap.x\"\nclass = \"fg\"\nmax = 0.1"
    ));
    assert!(e.contains("unknown metric"), "{e}");
    let e = parse_err(&format!(
        "{head}metric = \"iou.mean\"\nclass = \"fg\"\nmin = 1\nmax = 2"
    ));
    assert!(e.contains("more than one rule"), "{e}");
    let e =
        parse_err("\n[[criterion]]\nid = \"x\"\narm = \"nope\"\nmetric = \"iou.mean\"\nmin = 1");
    assert!(
        e.starts_with("c.toml:6:") && e.contains("unknown arm \"nope\""),
        "{e}"
    );
    let e = parse_err(&format!(
        "{head}metric = \"iou.mean\"\nclass = \"hair\"\nmin = 1"
    ));
    assert!(e.contains("unknown class \"hair\""), "{e}");
    let e = parse_err(&format!(
        "{head}metric = \"iou.mean\"\nclass = \"fg\"\nmin = 1\ncolour = 3"
    ));
    assert!(
        e.starts_with("c.toml:") && e.contains("unknown field `colour`"),
        "{e}"
    );
    let e = parse_err(
        "\n[[criterion]]\nid = \"x\"\narm = \"base\"\nmetric = \"iou.mean\"\nmax_drop = 1",
    );
    assert!(e.contains("with itself"), "{e}");
    let e = parse_err(&format!(
        "{head}metric = \"iou.mean\"\ngroup_by = \"failure_class\"\ngroup = \"smudge\"\nmin = 1"
    ));
    assert!(e.contains("unknown failure class \"smudge\""), "{e}");
}

#[test]
fn crop_gate_example_criteria_are_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/crop-gate/criteria.toml");
    let f = CriteriaFile::load(&path).unwrap();
    assert_eq!(f.pass_iou, Some(0.8));
    assert_eq!(f.taxonomy.len(), 4);
    let ids: Vec<&str> = f.criteria.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "flagged-pass-rate",
            "test-mean-iou",
            "no-failure-class-regression",
            "test-noninferior"
        ]
    );
    let fg = vec!["foreground".to_string()];
    let corpora = BTreeMap::from([
        ("test".to_string(), fg.clone()),
        ("flagged".to_string(), fg),
    ]);
    f.validate(&["rembg".into(), "candidate".into()], "rembg", &corpora)
        .unwrap();
    // The gate with its cost: the same criteria, then two cost criteria, pinned by its lock.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/crop-gate-cost");
    let with_cost = CriteriaFile::load(&dir.join("criteria.toml")).unwrap();
    let cost_ids: Vec<&str> = with_cost.criteria.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(cost_ids[..4], ids[..]);
    assert_eq!(cost_ids[4..], ["candidate-latency", "candidate-size"]);
    with_cost
        .validate(&["rembg".into(), "candidate".into()], "rembg", &corpora)
        .unwrap();
    let lock = std::fs::read_to_string(dir.join("criteria.lock")).unwrap();
    assert!(lock.starts_with(&with_cost.sha256), "{lock}");
}

#[test]
fn a_check_that_passes_on_the_point_fails_on_its_interval() {
    // The planted case: a drop of 0.16 passes max_drop 0.2 on the point estimate, while its
    // paired-bootstrap interval reaches past 0.2.
    let one = planted;
    let point = one("max_drop = 0.2");
    assert_eq!(point.status, Status::Pass, "{}", point.reason);
    let [lo95, _] = point.checks[0].ci95.unwrap();
    let ci = one("max_drop = 0.2\nbasis = \"ci\"");
    assert_eq!(ci.status, Status::Fail, "{}", ci.reason);
    let check = &ci.checks[0];
    assert_eq!(check.basis_level, Some(0.95));
    // At 95% it is decided on the very interval the reports show.
    assert_eq!(check.basis_interval.unwrap()[0], lo95);
    assert!(
        check.reason.contains("decided on the 95% CI of the gain [")
            && check.reason.contains("> max_drop 0.2"),
        "{}",
        check.reason
    );
    // A lower confidence gives a narrower interval: its worst end moves toward the estimate.
    let loose = one("max_drop = 0.5\nbasis = \"ci\"\nconfidence = 0.6");
    let narrow = loose.checks[0].basis_interval.unwrap();
    assert!(narrow[0] >= lo95, "{narrow:?} vs {lo95}");
    assert_eq!(loose.status, Status::Pass, "{}", loose.reason);
    // min on the arm's own interval: its mean is 0.84, its interval reaches far lower.
    let min = one("min = 0.7");
    assert_eq!(min.status, Status::Pass, "{}", min.reason);
    let min_ci = one("min = 0.7\nbasis = \"ci\"");
    assert_eq!(min_ci.status, Status::Fail, "{}", min_ci.reason);
    assert!(
        min_ci.checks[0].reason.contains("the arm's own value"),
        "{}",
        min_ci.checks[0].reason
    );
    // The baseline has no comparison: no interval of its own, so inconclusive, saying why.
    let r = run_arms(
        "[[criterion]]\nid = \"b\"\narm = \"base\"\nmetric = \"iou.mean\"\nclass = \"fg\"\nmin = 0.5\nbasis = \"ci\"\n",
        1,
        5,
        5,
        Some(1),
    );
    let b = &r.criteria.unwrap()[0];
    assert_eq!(b.status, Status::Inconclusive);
    assert!(
        b.checks[0]
            .reason
            .contains("the arm must be compared with the baseline"),
        "{}",
        b.checks[0].reason
    );
}

#[test]
fn basis_and_confidence_are_checked_when_read() {
    let head =
        "\n[[criterion]]\nid = \"x\"\narm = \"cand\"\nmetric = \"iou.mean\"\nclass = \"fg\"\n";
    for (body, says) in [
        (
            "max_drop = 0.1\nbasis = \"interval\"",
            "basis = \"interval\": use \"point\"",
        ),
        (
            "max_drop = 0.1\nbasis = \"ci\"\nconfidence = 1.0",
            "between 0.5 and 1",
        ),
        (
            "max_drop = 0.1\nconfidence = 0.9",
            "confidence applies to basis = \"ci\"",
        ),
        (
            "noninferiority_margin = 0.1\nbasis = \"ci\"",
            "decided on its 95% interval already",
        ),
    ] {
        let e = parse_err(&format!("{head}{body}"));
        assert!(e.contains(says), "{body}: {e}");
    }
}

#[test]
fn a_group_wise_criterion_on_the_interval_is_corrected_by_holm() {
    // Sources: even (s0, s2, s4; the candidate misses most of s4) and odd (identical arms).
    let one = |extra: &str| {
        let r = run_arms(
            &format!("[[criterion]]\nid = \"g\"\narm = \"cand\"\nmetric = \"iou.mean\"\nclass = \"fg\"\nper = \"source\"\nmax_drop = 0.9\nbasis = \"ci\"\n{extra}"),
            1,
            5,
            5,
            Some(1),
        );
        r.criteria.unwrap().remove(0)
    };
    let holm = one("");
    let levels: Vec<(String, Option<f64>)> = holm
        .checks
        .iter()
        .map(|k| (k.group.clone(), k.basis_level))
        .collect();
    // Two groups: the smaller p first, at 1 − 0.05/2, the other at 0.95. Neither group's
    // draws reach a drop of 0.9 (p = 0 both), so the tie goes in scope order.
    assert_eq!(
        levels,
        [
            ("even".to_string(), Some(0.975)),
            ("odd".to_string(), Some(0.95))
        ],
        "{:?}",
        holm.checks.iter().map(|k| &k.reason).collect::<Vec<_>>()
    );
    assert!(
        holm.checks[0]
            .reason
            .contains("decided on the 97.5% CI of the gain")
            && holm.checks[0]
                .reason
                .contains("(Holm-adjusted level 97.5%, 2 groups)"),
        "{}",
        holm.checks[0].reason
    );
    // odd's arms are identical: its interval is exactly [0, 0], no drop at all.
    assert!(
        holm.checks[1]
            .reason
            .contains("no drop in the interval (its worst end is a gain of 0.000) ≤ max_drop 0.9"),
        "{}",
        holm.checks[1].reason
    );
    // The wider interval reaches at least as far as the 95% one.
    let none_first = one("multiplicity = \"none\"\n").checks[0]
        .basis_interval
        .unwrap();
    assert!(holm.checks[0].basis_interval.unwrap()[0] <= none_first[0]);
    assert_eq!(holm.status, Status::Pass, "{}", holm.reason);
    // Uncorrected on request: each group at the criterion's own level, and the report says so.
    let none = one("multiplicity = \"none\"\n");
    assert!(none.checks.iter().all(|k| k.basis_level == Some(0.95)));
    assert!(
        none.checks[0].reason.contains("family uncorrected"),
        "{}",
        none.checks[0].reason
    );
    // Step-down: once a group fails, the groups after it fail untested.
    let strict = run_arms(
        "[[criterion]]\nid = \"g\"\narm = \"cand\"\nmetric = \"iou.mean\"\nclass = \"fg\"\nper = \"source\"\nmin = 0.95\nbasis = \"ci\"\n",
        1,
        5,
        5,
        Some(1),
    )
    .criteria
    .unwrap()
    .remove(0);
    let failed: Vec<&str> = strict
        .checks
        .iter()
        .filter(|k| k.status == Status::Fail)
        .map(|k| k.reason.as_str())
        .collect();
    assert!(!failed.is_empty(), "{:?}", strict.checks);
    assert_eq!(strict.status, Status::Fail);
    // multiplicity outside a group-wise interval criterion is refused.
    let e = parse_err("\n[[criterion]]\nid = \"x\"\narm = \"cand\"\nmetric = \"iou.mean\"\nclass = \"fg\"\nmax_drop = 0.1\nbasis = \"ci\"\nmultiplicity = \"none\"\n");
    assert!(
        e.contains("multiplicity applies to a group-wise criterion"),
        "{e}"
    );
}

/// Predicts the top 5 rows (the GT exactly) and says row 4, its last, lies within ε of its
/// threshold (`near_row`), like a model arm with a soft edge.
struct SoftEdge {
    name: &'static str,
    near_row: Option<u32>,
}

impl Arm for SoftEdge {
    fn name(&self) -> &str {
        self.name
    }
    fn predict(&self, _: &Sample, _: &maskgate::predict::image::SamplePhoto) -> Prediction {
        let m = Mask::from_fn(10, 10, |y, _| y < 5);
        let near = self
            .near_row
            .map(|r| BTreeMap::from([("fg".to_string(), Mask::from_fn(10, 10, |y, _| y == r))]));
        Prediction {
            masks: BTreeMap::from([("fg".to_string(), MaskData::Mask(m))]),
            near,
            ..Default::default()
        }
    }
}

fn noise_verdict(
    criteria: &str,
    noise: maskgate::decide::Noise,
    threads: usize,
) -> maskgate::decide::Verdict {
    let file = CriteriaFile::parse(Path::new("c.toml"), criteria).expect("criteria parse");
    let base = SoftEdge {
        name: "base",
        near_row: Some(2),
    };
    let cand = SoftEdge {
        name: "cand",
        near_row: Some(4),
    };
    in_pool(threads, || {
        let evaluation = evaluate_arms(
            &[&base, &cand],
            &[],
            CompareSettings {
                top_k: 5,
                pass_iou: 0.5,
                resamples: 200,
                seed: 3,
                keep_draws: false,
            },
        );
        // Work happened: every sample scored, with its near pixels counted.
        assert_eq!(evaluation.samples.len(), 10);
        let adverse = evaluation
            .adverse
            .as_ref()
            .expect("near pixels were measured");
        assert_eq!(
            adverse.pixels,
            BTreeMap::from([("base".to_string(), 50), ("cand".to_string(), 50)])
        );
        decide(&evaluation, &file.criteria, &noise, None)
    })
}

#[test]
fn a_check_inference_noise_could_flip_is_named_and_strict_makes_it_inconclusive() {
    use maskgate::decide::Noise;
    // The candidate's IoU is 1 as measured and 0.8 with its edge row against it; the
    // baseline's edge row lies inside the GT, so toward the truth it changes nothing.
    let criteria = "[[criterion]]\nid = \"tight\"\narm = \"cand\"\nmetric = \"iou.mean\"\nmin = 0.9\n\n\
                    [[criterion]]\nid = \"loose\"\narm = \"cand\"\nmetric = \"iou.mean\"\nmin = 0.7\n\n\
                    [[criterion]]\nid = \"vs-base\"\narm = \"cand\"\nmetric = \"iou.mean\"\nmax_drop = 0.1\n";
    let on = Noise {
        epsilon: 1e-3,
        strict: false,
    };
    let v = noise_verdict(criteria, on, 1);
    assert_eq!(v.recommendation, Recommendation::Go, "{}", v.summary());
    let n = v.noise.as_ref().unwrap();
    assert!(!n.robust());
    let flipped: Vec<(&str, Status, Status)> = n
        .flips
        .iter()
        .map(|f| (f.criterion.as_str(), f.from, f.to))
        .collect();
    assert_eq!(
        flipped,
        [
            ("tight", Status::Pass, Status::Fail),
            ("vs-base", Status::Pass, Status::Fail)
        ]
    );
    let summary = v.summary();
    assert!(
        summary.contains("Inference noise (ε = 0.001) could flip 2 of the checks")
            && summary.contains("tight on k (pass → fail)")
            && summary.contains("--strict would count them inconclusive"),
        "{summary}"
    );
    // The same at any thread count.
    assert_eq!(noise_verdict(criteria, on, 3).noise, v.noise);

    let strict = noise_verdict(
        criteria,
        Noise {
            epsilon: 1e-3,
            strict: true,
        },
        1,
    );
    assert_eq!(strict.recommendation, Recommendation::Inconclusive);
    assert_eq!(strict.deciding_criteria, ["tight", "vs-base"]);
    let tight = &strict.criteria[0];
    assert_eq!(tight.status, Status::Inconclusive);
    assert!(
        tight
            .reason
            .starts_with("inference noise (ε = 0.001) could flip it to fail"),
        "{}",
        tight.reason
    );
    assert_eq!(strict.criteria[1].status, Status::Pass);

    // Off: no check, no sentence, the measured verdict.
    let off = noise_verdict(criteria, Noise::default(), 1);
    assert!(off.noise.is_none() && !off.summary().contains("noise"));
    assert_eq!(off.recommendation, Recommendation::Go);

    // Only the loose criterion: robust, and the sentence says with how many pixels.
    let loose = "[[criterion]]\nid = \"loose\"\narm = \"cand\"\nmetric = \"iou.mean\"\nmin = 0.7\n";
    let v = noise_verdict(loose, on, 1);
    assert!(v.noise.as_ref().unwrap().robust());
    assert!(
        v.summary().contains(
            "Robust to inference noise (ε = 0.001): no check changes status with the 100 pixels within ε of a decision (base 50, cand 50)"
        ),
        "{}",
        v.summary()
    );
}

/// An arm's cost with every latency `ms` milliseconds (no warm-up), on `host`.
fn fixed_cost(arm: &str, ms: &[u64], cached: usize) -> maskgate::cost::ArmCost {
    let host = cost_host();
    maskgate::cost::summarise(
        &maskgate::cost::RawArm {
            name: arm.into(),
            model_bytes: 5 << 20,
            load_ns: Some(1),
            latencies: (0u64..).zip(ms.iter().map(|m| m * 1_000_000)).collect(),
            cached: (0..cached as u64)
                .map(|i| maskgate::cost::Timing {
                    ns: 1_000_000,
                    host: host.key(),
                    run: "earlier".into(),
                    ordinal: i,
                })
                .collect(),
            memory_rise: Some(40 << 20),
            ..Default::default()
        },
        maskgate::cost::Summarise {
            host: &host,
            warmup: 0,
            seed: 1,
            price_per_hour: None,
        },
    )
}

fn cost_host() -> maskgate::cost::Host {
    maskgate::cost::Host {
        cpu: "cpu".into(),
        arch: "x86_64".into(),
        cpu_features: vec![],
        cores: 2,
        execution_provider: "cpu".into(),
        onnxruntime: "1.31.1".into(),
    }
}

fn cost_report(arms: Vec<maskgate::cost::ArmCost>) -> maskgate::cost::CostReport {
    maskgate::cost::CostReport {
        kind: "measurements",
        host: cost_host(),
        warmup: 0,
        threads: None,
        price_per_hour: None,
        arms,
    }
}

#[test]
fn cost_criteria_decide_on_fixed_timings() {
    let file = |body: &str| CriteriaFile::parse(Path::new("c.toml"), body).expect("criteria parse");
    let base = TopRows {
        name: "base",
        rows: 5,
        s4_rows: None,
    };
    let cand = TopRows {
        name: "cand",
        rows: 5,
        s4_rows: None,
    };
    let compare = CompareSettings {
        top_k: 5,
        pass_iou: 0.8,
        resamples: 50,
        seed: 3,
        keep_draws: false,
    };
    let evaluation = evaluate_arms(&[&base, &cand], &[], compare);
    // p95 of 10 equal latencies is that latency: 12 ms against 10 ms is exactly 1.2×.
    let cost = cost_report(vec![
        fixed_cost("base", &[10; 10], 0),
        fixed_cost("cand", &[12; 10], 0),
    ]);
    let decided = |body: &str, cost: Option<&maskgate::cost::CostReport>| {
        let v = decide(&evaluation, &file(body).criteria, &Default::default(), cost);
        let c = &v.criteria[0];
        (c.status, c.reason.clone())
    };
    let rule = |r: &str| {
        format!("[[criterion]]\nid = \"k\"\narm = \"cand\"\nmetric = \"latency.p95_ms\"\n{r}\n")
    };
    let (s, reason) = decided(&rule("max_ratio = 1.2"), Some(&cost));
    assert_eq!(s, Status::Pass, "{reason}");
    assert!(
        reason.contains("= 1.200× the baseline's 10.000 ≤ max_ratio 1.2")
            && reason.contains("10 photos"),
        "{reason}"
    );
    assert_eq!(
        decided(&rule("max_ratio = 1.19"), Some(&cost)).0,
        Status::Fail
    );
    assert_eq!(decided(&rule("max = 12"), Some(&cost)).0, Status::Pass);
    assert_eq!(decided(&rule("max = 11.9"), Some(&cost)).0, Status::Fail);
    let other = |m: &str, r: &str| {
        format!("[[criterion]]\nid = \"k\"\narm = \"cand\"\nmetric = \"{m}\"\n{r}\n")
    };
    assert_eq!(
        decided(&other("throughput.per_s", "min = 83"), Some(&cost)).0,
        Status::Pass
    );
    assert_eq!(
        decided(&other("throughput.per_s", "min = 84"), Some(&cost)).0,
        Status::Fail
    );
    assert_eq!(
        decided(&other("model.mb", "max = 5"), Some(&cost)).0,
        Status::Pass
    );
    assert_eq!(
        decided(&other("memory.peak_mb", "max = 39"), Some(&cost)).0,
        Status::Fail
    );

    // Undecidable: no cost measured in one run, an arm with none, latencies from the cache.
    let (s, reason) = decided(&rule("max_ratio = 1.2"), None);
    assert_eq!(s, Status::Inconclusive);
    assert!(reason.contains("not measured in one run"), "{reason}");
    let only_base = cost_report(vec![fixed_cost("base", &[10; 10], 0)]);
    let (s, reason) = decided(&rule("max = 20"), Some(&only_base));
    assert_eq!(s, Status::Inconclusive);
    assert!(reason.contains("cand runs no model here"), "{reason}");
    let cached = cost_report(vec![
        fixed_cost("base", &[10; 10], 2),
        fixed_cost("cand", &[12; 10], 0),
    ]);
    let (s, reason) = decided(&rule("max_ratio = 2"), Some(&cached));
    assert_eq!(s, Status::Inconclusive);
    assert!(
        reason.contains("of the baseline") && reason.contains("--no-cache"),
        "{reason}"
    );
    // A go needs every cost criterion decided.
    let v = decide(
        &evaluation,
        &file(&rule("max_ratio = 2")).criteria,
        &Default::default(),
        Some(&cached),
    );
    assert_eq!(v.recommendation, Recommendation::Inconclusive);
}

#[test]
fn cost_criteria_are_checked_when_read() {
    let err = |body: &str| {
        parse_err(&format!(
            "[[criterion]]\nid = \"k\"\narm = \"cand\"\n{body}\n"
        ))
    };
    for (body, says) in [
        (
            "metric = \"iou.mean\"\nmax_ratio = 1.2",
            "max_ratio applies to cost metrics",
        ),
        (
            "metric = \"throughput.per_s\"\nmax_ratio = 1.2",
            "is better higher: use min",
        ),
        (
            "metric = \"latency.p95_ms\"\nmax_drop = 1",
            "max_drop 1 does not apply to cost metric",
        ),
        (
            "metric = \"latency.p95_ms\"\ncorpus = \"k\"\nmax = 50",
            "corpus does not apply to cost metric",
        ),
        (
            "metric = \"latency.p50_ms\"\nbasis = \"ci\"\nmax = 50",
            "basis does not apply",
        ),
        (
            "metric = \"latency.p95_ms\"\nmax_ratio = 0",
            "max_ratio must be above 0",
        ),
    ] {
        let e = err(body);
        assert!(e.contains(says), "{body}: {e}");
    }
}
