//! One message record of a block file: its fixed header, the per-block
//! HighwayHash-64 checksum, parsing (with the sanity checks Go applies before
//! trusting a length) and encoding.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | record length `rl` (whole record), bit 31 set when headers follow the subject |
//! | 4 | 8 | sequence; bit 63 marks an erased message, bit 62 a tombstone |
//! | 12 | 8 | timestamp, Unix nanoseconds |
//! | 20 | 2 | subject length `slen` |
//! | 22 | slen | subject |
//! | .. | 4 + h | header length and headers (only with the header bit) |
//! | .. | .. | payload |
//! | rl-8 | 8 | HighwayHash-64 of bytes 4..20, the subject, the headers and the payload |
//!
//! All integers are little-endian. The hash key is the SHA-256 of
//! `"<stream name>-<block index>"`; a raft log's stream name is its group
//! name (`_meta_` for the meta group).

use highway::{HighwayHash, HighwayHasher, Key};

use crate::snapshot_file::snapshot_hash_key;

/// Size of the fixed record header (length, sequence, timestamp, subject length).
pub const MSG_HDR_SIZE: usize = 22;
/// Size of the trailing checksum.
pub const CHECKSUM_SIZE: usize = 8;
/// Smallest possible record: a header and a checksum.
pub const EMPTY_RECORD_LEN: usize = MSG_HDR_SIZE + CHECKSUM_SIZE;
/// Bit of the record length saying headers follow the subject.
pub const HBIT: u32 = 1 << 31;
/// Bit of the sequence marking an erased message.
pub const EBIT: u64 = 1 << 63;
/// Bit of the sequence marking a delete tombstone.
pub const TBIT: u64 = 1 << 62;
/// A record length above this is taken as corruption.
pub const RL_BAD_THRESH: u32 = 32 * 1024 * 1024;

/// Checksum calculator of one block: HighwayHash-64 under the block's key.
#[derive(Debug, Clone)]
pub struct BlockHasher {
    key: Key,
}

impl BlockHasher {
    /// Port of (*fileStore).hashKeyForBlock and the hash setup of (*fileStore).initMsgBlock
    ///
    /// The key of block `index` of the store named `name`.
    pub fn new(name: &str, index: u32) -> Self {
        BlockHasher { key: snapshot_hash_key(&format!("{name}-{index}")) }
    }

    /// The checksum of a record as stored: hash of the header's sequence and
    /// timestamp, the subject, the headers and the payload, little-endian.
    pub fn record_checksum(&self, seq_ts: &[u8], subj: &[u8], hdr: &[u8], msg: &[u8]) -> [u8; CHECKSUM_SIZE] {
        let mut h = HighwayHasher::new(self.key);
        h.append(seq_ts);
        h.append(subj);
        h.append(hdr);
        h.append(msg);
        h.finalize64().to_le_bytes()
    }
}

/// Why a record was refused (Go's `errBadMsg` details).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRecord {
    /// Fewer bytes left than a record header.
    #[error("message overrun (index {index} lbuf {lbuf})")]
    Overrun { index: usize, lbuf: usize },
    /// The lengths in the header cannot describe a record in this buffer.
    #[error("sanity check failed (dlen {dlen} slen {slen} rl {rl} index {index} lbuf {lbuf})")]
    Sanity { dlen: i64, slen: usize, rl: u32, index: usize, lbuf: usize },
    /// The stored checksum does not match the record.
    #[error("invalid checksum")]
    Checksum,
    /// Fewer bytes than the smallest record.
    #[error("record too short")]
    TooShort,
    /// The header length runs past the record.
    #[error("invalid message length or end greater than buffer length")]
    HeaderLength,
    /// Two records more than `MAX_SEQ_GAP` sequences apart (a bound this
    /// port adds; upstream would try to mark every sequence between deleted).
    #[error("sequence gap from {from} to {to} too large")]
    SequenceGap { from: u64, to: u64 },
}

