//! `maskgate inspect CONFIG`: what the corpora of a config hold — sample counts, classes with
//! pixel counts and shares (after class mapping, over the sampled set), image sizes, and every
//! problem found — as a table or, with `--json`, as one JSON document.

use anyhow::Result;
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Args)]
#[command(
    about = "Show what a config's corpora hold: samples, classes with pixel shares, image sizes, problems",
    after_help = "Examples:\n  maskgate inspect examples/model-gate/maskgate.toml --json\n  maskgate inspect examples/crop-gate/maskgate.toml --suspects"
)]
pub struct InspectArgs {
    /// A run config (only its [[corpus]] tables are read).
    config: PathBuf,
    /// Only this corpus.
    #[arg(long)]
    corpus: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write one overlay PNG per sample into this folder: the photo with each face module
    /// (or, without modules, each class) tinted and outlined, the skin outlined in white.
    #[arg(long, value_name = "DIR")]
    overlays: Option<PathBuf>,
    /// Print the suspect labels the config's last run found (every arm agrees, all disagree
    /// with the ground truth): a label-review queue, one sample a line.
    #[arg(long)]
    suspects: bool,
    /// With --suspects: the report folder or report.json to read (default: the config's
    /// [run] out, else reports/run beside it).
    #[arg(long, value_name = "PATH", requires = "suspects")]
    report: Option<PathBuf>,
    /// Also list the corpora's photos this training manifest holds: a folder of photos, or
    /// their sha256 one a line (`sha256sum` output) or as a JSON array.
    #[arg(long, value_name = "PATH", conflicts_with = "suspects")]
    training_manifest: Option<PathBuf>,
}

pub fn run(a: InspectArgs) -> Result<u8> {
    if a.suspects {
        let report = match &a.report {
            Some(r) => r.clone(),
            None => report_folder(&a.config)?,
        };
        let doc = maskgate::inspect::suspects(&report)?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else {
            print_suspects(&doc);
        }
        return Ok(0);
    }
    let doc = maskgate::inspect::inspect(
        &a.config,
        a.corpus.as_deref(),
        a.overlays.as_deref(),
        a.training_manifest.as_deref(),
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(0);
    }
    let empty = Vec::new();
    for c in doc["corpora"].as_array().unwrap_or(&empty) {
        print_table(c);
    }
    let shared = doc["shared_photos"].as_array().unwrap_or(&empty);
    if !shared.is_empty() {
        println!(
            "photos shared between corpora (byte-identical): {}",
            shared.len()
        );
        print_photos(shared);
    }
    if let Some(t) = doc.get("training_manifest") {
        let listed = doc["in_training"].as_array().unwrap_or(&empty);
        println!(
            "photos the training manifest {} lists ({} photos) that a corpus holds: {}",
            t["path"].as_str().unwrap_or(""),
            t["photos"],
            listed.len()
        );
        print_photos(listed);
    }
    if let Some(dir) = &a.overlays {
        eprintln!("overlays: {}", dir.display());
    }
    Ok(0)
}

/// One line per photo: its hash and the samples that hold it.
fn print_photos(photos: &[Value]) {
    for p in photos {
        let held: Vec<String> = (p["samples"].as_array().into_iter().flatten())
            .map(|s| {
                format!(
                    "{}: {}",
                    s["corpus"].as_str().unwrap_or(""),
                    s["id"].as_str().unwrap_or("")
                )
            })
            .collect();
        println!(
            "  {} {}",
            maskgate::fmt::hash_prefix(p["sha256"].as_str().unwrap_or("")),
            held.join(" = ")
        );
    }
}

/// One corpus as an aligned table: the class column as wide as its longest name.
fn print_table(c: &Value) {
    println!(
        "corpus {} ({}): {} sample{}",
        c["name"].as_str().unwrap_or(""),
        c["format"].as_str().unwrap_or(""),
        c["samples"],
        if c["samples"] == 1 { "" } else { "s" }
    );
    let classes: Vec<(&String, &Value)> = c["classes"].as_object().into_iter().flatten().collect();
    let width = classes
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(5);
    println!("  {:<width$} {:>14} {:>8}", "class", "pixels", "share");
    for (name, v) in classes {
        println!(
            "  {:<width$} {:>14} {:>7.2}%",
            name,
            v["pixels"].as_u64().unwrap_or(0),
            v["share"].as_f64().unwrap_or(0.0) * 100.0
        );
    }
    let sizes: Vec<String> = c["sizes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{}: {v}", k.replace('x', "×")))
        .collect();
    println!("  image sizes (W×H: samples): {}", sizes.join(", "));
    let problems = c["problems"].as_array().map(Vec::len).unwrap_or(0);
    let dups = c["duplicate_photos"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !dups.is_empty() {
        let groups: Vec<String> = dups
            .iter()
            .map(|g| {
                g.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(" = ")
            })
            .collect();
        println!(
            "  duplicate photos (byte-identical): {} ({}; dedupe = \"keep-first\" keeps the first)",
            groups.len(),
            groups.join("; ")
        );
    }
    println!("  problems: {problems}");
    for p in c["problems"].as_array().into_iter().flatten() {
        println!(
            "    {} [{}] {}",
            p["sample"].as_str().unwrap_or(""),
            p["kind"].as_str().unwrap_or(""),
            p["message"].as_str().unwrap_or("")
        );
    }
}

/// Where `maskgate run CONFIG` writes its reports, resolved as the run resolves it (flag,
/// `MASKGATE_OUT`, `[run] out`, default) by the plan's own `explain`.
fn report_folder(config: &std::path::Path) -> Result<PathBuf> {
    let request = maskgate::plan::Request::Run {
        config: config.to_path_buf(),
    };
    let env = maskgate::plan::Env::from_process();
    let out = maskgate::plan::explain(&request, &Default::default(), &env)?
        .into_iter()
        .find(|r| r.name == maskgate::plan::settings::OUT.name)
        .map(|r| PathBuf::from(r.value));
    out.ok_or_else(|| anyhow::anyhow!("{}: no output folder resolved", config.display()))
}

/// The suspects as a review queue: corpus, sample id, photo hash, agreement, each arm's mIoU.
fn print_suspects(doc: &Value) {
    let empty = Vec::new();
    let list = doc["suspects"].as_array().unwrap_or(&empty);
    println!(
        "{} suspect label{} in {}{}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        doc["report"].as_str().unwrap_or(""),
        if doc["excluded"] == true {
            " (left out of the verdict)"
        } else {
            ""
        }
    );
    for s in list {
        let mious: Vec<String> = s["miou"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(arm, v)| format!("{arm} {:.3}", v.as_f64().unwrap_or(f64::NAN)))
            .collect();
        println!(
            "{}\t{}\t{}\tagreement {:.3}\tmIoU {}",
            s["corpus"].as_str().unwrap_or(""),
            s["id"].as_str().unwrap_or(""),
            s["hash"].as_str().unwrap_or(""),
            s["agreement"].as_f64().unwrap_or(f64::NAN),
            mious.join(", ")
        );
    }
}
