//! `sql`: a corpus that is a database query (the team's human-flagged crops, say). The rows come
//! from [`crate::source::database`], the photos and mask files from a folder (`images`).
//!
//! ```toml
//! [[corpus]]
//! name = "flagged"
//! format = "sql"
//! url = "sqlite:data/app.db"        # or postgres://user@host/db (password: PGPASSWORD, ~/.pgpass)
//! images = "media/"                 # root of relative image and mask paths (default: config folder)
//! query_file = "flagged.sql"        # or query = "SELECT …"
//! mask_class = "foreground"         # the class a single `mask` column is (default "foreground")
//! ```
//!
//! Result columns are read by name: `id` (required, unique), `image` (a path), the ground truth
//! as `masks` (JSON in gold-NDJSON shape, `{"<class>": <COCO RLE | {"polygons": …}>}`) or `mask`
//! (image bytes, non-black = the class; a path to a mask image; or RLE/polygon JSON text),
//! `notes`, `source`, and `meta` (a JSON object). Every other column goes into `meta` under its
//! own name (text holding a JSON object or array is parsed, as SQLite stores JSON as text).
//!
//! Rows stream once: each row's ground truth goes to an anonymous spill file and the listing
//! keeps only ids, notes and meta, so memory grows with the per-sample scores, not the masks.
//! The listing records the dataset version: the query and its sha256, the row count, and a
//! sha256 over every row's canonical content in id order.

use super::{
    CorpusReader, CorpusSpec, DatasetVersion, Entry, Listing, LoadError, LoadTruth, Problem, Truth,
};
use crate::error::{Error, Result};
use crate::model::MaskData;
use crate::source::database::{self, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Mutex;

pub struct Sql;

const OPTIONS: &[&str] = &["url", "query", "query_file", "images", "mask_class"];
const DEFAULT_MASK_CLASS: &str = "foreground";

/// Where each meaning lives among the result's columns.
struct Columns {
    names: Vec<String>,
    id: usize,
    image: Option<usize>,
    masks: Option<usize>,
    mask: Option<usize>,
    notes: Option<usize>,
    source: Option<usize>,
    meta: Option<usize>,
}

impl Columns {
    fn find(names: &[String]) -> std::result::Result<Columns, String> {
        let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        let mut seen = BTreeSet::new();
        if let Some(d) = lower.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(format!("the query returns two columns named {d:?}"));
        }
        let at = |n: &str| lower.iter().position(|c| c == n);
        let listed = || names.join(", ");
        let id = at("id").ok_or_else(|| {
            format!(
                "the query returns no `id` column (it returns: {}); alias one, e.g. `r.id AS id`",
                listed()
            )
        })?;
        let (masks, mask) = (at("masks"), at("mask"));
        match (masks, mask) {
            (None, None) => {
                return Err(format!(
                    "the query returns no ground truth: name a column `masks` (JSON, class → mask) or `mask` (one mask of mask_class); it returns: {}",
                    listed()
                ))
            }
            (Some(_), Some(_)) => {
                return Err("the query returns both `masks` and `mask`; keep one".into())
            }
            _ => {}
        }
        Ok(Columns {
            names: lower.clone(),
            id,
            image: at("image"),
            masks,
            mask,
            notes: at("notes"),
            source: at("source"),
            meta: at("meta"),
        })
    }

    fn is_named(&self, i: usize) -> bool {
        [
            Some(self.id),
            self.image,
            self.masks,
            self.mask,
            self.notes,
            self.source,
            self.meta,
        ]
        .contains(&Some(i))
    }
}

/// One row's ground truth as spilled: what kind, then its bytes.
#[derive(Clone, Copy, PartialEq, Debug)]
#[repr(u8)]
enum Payload {
    /// `masks`: canonical JSON text of class → mask.
    Masks = 0,
    /// `mask`: encoded image bytes.
    ImageBytes = 1,
    /// `mask`: a path to a mask image (relative to the images root).
    ImagePath = 2,
    /// `mask`: canonical JSON text of one RLE or polygon mask.
    MaskJson = 3,
}

