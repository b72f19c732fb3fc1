//! S2 block decoding.

use super::{S2Error, TAG_COPY1, TAG_COPY2, TAG_LITERAL};

/// Largest decoded block accepted: the format stores the length as a u32.
const MAX_DECODED_LEN: u64 = 0xffff_ffff;

/// Reads the block header: the decoded length (a uvarint) and how many bytes
/// the header takes. Lengths beyond u32 are corrupt, as in Go.
pub fn decoded_len(src: &[u8]) -> Result<(usize, usize), S2Error> {
    let mut v: u64 = 0;
    for (i, &b) in src.iter().enumerate().take(10) {
        let part = (b & 0x7f) as u64;
        if i == 9 && b > 1 {
            return Err(S2Error::Corrupt);
        }
        v |= part << (7 * i);
        if b < 0x80 {
            if v > MAX_DECODED_LEN {
                return Err(S2Error::Corrupt);
            }
            let len = usize::try_from(v).map_err(|_| S2Error::TooLarge(v))?;
            return Ok((len, i + 1));
        }
    }
    Err(S2Error::Corrupt)
}

/// Decodes one S2 (or Snappy) block, as Go's `s2.Decode` does: any tag that
/// reads past the input, copies from before the start, a repeat before any
/// offset was set, or a length that disagrees with the header is corrupt.
pub fn decode(src: &[u8]) -> Result<Vec<u8>, S2Error> {
    let (dlen, hdr) = decoded_len(src)?;
    // Grow on demand: the header alone must not commit a huge allocation.
    let mut out: Vec<u8> = Vec::with_capacity(dlen.min(src.len().saturating_mul(8).max(64)));
    let src = &src[hdr..];
    let mut s = 0usize;
    let mut offset = 0usize;
    while s < src.len() {
        let tag = src[s];
        let length;
        match tag & 0x03 {
            TAG_LITERAL => {
                let x = (tag >> 2) as usize;
                let (n, used) = match x {
                    0..=59 => (x, 1),
                    60 => (le(src, s + 1, 1)?, 2),
                    61 => (le(src, s + 1, 2)?, 3),
                    62 => (le(src, s + 1, 3)?, 4),
                    _ => (le(src, s + 1, 4)?, 5),
                };
                s += used;
                let len = n + 1;
                if len > dlen - out.len() || len > src.len() - s {
                    return Err(S2Error::Corrupt);
                }
                out.extend_from_slice(&src[s..s + len]);
                s += len;
                continue;
            }
            TAG_COPY1 => {
                let lo = *src.get(s + 1).ok_or(S2Error::Corrupt)? as usize;
                let toffset = (((tag & 0xe0) as usize) << 3) | lo;
                let code = ((tag >> 2) & 0x07) as usize;
                s += 2;
                let mut len = code;
                if toffset == 0 {
                    // Repeat: keep the previous offset, read an extended length.
                    match code {
                        5 => {
                            len = le(src, s, 1)? + 4;
                            s += 1;
                        }
                        6 => {
                            len = le(src, s, 2)? + (1 << 8);
                            s += 2;
                        }
                        7 => {
                            len = le(src, s, 3)? + (1 << 16);
                            s += 3;
                        }
                        _ => {}
                    }
                } else {
                    offset = toffset;
                }
                length = len + 4;
            }
            TAG_COPY2 => {
                offset = le(src, s + 1, 2)?;
                length = 1 + (tag >> 2) as usize;
                s += 3;
            }
            _ => {
                offset = le(src, s + 1, 4)?;
                length = 1 + (tag >> 2) as usize;
                s += 5;
            }
        }
        let d = out.len();
        if offset == 0 || d < offset || length > dlen - d {
            return Err(S2Error::Corrupt);
        }
        let start = d - offset;
        if offset >= length {
            out.extend_from_within(start..start + length);
        } else {
            for i in 0..length {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    if out.len() != dlen {
        return Err(S2Error::Corrupt);
    }
    Ok(out)
}

/// Little-endian unsigned integer of `n` bytes at `at`.
fn le(src: &[u8], at: usize, n: usize) -> Result<usize, S2Error> {
    let b = src.get(at..at + n).ok_or(S2Error::Corrupt)?;
    Ok(b.iter().rev().fold(0usize, |acc, &x| (acc << 8) | x as usize))
}

#[cfg(test)]
mod tests {
    use super::super::TAG_COPY4;
    use super::*;

    #[test]
    fn header_varint() {
        assert_eq!(decoded_len(&[0x00]), Ok((0, 1)));
        assert_eq!(decoded_len(&[0xac, 0x02]), Ok((300, 2)));
        assert_eq!(decoded_len(&[0x80]), Err(S2Error::Corrupt));
        assert_eq!(decoded_len(&[0x80, 0x80, 0x80, 0x80, 0x10]), Err(S2Error::Corrupt));
        assert_eq!(decoded_len(&[0xff, 0xff, 0xff, 0xff, 0x0f]), Ok((0xffff_ffff, 5)));
    }

    #[test]
    fn literal_then_overlapping_copy() {
        // "ab" then copy2 offset 2 length 6 -> "abababab"
        let block = [8, 0x04, b'a', b'b', (5 << 2) | TAG_COPY2, 2, 0];
        assert_eq!(decode(&block).expect("valid"), b"abababab");
    }

    #[test]
    fn repeat_uses_previous_offset() {
        // "abcd", copy1 offset 4 len 4, literal "x", repeat len 4 (offset 4)
        let block = [13, 3 << 2, b'a', b'b', b'c', b'd', TAG_COPY1, 4, 0, b'x', TAG_COPY1, 0];
        assert_eq!(decode(&block).expect("valid"), b"abcdabcdxbcdx");
    }

    #[test]
    fn repeat_extended_lengths() {
        // 'a' then copy1 offset 1 len 4, then repeat code 5 with byte 10 -> len 18
        let block = [23, 0, b'a', TAG_COPY1, 1, (5 << 2) | TAG_COPY1, 0, 10];
        assert_eq!(decode(&block).expect("valid"), vec![b'a'; 23]);
        // repeat code 6: len = 256 + v + 4
        let block = [0x8a, 0x02, 0, b'a', TAG_COPY1, 1, (6 << 2) | TAG_COPY1, 0, 1, 0];
        assert_eq!(decode(&block).expect("valid"), vec![b'a'; 266]);
    }

    #[test]
    fn corrupt_inputs() {
        // repeat before any offset
        assert_eq!(decode(&[4, TAG_COPY1, 0]), Err(S2Error::Corrupt));
        // copy before start
        assert_eq!(decode(&[5, 0, b'a', (3 << 2) | TAG_COPY2, 2, 0]), Err(S2Error::Corrupt));
        // literal longer than input
        assert_eq!(decode(&[3, 2 << 2, b'a']), Err(S2Error::Corrupt));
        // output shorter than header
        assert_eq!(decode(&[3, 0, b'a']), Err(S2Error::Corrupt));
        // output longer than header
        assert_eq!(decode(&[1, 1 << 2, b'a', b'b']), Err(S2Error::Corrupt));
        // truncated copy4
        assert_eq!(decode(&[5, 0, b'a', TAG_COPY4 | (3 << 2), 1, 0]), Err(S2Error::Corrupt));
        assert_eq!(decode(&[]), Err(S2Error::Corrupt));
    }
}
