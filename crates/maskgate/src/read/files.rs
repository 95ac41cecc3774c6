//! File helpers the readers share: index PNGs read as raw indices (never through a palette),
//! image sizes from headers, sorted folder listings, polygon rasterisation.

use super::LoadError;
use crate::limits::Limits;
use maskgate_core::polygon::rasterize_polygons;
use maskgate_core::{LabelMap, Mask};
use std::path::{Path, PathBuf};

/// A canvas of `w × h` past `limits` is the sample's `mask_too_large`, found before anything of
/// that size is allocated.
pub fn check_canvas(limits: &Limits, w: u32, h: u32) -> Result<(), LoadError> {
    limits
        .check_mask(h, w)
        .map_err(|m| LoadError::new("mask_too_large", m))
}

/// More than `max_annotations_per_image` annotations on one image is the sample's
/// `too_many_annotations`, found before any of them is rasterised.
pub fn check_annotations(limits: &Limits, count: usize) -> Result<(), LoadError> {
    if count as u64 > limits.max_annotations_per_image {
        return Err(LoadError::new(
            "too_many_annotations",
            format!(
                "{count} annotations on one image exceed the limit of {} ([limits] max_annotations_per_image)",
                limits.max_annotations_per_image
            ),
        ));
    }
    Ok(())
}

/// More than `max_polygon_vertices` vertices in one sample's polygons is its `mask_too_large`,
/// found before any of them is rasterised.
pub fn check_vertices(limits: &Limits, count: u64) -> Result<(), LoadError> {
    if count > limits.max_polygon_vertices {
        return Err(LoadError::new(
            "mask_too_large",
            format!(
                "{count} polygon vertices exceed the limit of {} ([limits] max_polygon_vertices)",
                limits.max_polygon_vertices
            ),
        ));
    }
    Ok(())
}

/// A single-channel 8-bit or palette PNG as its stored indices (a palette PNG's colours are
/// for viewing only: VOC and LaPa store class ids). 1/2/4-bit palettes are unpacked. A header
/// past `limits` is refused before the pixels are allocated.
pub fn read_index_png(path: &Path, limits: &Limits) -> Result<LabelMap, String> {
    let file = crate::limits::open_within(path, limits.max_file_bytes)
        .map_err(|e| e.describe("[limits] max_file_bytes"))?;
    let mut dec = png::Decoder::new(std::io::BufReader::new(file));
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info().map_err(|e| e.to_string())?;
    let (iw, ih) = (reader.info().width, reader.info().height);
    limits.check_image(iw, ih)?;
    let (ct, depth) = reader.output_color_type();
    if !matches!(ct, png::ColorType::Indexed | png::ColorType::Grayscale) {
        return Err(format!(
            "a label PNG must hold class indices (palette or 8-bit grey), this one is {ct:?}"
        ));
    }
    let bits = match depth {
        png::BitDepth::One => 1,
        png::BitDepth::Two => 2,
        png::BitDepth::Four => 4,
        png::BitDepth::Eight => 8,
        png::BitDepth::Sixteen => {
            return Err("a 16-bit label PNG is not a class-index map".into());
        }
    };
    let size = reader
        .output_buffer_size()
        .ok_or("PNG too large for this platform")?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let (w, h) = (info.width, info.height);
    let mut labels = LabelMap::new(h, w, 0);
    for y in 0..h as usize {
        let row = &buf[y * info.line_size..(y + 1) * info.line_size];
        for x in 0..w as usize {
            let v = if bits == 8 {
                row[x]
            } else {
                let per_byte = 8 / bits;
                let byte = row[x / per_byte];
                let shift = 8 - bits * (x % per_byte + 1);
                (byte >> shift) & ((1u8 << bits) - 1)
            };
            labels.data[y * w as usize + x] = v;
        }
    }
    Ok(labels)
}

/// Ok when the photo at `image` is `h × w` (read from its header): a label of another size is
/// the sample's `size_mismatch`, an unreadable photo its `unreadable_image`. A photo that is
/// there but not a regular file (a FIFO, a device) is not looked into: the labels still load,
/// and the photo's own bounded read makes it the sample's `IMAGE_UNREADABLE` when it is used.
pub fn check_image_size(image: &Path, (h, w): (u32, u32)) -> Result<(), LoadError> {
    let (iw, ih) = match image_dims(image) {
        Ok(dims) => dims,
        Err(_) if std::fs::metadata(image).is_ok_and(|m| !m.is_file()) => return Ok(()),
        Err(m) => {
            return Err(LoadError::new(
                "unreadable_image",
                format!("{}: {m}", image.display()),
            ))
        }
    };
    if (ih, iw) != (h, w) {
        return Err(LoadError::new(
            "size_mismatch",
            format!("image {iw}x{ih} but label {w}x{h}"),
        ));
    }
    Ok(())
}

/// An index-PNG label map of a photo, checked to be the photo's size.
pub fn index_label_for(label: &Path, image: &Path, limits: &Limits) -> Result<LabelMap, LoadError> {
    let labels = read_index_png(label, limits)
        .map_err(|m| LoadError::new("unreadable_label", format!("{}: {m}", label.display())))?;
    check_image_size(image, (labels.h, labels.w))?;
    Ok(labels)
}

/// The photo's upright (width, height), as the labels are drawn: from its headers and EXIF
/// orientation, without decoding pixels. Only a regular file is opened, without blocking (a
/// FIFO would block the open), so a FIFO or a device is refused.
pub fn image_dims(path: &Path) -> Result<(u32, u32), String> {
    crate::photo::upright_size_of(path, crate::limits::Limits::default().max_file_bytes)
}

/// Files directly in `dir` whose extension is one of `exts` (case-insensitive), sorted.
pub fn list_files(dir: &Path, exts: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        let ok = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(e)));
        if ok && p.is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// A file's name without its extension, as a string (the sample id most formats use).
pub fn stem(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// The file in `dir` named `stem` with one of `exts`, if any (first extension wins).
pub fn find_with_stem(dir: &Path, stem: &str, exts: &[&str]) -> Option<PathBuf> {
    exts.iter()
        .map(|e| dir.join(format!("{stem}.{e}")))
        .find(|p| p.is_file())
}

/// A polygon `[[x, y], …]` in pixel coordinates as a mask, by COCO's rule (pixel centres).
pub fn polygon_mask(points: &[[f64; 2]], h: u32, w: u32) -> Result<Mask, String> {
    if points.len() < 3 {
        return Err(format!("a polygon needs ≥ 3 points, got {}", points.len()));
    }
    if points.iter().flatten().any(|v| !v.is_finite()) {
        return Err("polygon coordinates must be finite numbers".into());
    }
    let ring: Vec<f64> = points.iter().flat_map(|p| [p[0], p[1]]).collect();
    rasterize_polygons(&[ring], h, w)
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())
}

pub const IMAGE_EXTS: &[&str] = &[
    "jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp", "JPG", "PNG",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_palette_png_reads_as_indices() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        let mut enc = png::Encoder::new(std::fs::File::create(&path).unwrap(), 5, 2);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Two);
        enc.set_palette(vec![0u8; 12]);
        let mut w = enc.write_header().unwrap();
        // Row 0: 0 1 2 3 | 1 ; row 1: 3 3 0 0 | 2  (4 pixels per byte, MSB first)
        w.write_image_data(&[0b00_01_10_11, 0b01_000000, 0b11_11_00_00, 0b10_000000])
            .unwrap();
        drop(w);
        let l = read_index_png(&path, &Limits::default()).unwrap();
        assert_eq!(l.data, vec![0, 1, 2, 3, 1, 3, 3, 0, 0, 2]);
    }
}