/// The fixed header of a record, length bits decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Record length without the header bit.
    pub rl: u32,
    /// Whether headers follow the subject.
    pub has_headers: bool,
    /// Sequence with its erase and tombstone bits.
    pub raw_seq: u64,
    /// Timestamp, Unix nanoseconds.
    pub ts: i64,
    /// Subject length.
    pub slen: usize,
}

impl RecordHeader {
    /// Reads the header at the start of `buf` (at least [`MSG_HDR_SIZE`] bytes).
    pub fn read(buf: &[u8]) -> RecordHeader {
        let raw_rl = le_u32(&buf[0..4]);
        RecordHeader {
            rl: raw_rl & !HBIT,
            has_headers: raw_rl & HBIT != 0,
            raw_seq: le_u64(&buf[4..12]),
            ts: le_u64(&buf[12..20]) as i64,
            slen: u16::from_le_bytes([buf[20], buf[21]]) as usize,
        }
    }

    /// Bytes after the fixed header (Go's `dlen`); negative when `rl` is
    /// shorter than the header.
    pub fn dlen(&self) -> i64 {
        self.rl as i64 - MSG_HDR_SIZE as i64
    }

    /// The length checks Go runs before using a record that starts `index`
    /// bytes into a buffer of `lbuf` bytes.
    pub fn sane(&self, index: usize, lbuf: usize) -> Result<(), BadRecord> {
        let dlen = self.dlen();
        let shlen = self.slen as i64 + if self.has_headers { 4 } else { 0 };
        if dlen < 0
            || shlen > dlen - CHECKSUM_SIZE as i64
            || dlen > self.rl as i64
            || index as u64 + self.rl as u64 > lbuf as u64
            || self.rl > RL_BAD_THRESH
        {
            return Err(BadRecord::Sanity { dlen, slen: self.slen, rl: self.rl, index, lbuf });
        }
        Ok(())
    }

    /// Whether this is a delete tombstone.
    pub fn is_tombstone(&self) -> bool {
        self.raw_seq & TBIT != 0
    }
}

/// Verifies the checksum of a sane record occupying all of `rec`.
pub fn verify_checksum(hasher: &BlockHasher, hdr: &RecordHeader, rec: &[u8]) -> Result<(), BadRecord> {
    let data = &rec[MSG_HDR_SIZE..];
    let dlen = data.len();
    let subj = &data[..hdr.slen];
    let rest = if hdr.has_headers { &data[hdr.slen + 4..dlen - CHECKSUM_SIZE] } else { &data[hdr.slen..dlen - CHECKSUM_SIZE] };
    let sum = hasher.record_checksum(&rec[4..20], subj, rest, &[]);
    if sum[..] != data[dlen - CHECKSUM_SIZE..] {
        return Err(BadRecord::Checksum);
    }
    Ok(())
}

/// A message read from a block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreMsg {
    /// Subject (empty for raft log entries).
    pub subj: Vec<u8>,
    /// Headers, when the record has them.
    pub hdr: Vec<u8>,
    /// Payload.
    pub msg: Vec<u8>,
    /// Sequence; 0 for an erased message.
    pub seq: u64,
    /// Timestamp, Unix nanoseconds.
    pub ts: i64,
}