impl Payload {
    fn from_u8(b: u8) -> Option<Payload> {
        [
            Payload::Masks,
            Payload::ImageBytes,
            Payload::ImagePath,
            Payload::MaskJson,
        ]
        .into_iter()
        .find(|p| *p as u8 == b)
    }
}

/// JSON with object keys sorted at every depth and no whitespace: the same document from
/// SQLite's text and PostgreSQL's jsonb gives the same bytes.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                serde_json::Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// A JSON value from a column that holds JSON (PostgreSQL json/jsonb, or text in SQLite).
fn json_of(v: &Value) -> std::result::Result<Option<serde_json::Value>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Json(j) => Ok(Some(j.clone())),
        Value::Text(t) => serde_json::from_str(t)
            .map(Some)
            .map_err(|e| format!("not JSON: {e}")),
        other => Err(format!("expected JSON, got {}", kind_name(other))),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Int(_) => "an integer",
        Value::Real(_) => "a number",
        Value::Text(_) => "text",
        Value::Bytes(_) => "bytes",
        Value::Json(_) => "JSON",
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Real(x) => Some(ryu::Buffer::new().format(*x).to_string()),
        _ => None,
    }
}

/// Any other column's value as it goes into `meta`.
fn meta_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Int(n) => (*n).into(),
        Value::Real(x) => serde_json::Number::from_f64(*x)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(t) => {
            let looks_json = t.trim_start().starts_with(['{', '[']);
            match serde_json::from_str::<serde_json::Value>(t) {
                Ok(j) if looks_json => j,
                _ => serde_json::Value::String(t.clone()),
            }
        }
        Value::Json(j) => j.clone(),
        Value::Bytes(_) => unreachable!("binary columns are refused before"),
    }
}

struct RowOut {
    entry: Entry,
    payload: Payload,
    bytes: Vec<u8>,
    /// Class names a `masks` object names.
    classes: Vec<String>,
    /// The `image` value as the row holds it (the fingerprint must not depend on where the
    /// images folder is).
    image_text: Option<String>,
}

