//! SSSE3 block kernels for the COCO compressed RLE string, eight counts at a time (in the
//! manner of Masked VByte). Three in four deltas take one character and nearly all the rest two,
//! so a scalar codec branches unpredictably on every count's length; here a table indexed by
//! the eight lengths' pattern moves the characters instead. Blocks with a longer delta fall
//! back to the scalar code in `rle.rs`, which is also what the tests compare these against.

use super::{parse_one, push_compressed};
use std::arch::x86_64::*;

/// For each pattern of "count k takes two characters" over eight counts, the `pshufb` control
/// that packs `[lo0 hi0 lo1 hi1 ..]` down to the characters actually written.
const PACK: [[u8; 16]; 256] = {
    let mut table = [[0x80u8; 16]; 256];
    let mut pattern = 0;
    while pattern < 256 {
        let (mut k, mut out) = (0, 0);
        while k < 8 {
            table[pattern][out] = 2 * k as u8;
            out += 1;
            if pattern >> k & 1 == 1 {
                table[pattern][out] = 2 * k as u8 + 1;
                out += 1;
            }
            k += 1;
        }
        pattern += 1;
    }
    table
};

/// Appends the characters of `counts[from..]` in blocks of eight, while every delta in a
/// block takes at most two characters, else that block count by count; returns the index of
/// the first count not written (fewer than eight remain). `from` is at least 2.
///
/// # Safety
/// The CPU must support SSSE3.
#[target_feature(enable = "ssse3")]
pub(crate) unsafe fn push_compressed_blocks(counts: &[u32], from: usize, s: &mut Vec<u8>) -> usize {
    let mut i = from;
    while i + 8 <= counts.len() {
        let block = &counts[i - 2..i + 8];
        let load = |k: usize| _mm_loadu_si128(block[k..k + 4].as_ptr().cast());
        let (now_lo, now_hi, before_lo, before_hi) = (load(2), load(6), load(0), load(4));
        // Counts of 2^31 or more would make the 32-bit differences wrap.
        let either = _mm_or_si128(
            _mm_or_si128(now_lo, now_hi),
            _mm_or_si128(before_lo, before_hi),
        );
        let huge = _mm_movemask_ps(_mm_castsi128_ps(either));
        let d = _mm_packs_epi32(
            _mm_sub_epi32(now_lo, before_lo),
            _mm_sub_epi32(now_hi, before_hi),
        );
        let within = |lo: i16, hi: i16| {
            _mm_andnot_si128(
                _mm_or_si128(
                    _mm_cmplt_epi16(d, _mm_set1_epi16(lo)),
                    _mm_cmpgt_epi16(d, _mm_set1_epi16(hi)),
                ),
                _mm_set1_epi16(-1),
            )
        };
        if huge != 0 || _mm_movemask_epi8(within(-512, 511)) != 0xffff {
            for k in i..i + 8 {
                push_compressed(s, counts[k] as i64 - counts[k - 2] as i64);
            }
            i += 8;
            continue;
        }
        let two = _mm_andnot_si128(within(-16, 15), _mm_set1_epi16(-1));
        let pattern = _mm_movemask_epi8(_mm_packs_epi16(two, _mm_setzero_si128())) as usize;
        let low = _mm_or_si128(
            _mm_and_si128(d, _mm_set1_epi16(31)),
            _mm_and_si128(two, _mm_set1_epi16(32)),
        );
        let high = _mm_and_si128(_mm_srai_epi16(d, 5), _mm_set1_epi16(31));
        let chars = _mm_add_epi8(
            _mm_or_si128(low, _mm_slli_epi16(high, 8)),
            _mm_set1_epi8(48),
        );
        let packed = _mm_shuffle_epi8(chars, _mm_loadu_si128(PACK[pattern].as_ptr().cast()));
        s.reserve(16);
        let len = s.len();
        // SAFETY: 16 bytes of spare capacity were reserved just above, and the first
        // 8 + pattern.count_ones() of them are the block's characters, all ASCII.
        _mm_storeu_si128(s.spare_capacity_mut().as_mut_ptr().cast(), packed);
        s.set_len(len + 8 + pattern.count_ones() as usize);
        i += 8;
    }
    i
}

/// For each pattern of continuation characters among eight bytes: which bytes form the counts
/// that end within them, as `pshufb` control filling 16-bit lanes `[low char or none, last
/// char]`; the last char's weight (32 under a low char, else 1); how many counts, how many
/// bytes. No counts: the first count has three or more characters.
#[derive(Clone, Copy)]
struct Unpack {
    shuffle: [u8; 16],
    weight: [i16; 8],
    counts: u8,
    bytes: u8,
}

