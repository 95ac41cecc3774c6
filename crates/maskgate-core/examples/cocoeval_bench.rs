//! The Rust half of `bench/coco_eval.sh`: reads the instances the Python half wrote (lines
//! `g|d IMAGE CATEGORY ID CROWD AREA SCORE H W COUNTS`, COCO compressed RLE), then times
//! maskgate's COCOeval from the compressed strings to the 12 numbers (decode, regions,
//! evaluate), 3 runs, and prints the stats as bit patterns.

use maskgate_core::cocoeval::{evaluate, DtInstance, GtInstance, Params, Region};
use maskgate_core::Rle;
use std::io::BufRead;
use std::time::Instant;

type Line = (bool, usize, usize, u64, bool, f64, f64, u32, u32, String);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: cocoeval_bench INSTANCES")?;
    let mut lines: Vec<Line> = Vec::new();
    for l in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
        let l = l?;
        let f: Vec<&str> = l.split(' ').collect();
        lines.push((
            f[0] == "g",
            f[1].parse()?,
            f[2].parse()?,
            f[3].parse()?,
            f[4] == "1",
            f[5].parse()?,
            f[6].parse()?,
            f[7].parse()?,
            f[8].parse()?,
            f[9].to_string(),
        ));
    }
    let images = lines.iter().map(|l| l.1).max().unwrap_or(0) + 1;
    let categories = lines.iter().map(|l| l.2).max().unwrap_or(0) + 1;
    let mut stats = [0f64; 12];
    for _ in 0..3 {
        let t = Instant::now();
        let (mut gts, mut dts) = (Vec::new(), Vec::new());
        for (gt, image, category, id, crowd, area, score, h, w, counts) in &lines {
            let mask = Region::from_rle(&Rle::from_compressed(*h, *w, counts)?)?;
            match gt {
                true => gts.push(GtInstance {
                    id: *id,
                    image: *image,
                    category: *category,
                    mask,
                    area: *area,
                    crowd: *crowd,
                }),
                false => dts.push(DtInstance {
                    image: *image,
                    category: *category,
                    mask,
                    score: *score,
                }),
            }
        }
        let read = t.elapsed().as_secs_f64();
        let e = evaluate(images, categories, &gts, &dts, &Params::default());
        stats = e.stats(None);
        let all = t.elapsed().as_secs_f64();
        println!("maskgate {all:.3}");
        eprintln!(
            "  of which reading the RLE into regions {read:.3} s, evaluating {:.3} s",
            all - read
        );
    }
    let bits: Vec<String> = stats.iter().map(|v| v.to_bits().to_string()).collect();
    println!("stats {}", bits.join(" "));
    Ok(())
}
