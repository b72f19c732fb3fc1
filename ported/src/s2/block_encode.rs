//! S2 block encoding: a greedy single-probe hash matcher that emits
//! literals, copies and S2 repeat copies.

use super::{TAG_COPY1, TAG_COPY2, TAG_COPY4, TAG_LITERAL};

/// Inputs shorter than this are stored as one literal.
const MIN_MATCH_INPUT: usize = 17;
const MIN_MATCH: usize = 4;
/// Longest length one repeat tag carries.
const MAX_REPEAT: usize = (1 << 24) - 1 + (1 << 16) + 4;

/// Upper bound of the encoded size of `n` input bytes (header, literal
/// headers and the data itself), as Go's `MaxEncodedLen` bounds it.
pub fn max_encoded_len(n: usize) -> usize {
    10 + n + n / 6 + 5
}

/// Encodes `src` as one S2 block that Go's `s2.Decode` (and this module's
/// [`super::decode`]) reads back. Inputs must be below 4 GiB, the format's limit.
pub fn encode(src: &[u8]) -> Vec<u8> {
    let mut dst = Vec::with_capacity(max_encoded_len(src.len()));
    put_uvarint(&mut dst, src.len() as u64);
    if src.is_empty() {
        return dst;
    }
    if src.len() < MIN_MATCH_INPUT {
        emit_literal(&mut dst, src);
        return dst;
    }
    let bits = table_bits(src.len());
    let mut table = vec![0u32; 1 << bits];
    let shift = 32 - bits;
    let hash = |v: u32| (v.wrapping_mul(0x1e35_a7bd) >> shift) as usize;

    let mut next_emit = 0usize;
    let mut last_offset = 0usize;
    let mut s = 1usize;
    let limit = src.len() - MIN_MATCH;
    while s <= limit {
        let cur = load32(src, s);
        let h = hash(cur);
        let cand = table[h] as usize;
        table[h] = s as u32;
        let repeat_hit = last_offset != 0 && s >= last_offset && load32(src, s - last_offset) == cur;
        let (cand, hit) = if repeat_hit {
            (s - last_offset, true)
        } else {
            (cand, cand < s && load32(src, cand) == cur)
        };
        if !hit {
            s += 1 + ((s - next_emit) >> 5);
            continue;
        }
        // Extend backwards into pending literals, then forwards.
        let (mut m_start, mut c_start) = (s, cand);
        while m_start > next_emit && c_start > 0 && src[m_start - 1] == src[c_start - 1] {
            m_start -= 1;
            c_start -= 1;
        }
        let mut end = s + MIN_MATCH;
        while end < src.len() && src[end] == src[end - (s - cand)] {
            end += 1;
        }
        emit_literal(&mut dst, &src[next_emit..m_start]);
        let offset = m_start - c_start;
        let length = end - m_start;
        if offset == last_offset {
            emit_repeat(&mut dst, length);
        } else {
            emit_copy(&mut dst, offset, length);
            last_offset = offset;
        }
        s = end;
        next_emit = end;
        if s <= limit {
            // Index two positions inside the match to find later repeats.
            table[hash(load32(src, s - 2))] = (s - 2) as u32;
            table[hash(load32(src, s - 1))] = (s - 1) as u32;
        }
    }
    emit_literal(&mut dst, &src[next_emit..]);
    dst
}

fn table_bits(n: usize) -> u32 {
    let mut bits = 10;
    while bits < 16 && (1usize << bits) < n {
        bits += 1;
    }
    bits
}

fn load32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn put_uvarint(dst: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        dst.push((v as u8) | 0x80);
        v >>= 7;
    }
    dst.push(v as u8);
}

fn emit_literal(dst: &mut Vec<u8>, lit: &[u8]) {
    if lit.is_empty() {
        return;
    }
    let n = lit.len() - 1;
    if n < 60 {
        dst.push(((n as u8) << 2) | TAG_LITERAL);
    } else {
        let bytes = match n {
            0..=0xff => 1,
            0x100..=0xffff => 2,
            0x1_0000..=0xff_ffff => 3,
            _ => 4,
        };
        dst.push(((59 + bytes as u8) << 2) | TAG_LITERAL);
        dst.extend_from_slice(&(n as u32).to_le_bytes()[..bytes]);
    }
    dst.extend_from_slice(lit);
}

