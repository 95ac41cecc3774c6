//! A photo file decoded exactly as a model family's real tool decodes it. Production's masks
//! come from the pixels its own decoder made: rembg opens a photo with Pillow
//! (`Image.open` → `ImageOps.exif_transpose` → `convert("RGB")`), Ultralytics with OpenCV
//! (`cv2.imread(path, IMREAD_COLOR)`). Both run libjpeg-turbo, so JPEG is decoded by
//! libjpeg-turbo here ([`jpeg`]); PNG and BMP are lossless, and only the conversions to RGB
//! ([`convert`]) differ between the tools. Any other format is refused with
//! `IMAGE_FORMAT_UNSUPPORTED`: never a silently different decode.

pub mod convert;
pub mod exif;
pub mod jpeg;
pub mod png;

use crate::limits::Limits;
use crate::model::FailReason;

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
    pub fn new(reason: FailReason, message: impl Into<String>) -> PhotoError {
        PhotoError {
            reason,
            message: message.into(),
        }
    }
}

/// Whose decoder a model's photos go through: part of each adapter's parameters, so it is in
/// the report and in the prediction cache's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DecodePolicy {
    /// Pillow: `Image.open` → `ImageOps.exif_transpose` → `convert("RGB")`.
    Pillow,
    /// OpenCV: `cv2.imread(path, cv2.IMREAD_COLOR)` (EXIF orientation applied, BGR; kept here
    /// as RGB, the same bytes reordered).
    OpenCv,
    /// IMG.LY's Node package: sharp (libvips) decodes, no orientation is applied, and a photo
    /// that is not three- or four-channel colour is refused, as the package refuses it.
    Sharp,
}

impl DecodePolicy {
    pub const ALL: [DecodePolicy; 3] = [
        DecodePolicy::Pillow,
        DecodePolicy::OpenCv,
        DecodePolicy::Sharp,
    ];

    /// The name configs and reports use.
    pub fn name(self) -> &'static str {
        match self {
            DecodePolicy::Pillow => "pillow",
            DecodePolicy::OpenCv => "opencv",
            DecodePolicy::Sharp => "sharp",
        }
    }

    pub fn parse(name: &str) -> Result<DecodePolicy, String> {
        DecodePolicy::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                format!("decode = {name:?}: expected \"pillow\", \"opencv\" or \"sharp\"")
            })
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The package whose decoding this is, for messages.
    pub fn tool(self) -> &'static str {
        match self {
            DecodePolicy::Pillow => "Pillow",
            DecodePolicy::OpenCv => "OpenCV",
            DecodePolicy::Sharp => "IMG.LY's package (sharp)",
        }
    }
}

/// The decoder's own output, before a tool's conversion to RGB.
#[derive(Clone, Debug, PartialEq)]
pub enum Pixels {
    Rgb(Vec<u8>),
    Gray(Vec<u8>),
    /// libjpeg's CMYK, as stored in the file (Adobe's writers store it inverted).
    Cmyk(Vec<u8>),
    /// A PNG, decoded losslessly at its own bit depth and colour type (see [`png`]).
    Png(png::Decoded),
}

/// A decoded file: its stored size and pixels, before orientation.
#[derive(Clone, Debug, PartialEq)]
pub struct Native {
    pub w: u32,
    pub h: u32,
    pub pixels: Pixels,
    /// The warning libjpeg recovered from, if any (damaged but complete data).
    pub warning: Option<String>,
}

/// A photo decoded once, from which each policy's RGB pixels are made.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    native: Native,
    tags: exif::Tags,
}

/// The file formats a photo can be, told by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Jpeg,
    Png,
    Bmp,
}

/// The format of `bytes`, or the name of one maskgate does not decode (`None`: not an image
/// format it knows at all).
fn format_of(bytes: &[u8]) -> Result<Format, Option<&'static str>> {
    Ok(match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Format::Jpeg,
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Format::Png,
        [b'B', b'M', ..] => Format::Bmp,
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => {
            return Err(Some("WebP"))
        }
        [b'G', b'I', b'F', b'8', ..] => return Err(Some("GIF")),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => return Err(Some("TIFF")),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => return Err(Some("HEIF/AVIF")),
        [0x00, 0x00, 0x00, 0x0C, b'j', b'P', ..] | [0xFF, 0x4F, 0xFF, 0x51, ..] => {
            return Err(Some("JPEG 2000"))
        }
        _ => return Err(None),
    })
}

