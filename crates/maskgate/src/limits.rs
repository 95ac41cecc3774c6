//! Limits on what one input may cost, checked before anything is allocated: a config or
//! command line that exceeds one is an error before any work; a sample that exceeds one is that
//! sample's fail reason (`IMAGE_TOO_LARGE`, `MASK_TOO_LARGE`) and the run goes on.

use serde::{Deserialize, Serialize};
use std::path::Path;

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
    /// Bytes read from one photo, label or annotation file.
    pub max_file_bytes: u64,
    /// Annotations (instances) of one image: COCO annotations, labelme shapes, YOLO label rows.
    /// Each is rasterised to a canvas of its own, so the count multiplies a sample's memory.
    pub max_annotations_per_image: u64,
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
            max_annotations_per_image: 10_000,
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

    /// Refuses limits that make no sense (a zero limit would refuse every input) and limits
    /// past what memory can hold (see [`CEILINGS`]): raising one that far would turn a refused
    /// input into an abort.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_image_pixels == 0 || self.max_mask_pixels == 0 || self.max_grid == 0 {
            return Err("[limits]: pixel limits and max_grid must be at least 1".into());
        }
        for (key, value, ceiling, why) in self.with_ceilings() {
            if value > ceiling {
                return Err(format!(
                    "[limits] {key} = {value} is above its ceiling of {ceiling} ({why}); use at most {ceiling}"
                ));
            }
        }
        Ok(())
    }

    /// (key, value, ceiling, why) for every limit.
    fn with_ceilings(&self) -> [(&'static str, u64, u64, &'static str); 7] {
        let c = &CEILINGS;
        [
            (
                "max_image_pixels",
                self.max_image_pixels,
                c.max_image_pixels,
                "a decoded RGB photo of 2^32 px is 12 GiB",
            ),
            (
                "max_mask_pixels",
                self.max_mask_pixels,
                c.max_mask_pixels,
                "COCO RLE counts are 32-bit",
            ),
            (
                "max_polygon_vertices",
                self.max_polygon_vertices,
                c.max_polygon_vertices,
                "each vertex costs 16 bytes and its edge more",
            ),
            (
                "max_bootstrap_resamples",
                self.max_bootstrap_resamples as u64,
                c.max_bootstrap_resamples as u64,
                "each resample keeps a row per metric",
            ),
            (
                "max_grid",
                self.max_grid as u64,
                c.max_grid as u64,
                "a 65,536² label canvas is 4 GiB",
            ),
            (
                "max_file_bytes",
                self.max_file_bytes,
                c.max_file_bytes,
                "a file is read whole into memory",
            ),
            (
                "max_annotations_per_image",
                self.max_annotations_per_image,
                c.max_annotations_per_image,
                "each annotation is rasterised on its own",
            ),
        ]
    }
}

/// The highest value each limit may be raised to: what one input at that limit can cost and
/// still fit in a machine's memory (and in the 32-bit counts some formats use).
pub const CEILINGS: Limits = Limits {
    max_image_pixels: u32::MAX as u64,
    max_mask_pixels: u32::MAX as u64,
    max_polygon_vertices: 100_000_000,
    max_bootstrap_resamples: 1_000_000,
    max_grid: 65_536,
    max_file_bytes: 16 << 30,
    max_annotations_per_image: 10_000_000,
};

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

    #[test]
    fn every_limit_has_a_ceiling_and_the_ceilings_themselves_pass() {
        assert!(CEILINGS.validate().is_ok());
        let raised = [
            Limits {
                max_image_pixels: 1 << 40,
                ..Limits::default()
            },
            Limits {
                max_polygon_vertices: 1 << 40,
                ..Limits::default()
            },
            Limits {
                max_bootstrap_resamples: 1 << 40,
                ..Limits::default()
            },
            Limits {
                max_grid: 1 << 20,
                ..Limits::default()
            },
            Limits {
                max_file_bytes: 1 << 40,
                ..Limits::default()
            },
            Limits {
                max_annotations_per_image: 1 << 40,
                ..Limits::default()
            },
        ];
        for l in raised {
            let e = l.validate().unwrap_err();
            assert!(e.contains("ceiling"), "{e}");
        }
    }
}

/// Bytes of one text input a person writes (run config, criteria, notes, variants, an SQL
/// `query_file`, a trend `report.json`): far above any real one, far below what memory holds.
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// Bytes of one line of an NDJSON / JSONL file, which is streamed a line at a time: a
/// million-vertex polygon is about 20 MB of text, so this leaves ten times the headroom.
pub const MAX_LINE_BYTES: u64 = 256 << 20;

/// Why [`read_within`] refused a file.
#[derive(Debug)]
pub enum Refused {
    /// Missing, not a regular file (a device, a FIFO), or an I/O error.
    Unreadable(String),
    /// Larger than the limit.
    TooLarge(String),
}

/// Why [`open_regular`] or a bounded read failed, with what is needed to say so.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// A FIFO, a device, a socket or a folder: what it is.
    NotRegular(&'static str),
    /// `len` bytes (at least; `None` when found while reading) against the limit `max`.
    TooLarge {
        len: Option<u64>,
        max: u64,
    },
}

const FOLDER: &str = "a folder";