impl CorpusReader for Sql {
    fn format(&self) -> &'static str {
        "sql"
    }

    fn open(&self, spec: &CorpusSpec) -> Result<Listing> {
        spec.check_options(OPTIONS)?;
        spec.refuse_split()?;
        let usage = |m: String| Error::Usage(format!("corpus {:?}: {m}", spec.name));
        if !spec.ignore.is_empty() || !spec.classes.is_empty() {
            return Err(usage(
                "sql masks are already in evaluation classes (`masks` keys, or `mask_class`); `classes` and `ignore` do not apply".into(),
            ));
        }
        let base = &spec.path;
        let url = spec
            .options
            .get("url")
            .ok_or_else(|| usage("format sql needs `url`".into()))?;
        let mut index_files = Vec::new();
        let query = match (spec.options.get("query"), spec.options.get("query_file")) {
            (Some(q), None) => q.clone(),
            (None, Some(f)) => {
                let p = base.join(f);
                let q = crate::limits::read_text(&p)?;
                index_files.push(p);
                q
            }
            _ => return Err(usage("give exactly one of `query` and `query_file`".into())),
        };
        let images = super::paths::resolved(
            &base.join(
                spec.options
                    .get("images")
                    .map(String::as_str)
                    .unwrap_or("."),
            ),
        );
        if !images.is_dir() {
            return Err(usage(format!(
                "images = {:?} is not a folder",
                crate::pathnames::display(&images)
            )));
        }
        let mask_class = spec
            .options
            .get("mask_class")
            .cloned()
            .unwrap_or_else(|| DEFAULT_MASK_CLASS.into());

        let mut db = database::connect(url, base, spec.network)?;
        let cols: std::cell::OnceCell<Columns> = std::cell::OnceCell::new();
        let mut spill =
            BufWriter::new(tempfile::tempfile().map_err(|e| Error::io(std::env::temp_dir(), e))?);
        let mut at = 0u64;
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        let mut classes = BTreeSet::new();
        let mut row_hashes: Vec<(String, [u8; 32])> = Vec::new();
        let mut rows = 0usize;
        let shown_url = database::redact(url);
        db.stream(
            &query,
            &mut |names| {
                let found =
                    Columns::find(names).map_err(|m| database::db_error(url, "query result", m))?;
                let _ = cols.set(found);
                Ok(())
            },
            &mut |row| {
                rows += 1;
                let cols = cols.get().expect("the columns come before the first row");
                let out = match read_row(&spec.name, cols, &row, &images, &shown_url)? {
                    Ok(out) => out,
                    Err(p) => {
                        problems.push(Problem {
                            sample: p.0,
                            kind: p.1.into(),
                            message: p.2,
                        });
                        return Ok(());
                    }
                };
                let mut entry = out.entry;
                row_hashes.push((
                    entry.id.clone(),
                    row_hash(&entry, out.image_text.as_deref(), out.payload, &out.bytes),
                ));
                classes.extend(out.classes);
                entry.at = at;
                let write = |w: &mut BufWriter<std::fs::File>| -> std::io::Result<()> {
                    w.write_all(&[out.payload as u8])?;
                    w.write_all(&(out.bytes.len() as u64).to_le_bytes())?;
                    w.write_all(&out.bytes)
                };
                write(&mut spill).map_err(|e| Error::io(std::env::temp_dir(), e))?;
                at += 9 + out.bytes.len() as u64;
                entries.push(entry);
                Ok(())
            },
        )?;
        let Some(cols) = cols.get() else {
            return Err(usage(format!(
                "database {shown_url}: the query returned no result set"
            )));
        };
        if cols.mask.is_some() {
            classes.insert(mask_class.clone());
        }

        row_hashes.sort_by(|a, b| a.0.cmp(&b.0));
        let duplicates: BTreeSet<&str> = row_hashes
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .map(|w| w[0].0.as_str())
            .collect();
        if !duplicates.is_empty() {
            let shown: Vec<String> = duplicates
                .iter()
                .take(10)
                .map(|d| format!("{d:?}"))
                .collect();
            return Err(usage(format!(
                "database {shown_url}: the query returns {} id(s) more than once: {}{} (one row per sample; check the joins)",
                duplicates.len(),
                shown.join(", "),
                if duplicates.len() > 10 { ", …" } else { "" }
            )));
        }
        let mut h = Sha256::new();
        for (id, rh) in &row_hashes {
            h.update((id.len() as u64).to_le_bytes());
            h.update(id.as_bytes());
            h.update(rh);
        }
        let version = DatasetVersion {
            source: shown_url,
            query_sha256: hex::encode(Sha256::digest(query.as_bytes())),
            query,
            rows,
            rows_sha256: hex::encode(h.finalize()),
        };
        let file = spill
            .into_inner()
            .map_err(|e| Error::io(std::env::temp_dir(), e.into_error()))?;
        Ok(Listing {
            classes: classes.into_iter().collect(),
            entries,
            problems,
            loader: Box::new(Loader {
                spill: Mutex::new(file),
                mask_class,
                limits: spec.limits,
            }),
            root: Some(images),
            index_files,
            version: Some(version),
        })
    }
}

