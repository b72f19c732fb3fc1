//! Ports of `server/avl/seqset_test.go` (every assertion), plus golden
//! encodings produced by upstream's `avl` package at 8188ea93a.

use super::*;
use crate::sim::rng::SimRng;
use std::collections::BTreeSet;

fn shuffled(num: u64, seed: u64) -> Vec<u64> {
    let mut nums: Vec<u64> = (0..num).collect();
    let mut rng = SimRng::new(seed);
    for i in (1..nums.len()).rev() {
        let j = rng.index(i + 1);
        nums.swap(i, j);
    }
    nums
}

#[test]
fn test_seq_set_basics() {
    let mut ss = SequenceSet::new();
    let seqs = [22u64, 222, 2000, 2, 2, 4];
    for &seq in &seqs {
        ss.insert(seq);
        assert!(ss.exists(seq));
    }
    assert_eq!(ss.nodes(), 1);
    assert_eq!(ss.size(), seqs.len() - 1, "one duplicate");
    assert_eq!(ss.heights(), (0, 0));
}

#[test]
fn test_seq_set_left_lean() {
    let mut ss = SequenceSet::new();
    for i in (1..=4 * NUM_ENTRIES).rev() {
        ss.insert(i);
    }
    assert_eq!(ss.nodes(), 5);
    assert_eq!(ss.size() as u64, 4 * NUM_ENTRIES);
    assert_eq!(ss.heights(), (2, 1));
}

#[test]
fn test_seq_set_right_lean() {
    let mut ss = SequenceSet::new();
    for i in 0..4 * NUM_ENTRIES {
        ss.insert(i);
    }
    assert_eq!(ss.nodes(), 4);
    assert_eq!(ss.size() as u64, 4 * NUM_ENTRIES);
    assert_eq!(ss.heights(), (1, 2));
}

#[test]
fn test_seq_set_correctness() {
    let (num, max) = (100_000, 500_000u64);
    let mut set = BTreeSet::new();
    let mut ss = SequenceSet::new();
    let mut rng = SimRng::new(7);
    for _ in 0..num {
        let n = rng.below(max + 1);
        ss.insert(n);
        set.insert(n);
    }
    for i in 0..=max {
        assert_eq!(ss.exists(i), set.contains(&i), "seq {i}");
    }
}

#[test]
fn test_seq_set_range() {
    let num = 2 * NUM_ENTRIES + 22;
    let mut ss = SequenceSet::new();
    for n in shuffled(num, 3) {
        ss.insert(n);
    }
    let mut nums = Vec::new();
    ss.range(|n| {
        nums.push(n);
        true
    });
    assert_eq!(nums.len() as u64, num);
    for (i, &n) in nums.iter().enumerate() {
        assert_eq!(n, i as u64);
    }
    // A range that stops early.
    nums.clear();
    ss.range(|n| {
        if n >= 10 {
            return false;
        }
        nums.push(n);
        true
    });
    assert_eq!(nums, (0..10).collect::<Vec<_>>());
}

#[test]
fn test_seq_set_delete() {
    let mut ss = SequenceSet::new();
    let seqs = [22u64, 222, 2222, 2, 2, 4];
    for &seq in &seqs {
        ss.insert(seq);
    }
    for &seq in &seqs {
        ss.delete(seq);
        assert!(!ss.exists(seq));
    }
    assert!(ss.root.is_none());
}

#[test]
fn test_seq_set_insert_and_delete_pedantic() {
    let mut ss = SequenceSet::new();
    let nums = shuffled(50 * NUM_ENTRIES + 22, 11);
    for &n in &nums {
        ss.insert(n);
        assert!(ss.is_balanced());
    }
    assert!(ss.root.is_some());
    for &n in &nums {
        ss.delete(n);
        assert!(ss.is_balanced());
        assert!(!ss.exists(n));
        if ss.size() > 0 {
            assert!(ss.root.is_some());
        }
    }
    assert!(ss.root.is_none());
}

#[test]
fn test_seq_set_min_max() {
    let mut ss = SequenceSet::new();
    for seq in [22u64, 222, 2222, 2, 2, 4] {
        ss.insert(seq);
    }
    assert_eq!(ss.min_max(), (2, 2222));
    ss.empty();
    let num = 22 * NUM_ENTRIES + 22;
    for n in shuffled(num, 5) {
        ss.insert(n);
    }
    assert_eq!(ss.min_max(), (0, num - 1));
}

#[test]
fn test_seq_set_clone() {
    let mut ss = SequenceSet::new();
    let mut rng = SimRng::new(9);
    for _ in 0..100_000 {
        ss.insert(rng.below(500_001));
    }
    let ssc = ss.clone();
    assert_eq!(ss.size(), ssc.size());
    assert_eq!(ss.nodes(), ssc.nodes());
}

#[test]
fn test_seq_set_union() {
    let (mut ss1, mut ss2) = (SequenceSet::new(), SequenceSet::new());
    let seqs1 = [22u64, 222, 2222, 2, 2, 4];
    for s in seqs1 {
        ss1.insert(s);
    }
    let seqs2 = [33u64, 333, 3333, 3, 33_333, 333_333];
    for s in seqs2 {
        ss2.insert(s);
    }
    let ss = union(&[&ss1, &ss2]).expect("two sets");
    assert_eq!(ss.size(), 11);
    for n in seqs1.iter().chain(seqs2.iter()) {
        assert!(ss.exists(*n));
    }
    assert!(union(&[]).is_none());
}