const UNPACK: [Unpack; 256] = {
    let none = Unpack {
        shuffle: [0x80; 16],
        weight: [0; 8],
        counts: 0,
        bytes: 0,
    };
    let mut table = [none; 256];
    let mut pattern = 0;
    while pattern < 256 {
        let (mut j, mut k) = (0, 0);
        while j < 8 {
            if pattern >> j & 1 == 0 {
                table[pattern].shuffle[2 * k + 1] = j as u8;
                table[pattern].weight[k] = 1;
            } else if j + 1 < 8 && pattern >> (j + 1) & 1 == 0 {
                table[pattern].shuffle[2 * k] = j as u8;
                table[pattern].shuffle[2 * k + 1] = j as u8 + 1;
                table[pattern].weight[k] = 32;
                j += 1;
            } else {
                break;
            }
            j += 1;
            k += 1;
        }
        table[pattern].counts = k as u8;
        table[pattern].bytes = j as u8;
        pattern += 1;
    }
    table
};

/// Parses counts from `bytes[at..]` while 16 bytes remain, eight bytes a step, and appends
/// them; returns where it stopped, or `None` if a count is malformed or out of range. Every
/// byte is in `'0'..='o'` and `counts` holds at least three counts.
///
/// # Safety
/// The CPU must support SSSE3.
#[target_feature(enable = "ssse3")]
pub(crate) unsafe fn parse_blocks(
    bytes: &[u8],
    mut at: usize,
    counts: &mut Vec<u32>,
) -> Option<usize> {
    // Carried counts below this keep a block's eight i32 sums (deltas of at most ±512) exact.
    const CARRY_LIMIT: u32 = (1 << 31) - 4096;
    // Sixteen bytes to load, room for eight lanes to store; the caller parses the rest.
    while at + 16 <= bytes.len() && counts.len() + 8 <= counts.capacity() {
        let m = counts.len();
        let (a, b) = (counts[m - 2], counts[m - 1]);
        let c = _mm_sub_epi8(
            _mm_loadu_si128(bytes[at..at + 16].as_ptr().cast()),
            _mm_set1_epi8(48),
        );
        // Bit 5 of each character, the continuation flag, moved to bit 7.
        let pattern = (_mm_movemask_epi8(_mm_slli_epi16(c, 2)) & 0xff) as usize;
        let entry = &UNPACK[pattern];
        if entry.counts == 0 || a >= CARRY_LIMIT || b >= CARRY_LIMIT {
            let (x, used) = parse_one(bytes, at)?;
            counts.push(u32::try_from(x + a as i64).ok()?);
            at += used;
            continue;
        }
        let lanes = _mm_shuffle_epi8(c, _mm_loadu_si128(entry.shuffle.as_ptr().cast()));
        let low = _mm_and_si128(lanes, _mm_set1_epi16(31));
        let last = _mm_and_si128(_mm_srli_epi16(lanes, 8), _mm_set1_epi16(31));
        // Sign-extend the last character's five bits.
        let last = _mm_sub_epi16(_mm_xor_si128(last, _mm_set1_epi16(16)), _mm_set1_epi16(16));
        let weight = _mm_loadu_si128(entry.weight.as_ptr().cast());
        let d = _mm_add_epi16(low, _mm_mullo_epi16(last, weight));
        let d_lo = _mm_srai_epi32(_mm_unpacklo_epi16(d, d), 16);
        let d_hi = _mm_srai_epi32(_mm_unpackhi_epi16(d, d), 16);
        // Each count is its delta plus the count two back: a prefix sum at stride 2.
        let carry = _mm_set_epi32(b as i32, a as i32, b as i32, a as i32);
        let lo = _mm_add_epi32(_mm_add_epi32(d_lo, _mm_slli_si128(d_lo, 8)), carry);
        let hi = _mm_add_epi32(
            _mm_add_epi32(d_hi, _mm_slli_si128(d_hi, 8)),
            _mm_shuffle_epi32(lo, 0b11_10_11_10),
        );
        // A negative count (lanes past the block's counts repeat earlier ones).
        if _mm_movemask_ps(_mm_castsi128_ps(_mm_or_si128(lo, hi))) != 0 {
            return None;
        }
        // SAFETY: capacity for 8 more is a loop condition; the first `entry.counts` lanes
        // are this block's counts, the rest are overwritten or cut off by the next set_len.
        let out = counts.spare_capacity_mut().as_mut_ptr();
        _mm_storeu_si128(out.cast(), lo);
        _mm_storeu_si128(out.add(4).cast(), hi);
        counts.set_len(m + entry.counts as usize);
        at += entry.bytes as usize;
    }
    Some(at)
}
