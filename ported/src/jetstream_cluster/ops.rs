//! Meta-group entries: the op byte that prefixes every replicated JetStream
//! cluster entry, and the encodings of stream and consumer assignment
//! proposals (op byte + JSON, or op byte + S2 stream of JSON).

use serde_json::value::RawValue;

use super::assignments::{ConsumerAssignment, StreamAssignment, UnsupportedAssignment};
use super::config::{decode_consumer_config, decode_stream_config, ConfigError};
use crate::s2;

/// Kind of a replicated JetStream cluster entry. Values are wire-stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EntryOp {
    AssignStream = 0,
    AssignConsumer = 1,
    RemoveStream = 2,
    RemoveConsumer = 3,
    StreamMsg = 4,
    PurgeStream = 5,
    DeleteMsg = 6,
    UpdateDelivered = 7,
    UpdateAcks = 8,
    AssignCompressedConsumer = 9,
    UpdateSkip = 10,
    UpdateStream = 11,
    AddPendingRequest = 12,
    RemovePendingRequest = 13,
    CompressedStreamMsg = 14,
    DeleteRange = 15,
    BatchMsg = 16,
    BatchCommitMsg = 17,
    ResetSeq = 18,
}

impl TryFrom<u8> for EntryOp {
    type Error = OpError;
    fn try_from(b: u8) -> Result<Self, OpError> {
        use EntryOp::*;
        const ALL: [EntryOp; 19] = [
            AssignStream, AssignConsumer, RemoveStream, RemoveConsumer, StreamMsg, PurgeStream,
            DeleteMsg, UpdateDelivered, UpdateAcks, AssignCompressedConsumer, UpdateSkip,
            UpdateStream, AddPendingRequest, RemovePendingRequest, CompressedStreamMsg,
            DeleteRange, BatchMsg, BatchCommitMsg, ResetSeq,
        ];
        ALL.get(b as usize).copied().ok_or(OpError::UnknownOp(b))
    }
}

/// Errors encoding or decoding meta entries.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("empty meta entry")]
    Empty,
    #[error("unknown meta entry op type: {0}")]
    UnknownOp(u8),
    #[error("op {0:?} is not a meta assignment op")]
    NotMetaOp(EntryOp),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("config: {0}")]
    Config(#[from] ConfigError),
    #[error("s2: {0}")]
    S2(#[from] s2::S2Error),
}

/// A decoded meta-group assignment entry.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaOp {
    AssignStream(StreamAssignment),
    UpdateStream(StreamAssignment),
    RemoveStream(StreamAssignment),
    AssignConsumer(ConsumerAssignment),
    AssignCompressedConsumer(ConsumerAssignment),
    RemoveConsumer(ConsumerAssignment),
}

/// Serialises the proposal form of a stream assignment: client stripped of
/// credentials, config re-encoded from the decoded view.
fn encode_stream_op(op: EntryOp, sa: &StreamAssignment) -> Result<Vec<u8>, OpError> {
    let mut csa = sa.clone();
    csa.client = sa.client.as_ref().map(|c| c.for_proposal());
    csa.config_json = crate::go_json::to_raw_value(&sa.config)?;
    let mut out = vec![op as u8];
    out.extend(crate::go_json::to_vec(&csa)?);
    out.push(b'\n');
    Ok(out)
}

fn consumer_proposal_json(ca: &ConsumerAssignment) -> Result<Vec<u8>, OpError> {
    let mut cca = ca.clone();
    cca.client = ca.client.as_ref().map(|c| c.for_proposal());
    cca.config_json = crate::go_json::to_raw_value(&ca.config)?;
    let mut out = crate::go_json::to_vec(&cca)?;
    out.push(b'\n');
    Ok(out)
}

/// Port of encodeAddStreamAssignment
pub fn encode_add_stream_assignment(sa: &StreamAssignment) -> Result<Vec<u8>, OpError> {
    encode_stream_op(EntryOp::AssignStream, sa)
}

/// Port of encodeUpdateStreamAssignment
pub fn encode_update_stream_assignment(sa: &StreamAssignment) -> Result<Vec<u8>, OpError> {
    encode_stream_op(EntryOp::UpdateStream, sa)
}

/// Port of encodeDeleteStreamAssignment
pub fn encode_delete_stream_assignment(sa: &StreamAssignment) -> Result<Vec<u8>, OpError> {
    encode_stream_op(EntryOp::RemoveStream, sa)
}

