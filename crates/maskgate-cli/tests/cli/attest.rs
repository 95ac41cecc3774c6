//! The gate of record end to end: a signed, pre-registered verdict; `verify` with each exit
//! status; the signature checked by openssl and by securesystemslib (PyPI), an envelope signed
//! by openssl accepted; every kind of tampering refused; approvals.

use crate::common::{bin, fresh_dir, repo};
use base64::Engine;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn openssl(args: &[&str], dir: &Path) -> Output {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(o.status.success(), "openssl {args:?}: {}", text(&o));
    o
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn b64e(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v
}

/// A gate over the FASSEG annotation A/B in `d`, run from `d` with relative paths, as a
/// team runs it from its repository: returns the exit status and output.
fn gate(d: &Path, criteria: &str, extra: &[&str]) -> Output {
    gate_to(d, criteria, "out", extra)
}

fn gate_to(d: &Path, criteria: &str, out: &str, extra: &[&str]) -> Output {
    run(bin()
        .current_dir(d)
        .args([
            "compare",
            "--gold",
            "precise.ndjson",
            "--pred",
            "rough=rough.ndjson",
            "--pred",
            "rough_eroded=rough_eroded.ndjson",
            "--baseline",
            "rough",
            "--criteria",
            criteria,
            "--out",
            out,
            "--gallery",
            "0",
            "--run-id",
            "attest",
            "--generated-at",
            "2026-01-01T00:00:00Z",
        ])
        // The photos lie outside the gold file's folder: the dataset manifest lists them.
        .arg("--image-root")
        .arg(crate::common::shared())
        .args(extra))
}

/// `maskgate COMMAND out/attestation.dsse.json ARGS…` from `d`.
fn on_attestation(d: &Path, command: &str, args: &[&str]) -> Output {
    run(bin()
        .current_dir(d)
        .args([command, "out/attestation.dsse.json"])
        .args(args))
}

fn verify(d: &Path, args: &[&str]) -> Output {
    on_attestation(d, "verify", args)
}

fn setup(name: &str) -> PathBuf {
    let d = fresh_dir("attest", name);
    crate::compare::fasseg_inputs(&d);
    std::fs::copy(
        repo("examples/fasseg-gate/criteria-go.toml"),
        d.join("criteria.toml"),
    )
    .unwrap();
    // The openssl-made key signs; maskgate keygen makes the other.
    openssl(
        &["genpkey", "-algorithm", "ed25519", "-out", "signer.key"],
        &d,
    );
    openssl(
        &["pkey", "-in", "signer.key", "-pubout", "-out", "signer.pub"],
        &d,
    );
    let o = run(bin().current_dir(&d).args(["keygen", "other"]));
    assert!(o.status.success(), "{}", text(&o));
    d
}

fn approve(d: &Path, args: &[&str]) -> Output {
    on_attestation(d, "approve", args)
}

fn envelope(d: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(d.join("out/attestation.dsse.json")).unwrap()).unwrap()
}

