//! The sequence set JetStream keeps deleted sequences in (`server/avl/seqset.go`
//! at 8188ea93a): an AVL tree of nodes, each a bitmap of 2,048 consecutive
//! sequences, with the binary encoding stream snapshots carry.
//!
//! The tree shape matters beyond lookups: `encode` writes nodes in pre-order
//! with their heights, so two sets holding the same sequences encode to the
//! same bytes only if they were built by the same inserts and deletes. The
//! rotations, the deletion of an emptied node (its left subtree is hung under
//! the leftmost node of its right subtree) and the height bookkeeping are
//! therefore kept exactly as upstream has them.

/// Bits per bucket word.
const BITS_PER_BUCKET: u64 = 64;
/// Bucket words per node.
const NUM_BUCKETS: usize = 32;
/// Sequences one node covers.
pub const NUM_ENTRIES: u64 = NUM_BUCKETS as u64 * BITS_PER_BUCKET;

const MAGIC: u8 = 22;
const VERSION: u8 = 2;
const HDR_LEN: usize = 2;
/// Magic, version, node count and entry count.
const MIN_LEN: usize = HDR_LEN + 8;
const V1_NUM_BUCKETS: usize = 64;

/// Why a sequence set was refused (upstream's `avl.Err*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SeqSetError {
    #[error("ss: bad encoding")]
    BadEncoding,
    #[error("ss: bad version")]
    BadVersion,
    #[error("ss: set not empty")]
    SetNotEmpty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AvlNode {
    base: u64,
    bits: [u64; NUM_BUCKETS],
    l: Option<Box<AvlNode>>,
    r: Option<Box<AvlNode>>,
    h: i32,
}

type Link = Option<Box<AvlNode>>;

/// A set of sequence numbers (upstream's `avl.SequenceSet`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SequenceSet {
    root: Link,
    size: usize,
    nodes: usize,
}

