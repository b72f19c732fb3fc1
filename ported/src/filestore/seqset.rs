//! Decoding of the encoded sequence sets (`server/avl/seqset.go`) that
//! newer index files use for their delete maps.
//!
//! Layout (little-endian): magic 22, version, node count u32, entry count
//! u32, then per node its base u64, its bucket words (32 in version 2, 64 in
//! version 1) and its height u16. Bit `b` of word `w` stands for sequence
//! `base + 64*w + b`.

use std::collections::BTreeSet;

const MAGIC: u8 = 22;
const MIN_LEN: usize = 2 + 8;
const BITS_PER_BUCKET: u64 = 64;
const NUM_BUCKETS: usize = 32;
const NUM_ENTRIES: u64 = NUM_BUCKETS as u64 * BITS_PER_BUCKET;
const V1_NUM_BUCKETS: usize = 64;

/// Why an encoded sequence set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeqSetError {
    /// Wrong magic, too short, or (version 1) a count that does not match.
    #[error("ss: bad encoding")]
    BadEncoding,
    /// A version other than 1 or 2.
    #[error("ss: bad version")]
    BadVersion,
}

struct Node {
    base: u64,
    bits: Vec<u64>,
    left: Option<usize>,
    right: Option<usize>,
}

/// Port of avl.Decode
///
/// Returns the sequences the decoded set holds and the bytes read. Version 2
/// nodes are linked into the search tree in encoding order, as upstream does
/// without rebalancing; a sequence counts as present only where a lookup
/// walking that tree finds it, so a malformed encoding answers membership as
/// upstream's `Exists` would.
pub fn decode_sequence_set(buf: &[u8]) -> Result<(BTreeSet<u64>, usize), SeqSetError> {
    if buf.len() < MIN_LEN || buf[0] != MAGIC {
        return Err(SeqSetError::BadEncoding);
    }
    match buf[1] {
        1 => decode_v1(buf),
        2 => decode_v2(buf),
        _ => Err(SeqSetError::BadVersion),
    }
}

fn header(buf: &[u8], buckets: usize) -> Result<(usize, usize), SeqSetError> {
    let nn = u32::from_le_bytes([buf[2], buf[3], buf[4], buf[5]]) as u64;
    let sz = u32::from_le_bytes([buf[6], buf[7], buf[8], buf[9]]) as usize;
    let expected = MIN_LEN as u64 + nn * ((buckets as u64 + 1) * 8 + 2);
    if (buf.len() as u64) < expected {
        return Err(SeqSetError::BadEncoding);
    }
    Ok((nn as usize, sz))
}