/// A copy with a fresh offset; lengths over 64 continue as repeats.
fn emit_copy(dst: &mut Vec<u8>, offset: usize, length: usize) {
    if length > 64 {
        // 60 leaves at least 5 bytes, enough for a repeat tag.
        emit_copy(dst, offset, 60);
        emit_repeat(dst, length - 60);
        return;
    }
    if (MIN_MATCH..=11).contains(&length) && offset < 2048 {
        dst.push((((offset >> 8) as u8) << 5) | (((length - 4) as u8) << 2) | TAG_COPY1);
        dst.push(offset as u8);
    } else if offset < 65536 {
        dst.push((((length - 1) as u8) << 2) | TAG_COPY2);
        dst.extend_from_slice(&(offset as u16).to_le_bytes());
    } else {
        dst.push((((length - 1) as u8) << 2) | TAG_COPY4);
        dst.extend_from_slice(&(offset as u32).to_le_bytes());
    }
}

/// A copy reusing the previous offset (length at least 4).
fn emit_repeat(dst: &mut Vec<u8>, mut length: usize) {
    while length > MAX_REPEAT {
        // Leave at least 4 for the final tag.
        let chunk = (MAX_REPEAT).min(length - MIN_MATCH);
        emit_repeat(dst, chunk);
        length -= chunk;
    }
    let l = length - 4;
    if l <= 4 {
        dst.extend_from_slice(&[((l as u8) << 2) | TAG_COPY1, 0]);
    } else if l < (1 << 8) + 4 {
        dst.extend_from_slice(&[(5 << 2) | TAG_COPY1, 0, (l - 4) as u8]);
    } else if l < (1 << 16) + (1 << 8) {
        let v = (l - (1 << 8)) as u16;
        dst.extend_from_slice(&[(6 << 2) | TAG_COPY1, 0]);
        dst.extend_from_slice(&v.to_le_bytes());
    } else {
        let v = (l - (1 << 16)) as u32;
        dst.extend_from_slice(&[(7 << 2) | TAG_COPY1, 0]);
        dst.extend_from_slice(&v.to_le_bytes()[..3]);
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    fn round(src: &[u8]) -> Vec<u8> {
        let enc = encode(src);
        assert!(enc.len() <= max_encoded_len(src.len()));
        let dec = decode(&enc).expect("own output decodes");
        assert_eq!(dec, src);
        enc
    }

    #[test]
    fn empty_and_short_inputs() {
        assert_eq!(encode(b""), vec![0]);
        assert_eq!(encode(b"abc"), vec![3, 2 << 2, b'a', b'b', b'c']);
        round(b"0123456789abcdef");
    }

    #[test]
    fn compresses_repetitive_input() {
        let src = b"{\"name\":\"stream\",\"subjects\":[\"a.b\"]},".repeat(500);
        let enc = round(&src);
        assert!(enc.len() * 10 < src.len(), "{} vs {}", enc.len(), src.len());
    }

    #[test]
    fn long_runs_use_repeats() {
        round(&vec![7u8; 70_000]);
        round(&vec![0u8; 300]);
        let mut v = Vec::new();
        for i in 0..200_000u32 {
            v.extend_from_slice(&(i % 977).to_le_bytes());
        }
        round(&v);
    }

    #[test]
    fn far_offsets_use_copy4() {
        let mut noise = Vec::with_capacity(140_000);
        let mut x: u32 = 12345;
        for _ in 0..70_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            noise.push((x >> 16) as u8);
        }
        let mut src = noise.clone();
        src.extend_from_slice(&noise[..100]);
        round(&src);
    }

    #[test]
    fn repeat_lengths_at_boundaries() {
        for len in [4usize, 8, 9, 263, 264, 65_795, 65_796, 65_797, MAX_REPEAT, MAX_REPEAT + 1, MAX_REPEAT + 5] {
            let mut dst = vec![];
            put_uvarint(&mut dst, (len + 5) as u64);
            emit_literal(&mut dst, b"a");
            emit_copy(&mut dst, 1, 4);
            emit_repeat(&mut dst, len);
            assert_eq!(decode(&dst).expect("decodes"), vec![b'a'; len + 5], "len {len}");
        }
    }
}