/// The refusal of a file that is not JPEG, PNG or BMP: a known other format is unsupported,
/// named; bytes of no image format are unreadable.
fn not_decoded(format: Option<&'static str>) -> PhotoError {
    match format {
        Some(name) => unsupported(name),
        None => PhotoError::new(
            FailReason::ImageUnreadable,
            "not an image file (its first bytes are not JPEG's, PNG's or BMP's)",
        ),
    }
}

/// A BMP that is not uncompressed 24- or 32-bit: a real one in a layout left to Pillow's own
/// decoder (palettes, bit fields, RLE) is unsupported, named by its depth and compression; one
/// whose header is not a BMP header at all is unreadable.
fn other_bmp(bytes: &[u8]) -> PhotoError {
    let header = maskgate_core::bmp::Header::read(bytes);
    match header.map(|h| (h.header_size, h.bits, h.compression)) {
        Some((40 | 52 | 56 | 64 | 108 | 124, bits @ (1 | 4 | 8 | 16 | 24 | 32), c)) if c <= 6 => {
            unsupported(&format!("a {bits}-bit BMP with compression {c}"))
        }
        Some((12, _, _)) => unsupported("a BMP with an OS/2 core header"),
        _ => PhotoError::new(
            FailReason::ImageUnreadable,
            "BMP could not be decoded: its header is not a bitmap header",
        ),
    }
}

fn unsupported(what: &str) -> PhotoError {
    PhotoError::new(
        FailReason::ImageFormatUnsupported,
        format!("{what} is not a format maskgate decodes exactly as Pillow and OpenCV do"),
    )
}

/// Decodes a photo file once (the size checked against `limits` from its header, before any
/// pixel is allocated); [`Decoded::rgb`] then gives each tool's pixels.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, PhotoError> {
    let check = |w: u32, h: u32| {
        limits
            .check_image(w, h)
            .map_err(|m| PhotoError::new(FailReason::ImageTooLarge, m))
    };
    let unreadable = |what: &str, e: String| {
        PhotoError::new(
            FailReason::ImageUnreadable,
            format!("{what} could not be decoded: {e}"),
        )
    };
    let format = format_of(bytes).map_err(not_decoded)?;
    let (native, tags) = match format {
        Format::Jpeg => {
            if jpeg::is_truncated(bytes) {
                return Err(PhotoError::new(
                    FailReason::ImageTruncated,
                    "image file is truncated (its data ends before the end-of-image marker)",
                ));
            }
            let native = jpeg::decode(bytes, check).map_err(|refusal| match refusal {
                jpeg::Refusal::Unsupported(what) => unsupported(&what),
                jpeg::Refusal::Truncated(e) => PhotoError::new(
                    FailReason::ImageTruncated,
                    format!("image file is truncated: {e}"),
                ),
                jpeg::Refusal::Unreadable(e) => unreadable("JPEG", e),
            })??;
            (native, exif::jpeg_tags(bytes))
        }
        Format::Png => png::decode(bytes, check)?,
        Format::Bmp => match maskgate_core::bmp::decode_rgb(bytes, check) {
            Some(decoded) => {
                let (w, h, data) = decoded?;
                let pixels = Pixels::Rgb(data);
                let native = Native {
                    w,
                    h,
                    pixels,
                    warning: None,
                };
                (native, exif::Tags::default())
            }
            None if maskgate_core::bmp::size(bytes).is_some() => {
                return Err(PhotoError::new(
                    FailReason::ImageTruncated,
                    "image file is truncated (the BMP's pixel rows end early)",
                ))
            }
            None => return Err(other_bmp(bytes)),
        },
    };
    Ok(Decoded { native, tags })
}

