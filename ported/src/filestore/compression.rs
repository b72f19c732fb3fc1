//! Block compression: the `cmp` metadata header a compressed block file
//! starts with, and S2 (de)compression of the records behind it. The last
//! record checksum stays uncompressed at the end of the file so the block's
//! last checksum can be read without decompressing.
//!
//! Header: `'c' 'm' 'p'`, the algorithm byte (0 none, 1 S2), the original
//! size as a uvarint. A block that does not start with `cmp` and at least
//! five bytes is plain records.

use crate::raft::wire::{put_uvarint, uvarint};
use crate::s2;

use super::record::CHECKSUM_SIZE;

/// Compression algorithm of a block (Go's `StoreCompression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreCompression {
    /// Plain records.
    None,
    /// An S2 stream of the records.
    S2,
    /// Any other algorithm byte.
    Unknown(u8),
}

impl StoreCompression {
    fn from_u8(b: u8) -> Self {
        match b {
            0 => StoreCompression::None,
            1 => StoreCompression::S2,
            other => StoreCompression::Unknown(other),
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            StoreCompression::None => 0,
            StoreCompression::S2 => 1,
            StoreCompression::Unknown(b) => b,
        }
    }
}

/// Why a compressed block could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompressionError {
    /// `cmp` was present but the original-size uvarint was not.
    #[error("metadata incomplete")]
    MetadataIncomplete,
    /// The algorithm byte names no known algorithm.
    #[error("compression algorithm not known ({0})")]
    UnknownAlgorithm(u8),
    /// Fewer bytes than the trailing checksum.
    #[error("compressed buffer is too short")]
    TooShort,
    /// The S2 stream is corrupt (the decoder's message).
    #[error("error reading compression reader: {0}")]
    S2(String),
}

impl From<s2::S2Error> for CompressionError {
    fn from(e: s2::S2Error) -> Self {
        CompressionError::S2(e.to_string())
    }
}

/// A block's compression metadata (Go's `CompressionInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionInfo {
    /// The algorithm.
    pub algorithm: StoreCompression,
    /// Size of the records before compression.
    pub original_size: u64,
}

impl CompressionInfo {
    /// Port of (*CompressionInfo).MarshalMetadata
    pub fn marshal_metadata(&self) -> Vec<u8> {
        let mut b = vec![b'c', b'm', b'p', self.algorithm.to_u8()];
        put_uvarint(&mut b, self.original_size);
        b
    }

    /// Port of (*CompressionInfo).UnmarshalMetadata
    ///
    /// `Ok(None)` when there is no metadata (plain block), otherwise the
    /// metadata and its length.
    pub fn unmarshal_metadata(b: &[u8]) -> Result<Option<(CompressionInfo, usize)>, CompressionError> {
        if b.len() < 5 || &b[..3] != b"cmp" {
            return Ok(None);
        }
        let algorithm = StoreCompression::from_u8(b[3]);
        let original_size = uvarint(&b[4..]).ok_or(CompressionError::MetadataIncomplete)?;
        let n = uvarint_len(&b[4..]);
        Ok(Some((CompressionInfo { algorithm, original_size }, 4 + n)))
    }
}

fn uvarint_len(b: &[u8]) -> usize {
    b.iter().position(|&x| x < 0x80).map_or(b.len(), |i| i + 1)
}

/// Port of (*msgBlock).decompressIfNeeded and StoreCompression.Decompress
///
/// The plain records of a block file: unchanged without metadata, the
/// metadata stripped for algorithm "none", the S2 stream decoded (with the
/// trailing checksum kept) for S2.
pub fn decompress_if_needed(buf: &[u8]) -> Result<Vec<u8>, CompressionError> {
    let Some((meta, n)) = CompressionInfo::unmarshal_metadata(buf)? else { return Ok(buf.to_vec()) };
    let body = &buf[n..];
    if body.len() < CHECKSUM_SIZE {
        return Err(CompressionError::TooShort);
    }
    match meta.algorithm {
        StoreCompression::None => Ok(body.to_vec()),
        StoreCompression::S2 => {
            let split = body.len() - CHECKSUM_SIZE;
            let mut out = s2::stream::decode_stream(&body[..split])?;
            out.extend_from_slice(&body[split..]);
            Ok(out)
        }
        StoreCompression::Unknown(b) => Err(CompressionError::UnknownAlgorithm(b)),
    }
}

/// Port of StoreCompression.Compress with its metadata header
///
/// What (*msgBlock).atomicOverwriteFile writes for an S2-compressed block:
/// metadata, the S2 stream of all but the last checksum, the checksum.
/// Needs at least [`CHECKSUM_SIZE`] bytes of records.
pub fn compress_s2(records: &[u8]) -> Result<Vec<u8>, CompressionError> {
    if records.len() < CHECKSUM_SIZE {
        return Err(CompressionError::TooShort);
    }
    let split = records.len() - CHECKSUM_SIZE;
    let meta = CompressionInfo { algorithm: StoreCompression::S2, original_size: records.len() as u64 };
    let mut out = meta.marshal_metadata();
    out.extend(s2::stream::encode_stream(&records[..split]));
    out.extend_from_slice(&records[split..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_blocks_pass_through() {
        let plain = b"\x40\x00\x00\x00 not compressed".to_vec();
        assert_eq!(decompress_if_needed(&plain).expect("plain"), plain);
        assert_eq!(decompress_if_needed(b"cmp\x01").expect("too short for metadata"), b"cmp\x01");
    }

    #[test]
    fn s2_round_trip_keeps_the_checksum_plain() {
        let records: Vec<u8> = (0..5000u32).flat_map(|i| (i % 97).to_le_bytes()).collect();
        let c = compress_s2(&records).expect("compresses");
        assert_eq!(&c[..4], b"cmp\x01");
        assert_eq!(&c[c.len() - 8..], &records[records.len() - 8..]);
        assert!(c.len() < records.len());
        assert_eq!(decompress_if_needed(&c).expect("decompresses"), records);
    }

    #[test]
    fn metadata_errors() {
        assert_eq!(decompress_if_needed(b"cmp\x01\x80"), Err(CompressionError::MetadataIncomplete));
        assert_eq!(decompress_if_needed(b"cmp\x07\x05abcdefgh"), Err(CompressionError::UnknownAlgorithm(7)));
        assert_eq!(decompress_if_needed(b"cmp\x01\x05abc"), Err(CompressionError::TooShort));
        assert_eq!(decompress_if_needed(b"cmp\x00\x05abcdefghij").expect("none"), b"abcdefghij");
        assert!(matches!(decompress_if_needed(b"cmp\x01\x05xxxxabcdefgh"), Err(CompressionError::S2(_))));
    }
}
