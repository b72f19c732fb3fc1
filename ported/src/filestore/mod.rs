//! The read path of nats-server's file store (`server/filestore.go` at
//! 8188ea93a) as far as a raft log needs it: message blocks `msgs/<n>.blk`
//! with their records, the per-block index files older servers leave
//! beside them, block compression, and how a server recovers a store from
//! these files — which damage is an error, which truncates a block, which
//! is skipped.
//!
//! Everything works on bytes in memory ([`StoreFiles`]); reading a
//! directory into them is left to the caller. Nothing is ever written:
//! where a server would delete or truncate a file, the in-memory copy is
//! changed the same way and [`StoreEvent`]s say what happened.
//!
//! Per record, while a block is scanned on recovery
//! ([`MsgBlock::rebuild_state_from_buf`]): a header running past the end,
//! lengths that fail the sanity checks, or a checksum mismatch stop the
//! scan; the block is truncated at that record and the sequences after the
//! last good one are lost. Erased records and records below the first
//! sequence are skipped and marked deleted; tombstones are collected and
//! applied after all blocks are read. A checksum covers the sequence,
//! timestamp, subject, headers and payload back to back, so a changed
//! subject length that still fits the record is not caught by it; the
//! payload then starts in the wrong place and the reader of the message
//! (raft's append-entry decoder) rejects it.
//!
//! Per block: a block whose index file is readable and whose last checksum
//! matches the file is taken from the index without a scan (its records
//! are then only checked when read, [`FileStore::load_msg`]); a missing,
//! unreadable or stale index file means a scan, starting from whatever the
//! index file set before it failed, as upstream. A bad compression header
//! or S2 stream is an error that stops recovery. Encrypted stores are
//! refused ([`StoreError::NoMainKey`], [`StoreError::EncryptedBlock`]).
//!
//! On-disk format, 2.9.10 vs 8188ea93a: the block records are the same.
//! 2.9.10 keeps `<n>.idx` (version 1, delete map as uvarint offsets) and
//! `<n>.fss` (per-subject state) beside each block, and compacts a raft log
//! by rewriting the block when less than half of it is live, otherwise by
//! recording the new first sequence in `<n>.idx` only — so after an unclean
//! stop a stale index file can hide, or fail to hide, compacted records.
//! 8188ea93a writes neither file (it reads `<n>.idx` versions 1 and 2, the
//! latter with the delete map as an encoded sequence set, when upgrading,
//! and ignores `.fss`), keeps one full-state file `msgs/index.db`, writes
//! tombstones for compacted messages (rewriting only blocks over 2 MB that
//! are mostly dead), and can compress blocks (`cmp` header), which a raft
//! log's store is never configured to do. This port reads all of it except
//! `index.db` ([`StoreEvent::IndexDbNotRead`]).

pub mod block;
pub mod compression;
pub mod files;
pub mod index;
pub mod record;
pub mod seqset;
pub mod store;
pub mod writer;

pub use block::{LoadError, MsgBlock, MsgId, Rebuilt, Truncation};
pub use files::StoreFiles;
pub use record::{BadRecord, BlockHasher, StoreMsg};
pub use store::{FileStore, IndexNotUsed, StoreError, StoreEvent, StreamState};

/// Sequences a store lost on recovery, and their bytes (Go's `LostStreamData`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LostStreamData {
    /// Lost sequences, ascending.
    pub msgs: Vec<u64>,
    /// Bytes lost.
    pub bytes: u64,
}
