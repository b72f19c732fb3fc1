//! Recovering the meta layer's assignments from a server's meta-group
//! directory (`<store_dir>/$SYS/_js_/_meta_`): the ported raft node is
//! started offline on it ([`crate::raft_log`]), and the committed entries it
//! hands up —
//! the latest meta snapshot first, then the stream and consumer ops after
//! it — go through the meta layer's recovery path: staged while replaying,
//! applied when the end-of-replay marker arrives, as `monitorCluster` does.
//!
//! Two calls stand in for code another part of the port owns:
//! [`apply_meta_entries_recovering`] for `(*jetStream).applyMetaEntries`
//! (called once, in [`recover_meta`]'s replay loop), and
//! [`apply_recovery_updates`] for the map effects of the `process*`
//! handlers `monitorCluster` runs at the end of replay (called once, right
//! after that loop).

use crate::raft::wire::{Entry, EntryType};
use crate::raft_log::{recover_raft_dir, RaftDirFiles, RaftLogError, RaftRecovery};

use super::assignments::{ConsumerAssignment, StreamAssignment};
use super::cluster::{JetStream, StreamMap};
use super::meta_snapshot::MetaSnapshotError;
use super::ops::{decode_meta_op, MetaOp, OpError};
use super::recovery::RecoveryUpdates;
use super::DEFAULT_META_GROUP_NAME;

/// Why the meta layer cannot be recovered; a server fails (or, for a
/// [`MetaWalError::Fatal`] entry, panics) on each of these.
#[derive(Debug, thiserror::Error)]
pub enum MetaWalError {
    /// The raft node cannot be recovered.
    #[error("{0}")]
    Raft(#[from] RaftLogError),
    /// A committed entry is empty or not a meta op (upstream panics).
    #[error("meta entry at index {index}: {source}")]
    Fatal {
        /// Log index of the entry.
        index: u64,
        /// What is wrong with it.
        source: OpError,
    },
}

/// An entry the meta layer could not apply: upstream logs
/// "Error applying JetStream cluster entries", skips the rest of that
/// committed batch and goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyWarning {
    /// Log index of the committed batch.
    pub index: u64,
    /// The error.
    pub error: String,
}

/// The recovered meta layer.
#[derive(Debug, Clone)]
pub struct MetaRecovery {
    /// What the raft replay found.
    pub raft: RaftRecovery,
    /// The recovered stream assignments, consumers nested.
    pub streams: StreamMap,
    /// Batches that failed to apply.
    pub warnings: Vec<ApplyWarning>,
}

// Why one batch failed: fatal for the server, or a logged warning.
enum ApplyError {
    Fatal(OpError),
    Warn(String),
}

impl From<MetaSnapshotError> for ApplyError {
    fn from(e: MetaSnapshotError) -> Self {
        ApplyError::Warn(e.to_string())
    }
}