/// Port of encodeAddConsumerAssignment
pub fn encode_add_consumer_assignment(ca: &ConsumerAssignment) -> Result<Vec<u8>, OpError> {
    let mut out = vec![EntryOp::AssignConsumer as u8];
    out.extend(consumer_proposal_json(ca)?);
    Ok(out)
}

/// Port of encodeDeleteConsumerAssignment
pub fn encode_delete_consumer_assignment(ca: &ConsumerAssignment) -> Result<Vec<u8>, OpError> {
    let mut out = vec![EntryOp::RemoveConsumer as u8];
    out.extend(consumer_proposal_json(ca)?);
    Ok(out)
}

/// Port of encodeAddConsumerAssignmentCompressed
///
/// The JSON is framed as an S2 stream after the op byte.
pub fn encode_add_consumer_assignment_compressed(ca: &ConsumerAssignment) -> Result<Vec<u8>, OpError> {
    let mut out = vec![EntryOp::AssignCompressedConsumer as u8];
    out.extend(s2::stream::encode_stream(&consumer_proposal_json(ca)?));
    Ok(out)
}

/// Port of decodeStreamAssignmentConfig
///
/// Fills `sa.config` from `sa.config_json` and flags unsupported configs.
pub fn decode_stream_assignment_config(sa: &mut StreamAssignment) -> Result<(), OpError> {
    let d = decode_stream_config(sa.config_json.get())?;
    sa.config = Some(d.config);
    sa.unsupported = d.unsupported.map(|reason| UnsupportedAssignment { reason });
    Ok(())
}

/// Port of decodeConsumerAssignmentConfig
pub fn decode_consumer_assignment_config(ca: &mut ConsumerAssignment) -> Result<(), OpError> {
    let d = decode_consumer_config(ca.config_json.get())?;
    ca.config = Some(d.config);
    ca.unsupported = d.unsupported.map(|reason| UnsupportedAssignment { reason });
    Ok(())
}

/// Port of decodeStreamAssignment
pub fn decode_stream_assignment(buf: &[u8]) -> Result<StreamAssignment, OpError> {
    let mut sa: StreamAssignment = serde_json::from_slice(buf)?;
    decode_stream_assignment_config(&mut sa)?;
    Ok(sa)
}

/// Port of decodeConsumerAssignment
pub fn decode_consumer_assignment(buf: &[u8]) -> Result<ConsumerAssignment, OpError> {
    let mut ca: ConsumerAssignment = serde_json::from_slice(buf)?;
    decode_consumer_assignment_config(&mut ca)?;
    Ok(ca)
}

/// Port of decodeConsumerAssignmentCompressed
///
/// Reads the first JSON value of the S2 stream, as Go's stream decoder does.
pub fn decode_consumer_assignment_compressed(buf: &[u8]) -> Result<ConsumerAssignment, OpError> {
    let json = s2::stream::decode_stream(buf)?;
    let mut de = serde_json::Deserializer::from_slice(&json).into_iter::<Box<RawValue>>();
    let first = de.next().ok_or(OpError::Empty)??;
    decode_consumer_assignment(first.get().as_bytes())
}

/// Decodes a meta-group entry into its assignment op: the dispatch on the op
/// byte shared by `applyMetaEntries` and `collectStreamAndConsumerChanges`.
/// Upstream panics on an unknown op; here it is an error.
pub fn decode_meta_op(buf: &[u8]) -> Result<MetaOp, OpError> {
    let (&b, body) = buf.split_first().ok_or(OpError::Empty)?;
    let op = EntryOp::try_from(b)?;
    Ok(match op {
        EntryOp::AssignStream => MetaOp::AssignStream(decode_stream_assignment(body)?),
        EntryOp::UpdateStream => MetaOp::UpdateStream(decode_stream_assignment(body)?),
        EntryOp::RemoveStream => MetaOp::RemoveStream(decode_stream_assignment(body)?),
        EntryOp::AssignConsumer => MetaOp::AssignConsumer(decode_consumer_assignment(body)?),
        EntryOp::AssignCompressedConsumer => {
            MetaOp::AssignCompressedConsumer(decode_consumer_assignment_compressed(body)?)
        }
        EntryOp::RemoveConsumer => MetaOp::RemoveConsumer(decode_consumer_assignment(body)?),
        other => return Err(OpError::NotMetaOp(other)),
    })
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
