//! `gold-ndjson`: human gold labels, one sample a line (see [`super::ndjson`]).

use super::{Corpus, CorpusReader, CorpusSpec};
use crate::error::{Error, Result};
use crate::model::{sample_hash, Sample};
use std::collections::{BTreeMap, BTreeSet};

pub struct GoldNdjson;

impl CorpusReader for GoldNdjson {
    fn format(&self) -> &'static str {
        "gold-ndjson"
    }

    fn read(&self, spec: &CorpusSpec) -> Result<Corpus> {
        let path = &spec.path;
        let mut samples = Vec::new();
        let mut classes = BTreeSet::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        super::ndjson::for_each_line(path, |line| {
            if let Some(first) = seen.insert(line.id.clone(), line.line_no) {
                return Err(Error::input(
                    path,
                    line.line_no,
                    format!("duplicate id {:?} (first on line {first})", line.id),
                ));
            }
            let mut gt = BTreeMap::new();
            for (class, mask) in line.masks {
                let mask = mask.map_err(|m| Error::input(path, line.line_no, m))?;
                classes.insert(class.clone());
                gt.insert(class, mask);
            }
            let size = match line.size.or_else(|| gt.values().next().map(|m| m.size())) {
                Some(s) => s,
                None => {
                    return Err(Error::input(
                        path,
                        line.line_no,
                        "no \"size\" and no mask to take it from",
                    ))
                }
            };
            if let Some((class, m)) = gt.iter().find(|(_, m)| m.size() != size) {
                let (h, w) = m.size();
                return Err(Error::input(
                    path,
                    line.line_no,
                    format!(
                        "class {class:?} is {h}x{w} but the sample is {}x{}",
                        size.0, size.1
                    ),
                ));
            }
            let image = line.image.map(|p| {
                let p = std::path::PathBuf::from(p);
                match (p.is_relative(), path.parent()) {
                    (true, Some(dir)) => dir.join(p),
                    _ => p,
                }
            });
            samples.push(Sample {
                hash: sample_hash(&spec.name, &line.id),
                id: line.id,
                source: line.source,
                image,
                size,
                gt,
                notes: line.notes,
                meta: line.meta,
            });
            Ok(())
        })?;
        Ok(Corpus {
            name: spec.name.clone(),
            format: self.format(),
            classes: classes.into_iter().collect(),
            samples,
            problems: Vec::new(),
        })
    }
}
