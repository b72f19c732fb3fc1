//! S2 compression (klauspost/compress/s2), the format nats-server uses for
//! meta snapshots and compressed raft entries.
//!
//! S2 extends Snappy's block format with *repeat* copies (a copy-1 tag with a
//! zero offset reuses the previous offset, with its own length encoding) and
//! 4-byte offsets for any length. The decoder here accepts every valid S2 and
//! Snappy block; the encoder produces blocks Go's `s2.Decode` accepts (it is
//! a simple greedy matcher, not a byte-for-byte replica of Go's encoder).
//! [`stream`] covers the framing format used by `s2.NewWriter`/`NewReader`.

mod block_decode;
mod block_encode;
mod crc;
pub mod stream;

pub use block_decode::{decode, decoded_len};
pub use block_encode::{encode, max_encoded_len};

/// Errors decoding S2 data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum S2Error {
    /// The block or stream is malformed or truncated.
    #[error("s2: corrupt input")]
    Corrupt,
    /// The declared decoded size exceeds what this decoder accepts.
    #[error("s2: decoded block is too large ({0} bytes)")]
    TooLarge(u64),
    /// A stream chunk's CRC does not match its contents.
    #[error("s2: corrupt input, crc mismatch")]
    Crc,
    /// A stream uses an unskippable chunk type this reader does not know.
    #[error("s2: unsupported input (chunk type {0:#04x})")]
    Unsupported(u8),
}

pub(crate) const TAG_LITERAL: u8 = 0x00;
pub(crate) const TAG_COPY1: u8 = 0x01;
pub(crate) const TAG_COPY2: u8 = 0x02;
pub(crate) const TAG_COPY4: u8 = 0x03;
