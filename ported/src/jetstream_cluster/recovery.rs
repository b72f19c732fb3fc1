//! Changes staged while the meta layer replays its log at startup, applied
//! once replay has finished (upstream's `recoveryUpdates`).

use std::collections::BTreeMap;

use super::assignments::{ConsumerAssignment, StreamAssignment};

/// Staged stream and consumer changes, keyed by recovery key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecoveryUpdates {
    /// Streams to remove, by stream recovery key.
    pub remove_streams: BTreeMap<String, StreamAssignment>,
    /// Consumers to remove: stream key → consumer key → assignment.
    pub remove_consumers: BTreeMap<String, BTreeMap<String, ConsumerAssignment>>,
    /// Streams to add, by stream recovery key.
    pub add_streams: BTreeMap<String, StreamAssignment>,
    /// Streams to update, by stream recovery key.
    pub update_streams: BTreeMap<String, StreamAssignment>,
    /// Consumers to add or update: stream key → consumer key → assignment.
    pub update_consumers: BTreeMap<String, BTreeMap<String, ConsumerAssignment>>,
}

impl RecoveryUpdates {
    /// An empty set of changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Port of (*recoveryUpdates).removeStream
    ///
    /// Staging a removal drops every pending add/update of the stream and
    /// of its consumers.
    pub fn remove_stream(&mut self, sa: StreamAssignment) {
        let key = sa.recovery_key();
        self.add_streams.remove(&key);
        self.update_streams.remove(&key);
        self.update_consumers.remove(&key);
        self.remove_consumers.remove(&key);
        self.remove_streams.insert(key, sa);
    }

    /// Port of (*recoveryUpdates).addStream
    pub fn add_stream(&mut self, sa: StreamAssignment) {
        self.add_streams.insert(sa.recovery_key(), sa);
    }

    /// Port of (*recoveryUpdates).updateStream
    pub fn update_stream(&mut self, sa: StreamAssignment) {
        self.update_streams.insert(sa.recovery_key(), sa);
    }

    /// Port of (*recoveryUpdates).removeConsumer
    pub fn remove_consumer(&mut self, ca: ConsumerAssignment) {
        let key = ca.recovery_key();
        let skey = ca.stream_recovery_key();
        if let Some(pending) = self.update_consumers.get_mut(&skey) {
            pending.remove(&key);
        }
        self.remove_consumers.entry(skey).or_default().insert(key, ca);
    }

    /// Port of (*recoveryUpdates).addOrUpdateConsumer
    pub fn add_or_update_consumer(&mut self, ca: ConsumerAssignment) {
        let key = ca.recovery_key();
        let skey = ca.stream_recovery_key();
        self.update_consumers.entry(skey).or_default().insert(key, ca);
    }
}

#[cfg(test)]
#[path = "recovery_tests.rs"]
mod tests;
