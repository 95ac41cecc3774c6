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
    after_help = "Example:\n  maskgate inspect examples/model-gate/maskgate.toml --json"
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
}

pub fn run(a: InspectArgs) -> Result<u8> {
    let doc = maskgate::inspect::inspect(&a.config, a.corpus.as_deref(), a.overlays.as_deref())?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(0);
    }
    let empty = Vec::new();
    for c in doc["corpora"].as_array().unwrap_or(&empty) {
        print_table(c);
    }
    if let Some(dir) = &a.overlays {
        eprintln!("overlays: {}", dir.display());
    }
    Ok(0)
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