impl ReadError {
    /// Whether the path is a folder (some callers say what to name instead).
    pub fn is_folder(&self) -> bool {
        matches!(self, ReadError::NotRegular(kind) if *kind == FOLDER)
    }

    /// The reason as text, after the path; `setting` names the limit to raise.
    pub fn describe(&self, setting: &str) -> String {
        match self {
            ReadError::Io(e) => e.to_string(),
            ReadError::NotRegular(kind) => {
                format!("not a regular file ({kind}); give a regular file")
            }
            ReadError::TooLarge { len: Some(n), max } => {
                format!("{n} bytes exceeds the limit of {max} ({setting})")
            }
            ReadError::TooLarge { len: None, max } => {
                format!("larger than {max} bytes ({setting})")
            }
        }
    }

    /// As a library error about `path`: I/O errors keep their kind (a retry may cure some).
    pub fn into_error(self, path: &Path, setting: &str) -> crate::Error {
        match self {
            ReadError::Io(e) => crate::Error::io(path, e),
            other => crate::Error::file(path, other.describe(setting)),
        }
    }
}

/// What a file that is not a regular file is, for messages ("a FIFO", "a symlink", …).
pub(crate) fn kind_of(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_symlink() {
        "a symlink"
    } else if ft.is_dir() {
        FOLDER
    } else {
        "not a plain file"
    }
}

/// Opens `path` for reading only if it is a regular file, and returns it with its length. The
/// open never blocks (a FIFO without a writer would block a plain open forever) and the type
/// is checked on the open file, so a FIFO or device swapped in after a check is still refused.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, u64), ReadError> {
    // A device is not even opened when it already is one (opening some has side effects);
    // the check on the open file below is the one that holds against a swap.
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK only changes opening FIFOs and devices; reads of a regular file ignore it.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(meta.file_type())));
    }
    Ok((file, meta.len()))
}

/// A regular file of at most `max` bytes, opened (see [`open_regular`]) and limited to
/// `max + 1` bytes, so a streaming parser never reads past the limit even if the file grows.
pub fn open_within(path: &Path, max: u64) -> Result<std::io::Take<std::fs::File>, ReadError> {
    use std::io::Read;
    let (file, len) = open_regular(path)?;
    if len > max {
        return Err(ReadError::TooLarge {
            len: Some(len),
            max,
        });
    }
    Ok(file.take(max + 1))
}

/// The bytes of a regular file of at most `max` bytes; the size is checked before anything is
/// allocated, and a file growing after the check is never read past the limit.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let (file, len) = open_regular(path)?;
    if len > max {
        return Err(ReadError::TooLarge {
            len: Some(len),
            max,
        });
    }
    // A size the limit allows may still be more than this process can hold: refused, not an
    // abort.
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len as usize).map_err(|_| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::OutOfMemory,
            format!("{len} bytes do not fit in this process's memory"),
        ))
    })?;
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge { len: None, max });
    }
    Ok(bytes)
}

/// A text input a person writes (see [`MAX_TEXT_BYTES`]), as UTF-8.
pub fn read_text(path: &Path) -> crate::Result<String> {
    let setting = "a text input's ceiling";
    let bytes = read_regular(path, MAX_TEXT_BYTES).map_err(|e| e.into_error(path, setting))?;
    String::from_utf8(bytes).map_err(|e| {
        crate::Error::file(
            path,
            format!(
                "not UTF-8 text (byte {}); save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Reads one line (through its `\n`) into `buf`, at most `max` bytes of it: 0 at the end of the
/// file, an error for a longer line, so a file without newlines never fills memory.
pub fn read_line_within(
    reader: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    max: u64,
) -> std::io::Result<usize> {
    use std::io::{BufRead, Read};
    let n = reader.by_ref().take(max + 1).read_until(b'\n', buf)?;
    if n as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a line longer than {max} bytes; is this an NDJSON file?"),
        ));
    }
    Ok(n)
}

/// Reads a regular file of at most `max` bytes: a device, a FIFO or a huge file is refused
/// before it is read, and a file growing after the size check is never read past the limit.
pub fn read_within(path: &Path, max: u64) -> Result<Vec<u8>, Refused> {
    let name = crate::fmt::clip_path(path);
    read_regular(path, max).map_err(|e| {
        let text = format!("{name}: {}", e.describe("[limits] max_file_bytes"));
        match e {
            ReadError::TooLarge { .. } => Refused::TooLarge(text),
            _ => Refused::Unreadable(text),
        }
    })
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

    #[cfg(unix)]
    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_regular(&fifo, 100).unwrap_err();
        assert!(
            e.describe("").contains("not a regular file (a FIFO)"),
            "{e:?}"
        );
        assert!(read_text(&fifo).is_err());
        assert!(read_regular(dir.path(), 100).unwrap_err().is_folder());
        let mut long = std::io::Cursor::new(b"abcdef\nxy".to_vec());
        let mut buf = Vec::new();
        assert!(read_line_within(&mut long, &mut buf, 4).is_err());
        let mut ok = std::io::Cursor::new(b"abc\nxy".to_vec());
        buf.clear();
        assert_eq!(read_line_within(&mut ok, &mut buf, 4).unwrap(), 4);
    }
}
