//! What a config's corpora hold: sample counts, classes with pixel counts and shares (after
//! class mapping and void, over the sampled set), image sizes, and every problem found; and
//! overlay pictures of each sample's regions. `maskgate inspect` prints it.

use crate::error::{Error, Result};
use crate::read::{read_corpus, Corpus};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Per sample: pixels per class, (height, width), non-void pixels, and (sample, message) for
/// masks that failed.
type SampleCounts = (Vec<u64>, (u32, u32), u64, Vec<(String, String)>);

/// What the corpora of `config` hold (only `corpus`, when given), as one JSON document
/// `{"corpora": [...], "shared_photos": [...]}`; with `overlays`, one overlay PNG per loadable
/// sample under it; with `training`, a training manifest (as `[run] training_manifest` takes
/// it), also `"in_training"`: the corpora's photos it lists.
pub fn inspect(
    config: &Path,
    corpus: Option<&str>,
    overlays: Option<&Path>,
    training: Option<&Path>,
) -> Result<Value> {
    let specs = crate::config::load_corpora(config)?;
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let specs: Vec<_> = specs
        .into_iter()
        .filter(|s| corpus.is_none_or(|c| c == s.name))
        .collect();
    if specs.is_empty() {
        return Err(Error::file(
            config,
            format!(
                "no corpus named {:?} (corpora: {})",
                corpus.unwrap_or_default(),
                names.join(", ")
            ),
        ));
    }
    let mut out = Vec::new();
    let mut read = Vec::new();
    for spec in &specs {
        let corpus = read_corpus(spec)?;
        // Pixel counts per class (void excluded), summed in id order after a parallel pass
        // that loads one sample at a time per worker.
        let per_sample: Vec<Result<SampleCounts, crate::read::Problem>> = corpus
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
        let mut problems: Vec<crate::read::Problem> = corpus.problems.clone();
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
        if let Some(dir) = overlays {
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
            "duplicate_photos": corpus.duplicates,
            "held_out": corpus.held_out,
        }));
        read.push(corpus);
    }
    // Photos two corpora share, and those a training manifest lists, as a run reports them.
    let training = training
        .map(|p| {
            let shown = p.display().to_string();
            crate::read::shared::read_training_set(p, shown, &crate::limits::Limits::default())
        })
        .transpose()?;
    let shared = crate::read::shared::find(&read, training.as_ref());
    let mut doc = json!({ "corpora": out, "shared_photos": shared.between_corpora });
    if let Some(t) = &training {
        doc["training_manifest"] =
            json!({"path": t.shown, "photos": t.hashes.len(), "sha256": t.fingerprint()});
        doc["in_training"] = json!(shared.in_training);
    }
    Ok(doc)
}

/// One region overlay per loadable sample of `corpus`, into `dir`.
fn write_overlays(corpus: &Corpus, dir: &Path) -> Result<()> {
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
        let photo = crate::predict::image::SamplePhoto::new(s.image.as_deref(), corpus.limits());
        let file = dir.join(format!("{}.png", crate::pathnames::safe_component(&s.id)));
        crate::gallery::save_region_overlay(
            &file,
            photo.shown().ok(),
            &s,
            &shown,
            corpus.module_skin(),
        )?;
        Ok(())
    })?;
    Ok(())
}

/// The suspect labels a finished run found, for a label-review queue: `report` is a report
/// folder or its `report.json`. Returns `{"report", "rule", "excluded", "suspects": [...]}`.
pub fn suspects(report: &Path) -> Result<Value> {
    let file = match report.is_dir() {
        true => report.join("report.json"),
        false => report.to_path_buf(),
    };
    let bytes = crate::limits::read_within(&file, crate::limits::Limits::default().max_file_bytes)
        .map_err(|e| {
            let why = match e {
                crate::limits::Refused::Unreadable(m) | crate::limits::Refused::TooLarge(m) => m,
            };
            Error::file(
                &file,
                format!(
                    "{why}; run the gate first (maskgate run CONFIG), or name the report with --report"
                ),
            )
        })?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::file(&file, format!("not a maskgate report.json: {e}")))?;
    let Some(list) = doc.get("suspects").and_then(Value::as_array) else {
        return Err(Error::file(
            &file,
            "this report has no suspects list: it was written by an older maskgate; run the gate again with this one",
        ));
    };
    Ok(json!({
        "report": crate::pathnames::display(&file),
        "rule": doc.pointer("/settings/suspects").cloned().unwrap_or(Value::Null),
        "excluded": doc.get("suspects_excluded").cloned().unwrap_or(Value::Bool(false)),
        "suspects": list,
    }))
}
