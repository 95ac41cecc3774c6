//! The NDJSON line shape shared by gold labels and prediction dumps:
//! `{"id", "source"?, "image"?, "size"?: [H, W], "masks": {"<class>": <mask>}, "instances"?: [...],
//! "notes"?, "meta"?}` where `<mask>` is COCO RLE (`{"size", "counts"}`, counts compressed or a
//! list) or `{"polygons": [[x1, y1, ...], ...]}`, and each instance is
//! `{"class", "mask": <mask>, "score"?, "iscrowd"?, "area"?, "id"?}` ([`LineInstance`]).
//!
//! The first line may instead be a header, `{"maskgate": "gold-ndjson", "image_root": "…"}`:
//! the folder (relative to the file) its photos are read from, which `maskgate convert` writes
//! when the photos lie outside the file's folder.

use crate::error::{Error, Result};
use crate::model::MaskData;
use maskgate_core::Rle;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// One parsed line. Masks that fail to parse are kept as errors so a caller can decide whether
/// a bad mask is fatal (gold) or a per-sample fail reason (predictions).
#[derive(Debug)]
pub struct Line {
    pub line_no: usize,
    /// Byte offset of the line's start in its file.
    pub offset: u64,
    pub id: String,
    pub source: Option<String>,
    pub image: Option<String>,
    pub size: Option<(u32, u32)>,
    pub masks: BTreeMap<String, std::result::Result<MaskData, String>>,
    /// The `instances` list, if the line has one (an error names the bad entry).
    pub instances: Option<std::result::Result<Vec<LineInstance>, String>>,
    pub notes: Option<String>,
    pub meta: Map<String, Value>,
}

/// One entry of a line's `instances`: `{"class", "mask", "score"?, "iscrowd"?, "area"?, "id"?}`.
#[derive(Clone, Debug)]
pub struct LineInstance {
    pub class: String,
    pub mask: MaskData,
    /// A prediction's confidence (required there; gold has none).
    pub score: Option<f64>,
    pub crowd: bool,
    /// COCO's `area` (else the mask's pixel count).
    pub area: Option<f64>,
    /// The instance's id (else its 1-based position in the list).
    pub id: Option<u64>,
}

fn parse_instances(
    v: &Value,
    size: Option<(u32, u32)>,
) -> std::result::Result<Vec<LineInstance>, String> {
    let list = v.as_array().ok_or("\"instances\" must be a list")?;
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let bad = |m: &str| format!("instance {}: {m}", i + 1);
            let obj = item.as_object().ok_or_else(|| bad("must be an object"))?;
            let class = match obj.get("class") {
                Some(Value::String(c)) if !c.is_empty() => c.clone(),
                _ => return Err(bad("needs a \"class\" (a non-empty string)")),
            };
            let mask = parse_mask(
                obj.get("mask").ok_or_else(|| bad("needs a \"mask\""))?,
                size,
            )
            .map_err(|e| bad(&e))?;
            let number = |k: &str| -> std::result::Result<Option<f64>, String> {
                match obj.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(n) => match n.as_f64() {
                        Some(x) if x.is_finite() => Ok(Some(x)),
                        _ => Err(bad(&format!("\"{k}\" must be a finite number, got {n}"))),
                    },
                }
            };
            let crowd = match obj.get("iscrowd") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(n) if n.as_u64() == Some(0) => false,
                Some(n) if n.as_u64() == Some(1) => true,
                Some(n) => return Err(bad(&format!("\"iscrowd\" must be 0 or 1, got {n}"))),
            };
            let id = match obj.get("id") {
                None | Some(Value::Null) => None,
                Some(n) => Some(
                    n.as_u64()
                        .ok_or_else(|| bad("\"id\" must be a non-negative integer"))?,
                ),
            };
            Ok(LineInstance {
                class,
                mask,
                score: number("score")?,
                crowd,
                area: number("area")?,
                id,
            })
        })
        .collect()
}

