//! The health check of a stream group this server runs (`isStreamHealthy`,
//! what `healthz` asks of every assigned stream): the assignment and its
//! group, the stream in the runtime, the group's node against the stream's,
//! write errors, the monitor and the node's own `Healthy()`, on the
//! simulated clock.

use crate::raft::env::LogLevel;

use super::assignments::StreamAssignment;
use super::js::JetStreamCtx;

/// Why a stream is not healthy; the texts are upstream's error strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamHealthError {
    #[error("stream assignment or group missing")]
    AssignmentOrGroupMissing,
    #[error("stream not found")]
    StreamNotFound,
    #[error("group node missing")]
    GroupNodeMissing,
    #[error("stream node missing")]
    StreamNodeMissing,
    #[error("cluster node skew detected")]
    NodeSkew,
    #[error("node write error: {0}")]
    NodeWriteError(String),
    #[error("monitor goroutine not running")]
    MonitorNotRunning,
    #[error("group node unhealthy")]
    GroupNodeUnhealthy,
}

impl JetStreamCtx {
    /// Port of (*jetStream).isStreamHealthy
    ///
    /// Healthy when the assignment is unsupported or we are not clustered;
    /// otherwise the stream must run here, and a replicated one must have
    /// the assignment's group node as its own node (a skew is logged and
    /// reported, never repaired: the check changes nothing), no write error
    /// on that node, a running monitor, and a node whose `Healthy()` holds.
    /// `acc` is the account's name (upstream passes the `*Account`).
    ///
    /// Differences from Go, both because the port lacks what they read:
    /// the stream's own write error (`mset.getWriteErr`, checked after the
    /// node's) is left out, as `setWriteErr` is not ported (a stream whose
    /// apply fails stops its monitor, which this check then reports); and
    /// the catching-up check (`mset.isCatchingUp`, before `Healthy()`) is
    /// left out, as there is no stream catch-up (batch 35) to set it.
    pub fn is_stream_healthy(&self, acc: &str, sa: Option<&StreamAssignment>) -> Result<(), StreamHealthError> {
        let (name, node) = {
            let st = self.st.borrow();
            if sa.is_some_and(|sa| sa.unsupported.is_some()) {
                return Ok(());
            }
            if st.cluster.is_none() {
                return Ok(());
            }
            let Some((sa, rg)) = sa.and_then(|sa| Some((sa, sa.group.as_ref()?))) else {
                return Err(StreamHealthError::AssignmentOrGroupMissing);
            };
            (sa.name().to_string(), rg.node.clone())
        };
        let mset = self.runtime.stream_health(acc, &name).ok_or(StreamHealthError::StreamNotFound)?;
        let nrg_werr = node.as_ref().and_then(|n| n.write_err());
        if mset.replicas <= 1 {
            return Ok(());
        }
        let node = node.ok_or(StreamHealthError::GroupNodeMissing)?;
        // The stream's node may not be set up yet.
        let mset_node = mset.node.ok_or(StreamHealthError::StreamNodeMissing)?;
        if !node.same_node(&mset_node) {
            self.srv.log(LogLevel::Warn, &format!("Detected stream cluster node skew '{acc} > {name}'"));
            return Err(StreamHealthError::NodeSkew);
        }
        if let Some(e) = nrg_werr {
            return Err(StreamHealthError::NodeWriteError(e.to_string()));
        }
        if !mset.monitor_running {
            return Err(StreamHealthError::MonitorNotRunning);
        }
        if !node.healthy() {
            return Err(StreamHealthError::GroupNodeUnhealthy);
        }
        Ok(())
    }
}
