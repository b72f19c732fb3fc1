//! The replicated stream entries of `server/jetstream_cluster.go` at
//! 8188ea93a: a stored message (plain, S2-compressed, inside a batch),
//! message delete, purge and delete range. Integers are little-endian.
//!
//! Message: `[4][lseq u64][ts i64][slen u16][subject][rlen u16][reply]
//! [hlen u16][hdr][mlen u32][msg][flags uvarint]`; compressed: `[14]` then
//! the S2 block of everything after the op byte, used when subject, reply,
//! header and payload exceed 8 KiB and compression makes it smaller; in a
//! batch: `[16|17][blen u16][batch id][batch seq uvarint]` before the
//! message op byte. Delete, purge and delete range are the op byte and the
//! JSON that Go's `json.Encoder` writes (a trailing newline), with Go's
//! HTML-safe string escaping ([`go_json`]), so entries are Go's bytes.
//! Golden vectors from Go: `tests/jsc/go_vectors.rs`.
//!
//! Differences from upstream: the S2 block of a compressed entry is this
//! port's encoder's (valid S2 that Go decodes, not Go's exact bytes, see
//! [`crate::s2`]); subjects and replies must be UTF-8 to decode
//! (Rust strings); upstream accepts any bytes. NATS subjects are ASCII.

use serde::{Deserialize, Serialize};

use super::assignments::ClientInfo;
use super::ops::EntryOp;
use crate::s2;
use crate::store::state::{put_uvarint, uvarint};

/// Go's `errBadStreamMsg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamOpError {
    #[error("jetstream cluster bad replicated stream msg")]
    BadStreamMsg,
    #[error("jetstream cluster bad replicated stream msg: s2: {0}")]
    Compression(String),
    #[error("{0}")]
    Json(String),
}

/// Flag bit: the message came from a source or mirror.
pub const MSG_FLAG_FROM_SOURCE_OR_MIRROR: u64 = 1;
/// Above this many bytes of content a message is compressed if that helps.
pub const COMPRESS_THRESHOLD: u64 = 8192;

/// A decoded stream message entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamMsg {
    pub subject: String,
    pub reply: String,
    pub hdr: Vec<u8>,
    pub msg: Vec<u8>,
    pub lseq: u64,
    pub ts: i64,
    pub sourced: bool,
}

/// Port of encodeStreamMsg
pub fn encode_stream_msg(m: &StreamMsg) -> Vec<u8> {
    encode_stream_msg_allow_compress(m)
}

/// Port of encodeStreamMsgAllowCompress
pub fn encode_stream_msg_allow_compress(m: &StreamMsg) -> Vec<u8> {
    encode_stream_msg_allow_compress_and_batch(m, "", 0, false)
}

