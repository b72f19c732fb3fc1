//! The per-block index files `msgs/<n>.idx` that servers before 2.10 wrote
//! beside each block, read on recovery when present so a block need not be
//! scanned.
//!
//! Layout: magic 22, version (1, or 2 from 2.10 betas), then uvarints
//! `msgs`, `bytes`, first sequence, varint first timestamp, uvarint last
//! sequence, varint last timestamp, uvarint delete-map length, the block's
//! last record checksum (8 bytes), then the delete map: version 1 lists the
//! deleted sequences as uvarint offsets from the first sequence, version 2
//! holds an encoded sequence set.

use crate::raft::wire::{put_uvarint, put_varint, uvarint, varint};

use super::block::MsgBlock;
use super::record::{CHECKSUM_SIZE, EBIT};
use super::seqset::{decode_sequence_set, encode_sequence_set};

/// File-format magic shared by the filestore's small files.
pub const MAGIC: u8 = 22;
/// Index file version written by servers before 2.10.
pub const VERSION: u8 = 1;
/// Index file version whose delete map is an encoded sequence set.
pub const NEW_VERSION: u8 = 2;

/// Why an index file was not used (the block is then scanned instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// No index file for the block.
    #[error("no index file")]
    Missing,
    /// Wrong magic or version (upstream also deletes the file).
    #[error("bad index file")]
    BadHeader,
    /// A varint or the checksum is cut short (upstream also deletes the file).
    #[error("short index file")]
    Short,
    /// The counts do not add up (upstream also deletes the file).
    #[error("accounting inconsistent")]
    Inconsistent,
    /// The version-2 delete map does not decode.
    #[error("could not decode avl dmap: {0}")]
    DeleteMap(String),
}

struct Reader<'a> {
    buf: &'a [u8],
    // None once a read failed, like upstream's bi = -1.
    at: Option<usize>,
}

impl Reader<'_> {
    fn seq(&mut self) -> u64 {
        let Some(at) = self.at else { return 0 };
        match uvarint(&self.buf[at..]) {
            Some(v) => {
                self.at = Some(at + uvarint_len(&self.buf[at..]));
                v & !EBIT
            }
            None => {
                self.at = None;
                0
            }
        }
    }

    fn timestamp(&mut self) -> i64 {
        let Some(at) = self.at else { return 0 };
        match varint(&self.buf[at..]) {
            Some(v) => {
                self.at = Some(at + uvarint_len(&self.buf[at..]));
                v
            }
            None => {
                self.at = None;
                -1
            }
        }
    }
}

fn uvarint_len(b: &[u8]) -> usize {
    b.iter().position(|&x| x < 0x80).map_or(b.len(), |i| i + 1)
}

/// Port of (*msgBlock).readIndexInfo
///
/// Fills the block's counts, sequences, last checksum and delete map from
/// its index file, field by field as upstream does, so a file that fails
/// part way leaves the same partial state behind (recovery then scans the
/// block starting from it). Upstream deletes a bad file; this port only
/// reads.
pub fn read_index_info(mb: &mut MsgBlock, file: Option<&[u8]>) -> Result<(), IndexError> {
    let buf = file.ok_or(IndexError::Missing)?;
    if buf.len() < 2 || buf[0] != MAGIC || (buf[1] != VERSION && buf[1] != NEW_VERSION) {
        return Err(IndexError::BadHeader);
    }
    let mut r = Reader { buf, at: Some(2) };
    mb.msgs = r.seq();
    mb.bytes = r.seq();
    mb.first.seq = r.seq();
    mb.first.ts = r.timestamp();
    mb.last.seq = r.seq();
    mb.last.ts = r.timestamp();
    let dmap_len = r.seq();
    let at = match r.at {
        Some(at) if at + CHECKSUM_SIZE <= buf.len() => at,
        _ => return Err(IndexError::Short),
    };
    let span = mb.last.seq.wrapping_sub(mb.first.seq).wrapping_add(1);
    if mb.msgs != span.wrapping_sub(dmap_len) {
        return Err(IndexError::Inconsistent);
    }
    mb.lchk.copy_from_slice(&buf[at..at + CHECKSUM_SIZE]);
    let at = at + CHECKSUM_SIZE;
    if dmap_len > 0 {
        if buf[1] == NEW_VERSION {
            let (set, _) = decode_sequence_set(&buf[at..]).map_err(|e| IndexError::DeleteMap(e.to_string()))?;
            mb.dmap = set;
        } else {
            let fseq = mb.first.seq;
            let mut r = Reader { buf, at: Some(at) };
            for _ in 0..dmap_len {
                let seq = r.seq();
                if seq == 0 {
                    break;
                }
                mb.dmap.insert(seq.wrapping_add(fseq));
            }
        }
    }
    Ok(())
}

