//! The orientation a phone wrote, and the eight transforms it names. Pillow's
//! `ImageOps.exif_transpose` and OpenCV's `IMREAD_COLOR` both turn the stored pixels upright by
//! the EXIF tag 0x0112 of IFD0 (a JPEG's first `Exif` APP1 segment, a PNG's `eXIf` chunk before
//! or after the image data); Pillow alone falls back to XMP's `tiff:Orientation` when IFD0 has
//! no such tag. A value outside 2..=8 leaves the pixels as stored in both.

use super::DecodePolicy;

/// The orientation a phone wrote, 1 (upright) to 8.
pub type Orientation = u16;

/// Where a file states its orientation, as each tool reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tags {
    /// IFD0's tag as Pillow reads it, when present (whatever its value).
    pub exif: Option<u16>,
    /// XMP's `tiff:Orientation` digit, when present.
    pub xmp: Option<u16>,
    /// The tag as OpenCV's `ExifReader` reads it: from the first APP1 segment only (XMP there
    /// hides the EXIF after it), the value field's first two bytes whatever the entry's type
    /// (a big-endian LONG 6 reads 0).
    pub opencv: Option<u16>,
}

impl Tags {
    /// The EXIF block's tags (a PNG's `eXIf`, or a JPEG's first APP1), for both readers.
    pub fn of_exif(tiff: &[u8]) -> Tags {
        Tags {
            exif: orientation_in_tiff(tiff),
            xmp: None,
            opencv: opencv_orientation_in_tiff(tiff),
        }
    }

    /// The orientation `policy`'s tool applies: Pillow's EXIF tag or else XMP, OpenCV's own
    /// reading; IMG.LY's sharp pipeline applies none (it never calls `rotate()`).
    pub fn for_policy(self, policy: DecodePolicy) -> Orientation {
        match policy {
            DecodePolicy::Pillow => self.exif.or(self.xmp).unwrap_or(1),
            DecodePolicy::OpenCv => self.opencv.unwrap_or(1),
            DecodePolicy::Sharp => 1,
        }
    }
}

/// A TIFF-structured block (EXIF after its `Exif\0\0` prefix), read in its byte order.
struct Tiff<'a> {
    bytes: &'a [u8],
    little: bool,
}

impl<'a> Tiff<'a> {
    fn new(bytes: &'a [u8]) -> Option<Tiff<'a>> {
        let little = match bytes.get(..4)? {
            [b'I', b'I', 42, 0] => true,
            [b'M', b'M', 0, 42] => false,
            _ => return None,
        };
        Some(Tiff { bytes, little })
    }

    fn u16_at(&self, o: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(o..o.checked_add(2)?)?.try_into().ok()?;
        Some(match self.little {
            true => u16::from_le_bytes(b),
            false => u16::from_be_bytes(b),
        })
    }

    fn u32_at(&self, o: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(o..o.checked_add(4)?)?.try_into().ok()?;
        Some(match self.little {
            true => u32::from_le_bytes(b),
            false => u32::from_be_bytes(b),
        })
    }

    /// IFD0's orientation entry: its type, count and the offset of its value field.
    fn orientation_entry(&self) -> Option<(u16, u32, usize)> {
        let ifd = self.u32_at(4)? as usize;
        let entries = self.u16_at(ifd)? as usize;
        (0..entries).find_map(|i| {
            let entry = ifd.checked_add(2 + 12 * i)?;
            (self.u16_at(entry)? == 0x0112).then_some(())?;
            Some((self.u16_at(entry + 2)?, self.u32_at(entry + 4)?, entry + 8))
        })
    }
}

/// OpenCV's reading of the orientation entry (see [`Tags::opencv`]).
fn opencv_orientation_in_tiff(tiff: &[u8]) -> Option<u16> {
    let tiff = Tiff::new(tiff)?;
    let (_, _, value_at) = tiff.orientation_entry()?;
    tiff.u16_at(value_at)
}

/// IFD0's orientation tag in a TIFF-structured EXIF block (after the `Exif\0\0` prefix): the
/// first value of a SHORT or LONG entry, as Pillow reads it; `None` when the block or the tag
/// is missing or unreadable.
pub fn orientation_in_tiff(tiff: &[u8]) -> Option<u16> {
    let tiff = Tiff::new(tiff)?;
    match tiff.orientation_entry()? {
        // SHORT: up to two fit in the value field; the first counts.
        (3, 1..=2, at) => tiff.u16_at(at),
        (4, 1, at) => tiff.u32_at(at).map(|v| v.min(u16::MAX as u32) as u16),
        _ => None,
    }
}

/// The digit of XMP's `tiff:Orientation="D"` (or `>D`), as Pillow's `getexif` finds it.
pub fn orientation_in_xmp(xmp: &[u8]) -> Option<u16> {
    const KEY: &[u8] = b"tiff:Orientation";
    (0..xmp.len())
        .filter(|&i| xmp[i..].starts_with(KEY))
        .find_map(|i| {
            let digit = match &xmp[i + KEY.len()..] {
                [b'=', b'"', d, ..] | [b'>', d, ..] => *d,
                _ => return None,
            };
            digit.is_ascii_digit().then(|| (digit - b'0') as u16)
        })
}

/// The orientation tags of a JPEG: its first APP1 segment that starts with `Exif\0\0` and its
/// first XMP packet, before the first scan.
pub fn jpeg_tags(bytes: &[u8]) -> Tags {
    const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
    let mut tags = Tags::default();
    let (mut exif_seen, mut xmp_seen, mut app1_seen) = (false, false, false);
    let mut at = 2;
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        // Fill bytes before a marker.
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        // A segment's length counts its own two bytes: below 2 it is malformed (libjpeg refuses
        // the file), and nothing after it can be found.
        let Some(len) = bytes
            .get(at + 2..at + 4)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            .filter(|&len| len >= 2)
        else {
            break;
        };
        let body = bytes
            .get(at + 4..(at + 2 + len).min(bytes.len()))
            .unwrap_or_default();
        if marker == 0xE1 && !app1_seen {
            app1_seen = true;
            if body.starts_with(b"Exif\0\0") {
                tags.opencv = opencv_orientation_in_tiff(&body[6..]);
            }
        }
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") && !exif_seen {
            exif_seen = true;
            tags.exif = orientation_in_tiff(&body[6..]);
        } else if marker == 0xE1 && body.starts_with(XMP) && !xmp_seen {
            xmp_seen = true;
            tags.xmp = orientation_in_xmp(&body[XMP.len()..]);
        }
        at += 2 + len;
    }
    tags
}