/// Port of encodeStreamMsgAllowCompressAndBatch
pub fn encode_stream_msg_allow_compress_and_batch(m: &StreamMsg, batch_id: &str, batch_seq: u64, batch_commit: bool) -> Vec<u8> {
    let slen = m.subject.len().min(u16::MAX as usize);
    let rlen = m.reply.len().min(u16::MAX as usize);
    let hlen = m.hdr.len().min(u16::MAX as usize);
    let mlen = m.msg.len().min(u32::MAX as usize);
    let total = (slen + rlen + hlen + mlen) as u64;
    let should_compress = total > COMPRESS_THRESHOLD;
    let flags = if m.sourced { MSG_FLAG_FROM_SOURCE_OR_MIRROR } else { 0 };

    let mut buf = Vec::with_capacity(1 + 8 + 8 + total as usize + 18 + batch_id.len() + 10);
    let mut op_index = 0;
    if batch_id.is_empty() {
        buf.push(EntryOp::StreamMsg as u8);
    } else {
        buf.push(if batch_commit { EntryOp::BatchCommitMsg as u8 } else { EntryOp::BatchMsg as u8 });
        let blen = batch_id.len().min(u16::MAX as usize);
        buf.extend_from_slice(&(blen as u16).to_le_bytes());
        buf.extend_from_slice(&batch_id.as_bytes()[..blen]);
        put_uvarint(&mut buf, batch_seq);
        op_index = buf.len();
        buf.push(EntryOp::StreamMsg as u8);
    }
    buf.extend_from_slice(&m.lseq.to_le_bytes());
    buf.extend_from_slice(&(m.ts as u64).to_le_bytes());
    buf.extend_from_slice(&(slen as u16).to_le_bytes());
    buf.extend_from_slice(&m.subject.as_bytes()[..slen]);
    buf.extend_from_slice(&(rlen as u16).to_le_bytes());
    buf.extend_from_slice(&m.reply.as_bytes()[..rlen]);
    buf.extend_from_slice(&(hlen as u16).to_le_bytes());
    buf.extend_from_slice(&m.hdr[..hlen]);
    buf.extend_from_slice(&(mlen as u32).to_le_bytes());
    buf.extend_from_slice(&m.msg[..mlen]);
    put_uvarint(&mut buf, flags);

    if should_compress {
        let enc = s2::encode(&buf[op_index + 1..]);
        // Only worth the decode on the other side if it got smaller.
        if enc.len() < buf.len() - op_index - 1 {
            let mut nbuf = Vec::with_capacity(op_index + 1 + enc.len());
            nbuf.extend_from_slice(&buf[..op_index]);
            nbuf.push(EntryOp::CompressedStreamMsg as u8);
            nbuf.extend_from_slice(&enc);
            return nbuf;
        }
    }
    buf
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], StreamOpError> {
    if buf.len() < n {
        return Err(StreamOpError::BadStreamMsg);
    }
    let (a, b) = buf.split_at(n);
    *buf = b;
    Ok(a)
}

fn le_u16(b: &[u8]) -> usize {
    u16::from_le_bytes([b[0], b[1]]) as usize
}

fn utf8(b: &[u8]) -> Result<String, StreamOpError> {
    String::from_utf8(b.to_vec()).map_err(|_| StreamOpError::BadStreamMsg)
}

/// Port of decodeStreamMsg: `buf` is what follows the op byte.
pub fn decode_stream_msg(buf: &[u8]) -> Result<StreamMsg, StreamOpError> {
    if buf.len() < 26 {
        return Err(StreamOpError::BadStreamMsg);
    }
    let mut b = buf;
    let u64le = |b: &mut &[u8]| -> Result<u64, StreamOpError> {
        let s = take(b, 8)?;
        Ok(u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
    };
    let lseq = u64le(&mut b)?;
    let ts = u64le(&mut b)? as i64;
    let sl = le_u16(take(&mut b, 2)?);
    let subject = utf8(take(&mut b, sl)?)?;
    let rl = le_u16(take(&mut b, 2)?);
    let reply = utf8(take(&mut b, rl)?)?;
    let hl = le_u16(take(&mut b, 2)?);
    let hdr = take(&mut b, hl)?.to_vec();
    let ml = {
        let s = take(&mut b, 4)?;
        u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize
    };
    let msg = take(&mut b, ml)?.to_vec();
    // Only flags that are present are read; a bad varint reads as 0.
    let sourced = !b.is_empty() && uvarint(b).map_or(0, |(f, _)| f) & MSG_FLAG_FROM_SOURCE_OR_MIRROR != 0;
    Ok(StreamMsg { subject, reply, hdr, msg, lseq, ts, sourced })
}

/// A decoded batch wrapper: id, sequence in the batch, inner op and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMsg<'a> {
    pub batch_id: String,
    pub batch_seq: u64,
    pub op: u8,
    pub mbuf: &'a [u8],
}

/// Port of decodeBatchMsg: `buf` is what follows the op byte.
pub fn decode_batch_msg(buf: &[u8]) -> Result<BatchMsg<'_>, StreamOpError> {
    let mut b = buf;
    let bl = le_u16(take(&mut b, 2)?);
    let batch_id = utf8(take(&mut b, bl)?)?;
    let (batch_seq, n) = uvarint(b).ok_or(StreamOpError::BadStreamMsg)?;
    b = &b[n..];
    // Upstream indexes the op byte without a length check (a panic there).
    let (&op, mbuf) = b.split_first().ok_or(StreamOpError::BadStreamMsg)?;
    Ok(BatchMsg { batch_id, batch_seq, op, mbuf })
}

