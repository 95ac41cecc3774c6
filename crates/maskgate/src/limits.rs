//! Limits on what one input may cost, checked before anything is allocated: a config or
//! command line that exceeds one is an error before any work; a sample that exceeds one is that
//! sample's fail reason (`IMAGE_TOO_LARGE`, `MASK_TOO_LARGE`) and the run goes on.

use serde::{Deserialize, Serialize};

/// Pillow's decompression-bomb threshold (`Image.MAX_IMAGE_PIXELS`, 89,478,485 px, about
/// 9,459²): the line Python pipelines already live with. A 4K frame is 8.3 Mpx, so this leaves
/// ten times the headroom; one such mask costs 11 MB bit-packed and its decoded RGB photo 268 MB.
pub const DEFAULT_MAX_PIXELS: u64 = 89_478_485;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Pixels of one photo or label image, read from its header before decoding.
    pub max_image_pixels: u64,
    /// Pixels of one mask's canvas (ground truth or prediction).
    pub max_mask_pixels: u64,
    /// Polygon vertices in one mask (all its rings together).
    pub max_polygon_vertices: u64,
    /// Paired bootstrap resamples.
    pub max_bootstrap_resamples: usize,
    /// Side of the `--grid` / `[run] grid` canvas (one rule for both).
    pub max_grid: u32,
    /// Bytes read from one photo file.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_image_pixels: DEFAULT_MAX_PIXELS,
            max_mask_pixels: DEFAULT_MAX_PIXELS,
            max_polygon_vertices: 1_000_000,
            max_bootstrap_resamples: 100_000,
            max_grid: 16_384,
            max_file_bytes: 1 << 30,
        }
    }
}

impl Limits {
    /// Whether an `h × w` mask canvas is within the limit (an error message when not).
    pub fn check_mask(&self, h: u32, w: u32) -> Result<(), String> {
        let px = h as u64 * w as u64;
        if px > self.max_mask_pixels {
            return Err(format!(
                "mask canvas {h}x{w} = {px} px exceeds the limit of {} px ([limits] max_mask_pixels)",
                self.max_mask_pixels
            ));
        }
        Ok(())
    }

    /// Whether a `w × h` image is within the limit.
    pub fn check_image(&self, w: u32, h: u32) -> Result<(), String> {
        let px = h as u64 * w as u64;
        if px > self.max_image_pixels {
            return Err(format!(
                "image {w}x{h} = {px} px exceeds the limit of {} px ([limits] max_image_pixels)",
                self.max_image_pixels
            ));
        }
        Ok(())
    }

    /// Refuses limits that make no sense (a zero limit would refuse every input).
    pub fn validate(&self) -> Result<(), String> {
        if self.max_image_pixels == 0 || self.max_mask_pixels == 0 || self.max_grid == 0 {
            return Err("[limits]: pixel limits and max_grid must be at least 1".into());
        }
        // Masks and polygons are indexed with 32 bits (COCO RLE counts are 32-bit).
        if self.max_mask_pixels > u32::MAX as u64 {
            return Err(format!(
                "[limits] max_mask_pixels must be at most {} (COCO RLE counts are 32-bit)",
                u32::MAX
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_refuse_a_65536_square_and_accept_a_4k_frame() {
        let l = Limits::default();
        assert!(l.check_mask(65536, 65536).is_err());
        assert!(l.check_mask(2160, 3840).is_ok());
        assert!(l.check_image(60000, 60000).is_err());
        assert!(l.validate().is_ok());
        let bad = Limits {
            max_mask_pixels: 1 << 33,
            ..Limits::default()
        };
        assert!(bad.validate().is_err());
    }
}

/// Why [`read_within`] refused a file.
#[derive(Debug)]
pub enum Refused {
    /// Missing, not a regular file (a device, a FIFO), or an I/O error.
    Unreadable(String),
    /// Larger than the limit.
    TooLarge(String),
}

/// Reads a regular file of at most `max` bytes: a device, a FIFO or a huge file is refused
/// before it is read, and a file growing after the size check is never read past the limit.
pub fn read_within(path: &std::path::Path, max: u64) -> Result<Vec<u8>, Refused> {
    use std::io::Read;
    let name = path.display();
    let meta = std::fs::metadata(path).map_err(|e| Refused::Unreadable(format!("{name}: {e}")))?;
    if !meta.is_file() {
        return Err(Refused::Unreadable(format!("{name}: not a regular file")));
    }
    if meta.len() > max {
        return Err(Refused::TooLarge(format!(
            "{name}: {} bytes exceeds the limit of {max} ([limits] max_file_bytes)",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| Refused::Unreadable(format!("{name}: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(Refused::TooLarge(format!(
            "{name}: larger than {max} bytes ([limits] max_file_bytes)"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod read_tests {
    use super::*;

    #[test]
    fn bounded_reads_refuse_devices_and_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.bin");
        std::fs::write(&f, [7u8; 10]).unwrap();
        assert_eq!(read_within(&f, 10).unwrap(), [7u8; 10]);
        assert!(matches!(read_within(&f, 9), Err(Refused::TooLarge(_))));
        assert!(matches!(
            read_within(dir.path(), 100),
            Err(Refused::Unreadable(_))
        ));
        #[cfg(unix)]
        assert!(matches!(
            read_within(std::path::Path::new("/dev/zero"), 100),
            Err(Refused::Unreadable(_))
        ));
    }
}
