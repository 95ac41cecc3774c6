//! The Rust half of `bench/rle_codec.sh`: times maskgate's COCO RLE codec on the masks in a file
//! of lines `H W COUNTS` (compressed strings) and writes what it re-encoded, for the script to
//! compare with pycocotools. Usage: rle_bench IN OUT; prints one JSON object of seconds, each
//! the best of several repetitions (as the Python half does), since one pass of the cheap
//! operations takes only milliseconds.

use maskgate_core::{Mask, Rle};
use std::io::{BufRead, Write};
use std::time::Instant;

/// The fastest of `reps` runs of `f`, and its last result.
fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("at least one repetition"))
}

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
    let (decode, decoded) = best_of(3, || {
        masks
            .iter()
            .map(|(h, w, c)| Rle::from_compressed(*h, *w, c)?.decode())
            .collect::<Result<Vec<Mask>, _>>()
    });
    let decoded = decoded?;
    // Encode: pixels → compressed string (pycocotools: mask.encode).
    let (encode, encoded) = best_of(3, || {
        decoded
            .iter()
            .map(|m| Rle::encode(m).to_compressed())
            .collect::<Vec<String>>()
    });
    // Round trip: compressed string → runs → compressed string (pycocotools: rleFrString and
    // rleToString, through mask.merge of one RLE).
    let (round_trip, round) = best_of(20, || {
        masks
            .iter()
            .map(|(h, w, c)| Rle::from_compressed(*h, *w, c).map(|r| r.to_compressed()))
            .collect::<Result<Vec<String>, _>>()
    });
    let round = round?;
    // IoU of each mask with the next, from compressed strings (pycocotools: mask.iou).
    let (iou, ious) = best_of(20, || {
        masks
            .windows(2)
            .map(|pair| {
                let (a, b) = (&pair[0], &pair[1]);
                let dt = Rle::from_compressed(a.0, a.1, &a.2)?;
                let gt = Rle::from_compressed(b.0, b.1, &b.2)?;
                Rle::iou(&dt, &gt, false)
            })
            .collect::<Result<Vec<f64>, _>>()
    });
    let ious = ious?;
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