impl SequenceSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Port of (*SequenceSet).Insert
    pub fn insert(&mut self, seq: u64) {
        let mut inserted = false;
        self.root = Some(insert(self.root.take(), seq, &mut inserted, &mut self.nodes));
        if inserted {
            self.size += 1;
        }
    }

    /// Port of (*SequenceSet).Exists
    pub fn exists(&self, seq: u64) -> bool {
        let mut n = self.root.as_deref();
        while let Some(node) = n {
            if seq < node.base {
                n = node.l.as_deref();
            } else if seq >= node.base + NUM_ENTRIES {
                n = node.r.as_deref();
            } else {
                return node.exists(seq);
            }
        }
        false
    }

    /// Port of (*SequenceSet).SetInitialMin
    ///
    /// Makes the first node start at `min` instead of a node boundary.
    pub fn set_initial_min(&mut self, min: u64) -> Result<(), SeqSetError> {
        if !self.is_empty() {
            return Err(SeqSetError::SetNotEmpty);
        }
        self.root = Some(Box::new(AvlNode { base: min, bits: [0; NUM_BUCKETS], l: None, r: None, h: 1 }));
        self.nodes = 1;
        Ok(())
    }

    /// Port of (*SequenceSet).Delete
    pub fn delete(&mut self, seq: u64) -> bool {
        if self.root.is_none() {
            return false;
        }
        let mut deleted = false;
        self.root = delete(self.root.take(), seq, &mut deleted, &mut self.nodes);
        if deleted {
            self.size -= 1;
            if self.size == 0 {
                self.empty();
            }
        }
        deleted
    }

    /// Port of (*SequenceSet).Size
    pub fn size(&self) -> usize {
        self.size
    }

    /// Port of (*SequenceSet).Nodes
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Port of (*SequenceSet).Empty
    pub fn empty(&mut self) {
        self.root = None;
        self.size = 0;
        self.nodes = 0;
    }

    /// Port of (*SequenceSet).IsEmpty
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// Port of (*SequenceSet).Range
    ///
    /// Calls `f` with each sequence in ascending order until it returns false.
    pub fn range(&self, mut f: impl FnMut(u64) -> bool) {
        iter(self.root.as_deref(), &mut f);
    }

    /// Every sequence, ascending.
    pub fn to_vec(&self) -> Vec<u64> {
        let mut v = Vec::with_capacity(self.size);
        self.range(|s| {
            v.push(s);
            true
        });
        v
    }

    /// Port of (*SequenceSet).Heights
    pub fn heights(&self) -> (i32, i32) {
        match &self.root {
            None => (0, 0),
            Some(r) => (height(&r.l), height(&r.r)),
        }
    }

    /// Port of (*SequenceSet).State: (min, max, count).
    pub fn state(&self) -> (u64, u64, u64) {
        if self.root.is_none() {
            return (0, 0, 0);
        }
        let (min, max) = self.min_max();
        (min, max, self.size as u64)
    }

    /// Port of (*SequenceSet).MinMax
    pub fn min_max(&self) -> (u64, u64) {
        let Some(root) = self.root.as_deref() else { return (0, 0) };
        let mut l = root;
        while let Some(next) = l.l.as_deref() {
            l = next;
        }
        let mut r = root;
        while let Some(next) = r.r.as_deref() {
            r = next;
        }
        (l.min(), r.max())
    }

    /// Port of (*SequenceSet).Union: inserts every member of each set.
    pub fn union(&mut self, others: &[&SequenceSet]) {
        for o in others {
            node_iter(o.root.as_deref(), &mut |n| {
                for (nb, &word) in n.bits.iter().enumerate() {
                    let mut b = word;
                    let mut pos = 0u64;
                    while b != 0 {
                        if b & 1 == 1 {
                            self.insert(n.base + nb as u64 * BITS_PER_BUCKET + pos);
                        }
                        b >>= 1;
                        pos += 1;
                    }
                }
            });
        }
    }

    /// Port of (SequenceSet).EncodeLen
    pub fn encode_len(&self) -> usize {
        MIN_LEN + self.nodes * ((NUM_BUCKETS + 1) * 8 + 2)
    }

    /// Port of (SequenceSet).Encode: version 2, nodes in pre-order.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(self.encode_len());
        buf.push(MAGIC);
        buf.push(VERSION);
        buf.extend_from_slice(&(self.nodes as u32).to_le_bytes());
        buf.extend_from_slice(&(self.size as u32).to_le_bytes());
        node_iter(self.root.as_deref(), &mut |n| {
            buf.extend_from_slice(&n.base.to_le_bytes());
            for b in n.bits {
                buf.extend_from_slice(&b.to_le_bytes());
            }
            buf.extend_from_slice(&(n.h as u16).to_le_bytes());
        });
        buf
    }

    /// Port of Decode: the set and the bytes it took.
    pub fn decode(buf: &[u8]) -> Result<(SequenceSet, usize), SeqSetError> {
        if buf.len() < MIN_LEN || buf[0] != MAGIC {
            return Err(SeqSetError::BadEncoding);
        }
        match buf[1] {
            1 => decode_v1(buf),
            2 => decode_v2(buf),
            _ => Err(SeqSetError::BadVersion),
        }
    }

    /// Port of (*SequenceSet).insertNode: links a decoded node where a
    /// plain binary search tree would put it, without rebalancing.
    fn insert_node(&mut self, n: Box<AvlNode>) {
        self.nodes += 1;
        let mut slot = &mut self.root;
        while let Some(p) = slot {
            slot = if n.base < p.base { &mut p.l } else { &mut p.r };
        }
        *slot = Some(n);
    }

    /// Test support: whether every node's height is right and the root is
    /// balanced (upstream's test checks the same through unexported fields).
    pub fn is_balanced(&self) -> bool {
        let mut ok = true;
        node_iter(self.root.as_deref(), &mut |n| {
            if n.h != max_h(n) + 1 {
                ok = false;
            }
        });
        let bf = self.root.as_deref().map_or(0, balance_f);
        ok && (-1..=1).contains(&bf)
    }

    /// The base of the root node, if any (upstream's tests read `root.base`).
    pub fn root_base(&self) -> Option<u64> {
        self.root.as_ref().map(|r| r.base)
    }
}

/// Port of Union: a clone of the largest set with the others'
/// members inserted one by one; `None` for no sets.
pub fn union(sets: &[&SequenceSet]) -> Option<SequenceSet> {
    let mut sorted: Vec<&SequenceSet> = sets.to_vec();
    // Largest first; a stable sort keeps equal sizes in argument order,
    // which upstream's unstable sort does not promise.
    sorted.sort_by_key(|s| std::cmp::Reverse(s.size()));
    let (first, rest) = sorted.split_first()?;
    let mut ss = (*first).clone();
    for s in rest {
        s.range(|n| {
            ss.insert(n);
            true
        });
    }
    Some(ss)
}


fn read_u32(buf: &[u8], at: usize) -> usize {
    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize
}

