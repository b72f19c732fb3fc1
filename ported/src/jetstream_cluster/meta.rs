//! Starting and stopping the meta group: `enableJetStreamClustering`,
//! `setupMetaGroup` (bootstrap or recovery of the meta node, the cluster
//! state, the meta monitor) and the cluster part of JetStream's shutdown.

use std::rc::Rc;

use crate::peer_state::ExtensionState;
use crate::raft::env::{join, LogLevel};

use super::cluster::JetStreamCluster;
use super::errors::ApiError;
use super::js::JetStreamCtx;
use super::monitor::MetaMonitor;
use super::server::ServerEnv;
use super::DEFAULT_META_GROUP_NAME;

/// Go: `defaultStoreDirName`.
pub const DEFAULT_STORE_DIR_NAME: &str = "_js_";

/// Why the meta group could not be set up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SetupError {
    /// JetStream is not enabled on the server.
    #[error("{0}")]
    Api(ApiError),
    /// The server has no system account (Go: `ErrNoSysAccount`).
    #[error("system account not setup")]
    NoSysAccount,
    /// A clustering precondition failed.
    #[error("{0}")]
    Config(String),
    /// Writing the peer state or starting the node failed.
    #[error("{0}")]
    Raft(#[from] crate::raft::RaftError),
}

/// The meta group's store directory under the JetStream root (Go:
/// `<StoreDir>/<sys account>/_js_/_meta_`).
pub fn meta_store_dir(store_dir: &str, sys_account: &str) -> String {
    join(&join(&join(store_dir, sys_account), DEFAULT_STORE_DIR_NAME), DEFAULT_META_GROUP_NAME)
}

impl dyn ServerEnv + '_ {
    /// Port of (*Server).enableJetStreamClustering
    ///
    /// Checks that the server can cluster (a fixed cluster name and
    /// configured routes, unless a leaf node shares the system account) and
    /// sets up the meta group; returns its monitor for the host to run
    /// (upstream starts it as a goroutine). `None` when not running or
    /// already clustered.
    pub fn enable_jet_stream_clustering(&self) -> Result<Option<MetaMonitor>, SetupError> {
        if !self.is_running() {
            return Ok(None);
        }
        let js = self.jet_stream().ok_or(SetupError::Api(ApiError::not_enabled_for_account()))?;
        if js.st.borrow().cluster.is_some() {
            return Ok(None);
        }
        self.log(LogLevel::Debug, "Starting JetStream cluster");
        let has_leaf_node_system_share = self.can_extend_other_domain();
        if self.is_cluster_name_dynamic() && !has_leaf_node_system_share {
            return Err(SetupError::Config("JetStream cluster requires cluster name".into()));
        }
        if self.configured_routes() == 0 && !has_leaf_node_system_share {
            return Err(SetupError::Config(
                "JetStream cluster requires configured routes or solicited leafnode for the system account".into(),
            ));
        }
        js.setup_meta_group().map(Some)
    }
}

