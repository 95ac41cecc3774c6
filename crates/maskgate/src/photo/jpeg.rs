//! JPEG through libjpeg-turbo itself (TurboJPEG 3, built from the `turbojpeg-sys` crate's
//! vendored source): the decoder Pillow and OpenCV bundle, with their defaults (the accurate
//! integer IDCT and "fancy" chroma upsampling), so the pixels are theirs bit for bit. Every
//! subsampling, progressive and arithmetic coding, restart markers, grayscale, RGB, CMYK and
//! YCCK are libjpeg's own work; the colour conversions after it are the caller's
//! (`photo::convert`), because Pillow and OpenCV differ there.

use super::{Native, Pixels};
use std::ffi::CStr;
use turbojpeg_sys as tj;

/// What the header says, read without decoding a pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    /// libjpeg's colour space of the stored components (`tj::TJCS_*`).
    colorspace: i32,
    /// Bits per sample: 8 for every JPEG a camera or a web pipeline writes.
    precision: i32,
    lossless: bool,
}

/// The number of scans a progressive JPEG may have. libjpeg-turbo's own fuzzers use 500: a
/// real encoder writes about 10, and a crafted file with thousands of tiny scans would make the
/// decode quadratic in time (a CPU bomb that no pixel limit catches).
const MAX_SCANS: i32 = 500;

/// One TurboJPEG decompressor, destroyed on drop. Its errors are kept in the handle (TurboJPEG
/// installs its own error manager), so libjpeg never prints to stderr.
struct Handle(tj::tjhandle);

impl Handle {
    fn new() -> Result<Handle, String> {
        // SAFETY: tj3Init has no preconditions; a null handle is checked below.
        let ptr = unsafe { tj::tj3Init(tj::TJINIT_TJINIT_DECOMPRESS as i32) };
        if ptr.is_null() {
            return Err("libjpeg-turbo could not allocate a decompressor".into());
        }
        Ok(Handle(ptr))
    }

    fn error(&self) -> String {
        // SAFETY: the handle is live; tj3GetErrorStr returns a NUL-terminated static or
        // handle-owned string, copied out before the handle can change it.
        unsafe { CStr::from_ptr(tj::tj3GetErrorStr(self.0)) }
            .to_string_lossy()
            .trim()
            .to_string()
    }

    fn error_code(&self) -> i32 {
        // SAFETY: the handle is live.
        unsafe { tj::tj3GetErrorCode(self.0) }
    }

    fn get(&self, param: tj::TJPARAM) -> i32 {
        // SAFETY: the handle is live and `param` is one of TurboJPEG's own constants.
        unsafe { tj::tj3Get(self.0, param as i32) }
    }

    fn set(&self, param: tj::TJPARAM, value: i32) -> Result<(), String> {
        // SAFETY: as for `get`.
        match unsafe { tj::tj3Set(self.0, param as i32, value) } {
            0 => Ok(()),
            _ => Err(self.error()),
        }
    }

    fn header(&self, bytes: &[u8]) -> Result<Header, String> {
        // SAFETY: `bytes` is a live slice of the length given.
        let rc = unsafe { tj::tj3DecompressHeader(self.0, bytes.as_ptr(), bytes.len() as _) };
        if rc != 0 {
            return Err(self.error());
        }
        let dim = |p| u32::try_from(self.get(p)).map_err(|_| "a negative size".to_string());
        Ok(Header {
            width: dim(tj::TJPARAM_TJPARAM_JPEGWIDTH)?,
            height: dim(tj::TJPARAM_TJPARAM_JPEGHEIGHT)?,
            colorspace: self.get(tj::TJPARAM_TJPARAM_COLORSPACE),
            precision: self.get(tj::TJPARAM_TJPARAM_PRECISION),
            lossless: self.get(tj::TJPARAM_TJPARAM_LOSSLESS) != 0,
        })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init and is destroyed once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

/// The header of a JPEG file (its stored size, before any EXIF orientation).
pub fn header(bytes: &[u8]) -> Result<Header, String> {
    Handle::new()?.header(bytes)
}

/// Whether a JPEG ends before its end-of-image marker. Its markers are walked from SOI as libjpeg
/// reads them (junk before a marker skipped), and each scan's entropy-coded data up to the next
/// marker (inside it a 0xFF is followed by a stuffed 0x00 or is a restart marker): data appended
/// after EOI, such as a motion photo's video, is never looked into. libjpeg would pad a file cut
/// short with grey and warn; Pillow refuses it ("image file is truncated").
pub fn is_truncated(bytes: &[u8]) -> bool {
    let next_ff = |from: usize| {
        bytes
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| b == 0xFF))
            .map(|i| from + i)
    };
    let mut at = 2;
    loop {
        // The next marker, after any junk and fill bytes.
        let Some(ff) = next_ff(at) else { return true };
        let mut m = ff + 1;
        while bytes.get(m) == Some(&0xFF) {
            m += 1;
        }
        let Some(&marker) = bytes.get(m) else {
            return true;
        };
        at = m + 1;
        match marker {
            0xD9 => return false,
            // Standalone markers (and a stuffed zero outside a scan, which libjpeg skips).
            0x00 | 0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        else {
            return true;
        };
        if len < 2 {
            // Malformed, not short: libjpeg refuses it with its own message.
            return false;
        }
        at += len;
        if at > bytes.len() {
            return true;
        }
        if marker == 0xDA {
            loop {
                let Some(ff) = next_ff(at) else { return true };
                match bytes.get(ff + 1) {
                    None => return true,
                    Some(0x00 | 0xD0..=0xD7) => at = ff + 2,
                    Some(_) => {
                        at = ff;
                        break;
                    }
                }
            }
        }
    }
}

/// Why libjpeg-turbo gave no pixels.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// A JPEG the photo tools do not read (12-bit, lossless, an unknown colour space).
    Unsupported(String),
    /// The data ends before the image does ("Premature end of JPEG file"): Pillow refuses it.
    Truncated(String),
    /// Any other error libjpeg stopped at.
    Unreadable(String),
}