impl Decoded {
    /// The RGB pixels `policy`'s tool gives, turned as it turns them.
    pub fn rgb(&self, policy: DecodePolicy) -> Result<RgbImage, PhotoError> {
        self.turned(policy, convert::to_rgb(&self.native.pixels, policy))
    }

    /// [`Decoded::rgb`], consuming the decode: an RGB decode becomes the image without a copy.
    pub fn into_rgb(mut self, policy: DecodePolicy) -> Result<RgbImage, PhotoError> {
        if let Pixels::Rgb(rgb) = &mut self.native.pixels {
            let rgb = std::mem::take(rgb);
            return self.turned(policy, Ok(rgb));
        }
        self.rgb(policy)
    }

    /// The converted pixels turned as `policy`'s tool turns them, or what the tool refuses.
    fn turned(
        &self,
        policy: DecodePolicy,
        converted: Result<Vec<u8>, &'static str>,
    ) -> Result<RgbImage, PhotoError> {
        let Native { w, h, warning, .. } = &self.native;
        let refused = |what: &str| {
            PhotoError::new(
                FailReason::ImageFormatUnsupported,
                format!("{what}, which {} refuses", policy.tool()),
            )
        };
        // sharp fails on a libjpeg warning (`failOn: 'warning'`, its default).
        if let (DecodePolicy::Sharp, Some(w)) = (policy, warning) {
            return Err(refused(&format!("a damaged JPEG ({w})")));
        }
        let data = converted.map_err(refused)?;
        let orientation = self.tags.for_policy(policy);
        let (w, h, data) = exif::apply::<3>(orientation, *w as usize, *h as usize, data);
        Ok(RgbImage { w, h, data })
    }
}

/// Decodes a photo with `policy` in one call (see [`decode`] and [`Decoded::rgb`]).
pub fn decode_rgb(
    bytes: &[u8],
    policy: DecodePolicy,
    limits: &Limits,
) -> Result<RgbImage, PhotoError> {
    decode(bytes, limits)?.into_rgb(policy)
}

/// The upright (width, height) of a photo from its headers and EXIF alone, without decoding a
/// pixel: what a label drawn on the photo as shown must match.
pub fn upright_size(bytes: &[u8]) -> Result<(u32, u32), PhotoError> {
    let unreadable = |e: String| PhotoError::new(FailReason::ImageUnreadable, e);
    let (w, h, orientation) = match format_of(bytes).map_err(not_decoded)? {
        Format::Jpeg => {
            let header = jpeg::header(bytes).map_err(unreadable)?;
            let upright = exif::jpeg_tags(bytes).for_policy(DecodePolicy::Pillow);
            (header.width, header.height, upright)
        }
        Format::Png => {
            let (w, h) = png::header(bytes).map_err(unreadable)?;
            (w, h, png::tags(bytes).for_policy(DecodePolicy::Pillow))
        }
        Format::Bmp => {
            let (w, h) = maskgate_core::bmp::size(bytes).ok_or_else(|| other_bmp(bytes))?;
            (w, h, 1)
        }
    };
    Ok(exif::upright(w, h, orientation))
}