/// A per-row problem: (sample, kind, message).
type RowProblem = (String, &'static str, String);

/// One row as a listed sample and its spilled ground truth, or that row's problem. A query
/// whose shape is wrong (a binary column other than `mask`) is an error for the whole corpus.
fn read_row(
    corpus: &str,
    cols: &Columns,
    row: &[Value],
    images: &Path,
    url: &str,
) -> Result<std::result::Result<RowOut, RowProblem>> {
    let id = match &row[cols.id] {
        Value::Text(t) if !t.is_empty() => t.clone(),
        Value::Int(n) => n.to_string(),
        other => {
            return Ok(Err((
                format!("<row with id {}>", kind_name(other)),
                "bad_row",
                format!(
                    "`id` must be non-empty text or an integer, got {}",
                    kind_name(other)
                ),
            )))
        }
    };
    let problem = |kind: &'static str, m: String| Ok(Err((id.clone(), kind, m)));
    let mut entry = Entry::new(corpus, id.clone());
    let image_text = cols.image.and_then(|i| text_of(&row[i]));
    entry.image = image_text.as_ref().map(|p| images.join(p));
    if let Some(i) = cols.notes {
        entry.notes = text_of(&row[i]);
    }
    if let Some(i) = cols.source {
        entry.source = text_of(&row[i]);
    }
    let mut meta = serde_json::Map::new();
    if let Some(i) = cols.meta {
        match json_of(&row[i]) {
            Ok(None) => {}
            Ok(Some(serde_json::Value::Object(m))) => meta = m,
            Ok(Some(_)) => return problem("bad_row", "`meta` must be a JSON object".into()),
            Err(m) => return problem("bad_row", format!("`meta`: {m}")),
        }
    }
    for (i, v) in row.iter().enumerate() {
        if cols.is_named(i) {
            continue;
        }
        if let Value::Bytes(_) = v {
            return Err(Error::Usage(format!(
                "database {url}: column {:?} holds bytes; only `mask` may (drop it from the query or cast it)",
                cols.names[i]
            )));
        }
        meta.insert(cols.names[i].clone(), meta_value(v));
    }
    entry.meta = crate::model::Meta::new(meta);
    let mut classes = Vec::new();
    let (payload, bytes) = if let Some(i) = cols.masks {
        match json_of(&row[i]) {
            Ok(None) => return problem("no_ground_truth", "`masks` is NULL".into()),
            Ok(Some(serde_json::Value::Object(m))) => {
                classes.extend(m.keys().cloned());
                (
                    Payload::Masks,
                    canonical_json(&serde_json::Value::Object(m)).into_bytes(),
                )
            }
            Ok(Some(_)) => {
                return problem(
                    "bad_mask",
                    "`masks` must be a JSON object of class → mask".into(),
                )
            }
            Err(m) => return problem("bad_mask", format!("`masks`: {m}")),
        }
    } else {
        let i = cols.mask.expect("Columns::find requires mask or masks");
        match &row[i] {
            Value::Null => return problem("no_ground_truth", "`mask` is NULL".into()),
            Value::Bytes(b) => (Payload::ImageBytes, b.clone()),
            Value::Json(j) => (Payload::MaskJson, canonical_json(j).into_bytes()),
            Value::Text(t) if t.trim_start().starts_with('{') => {
                match serde_json::from_str::<serde_json::Value>(t) {
                    Ok(j) => (Payload::MaskJson, canonical_json(&j).into_bytes()),
                    Err(e) => return problem("bad_mask", format!("`mask` is not JSON: {e}")),
                }
            }
            Value::Text(t) => {
                entry.files.push(images.join(t));
                (Payload::ImagePath, t.clone().into_bytes())
            }
            other => {
                return problem(
                    "bad_mask",
                    format!(
                        "`mask` must be image bytes, a path or JSON, got {}",
                        kind_name(other)
                    ),
                )
            }
        }
    };
    Ok(Ok(RowOut {
        entry,
        payload,
        bytes,
        classes,
        image_text,
    }))
}

/// sha256 over one row's canonical content: what the sample is made of, not how the database
/// typed it.
fn row_hash(e: &Entry, image: Option<&str>, payload: Payload, bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut field = |tag: &str, v: &[u8]| {
        h.update(tag.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v);
    };
    field("image", image.unwrap_or("\0").as_bytes());
    field("notes", e.notes.as_deref().unwrap_or("\0").as_bytes());
    field("source", e.source.as_deref().unwrap_or("\0").as_bytes());
    field(
        "meta",
        canonical_json(&serde_json::Value::Object(e.meta.to_map())).as_bytes(),
    );
    field("truth", &[payload as u8]);
    field("bytes", bytes);
    h.finalize().into()
}

struct Loader {
    spill: Mutex<std::fs::File>,
    mask_class: String,
    limits: crate::limits::Limits,
}

impl Loader {
    fn payload(&self, at: u64) -> std::result::Result<(Payload, Vec<u8>), String> {
        let mut f = self.spill.lock().map_err(|_| "spill file lock poisoned")?;
        let mut head = [0u8; 9];
        f.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
        f.read_exact(&mut head).map_err(|e| e.to_string())?;
        let kind = Payload::from_u8(head[0]).ok_or("corrupt spill record")?;
        let len = u64::from_le_bytes(head[1..].try_into().expect("8 bytes"));
        let mut bytes = vec![0u8; len as usize];
        f.read_exact(&mut bytes).map_err(|e| e.to_string())?;
        Ok((kind, bytes))
    }

    /// A mask image's bytes as a mask: any non-black pixel is the class. The header is checked
    /// against the limits before the pixels are decoded.
    fn image_mask(&self, bytes: &[u8]) -> std::result::Result<MaskData, LoadError> {
        let bad = |m: String| LoadError::new("bad_mask", format!("mask image: {m}"));
        let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| bad(e.to_string()))?;
        let (w, h) = reader.into_dimensions().map_err(|e| bad(e.to_string()))?;
        super::files::check_canvas(&self.limits, w, h)?;
        let img = image::load_from_memory(bytes)
            .map_err(|e| bad(e.to_string()))?
            .to_rgb8();
        let m = maskgate_core::Mask::from_fn(h, w, |y, x| img.get_pixel(x, y).0 != [0, 0, 0]);
        Ok(MaskData::Mask(m))
    }
}

