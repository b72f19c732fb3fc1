//! The S2 framing (stream) format of `s2.NewWriter`/`s2.NewReader`, used by
//! nats-server for compressed consumer assignments.
//!
//! A stream is a sequence of chunks: a type byte, a 3-byte little-endian
//! length, then the body. It opens with a stream identifier (`S2sTwO`, or
//! Snappy's `sNaPpY`); data chunks carry a masked CRC-32C of their
//! uncompressed bytes, then either an S2 block or the raw bytes.

use super::crc::masked_crc;
use super::{decode, encode, S2Error};

const CHUNK_COMPRESSED: u8 = 0x00;
const CHUNK_UNCOMPRESSED: u8 = 0x01;
const CHUNK_PADDING: u8 = 0xfe;
const CHUNK_STREAM_ID: u8 = 0xff;
const MAGIC_S2: &[u8] = b"S2sTwO";
const MAGIC_SNAPPY: &[u8] = b"sNaPpY";
/// Uncompressed bytes per chunk written (Go's default writer block size).
const WRITE_BLOCK: usize = 1 << 20;
/// Largest uncompressed chunk accepted (Go's reader default).
const MAX_BLOCK: usize = 4 << 20;
const MAX_SNAPPY_BLOCK: usize = 1 << 16;

/// Frames `src` as an S2 stream that Go's `s2.NewReader` reads back.
/// Each block is stored compressed when that saves space, raw otherwise.
pub fn encode_stream(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() / 2 + 16);
    out.push(CHUNK_STREAM_ID);
    out.extend_from_slice(&[MAGIC_S2.len() as u8, 0, 0]);
    out.extend_from_slice(MAGIC_S2);
    for block in src.chunks(WRITE_BLOCK) {
        let crc = masked_crc(block);
        let compressed = encode(block);
        let (kind, body) = if compressed.len() < block.len() - block.len() / 32 {
            (CHUNK_COMPRESSED, compressed.as_slice())
        } else {
            (CHUNK_UNCOMPRESSED, block)
        };
        let len = (body.len() + 4) as u32;
        out.push(kind);
        out.extend_from_slice(&len.to_le_bytes()[..3]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// Reads a whole S2 (or Snappy-framed) stream, verifying every chunk's CRC.
/// Skippable chunks (0x80..=0xfe) are ignored; other unknown types are
/// [`S2Error::Unsupported`]; a stream not opening with an identifier, or cut
/// inside a chunk, is [`S2Error::Corrupt`].
pub fn decode_stream(src: &[u8]) -> Result<Vec<u8>, S2Error> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut seen_id = false;
    let mut max_block = MAX_BLOCK;
    while pos < src.len() {
        let hdr = src.get(pos..pos + 4).ok_or(S2Error::Corrupt)?;
        let kind = hdr[0];
        let len = u32::from_le_bytes([hdr[1], hdr[2], hdr[3], 0]) as usize;
        let body = src.get(pos + 4..pos + 4 + len).ok_or(S2Error::Corrupt)?;
        pos += 4 + len;
        if !seen_id && kind != CHUNK_STREAM_ID {
            return Err(S2Error::Corrupt);
        }
        match kind {
            CHUNK_STREAM_ID => {
                if body == MAGIC_S2 {
                    max_block = MAX_BLOCK;
                } else if body == MAGIC_SNAPPY {
                    max_block = MAX_SNAPPY_BLOCK;
                } else {
                    return Err(S2Error::Corrupt);
                }
                seen_id = true;
            }
            CHUNK_COMPRESSED | CHUNK_UNCOMPRESSED => {
                if body.len() < 4 {
                    return Err(S2Error::Corrupt);
                }
                let crc = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
                let data = if kind == CHUNK_COMPRESSED {
                    let (n, _) = super::decoded_len(&body[4..])?;
                    if n > max_block {
                        return Err(S2Error::Corrupt);
                    }
                    decode(&body[4..])?
                } else {
                    if body.len() - 4 > max_block {
                        return Err(S2Error::Corrupt);
                    }
                    body[4..].to_vec()
                };
                if masked_crc(&data) != crc {
                    return Err(S2Error::Crc);
                }
                out.extend_from_slice(&data);
            }
            0x80..=CHUNK_PADDING => {}
            other => return Err(S2Error::Unsupported(other)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_small_and_multi_block() {
        for src in [b"hello".to_vec(), b"{\"a\":1}".repeat(400_000), vec![]] {
            let framed = encode_stream(&src);
            assert_eq!(&framed[..10], b"\xff\x06\x00\x00S2sTwO");
            assert_eq!(decode_stream(&framed).expect("decodes"), src);
        }
    }

    #[test]
    fn crc_and_structure_errors() {
        let mut framed = encode_stream(b"hello world, hello world, hello world");
        let last = framed.len() - 1;
        framed[last] ^= 1;
        assert!(decode_stream(&framed).is_err());
        let framed = encode_stream(b"hello");
        assert_eq!(decode_stream(&framed[..framed.len() - 1]), Err(S2Error::Corrupt));
        assert_eq!(decode_stream(&framed[10..]), Err(S2Error::Corrupt));
        let mut bad = framed[..10].to_vec();
        bad.extend_from_slice(&[0x05, 0, 0, 0]);
        assert_eq!(decode_stream(&bad), Err(S2Error::Unsupported(0x05)));
        let mut skip = framed[..10].to_vec();
        skip.extend_from_slice(&[0x99, 2, 0, 0, 1, 2]);
        skip.extend_from_slice(&framed[10..]);
        assert_eq!(decode_stream(&skip).expect("skips"), b"hello");
    }
}