/// Port of (*msgBlock).msgFromBufEx
///
/// Parses the record at the start of `buf`, checking its checksum when a
/// hasher is given. An erased record comes back with sequence 0.
pub fn msg_from_buf(buf: &[u8], hasher: Option<&BlockHasher>) -> Result<StoreMsg, BadRecord> {
    if buf.len() < EMPTY_RECORD_LEN {
        return Err(BadRecord::TooShort);
    }
    let hdr = RecordHeader::read(buf);
    hdr.sane(0, buf.len())?;
    let rec = &buf[..hdr.rl as usize];
    if let Some(h) = hasher {
        verify_checksum(h, &hdr, rec)?;
    }
    let data = &rec[MSG_HDR_SIZE..];
    let end = data.len() - CHECKSUM_SIZE;
    let (headers, msg) = if hdr.has_headers {
        let hl = le_u32(&data[hdr.slen..hdr.slen + 4]) as usize;
        let bi = hdr.slen + 4;
        // Go slices the headers out of the bytes between the header length
        // and the checksum; a length running past them is refused.
        if hl > end - bi {
            return Err(BadRecord::HeaderLength);
        }
        (data[bi..bi + hl].to_vec(), data[bi + hl..end].to_vec())
    } else {
        (Vec::new(), data[hdr.slen..end].to_vec())
    };
    let seq = if hdr.raw_seq & EBIT != 0 { 0 } else { hdr.raw_seq };
    Ok(StoreMsg { subj: data[..hdr.slen].to_vec(), hdr: headers, msg, seq, ts: hdr.ts })
}

/// Port of fileStoreMsgSizeRaw
///
/// Bytes a record of these lengths occupies.
pub fn file_store_msg_size_raw(slen: usize, hlen: usize, mlen: usize) -> u64 {
    if hlen == 0 {
        (MSG_HDR_SIZE + slen + mlen + CHECKSUM_SIZE) as u64
    } else {
        (MSG_HDR_SIZE + slen + 4 + hlen + mlen + CHECKSUM_SIZE) as u64
    }
}

