//! Photo loading for model arms: the file's bytes (hashed for the prediction cache) and its RGB
//! pixels, each read at most once per sample however many arms use them.

use crate::limits::Limits;
use crate::model::FailReason;
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

/// Why a photo could not be used: the sample's fail reason and a message naming the file.
#[derive(Clone, Debug, PartialEq)]
pub struct PhotoError {
    pub reason: FailReason,
    pub message: String,
}

impl PhotoError {
    fn new(reason: FailReason, message: impl Into<String>) -> PhotoError {
        PhotoError {
            reason,
            message: message.into(),
        }
    }
}

/// Decodes RGB pixels within the default [`Limits`] (see [`decode_rgb_within`]).
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, String> {
    decode_rgb_within(bytes, &Limits::default()).map_err(|e| e.message)
}

/// A JPEG whose entropy-coded data after its last start-of-scan has no end-of-image marker was
/// cut short (inside that data a 0xFF byte is always stuffed, so FF D9 can only be the marker).
fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_sos {
        Some(i) => !bytes[i..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => true,
    }
}

/// Decodes RGB pixels, applying the EXIF orientation as rembg's `exif_transpose` does. The
/// header's size is checked against `limits` before any pixel is allocated; a truncated file is
/// `IMAGE_TRUNCATED`, never decoded as if it were whole.
pub fn decode_rgb_within(bytes: &[u8], limits: &Limits) -> Result<RgbImage, PhotoError> {
    use image::ImageDecoder;
    let unreadable = |e: String| PhotoError::new(FailReason::ImageUnreadable, e);
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| unreadable(e.to_string()))
    };
    if jpeg_is_truncated(bytes) {
        return Err(PhotoError::new(
            FailReason::ImageTruncated,
            "image file is truncated (no end-of-image marker after the last scan)",
        ));
    }
    let check = |w, h| {
        limits
            .check_image(w, h)
            .map_err(|m| PhotoError::new(FailReason::ImageTooLarge, m))
    };
    if let Some(decoded) = maskgate_core::bmp::decode_rgb(bytes, check) {
        let (w, h, data) = decoded?;
        return Ok(RgbImage {
            w: w as usize,
            h: h as usize,
            data,
        });
    }
    let (w, h) = reader()?
        .into_dimensions()
        .map_err(|e| unreadable(e.to_string()))?;
    check(w, h)?;
    let mut decoder = reader()?
        .into_decoder()
        .map_err(|e| unreadable(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| {
        let text = e.to_string();
        let lower = text.to_lowercase();
        if lower.contains("eof")
            || lower.contains("end of file")
            || lower.contains("unexpected end")
        {
            PhotoError::new(
                FailReason::ImageTruncated,
                format!("image file is truncated: {text}"),
            )
        } else {
            unreadable(text)
        }
    })?;
    img.apply_orientation(orientation);
    let rgb = img.to_rgb8();
    Ok(RgbImage {
        w: rgb.width() as usize,
        h: rgb.height() as usize,
        data: rgb.into_raw(),
    })
}

/// A photo's bytes within `max` (see [`crate::limits::read_within`]), refusals as fail reasons.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, PhotoError> {
    crate::limits::read_within(path, max).map_err(|r| match r {
        crate::limits::Refused::Unreadable(m) => PhotoError::new(FailReason::ImageUnreadable, m),
        crate::limits::Refused::TooLarge(m) => PhotoError::new(FailReason::ImageTooLarge, m),
    })
}

/// The photo of one sample, loaded lazily and shared by every arm.
pub struct SamplePhoto {
    path: Option<PathBuf>,
    limits: Limits,
    /// The hash taken when the corpus was listed (the run's input fingerprint names it), so the
    /// photo is hashed once per run and a cache hit never reads it.
    listed_sha256: Option<String>,
    /// Why a sample without a photo path has none (the listing's problem for it), so its
    /// failure names the true cause instead of "no image path".
    missing_because: Option<String>,
    bytes: OnceLock<Result<Vec<u8>, PhotoError>>,
    sha256: OnceLock<String>,
    pixels: OnceLock<Result<RgbImage, PhotoError>>,
}

impl SamplePhoto {
    pub fn new(path: Option<&Path>, limits: &Limits) -> SamplePhoto {
        SamplePhoto {
            path: path.map(Path::to_path_buf),
            limits: *limits,
            listed_sha256: None,
            missing_because: None,
            bytes: OnceLock::new(),
            sha256: OnceLock::new(),
            pixels: OnceLock::new(),
        }
    }

    /// The photo of a sample of `corpus`, with the hash its listing took.
    pub fn of(image: Option<&Path>, corpus: &crate::read::Corpus) -> SamplePhoto {
        SamplePhoto::new(image, corpus.limits())
            .with_listed_sha256(image.and_then(|p| corpus.photo_sha256.get(p)))
    }

    /// The same photo, whose content hash is already known from the listing.
    pub fn with_listed_sha256(mut self, sha256: Option<&String>) -> SamplePhoto {
        self.listed_sha256 = sha256.cloned();
        self
    }

    /// The same photo, for a sample whose listing dropped its path for `reason`.
    pub fn missing_because(mut self, reason: Option<&str>) -> SamplePhoto {
        self.missing_because = reason.map(str::to_string);
        self
    }

    fn bytes(&self) -> &Result<Vec<u8>, PhotoError> {
        self.bytes.get_or_init(|| {
            let p = self.path.as_ref().ok_or_else(|| {
                PhotoError::new(
                    FailReason::ImageUnreadable,
                    self.missing_because
                        .as_deref()
                        .unwrap_or("the sample has no image path"),
                )
            })?;
            read_bounded(p, self.limits.max_file_bytes)
        })
    }

    /// sha256 of the image file.
    pub fn sha256(&self) -> Result<&str, &PhotoError> {
        if let Some(s) = &self.listed_sha256 {
            return Ok(s);
        }
        let b = self.bytes().as_ref()?;
        Ok(self
            .sha256
            .get_or_init(|| hex::encode(Sha256::digest(b)))
            .as_str())
    }

    /// The decoded pixels.
    pub fn pixels(&self) -> Result<&RgbImage, &PhotoError> {
        self.pixels
            .get_or_init(|| {
                let b = self.bytes().as_ref().map_err(Clone::clone)?;
                let name = self
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                decode_rgb_within(b, &self.limits).map_err(|e| PhotoError {
                    message: format!("{name}: {}", e.message),
                    ..e
                })
            })
            .as_ref()
    }
}
