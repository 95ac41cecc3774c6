//! The engine recipes under `deploy/` agree with the CLI: the Kubernetes Indexed Job fails an
//! index at once on the permanent-error status and runs as many shards as `--shard auto/N`
//! says; the Slurm and Modal recipes start the real binary with `--shard`. (The Slurm recipe
//! also runs for real: `deploy/slurm/test-array.sh`, called by `scripts/test.sh`.)

use std::path::Path;

fn deploy(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_kubernetes_indexed_job_matches_the_exit_codes_and_shard_count() {
    let job: serde_norway::Value =
        serde_norway::from_str(&deploy("kubernetes/shards.yaml")).unwrap();
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    assert!(spec["backoffLimitPerIndex"].as_u64().is_some());
    let completions = spec["completions"].as_u64().unwrap();
    let container = &spec["template"]["spec"]["containers"][0];
    let command: Vec<&str> = container["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(&command[..2], ["maskgate", "run"]);
    let shard = command[command.iter().position(|a| *a == "--shard").unwrap() + 1];
    assert_eq!(shard, format!("auto/{completions}"));
    let rules = spec["podFailurePolicy"]["rules"].as_sequence().unwrap();
    let fail_index = rules
        .iter()
        .find(|r| r["action"].as_str() == Some("FailIndex"))
        .unwrap();
    let codes: Vec<u64> = fail_index["onExitCodes"]["values"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(codes, [u64::from(maskgate_cli::EXIT_ERROR)]);
    assert_eq!(
        fail_index["onExitCodes"]["containerName"].as_str(),
        container["name"].as_str()
    );
    let merge: serde_norway::Value =
        serde_norway::from_str(&deploy("kubernetes/merge.yaml")).unwrap();
    let merge_cmd = &merge["spec"]["template"]["spec"]["containers"][0]["command"];
    assert_eq!(merge_cmd[1].as_str(), Some("merge"));
    // The merge signs the verdict; the promotion verifies it before its container starts.
    let merge_env = &merge["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(merge_env
        .as_sequence()
        .unwrap()
        .iter()
        .any(|e| e["name"].as_str() == Some("MASKGATE_SIGN_KEY")));
    let promote: serde_norway::Value =
        serde_norway::from_str(&deploy("kubernetes/promote.yaml")).unwrap();
    let verify: Vec<&str> = promote["spec"]["template"]["spec"]["initContainers"][0]["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(verify[..2], ["maskgate", "verify"]);
    for flag in ["--pubkey", "--model", "--require"] {
        assert!(verify.contains(&flag), "{verify:?}");
    }
    let require = verify.iter().position(|a| *a == "--require").unwrap();
    assert_eq!(verify[require + 1], "go");
}

#[test]
fn the_slurm_and_modal_recipes_run_the_binary_with_shards() {
    let sbatch = deploy("slurm/maskgate-shard.sbatch");
    assert!(sbatch.contains("--shard \"auto/$count\""), "{sbatch}");
    let submit = deploy("slurm/submit.sh");
    assert!(
        submit.contains("--dependency=\"afterok:$array_id\""),
        "{submit}"
    );
    assert!(deploy("slurm/maskgate-merge.sbatch").contains("merge \"$out\""));
    let modal = deploy("modal/maskgate_modal.py");
    assert!(
        modal.contains("\"--shard\", f\"{index}/{count}\""),
        "{modal}"
    );
    assert!(modal.contains(".map(range(shards)"), "{modal}");
    assert!(
        modal.contains("[\"merge\", out, \"--sign-key\", key]"),
        "{modal}"
    );
    // The deploy step promotes only after `maskgate verify … --require go` exits 0.
    let promote = &modal[modal.find("def promote").unwrap()..];
    let verify = promote.find("\"maskgate\", \"verify\"").unwrap();
    let require = promote.find("\"--require\", \"go\"").unwrap();
    let copy = promote.find("shutil.copy2").unwrap();
    assert!(verify < require && require < copy, "{promote}");
    assert!(
        promote.contains("if code != 0:\n        return code"),
        "{promote}"
    );
}