impl LoadTruth for Loader {
    fn load(&self, e: &Entry) -> std::result::Result<Truth, LoadError> {
        let (kind, bytes) = self
            .payload(e.at)
            .map_err(|m| LoadError::new("unreadable_label", format!("spill file: {m}")))?;
        // Polygons take their canvas from the photo.
        let photo_size = || {
            e.image
                .as_deref()
                .and_then(|p| super::files::image_dims(p).ok())
                .map(|(w, h)| (h, w))
        };
        let json = || {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .map_err(|x| LoadError::new("bad_mask", x.to_string()))
        };
        let mut gt = BTreeMap::new();
        match kind {
            Payload::Masks => {
                let v = json()?;
                for (class, m) in v.as_object().into_iter().flatten() {
                    let mask = super::ndjson::parse_mask(m, photo_size())
                        .map_err(|x| LoadError::new("bad_mask", format!("class {class:?}: {x}")))?;
                    gt.insert(class.clone(), mask);
                }
            }
            Payload::MaskJson => {
                let mask = super::ndjson::parse_mask(&json()?, photo_size())
                    .map_err(|x| LoadError::new("bad_mask", x))?;
                gt.insert(self.mask_class.clone(), mask);
            }
            Payload::ImageBytes => {
                gt.insert(self.mask_class.clone(), self.image_mask(&bytes)?);
            }
            Payload::ImagePath => {
                let path = e.files.first().ok_or_else(|| {
                    LoadError::new("unreadable_label", "mask path missing from the listing")
                })?;
                let data =
                    crate::limits::read_within(path, self.limits.max_file_bytes).map_err(|r| {
                        match r {
                            crate::limits::Refused::Unreadable(m) => {
                                LoadError::new("unreadable_label", m)
                            }
                            crate::limits::Refused::TooLarge(m) => {
                                LoadError::new("mask_too_large", m)
                            }
                        }
                    })?;
                gt.insert(self.mask_class.clone(), self.image_mask(&data)?);
            }
        }
        let size = gt
            .values()
            .next()
            .map(|m: &MaskData| m.size())
            .ok_or_else(|| LoadError::new("no_ground_truth", "`masks` names no class"))?;
        if let Some((class, m)) = gt.iter().find(|(_, m)| m.size() != size) {
            return Err(LoadError::new(
                "size_mismatch",
                format!(
                    "class {class:?} is {:?} but another mask is {size:?}",
                    m.size()
                ),
            ));
        }
        if let Some(image) = &e.image {
            super::files::check_image_size(image, size)?;
        }
        Ok(Truth {
            size,
            gt,
            ..Default::default()
        })
    }
}