/// The index file a pre-2.10 server (`writeIndexInfoLocked`) writes for a
/// block in this state; `version` 2 stores the delete map as a sequence set.
/// Used to build stores for tests.
pub fn encode_index_info(mb: &MsgBlock, version: u8) -> Vec<u8> {
    let mut buf = vec![MAGIC, version];
    put_uvarint(&mut buf, mb.msgs);
    put_uvarint(&mut buf, mb.bytes);
    put_uvarint(&mut buf, mb.first.seq);
    put_varint(&mut buf, mb.first.ts);
    put_uvarint(&mut buf, mb.last.seq);
    put_varint(&mut buf, mb.last.ts);
    put_uvarint(&mut buf, mb.dmap.len() as u64);
    buf.extend_from_slice(&mb.lchk);
    if !mb.dmap.is_empty() {
        if version == NEW_VERSION {
            buf.extend(encode_sequence_set(&mb.dmap));
        } else {
            for &seq in &mb.dmap {
                put_uvarint(&mut buf, seq - mb.first.seq);
            }
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> MsgBlock {
        let mut mb = MsgBlock::new("_meta_", 1, Vec::new());
        mb.first.seq = 10;
        mb.first.ts = 1_000;
        mb.last.seq = 14;
        mb.last.ts = 2_000;
        mb.msgs = 3;
        mb.bytes = 300;
        mb.dmap = [11, 13].into_iter().collect();
        mb.lchk = *b"12345678";
        mb
    }

    fn read(buf: &[u8]) -> (MsgBlock, Result<(), IndexError>) {
        let mut mb = MsgBlock::new("_meta_", 1, Vec::new());
        let r = read_index_info(&mut mb, Some(buf));
        (mb, r)
    }

    #[test]
    fn both_versions_round_trip() {
        for v in [VERSION, NEW_VERSION] {
            let want = block();
            let (got, r) = read(&encode_index_info(&want, v));
            assert_eq!(r, Ok(()), "version {v}");
            assert_eq!((got.msgs, got.bytes, got.first, got.last), (want.msgs, want.bytes, want.first, want.last));
            assert_eq!((got.dmap, got.lchk), (want.dmap, want.lchk), "version {v}");
        }
    }

    #[test]
    fn pre_2_10_layout_bytes() {
        let mut mb = block();
        mb.dmap.clear();
        mb.msgs = 5;
        let buf = encode_index_info(&mb, VERSION);
        assert_eq!(&buf[..4], &[22, 1, 5, 0xac]);
        assert_eq!(buf.len(), 2 + 1 + 2 + 1 + 2 + 1 + 2 + 1 + 8);
    }

    #[test]
    fn failures_leave_partial_state_like_upstream() {
        let good = encode_index_info(&block(), VERSION);
        let (_, r) = read(&good[..good.len() - 12]);
        assert_eq!(r, Err(IndexError::Short));
        let mut bad = good.clone();
        bad[2] = 4;
        let (mb, r) = read(&bad);
        assert_eq!(r, Err(IndexError::Inconsistent));
        assert_eq!((mb.msgs, mb.first.seq, mb.last.seq), (4, 10, 14), "fields read before the check stay set");
        assert_eq!(mb.lchk, [0; 8], "the checksum is only copied after the check");
        let (_, r) = read(&[22, 3]);
        assert_eq!(r, Err(IndexError::BadHeader));
        let mut mb = MsgBlock::new("_meta_", 1, Vec::new());
        assert_eq!(read_index_info(&mut mb, None), Err(IndexError::Missing));
    }

    #[test]
    fn v1_delete_map_stops_at_a_zero_offset() {
        let mut buf = encode_index_info(&block(), VERSION);
        let n = buf.len();
        buf[n - 2] = 0;
        let (mb, r) = read(&buf);
        assert_eq!(r, Ok(()));
        assert!(mb.dmap.is_empty());
    }

    #[test]
    fn bad_v2_delete_map_is_an_error_after_the_checksum_is_taken() {
        let mut buf = encode_index_info(&block(), NEW_VERSION);
        let at = buf.len() - encode_sequence_set(&block().dmap).len();
        buf[at] = 0;
        let (mb, r) = read(&buf);
        assert!(matches!(r, Err(IndexError::DeleteMap(_))), "{r:?}");
        assert_eq!(mb.lchk, *b"12345678");
    }
}
