//! Shards and merge: a run split into N shards, committed in any order, with duplicates and
//! late commits, merges into reports byte-identical to the unsharded run. Real photos and labels
//! (FASSEG) and real models (MediaPipe selfie, rembg's u2netp); needs `bash scripts/setup.sh`.

use maskgate::observe::Silent;
use maskgate::plan::{
    execute, execute_shard, merge, Env, MergeRequest, Overrides, Plan, Request, ShardOutcome,
};
use maskgate::shard::{ShardArg, ShardSpec};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const RUN_ID: &str = "t";
const AT: &str = "2026-01-01T00:00:00Z";

use crate::common::{bin, repo, shared};

fn tmp(name: &str) -> PathBuf {
    crate::common::fresh_dir("shards", name)
}

/// Every file of a report set (the shards excluded) and its bytes.
fn report_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if rel.starts_with("shards") {
                continue;
            }
            if p.is_dir() {
                pending.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn assert_same_reports(merged: &Path, single: &Path) {
    let (a, b) = (report_files(merged), report_files(single));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    assert!(a.len() >= 5, "{:?}", a.keys());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{} differs", name.display());
    }
}

fn pinned(out: &Path) -> Overrides {
    Overrides {
        out: Some(out.to_path_buf()),
        run_id: Some(RUN_ID.into()),
        generated_at: Some(AT.into()),
        ..Default::default()
    }
}

fn merge_request(out: &Path) -> MergeRequest {
    MergeRequest {
        out: out.to_path_buf(),
        run_id: Some(RUN_ID.into()),
        generated_at: Some(AT.into()),
        ..Default::default()
    }
}

