//! Block files as a server writes them, for building stores in tests and
//! benchmarks: records appended to the last block, a new block started when
//! the next record would not fit, tombstones, and the index files of
//! servers before 2.10. The port itself never writes a store.

use super::block::MsgBlock;
use super::files::StoreFiles;
use super::index::encode_index_info;
use super::record::{encode_record, encode_tombstone, file_store_msg_size_raw, BlockHasher, EMPTY_RECORD_LEN};

/// Block size nats-server gives a meta group's raft log (1 MiB).
pub const META_BLOCK_SIZE: u64 = 1024 * 1024;

struct OpenBlock {
    index: u32,
    buf: Vec<u8>,
    hasher: BlockHasher,
}

/// Appends records to a store the way (*fileStore).writeMsgRecord lays
/// them out, rolling to a new block like (*fileStore).checkLastBlock.
pub struct StoreWriter {
    name: String,
    block_size: u64,
    blocks: Vec<OpenBlock>,
}

impl StoreWriter {
    /// A writer for the store `name` with blocks of at most `block_size` bytes.
    pub fn new(name: &str, block_size: u64) -> Self {
        StoreWriter { name: name.to_string(), block_size, blocks: Vec::new() }
    }

    fn block_for(&mut self, rl: u64) -> &mut OpenBlock {
        let roll = match self.blocks.last() {
            None => true,
            Some(b) => !b.buf.is_empty() && b.buf.len() as u64 + rl > self.block_size,
        };
        if roll {
            let index = self.blocks.last().map_or(1, |b| b.index + 1);
            self.blocks.push(OpenBlock { index, buf: Vec::new(), hasher: BlockHasher::new(&self.name, index) });
        }
        let last = self.blocks.len() - 1;
        &mut self.blocks[last]
    }

    /// Appends a message with sequence `seq` (which may carry the erase bit).
    pub fn store(&mut self, seq: u64, ts: i64, subj: &[u8], hdr: &[u8], msg: &[u8]) {
        let rl = file_store_msg_size_raw(subj.len(), hdr.len(), msg.len());
        let b = self.block_for(rl);
        encode_record(&mut b.buf, &b.hasher, seq, ts, subj, hdr, msg);
    }

    /// Appends a tombstone for `seq`.
    pub fn tombstone(&mut self, seq: u64, ts: i64) {
        let b = self.block_for(EMPTY_RECORD_LEN as u64);
        encode_tombstone(&mut b.buf, &b.hasher, seq, ts);
    }

    /// The block files, `(index, bytes)`.
    pub fn blocks(&self) -> Vec<(u32, Vec<u8>)> {
        self.blocks.iter().map(|b| (b.index, b.buf.clone())).collect()
    }

    /// The store's `msgs/` files; with `index_version` (1 or 2) each block
    /// also gets the index file a pre-2.10 server would have written for it
    /// as scanned now.
    pub fn files(&self, index_version: Option<u8>) -> StoreFiles {
        let mut files = StoreFiles::default();
        for b in &self.blocks {
            files.msgs.insert(format!("{}.blk", b.index), b.buf.clone());
            if let Some(v) = index_version {
                let mut mb = MsgBlock::new(&self.name, b.index, b.buf.clone());
                // A fresh block: first sequence unset, so the scan takes the first record.
                let _ = mb.rebuild_state();
                files.msgs.insert(format!("{}.idx", b.index), encode_index_info(&mb, v));
            }
        }
        files
    }
}