fn parse_size(v: &Value) -> std::result::Result<(u32, u32), String> {
    let a = v.as_array().filter(|a| a.len() == 2);
    let dims = a.and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)));
    match dims {
        Some((h, w)) if h > 0 && w > 0 && h <= 1 << 16 && w <= 1 << 16 => Ok((h as u32, w as u32)),
        _ => Err(format!(
            "\"size\" must be [H, W] with 1 ≤ H, W ≤ 65536, got {v}"
        )),
    }
}

/// Parses one mask object; `line_size` supplies the canvas of polygon masks.
pub fn parse_mask(
    v: &Value,
    line_size: Option<(u32, u32)>,
) -> std::result::Result<MaskData, String> {
    let obj = v.as_object().ok_or("a mask must be an object")?;
    if let Some(polys) = obj.get("polygons") {
        let (h, w) = line_size.ok_or("a polygon mask needs the line's \"size\"")?;
        let rings = polys
            .as_array()
            .ok_or("\"polygons\" must be a list of lists")?
            .iter()
            .map(|r| {
                r.as_array()
                    .ok_or("each polygon must be a list of numbers")?
                    .iter()
                    .map(|x| x.as_f64().ok_or("polygon coordinates must be numbers"))
                    .collect::<std::result::Result<Vec<f64>, _>>()
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for r in &rings {
            if r.len() % 2 != 0 || r.len() < 6 {
                return Err(format!(
                    "a polygon needs an even number ≥ 6 of coordinates, got {}",
                    r.len()
                ));
            }
        }
        return Ok(MaskData::Polygons { h, w, rings });
    }
    let (h, w) = parse_size(
        obj.get("size")
            .ok_or("an RLE mask needs \"size\" (or use \"polygons\")")?,
    )?;
    let rle = match obj.get("counts") {
        Some(Value::String(s)) => {
            Rle::from_compressed(h, w, s).map_err(|e| format!("bad RLE: {e}"))?
        }
        Some(Value::Array(a)) => {
            let counts = a
                .iter()
                .map(|c| {
                    c.as_u64()
                        .filter(|&c| c <= u32::MAX as u64)
                        .map(|c| c as u32)
                })
                .collect::<Option<Vec<u32>>>()
                .ok_or("uncompressed RLE counts must be non-negative integers")?;
            let rle = Rle { h, w, counts };
            rle.check_total().map_err(|e| format!("bad RLE: {e}"))?;
            rle
        }
        _ => return Err("an RLE mask needs \"counts\" (string or list)".into()),
    };
    Ok(MaskData::Rle(rle))
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> std::result::Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!("\"{key}\" must be a string, got {v}")),
    }
}

pub fn parse_line(text: &str, line_no: usize) -> std::result::Result<Line, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(obj) = v else {
        return Err("each line must be a JSON object".into());
    };
    let id = match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("missing or empty \"id\"".into()),
    };
    let size = obj.get("size").map(parse_size).transpose()?;
    let masks_obj = match obj.get("masks") {
        Some(Value::Object(m)) => m,
        None | Some(Value::Null) => &Map::new(),
        Some(_) => return Err("\"masks\" must be an object of class → mask".into()),
    };
    let masks = masks_obj
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                parse_mask(v, size).map_err(|e| format!("class {k:?}: {e}")),
            )
        })
        .collect();
    let instances = obj
        .get("instances")
        .filter(|v| !v.is_null())
        .map(|v| parse_instances(v, size));
    let meta = match obj.get("meta") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err("\"meta\" must be an object".into()),
    };
    Ok(Line {
        line_no,
        offset: 0,
        id,
        source: opt_string(&obj, "source")?,
        image: opt_string(&obj, "image")?,
        size,
        masks,
        instances,
        notes: opt_string(&obj, "notes")?,
        meta,
    })
}

/// What a header line says about its file.
#[derive(Debug, Default, PartialEq)]
pub struct Header {
    /// The photos' folder, relative to the file.
    pub image_root: Option<String>,
}

/// The key that marks a header line (a sample line has an `id` instead).
pub const HEADER_KEY: &str = "maskgate";

