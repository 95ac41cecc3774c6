//! Times maskgate's photo decoding (`photo::decode_rgb`, Pillow's policy) over the given files,
//! one thread, ROUNDS passes: the Rust side of `bench/decode_vs_pillow.sh`.
//! Usage: decode_bench ROUNDS FILE...
use maskgate::limits::Limits;
use maskgate::photo::{decode_rgb, DecodePolicy};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = args.first().and_then(|r| r.parse().ok()).unwrap_or(1);
    let files: Vec<Vec<u8>> = args[1..]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let limits = Limits::default();
    let started = Instant::now();
    let mut pixels = 0usize;
    for _ in 0..rounds {
        for bytes in &files {
            // Read from memory on both sides: the benchmark times decoding, not the disk.
            let img = decode_rgb(bytes, DecodePolicy::Pillow, &limits).expect("decodes");
            pixels += img.w * img.h;
        }
    }
    println!(
        "{{\"seconds\": {}, \"files\": {}, \"pixels\": {pixels}}}",
        started.elapsed().as_secs_f64(),
        files.len() * rounds
    );
}
