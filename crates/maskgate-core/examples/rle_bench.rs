//! The Rust half of `bench/rle_codec.sh`: times maskgate's COCO RLE codec on the masks in a file
//! of lines `H W COUNTS` (compressed strings) and writes what it re-encoded, for the script to
//! compare with pycocotools. Usage: rle_bench IN OUT; prints one JSON object of seconds.

use maskgate_core::{Mask, Rle};
use std::io::{BufRead, Write};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = args.as_slice() else {
        return Err("usage: rle_bench IN OUT".into());
    };
    let mut masks: Vec<(u32, u32, String)> = Vec::new();
    for line in std::io::BufReader::new(std::fs::File::open(input)?).lines() {
        let line = line?;
        let mut parts = line.splitn(3, ' ');
        let (Some(h), Some(w), Some(counts)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("bad line: {line:?}").into());
        };
        masks.push((h.parse()?, w.parse()?, counts.to_string()));
    }
    // Decode: compressed string → pixels (pycocotools: mask.decode).
    let t = Instant::now();
    let decoded: Vec<Mask> = masks
        .iter()
        .map(|(h, w, c)| Rle::from_compressed(*h, *w, c)?.decode())
        .collect::<Result<_, _>>()?;
    let decode = t.elapsed().as_secs_f64();
    // Encode: pixels → compressed string (pycocotools: mask.encode).
    let t = Instant::now();
    let encoded: Vec<String> = decoded
        .iter()
        .map(|m| Rle::encode(m).to_compressed())
        .collect();
    let encode = t.elapsed().as_secs_f64();
    // Round trip: compressed string → runs → compressed string (pycocotools: rleFrString and
    // rleToString, through mask.merge of one RLE).
    let t = Instant::now();
    let round: Vec<String> = masks
        .iter()
        .map(|(h, w, c)| Rle::from_compressed(*h, *w, c).map(|r| r.to_compressed()))
        .collect::<Result<_, _>>()?;
    let round_trip = t.elapsed().as_secs_f64();
    // IoU of each mask with the next, from compressed strings (pycocotools: mask.iou).
    let t = Instant::now();
    let mut ious = Vec::with_capacity(masks.len());
    for pair in masks.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let dt = Rle::from_compressed(a.0, a.1, &a.2)?;
        let gt = Rle::from_compressed(b.0, b.1, &b.2)?;
        ious.push(Rle::iou(&dt, &gt, false)?);
    }
    let iou = t.elapsed().as_secs_f64();
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    for (e, r) in encoded.iter().zip(&round) {
        writeln!(out, "{e} {r}")?;
    }
    for v in &ious {
        writeln!(out, "{v:?}")?;
    }
    out.flush()?;
    println!(
        "{{\"decode\": {decode}, \"encode\": {encode}, \"round_trip\": {round_trip}, \"iou\": {iou}}}"
    );
    Ok(())
}
