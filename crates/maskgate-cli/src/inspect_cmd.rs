//! `maskgate inspect CONFIG`: what the corpora of a config hold — sample counts, classes with
//! pixel counts and shares (after class mapping, over the sampled set), image sizes, and every
//! problem found — as a table or, with `--json`, as one JSON document.

use anyhow::{Context, Result};
use clap::Args;
use maskgate::read::read_corpus;
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
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

/// Per sample: pixels per class, (height, width), non-void pixels, and (sample, message) for
/// masks that failed.
type SampleCounts = (Vec<u64>, (u32, u32), u64, Vec<(String, String)>);

pub fn run(a: InspectArgs) -> Result<u8> {
    let specs = maskgate::config::load_corpora(&a.config)?;
    let specs: Vec<_> = specs
        .into_iter()
        .filter(|s| a.corpus.as_ref().is_none_or(|c| *c == s.name))
        .collect();
    if specs.is_empty() {
        anyhow::bail!(
            "no corpus named {:?} in {}",
            a.corpus.unwrap_or_default(),
            a.config.display()
        );
    }
    let mut out = Vec::new();
    for spec in &specs {
        let corpus =
            read_corpus(spec).with_context(|| format!("reading corpus {:?}", spec.name))?;
        // Pixel counts per class (void excluded), summed in id order after a parallel pass
        // that loads one sample at a time per worker.
        let per_sample: Vec<Result<SampleCounts, maskgate::read::Problem>> = corpus
            .samples
            .par_iter()
            .map(|e| {
                let s = corpus.load(e)?;
                let mut bad = Vec::new();
                let keep = s.kept_region(None).unwrap_or_else(|err| {
                    bad.push((s.id.clone(), format!("void: {err}")));
                    None
                });
                let counts = corpus
                    .classes
                    .iter()
                    .map(|c| match s.gt.get(c).map(|m| m.rasterize(None)) {
                        Some(Ok(m)) => match &keep {
                            Some(k) => m.intersection_count(k),
                            None => m.area(),
                        },
                        Some(Err(err)) => {
                            bad.push((s.id.clone(), format!("class {c:?}: {err}")));
                            0
                        }
                        None => 0,
                    })
                    .collect();
                let valid = keep
                    .as_ref()
                    .map_or(s.size.0 as u64 * s.size.1 as u64, |k| k.area());
                Ok((counts, s.size, valid, bad))
            })
            .collect();
        let mut total = 0u64;
        let mut loaded = 0usize;
        let mut pixels = vec![0u64; corpus.classes.len()];
        let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
        let mut problems: Vec<maskgate::read::Problem> = corpus.problems.clone();
        let mut bad_masks: Vec<Value> = Vec::new();
        for r in &per_sample {
            let (counts, (h, w), valid, bad) = match r {
                Ok(c) => c,
                Err(p) => {
                    problems.push(p.clone());
                    continue;
                }
            };
            loaded += 1;
            total += valid;
            pixels.iter_mut().zip(counts).for_each(|(p, c)| *p += c);
            *sizes.entry(format!("{w}x{h}")).or_default() += 1;
            bad_masks.extend(
                bad.iter()
                    .map(|(id, m)| json!({"sample": id, "kind": "bad_mask", "message": m})),
            );
        }
        problems.sort_by(|a, b| a.sample.cmp(&b.sample));
        if let Some(dir) = &a.overlays {
            write_overlays(&corpus, &dir.join(&corpus.name))?;
        }
        let mut problems: Vec<Value> = problems
            .iter()
            .map(|p| json!({"sample": p.sample, "kind": p.kind, "message": p.message}))
            .collect();
        problems.extend(bad_masks);
        let classes: Map<String, Value> = corpus
            .classes
            .iter()
            .zip(&pixels)
            .map(|(c, &p)| (c.clone(), json!({"pixels": p, "share": if total > 0 { p as f64 / total as f64 } else { 0.0 }})))
            .collect();
        out.push(json!({
            "name": corpus.name, "format": corpus.format, "samples": loaded,
            "classes": classes, "sizes": sizes, "problems": problems,
        }));
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "corpora": out }))?
        );
        return Ok(0);
    }
    for c in &out {
        println!(
            "corpus {} ({}): {} samples",
            c["name"].as_str().unwrap_or(""),
            c["format"].as_str().unwrap_or(""),
            c["samples"]
        );
        println!("  {:<20} {:>14} {:>8}", "class", "pixels", "share");
        for (name, v) in c["classes"].as_object().into_iter().flatten() {
            println!(
                "  {:<20} {:>14} {:>7.2}%",
                name,
                v["pixels"],
                v["share"].as_f64().unwrap_or(0.0) * 100.0
            );
        }
        let sizes: Vec<String> = c["sizes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        println!("  image sizes: {}", sizes.join(", "));
        let problems = c["problems"].as_array().map(Vec::len).unwrap_or(0);
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
    Ok(0)
}

/// One region overlay per loadable sample of `corpus`, into `dir`.
fn write_overlays(corpus: &maskgate::read::Corpus, dir: &std::path::Path) -> Result<()> {
    let modules = corpus.module_names();
    let shown = if modules.is_empty() {
        corpus.classes.clone()
    } else {
        modules
    };
    corpus.samples.par_iter().try_for_each(|e| -> Result<()> {
        let Ok(s) = corpus.load(e) else {
            return Ok(()); // already listed among the problems
        };
        let photo = maskgate::predict::image::SamplePhoto::new(s.image.as_deref());
        let file = dir.join(format!("{}.png", maskgate::gallery::safe_file_name(&s.id)));
        maskgate::gallery::save_region_overlay(
            &file,
            photo.pixels().ok(),
            &s,
            &shown,
            corpus.module_skin(),
        )?;
        Ok(())
    })?;
    eprintln!(
        "overlays: {} ({} classes: {})",
        dir.display(),
        shown.len(),
        shown.join(", ")
    );
    Ok(())
}