#[test]
fn test_seq_set_first() {
    let mut ss = SequenceSet::new();
    for seq in [22u64, 222, 2222, 222_222] {
        ss.insert(seq);
        assert_eq!(ss.root_base(), Some((seq / NUM_ENTRIES) * NUM_ENTRIES));
        ss.empty();
        ss.set_initial_min(seq).expect("empty set");
        ss.insert(seq);
        assert_eq!(ss.root_base(), Some(seq));
        ss.empty();
    }
    ss.insert(1);
    assert_eq!(ss.set_initial_min(5), Err(SeqSetError::SetNotEmpty));
}

#[test]
fn test_seq_set_distinct_union() {
    let mut ss1 = SequenceSet::new();
    let seqs1 = [1u64, 10, 100, 200];
    for s in seqs1 {
        ss1.insert(s);
    }
    let mut ss2 = SequenceSet::new();
    let seqs2 = [5000u64, 6100, 6200, 6222];
    for s in seqs2 {
        ss2.insert(s);
    }
    let mut ss = ss1.clone();
    ss.union(&[&ss2]);
    assert_eq!(ss.size(), seqs1.len() + seqs2.len());
    for s in seqs1.iter().chain(seqs2.iter()) {
        assert!(ss.exists(*s));
    }
}

/// Upstream's version-1 vector, rebuilt: its base64 is 5 nodes of 64
/// buckets holding exactly these sequences (the bytes are generated from
/// the same layout rather than pasted).
#[test]
fn test_seq_set_decode_v1() {
    let seqs = [22u64, 222, 2222, 222_222, 2_222_222];
    let mut enc = vec![MAGIC, 1];
    enc.extend_from_slice(&3u32.to_le_bytes());
    enc.extend_from_slice(&5u32.to_le_bytes());
    let v1_entries = V1_NUM_BUCKETS as u64 * BITS_PER_BUCKET;
    let mut bases: Vec<u64> = seqs.iter().map(|s| s / v1_entries * v1_entries).collect();
    bases.dedup();
    assert_eq!(bases.len(), 3);
    for base in bases {
        enc.extend_from_slice(&base.to_le_bytes());
        let mut words = [0u64; V1_NUM_BUCKETS];
        for s in seqs.iter().filter(|s| *s / v1_entries * v1_entries == base) {
            let off = s - base;
            words[(off / 64) as usize] |= 1 << (off % 64);
        }
        for w in words {
            enc.extend_from_slice(&w.to_le_bytes());
        }
        enc.extend_from_slice(&1u16.to_le_bytes());
    }
    let (ss, n) = SequenceSet::decode(&enc).expect("decodes");
    assert_eq!(n, enc.len());
    assert_eq!(ss.size(), seqs.len());
    for s in seqs {
        assert!(ss.exists(s));
    }
    // A count that does not match the members is refused.
    let mut bad = enc.clone();
    bad[6] = 4;
    assert_eq!(SequenceSet::decode(&bad).map(|_| ()), Err(SeqSetError::BadEncoding));
}

#[test]
fn decode_refuses_short_bad_magic_and_unknown_version() {
    let mut ss = SequenceSet::new();
    ss.insert(3);
    let enc = ss.encode();
    assert_eq!(SequenceSet::decode(&enc[..9]).map(|_| ()), Err(SeqSetError::BadEncoding));
    assert_eq!(SequenceSet::decode(&enc[..enc.len() - 1]).map(|_| ()), Err(SeqSetError::BadEncoding));
    let mut m = enc.clone();
    m[0] = 21;
    assert_eq!(SequenceSet::decode(&m).map(|_| ()), Err(SeqSetError::BadEncoding));
    m[0] = MAGIC;
    m[1] = 3;
    assert_eq!(SequenceSet::decode(&m).map(|_| ()), Err(SeqSetError::BadVersion));
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// The sets `testdata/avl_golden.txt` was made from by upstream's package
/// (see the file's header), built here by the same inserts and deletes.
fn golden_sets() -> Vec<(&'static str, SequenceSet)> {
    let mut a = SequenceSet::new();
    for s in [22u64, 222, 2000, 2, 4] {
        a.insert(s);
    }
    let mut b = SequenceSet::new();
    for i in (0..5 * 2048u64).step_by(700) {
        b.insert(i);
    }
    b.delete(2100);
    b.delete(4200);
    let mut c = SequenceSet::new();
    let mut i = 7 * 2048u64;
    while i > 0 {
        c.insert(i);
        if i <= 1500 { break; }
        i -= 1500;
    }
    for i in 6000..6200 {
        c.delete(i);
    }
    c.delete(4096 + 1000);
    vec![("single", a), ("multi", b), ("desc", c)]
}

#[test]
fn encoding_matches_upstream_golden_bytes_both_ways() {
    let golden = include_str!("testdata/avl_golden.txt");
    let mut seen = 0;
    for (name, ss) in golden_sets() {
        let line = golden
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no golden line {name}"));
        let want = hex(line.split_whitespace().nth(1).expect("hex field"));
        assert_eq!(ss.encode(), want, "encode {name}");
        assert_eq!(ss.encode_len(), want.len());
        let (back, n) = SequenceSet::decode(&want).expect("decodes");
        assert_eq!(n, want.len());
        assert_eq!(back.to_vec(), ss.to_vec(), "decode {name}");
        assert_eq!(back.encode(), want, "re-encode {name}");
        seen += 1;
    }
    assert_eq!(seen, 3);
}
