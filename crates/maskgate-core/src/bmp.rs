//! A direct decoder for the BMP layouts segmentation datasets ship (FASSEG's photos and labels):
//! uncompressed 24- or 32-bit `BI_RGB`, bottom-up or top-down, equal to Pillow's and to the
//! image crate's general decoder, copying each row once. Any other layout, and any file whose
//! header does not add up, returns `None`: a label then falls back to the general decoder and
//! its errors, a photo is refused (maskgate decodes photos only as the real tools do).

/// Width, height and interleaved RGB pixels.
pub type Decoded = (u32, u32, Vec<u8>);

/// The fields of a BMP's file and info headers that tell its layout, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub pixel_offset: usize,
    /// 12 (OS/2 core), 40 (BITMAPINFOHEADER), 52/56/64, 108 (V4), 124 (V5).
    pub header_size: u32,
    pub width: i32,
    pub height: i32,
    pub planes: u16,
    pub bits: u16,
    pub compression: u32,
}

impl Header {
    /// The headers of a file that starts with `BM`, or `None` when it does not or is too short
    /// to hold them.
    pub fn read(bytes: &[u8]) -> Option<Header> {
        let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
        let u32_at = |o: usize| Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?));
        if bytes.get(..2)? != b"BM" {
            return None;
        }
        let header_size = u32_at(14)?;
        if header_size == 12 {
            // OS/2's core header: 16-bit width and height, then planes and depth; never
            // compressed.
            return Some(Header {
                pixel_offset: u32_at(10)? as usize,
                header_size,
                width: u16_at(18)? as i32,
                height: u16_at(20)? as i32,
                planes: u16_at(22)?,
                bits: u16_at(24)?,
                compression: 0,
            });
        }
        Some(Header {
            pixel_offset: u32_at(10)? as usize,
            header_size,
            width: u32_at(18)? as i32,
            height: u32_at(22)? as i32,
            planes: u16_at(26)?,
            bits: u16_at(28)?,
            compression: u32_at(30)?,
        })
    }
}

/// The layout of an uncompressed 24- or 32-bit BMP from its headers alone.
struct Layout {
    w: u32,
    h: u32,
    bottom_up: bool,
    bytes_per_pixel: usize,
    pixel_offset: usize,
}

fn layout(bytes: &[u8]) -> Option<Layout> {
    let hd = Header::read(bytes)?;
    // BITMAPINFOHEADER and its V4/V5 extensions; the older core header has 16-bit sizes.
    if !matches!(hd.header_size, 40 | 108 | 124) {
        return None;
    }
    let bytes_per_pixel = match (hd.planes, hd.bits, hd.compression) {
        (1, 24, 0) => 3,
        (1, 32, 0) => 4,
        _ => return None,
    };
    let (width, height) = (hd.width, hd.height);
    if width <= 0
        || height == 0
        || height == i32::MIN
        || hd.pixel_offset < 14 + hd.header_size as usize
    {
        return None;
    }
    Some(Layout {
        w: width as u32,
        h: height.unsigned_abs(),
        bottom_up: height > 0,
        bytes_per_pixel,
        pixel_offset: hd.pixel_offset,
    })
}

/// `(width, height)` of an uncompressed 24- or 32-bit BMP, from its headers alone (the first
/// 54 bytes or so), or `None` when the file is not one.
pub fn size(bytes: &[u8]) -> Option<(u32, u32)> {
    layout(bytes).map(|l| (l.w, l.h))
}