/// The upright size of the photo file at `path`, reading its head (where JPEG's and BMP's
/// headers and EXIF lie) and, for PNG, the chunk headers after it (an `eXIf` chunk may follow
/// the image data): the whole file is read only when its head does not hold the header.
pub fn upright_size_of(path: &std::path::Path, max_bytes: u64) -> Result<(u32, u32), String> {
    use std::io::{Read, Seek, SeekFrom};
    const HEAD: u64 = 1 << 20;
    // A BMP's size is in its first bytes and it has no orientation: its head is all it needs
    // (FASSEG's photos are 570 KB BMPs, each read whole here before).
    const BMP_HEAD: u64 = 64;
    let (mut file, len) = crate::limits::open_regular(path).map_err(|e| e.describe(""))?;
    let mut head = Vec::with_capacity(len.min(HEAD) as usize);
    (&mut file)
        .take(BMP_HEAD)
        .read_to_end(&mut head)
        .map_err(|e| e.to_string())?;
    if format_of(&head) == Ok(Format::Bmp) {
        if let Ok(size) = upright_size(&head) {
            return Ok(size);
        }
    }
    (&mut file)
        .take(HEAD - head.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| e.to_string())?;
    if len > HEAD && format_of(&head) == Ok(Format::Png) {
        let (w, h) = png::header(&head)?;
        // The file itself, not a BufReader: every chunk skipped is a seek, which would throw a
        // buffer away each time. A chunk over 1 MiB is not read into memory here.
        file.seek(SeekFrom::Start(8)).map_err(|e| e.to_string())?;
        let tags = png::tags_of(&mut file, 1 << 20);
        let orientation = tags.for_policy(DecodePolicy::Pillow);
        return Ok(exif::upright(w, h, orientation));
    }
    match upright_size(&head) {
        Err(_) if len > HEAD => {
            let whole = crate::limits::read_within(path, max_bytes).map_err(|r| match r {
                crate::limits::Refused::Unreadable(m) | crate::limits::Refused::TooLarge(m) => m,
            })?;
            upright_size(&whole).map_err(|e| e.message)
        }
        sized => sized.map_err(|e| e.message),
    }
}

/// Per policy, one slot: what [`DecodePolicy`] indexes.
pub type PerPolicy<T> = [T; DecodePolicy::ALL.len()];

