//! Dilate / erode / open / close by `px` with a square (Chebyshev) structuring element.
use maskgate_core::morphology::{close_square, dilate_square, erode_square_inside, open_square};
use maskgate_core::Mask;

pub fn dilate(m: &Mask, px: u32) -> Mask {
    dilate_square(m, px)
}

/// Erosion keeps shapes that touch the border (outside counts as set here), unlike the
/// Boundary-IoU erosion, so a post-processing step never trims a mask just for touching the edge.
pub fn erode(m: &Mask, px: u32) -> Mask {
    erode_square_inside(m, px)
}

pub fn open(m: &Mask, px: u32) -> Mask {
    open_square(m, px)
}

pub fn close(m: &Mask, px: u32) -> Mask {
    close_square(m, px)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_built() {
        // A 3×3 block in a 5×5 image, and a single pixel at (0, 4).
        let m = Mask::from_fn(5, 5, |y, x| {
            (1..=3).contains(&y) && (1..=3).contains(&x) || (y == 0 && x == 4)
        });
        assert_eq!(
            dilate(&m, 1).area(),
            25,
            "the block grows to the whole image"
        );
        assert_eq!(
            dilate(&Mask::from_fn(5, 5, |y, x| y == 0 && x == 4), 1).area(),
            4,
            "no growth past the border"
        );
        let e = erode(&m, 1);
        assert_eq!(
            e.area(),
            1,
            "only the block's centre survives; the lone pixel is gone"
        );
        assert!(e.get(2, 2));
        // Erosion does not trim a shape for touching the border.
        let full = Mask::from_fn(4, 4, |_, _| true);
        assert_eq!(erode(&full, 1).area(), 16);
        let o = open(&m, 1);
        assert_eq!(
            o.area(),
            9,
            "opening removes the lone pixel, keeps the block"
        );
        let gap = Mask::from_fn(3, 7, |_, x| x != 3);
        assert_eq!(close(&gap, 1).area(), 21);
    }
}
