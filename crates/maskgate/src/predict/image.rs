//! Photo loading for model arms: the file's bytes (hashed for the prediction cache) and its RGB
//! pixels, each read at most once per sample however many arms use them.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// An 8-bit RGB image, interleaved, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    pub w: usize,
    pub h: usize,
    pub data: Vec<u8>,
}

/// Decodes RGB pixels, applying the EXIF orientation as rembg's `exif_transpose` does.
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, String> {
    use image::ImageDecoder;
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    let rgb = img.to_rgb8();
    Ok(RgbImage {
        w: rgb.width() as usize,
        h: rgb.height() as usize,
        data: rgb.into_raw(),
    })
}

/// The photo of one sample, loaded lazily and shared by every arm.
pub struct SamplePhoto {
    path: Option<PathBuf>,
    bytes: OnceLock<Result<(Vec<u8>, String), String>>,
    pixels: OnceLock<Result<RgbImage, String>>,
}

impl SamplePhoto {
    pub fn new(path: Option<&Path>) -> SamplePhoto {
        SamplePhoto {
            path: path.map(Path::to_path_buf),
            bytes: OnceLock::new(),
            pixels: OnceLock::new(),
        }
    }

    fn bytes(&self) -> &Result<(Vec<u8>, String), String> {
        self.bytes.get_or_init(|| {
            let p = self.path.as_ref().ok_or("the sample has no image path")?;
            let b = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let sha = hex::encode(Sha256::digest(&b));
            Ok((b, sha))
        })
    }

    /// sha256 of the image file.
    pub fn sha256(&self) -> Result<&str, String> {
        self.bytes()
            .as_ref()
            .map(|(_, s)| s.as_str())
            .map_err(Clone::clone)
    }

    pub fn pixels(&self) -> Result<&RgbImage, String> {
        self.pixels
            .get_or_init(|| {
                let (b, _) = self.bytes().as_ref().map_err(Clone::clone)?;
                let name = self
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                decode_rgb(b).map_err(|e| format!("{name}: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}