/// `(width, height, interleaved RGB)` of an uncompressed 24- or 32-bit BMP (the 32-bit padding
/// byte ignored, as the general decoder's RGB conversion does), or `None` when the file is not
/// one (or is cut short). `check(w, h)` vets the size before any pixel is allocated.
pub fn decode_rgb<E>(
    bytes: &[u8],
    check: impl FnOnce(u32, u32) -> Result<(), E>,
) -> Option<Result<Decoded, E>> {
    let Layout {
        w,
        h,
        bottom_up,
        bytes_per_pixel,
        pixel_offset,
    } = layout(bytes)?;
    let row_bytes = w as usize * bytes_per_pixel;
    let stride = row_bytes.div_ceil(4) * 4;
    let end = (h as usize)
        .checked_mul(stride)?
        .checked_add(pixel_offset)?;
    // The size first: a header claiming too many pixels is refused as such, whatever follows.
    if let Err(e) = check(w, h) {
        return Some(Err(e));
    }
    // The last row needs only its pixels, not its padding.
    if end - (stride - row_bytes) > bytes.len() {
        return None;
    }
    let out_row = w as usize * 3;
    let mut out = vec![0u8; out_row * h as usize];
    for (y, dst) in out.chunks_exact_mut(out_row).enumerate() {
        let file_row = if bottom_up { h as usize - 1 - y } else { y };
        let start = pixel_offset + file_row * stride;
        let src = &bytes[start..start + row_bytes];
        for (d, s) in dst
            .chunks_exact_mut(3)
            .zip(src.chunks_exact(bytes_per_pixel))
        {
            d.copy_from_slice(&[s[2], s[1], s[0]]);
        }
    }
    Some(Ok((w, h, out)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_os2_core_header_is_read_by_its_own_layout() {
        // 14-byte file header, then size 12, width 3, height 2, planes 1, 24 bits.
        let mut core = b"BM".to_vec();
        core.extend([0u8; 8]);
        core.extend(26u32.to_le_bytes());
        core.extend(12u32.to_le_bytes());
        for v in [3u16, 2, 1, 24] {
            core.extend(v.to_le_bytes());
        }
        let h = Header::read(&core).unwrap();
        assert_eq!(
            (
                h.header_size,
                h.width,
                h.height,
                h.planes,
                h.bits,
                h.compression
            ),
            (12, 3, 2, 1, 24, 0)
        );
        assert_eq!(Header::read(&core[..25]), None, "too short for its fields");
    }

    use super::*;
    use proptest::prelude::*;

    fn general(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let img = image::load_from_memory(bytes).unwrap().to_rgb8();
        (img.width(), img.height(), img.into_raw())
    }

    fn encode(w: u32, h: u32, px: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::bmp::BmpEncoder::new(&mut out)
            .encode(px, w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    proptest! {
        #[test]
        fn equals_the_general_decoder(w in 1u32..19, h in 1u32..13, seed in any::<u64>()) {
            let mut state = seed;
            let px: Vec<u8> = (0..w * h * 3)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (state >> 56) as u8
                })
                .collect();
            let bytes = encode(w, h, &px);
            let fast = decode_rgb(&bytes, |_, _| Ok::<(), ()>(())).unwrap().unwrap();
            prop_assert_eq!(&fast, &general(&bytes));
            prop_assert_eq!(fast.2, px);
        }

        #[test]
        fn never_panics_on_garbage(mut bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if bytes.len() >= 2 {
                bytes[0] = b'B';
                bytes[1] = b'M';
            }
            let _ = decode_rgb(&bytes, |_, _| Ok::<(), ()>(()));
        }
    }

    #[test]
    fn thirty_two_bit_files_equal_the_general_decoder() {
        // BITMAPINFOHEADER, 32 bpp, BI_RGB, as FASSEG's label files are stored.
        let (w, h) = (3u32, 2u32);
        let mut bytes = b"BM".to_vec();
        bytes.extend((54 + w * h * 4).to_le_bytes());
        bytes.extend([0u8; 4]);
        bytes.extend(54u32.to_le_bytes());
        bytes.extend(40u32.to_le_bytes());
        bytes.extend((w as i32).to_le_bytes());
        bytes.extend((h as i32).to_le_bytes());
        bytes.extend(1u16.to_le_bytes());
        bytes.extend(32u16.to_le_bytes());
        bytes.extend([0u8; 24]);
        bytes.extend((0..w * h * 4).map(|v| (v * 37 % 251) as u8));
        let fast = decode_rgb(&bytes, |_, _| Ok::<(), ()>(()))
            .unwrap()
            .unwrap();
        assert_eq!(fast, general(&bytes));
    }

    #[test]
    fn top_down_rows_and_cut_files() {
        let px: Vec<u8> = (0..5 * 3 * 3).map(|v| v as u8).collect();
        let mut bytes = encode(5, 3, &px);
        // The same pixels stored top-down: negate the height and flip the rows.
        let stride = 16;
        let offset = u32::from_le_bytes(bytes[10..14].try_into().unwrap()) as usize;
        let rows: Vec<Vec<u8>> = bytes[offset..offset + 3 * stride]
            .chunks(stride)
            .map(<[u8]>::to_vec)
            .collect();
        let mut flipped = bytes.clone();
        for (i, r) in rows.iter().rev().enumerate() {
            flipped[offset + i * stride..offset + (i + 1) * stride].copy_from_slice(r);
        }
        flipped[22..26].copy_from_slice(&(-3i32).to_le_bytes());
        let fast = decode_rgb(&flipped, |_, _| Ok::<(), ()>(()))
            .unwrap()
            .unwrap();
        assert_eq!(fast.2, px);
        // A file cut short is not decoded (a label falls back to the general decoder, a photo
        // is IMAGE_TRUNCATED).
        bytes.truncate(bytes.len() - 3);
        assert!(decode_rgb(&bytes, |_, _| Ok::<(), ()>(())).is_none());
        // The size check runs before allocation and its error is returned.
        let big = encode(5, 3, &px);
        assert_eq!(
            decode_rgb(&big, |w, h| Err(format!("{w}x{h}"))).unwrap(),
            Err("5x3".to_string())
        );
    }
}