/// The recovery path of (*jetStream).applyMetaEntries
///
/// Stages one committed batch into `ru`: a snapshot is diffed against the
/// current assignments, each stream or consumer op is decoded and staged;
/// peer changes are ignored while recovering. An empty entry or an op that
/// is not a meta op is fatal (upstream panics); an op that does not decode
/// ends the batch with a warning. Stand-in until the full port of
/// `applyMetaEntries` replaces the one call in [`recover_meta`].
fn apply_meta_entries_recovering(js: &JetStream, entries: &[Entry], ru: &mut RecoveryUpdates) -> Result<(), ApplyError> {
    for e in entries {
        match e.typ {
            EntryType::Catchup => return Ok(()),
            EntryType::Snapshot => {
                js.apply_meta_snapshot(&e.data, ru, true)?;
            }
            EntryType::AddPeer | EntryType::RemovePeer => {}
            _ => {
                let op = decode_meta_op(&e.data).map_err(|err| match err {
                    OpError::Empty | OpError::UnknownOp(_) | OpError::NotMetaOp(_) => ApplyError::Fatal(err),
                    other => ApplyError::Warn(format!("JetStream cluster failed to decode meta entry: {other}")),
                })?;
                match op {
                    MetaOp::AssignStream(mut sa) => {
                        JetStream::set_stream_assignment_recovering(&mut sa);
                        ru.add_stream(sa);
                    }
                    MetaOp::RemoveStream(mut sa) => {
                        JetStream::set_stream_assignment_recovering(&mut sa);
                        ru.remove_stream(sa);
                    }
                    MetaOp::UpdateStream(mut sa) => {
                        JetStream::set_stream_assignment_recovering(&mut sa);
                        ru.update_stream(sa);
                    }
                    MetaOp::AssignConsumer(mut ca) | MetaOp::AssignCompressedConsumer(mut ca) => {
                        JetStream::set_consumer_assignment_recovering(&mut ca);
                        ru.add_or_update_consumer(ca);
                    }
                    MetaOp::RemoveConsumer(mut ca) => {
                        JetStream::set_consumer_assignment_recovering(&mut ca);
                        ru.remove_consumer(ca);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The end-of-replay arm of (*jetStream).monitorCluster, as map effects
///
/// Applies what recovery staged, in upstream's order: consumer removals,
/// stream removals, stream adds, stream updates, consumer adds and updates.
/// Each step does to the assignment maps what its `process*` handler does
/// (the handlers' stream and consumer creation belongs to the stream layer
/// and is not part of this): a stream add or update keeps the consumers of
/// the assignment it replaces, an update of an unknown stream is dropped, a
/// consumer of an unknown stream is dropped, and a consumer removal only
/// removes a consumer in the same raft group.
pub fn apply_recovery_updates(js: &mut JetStream, ru: RecoveryUpdates) {
    let Some(cc) = js.cluster.as_mut() else { return };
    let streams = &mut cc.streams;
    for ca in ru.remove_consumers.into_values().flat_map(|m| m.into_values()) {
        process_consumer_removal(streams, &ca);
    }
    for sa in ru.remove_streams.into_values() {
        process_stream_removal(streams, &sa);
    }
    for sa in ru.add_streams.into_values() {
        process_stream_assignment(streams, sa);
    }
    for sa in ru.update_streams.into_values() {
        process_update_stream_assignment(streams, sa);
    }
    for ca in ru.update_consumers.into_values().flat_map(|m| m.into_values()) {
        process_consumer_assignment(streams, ca);
    }
}

// The map effect of (*jetStream).processStreamAssignment.
fn process_stream_assignment(streams: &mut StreamMap, mut sa: StreamAssignment) {
    let account = streams.entry(sa.account().to_string()).or_default();
    if let Some(osa) = account.remove(sa.name()) {
        sa.consumers = osa.consumers;
        sa.responded = osa.responded;
        sa.err = osa.err;
        if sa.unsupported.is_none() {
            sa.unsupported = osa.unsupported;
        }
    }
    account.insert(sa.name().to_string(), sa);
}

// The map effect of (*jetStream).processUpdateStreamAssignment.
fn process_update_stream_assignment(streams: &mut StreamMap, mut sa: StreamAssignment) {
    let Some(account) = streams.get_mut(sa.account()) else { return };
    let Some(osa) = account.remove(sa.name()) else { return };
    sa.consumers = osa.consumers;
    sa.err = osa.err;
    if sa.unsupported.is_none() {
        sa.unsupported = osa.unsupported;
    }
    account.insert(sa.name().to_string(), sa);
}

// The map effect of (*jetStream).processStreamRemoval.
fn process_stream_removal(streams: &mut StreamMap, sa: &StreamAssignment) {
    let Some(account) = streams.get_mut(sa.account()) else { return };
    if account.remove(sa.name()).is_some() && account.is_empty() {
        streams.remove(sa.account());
    }
}

// The map effect of (*jetStream).processConsumerAssignment.
fn process_consumer_assignment(streams: &mut StreamMap, mut ca: ConsumerAssignment) {
    let Some(sa) = streams.get_mut(ca.account()).and_then(|a| a.get_mut(&ca.stream)) else { return };
    if let Some(oca) = sa.consumers.get(&ca.name) {
        ca.responded = oca.responded;
        ca.err = oca.err.clone();
        if ca.unsupported.is_none() {
            ca.unsupported = oca.unsupported.clone();
        }
    }
    ca.state = None;
    sa.consumers.insert(ca.name.clone(), ca);
}

// The map effect of (*jetStream).processConsumerRemoval.
fn process_consumer_removal(streams: &mut StreamMap, ca: &ConsumerAssignment) {
    let Some(sa) = streams.get_mut(ca.account()).and_then(|a| a.get_mut(&ca.stream)) else { return };
    let same_group = match (sa.consumers.get(&ca.name).and_then(|o| o.group.as_ref()), ca.group.as_ref()) {
        (Some(og), Some(g)) => og.name == g.name,
        _ => false,
    };
    if same_group {
        sa.consumers.remove(&ca.name);
    }
}

/// Recovers the meta layer from the meta group's directory files: the
/// assignments a server started on this directory holds once its meta
/// layer has replayed what its own log shows committed, before it hears
/// from any other server.
pub fn recover_meta(files: &RaftDirFiles) -> Result<MetaRecovery, MetaWalError> {
    let raft = recover_raft_dir(DEFAULT_META_GROUP_NAME, files)?;
    let mut js = JetStream::clustered();
    js.set_meta_recovering();
    let mut ru = RecoveryUpdates::new();
    let mut warnings = Vec::new();
    for ce in &raft.committed {
        match apply_meta_entries_recovering(&js, &ce.entries, &mut ru) {
            Ok(()) => {}
            Err(ApplyError::Warn(error)) => warnings.push(ApplyWarning { index: ce.index, error }),
            Err(ApplyError::Fatal(source)) => return Err(MetaWalError::Fatal { index: ce.index, source }),
        }
    }
    apply_recovery_updates(&mut js, ru);
    js.clear_meta_recovering();
    let streams = js.cluster.map(|cc| cc.streams).unwrap_or_default();
    Ok(MetaRecovery { raft, streams, warnings })
}

#[cfg(test)]
#[path = "meta_wal_tests.rs"]
mod tests;
