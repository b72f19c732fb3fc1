//! The JetStream context of one server (upstream's `*jetStream` as the
//! cluster code uses it): the injected server, the state upstream guards
//! with `js.mu` (a `RefCell` here, borrowed for the same spans), the stream
//! runtime, and the accessors of batch 32 that read them.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::raft::env::Timestamp;

use super::assignments::RaftGroup;
use super::cluster::JetStream;
use super::node::NodeHandle;
use super::runtime::StreamRuntime;
use super::server::ServerEnv;

/// Go's `lostQuorumIntervalDefault`: how long a group may be leaderless
/// before it is reported as such.
pub const LOST_QUORUM_INTERVAL_DEFAULT: Duration = Duration::from_secs(10);

/// A one-shot signal standing in for a Go channel that is closed to wake
/// every listener (`qch`, `stopped`). Clones share the signal.
#[derive(Debug, Clone, Default)]
pub struct Signal(Rc<Cell<bool>>);

impl Signal {
    /// An open signal.
    pub fn new() -> Self {
        Signal::default()
    }
    /// Closes it (Go: `close(ch)`).
    pub fn close(&self) {
        self.0.set(true);
    }
    /// Whether it was closed (Go: a receive would not block).
    pub fn is_closed(&self) -> bool {
        self.0.get()
    }
}

impl PartialEq for Signal {
    /// Signals are equal when they are the same channel.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// JetStream's static configuration (Go: `JetStreamConfig`, the fields the
/// meta layer reads).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JetStreamConfig {
    /// Storage root.
    pub store_dir: String,
    /// JetStream domain.
    pub domain: String,
}

/// One server's JetStream (Go: `jetStream`).
pub struct JetStreamCtx {
    /// The server (Go: `js.srv`).
    pub srv: Rc<dyn ServerEnv>,
    /// What `js.mu` guards upstream.
    pub st: RefCell<JetStream>,
    /// The stream and consumer runtime.
    pub runtime: Rc<dyn StreamRuntime>,
    /// Static configuration.
    pub config: JetStreamConfig,
    /// When JetStream finished starting (Go: `js.started`).
    pub started: Cell<Timestamp>,
    /// Go: `js.shuttingDown`.
    pub shutting_down: Cell<bool>,
    /// Go: `js.disabled`.
    pub disabled: Cell<bool>,
    /// The accounts JetStream is enabled for (Go: `js.accounts`); see
    /// [`super::accounts`].
    pub accounts: RefCell<BTreeMap<String, Rc<super::accounts::JsAccount>>>,
}

impl std::fmt::Debug for JetStreamCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamCtx").field("server", &self.srv.name()).field("config", &self.config).finish()
    }
}

impl JetStreamCtx {
    /// A JetStream context for `srv`, not yet clustered.
    pub fn new(srv: Rc<dyn ServerEnv>, runtime: Rc<dyn StreamRuntime>, config: JetStreamConfig) -> Rc<Self> {
        let now = srv.now();
        Rc::new(JetStreamCtx {
            srv,
            st: RefCell::new(JetStream::default()),
            runtime,
            config,
            started: Cell::new(now),
            shutting_down: Cell::new(false),
            disabled: Cell::new(false),
            accounts: RefCell::new(BTreeMap::new()),
        })
    }

    /// Port of (*jetStream).server
    pub fn server(&self) -> Rc<dyn ServerEnv> {
        self.srv.clone()
    }

    /// Port of (*jetStream).getMetaGroup
    pub fn get_meta_group(&self) -> Option<NodeHandle> {
        self.st.borrow().cluster.as_ref()?.meta.clone()
    }

    /// Port of (*jetStream).isShuttingDown
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.get()
    }

    /// Port of (*jetStream).setStarted
    pub fn set_started(&self) {
        self.started.set(self.srv.now());
    }

    /// Port of (*jetStream).clusterQuitC
    ///
    /// The signal that pops the meta monitor out; `None` when not clustered
    /// or after JetStream shut down.
    pub fn cluster_quit_c(&self) -> Option<Signal> {
        self.st.borrow().cluster.as_ref()?.qch.clone()
    }

    /// Port of (*jetStream).clusterStoppedC
    ///
    /// The signal the meta monitor closes once it has stopped.
    pub fn cluster_stopped_c(&self) -> Option<Signal> {
        self.st.borrow().cluster.as_ref()?.stopped.clone()
    }

    /// Port of (*jetStream).isLeaderless
    ///
    /// True when the meta group has no leader and has existed longer than
    /// the lost-quorum interval.
    pub fn is_leaderless(&self) -> bool {
        let Some(meta) = self.get_meta_group() else { return false };
        meta.leaderless() && self.srv.now().since(meta.created()) > LOST_QUORUM_INTERVAL_DEFAULT
    }

    /// Port of (*jetStream).isGroupLeaderless
    ///
    /// Only a member with a running group node can tell; a group that had
    /// a leader counts after the 10s start-up threshold, any group after the
    /// lost-quorum interval.
    pub fn is_group_leaderless(&self, rg: Option<&RaftGroup>) -> bool {
        let Some(rg) = rg else { return false };
        let (meta, started) = {
            let st = self.st.borrow();
            // Upstream dereferences the cluster unchecked.
            let Some(cc) = st.cluster.as_ref() else { return false };
            (cc.meta.clone(), self.started.get())
        };
        let Some(meta) = meta else { return false };
        if !RaftGroup::is_member(Some(rg), &meta.id()) {
            return false;
        }
        let Some(node) = rg.node.clone() else { return false };
        if node.leaderless() {
            const STARTUP_THRESHOLD: Duration = Duration::from_secs(10);
            let now = self.srv.now();
            if node.had_previous_leader() && now.since(started) > STARTUP_THRESHOLD {
                return true;
            }
            if now.since(node.created()) > LOST_QUORUM_INTERVAL_DEFAULT {
                return true;
            }
        }
        false
    }

    /// [`JetStream::set_meta_recovering`] under the context's lock.
    pub fn set_meta_recovering(&self) {
        self.st.borrow_mut().set_meta_recovering();
    }

    /// [`JetStream::clear_meta_recovering`] under the context's lock.
    pub fn clear_meta_recovering(&self) {
        self.st.borrow_mut().clear_meta_recovering();
    }

    /// [`JetStream::is_meta_recovering`] under the context's lock.
    pub fn is_meta_recovering(&self) -> bool {
        self.st.borrow().is_meta_recovering()
    }
}

#[cfg(test)]
#[path = "js_tests.rs"]
mod tests;