/// libjpeg's warnings (`JWRN_*` in jerror.h), the messages it recovers from. TurboJPEG keeps
/// only the last message, and a fatal error after a warning is still reported as a warning, so
/// the text tells them apart.
const WARNINGS: [&str; 7] = [
    "Corrupt JPEG data",
    "Unknown Adobe color transform code",
    "Inconsistent progression sequence",
    "Warning: unknown JFIF revision number",
    "Premature end of JPEG file",
    "Invalid SOS parameters for sequential JPEG",
    "Application transferred too many scanlines",
];

/// Decodes a JPEG whose header `check(w, h)` accepted, to libjpeg's output: RGB for YCbCr and
/// RGB files, one channel for grayscale, CMYK (as stored, YCCK converted by libjpeg) for
/// four-component files. A warning libjpeg recovers from (extraneous bytes before a marker, a
/// corrupt Huffman code) is not an error: Pillow and OpenCV ignore it and keep libjpeg's
/// pixels, so this does too, and keeps its text in [`Native::warning`] (sharp refuses such a
/// file). A premature end is Pillow's "image file is truncated".
pub fn decode<E>(
    bytes: &[u8],
    check: impl FnOnce(u32, u32) -> Result<(), E>,
) -> Result<Result<Native, E>, Refusal> {
    let handle = Handle::new().map_err(Refusal::Unreadable)?;
    let header = handle.header(bytes).map_err(Refusal::Unreadable)?;
    if header.precision != 8 {
        return Err(Refusal::Unsupported(format!(
            "a {}-bit JPEG (the photo tools read 8-bit JPEG only)",
            header.precision
        )));
    }
    if header.lossless {
        return Err(Refusal::Unsupported(
            "a lossless JPEG (SOF3), which the photo tools do not read".into(),
        ));
    }
    let (format, channels): (i32, usize) = match header.colorspace as u32 {
        tj::TJCS_TJCS_GRAY => (tj::TJPF_TJPF_GRAY, 1),
        tj::TJCS_TJCS_CMYK | tj::TJCS_TJCS_YCCK => (tj::TJPF_TJPF_CMYK, 4),
        tj::TJCS_TJCS_RGB | tj::TJCS_TJCS_YCbCr => (tj::TJPF_TJPF_RGB, 3),
        other => {
            return Err(Refusal::Unsupported(format!(
                "a JPEG in an unknown colour space ({other})"
            )))
        }
    };
    if let Err(e) = check(header.width, header.height) {
        return Ok(Err(e));
    }
    handle
        .set(tj::TJPARAM_TJPARAM_SCANLIMIT, MAX_SCANS)
        .map_err(Refusal::Unreadable)?;
    // Warnings recover, as in Pillow and OpenCV (see above).
    handle
        .set(tj::TJPARAM_TJPARAM_STOPONWARNING, 0)
        .map_err(Refusal::Unreadable)?;
    let (w, h) = (header.width as usize, header.height as usize);
    let pitch = w * channels;
    let mut data = vec![0u8; pitch * h];
    // SAFETY: `data` holds exactly `pitch * h` bytes, the size TurboJPEG writes for a
    // `w`×`h` image of `channels` bytes a pixel at this pitch (the header read just now by the
    // same handle gives w and h; no scaling factor is set). The pitch fits an i32: a JPEG is at
    // most 65,535 pixels wide.
    let rc = unsafe {
        tj::tj3Decompress8(
            handle.0,
            bytes.as_ptr(),
            bytes.len() as _,
            data.as_mut_ptr(),
            pitch as i32,
            format,
        )
    };
    let mut warning = None;
    if rc != 0 {
        let message = handle.error();
        let warned = handle.error_code() == tj::TJERR_TJERR_WARNING as i32
            && WARNINGS.iter().any(|w| message.contains(w));
        if !warned {
            return Err(Refusal::Unreadable(message));
        }
        if message.contains("Premature end of JPEG file") {
            return Err(Refusal::Truncated(message));
        }
        warning = Some(message);
    }
    let pixels = match channels {
        1 => Pixels::Gray(data),
        4 => Pixels::Cmyk(data),
        _ => Pixels::Rgb(data),
    };
    Ok(Ok(Native {
        w: header.width,
        h: header.height,
        pixels,
        warning,
    }))
}
