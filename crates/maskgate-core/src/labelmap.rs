//! A dense per-pixel class-index map, row-major, as segmentation datasets store labels.

use crate::mask::Mask;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LabelMap {
    pub h: u32,
    pub w: u32,
    /// Row-major class indices.
    pub data: Vec<u8>,
}

impl LabelMap {
    pub fn new(h: u32, w: u32, fill: u8) -> LabelMap {
        LabelMap {
            h,
            w,
            data: vec![fill; h as usize * w as usize],
        }
    }

    pub fn get(&self, y: u32, x: u32) -> u8 {
        self.data[y as usize * self.w as usize + x as usize]
    }

    /// The binary mask of the pixels whose index is in `ids`.
    pub fn mask_of(&self, ids: &[u8]) -> Mask {
        let mut lookup = [false; 256];
        ids.iter().for_each(|&i| lookup[i as usize] = true);
        Mask::from_row_major(self.h, self.w, |y, x| lookup[self.get(y, x) as usize])
    }
}
