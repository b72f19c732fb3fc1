//! Meta snapshots: every stream assignment with its consumers, as a JSON
//! array of writeable assignments compressed as one S2 block; and applying a
//! snapshot as a diff against the current assignments.

use super::assignments::{
    ClientInfo, ConsumerAssignment, StreamAssignment, WriteableConsumerAssignment,
    WriteableStreamAssignment,
};
use super::cluster::{JetStream, StreamMap};
use super::ops::{decode_consumer_assignment_config, decode_stream_assignment_config, OpError};
use super::recovery::RecoveryUpdates;
use crate::s2;

/// Errors decoding or encoding a meta snapshot.
#[derive(Debug, thiserror::Error)]
pub enum MetaSnapshotError {
    #[error("meta snapshot: {0}")]
    S2(#[from] s2::S2Error),
    #[error("meta snapshot json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("meta snapshot assignment: {0}")]
    Assignment(#[from] OpError),
}

/// An encoded meta snapshot and what went into it. The default is the
/// snapshot of no streams, encoded at the epoch in no time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodedMetaSnapshot {
    /// S2 block of the JSON; empty when there are no streams.
    pub data: Vec<u8>,
    /// Number of stream assignments.
    pub streams: usize,
    /// Number of consumer assignments.
    pub consumers: usize,
    /// When encoding started, Unix nanoseconds.
    pub started_unix_nanos: i64,
    /// How long encoding took, nanoseconds.
    pub took_nanos: i64,
}

/// One step of applying a meta snapshot outside recovery, in upstream's
/// order; the caller runs the matching `process*` handler.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaAction {
    /// `processStreamRemoval`
    RemoveStream(StreamAssignment),
    /// `processStreamAssignment` (consumers attached)
    AddStream(StreamAssignment),
    /// `processUpdateStreamAssignment`
    UpdateStream(StreamAssignment),
    /// `processConsumerRemoval`
    RemoveConsumer(ConsumerAssignment),
    /// `processConsumerAssignment`
    AddConsumer(ConsumerAssignment),
}

/// Streams and consumers that differ between the current assignments and a
/// snapshot (the first half of `applyMetaSnapshot`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaSnapshotDiff {
    /// Current streams missing from the snapshot.
    pub remove_streams: Vec<StreamAssignment>,
    /// Snapshot streams not present now (with their consumers).
    pub add_streams: Vec<StreamAssignment>,
    /// Snapshot streams present in both (the snapshot's version).
    pub update_streams: Vec<StreamAssignment>,
    /// Current consumers of kept streams that are gone from the snapshot or
    /// were recreated in a different raft group.
    pub remove_consumers: Vec<ConsumerAssignment>,
    /// Every snapshot consumer of the kept streams.
    pub add_consumers: Vec<ConsumerAssignment>,
}

impl JetStream {
    /// Port of (*jetStream).encodeMetaSnapshot
    ///
    /// Clients are reduced to account, service account and cluster. No
    /// streams gives empty data. `now` is the injected clock (Unix
    /// nanoseconds), read at the start and the end to time the encoding;
    /// on the simulator no time passes in between. Timing is returned
    /// rather than stored (see [`JetStream::meta_snapshot`]); the
    /// slow-snapshot warning is not ported.
    pub fn encode_meta_snapshot(streams: &StreamMap, now: &dyn Fn() -> i64) -> Result<EncodedMetaSnapshot, MetaSnapshotError> {
        let started_unix_nanos = now();
        let mut nca = 0;
        let mut out = Vec::with_capacity(streams.values().map(|a| a.len()).sum());
        for sa in streams.values().flat_map(|a| a.values()) {
            let consumers: Vec<WriteableConsumerAssignment> = sa
                .consumers
                .values()
                .map(|ca| WriteableConsumerAssignment {
                    client: ca.client.as_ref().map(ClientInfo::for_assignment_snap),
                    created: ca.created.clone(),
                    name: ca.name.clone(),
                    stream: ca.stream.clone(),
                    config_json: ca.config_json.clone(),
                    group: ca.group.clone(),
                })
                .collect();
            nca += consumers.len();
            out.push(WriteableStreamAssignment {
                client: sa.client.as_ref().map(ClientInfo::for_assignment_snap),
                created: sa.created.clone(),
                config_json: sa.config_json.clone(),
                group: sa.group.clone(),
                sync: sa.sync.clone(),
                consumers,
            });
        }
        let nsa = out.len();
        let data = if out.is_empty() { Vec::new() } else { s2::encode(&crate::go_json::to_vec(&out)?) };
        Ok(EncodedMetaSnapshot {
            data,
            streams: nsa,
            consumers: nca,
            started_unix_nanos,
            took_nanos: now().saturating_sub(started_unix_nanos),
        })
    }

    /// Port of (*jetStream).metaSnapshot
    ///
    /// Encodes the current assignments and records the snapshot's time and
    /// duration for monitoring (upstream stores these atomically under a
    /// read lock; here that needs `&mut self`).
    pub fn meta_snapshot(&mut self, now: &dyn Fn() -> i64) -> Result<EncodedMetaSnapshot, MetaSnapshotError> {
        let empty = StreamMap::new();
        let streams = self.cluster.as_ref().map_or(&empty, |cc| &cc.streams);
        let snap = Self::encode_meta_snapshot(streams, now)?;
        if let Some(cc) = self.cluster.as_mut() {
            cc.last_meta_snap_time = snap.started_unix_nanos;
            cc.last_meta_snap_duration = snap.took_nanos;
        }
        Ok(snap)
    }