fn word(buf: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Port of decodev2
///
/// Nodes of 32 buckets, linked into the search tree as they come.
fn decode_v2(buf: &[u8]) -> Result<(BTreeSet<u64>, usize), SeqSetError> {
    let (nn, _size) = header(buf, NUM_BUCKETS)?;
    let mut index = MIN_LEN;
    let mut nodes: Vec<Node> = Vec::with_capacity(nn);
    for _ in 0..nn {
        let base = word(buf, index);
        index += 8;
        let bits = (0..NUM_BUCKETS).map(|b| word(buf, index + 8 * b)).collect();
        index += 8 * NUM_BUCKETS + 2;
        insert_node(&mut nodes, Node { base, bits, left: None, right: None });
    }
    let mut set = BTreeSet::new();
    for (at, n) in nodes.iter().enumerate() {
        for (w, &bits) in n.bits.iter().enumerate() {
            for b in 0..64u64 {
                if bits & (1 << b) == 0 {
                    continue;
                }
                let seq = n.base.wrapping_add(w as u64 * BITS_PER_BUCKET + b);
                if find(&nodes, seq) == Some(at) {
                    set.insert(seq);
                }
            }
        }
    }
    Ok((set, index))
}

// Upstream's insertNode: walk by base from the root, no rebalancing.
fn insert_node(nodes: &mut Vec<Node>, n: Node) {
    let at = nodes.len();
    let base = n.base;
    nodes.push(n);
    if at == 0 {
        return;
    }
    let mut p = 0;
    loop {
        let next = if base < nodes[p].base { &mut nodes[p].left } else { &mut nodes[p].right };
        match *next {
            Some(c) => p = c,
            None => {
                *next = Some(at);
                return;
            }
        }
    }
}

// Upstream's exists: the node on the search path whose range holds seq,
// when that node has its bit set.
fn find(nodes: &[Node], seq: u64) -> Option<usize> {
    let mut at = if nodes.is_empty() { None } else { Some(0) };
    while let Some(i) = at {
        let n = &nodes[i];
        if seq < n.base {
            at = n.left;
        } else if seq >= n.base.saturating_add(NUM_ENTRIES) {
            at = n.right;
        } else {
            let off = seq - n.base;
            let w = (off / BITS_PER_BUCKET) as usize;
            return (n.bits[w] & (1 << (off % BITS_PER_BUCKET)) != 0).then_some(i);
        }
    }
    None
}

/// Port of decodev1
///
/// Nodes of 64 buckets, each set bit inserted; the count must match.
fn decode_v1(buf: &[u8]) -> Result<(BTreeSet<u64>, usize), SeqSetError> {
    let (nn, size) = header(buf, V1_NUM_BUCKETS)?;
    let mut index = MIN_LEN;
    let mut set = BTreeSet::new();
    for _ in 0..nn {
        let base = word(buf, index);
        index += 8;
        for nb in 0..V1_NUM_BUCKETS as u64 {
            let mut n = word(buf, index);
            let mut pos = 0u64;
            while n != 0 {
                if n & 1 == 1 {
                    set.insert(base.wrapping_add(nb * BITS_PER_BUCKET + pos));
                }
                n >>= 1;
                pos += 1;
            }
            index += 8;
        }
        index += 2;
    }
    if set.len() != size {
        return Err(SeqSetError::BadEncoding);
    }
    Ok((set, index))
}

/// The version-2 encoding of a set whose nodes are built from `seqs`, in
/// the order upstream's `Encode` walks a balanced tree: each node's base is
/// its first sequence rounded down to a node boundary. Used to build index
/// files for tests.
pub fn encode_sequence_set(seqs: &BTreeSet<u64>) -> Vec<u8> {
    let mut nodes: Vec<(u64, [u64; NUM_BUCKETS])> = Vec::new();
    for &s in seqs {
        let base = s - s % NUM_ENTRIES;
        if nodes.last().map(|n| n.0) != Some(base) {
            nodes.push((base, [0; NUM_BUCKETS]));
        }
        let off = s - base;
        if let Some(n) = nodes.last_mut() {
            n.1[(off / BITS_PER_BUCKET) as usize] |= 1 << (off % BITS_PER_BUCKET);
        }
    }
    // Pre-order of a balanced tree over the sorted nodes: middle first.
    fn preorder(lo: usize, hi: usize, out: &mut Vec<usize>) {
        if lo >= hi {
            return;
        }
        let mid = (lo + hi) / 2;
        out.push(mid);
        preorder(lo, mid, out);
        preorder(mid + 1, hi, out);
    }
    let mut order = Vec::with_capacity(nodes.len());
    preorder(0, nodes.len(), &mut order);
    let mut buf = vec![MAGIC, 2];
    buf.extend_from_slice(&(nodes.len() as u32).to_le_bytes());
    buf.extend_from_slice(&(seqs.len() as u32).to_le_bytes());
    for i in order {
        buf.extend_from_slice(&nodes[i].0.to_le_bytes());
        for w in nodes[i].1 {
            buf.extend_from_slice(&w.to_le_bytes());
        }
        buf.extend_from_slice(&1u16.to_le_bytes());
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[u64]) -> BTreeSet<u64> {
        v.iter().copied().collect()
    }

    #[test]
    fn round_trips_sparse_and_dense_sets() {
        for s in [set(&[]), set(&[1]), set(&[5, 6, 7, 2047, 2048, 2049]), (1000..9000).step_by(3).collect()] {
            let enc = encode_sequence_set(&s);
            let (back, n) = decode_sequence_set(&enc).expect("decodes");
            assert_eq!((back, n), (s, enc.len()));
        }
    }

    #[test]
    fn version_one_uses_64_buckets_and_checks_the_count() {
        let mut buf = vec![MAGIC, 1];
        buf.extend_from_slice(&1u32.to_le_bytes());
        buf.extend_from_slice(&3u32.to_le_bytes());
        buf.extend_from_slice(&4096u64.to_le_bytes());
        let mut words = [0u64; V1_NUM_BUCKETS];
        words[0] = 0b101;
        words[63] = 1 << 63;
        for w in words {
            buf.extend_from_slice(&w.to_le_bytes());
        }
        buf.extend_from_slice(&0u16.to_le_bytes());
        let (s, n) = decode_sequence_set(&buf).expect("decodes");
        assert_eq!(s, set(&[4096, 4098, 4096 + 64 * 63 + 63]));
        assert_eq!(n, buf.len());
        let mut bad = buf.clone();
        bad[6] = 2;
        assert_eq!(decode_sequence_set(&bad), Err(SeqSetError::BadEncoding), "count 2 but 3 members");
    }

    #[test]
    fn rejects_bad_magic_version_and_short_input() {
        let enc = encode_sequence_set(&set(&[3]));
        assert_eq!(decode_sequence_set(&enc[..9]), Err(SeqSetError::BadEncoding));
        assert_eq!(decode_sequence_set(&enc[..enc.len() - 1]), Err(SeqSetError::BadEncoding));
        let mut m = enc.clone();
        m[0] = 21;
        assert_eq!(decode_sequence_set(&m), Err(SeqSetError::BadEncoding));
        m[0] = MAGIC;
        m[1] = 3;
        assert_eq!(decode_sequence_set(&m), Err(SeqSetError::BadVersion));
    }

    #[test]
    fn overlapping_nodes_answer_like_the_search_tree() {
        // Two nodes with the same base: the second hangs right of the first
        // and is never reached, so its bits are invisible.
        let mut buf = vec![MAGIC, 2];
        buf.extend_from_slice(&2u32.to_le_bytes());
        buf.extend_from_slice(&2u32.to_le_bytes());
        for first_bit in [1u64, 2] {
            buf.extend_from_slice(&0u64.to_le_bytes());
            buf.extend_from_slice(&first_bit.to_le_bytes());
            buf.extend_from_slice(&[0u8; 8 * (NUM_BUCKETS - 1)]);
            buf.extend_from_slice(&0u16.to_le_bytes());
        }
        let (s, _) = decode_sequence_set(&buf).expect("decodes");
        assert_eq!(s, set(&[0]));
    }
}