#[test]
fn a_signed_verdict_verifies_here_with_openssl_and_with_securesystemslib() {
    let d = setup("signed");
    let o = gate(&d, "criteria.toml", &["--sign-key", "signer.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let env = envelope(&d);
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    let payload = b64d(env["payload"].as_str().unwrap());
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["predicateType"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    assert_eq!(statement["predicate"]["result"], "PASSED");
    assert_eq!(statement["predicate"]["recommendation"], "go");
    assert_eq!(statement["predicate"]["criteriaPreRegistered"], false);
    assert_eq!(
        statement["predicate"]["passedTests"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // Subjects: both prediction files, the criteria, the dataset manifest and every report.
    let names: Vec<(&str, &str)> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["annotations"]["maskgate.kind"].as_str().unwrap(),
            )
        })
        .collect();
    for want in [
        ("rough.ndjson", "predictions"),
        ("rough_eroded.ndjson", "predictions"),
        ("criteria.toml", "criteria"),
        ("dataset.json", "dataset"),
        ("report.json", "report"),
        ("report.md", "report"),
        ("samples.jsonl", "report"),
    ] {
        assert!(names.contains(&want), "{want:?} not in {names:?}");
    }
    // The payload is canonical JSON: re-serialised with sorted keys it is the same bytes.
    let dataset: Value =
        serde_json::from_slice(&std::fs::read(d.join("out/dataset.json")).unwrap()).unwrap();
    let samples = dataset["corpora"][0]["samples"].as_array().unwrap();
    assert!(samples.len() >= 10, "{samples:?}");
    assert!(samples[0]["photo"]["sha256"].as_str().unwrap().len() == 64);
    let report_md = std::fs::read_to_string(d.join("out/report.md")).unwrap();
    assert!(report_md.contains("Criteria not pinned"), "{report_md}");

    // maskgate verify: go, as required.
    let o = verify(&d, &["--pubkey", "signer.pub", "--require", "go"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("the attestation holds; verdict go"));
    // A genuine verdict that is not the one required: 1.
    let o = verify(&d, &["--pubkey", "signer.pub", "--require", "no-go"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("the verdict is go, and no-go is required"));
    // Another key: 2.
    let o = verify(&d, &["--pubkey", "other/maskgate.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad signature"), "{}", text(&o));

    // openssl verifies the signature over DSSE's PAE bytes.
    let sig = b64d(env["signatures"][0]["sig"].as_str().unwrap());
    std::fs::write(
        d.join("pae.bin"),
        pae("application/vnd.in-toto+json", &payload),
    )
    .unwrap();
    std::fs::write(d.join("sig.bin"), &sig).unwrap();
    let o = openssl(
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "signer.pub",
            "-rawin",
            "-in",
            "pae.bin",
            "-sigfile",
            "sig.bin",
        ],
        &d,
    );
    assert!(
        text(&o).contains("Signature Verified Successfully"),
        "{}",
        text(&o)
    );
    // The keyid is the sha256 of the public key's DER, as openssl gives it.
    let der = openssl(
        &["pkey", "-pubin", "-in", "signer.pub", "-outform", "DER"],
        &d,
    )
    .stdout;
    let keyid = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&der))
    };
    assert_eq!(env["signatures"][0]["keyid"], keyid.as_str());

    // securesystemslib (PyPI), the in-toto project's DSSE implementation, verifies it too.
    // The venv's own interpreter (its link, not what it points to, so the venv's packages load).
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vendor/moto/bin/python");
    assert!(python.exists(), "run `bash scripts/setup_storage.sh`");
    let o = run(Command::new(&python)
        .arg(repo("tools/dsse_verify.py"))
        .args(["out/attestation.dsse.json", "signer.pub"])
        .current_dir(&d));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "go");
    let o = run(Command::new(&python)
        .arg(repo("tools/dsse_verify.py"))
        .args(["out/attestation.dsse.json", "other/maskgate.pub"])
        .current_dir(&d));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // An envelope signed by openssl (over the same PAE) verifies with maskgate.
    let openssl_sig = openssl(
        &[
            "pkeyutl",
            "-sign",
            "-inkey",
            "signer.key",
            "-rawin",
            "-in",
            "pae.bin",
        ],
        &d,
    )
    .stdout;
    let mut by_openssl = env.clone();
    // DSSE's keyid is a hint: another signer's own naming of the key does not matter.
    by_openssl["signatures"] =
        serde_json::json!([{ "keyid": "another-tool's-key-name", "sig": b64e(&openssl_sig) }]);
    let path = d.join("out/attestation.dsse.json");
    std::fs::write(&path, serde_json::to_vec(&by_openssl).unwrap()).unwrap();
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The same inputs give the same statement, byte for byte (Ed25519 is deterministic too).
    let o = gate(&d, "criteria.toml", &["--sign-key", "signer.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(envelope(&d), env);
}

/// Changes one byte of `file` in `d`, runs `verify`, restores it: exit and output.
fn tampered(d: &Path, file: &str) -> Output {
    let path = d.join(file);
    let original = std::fs::read(&path).unwrap();
    let mut changed = original.clone();
    let i = changed.len() / 2;
    changed[i] ^= 0x01;
    std::fs::write(&path, &changed).unwrap();
    let o = verify(d, &["--pubkey", "signer.pub"]);
    std::fs::write(&path, &original).unwrap();
    o
}

/// Signs `statement` with the openssl-made key, as an attacker holding that key could.
fn signed_envelope(d: &Path, statement: &Value) -> Value {
    let payload = serde_json::to_vec(statement).unwrap();
    std::fs::write(
        d.join("forged.pae"),
        pae("application/vnd.in-toto+json", &payload),
    )
    .unwrap();
    let sig = openssl(
        &[
            "pkeyutl",
            "-sign",
            "-inkey",
            "signer.key",
            "-rawin",
            "-in",
            "forged.pae",
        ],
        d,
    )
    .stdout;
    serde_json::json!({
        "payload": b64e(&payload),
        "payloadType": "application/vnd.in-toto+json",
        "signatures": [{ "keyid": "", "sig": b64e(&sig) }],
    })
}

#[test]
fn every_kind_of_tampering_is_refused_naming_what_failed() {
    let d = setup("tamper");
    let o = gate(&d, "criteria.toml", &["--sign-key", "signer.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        verify(&d, &["--pubkey", "signer.pub"]).status.code(),
        Some(0)
    );
    // One byte changed in each kind of subject.
    for (file, says) in [
        (
            "rough_eroded.ndjson",
            "subject \"rough_eroded.ndjson\" (predictions) changed",
        ),
        (
            "criteria.toml",
            "subject \"criteria.toml\" (criteria) changed",
        ),
        (
            "out/dataset.json",
            "subject \"dataset.json\" (dataset) changed",
        ),
        (
            "out/report.json",
            "subject \"report.json\" (report) changed",
        ),
        (
            "out/metrics.csv",
            "subject \"metrics.csv\" (report) changed",
        ),
    ] {
        let o = tampered(&d, file);
        assert_eq!(o.status.code(), Some(2), "{file}: {}", text(&o));
        assert!(text(&o).contains(says), "{file}: {}", text(&o));
    }
    // A missing subject.
    std::fs::rename(d.join("out/report.md"), d.join("report.md.away")).unwrap();
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("(report) is missing"), "{}", text(&o));
    std::fs::rename(d.join("report.md.away"), d.join("out/report.md")).unwrap();
    // A changed statement (the verdict edited) no longer matches its signature.
    let original = std::fs::read(d.join("out/attestation.dsse.json")).unwrap();
    let env: Value = serde_json::from_slice(&original).unwrap();
    let mut statement: Value =
        serde_json::from_slice(&b64d(env["payload"].as_str().unwrap())).unwrap();
    let mut edited = env.clone();
    let mut nogo = statement.clone();
    nogo["predicate"]["recommendation"] = "no-go".into();
    edited["payload"] = b64e(&serde_json::to_vec(&nogo).unwrap()).into();
    let write = |v: &Value| {
        std::fs::write(
            d.join("out/attestation.dsse.json"),
            serde_json::to_vec(v).unwrap(),
        )
        .unwrap()
    };
    write(&edited);
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad signature"), "{}", text(&o));
    // Re-signed by another key.
    let o = gate_to(
        &d,
        "criteria.toml",
        "resigned",
        &["--sign-key", "other/maskgate.key"],
    );
    assert!(o.status.code() == Some(0), "{}", text(&o));
    std::fs::copy(
        d.join("resigned/attestation.dsse.json"),
        d.join("out/attestation.dsse.json"),
    )
    .unwrap();
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad signature"), "{}", text(&o));
    // Unsigned.
    let mut unsigned = env.clone();
    unsigned["signatures"] = serde_json::json!([]);
    write(&unsigned);
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unsigned"), "{}", text(&o));
    // Truncated, malformed, oversized.
    std::fs::write(
        d.join("out/attestation.dsse.json"),
        &original[..original.len() / 2],
    )
    .unwrap();
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("malformed envelope"), "{}", text(&o));
    std::fs::write(d.join("out/attestation.dsse.json"), b"{\"payload\": 7}").unwrap();
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("malformed envelope"), "{}", text(&o));
    let big = std::fs::File::create(d.join("out/attestation.dsse.json")).unwrap();
    big.set_len(65 << 20).unwrap();
    drop(big);
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("ceiling"), "{}", text(&o));
    // Validly signed statements that name a path outside --root, or of an unknown type.
    let mut outside = statement.clone();
    outside["subject"][0]["name"] = "../../../etc/hostname".into();
    outside["subject"][0]["annotations"]["maskgate.kind"] = "model".into();
    write(&signed_envelope(&d, &outside));
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("outside --root"), "{}", text(&o));
    let mut in_set = statement.clone();
    let last = in_set["subject"].as_array().unwrap().len() - 1;
    in_set["subject"][last]["name"] = "../criteria.toml".into();
    write(&signed_envelope(&d, &in_set));
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("outside the report set"), "{}", text(&o));
    statement["predicateType"] = "https://slsa.dev/provenance/v1".into();
    write(&signed_envelope(&d, &statement));
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unknown predicate type"), "{}", text(&o));
    // A model that is not a subject.
    write(&env);
    let o = verify(&d, &["--pubkey", "signer.pub", "--model", "precise.ndjson"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not a model this verdict is about"),
        "{}",
        text(&o)
    );
    // A subject that is a link pointing out of --root is refused, not followed.
    let outside = fresh_dir("attest", "outside");
    std::fs::copy(d.join("criteria.toml"), outside.join("criteria.toml")).unwrap();
    std::fs::rename(d.join("criteria.toml"), d.join("criteria.toml.real")).unwrap();
    std::os::unix::fs::symlink(outside.join("criteria.toml"), d.join("criteria.toml")).unwrap();
    let o = verify(&d, &["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("resolves to a file outside --root"),
        "{}",
        text(&o)
    );
    std::fs::remove_file(d.join("criteria.toml")).unwrap();
    std::fs::rename(d.join("criteria.toml.real"), d.join("criteria.toml")).unwrap();
    assert_eq!(
        verify(&d, &["--pubkey", "signer.pub"]).status.code(),
        Some(0)
    );
    // The key never reaches the output, whatever failed: a private key given as the public one,
    // or the key's text pasted where its path belongs.
    let secret = std::fs::read_to_string(d.join("signer.key")).unwrap();
    let body = secret.lines().nth(1).unwrap();
    let o = verify(&d, &["--pubkey", "signer.key"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains(body));
    let o = gate(&d, "criteria.toml", &[&format!("--sign-key={secret}")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("holds key text, not a path"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains(body), "{}", text(&o));
    // Given as the next argument, the parser refuses it as an argument of its own, echoing
    // it: the echo is withheld too.
    let o = gate(&d, "criteria.toml", &["--sign-key", &secret]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("[PEM text withheld]"), "{}", text(&o));
    assert!(!text(&o).contains(body), "{}", text(&o));
}

#[test]
fn pinned_criteria_are_checked_before_any_work_and_approvals_are_counted() {
    let d = setup("pinned");
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(
            std::fs::read(d.join("criteria.toml")).unwrap(),
        ))
    };
    // A run config pins the criteria; a changed criteria file is refused before any work.
    let config = |pin: &str| {
        std::fs::write(
            d.join("gate.toml"),
            format!(
                "[run]\nbaseline = \"rough\"\ncriteria = \"criteria.toml\"\ncriteria_sha256 = \"{pin}\"\nout = \"pinned\"\ngallery = 0\n\n[[corpus]]\nname = \"fasseg\"\nformat = \"gold-ndjson\"\npath = \"precise.ndjson\"\n\n[[arm]]\nname = \"rough\"\npredictions = \"rough.ndjson\"\n\n[[arm]]\nname = \"rough_eroded\"\npredictions = \"rough_eroded.ndjson\"\n"
            ),
        )
        .unwrap()
    };
    let wrong = "0".repeat(64);
    config(&wrong);
    let o = run(bin().current_dir(&d).args(["run", "gate.toml"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "the file's sha256 is {sha}, [run] criteria_sha256 pins {wrong}"
        )),
        "{}",
        text(&o)
    );
    assert!(!d.join("pinned").exists(), "no work, no reports");
    config(&sha);
    let o = run(bin()
        .current_dir(&d)
        .args(["run", "gate.toml", "--sign-key", "signer.key"]));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let md = std::fs::read_to_string(d.join("pinned/report.md")).unwrap();
    assert!(md.contains("Criteria pre-registered: sha256"), "{md}");
    // A deploy step may insist on pre-registered criteria, and on these very criteria.
    let strict = |attestation: &str, extra: &[&str]| {
        run(bin()
            .current_dir(&d)
            .args([
                "verify",
                attestation,
                "--pubkey",
                "signer.pub",
                "--require-preregistered",
            ])
            .args(extra))
    };
    let o = strict("pinned/attestation.dsse.json", &["--criteria-sha256", &sha]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = strict(
        "pinned/attestation.dsse.json",
        &["--criteria-sha256", &wrong],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not the required"), "{}", text(&o));
    let o = gate(&d, "criteria.toml", &["--sign-key", "signer.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = strict("out/attestation.dsse.json", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("were not pre-registered"), "{}", text(&o));

    // The lock file beside the config pins them as well.
    std::fs::write(
        d.join("gate.toml"),
        std::fs::read_to_string(d.join("gate.toml"))
            .unwrap()
            .replace(&format!("criteria_sha256 = \"{sha}\"\n"), ""),
    )
    .unwrap();
    std::fs::write(d.join("criteria.lock"), format!("{wrong}  criteria.toml\n")).unwrap();
    let o = run(bin().current_dir(&d).args(["run", "gate.toml"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("criteria.lock pins"), "{}", text(&o));
    std::fs::remove_file(d.join("criteria.lock")).unwrap();

    // Criteria that require an approval: a go without one is not met (1), with one it holds.
    let criteria = std::fs::read_to_string(d.join("criteria.toml")).unwrap();
    std::fs::write(
        d.join("criteria.toml"),
        format!("requires_approval = 1\n{criteria}"),
    )
    .unwrap();
    let o = gate(&d, "criteria.toml", &["--sign-key", "signer.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let approved = |args: &[&str]| {
        verify(
            &d,
            &[args, &["--approver-pubkey", "other/maskgate.pub"]].concat(),
        )
    };
    let o = approved(&["--pubkey", "signer.pub", "--require", "go"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("0 of 1 required approvals"),
        "{}",
        text(&o)
    );
    // An approval by a key that is not an approver's counts for nothing.
    let o = approve(&d, &["--key", "signer.key", "--by", "Mallory"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = approved(&["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = approve(
        &d,
        &[
            "--key",
            "other/maskgate.key",
            "--by",
            "A. Reviewer",
            "--note",
            "checked the flagged slice",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = approved(&["--pubkey", "signer.pub", "--require", "go"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("approvals: 1 of 1 required, by A. Reviewer"),
        "{}",
        text(&o)
    );
    // Two approvals asked for, one approver: not met.
    let o = approved(&["--pubkey", "signer.pub", "--approvals", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // A new run's statement differs (new criteria bytes): the old approval does not carry over.
    std::fs::write(
        d.join("criteria.toml"),
        format!("requires_approval = 1\n# revised\n{criteria}"),
    )
    .unwrap();
    let o = gate(&d, "criteria.toml", &["--sign-key", "signer.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = approved(&["--pubkey", "signer.pub"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn a_swapped_model_file_and_a_model_the_gate_never_saw_are_refused() {
    let d = fresh_dir("attest", "model");
    let models = crate::common::shared().join("models");
    std::fs::copy(
        models.join("mediapipe_selfie_segmentation_256.onnx"),
        d.join("baseline.onnx"),
    )
    .unwrap();
    std::fs::copy(
        models.join("mediapipe_selfie_segmentation_landscape_144x256.onnx"),
        d.join("candidate.onnx"),
    )
    .unwrap();
    std::fs::write(
        d.join("criteria.toml"),
        "[[criterion]]\nid = \"no-collapse\"\nmetric = \"iou.mean\"\narm = \"candidate\"\nmin = 0.1\n",
    )
    .unwrap();
    let arm = |name: &str| {
        format!("[[arm]]\nname = \"{name}\"\nadapter = \"mediapipe-selfie\"\nmodel = \"{name}.onnx\"\nclass = \"foreground\"\n")
    };
    std::fs::write(
        d.join("gate.toml"),
        format!(
            "[run]\nbaseline = \"baseline\"\ncriteria = \"criteria.toml\"\nout = \"out\"\ngallery = 0\n\n[[corpus]]\nname = \"fasseg\"\nformat = \"fasseg\"\npath = \"{}\"\nlimit = 3\nclasses = {{ foreground = [\"hair\", \"skin\", \"eyes\", \"nose\", \"mouth\"] }}\n\n{}\n{}",
            crate::common::shared().join("data/fasseg/V2").display(),
            arm("baseline"),
            arm("candidate"),
        ),
    )
    .unwrap();
    let key = run(bin().current_dir(&d).args(["keygen", "keys"]));
    assert!(key.status.success(), "{}", text(&key));
    let o =
        run(bin()
            .current_dir(&d)
            .args(["run", "gate.toml", "--sign-key", "keys/maskgate.key"]));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: Value =
        serde_json::from_slice(&std::fs::read(d.join("out/report.json")).unwrap()).unwrap();
    // Both models scored every sample: the verdict is about work done.
    let rows = report["summaries"].as_array().unwrap();
    assert_eq!(rows.iter().filter(|r| r["group_by"] == "all").count(), 2);
    for row in rows.iter().filter(|r| r["group_by"] == "all") {
        assert_eq!(row["n_scored"], 3, "{row}");
    }
    let check =
        |args: &[&str]| verify(&d, &[&["--pubkey", "keys/maskgate.pub"][..], args].concat());
    let o = check(&["--model", "candidate.onnx", "--require", "go"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The baseline's file is a model of the verdict too, but the verdict is about replacing it:
    // it never promotes the baseline.
    let o = check(&["--model", "baseline.onnx"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is the baseline's (baseline)"),
        "{}",
        text(&o)
    );
    std::fs::write(d.join("other.onnx"), b"not the candidate").unwrap();
    let o = check(&["--model", "other.onnx"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(
            "is not a model this verdict is about (its models: baseline.onnx, candidate.onnx)"
        ),
        "{}",
        text(&o)
    );
    // The candidate's file swapped for another model after the gate: refused.
    std::fs::copy(d.join("baseline.onnx"), d.join("candidate.onnx")).unwrap();
    let o = check(&["--model", "candidate.onnx"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("subject \"candidate.onnx\" (model) changed"),
        "{}",
        text(&o)
    );
}
