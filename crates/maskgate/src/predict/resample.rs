//! Resamplers that match their reference implementations bit for bit, one per convention:
//! Pillow's separable filters (rembg, BiSeNet), IMG.LY's top-left bilinear, the half-pixel
//! bilinear of OpenCV/PyTorch (YOLO), and nearest neighbour. Pure functions over interleaved
//! `u8`/`f32` buffers (`h × w × channels`, row-major).

/// Pillow's 8-bit fixed-point precision (`PRECISION_BITS = 32 - 8 - 2`).
const PRECISION_BITS: u32 = 22;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PilFilter {
    Bilinear,
    Lanczos,
}

impl PilFilter {
    fn support(self) -> f64 {
        match self {
            PilFilter::Bilinear => 1.0,
            PilFilter::Lanczos => 3.0,
        }
    }
    fn weight(self, x: f64) -> f64 {
        match self {
            PilFilter::Bilinear => {
                let x = x.abs();
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            PilFilter::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`: per output pixel, the first source
/// index and the fixed-point weights.
struct Coeffs {
    ksize: usize,
    bounds: Vec<(usize, usize)>,
    k: Vec<i32>,
}

fn precompute(in_size: usize, out_size: usize, filter: PilFilter) -> Coeffs {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filter.support() * filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(out_size);
    let mut k = vec![0i32; out_size * ksize];
    let mut kk = vec![0f64; ksize];
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        let ss = 1.0 / filterscale;
        let xmin = ((center - support + 0.5) as i64).max(0) as usize;
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let n = xmax.saturating_sub(xmin);
        let mut ww = 0.0;
        for (x, slot) in kk.iter_mut().enumerate().take(n) {
            let w = filter.weight((x as f64 + xmin as f64 - center + 0.5) * ss);
            *slot = w;
            ww += w;
        }
        for x in 0..ksize {
            let v = if x < n {
                if ww != 0.0 {
                    kk[x] / ww
                } else {
                    kk[x]
                }
            } else {
                0.0
            };
            let fixed = v * (1u64 << PRECISION_BITS) as f64;
            k[xx * ksize + x] = if v < 0.0 {
                (-0.5 + fixed) as i32
            } else {
                (0.5 + fixed) as i32
            };
        }
        bounds.push((xmin, n));
    }
    Coeffs { ksize, bounds, k }
}

fn clip8(v: i64) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// `Image.resize((out_w, out_h), filter)` of Pillow for 8-bit images with `c` channels:
/// horizontal pass then vertical pass, each rounded to 8 bits as Pillow does.
pub fn pil_resize(
    src: &[u8],
    w: usize,
    h: usize,
    c: usize,
    out_w: usize,
    out_h: usize,
    filter: PilFilter,
) -> Vec<u8> {
    let mut cur = src.to_vec();
    let mut cw = w;
    if out_w != w {
        let co = precompute(w, out_w, filter);
        let mut out = vec![0u8; out_w * h * c];
        for y in 0..h {
            let row = &cur[y * w * c..(y + 1) * w * c];
            for xx in 0..out_w {
                let (xmin, n) = co.bounds[xx];
                let k = &co.k[xx * co.ksize..xx * co.ksize + n];
                for ch in 0..c {
                    let mut ss: i64 = 1 << (PRECISION_BITS - 1);
                    for (x, &kx) in k.iter().enumerate() {
                        ss += row[(xmin + x) * c + ch] as i64 * kx as i64;
                    }
                    out[(y * out_w + xx) * c + ch] = clip8(ss);
                }
            }
        }
        cur = out;
        cw = out_w;
    }
    if out_h != h {
        let co = precompute(h, out_h, filter);
        let mut out = vec![0u8; cw * out_h * c];
        for yy in 0..out_h {
            let (ymin, n) = co.bounds[yy];
            let k = &co.k[yy * co.ksize..yy * co.ksize + n];
            for i in 0..cw * c {
                let mut ss: i64 = 1 << (PRECISION_BITS - 1);
                for (y, &ky) in k.iter().enumerate() {
                    ss += cur[(ymin + y) * cw * c + i] as i64 * ky as i64;
                }
                out[yy * cw * c + i] = clip8(ss);
            }
        }
        cur = out;
    }
    cur
}

/// Per output index along one axis of IMG.LY's sampling: (lower, upper, fraction), computed
/// with the same f64 operations as their per-pixel code, once per axis instead of per pixel.
fn topleft_axis(inn: usize, out: usize) -> Vec<(usize, usize, f64)> {
    let scale = inn as f64 / out as f64;
    (0..out)
        .map(|d| {
            let f = d as f64 * scale;
            let lo = f.floor() as usize;
            (lo, (f.ceil() as usize).min(inn - 1), f - lo as f64)
        })
        .collect()
}

/// The top-left bilinear sampling grid from `w × h` to `out_w × out_h`, precomputed per axis so
/// a caller can sample any output pixel in any order (e.g. column by column into a bit mask).
pub struct TopLeftGrid {
    xs: Vec<(usize, usize, f64)>,
    ys: Vec<(usize, usize, f64)>,
    w: usize,
    c: usize,
}

impl TopLeftGrid {
    pub fn new(w: usize, h: usize, c: usize, out_w: usize, out_h: usize) -> TopLeftGrid {
        TopLeftGrid {
            xs: topleft_axis(w, out_w),
            ys: topleft_axis(h, out_h),
            w,
            c,
        }
    }

    /// Output sample `(y, x, ch)` with IMG.LY's exact expression order; `px` reads a source
    /// sample by its interleaved index.
    #[inline]
    pub fn at(&self, y: usize, x: usize, ch: usize, px: impl Fn(usize) -> f64) -> f64 {
        let (y1, y2, dy) = self.ys[y];
        let (x1, x2, dx) = self.xs[x];
        let (r1, r2) = (y1 * self.w * self.c, y2 * self.w * self.c);
        let (c1, c2) = (x1 * self.c + ch, x2 * self.c + ch);
        (1.0 - dx) * (1.0 - dy) * px(r1 + c1)
            + dx * (1.0 - dy) * px(r1 + c2)
            + (1.0 - dx) * dy * px(r2 + c1)
            + dx * dy * px(r2 + c2)
    }
}

/// The shared kernel of the top-left bilinear: `emit(out_index, value)` for every output sample,
/// in row-major order.
fn topleft_bilinear(
    w: usize,
    h: usize,
    c: usize,
    out_w: usize,
    out_h: usize,
    px: impl Fn(usize) -> f64,
    mut emit: impl FnMut(usize, f64),
) {
    let grid = TopLeftGrid::new(w, h, c, out_w, out_h);
    for y in 0..out_h {
        for x in 0..out_w {
            for ch in 0..c {
                emit((y * out_w + x) * c + ch, grid.at(y, x, ch, &px));
            }
        }
    }
}

/// IMG.LY's `tensorResizeBilinear`: `src = dst · (in / out)` with no half-pixel offset,
/// neighbours `floor` and `min(ceil, in − 1)`, result truncated into a `Uint8Array`.
pub fn topleft_bilinear_u8(
    src: &[u8],
    w: usize,
    h: usize,
    c: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<u8> {
    let mut out = vec![0u8; out_w * out_h * c];
    topleft_bilinear(
        w,
        h,
        c,
        out_w,
        out_h,
        |i| src[i] as f64,
        |i, v| out[i] = v as u8,
    );
    out
}

/// The same top-left sampling on floats (MediaPipe's stretch without antialiasing).
pub fn topleft_bilinear_f32(
    src: &[f32],
    w: usize,
    h: usize,
    c: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<f32> {
    let mut out = vec![0f32; out_w * out_h * c];
    topleft_bilinear(
        w,
        h,
        c,
        out_w,
        out_h,
        |i| src[i] as f64,
        |i, v| out[i] = v as f32,
    );
    out
}

/// Half-pixel bilinear (`align_corners=False`, OpenCV `INTER_LINEAR` / PyTorch `bilinear`) on
/// floats: `src = (dst + 0.5) · in/out − 0.5`, clamped at 0, no antialiasing.
pub fn halfpixel_bilinear_f32(
    src: &[f32],
    w: usize,
    h: usize,
    c: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<f32> {
    let axis = |out: usize, inn: usize| -> Vec<(usize, usize, f32)> {
        (0..out)
            .map(|d| {
                let s = ((d as f64 + 0.5) * inn as f64 / out as f64 - 0.5).max(0.0);
                let i0 = (s.floor() as usize).min(inn - 1);
                let i1 = (i0 + 1).min(inn - 1);
                (i0, i1, (s - i0 as f64) as f32)
            })
            .collect()
    };
    let (xs, ys) = (axis(out_w, w), axis(out_h, h));
    let mut out = vec![0f32; out_w * out_h * c];
    for (y, &(y0, y1, fy)) in ys.iter().enumerate() {
        for (x, &(x0, x1, fx)) in xs.iter().enumerate() {
            for ch in 0..c {
                let p = |yy: usize, xx: usize| src[(yy * w + xx) * c + ch];
                let top = p(y0, x0) + (p(y0, x1) - p(y0, x0)) * fx;
                let bot = p(y1, x0) + (p(y1, x1) - p(y1, x0)) * fx;
                out[(y * out_w + x) * c + ch] = top + (bot - top) * fy;
            }
        }
    }
    out
}

/// Nearest neighbour as OpenCV's `INTER_NEAREST`: `src = floor(dst · in / out)`.
pub fn nearest_floor<T: Copy>(src: &[T], w: usize, h: usize, out_w: usize, out_h: usize) -> Vec<T> {
    let xs: Vec<usize> = (0..out_w)
        .map(|x| ((x as u64 * w as u64) / out_w as u64) as usize)
        .collect();
    let mut out = Vec::with_capacity(out_w * out_h);
    for y in 0..out_h {
        let sy = ((y as u64 * h as u64) / out_h as u64) as usize;
        out.extend(xs.iter().map(|&sx| src[sy * w + sx]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal sizes run no filter pass at all (as Pillow, which returns a copy): the input comes
    /// back unchanged. This does not exercise the kernels; `pil_resize_matches_pillow` does.
    #[test]
    fn equal_sizes_copy_the_input() {
        let img: Vec<u8> = (0..60).map(|i| (i * 4) as u8).collect();
        assert_eq!(pil_resize(&img, 5, 4, 3, 5, 4, PilFilter::Lanczos), img);
        assert_eq!(topleft_bilinear_u8(&img, 5, 4, 3, 5, 4), img);
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Byte for byte against Pillow 12.0.0's `Image.resize` (LANCZOS and BILINEAR, "RGB" and
    /// "L") on seeded noise and gradient images: both axes shrunk, both grown, mixed, one axis,
    /// identity. Regenerate with
    /// `vendor/py/bin/python tools/pil_resize_vectors.py tests/fixtures/pil_resize_vectors.json`.
    /// Pillow 13 differs (it runs the vertical pass first) on the 24×24→18×3 and 9×33→27×8
    /// cases; rembg's reference in tools/parity_reference.py pins Pillow 12.0.0.
    #[test]
    fn pil_resize_matches_pillow() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/pil_resize_vectors.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["pillow"], "12.0.0");
        let cases = v["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 56);
        let (mut compared, mut lanczos_bytes, mut failures) = (0usize, 0usize, Vec::new());
        for case in cases {
            let n = |k: &str| case[k].as_u64().unwrap() as usize;
            let (w, h, ow, oh) = (n("w"), n("h"), n("out_w"), n("out_h"));
            let c = match case["mode"].as_str().unwrap() {
                "RGB" => 3,
                "L" => 1,
                m => panic!("mode {m}"),
            };
            let src = unhex(case["src"].as_str().unwrap());
            assert_eq!(src.len(), w * h * c);
            for (key, filter) in [
                ("lanczos", PilFilter::Lanczos),
                ("bilinear", PilFilter::Bilinear),
            ] {
                let want = unhex(case[key].as_str().unwrap());
                assert_eq!(want.len(), ow * oh * c);
                let got = pil_resize(&src, w, h, c, ow, oh, filter);
                if got != want {
                    let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
                    failures.push(format!(
                        "{} {} {key} {w}x{h}->{ow}x{oh}: {diff} of {} bytes differ",
                        case["mode"],
                        case["image"],
                        want.len()
                    ));
                }
                compared += 1;
                if filter == PilFilter::Lanczos {
                    lanczos_bytes += want.len();
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(compared, 112);
        assert!(lanczos_bytes > 0);
    }

    #[test]
    fn constant_images_stay_constant() {
        let img = vec![77u8; 37 * 23 * 3];
        for f in [PilFilter::Lanczos, PilFilter::Bilinear] {
            assert!(pil_resize(&img, 37, 23, 3, 320, 320, f)
                .iter()
                .all(|&v| v == 77));
            assert!(pil_resize(&img, 37, 23, 3, 5, 7, f)
                .iter()
                .all(|&v| v == 77));
        }
        let f = vec![0.25f32; 10 * 10];
        assert!(halfpixel_bilinear_f32(&f, 10, 10, 1, 33, 7)
            .iter()
            .all(|&v| (v - 0.25).abs() < 1e-7));
    }

    #[test]
    fn halfpixel_upsample_by_two() {
        // [0, 1] → [0, 0.25, 0.75, 1] with align_corners=False.
        let out = halfpixel_bilinear_f32(&[0.0, 1.0], 2, 1, 1, 4, 1);
        assert_eq!(out, vec![0.0, 0.25, 0.75, 1.0]);
        assert_eq!(nearest_floor(&[1, 2, 3, 4], 4, 1, 2, 1), vec![1, 3]);
    }
}
