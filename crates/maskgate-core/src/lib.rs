//! maskgate-core: the pure part of maskgate. Masks, COCO RLE, polygon rasterisation, per-pair
//! counts and ratios, Boundary IoU, summary statistics. No I/O, no heavy dependencies; every
//! algorithm is tested against a naive reference or the reference tool's golden vectors.

pub mod anatomy;
pub mod bmp;
pub mod boundary;
pub mod cocoeval;
pub mod counts;
pub mod label;
pub mod labelmap;
pub mod mask;
pub mod morphology;
pub mod opencv_linear;
pub mod palette;
pub mod photo_stats;
pub mod pil_draw;
pub mod planar;
pub mod polygon;
pub mod quantile;
pub mod resample;
pub mod rle;
pub mod stats;
pub mod wilcoxon;

pub use counts::{Counts, Ratios};
pub use labelmap::LabelMap;
pub use mask::{Mask, PixelBox};
pub use rle::{Rle, RleError};