fn read_u64(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Port of decodev2
fn decode_v2(buf: &[u8]) -> Result<(SequenceSet, usize), SeqSetError> {
    let nn = read_u32(buf, 2);
    let sz = read_u32(buf, 6);
    let mut index = MIN_LEN;
    let expected = (nn as u64) * ((NUM_BUCKETS as u64 + 1) * 8 + 2) + MIN_LEN as u64;
    if (buf.len() as u64) < expected {
        return Err(SeqSetError::BadEncoding);
    }
    let mut ss = SequenceSet { root: None, size: sz, nodes: 0 };
    for _ in 0..nn {
        let base = read_u64(buf, index);
        index += 8;
        let mut bits = [0u64; NUM_BUCKETS];
        for b in bits.iter_mut() {
            *b = read_u64(buf, index);
            index += 8;
        }
        let h = u16::from_le_bytes([buf[index], buf[index + 1]]) as i32;
        index += 2;
        ss.insert_node(Box::new(AvlNode { base, bits, l: None, r: None, h }));
    }
    Ok((ss, index))
}

/// Port of decodev1
fn decode_v1(buf: &[u8]) -> Result<(SequenceSet, usize), SeqSetError> {
    let nn = read_u32(buf, 2);
    let sz = read_u32(buf, 6);
    let mut index = MIN_LEN;
    let expected = (nn as u64) * ((V1_NUM_BUCKETS as u64 + 1) * 8 + 2) + MIN_LEN as u64;
    if (buf.len() as u64) < expected {
        return Err(SeqSetError::BadEncoding);
    }
    let mut ss = SequenceSet::new();
    for _ in 0..nn {
        let base = read_u64(buf, index);
        index += 8;
        for nb in 0..V1_NUM_BUCKETS as u64 {
            let mut n = read_u64(buf, index);
            let mut pos = 0u64;
            while n != 0 {
                if n & 1 == 1 {
                    ss.insert(base + nb * BITS_PER_BUCKET + pos);
                }
                n >>= 1;
                pos += 1;
            }
            index += 8;
        }
        index += 2;
    }
    if ss.size() != sz {
        return Err(SeqSetError::BadEncoding);
    }
    Ok((ss, index))
}

impl AvlNode {
    fn new_for(seq: u64) -> Box<AvlNode> {
        let base = (seq / NUM_ENTRIES) * NUM_ENTRIES;
        Box::new(AvlNode { base, bits: [0; NUM_BUCKETS], l: None, r: None, h: 1 })
    }

    /// Port of (*node).set
    fn set(&mut self, seq: u64, inserted: &mut bool) {
        let off = seq - self.base;
        let i = (off / BITS_PER_BUCKET) as usize;
        let mask = 1u64 << (off % BITS_PER_BUCKET);
        if self.bits[i] & mask == 0 {
            self.bits[i] |= mask;
            *inserted = true;
        }
    }

    /// Port of (*node).clear: true when the node is left empty.
    fn clear(&mut self, seq: u64, deleted: &mut bool) -> bool {
        let off = seq - self.base;
        let i = (off / BITS_PER_BUCKET) as usize;
        let mask = 1u64 << (off % BITS_PER_BUCKET);
        if self.bits[i] & mask != 0 {
            self.bits[i] &= !mask;
            *deleted = true;
        }
        self.bits.iter().all(|&b| b == 0)
    }

    /// Port of (*node).exists
    fn exists(&self, seq: u64) -> bool {
        let off = seq - self.base;
        let i = (off / BITS_PER_BUCKET) as usize;
        self.bits[i] & (1u64 << (off % BITS_PER_BUCKET)) != 0
    }

    /// Port of (*node).min
    fn min(&self) -> u64 {
        for (i, &b) in self.bits.iter().enumerate() {
            if b != 0 {
                return self.base + i as u64 * BITS_PER_BUCKET + b.trailing_zeros() as u64;
            }
        }
        0
    }

    /// Port of (*node).max
    fn max(&self) -> u64 {
        for i in (0..NUM_BUCKETS).rev() {
            let b = self.bits[i];
            if b != 0 {
                return self.base + i as u64 * BITS_PER_BUCKET + (BITS_PER_BUCKET - (b >> 1).leading_zeros() as u64);
            }
        }
        0
    }
}

fn height(n: &Link) -> i32 {
    n.as_ref().map_or(0, |n| n.h)
}

/// Port of maxH
fn max_h(n: &AvlNode) -> i32 {
    height(&n.l).max(height(&n.r))
}

/// Port of balanceF
fn balance_f(n: &AvlNode) -> i32 {
    height(&n.l) - height(&n.r)
}

fn link_balance(n: &Link) -> i32 {
    n.as_deref().map_or(0, balance_f)
}

/// Port of (*node).rotateL
fn rotate_l(mut n: Box<AvlNode>) -> Box<AvlNode> {
    match n.r.take() {
        Some(mut r) => {
            n.r = r.l.take();
            n.h = max_h(&n) + 1;
            r.l = Some(n);
            r.h = max_h(&r) + 1;
            r
        }
        // Only reached for a node without a right child, which a left
        // rotation is never asked for (upstream would return nil here).
        None => {
            n.h = max_h(&n) + 1;
            n
        }
    }
}

/// Port of (*node).rotateR
fn rotate_r(mut n: Box<AvlNode>) -> Box<AvlNode> {
    match n.l.take() {
        Some(mut l) => {
            n.l = l.r.take();
            n.h = max_h(&n) + 1;
            l.r = Some(n);
            l.h = max_h(&l) + 1;
            l
        }
        // See rotate_l.
        None => {
            n.h = max_h(&n) + 1;
            n
        }
    }
}

/// The rebalancing step insert, delete and insertNodePrev share.
fn rebalance(mut n: Box<AvlNode>) -> Box<AvlNode> {
    let bf = balance_f(&n);
    if bf > 1 {
        if link_balance(&n.l) < 0 {
            n.l = n.l.take().map(rotate_l);
        }
        return rotate_r(n);
    } else if bf < -1 {
        if link_balance(&n.r) > 0 {
            n.r = n.r.take().map(rotate_r);
        }
        return rotate_l(n);
    }
    n
}

/// Port of (*node).insert
fn insert(n: Link, seq: u64, inserted: &mut bool, nodes: &mut usize) -> Box<AvlNode> {
    let Some(mut n) = n else {
        let mut n = AvlNode::new_for(seq);
        n.set(seq, inserted);
        *nodes += 1;
        return n;
    };
    if seq < n.base {
        n.l = Some(insert(n.l.take(), seq, inserted, nodes));
    } else if seq >= n.base + NUM_ENTRIES {
        n.r = Some(insert(n.r.take(), seq, inserted, nodes));
    } else {
        n.set(seq, inserted);
    }
    n.h = max_h(&n) + 1;
    rebalance(n)
}

/// Port of (*node).delete
fn delete(n: Link, seq: u64, deleted: &mut bool, nodes: &mut usize) -> Link {
    let mut n = n?;
    let mut replaced: Link = None;
    let mut emptied = false;
    if seq < n.base {
        n.l = delete(n.l.take(), seq, deleted, nodes);
    } else if seq >= n.base + NUM_ENTRIES {
        n.r = delete(n.r.take(), seq, deleted, nodes);
    } else if n.clear(seq, deleted) {
        *nodes -= 1;
        emptied = true;
        replaced = match (n.l.take(), n.r.take()) {
            (None, r) => r,
            (l, None) => l,
            (Some(l), Some(r)) => Some(insert_node_prev(r, l)),
        };
    }
    let mut n = if emptied { replaced? } else { n };
    n.h = max_h(&n) + 1;
    Some(rebalance(n))
}

/// Port of (*node).insertNodePrev: hangs `nn` left of the leftmost node.
fn insert_node_prev(mut n: Box<AvlNode>, nn: Box<AvlNode>) -> Box<AvlNode> {
    n.l = Some(match n.l.take() {
        None => nn,
        Some(l) => insert_node_prev(l, nn),
    });
    n.h = max_h(&n) + 1;
    rebalance(n)
}

/// Port of (*node).nodeIter: pre-order.
fn node_iter(n: Option<&AvlNode>, f: &mut dyn FnMut(&AvlNode)) {
    let Some(n) = n else { return };
    f(n);
    node_iter(n.l.as_deref(), f);
    node_iter(n.r.as_deref(), f);
}

/// Port of (*node).iter: in-order over members; false once `f` stops it.
fn iter(n: Option<&AvlNode>, f: &mut dyn FnMut(u64) -> bool) -> bool {
    let Some(n) = n else { return true };
    if !iter(n.l.as_deref(), f) {
        return false;
    }
    for (i, &word) in n.bits.iter().enumerate() {
        let mut b = word;
        while b != 0 {
            let pos = b.trailing_zeros() as u64;
            if !f(n.base + i as u64 * BITS_PER_BUCKET + pos) {
                return false;
            }
            b &= b - 1;
        }
    }
    iter(n.r.as_deref(), f)
}

#[cfg(test)]
#[path = "avl_tests.rs"]
mod tests;