/// The slot of `policy` in a [`PerPolicy`] array.
pub fn slot<T>(slots: &PerPolicy<T>, policy: DecodePolicy) -> &T {
    &slots[policy.index()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32, gray: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        let (px, kind) = match gray {
            true => (vec![128u8; (w * h) as usize], image::ExtendedColorType::L8),
            false => (
                (0..w * h * 3).map(|i| (i % 251) as u8).collect(),
                image::ExtendedColorType::Rgb8,
            ),
        };
        enc.encode(&px, w, h, kind).unwrap();
        out
    }

    #[test]
    fn formats_not_decoded_exactly_are_refused_by_name() {
        let limits = Limits::default();
        let refused = |bytes: &[u8]| decode(bytes, &limits).unwrap_err();
        let webp = refused(b"RIFF\0\0\0\0WEBPVP8 ");
        assert_eq!(webp.reason, FailReason::ImageFormatUnsupported);
        assert!(webp.message.starts_with("WebP"), "{}", webp.message);
        assert!(refused(b"GIF89a....").message.starts_with("GIF"));
        assert!(refused(b"II*\0\x08\0\0\0").message.starts_with("TIFF"));
        let mut rle8 = b"BM".to_vec();
        rle8.extend([0u8; 12]);
        rle8.extend(40u32.to_le_bytes());
        rle8.extend([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 8, 0, 1, 0, 0, 0]);
        let e = refused(&rle8);
        assert_eq!(e.reason, FailReason::ImageFormatUnsupported);
        assert!(
            e.message.contains("8-bit BMP with compression 1"),
            "{}",
            e.message
        );
        let e = refused(b"BM this is not a bitmap");
        assert_eq!(e.reason, FailReason::ImageUnreadable, "{}", e.message);
        for not_an_image in [&b"<html>a saved error page</html>"[..], b""] {
            assert_eq!(refused(not_an_image).reason, FailReason::ImageUnreadable);
        }
    }

    #[test]
    fn a_jpeg_is_checked_against_the_limits_before_it_is_decoded_and_refused_when_cut() {
        let big = jpeg(64, 48, false);
        let small = Limits {
            max_image_pixels: 64 * 48 - 1,
            ..Default::default()
        };
        assert_eq!(
            decode(&big, &small).unwrap_err().reason,
            FailReason::ImageTooLarge
        );
        let cut = &big[..big.len() - 40];
        assert_eq!(
            decode(cut, &Limits::default()).unwrap_err().reason,
            FailReason::ImageTruncated
        );
        // A motion photo: a video after the end-of-image marker, whose bytes happen to hold a
        // start-of-scan marker with no end after it. The photo is whole.
        let motion = [&big[..], b"ftypmp4 \xFF\xDA\x00\x0C....".as_slice()].concat();
        let img = decode_rgb(&motion, DecodePolicy::Pillow, &Limits::default()).unwrap();
        assert_eq!((img.w, img.h), (64, 48));
        let garbage_scan = [&big[..big.len() / 2], &[0xFF, 0xD9]].concat();
        let e = decode(&garbage_scan, &Limits::default());
        // libjpeg recovers from a damaged scan with a warning, as Pillow does: decoded.
        assert!(e.is_ok(), "{e:?}");
        let img = decode_rgb(&big, DecodePolicy::Pillow, &Limits::default()).unwrap();
        assert_eq!((img.w, img.h, img.data.len()), (64, 48, 64 * 48 * 3));
        assert_eq!(upright_size(&big).unwrap(), (64, 48));
    }

    #[test]
    fn a_large_png_is_sized_upright_by_an_orientation_after_its_image_data() {
        let (w, h) = (800u32, 600u32);
        let mut state = 1u32;
        let noise: Vec<u8> = (0..w * h * 3)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        let mut file = Vec::new();
        let mut enc = ::png::Encoder::new(&mut file, w, h);
        enc.set_color(::png::ColorType::Rgb);
        enc.write_header()
            .unwrap()
            .write_image_data(&noise)
            .unwrap();
        assert!(file.len() > 1 << 20, "the head alone must not hold it");
        let chunk = |kind: &[u8], body: &[u8]| {
            let mut c = (body.len() as u32).to_be_bytes().to_vec();
            c.extend(kind);
            c.extend(body);
            c.extend([0; 4]);
            c
        };
        let iend = file.len() - 12;
        let dir = tempfile::tempdir().unwrap();
        let write = |extra: Vec<u8>| {
            let path = dir.path().join(format!("{}.png", extra.len()));
            let bytes = [&file[..iend], &extra, &file[iend..]].concat();
            std::fs::write(&path, bytes).unwrap();
            upright_size_of(&path, 1 << 30).unwrap()
        };
        let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0".to_vec();
        tiff.extend([0; 4]);
        assert_eq!(write(chunk(b"eXIf", &tiff)), (h, w));
        let xmp = b"XML:com.adobe.xmp\0\0\0\0\0<x tiff:Orientation=\"8\"/>";
        assert_eq!(write(chunk(b"iTXt", xmp)), (h, w));
        assert_eq!(write(chunk(b"tEXt", b"Comment\0hello")), (w, h));
        // Another iTXt before the XMP packet is skipped unread, and the packet still counts.
        let other = chunk(b"iTXt", b"Comment\0\0\0\0\0a note");
        assert_eq!(write([other, chunk(b"iTXt", xmp)].concat()), (h, w));
        // The first eXIf is the one: a later one does not count even when the first is too
        // large to read here (orientation 1, padded past the listing's 1 MiB).
        let mut upright = tiff.clone();
        upright[19] = 1;
        upright.resize((1 << 20) + 1, 0);
        assert_eq!(
            write([chunk(b"eXIf", &upright), chunk(b"eXIf", &tiff)].concat()),
            (w, h)
        );
        // In memory no chunk is too large: the same file's padded first eXIf is read (and says 1).
        let mut small = [&file[..iend], &chunk(b"eXIf", &upright), &file[iend..]].concat();
        assert_eq!(png::tags(&small).exif, Some(1));
        small = [&file[..iend], &chunk(b"eXIf", &tiff), &file[iend..]].concat();
        assert_eq!(png::tags(&small).exif, Some(6));
    }

    #[test]
    fn imgly_refuses_grey_photos_as_its_package_does_and_the_others_replicate_them() {
        let gray = decode(&jpeg(16, 8, true), &Limits::default()).unwrap();
        let e = gray.rgb(DecodePolicy::Sharp).unwrap_err();
        assert_eq!(e.reason, FailReason::ImageFormatUnsupported);
        assert!(e.message.contains("greyscale JPEG"), "{}", e.message);
        for policy in [DecodePolicy::Pillow, DecodePolicy::OpenCv] {
            let img = gray.rgb(policy).unwrap();
            assert!(img.data.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]));
        }
    }
}