/// The size of a `w`×`h` image once turned by `o` (5–8 swap the sides).
pub fn upright<T>(w: T, h: T, o: Orientation) -> (T, T) {
    if (5..=8).contains(&o) {
        (h, w)
    } else {
        (w, h)
    }
}

/// `pixels` (`w`×`h`, `N` bytes a pixel) turned upright: the new size and pixels.
pub fn apply<const N: usize>(
    o: Orientation,
    w: usize,
    h: usize,
    pixels: Vec<u8>,
) -> (usize, usize, Vec<u8>) {
    if !(2..=8).contains(&o) {
        return (w, h, pixels);
    }
    let (ow, oh) = upright(w, h, o);
    // As Pillow's transpose methods map them, the source pixel of output (0, 0) and the steps,
    // in source pixels, to the source of output (x + 1, y) and of (x, y + 1).
    let (wi, hi) = (w as isize, h as isize);
    let at = |sx: isize, sy: isize| sy * wi + sx;
    let (origin, step_x, step_y) = match o {
        2 => (at(wi - 1, 0), -1, wi),
        3 => (at(wi - 1, hi - 1), -1, -wi),
        4 => (at(0, hi - 1), 1, -wi),
        5 => (at(0, 0), wi, 1),
        6 => (at(0, hi - 1), -wi, 1),
        7 => (at(wi - 1, hi - 1), -wi, -1),
        _ => (at(wi - 1, 0), wi, -1),
    };
    let (src, _) = pixels.as_chunks::<N>();
    let mut out = vec![0u8; pixels.len()];
    let (dst, _) = out.as_chunks_mut::<N>();
    for (y, row) in dst.chunks_exact_mut(ow).take(oh).enumerate() {
        let mut s = origin + y as isize * step_y;
        for px in row {
            *px = src[s as usize];
            s += step_x;
        }
    }
    (ow, oh, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff(little: bool, tag_type: u16, count: u32, value: u16) -> Vec<u8> {
        type Writers = (fn(u16) -> [u8; 2], fn(u32) -> [u8; 4]);
        let (u16b, u32b): Writers = if little {
            (u16::to_le_bytes, u32::to_le_bytes)
        } else {
            (u16::to_be_bytes, u32::to_be_bytes)
        };
        let mut t = if little {
            b"II".to_vec()
        } else {
            b"MM".to_vec()
        };
        t.extend(u16b(42));
        t.extend(u32b(8));
        t.extend(u16b(1));
        t.extend(u16b(0x0112));
        t.extend(u16b(tag_type));
        t.extend(u32b(count));
        t.extend(u16b(value));
        t.extend([0, 0]);
        t.extend(u32b(0));
        t
    }

    #[test]
    fn orientation_is_read_in_either_byte_order_whatever_its_value() {
        assert_eq!(orientation_in_tiff(&tiff(true, 3, 1, 6)), Some(6));
        assert_eq!(orientation_in_tiff(&tiff(false, 3, 1, 8)), Some(8));
        assert_eq!(orientation_in_tiff(&tiff(true, 3, 1, 9)), Some(9));
        assert_eq!(orientation_in_tiff(&tiff(true, 3, 2, 6)), Some(6));
        assert_eq!(orientation_in_tiff(&tiff(true, 2, 1, 6)), None);
        assert_eq!(orientation_in_tiff(&tiff(true, 3, 1, 6)[..12]), None);
        assert_eq!(orientation_in_tiff(b"garbage"), None);
    }

    #[test]
    fn pillow_falls_back_to_xmp_only_without_an_exif_tag() {
        let xmp = |s: &str| orientation_in_xmp(s.as_bytes());
        assert_eq!(xmp(r#"<x tiff:Orientation="6"/>"#), Some(6));
        assert_eq!(xmp("<tiff:Orientation>8</tiff:Orientation>"), Some(8));
        assert_eq!(xmp("<tiff:Orientation> 8"), None);
        let tags = |exif, xmp| Tags {
            exif,
            xmp,
            opencv: exif,
        };
        assert_eq!(tags(None, Some(6)).for_policy(DecodePolicy::Pillow), 6);
        assert_eq!(tags(None, Some(6)).for_policy(DecodePolicy::OpenCv), 1);
        assert_eq!(tags(Some(1), Some(6)).for_policy(DecodePolicy::Pillow), 1);
        assert_eq!(tags(Some(3), None).for_policy(DecodePolicy::OpenCv), 3);
        assert_eq!(tags(Some(3), None).for_policy(DecodePolicy::Sharp), 1);
        // A big-endian LONG: Pillow reads 6, OpenCV the value field's first two bytes, 0.
        let mut long = tiff(false, 4, 1, 0);
        long[18..22].copy_from_slice(&6u32.to_be_bytes());
        assert_eq!(Tags::of_exif(&long).for_policy(DecodePolicy::Pillow), 6);
        assert_eq!(Tags::of_exif(&long).for_policy(DecodePolicy::OpenCv), 0);
    }

    #[test]
    fn the_eight_orientations_turn_a_2x3_image_upright() {
        // Stored 3 wide, 2 high: 0 1 2 / 3 4 5.
        let px: Vec<u8> = (0..6).collect();
        let t = |o| apply::<1>(o, 3, 2, px.clone());
        assert_eq!(t(1), (3, 2, vec![0, 1, 2, 3, 4, 5]));
        assert_eq!(t(2), (3, 2, vec![2, 1, 0, 5, 4, 3]));
        assert_eq!(t(3), (3, 2, vec![5, 4, 3, 2, 1, 0]));
        assert_eq!(t(4), (3, 2, vec![3, 4, 5, 0, 1, 2]));
        assert_eq!(t(5), (2, 3, vec![0, 3, 1, 4, 2, 5]));
        // 6: stored rotated 90° counter-clockwise, so turned 90° clockwise.
        assert_eq!(t(6), (2, 3, vec![3, 0, 4, 1, 5, 2]));
        assert_eq!(t(7), (2, 3, vec![5, 2, 4, 1, 3, 0]));
        assert_eq!(t(8), (2, 3, vec![2, 5, 1, 4, 0, 3]));
    }

    #[test]
    fn a_jpeg_orientation_comes_from_its_exif_segment_and_stops_at_the_scan() {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff(false, 3, 1, 3));
        j.extend([0xFF, 0xE1]);
        j.extend(((app1.len() + 2) as u16).to_be_bytes());
        j.extend(&app1);
        assert_eq!(jpeg_tags(&j).exif, Some(3));
        let mut scan_first = vec![0xFF, 0xD8, 0xFF, 0xDA, 0, 2];
        scan_first.extend(&j[2..]);
        assert_eq!(jpeg_tags(&scan_first), Tags::default());
        assert_eq!(jpeg_tags(&j[..10]), Tags::default());
        // Found by the fuzzer: a segment length below its own two bytes.
        assert_eq!(
            jpeg_tags(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xDB]),
            Tags::default()
        );
        assert_eq!(jpeg_tags(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 1]), Tags::default());
    }
}
