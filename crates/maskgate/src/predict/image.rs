//! Photo loading for model arms: the file's bytes (hashed for the prediction cache) and its RGB
//! pixels, each read at most once per sample however many arms use them.

use crate::limits::Limits;
use crate::model::FailReason;
pub use crate::photo::{DecodePolicy, PhotoError, RgbImage};
use crate::photo::{Decoded, PerPolicy};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Decodes RGB pixels as Pillow does, within the default [`Limits`].
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, String> {
    crate::photo::decode_rgb(bytes, DecodePolicy::Pillow, &Limits::default()).map_err(|e| e.message)
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
    /// The file decoded once; each policy's pixels are made from it when an arm first asks.
    decoded: OnceLock<Result<Decoded, PhotoError>>,
    pixels: PerPolicy<OnceLock<Result<RgbImage, PhotoError>>>,
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
            decoded: OnceLock::new(),
            pixels: Default::default(),
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

    /// The pixels as `policy`'s tool decodes the photo.
    pub fn pixels(&self, policy: DecodePolicy) -> Result<&RgbImage, &PhotoError> {
        let decoded = self
            .decoded
            .get_or_init(|| {
                let b = self.bytes().as_ref().map_err(Clone::clone)?;
                let name = self
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                crate::photo::decode(b, &self.limits).map_err(|e| PhotoError {
                    message: format!("{name}: {}", e.message),
                    ..e
                })
            })
            .as_ref()?;
        crate::photo::slot(&self.pixels, policy)
            .get_or_init(|| decoded.rgb(policy))
            .as_ref()
    }

    /// The pixels a person sees: Pillow's decode (the gallery's overlays, `inspect`).
    pub fn shown(&self) -> Result<&RgbImage, &PhotoError> {
        self.pixels(DecodePolicy::Pillow)
    }
}
