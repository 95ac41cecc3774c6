//! PNG, decoded losslessly by the `png` crate at its own bit depth and colour type (no
//! transformation): PNG's pixels are exact in every decoder, so only the conversions to RGB that
//! Pillow and OpenCV apply afterwards (`photo::convert`) can differ, and they are reproduced
//! there. The `eXIf` chunk's orientation is read wherever it lies, before or after the image
//! data, as Pillow's `getexif` loads the whole file.

use super::exif::{self, Tags};
use super::{Native, PhotoError, Pixels};
use crate::model::FailReason;

/// A PNG's samples as stored (16-bit samples big-endian), with what the conversion needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub color: png::ColorType,
    /// Bits per sample: 1, 2, 4, 8 or 16.
    pub depth: u8,
    /// Pixels of one row (a low-depth row's last byte may hold padding bits).
    pub width: usize,
    /// Bytes of one row of `data`.
    pub stride: usize,
    pub data: Vec<u8>,
    /// RGB triples of an indexed image.
    pub palette: Vec<u8>,
}

/// The memory the decoder may allocate for itself besides the pixels (which the caller
/// allocates at the checked size): rows, zlib state, chunks. Text and ICC profiles, which
/// neither tool applies to the pixels, are skipped, so a compressed-profile bomb inflates nothing.
const DECODER_BYTES: usize = 64 << 20;

/// A decoder that leaves every sample as stored.
fn decoder(bytes: &[u8]) -> png::Decoder<std::io::Cursor<&[u8]>> {
    let mut d = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits {
            bytes: DECODER_BYTES,
        },
    );
    d.set_transformations(png::Transformations::IDENTITY);
    d.set_ignore_text_chunk(true);
    d.set_ignore_iccp_chunk(true);
    d
}

/// (width, height) from the header chunk alone.
pub fn header(bytes: &[u8]) -> Result<(u32, u32), String> {
    let mut d = decoder(bytes);
    let info = d.read_header_info().map_err(|e| e.to_string())?;
    Ok((info.width, info.height))
}

/// The orientation tags of a PNG held in memory (see [`tags_of`]): its chunks are there
/// already, so none is too large to read.
pub fn tags(bytes: &[u8]) -> Tags {
    let mut file = std::io::Cursor::new(bytes);
    file.set_position(8);
    tags_of(&mut file, usize::MAX)
}

/// The XMP packet's `iTXt` keyword with its NUL: read before a body, so another text is
/// skipped unread.
const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp\0";

/// The orientation tags of a PNG read from its first chunk on: the first `eXIf` chunk and the
/// first uncompressed XMP packet (`iTXt` keyword `XML:com.adobe.xmp`, which Pillow reads when
/// IFD0 has no orientation), before or after the image data (Pillow's `getexif` loads the
/// whole file; OpenCV reads both places too). Only those chunks are read; the others, and
/// an `iTXt` whose keyword is not XMP's, are sought past. A chunk larger than `max_chunk` is
/// not read (a large file's listing bounds what it holds in memory); the first `eXIf` counts
/// as the first even then. At most 2^16 chunks are walked, so a file of empty chunks is not
/// walked for ever. A zlib-compressed XMP packet is not read.
pub fn tags_of(file: &mut (impl std::io::Read + std::io::Seek), max_chunk: usize) -> Tags {
    let mut tags = Tags::default();
    let mut exif_seen = false;
    let mut head = [0u8; 8];
    let mut keyword = [0u8; XMP_KEYWORD.len()];
    // Past the rest of a chunk and its CRC, `read` bytes of it already read.
    fn skip(file: &mut impl std::io::Seek, len: usize, read: usize) -> bool {
        file.seek(std::io::SeekFrom::Current((len - read) as i64 + 4))
            .is_ok()
    }
    for _ in 0..1 << 16 {
        if file.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..] {
            b"eXIf" if !exif_seen => {
                exif_seen = true;
                if len > max_chunk {
                    if !skip(file, len, 0) {
                        break;
                    }
                    continue;
                }
                let mut body = vec![0u8; len + 4];
                if file.read_exact(&mut body).is_err() {
                    break;
                }
                let found = Tags::of_exif(&body[..len]);
                (tags.exif, tags.opencv) = (found.exif, found.opencv);
            }
            b"iTXt" if tags.xmp.is_none() && len >= keyword.len() => {
                if file.read_exact(&mut keyword).is_err() {
                    break;
                }
                let rest = len - keyword.len();
                if keyword != XMP_KEYWORD || rest > max_chunk {
                    if !skip(file, len, keyword.len()) {
                        break;
                    }
                    continue;
                }
                let mut body = keyword.to_vec();
                body.resize(len + 4, 0);
                if file.read_exact(&mut body[keyword.len()..]).is_err() {
                    break;
                }
                tags.xmp = xmp_orientation(&body[..len]);
            }
            b"IEND" => break,
            _ => {
                if !skip(file, len, 0) {
                    break;
                }
            }
        }
    }
    tags
}

/// The orientation in an `iTXt` chunk's body when it is an uncompressed XMP packet.
fn xmp_orientation(itxt: &[u8]) -> Option<u16> {
    plain_itxt(itxt, b"XML:com.adobe.xmp").and_then(exif::orientation_in_xmp)
}

/// The text of an uncompressed `iTXt` chunk whose keyword is `keyword`: keyword, NUL,
/// compression flag, method, language tag, NUL, translated keyword, NUL, text.
fn plain_itxt<'a>(body: &'a [u8], keyword: &[u8]) -> Option<&'a [u8]> {
    let rest = body.strip_prefix(keyword)?.strip_prefix(b"\0")?;
    let (&[flag, _method], rest) = rest.split_first_chunk::<2>()?;
    if flag != 0 {
        return None;
    }
    let language_end = rest.iter().position(|&b| b == 0)?;
    let rest = &rest[language_end + 1..];
    let translated_end = rest.iter().position(|&b| b == 0)?;
    Some(&rest[translated_end + 1..])
}

/// Decodes a PNG whose header `check(w, h)` accepts.
pub fn decode(
    bytes: &[u8],
    check: impl FnOnce(u32, u32) -> Result<(), PhotoError>,
) -> Result<(Native, Tags), PhotoError> {
    let bad = |e: png::DecodingError| {
        let text = e.to_string();
        let reason = match e {
            png::DecodingError::IoError(ref io)
                if io.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                FailReason::ImageTruncated
            }
            _ => FailReason::ImageUnreadable,
        };
        PhotoError::new(reason, format!("PNG could not be decoded: {text}"))
    };
    // The header alone, to check the size before the decoder allocates anything.
    let mut d = decoder(bytes);
    let (w, h) = {
        let info = d.read_header_info().map_err(bad)?;
        (info.width, info.height)
    };
    check(w, h)?;
    let mut reader = d.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| PhotoError::new(FailReason::ImageTooLarge, "PNG frame size overflows"))?;
    let mut data = vec![0u8; size];
    let frame = reader.next_frame(&mut data).map_err(bad)?;
    data.truncate(frame.buffer_size());
    let info = reader.info();
    let palette = info.palette.as_deref().unwrap_or_default().to_vec();
    let decoded = Decoded {
        color: frame.color_type,
        depth: frame.bit_depth as u8,
        width: w as usize,
        stride: frame.line_size,
        data,
        palette,
    };
    Ok((
        Native {
            w,
            h,
            pixels: Pixels::Png(decoded),
            warning: None,
        },
        tags(bytes),
    ))
}