/// Two corpora (the precise FASSEG labels, and the rough ones as a second corpus), two
/// prediction-file arms made from the rough labels, criteria with failure classes from
/// reporter notes: every path of the report that reads the per-sample table.
fn annotation_gate(d: &Path) -> PathBuf {
    let fasseg = shared().join("data/fasseg");
    for (name, erode) in [("rough", None), ("eroded", Some("2"))] {
        let mut cmd = bin();
        cmd.args([
            "convert", "--format", "fasseg", "--corpus", "fasseg", "--path",
        ])
        .arg(fasseg.join("V1"))
        .arg("--out")
        .arg(d.join(format!("{name}.ndjson")));
        if let Some(px) = erode {
            cmd.args(["--erode", px]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let classes = "classes = { skin = [\"skin\"], hair = [\"hair\"], face = [\"eyes\", \"nose\", \"mouth\"] }";
    let config = d.join("gate.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nbaseline = \"rough\"\nbootstrap = 300\ngallery = 2\ncriteria = \"{criteria}\"\nnotes = \"{notes}\"\n\n\
             [[corpus]]\nname = \"precise\"\nformat = \"fasseg\"\npath = \"{v2}\"\n{classes}\nlimit = 12\nsample_seed = \"s\"\n\n\
             [[corpus]]\nname = \"rough_labels\"\nformat = \"fasseg\"\npath = \"{v1}\"\n{classes}\nlimit = 9\nsample_seed = \"s\"\n\n\
             [[arm]]\nname = \"rough\"\npredictions = \"{rough}\"\n\n[[arm]]\nname = \"rough_eroded\"\npredictions = \"{eroded}\"\n",
            criteria = repo("examples/fasseg-gate/criteria-nogo.toml").display(),
            notes = repo("examples/fasseg-gate/notes.json").display(),
            v2 = fasseg.join("V2").display(),
            v1 = fasseg.join("V1").display(),
            rough = d.join("rough.ndjson").display(),
            eroded = d.join("eroded.ndjson").display(),
        ),
    )
    .unwrap();
    config
}

/// `maskgate merge OUT` with the pinned run metadata, as an engine's fan-in step runs it.
fn merge_process(out: &Path) -> std::process::Output {
    bin()
        .arg("merge")
        .arg(out)
        .args(["--run-id", RUN_ID, "--generated-at", AT])
        .output()
        .unwrap()
}

fn shard(request: &Request, out: &Path, spec: ShardSpec) -> ShardOutcome {
    let o = Overrides {
        shard: Some(ShardArg::Fixed(spec)),
        ..pinned(out)
    };
    let plan = Plan::resolve(request, &o, &Env::default()).unwrap();
    execute_shard(&plan, &Silent).unwrap()
}

/// N ∈ {1, 2, 3, 7, n}: shards committed out of order, one duplicated before the merge and one
/// late after it; the merged set equals the unsharded one file for file, byte for byte.
#[test]
fn merged_reports_equal_the_unsharded_run_for_every_shard_count() {
    let d = tmp("counts");
    let config = annotation_gate(&d);
    let request = Request::Run {
        config: config.clone(),
    };
    let single = d.join("single");
    let plan = Plan::resolve(&request, &pinned(&single), &Env::default()).unwrap();
    let outcome = execute(&plan, &Silent).unwrap();
    let n: usize = outcome.report.corpora.iter().map(|c| c.samples).sum();
    assert_eq!(n, 21, "12 + 9 samples");
    assert!(outcome.report.verdict().is_some(), "criteria decide");
    // The verdict's statement and dataset manifest are among the files compared byte for byte.
    for attested in ["attestation.dsse.json", "dataset.json"] {
        assert!(single.join(attested).is_file(), "{attested}");
    }
    for count in [1, 2, 3, 7, n] {
        let out = d.join(format!("of-{count}"));
        // Out of order: every third index first, then the rest backwards.
        let mut order: Vec<usize> = (0..count).filter(|i| i % 3 == 2).collect();
        order.extend((0..count).rev().filter(|i| i % 3 != 2));
        for index in order {
            let outcome = shard(&request, &out, ShardSpec { index, count });
            assert!(
                matches!(outcome, ShardOutcome::Committed { .. }),
                "{outcome:?}"
            );
        }
        // A duplicate attempt finds its marker and scores nothing.
        let again = shard(&request, &out, ShardSpec { index: 0, count });
        assert!(
            matches!(again, ShardOutcome::AlreadyCommitted(_)),
            "{again:?}"
        );
        let merged = merge(&merge_request(&out), &Env::default(), &Silent).unwrap();
        assert!(
            merged
                .notices
                .iter()
                .any(|m| m.contains(&format!("merged {count} shards: 42 scores over 21 samples"))),
            "{:?}",
            merged.notices
        );
        assert_same_reports(&out, &single);
        // A late attempt after the merge changes nothing; a second merge writes the same set.
        let late = shard(
            &request,
            &out,
            ShardSpec {
                index: count - 1,
                count,
            },
        );
        assert!(
            matches!(late, ShardOutcome::AlreadyCommitted(_)),
            "{late:?}"
        );
        merge(&merge_request(&out), &Env::default(), &Silent).unwrap();
        assert_same_reports(&out, &single);
    }
}

/// `compare --shard` on the command line: gold and prediction files, three shards, the merge
/// equal to the unsharded compare.
#[test]
fn compare_shards_merge_to_the_unsharded_compare() {
    let d = tmp("compare");
    annotation_gate(&d);
    let compare = |extra: &[&str]| {
        let out = bin()
            .arg("compare")
            .arg("--gold")
            .arg(d.join("rough.ndjson"))
            .arg("--image-root")
            .arg(shared())
            .arg(format!("--pred=rough={}", d.join("rough.ndjson").display()))
            .arg(format!(
                "--pred=rough_eroded={}",
                d.join("eroded.ndjson").display()
            ))
            .args([
                "--baseline",
                "rough",
                "--bootstrap",
                "200",
                "--run-id",
                RUN_ID,
            ])
            .args(["--generated-at", AT])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let single = d.join("single");
    compare(&["--out", single.to_str().unwrap()]);
    let sharded = d.join("sharded");
    for i in [2, 0, 1] {
        let text = compare(&[
            "--shard",
            &format!("{i}/3"),
            "--out",
            sharded.to_str().unwrap(),
        ]);
        assert!(text.contains(&format!("shard {i}/3 committed")), "{text}");
    }
    let out = merge_process(&sharded);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_reports(&sharded, &single);
}

/// A merge refuses shards whose inputs have changed since, and says which shards are missing.
#[test]
fn merge_refuses_changed_inputs_and_lists_missing_shards() {
    let d = tmp("refusals");
    let config = annotation_gate(&d);
    let request = Request::Run { config };
    let out = d.join("out");
    let err = merge(&merge_request(&out), &Env::default(), &Silent)
        .err()
        .expect("an error");
    assert!(err.is_retryable(), "{err}");
    for index in [0, 3, 4] {
        shard(&request, &out, ShardSpec { index, count: 7 });
    }
    let err = merge(&merge_request(&out), &Env::default(), &Silent)
        .err()
        .expect("an error");
    assert!(err.is_retryable(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("4 of 7 shards missing; rerun them with --array=1-2,5-6"),
        "{text}"
    );
    // The prediction file changes after the shards ran: a merge would mix two runs.
    let rough = d.join("rough.ndjson");
    let mut bytes = std::fs::read(&rough).unwrap();
    bytes.extend_from_slice(b"\n");
    std::fs::write(&rough, bytes).unwrap();
    let err = merge(&merge_request(&out), &Env::default(), &Silent)
        .err()
        .expect("an error");
    assert!(!err.is_retryable(), "{err}");
    assert!(
        err.to_string()
            .contains("inputs changed since the shards ran"),
        "{err}"
    );
}

fn model_gate(d: &Path) -> PathBuf {
    let config = d.join("models.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nbaseline = \"selfie\"\nbootstrap = 200\ncriteria = \"criteria.toml\"\n\n\
             [[corpus]]\nname = \"fasseg\"\nformat = \"fasseg\"\npath = \"{}\"\nclasses = {{ foreground = [\"hair\", \"skin\", \"eyes\", \"nose\", \"mouth\"] }}\n\n\
             [[arm]]\nname = \"selfie\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{}\"\nclass = \"foreground\"\n\n\
             [[arm]]\nname = \"u2netp\"\nadapter = \"rembg\"\nmodel = \"{}\"\nclass = \"foreground\"\n",
            shared().join("data/fasseg/V2").display(),
            shared()
                .join("models/mediapipe_selfie_segmentation_256.onnx")
                .display(),
            repo("vendor/models/u2netp.onnx").display(),
        ),
    )
    .unwrap();
    // A verdict, so the merge decides the noise check again from the shards' flipped scores.
    std::fs::write(
        d.join("criteria.toml"),
        "[[criterion]]\nid = \"u2netp-holds\"\narm = \"u2netp\"\nmetric = \"iou.mean\"\nmax_drop = 1\n",
    )
    .unwrap();
    config
}

fn shard_process(config: &Path, out: &Path, cache: &Path, var: &str, index: usize) -> Command {
    let mut cmd = bin();
    cmd.arg("run")
        .arg(config)
        .args([
            "--shard",
            "auto/3",
            "--threads",
            "1",
            "--save-predictions",
            "--out",
        ])
        .arg(out)
        .env("MASKGATE_CACHE", cache)
        .env_remove("MASKGATE_SHARD_INDEX")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env(var, index.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn stderr_of(child: std::process::Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Shard processes as an engine starts them: the index from `JOB_COMPLETION_INDEX` (Kubernetes)
/// or `SLURM_ARRAY_TASK_ID` (Slurm). One is killed mid-run and rerun (its finished predictions
/// are kept in the cache), one runs twice at once; the merge equals the unsharded run, the
/// saved prediction files (`--save-predictions`) included.
#[test]
fn shard_processes_survive_a_kill_a_rerun_and_a_duplicate() {
    let d = tmp("processes");
    let config = model_gate(&d);
    let cache = d.join("cache");
    let out = d.join("sharded");

    // Shard 1 is killed while it scores.
    let mut killed = shard_process(&config, &out, &cache, "SLURM_ARRAY_TASK_ID", 1)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(
        killed.try_wait().unwrap().is_none(),
        "shard 1 finished before it could be killed"
    );
    killed.kill().unwrap();
    killed.wait().unwrap();

    // Shard 0 twice at once; shard 2 once.
    let twins: Vec<_> = (0..2)
        .map(|_| {
            shard_process(&config, &out, &cache, "JOB_COMPLETION_INDEX", 0)
                .spawn()
                .unwrap()
        })
        .collect();
    let third = shard_process(&config, &out, &cache, "MASKGATE_SHARD_INDEX", 2)
        .spawn()
        .unwrap();
    let twins: Vec<(i32, String)> = twins.into_iter().map(stderr_of).collect();
    let (code, text) = stderr_of(third);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("shard 2/3 committed"), "{text}");
    for (code, text) in &twins {
        assert_eq!(*code, 0, "{text}");
    }
    let committed = twins
        .iter()
        .filter(|(_, t)| t.contains("shard 0/3 committed in"))
        .count();
    assert_eq!(committed, 1, "exactly one twin commits: {twins:?}");

    // The merge names the killed shard, with the exit status for a retry.
    let out_merge = merge_process(&out);
    let text = String::from_utf8_lossy(&out_merge.stderr);
    assert_eq!(out_merge.status.code(), Some(3), "{text}");
    assert!(text.contains("--array=1"), "{text}");

    // The rerun resumes from the predictions the killed attempt finished.
    let (code, text) = stderr_of(
        shard_process(&config, &out, &cache, "SLURM_ARRAY_TASK_ID", 1)
            .spawn()
            .unwrap(),
    );
    assert_eq!(code, 0, "{text}");
    let cached: u64 = text
        .lines()
        .filter(|l| l.contains(" cached, "))
        .filter_map(|l| l.split(", ").nth(1)?.split(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(
        cached > 0,
        "the killed attempt's predictions are reused: {text}"
    );

    let merged = merge_process(&out);
    assert_eq!(
        merged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let single = d.join("single");
    let run = bin()
        .arg("run")
        .arg(&config)
        .args([
            "--no-cache",
            "--save-predictions",
            "--run-id",
            RUN_ID,
            "--generated-at",
            AT,
            "--out",
        ])
        .arg(&single)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_same_reports(&out, &single);
    assert!(out.join("predictions/fasseg/u2netp.jsonl").is_file());
    // The noise check was made, from rows three shards wrote, the same as in one process.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let pixels = &report["noise_check"]["pixels"];
    assert!(
        pixels["u2netp"].as_u64().unwrap() > 0 && pixels["selfie"].as_u64().unwrap() > 0,
        "{report}"
    );
}

/// Exit statuses an engine's retry policy can key on: 2 for a permanent error, 3 for one a
/// retry may cure.
#[test]
fn permanent_and_retryable_errors_exit_differently() {
    let d = tmp("exit-codes");
    let missing = bin()
        .args(["run", "no-such-config.toml", "--shard", "0/2"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let bad_shard = bin()
        .args(["run", "x.toml", "--shard", "2/2"])
        .output()
        .unwrap();
    assert_eq!(bad_shard.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_shard.stderr).contains("not below the shard count"));
    let no_index = bin()
        .arg("run")
        .arg(model_gate(&d))
        .args(["--shard", "auto/2"])
        .env_remove("MASKGATE_SHARD_INDEX")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert_eq!(no_index.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_index.stderr).contains("SLURM_ARRAY_TASK_ID"));
    let nothing = bin().arg("merge").arg(d.join("empty")).output().unwrap();
    assert_eq!(
        nothing.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&nothing.stderr)
    );
}

/// Prediction files of instances (each class's mask of the converted labels, scored by a hash
/// of its id and class, plus a stray detection) from `ndjson`.
fn instance_predictions(ndjson: &Path, out: &Path) {
    let text = std::fs::read_to_string(ndjson).unwrap();
    let mut lines = String::new();
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(id) = v.get("id").and_then(|i| i.as_str()) else {
            continue; // the header line
        };
        let mut instances = Vec::new();
        for (k, (class, mask)) in v["masks"].as_object().unwrap().iter().enumerate() {
            let score = ((n * 37 + k * 11) % 97) as f64 / 100.0 + 0.01;
            instances.push(serde_json::json!({"class": class, "score": score, "mask": mask}));
            if (n + k) % 4 == 0 {
                // A stray: the same mask under another class, low.
                let other = if class == "skin" { "hair" } else { "skin" };
                instances
                    .push(serde_json::json!({"class": other, "score": score / 3.0, "mask": mask}));
            }
        }
        lines.push_str(&serde_json::json!({"id": id, "instances": instances}).to_string());
        lines.push('\n');
    }
    std::fs::write(out, lines).unwrap();
}

/// Instance metrics through shards: COCOeval's records travel in the shards, and the merged
/// report set (mask AP rows, their Δ intervals, a verdict on `map`) equals the unsharded one.
#[test]
fn instance_numbers_merge_to_the_unsharded_run() {
    let d = tmp("instances");
    annotation_gate(&d);
    instance_predictions(&d.join("rough.ndjson"), &d.join("rough_inst.jsonl"));
    instance_predictions(&d.join("eroded.ndjson"), &d.join("eroded_inst.jsonl"));
    std::fs::write(
        d.join("criteria.toml"),
        "[bootstrap]\nresamples = 300\nseed = 5\n\
         [[criterion]]\nid = \"map\"\nmetric = \"map\"\narm = \"eroded\"\ncorpus = \"precise\"\nmax_drop = 0.5\n\
         [[criterion]]\nid = \"map50-per-class\"\nmetric = \"map50\"\narm = \"eroded\"\ncorpus = \"precise\"\nper = \"class\"\nmax_drop = 0.9\nbasis = \"ci\"\n",
    )
    .unwrap();
    let config = d.join("instances.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nbaseline = \"rough\"\ncriteria = \"criteria.toml\"\ngallery = 0\n\n\
             [[corpus]]\nname = \"precise\"\nformat = \"fasseg\"\npath = \"{v2}\"\n\
             classes = {{ skin = [\"skin\"], hair = [\"hair\"] }}\nlimit = 12\nsample_seed = \"s\"\ninstances = \"classes\"\n\n\
             [[arm]]\nname = \"rough\"\npredictions = \"rough_inst.jsonl\"\n\n\
             [[arm]]\nname = \"eroded\"\npredictions = \"eroded_inst.jsonl\"\n",
            v2 = shared().join("data/fasseg/V2").display(),
        ),
    )
    .unwrap();
    let request = Request::Run {
        config: config.clone(),
    };
    let single = d.join("single");
    let plan = Plan::resolve(&request, &pinned(&single), &Env::default()).unwrap();
    let outcome = execute(&plan, &Silent).unwrap();
    let r = &outcome.report;
    for arm in ["rough", "eroded"] {
        // Scored, not refused: no sample of either arm failed.
        let summary = r
            .summaries
            .iter()
            .find(|s| s.arm == arm && s.group_by == "all")
            .unwrap();
        assert!(
            summary.fail_rates.values().all(|&v| v == 0.0),
            "{arm}: {:?}",
            summary.fail_rates
        );
        let all = r
            .instances
            .iter()
            .find(|i| i.arm == arm && i.group_by == "all" && i.class == "all")
            .unwrap_or_else(|| panic!("{arm}: an instance row"));
        assert_eq!(all.images, 12, "every sample evaluated");
        assert!(all.gts >= 12 && all.dts >= 12, "{all:?}");
        assert!(
            all.stat("map").flatten().is_some_and(|v| v > 0.0),
            "{all:?}"
        );
    }
    let delta = r.comparisons[0]
        .delta("all", "all", None)
        .expect("the summary delta");
    assert!(
        delta.deltas["map"].is_some() && delta.ci95["map"].is_some(),
        "{delta:?}"
    );
    let verdict = r.verdict().expect("criteria decide");
    assert_eq!(verdict.criteria.len(), 2, "{:?}", verdict.criteria);
    for c in &verdict.criteria {
        assert!(
            c.checks.iter().all(|k| k.value.is_some()),
            "{}: every check measured",
            c.id
        );
    }
    for count in [2, 5] {
        let out = d.join(format!("of-{count}"));
        for index in (0..count).rev() {
            let o = shard(&request, &out, ShardSpec { index, count });
            assert!(matches!(o, ShardOutcome::Committed { .. }), "{o:?}");
        }
        merge(&merge_request(&out), &Env::default(), &Silent).unwrap();
        assert_same_reports(&out, &single);
    }
}

/// Two arms with the same instances: every COCOeval number's delta is 0 and each interval is
/// [0, 0], the draws shared by both sides (a draw that evaluated the arm's copies on other
/// images than the baseline's would widen it).
#[test]
fn identical_instance_arms_differ_by_exactly_nothing() {
    let d = tmp("twins");
    annotation_gate(&d);
    instance_predictions(&d.join("rough.ndjson"), &d.join("rough_inst.jsonl"));
    std::fs::copy(d.join("rough_inst.jsonl"), d.join("twin_inst.jsonl")).unwrap();
    let config = d.join("twins.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nbaseline = \"rough\"\nbootstrap = 200\ngallery = 0\n\n\
             [[corpus]]\nname = \"precise\"\nformat = \"fasseg\"\npath = \"{v2}\"\n\
             classes = {{ skin = [\"skin\"], hair = [\"hair\"] }}\nlimit = 12\nsample_seed = \"s\"\ninstances = \"classes\"\n\n\
             [[arm]]\nname = \"rough\"\npredictions = \"rough_inst.jsonl\"\n\n\
             [[arm]]\nname = \"twin\"\npredictions = \"twin_inst.jsonl\"\n",
            v2 = shared().join("data/fasseg/V2").display(),
        ),
    )
    .unwrap();
    let request = Request::Run { config };
    let plan = Plan::resolve(&request, &pinned(&d.join("out")), &Env::default()).unwrap();
    let r = execute(&plan, &Silent).unwrap().report;
    let all = (r.instances.iter())
        .find(|i| i.arm == "twin" && i.group_by == "all" && i.class == "all")
        .expect("an instance row");
    assert_eq!(all.images, 12, "every sample evaluated");
    assert!(
        all.stat("map").flatten().is_some_and(|v| v > 0.0),
        "{all:?}"
    );
    let c = &r.comparisons[0];
    let mut checked = 0;
    for delta in c.summary_deltas.iter().chain(&c.class_deltas) {
        for name in maskgate::aggregate::INSTANCE_STATS {
            let (Some(value), Some(ci)) = (delta.deltas.get(name), delta.ci95.get(name)) else {
                continue;
            };
            assert_eq!(*value, value.map(|_| 0.0), "{name} of {delta:?}");
            assert_eq!(*ci, value.map(|_| [0.0, 0.0]), "{name} of {delta:?}");
            checked += usize::from(ci.is_some());
        }
    }
    assert!(
        checked >= 3 * 12,
        "{checked} intervals: the summary and both classes"
    );
}