    /// Port of (*jetStream).decodeMetaSnapshot
    ///
    /// Rebuilds account → stream → assignment with nested consumers, decoding
    /// every config. Consumers without a stream name take the stream's.
    pub fn decode_meta_snapshot(buf: &[u8]) -> Result<StreamMap, MetaSnapshotError> {
        let wsas: Vec<WriteableStreamAssignment> =
            if buf.is_empty() { Vec::new() } else { serde_json::from_slice(&s2::decode(buf)?)? };
        let mut streams = StreamMap::new();
        for wsa in wsas {
            let mut sa = StreamAssignment {
                client: wsa.client,
                created: wsa.created,
                config_json: wsa.config_json,
                config: None,
                group: wsa.group,
                sync: wsa.sync,
                subject: String::new(),
                reply: String::new(),
                restore: None,
                consumers: Default::default(),
                responded: false,
                recovering: false,
                reassigning: false,
                resetting: false,
                err: None,
                unsupported: None,
            };
            decode_stream_assignment_config(&mut sa)?;
            for wca in wsa.consumers {
                let stream = if wca.stream.is_empty() { sa.name().to_string() } else { wca.stream };
                let mut ca = ConsumerAssignment {
                    client: wca.client,
                    created: wca.created,
                    name: wca.name,
                    stream,
                    config_json: wca.config_json,
                    config: None,
                    group: wca.group,
                    subject: String::new(),
                    reply: String::new(),
                    state: None,
                    responded: false,
                    recovering: false,
                    err: None,
                    unsupported: None,
                };
                decode_consumer_assignment_config(&mut ca)?;
                sa.consumers.insert(ca.name.clone(), ca);
            }
            let account = sa.account().to_string();
            streams.entry(account).or_default().insert(sa.name().to_string(), sa);
        }
        Ok(streams)
    }

    /// The comparison half of (*jetStream).applyMetaSnapshot, as a pure
    /// function of the current assignments and the snapshot's (consumed, so
    /// its assignments move into the result).
    pub fn meta_snapshot_diff(&self, snapshot: StreamMap) -> MetaSnapshotDiff {
        let empty = StreamMap::new();
        let current = self.cluster.as_ref().map_or(&empty, |cc| &cc.streams);
        let mut d = MetaSnapshotDiff::default();
        for (account, asa) in current {
            let nasa = snapshot.get(account);
            for (name, sa) in asa {
                if nasa.and_then(|n| n.get(name)).is_none() {
                    d.remove_streams.push(sa.clone());
                }
            }
        }
        for (account, nasa) in snapshot {
            let asa = current.get(&account);
            for (name, sa) in nasa {
                match asa.and_then(|a| a.get(&name)) {
                    None => d.add_streams.push(sa),
                    Some(_) => d.update_streams.push(sa),
                }
            }
        }
        for sa in &d.update_streams {
            d.add_consumers.extend(sa.consumers.values().cloned());
            let Some(osa) = self.stream_assignment(sa.account(), sa.name()) else { continue };
            for ca in osa.consumers.values() {
                let regrouped = |nca: &ConsumerAssignment| match (&nca.group, &ca.group) {
                    (Some(ng), Some(og)) => ng.name != og.name,
                    _ => false,
                };
                if sa.consumers.get(&ca.name).is_none_or(regrouped) {
                    d.remove_consumers.push(ca.clone());
                }
            }
        }
        d
    }

    /// Port of (*jetStream).applyMetaSnapshot
    ///
    /// Decodes `buf` and diffs it against the current assignments. Every
    /// assignment involved is marked recovering. While recovering, changes
    /// are staged into `ru` (new streams without their consumers, which are
    /// staged separately) and no actions are returned; otherwise the actions
    /// are returned in upstream's order for the caller to run. The orphan
    /// sweep that follows upstream needs the stream store and is not here.
    pub fn apply_meta_snapshot(
        &self,
        buf: &[u8],
        ru: &mut RecoveryUpdates,
        is_recovering: bool,
    ) -> Result<Vec<MetaAction>, MetaSnapshotError> {
        let mut snapshot = Self::decode_meta_snapshot(buf)?;
        for sa in snapshot.values_mut().flat_map(|a| a.values_mut()) {
            Self::set_stream_assignment_recovering(sa);
            sa.consumers.values_mut().for_each(Self::set_consumer_assignment_recovering);
        }
        let mut d = self.meta_snapshot_diff(snapshot);
        d.remove_streams.iter_mut().for_each(Self::set_stream_assignment_recovering);
        d.remove_consumers.iter_mut().for_each(Self::set_consumer_assignment_recovering);

        let mut actions = Vec::new();
        for sa in d.remove_streams {
            if is_recovering { ru.remove_stream(sa) } else { actions.push(MetaAction::RemoveStream(sa)) }
        }
        for mut sa in d.add_streams {
            let consumers: Vec<ConsumerAssignment> = sa.consumers.values().cloned().collect();
            if is_recovering {
                sa.consumers.clear();
                ru.add_stream(sa);
            } else {
                actions.push(MetaAction::AddStream(sa));
            }
            for ca in consumers {
                if is_recovering { ru.add_or_update_consumer(ca) } else { actions.push(MetaAction::AddConsumer(ca)) }
            }
        }
        for sa in d.update_streams {
            if is_recovering { ru.update_stream(sa) } else { actions.push(MetaAction::UpdateStream(sa)) }
        }
        for ca in d.remove_consumers {
            if is_recovering { ru.remove_consumer(ca) } else { actions.push(MetaAction::RemoveConsumer(ca)) }
        }
        for ca in d.add_consumers {
            if is_recovering { ru.add_or_update_consumer(ca) } else { actions.push(MetaAction::AddConsumer(ca)) }
        }
        Ok(actions)
    }
}

#[cfg(test)]
#[path = "meta_snapshot_tests.rs"]
mod tests;
