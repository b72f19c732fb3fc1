//! The encoded sequence sets (`server/avl/seqset.go`) that newer index
//! files use for their delete maps, as the filestore reads them: a plain
//! set of sequences over the store's own `SequenceSet` port
//! (`crate::store::avl`), which owns the encoding.

use std::collections::BTreeSet;

pub use crate::store::avl::SeqSetError;
use crate::store::SequenceSet;

/// The sequences an encoded set holds and the bytes it took.
///
/// Decoding links version-2 nodes into the search tree without rebalancing,
/// as upstream does; a sequence counts as present only where a lookup walking
/// that tree finds it, so a malformed encoding answers membership as
/// upstream's `Exists` would.
pub fn decode_sequence_set(buf: &[u8]) -> Result<(BTreeSet<u64>, usize), SeqSetError> {
    let (set, used) = SequenceSet::decode(buf)?;
    let seqs = set.to_vec().into_iter().filter(|&s| set.exists(s)).collect();
    Ok((seqs, used))
}

/// The version-2 encoding of a set holding `seqs`, with the tree shape
/// upstream's inserts give it. Used to write index files.
pub fn encode_sequence_set(seqs: &BTreeSet<u64>) -> Vec<u8> {
    let mut set = SequenceSet::new();
    for &s in seqs {
        set.insert(s);
    }
    set.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAGIC: u8 = 22;
    const NUM_BUCKETS: usize = 32;
    const V1_NUM_BUCKETS: usize = 64;

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