impl JetStreamCtx {
    /// Port of (*jetStream).setupMetaGroup
    ///
    /// Bootstraps the meta group's peer state from the active peers when
    /// none is on disk (and campaigns early), or keeps what is there
    /// (resetting the recorded domain extension state); starts the meta
    /// node recovering, installs the cluster state and returns the meta
    /// monitor with the meta layer marked recovering. The WAL is the host's
    /// file WAL, a stand-in for upstream's filestore.
    pub fn setup_meta_group(self: &Rc<Self>) -> Result<MetaMonitor, SetupError> {
        let s = &self.srv;
        s.log(LogLevel::Debug, "Creating JetStream metadata controller");
        let sys = s.system_account().ok_or(SetupError::NoSysAccount)?;
        let store_dir = meta_store_dir(&self.config.store_dir, &sys);

        // Observer mode extends another domain through a leaf node; with no
        // leaf nodes modelled it only follows can_extend_other_domain.
        let mut observer = s.can_extend_other_domain();
        let mut bootstrap = false;
        match s.read_peer_state(&store_dir) {
            Err(_) => {
                s.log(LogLevel::Debug, "JetStream cluster bootstrapping");
                bootstrap = true;
                let peers = s.active_peers();
                s.log(LogLevel::Debug, &format!("JetStream cluster initial peers: {peers:?}"));
                s.bootstrap_raft_node(&store_dir, &peers, false)?;
            }
            Ok(mut ps) => {
                s.log(LogLevel::Debug, "JetStream cluster recovering state");
                if observer {
                    if ps.domain_ext == ExtensionState::NOT_EXTENDED {
                        observer = false;
                    }
                } else {
                    ps.domain_ext = ExtensionState::UNDETERMINED;
                    s.write_peer_state(&store_dir, &ps)?;
                }
            }
        }

        let n = match s.start_raft_node(&sys, DEFAULT_META_GROUP_NAME, &store_dir, true, observer) {
            Ok(n) => n,
            Err(e) => {
                s.log(LogLevel::Warn, &format!("Could not start metadata controller: {e}"));
                return Err(e.into());
            }
        };
        if bootstrap {
            let _ = n.campaign();
        }

        {
            let mut st = self.st.borrow_mut();
            st.cluster = Some(JetStreamCluster::with_meta(n));
            // Set before the monitor starts.
            st.meta_recovering = true;
        }
        Ok(MetaMonitor::new(self.clone()))
    }

    /// The cluster part of (*Server).shutdownJetStream: mark JetStream as
    /// shutting down, drop the leader-only subscriptions and the meta node,
    /// clear the clustered flag and close the monitor's quit signal. The
    /// caller then runs the monitor to its exit (upstream waits up to 10s
    /// on `stopped`).
    pub fn shutdown_cluster(&self) {
        self.shutting_down.set(true);
        let qch = {
            let mut st = self.st.borrow_mut();
            let Some(cc) = st.cluster.as_mut() else { return };
            let qch = cc.qch.take();
            cc.stopped = None;
            if let Some(sid) = cc.stepdown.take() {
                self.srv.sys_unsubscribe(sid);
            }
            cc.meta = None;
            qch
        };
        self.srv.set_js_clustered(false);
        if let Some(q) = qch {
            q.close();
        }
    }
}

impl JetStreamCtx {
    /// Port of (*jetStream).checkForOrphans
    ///
    /// Once we follow a healthy meta leader, deletes the streams and
    /// consumers recovered from disk that have no assignment. Finding and
    /// deleting them is the stream runtime's (`getOrphans`, `mset.delete`,
    /// `o.delete`).
    pub fn check_for_orphans(&self) {
        let s = &self.srv;
        let orphans = {
            let st = self.st.borrow();
            let Some(cc) = st.cluster.as_ref() else { return };
            s.log(LogLevel::Debug, "JetStream cluster checking for orphans");
            let Some(meta) = cc.meta.as_ref().filter(|m| !m.leaderless()) else {
                s.log(LogLevel::Debug, "JetStream cluster skipping check for orphans, no meta-leader");
                return;
            };
            if !meta.healthy() {
                s.log(LogLevel::Debug, "JetStream cluster skipping check for orphans, not current with the meta-leader");
                return;
            }
            self.runtime.get_orphans(&cc.streams)
        };
        for (acc, stream) in orphans.streams {
            s.log(LogLevel::Warn, &format!("Detected orphaned stream '{acc} > {stream}', will cleanup"));
            if let Err(e) = self.runtime.delete_stream(self, &acc, &stream) {
                s.log(LogLevel::Warn, &format!("Deleting stream encountered an error: {e}"));
            }
        }
        for (acc, stream, consumer, durable) in orphans.consumers {
            let msg = format!("Detected orphaned {}consumer '{acc} > {stream} > {consumer}', will cleanup", if durable { "durable " } else { "" });
            s.log(if durable { LogLevel::Warn } else { LogLevel::Debug }, &msg);
            if let Err(e) = self.runtime.delete_consumer(self, &acc, &stream, &consumer) {
                s.log(LogLevel::Warn, &format!("Deleting consumer encountered an error: {e}"));
            }
        }
    }
}

#[cfg(test)]
#[path = "meta_tests.rs"]
mod tests;
