//! The binary stream-state snapshot (store.go at 8188ea93a): what a stream
//! leader's raft snapshot holds, and the delete blocks it carries.
//!
//! Layout: magic 42, version 1, then uvarints msgs, bytes, first seq, last
//! seq, failed (the stream's CLFS) and the number deleted; when that number
//! is not zero, delete blocks follow to the end of the buffer, each an AVL
//! sequence set (magic 22, see [`super::avl`]) or a run-length range
//! (magic 33, uvarints first and count).

use super::avl::SequenceSet;
use super::StoreError;

pub const STREAM_STATE_MAGIC: u8 = 42;
pub const STREAM_STATE_VERSION: u8 = 1;
pub const RUN_LENGTH_MAGIC: u8 = 33;
pub const SEQ_SET_MAGIC: u8 = 22;
const HDR_LEN: usize = 2;

/// One block of deleted sequences (Go's `DeleteBlock` implementations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteBlock {
    /// An AVL sequence set.
    SeqSet(SequenceSet),
    /// Go's `DeleteRange`: `num` sequences from `first`.
    Range { first: u64, num: u64 },
    /// Go's legacy `DeleteSlice`.
    Slice(Vec<u64>),
}

impl DeleteBlock {
    /// Port of the `State` methods: (first, last, count).
    pub fn state(&self) -> (u64, u64, u64) {
        match self {
            DeleteBlock::SeqSet(ss) => ss.state(),
            DeleteBlock::Range { first, num } => (*first, first + num.saturating_sub(1), *num),
            DeleteBlock::Slice(v) => match (v.first(), v.last()) {
                (Some(f), Some(l)) => (*f, *l, v.len() as u64),
                _ => (0, 0, 0),
            },
        }
    }

    /// Port of the `Range` methods.
    pub fn range(&self, mut f: impl FnMut(u64) -> bool) {
        match self {
            DeleteBlock::SeqSet(ss) => ss.range(f),
            DeleteBlock::Range { first, num } => {
                for seq in *first..first + num {
                    if !f(seq) {
                        return;
                    }
                }
            }
            DeleteBlock::Slice(v) => {
                for &seq in v {
                    if !f(seq) {
                        return;
                    }
                }
            }
        }
    }
}

/// Port of (DeleteBlocks).NumDeleted
pub fn num_deleted(dbs: &[DeleteBlock]) -> u64 {
    dbs.iter().map(|d| d.state().2).sum()
}

/// What a binary stream snapshot holds (Go's `StreamReplicatedState`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamReplicatedState {
    pub msgs: u64,
    pub bytes: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub failed: u64,
    pub deleted: Vec<DeleteBlock>,
}

/// Port of IsEncodedStreamState
pub fn is_encoded_stream_state(buf: &[u8]) -> bool {
    buf.len() >= HDR_LEN && buf[0] == STREAM_STATE_MAGIC && buf[1] == STREAM_STATE_VERSION
}

/// Go's `binary.Uvarint`: the value and the bytes read, `None` when the
/// buffer ends first or the value overflows 64 bits.
pub fn uvarint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    let mut s = 0u32;
    for (i, &b) in buf.iter().enumerate() {
        if i == 10 {
            return None;
        }
        if b < 0x80 {
            if i == 9 && b > 1 {
                return None;
            }
            return Some((x | (b as u64) << s, i + 1));
        }
        x |= ((b & 0x7f) as u64) << s;
        s += 7;
    }
    None
}

/// Go's `binary.AppendUvarint`.
pub fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Upstream's `readU64` closure: a uvarint, or 0 and `failed` once the
/// buffer runs out or holds a bad varint.
struct Reader<'a> {
    buf: &'a [u8],
    bi: usize,
    failed: bool,
}

impl Reader<'_> {
    fn u64(&mut self) -> u64 {
        if self.failed || self.bi >= self.buf.len() {
            self.failed = true;
            return 0;
        }
        match uvarint(&self.buf[self.bi..]) {
            Some((v, n)) => {
                self.bi += n;
                v
            }
            None => {
                self.failed = true;
                0
            }
        }
    }
}

/// Port of DecodeStreamState
pub fn decode_stream_state(buf: &[u8]) -> Result<StreamReplicatedState, StoreError> {
    if !is_encoded_stream_state(buf) {
        return Err(StoreError::BadStreamStateEncoding);
    }
    let mut r = Reader { buf, bi: HDR_LEN, failed: false };
    let mut ss = StreamReplicatedState {
        msgs: r.u64(),
        bytes: r.u64(),
        first_seq: r.u64(),
        last_seq: r.u64(),
        failed: r.u64(),
        deleted: Vec::new(),
    };
    if r.failed {
        return Err(StoreError::CorruptStreamState);
    }
    // Upstream reads the count without checking it; a missing count reads as 0.
    if r.u64() > 0 {
        while r.bi < buf.len() {
            match buf[r.bi] {
                SEQ_SET_MAGIC => {
                    let (dmap, n) = SequenceSet::decode(&buf[r.bi..]).map_err(|_| StoreError::CorruptStreamState)?;
                    r.bi += n;
                    ss.deleted.push(DeleteBlock::SeqSet(dmap));
                }
                RUN_LENGTH_MAGIC => {
                    r.bi += 1;
                    let first = r.u64();
                    let num = r.u64();
                    if r.failed {
                        return Err(StoreError::CorruptStreamState);
                    }
                    ss.deleted.push(DeleteBlock::Range { first, num });
                }
                _ => return Err(StoreError::CorruptStreamState),
            }
        }
    }
    Ok(ss)
}

/// The header and counts of a binary stream snapshot, as memstore and
/// filestore write them before their delete blocks.
pub fn encode_stream_state_header(msgs: u64, bytes: u64, first_seq: u64, last_seq: u64, failed: u64, num_deleted: u64) -> Vec<u8> {
    let mut b = vec![STREAM_STATE_MAGIC, STREAM_STATE_VERSION];
    for v in [msgs, bytes, first_seq, last_seq, failed, num_deleted] {
        put_uvarint(&mut b, v);
    }
    b
}

/// A run-length delete block.
pub fn encode_delete_range(first: u64, num: u64) -> Vec<u8> {
    let mut b = vec![RUN_LENGTH_MAGIC];
    put_uvarint(&mut b, first);
    put_uvarint(&mut b, num);
    b
}