/// The message of a plain or compressed message op's payload.
pub fn decode_msg_op(op: u8, mbuf: &[u8]) -> Result<StreamMsg, StreamOpError> {
    if op == EntryOp::CompressedStreamMsg as u8 {
        let raw = s2::decode(mbuf).map_err(|e| StreamOpError::Compression(format!("{e:?}")))?;
        decode_stream_msg(&raw)
    } else {
        decode_stream_msg(mbuf)
    }
}

/// What the stream leader replicates to delete a message (Go's `streamMsgDelete`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StreamMsgDelete {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default)]
    pub stream: String,
    #[serde(default)]
    pub seq: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_erase: bool,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub reply: String,
}

/// Go's `JSApiStreamPurgeRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PurgeRequest {
    #[serde(rename = "seq", default, skip_serializing_if = "is_zero")]
    pub sequence: u64,
    #[serde(rename = "filter", default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub keep: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// What the stream leader replicates to purge (Go's `streamPurge`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StreamPurge {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default)]
    pub stream: String,
    #[serde(default)]
    pub last_seq: u64,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub reply: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<PurgeRequest>,
}

/// Go's `DeleteRange` as JSON (no tags: capitalised keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeleteRangeJson {
    #[serde(rename = "First", default)]
    pub first: u64,
    #[serde(rename = "Num", default)]
    pub num: u64,
}

/// The legacy JSON stream snapshot (Go's `streamSnapshot`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StreamSnapshot {
    #[serde(rename = "messages", default)]
    pub msgs: u64,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub first_seq: u64,
    #[serde(default)]
    pub last_seq: u64,
    #[serde(rename = "clfs", default)]
    pub failed: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<u64>,
}

/// `v` as Go's `json.Marshal` writes it (moved to [`crate::go_json`], which
/// every writer of Go JSON now uses).
pub use crate::go_json::go_json;

// Go's json.Encoder: compact JSON and a newline.
fn op_json(op: EntryOp, v: &impl Serialize) -> Vec<u8> {
    let mut b = vec![op as u8];
    b.extend_from_slice(&go_json(v));
    b.push(b'\n');
    b
}

fn from_json<T: for<'de> Deserialize<'de>>(buf: &[u8]) -> Result<T, StreamOpError> {
    serde_json::from_slice(buf).map_err(|e| StreamOpError::Json(e.to_string()))
}

/// Port of encodeMsgDelete
pub fn encode_msg_delete(md: &StreamMsgDelete) -> Vec<u8> {
    op_json(EntryOp::DeleteMsg, md)
}

/// Port of decodeMsgDelete: `buf` is what follows the op byte.
pub fn decode_msg_delete(buf: &[u8]) -> Result<StreamMsgDelete, StreamOpError> {
    from_json(buf)
}

/// Port of encodeStreamPurge
pub fn encode_stream_purge(sp: &StreamPurge) -> Vec<u8> {
    op_json(EntryOp::PurgeStream, sp)
}

/// Port of decodeStreamPurge: `buf` is what follows the op byte.
pub fn decode_stream_purge(buf: &[u8]) -> Result<StreamPurge, StreamOpError> {
    from_json(buf)
}

/// Port of encodeDeleteRange
pub fn encode_delete_range(dr: &DeleteRangeJson) -> Vec<u8> {
    op_json(EntryOp::DeleteRange, dr)
}

/// Port of decodeDeleteRange: `buf` is what follows the op byte.
pub fn decode_delete_range(buf: &[u8]) -> Result<DeleteRangeJson, StreamOpError> {
    from_json(buf)
}

#[cfg(test)]
#[path = "stream_ops_tests.rs"]
mod tests;
