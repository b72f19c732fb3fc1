//! Bringing a meta snapshot up to date from a raft snapshot checkpoint: the
//! meta entries the checkpoint will compact away are folded into the
//! assignments decoded from the previous snapshot.

use crate::raft::RaftError;

use super::cluster::{JetStream, StreamMap};
use super::node::{EntryType, RaftNodeCheckpoint};
use super::ops::{decode_meta_op, MetaOp, OpError};
use super::recovery::RecoveryUpdates;

/// Why the checkpoint's entries could not be folded into the snapshot.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// Reading the checkpoint's entries failed, or the checkpoint was
    /// aborted while they were read.
    #[error("reading snapshot checkpoint entries: {0}")]
    Checkpoint(#[from] RaftError),
    /// A normal entry is not a stream or consumer assignment op that can be
    /// decoded (upstream panics here).
    #[error("JetStream cluster failed to decode meta entry at index {index}: {source}")]
    Decode {
        /// Log index of the append entry holding it.
        index: u64,
        /// What was wrong with it.
        source: OpError,
    },
}

impl JetStream {
    /// Port of (*jetStream).collectStreamAndConsumerChanges
    ///
    /// `streams` is the meta snapshot decoded at the checkpoint's previous
    /// index; the normal entries the checkpoint covers after it are staged
    /// like a replay (a later change of a stream or consumer replaces an
    /// earlier one, a removal drops what was staged before it; stream
    /// updates stage as adds), then applied in upstream's order: consumer
    /// removals, stream removals, stream adds (keeping the consumers of the
    /// assignment they replace), then consumer adds and updates of streams
    /// that exist. Other entry types are skipped. On any error `streams` is
    /// left as it was; an undecodable entry is an error here where upstream
    /// panics.
    pub fn collect_stream_and_consumer_changes(
        c: &dyn RaftNodeCheckpoint,
        streams: &mut StreamMap,
    ) -> Result<(), CollectError> {
        let mut ru = RecoveryUpdates::new();
        for item in c.append_entries_seq() {
            let ae = item?;
            for e in ae.entries.iter().filter(|e| e.typ == EntryType::Normal) {
                let op = decode_meta_op(&e.data).map_err(|source| CollectError::Decode { index: ae.pindex + 1, source })?;
                match op {
                    MetaOp::AssignStream(sa) | MetaOp::UpdateStream(sa) => ru.add_stream(sa),
                    MetaOp::RemoveStream(sa) => ru.remove_stream(sa),
                    MetaOp::AssignConsumer(ca) | MetaOp::AssignCompressedConsumer(ca) => ru.add_or_update_consumer(ca),
                    MetaOp::RemoveConsumer(ca) => ru.remove_consumer(ca),
                }
            }
        }

        for ca in ru.remove_consumers.values().flat_map(|cas| cas.values()) {
            if let Some(sa) = streams.get_mut(ca.account()).and_then(|asa| asa.get_mut(&ca.stream)) {
                sa.consumers.remove(&ca.name);
            }
        }
        for sa in ru.remove_streams.values() {
            if let Some(asa) = streams.get_mut(sa.account()) {
                asa.remove(sa.name());
            }
        }
        for mut sa in ru.add_streams.into_values() {
            let asa = streams.entry(sa.account().to_string()).or_default();
            if let Some(osa) = asa.remove(sa.name()) {
                sa.consumers = osa.consumers;
            }
            asa.insert(sa.name().to_string(), sa);
        }
        for ca in ru.update_consumers.into_values().flat_map(|cas| cas.into_values()) {
            if let Some(sa) = streams.get_mut(ca.account()).and_then(|asa| asa.get_mut(&ca.stream)) {
                sa.consumers.insert(ca.name.clone(), ca);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
