//! Finds a line's end and its delimiters in one pass, sixteen bytes at a
//! time: the reader's fast path for plain lines (see [`super::reader`]).
//! On x86_64 with SSE2 (part of every x86_64 CPU); elsewhere with two
//! 64-bit words per step. Both are proptested against a byte loop.

/// What [`scan_line`] found at the start of a buffer.
#[derive(Debug, PartialEq)]
pub(super) enum Scan {
    /// A line feed at `len`; `plain` if the line holds no carriage return
    /// but one just before the line feed.
    Line { len: usize, plain: bool },
    /// A quote before any line feed: the csv parser takes over.
    Quoted,
    /// No line feed in the buffer.
    Unfinished { plain: bool },
}

/// Bytes looked at per step.
const STEP: usize = 16;

/// Per byte of one step (bit i for byte i): which are line feeds, quotes,
/// carriage returns and delimiters.
struct Masks {
    feeds: u32,
    quotes: u32,
    returns: u32,
    delims: u32,
}

/// The first [`STEP`] bytes of `b`, padded with zeros, which match none of
/// the bytes looked for.
#[inline(always)]
fn chunk(b: &[u8]) -> [u8; STEP] {
    match b.first_chunk::<STEP>() {
        Some(c) => *c,
        None => {
            let mut c = [0; STEP];
            c[..b.len()].copy_from_slice(b);
            c
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks(c: &[u8; STEP], delimiter: u8) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, so these instructions
    // exist on every CPU this code is built for; the load reads exactly
    // the 16 bytes of `c` (unaligned loads are allowed).
    unsafe {
        let v = _mm_loadu_si128(c.as_ptr().cast::<__m128i>());
        let eq = |b: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u32;
        Masks {
            feeds: eq(b'\n'),
            quotes: eq(b'"'),
            returns: eq(b'\r'),
            delims: eq(delimiter),
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn masks(c: &[u8; STEP], delimiter: u8) -> Masks {
    masks_swar(c, delimiter)
}

/// [`masks`] with two 64-bit words (compiled everywhere, so the tests
/// check it against SSE2 on x86_64).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn masks_swar(c: &[u8; STEP], delimiter: u8) -> Masks {
    let lo = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
    let hi = u64::from_le_bytes(c[8..].try_into().unwrap_or_default());
    let eq =
        |b: u8| swar::bits(swar::bytes_equal(lo, b)) | swar::bits(swar::bytes_equal(hi, b)) << 8;
    Masks {
        feeds: eq(b'\n'),
        quotes: eq(b'"'),
        returns: eq(b'\r'),
        delims: eq(delimiter),
    }
}

/// Byte comparisons within a 64-bit word, for targets without SSE2.
mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// The high bit of every byte of `w` that equals `b`, and no other bit.
    /// (`(x & 0x7f) + 0x7f` sets a byte's high bit iff its low bits are not
    /// all zero, without carrying into the next byte; or-ing `x` adds its
    /// own high bit: what stays clear marks a zero byte of `x`.)
    pub fn bytes_equal(w: u64, b: u8) -> u64 {
        let x = w ^ (ONES * u64::from(b));
        !(((x & !HIGH) + !HIGH) | x) & HIGH
    }

    /// Gathers the high bits of the bytes into bits 0–7 (byte i → bit i).
    pub fn bits(high: u64) -> u32 {
        ((high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
    }
}

/// Scans the first line of `buf`, writing the offsets of its delimiters to
/// `ends` (one pass finds the line feed, the delimiters, quotes and carriage
/// returns, where `memchr` would take one call per delimiter).
pub(super) fn scan_line(buf: &[u8], delimiter: u8, ends: &mut Vec<u32>) -> Scan {
    ends.clear();
    let mut returns = 0;
    let mut off = 0;
    while off < buf.len() {
        let m = masks(&chunk(&buf[off..]), delimiter);
        // Every bit below the first line feed's: the bytes before it.
        let before = match m.feeds {
            0 => u32::MAX,
            f => (f & f.wrapping_neg()) - 1,
        };
        if m.quotes & before != 0 {
            return Scan::Quoted;
        }
        returns += (m.returns & before).count_ones();
        let mut delims = m.delims & before;
        while delims != 0 {
            ends.push((off + delims.trailing_zeros() as usize) as u32);
            delims &= delims - 1;
        }
        if m.feeds != 0 {
            let len = off + m.feeds.trailing_zeros() as usize;
            let plain = returns == 0 || returns == 1 && buf[len - 1] == b'\r';
            return Scan::Line { len, plain };
        }
        off += STEP;
    }
    let plain = returns == 0 || returns == 1 && buf.last() == Some(&b'\r');
    Scan::Unfinished { plain }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `scan_line` the slow way.
    fn scan_naive(buf: &[u8], delimiter: u8) -> (Scan, Vec<u32>) {
        let len = buf.iter().position(|b| *b == b'\n');
        let line = &buf[..len.unwrap_or(buf.len())];
        if line.contains(&b'"') {
            return (Scan::Quoted, Vec::new());
        }
        let returns = line.iter().filter(|b| **b == b'\r').count();
        let plain = returns == 0 || returns == 1 && line.last() == Some(&b'\r');
        let ends = (0..line.len())
            .filter(|i| line[*i] == delimiter)
            .map(|i| i as u32)
            .collect();
        let scan = match len {
            Some(len) => Scan::Line { len, plain },
            None => Scan::Unfinished { plain },
        };
        (scan, ends)
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            Just(b','),
            Just(b'\n'),
            Just(b'\r'),
            Just(b'"'),
            Just(b';'),
            Just(0xe9u8),
            any::<u8>()
        ];
        prop::collection::vec(byte, 0..70)
    }

    proptest! {
        #[test]
        fn scan_line_finds_what_a_byte_loop_finds(buf in bytes(), semicolon in any::<bool>()) {
            let d = if semicolon { b';' } else { b',' };
            let mut ends = Vec::new();
            let got = scan_line(&buf, d, &mut ends);
            let (want, want_ends) = scan_naive(&buf, d);
            if want != Scan::Quoted {
                prop_assert_eq!(ends, want_ends);
            }
            prop_assert_eq!(got, want);
        }

        #[test]
        fn word_masks_equal_the_sse2_masks(c in prop::array::uniform16(any::<u8>()), d in any::<u8>()) {
            let (a, b) = (masks(&c, d), masks_swar(&c, d));
            prop_assert_eq!(
                (a.feeds, a.quotes, a.returns, a.delims),
                (b.feeds, b.quotes, b.returns, b.delims)
            );
        }

        #[test]
        fn word_comparisons_match_a_byte_loop(buf in prop::collection::vec(any::<u8>(), 8), b in any::<u8>()) {
            let w = u64::from_le_bytes(buf[..].try_into().unwrap());
            let want = buf.iter().enumerate().filter(|(_, x)| **x == b).fold(0, |m, (i, _)| m | 1 << i);
            prop_assert_eq!(swar::bits(swar::bytes_equal(w, b)), want);
        }
    }
}