/// A header line's contents, or `None` for any other line.
fn header_of(text: &str) -> Option<std::result::Result<Header, String>> {
    let v: Value = serde_json::from_str(text).ok()?;
    let obj = v.as_object()?;
    if !obj.contains_key(HEADER_KEY) || obj.contains_key("id") {
        return None;
    }
    Some((|| {
        if obj[HEADER_KEY] != "gold-ndjson" {
            return Err(format!(
                "a header line of kind {} (this maskgate reads \"gold-ndjson\")",
                obj[HEADER_KEY]
            ));
        }
        if let Some((k, _)) = obj
            .iter()
            .find(|(k, _)| !matches!(k.as_str(), HEADER_KEY | "image_root"))
        {
            return Err(format!(
                "the header line has an unknown key {k:?} (known: {HEADER_KEY}, image_root)"
            ));
        }
        Ok(Header {
            image_root: opt_string(obj, "image_root")?,
        })
    })())
}

/// The file's header line, if its first non-blank line is one (read alone: a large file is not
/// read further).
pub fn header(path: &Path) -> Result<Option<Header>> {
    let mut found = None;
    non_blank_lines(path, 1 << 16, |line_no, _, text| {
        found = header_of(text)
            .transpose()
            .map_err(|m| Error::input(path, line_no, m))?;
        Ok(false)
    })?;
    Ok(found)
}

/// Calls `f(line number, byte offset, text)` for each non-blank line of the NDJSON file at
/// `path` until it returns `false`. Only a regular file is read, a line at most
/// [`MAX_LINE_BYTES`](crate::limits::MAX_LINE_BYTES) long.
fn non_blank_lines(
    path: &Path,
    buffer: usize,
    mut f: impl FnMut(usize, u64, &str) -> Result<bool>,
) -> Result<()> {
    let (file, _) =
        crate::limits::open_regular(path).map_err(|e| e.into_error(path, "an NDJSON file"))?;
    let mut reader = std::io::BufReader::with_capacity(buffer, file);
    let mut bytes = Vec::new();
    let (mut offset, mut line_no) = (0u64, 0usize);
    loop {
        bytes.clear();
        line_no += 1;
        let n =
            crate::limits::read_line_within(&mut reader, &mut bytes, crate::limits::MAX_LINE_BYTES)
                .map_err(|e| Error::input(path, line_no, e.to_string()))?;
        if n == 0 {
            return Ok(());
        }
        let start = offset;
        offset += n as u64;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| Error::input(path, line_no, format!("not UTF-8 text: {e}")))?;
        if !text.trim().is_empty() && !f(line_no, start, text)? {
            return Ok(());
        }
    }
}

/// Streams the lines of an NDJSON file to `f`, skipping blank lines and a header line. A line that is not valid
/// JSON of the expected shape is an error naming the file and line. Only a regular file is
/// read, a line at most [`MAX_LINE_BYTES`](crate::limits::MAX_LINE_BYTES) long.
pub fn for_each_line(path: &Path, mut f: impl FnMut(Line) -> Result<()>) -> Result<()> {
    let mut first = true;
    non_blank_lines(path, 1 << 20, |line_no, offset, text| {
        if std::mem::take(&mut first) {
            if let Some(h) = header_of(text) {
                h.map_err(|m| Error::input(path, line_no, m))?;
                return Ok(true);
            }
        }
        let mut parsed = parse_line(text, line_no).map_err(|m| Error::input(path, line_no, m))?;
        parsed.offset = offset;
        f(parsed)?;
        Ok(true)
    })
}

/// The line of the NDJSON file at `path` that starts at byte `offset` (as
/// [`for_each_line`] found it), read again with the same rules: a regular file only, a line of
/// at most [`MAX_LINE_BYTES`](crate::limits::MAX_LINE_BYTES).
pub fn line_at(path: &Path, offset: u64) -> std::result::Result<String, String> {
    use std::io::Seek;
    let (mut f, _) = crate::limits::open_regular(path).map_err(|e| e.describe("a regular file"))?;
    f.seek(std::io::SeekFrom::Start(offset))
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    crate::limits::read_line_within(
        &mut std::io::BufReader::new(f),
        &mut bytes,
        crate::limits::MAX_LINE_BYTES,
    )
    .map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))
}
