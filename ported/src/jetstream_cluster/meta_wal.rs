//! Recovering the meta layer's assignments from a server's meta-group
//! directory (`<store_dir>/$SYS/_js_/_meta_`): the ported raft node is
//! started offline on it ([`crate::raft_log`]), and the committed entries it
//! hands up —
//! the latest meta snapshot first, then the stream and consumer ops after
//! it — go through the meta layer's own recovery path
//! ([`JetStreamCtx::apply_meta_entries`] staging into recovery updates,
//! applied by [`JetStreamCtx::process_recovery_updates`] as `monitorCluster`
//! does at the end-of-replay marker), on an offline server context.

use crate::raft_log::{recover_raft_dir, RaftDirFiles, RaftLogError, RaftRecovery};

use super::apply::ApplyError;
use super::cluster::StreamMap;
use super::js::JetStreamCtx;
use super::ops::OpError;
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

/// Recovers the meta layer from the meta group's directory files: the
/// assignments a server started on this directory holds once its meta
/// layer has replayed what its own log shows committed, before it hears
/// from any other server.
pub fn recover_meta(files: &RaftDirFiles) -> Result<MetaRecovery, MetaWalError> {
    let raft = recover_raft_dir(DEFAULT_META_GROUP_NAME, files)?;
    // The directory does not say which peer wrote it; membership only
    // decides which groups this server would run, not the assignments.
    let (js, _srv) = JetStreamCtx::offline("");
    let mut ru = RecoveryUpdates::new();
    let mut warnings = Vec::new();
    for ce in &raft.committed {
        let (_, _, res) = js.apply_meta_entries(&ce.entries, Some(&mut ru));
        match res {
            Ok(()) => {}
            // Upstream panics on an empty entry or an op that is not a meta
            // op; every other error is logged and the batch's rest skipped.
            Err(ApplyError::Op(source @ (OpError::Empty | OpError::UnknownOp(_) | OpError::NotMetaOp(_)))) => {
                return Err(MetaWalError::Fatal { index: ce.index, source })
            }
            Err(error) => warnings.push(ApplyWarning { index: ce.index, error: error.to_string() }),
        }
    }
    js.process_recovery_updates(ru);
    js.clear_meta_recovering();
    let streams: StreamMap = js.st.borrow().cluster.as_ref().map(|cc| cc.streams.clone()).unwrap_or_default();
    Ok(MetaRecovery { raft, streams, warnings })
}

#[cfg(test)]
#[path = "meta_wal_tests.rs"]
mod tests;