/// The record layout of (*msgBlock).writeMsgRecordLocked
///
/// Appends one record to `out` and returns its checksum. `seq` may carry the
/// erase or tombstone bit. Used to build stores for tests and benchmarks; the
/// port does not write block files itself.
pub fn encode_record(
    out: &mut Vec<u8>,
    hasher: &BlockHasher,
    seq: u64,
    ts: i64,
    subj: &[u8],
    hdr: &[u8],
    msg: &[u8],
) -> [u8; CHECKSUM_SIZE] {
    let rl = file_store_msg_size_raw(subj.len(), hdr.len(), msg.len()) as u32;
    let mut head = [0u8; MSG_HDR_SIZE];
    let l = if hdr.is_empty() { rl } else { rl | HBIT };
    head[0..4].copy_from_slice(&l.to_le_bytes());
    head[4..12].copy_from_slice(&seq.to_le_bytes());
    head[12..20].copy_from_slice(&(ts as u64).to_le_bytes());
    head[20..22].copy_from_slice(&(subj.len() as u16).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(subj);
    if !hdr.is_empty() {
        out.extend_from_slice(&(hdr.len() as u32).to_le_bytes());
        out.extend_from_slice(hdr);
    }
    out.extend_from_slice(msg);
    let sum = hasher.record_checksum(&head[4..20], subj, hdr, msg);
    out.extend_from_slice(&sum);
    sum
}

/// The tombstone record of (*msgBlock).writeTombstoneNoFlush: an empty
/// record whose sequence carries the tombstone bit.
pub fn encode_tombstone(out: &mut Vec<u8>, hasher: &BlockHasher, seq: u64, ts: i64) -> [u8; CHECKSUM_SIZE] {
    encode_record(out, hasher, seq | TBIT, ts, &[], &[], &[])
}

pub(crate) fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

pub(crate) fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_layout_and_round_trip() {
        let h = BlockHasher::new("_meta_", 1);
        let mut buf = Vec::new();
        let sum = encode_record(&mut buf, &h, 7, 1_700_000_000_000_000_000, b"", b"", b"payload");
        assert_eq!(buf.len(), EMPTY_RECORD_LEN + 7);
        assert_eq!(le_u32(&buf[0..4]) as usize, buf.len());
        assert_eq!(le_u64(&buf[4..12]), 7);
        assert_eq!(&buf[buf.len() - 8..], &sum);
        let m = msg_from_buf(&buf, Some(&h)).expect("parses");
        assert_eq!((m.seq, m.msg.as_slice(), m.subj.len()), (7, &b"payload"[..], 0));
    }

    #[test]
    fn headers_set_the_length_bit_and_are_split_out() {
        let h = BlockHasher::new("S", 3);
        let mut buf = Vec::new();
        encode_record(&mut buf, &h, 2, 5, b"foo.bar", b"NATS/1.0\r\n\r\n", b"x");
        assert_ne!(le_u32(&buf[0..4]) & HBIT, 0);
        let m = msg_from_buf(&buf, Some(&h)).expect("parses");
        assert_eq!(m.subj, b"foo.bar");
        assert_eq!(m.hdr, b"NATS/1.0\r\n\r\n");
        assert_eq!(m.msg, b"x");
    }

    #[test]
    fn checksum_is_keyed_by_store_and_block() {
        let mut buf = Vec::new();
        encode_record(&mut buf, &BlockHasher::new("_meta_", 1), 1, 1, b"", b"", b"m");
        assert!(msg_from_buf(&buf, Some(&BlockHasher::new("_meta_", 1))).is_ok());
        assert_eq!(msg_from_buf(&buf, Some(&BlockHasher::new("_meta_", 2))), Err(BadRecord::Checksum));
        assert_eq!(msg_from_buf(&buf, Some(&BlockHasher::new("other", 1))), Err(BadRecord::Checksum));
        assert!(msg_from_buf(&buf, None).is_ok());
    }

    #[test]
    fn erased_records_read_as_sequence_zero_and_tombstones_flag() {
        let h = BlockHasher::new("g", 1);
        let mut buf = Vec::new();
        encode_record(&mut buf, &h, 9 | EBIT, 1, b"", b"", b"gone");
        assert_eq!(msg_from_buf(&buf, Some(&h)).expect("parses").seq, 0);
        let mut t = Vec::new();
        encode_tombstone(&mut t, &h, 4, 2);
        let hdr = RecordHeader::read(&t);
        assert!(hdr.is_tombstone());
        assert_eq!((hdr.raw_seq & !TBIT, hdr.rl as usize), (4, EMPTY_RECORD_LEN));
    }

    #[test]
    fn lengths_that_cannot_fit_fail_the_sanity_check() {
        let h = BlockHasher::new("g", 1);
        let mut buf = Vec::new();
        encode_record(&mut buf, &h, 1, 1, b"ab", b"", b"cd");
        let mut long = buf.clone();
        long[0..4].copy_from_slice(&((buf.len() + 1) as u32).to_le_bytes());
        assert!(matches!(msg_from_buf(&long, Some(&h)), Err(BadRecord::Sanity { .. })));
        let mut short = buf.clone();
        short[0..4].copy_from_slice(&10u32.to_le_bytes());
        assert!(matches!(msg_from_buf(&short, Some(&h)), Err(BadRecord::Sanity { .. })));
        let mut subj = buf.clone();
        subj[20..22].copy_from_slice(&100u16.to_le_bytes());
        assert!(matches!(msg_from_buf(&subj, Some(&h)), Err(BadRecord::Sanity { .. })));
        assert_eq!(msg_from_buf(&buf[..29], Some(&h)), Err(BadRecord::TooShort));
    }

    #[test]
    fn a_moved_subject_boundary_keeps_the_checksum() {
        // The hash covers subject and payload back to back, so a subject
        // length that still fits is not caught by the checksum (as in Go).
        let h = BlockHasher::new("g", 1);
        let mut buf = Vec::new();
        encode_record(&mut buf, &h, 1, 1, b"", b"", b"abcdef");
        buf[20] = 2;
        let m = msg_from_buf(&buf, Some(&h)).expect("checksum still matches");
        assert_eq!((m.subj.as_slice(), m.msg.as_slice()), (&b"ab"[..], &b"cdef"[..]));
    }
}
