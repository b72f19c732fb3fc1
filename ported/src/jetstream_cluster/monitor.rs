//! The meta-group monitor (`monitorCluster`) as an explicit step machine.
//!
//! Upstream runs a goroutine that `select`s over the server's quit channel,
//! the raft node's quit channel, the cluster quit channel, the apply queue,
//! leader changes and three tickers (compaction, health, cold-boot leader
//! check), plus side goroutines and timers it starts (the asynchronous
//! snapshot, the orphan check 30s after recovery, health checks). Here
//! [`MetaMonitor::poll`] collects every activity that is ready now and runs
//! one of them, chosen by the server's seeded random source like Go's
//! random `select`; [`MetaMonitor::next_deadline`] tells the host when to
//! poll again. Locks become short `RefCell` borrows; `snapMu` is the
//! monitor's own state since only it touches that state.

use std::rc::Rc;
use std::time::Duration;

use crate::raft::env::{since, LogLevel, Timestamp};
use crate::raft::RaftError;

use super::js::{JetStreamCtx, Signal};
use super::meta_snapshot::MetaSnapshotError;
use super::node::{NodeCheckpoint, NodeHandle, RaftNodeCheckpoint};
use super::recovery::RecoveryUpdates;
use super::JetStream;

/// Go's `compactInterval`: the snapshot ticker's period.
pub const COMPACT_INTERVAL: Duration = Duration::from_secs(60);
/// Go's `compactMinInterval`: the ticker's period after a failed snapshot.
pub const COMPACT_MIN_INTERVAL: Duration = Duration::from_secs(15);
/// Go's `leaderCheckInterval`: the cold-boot leader check ticker.
pub const LEADER_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// Go's `healthCheckInterval`.
pub const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(3600);
/// Go's `compactSizeMin` (8MB).
pub const COMPACT_SIZE_MIN: u64 = 8 * 1024 * 1024;
/// Go's `minSnapDelta`.
pub const MIN_SNAP_DELTA: Duration = Duration::from_secs(30);
/// Delay of the orphan check after recovery (upstream `time.AfterFunc(30*time.Second, ...)`).
pub const ORPHAN_CHECK_DELAY: Duration = Duration::from_secs(30);

/// One thing the monitor can do next: an arm of upstream's `select`, or a
/// goroutine or timer it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Activity {
    /// `<-s.quitCh`: the server is quitting.
    ServerQuit,
    /// `<-rqch`: the raft node closed.
    RaftQuit,
    /// `<-qch`: JetStream's shutdown popped us out.
    ClusterQuit,
    /// `<-aq.ch`: committed entries to apply.
    Apply,
    /// `<-lch`: leadership changed.
    LeadChange,
    /// `<-t.C`: the compaction ticker.
    CompactTick,
    /// `<-ht.C`: the health-check ticker.
    HealthTick,
    /// `<-lt.C`: the cold-boot leader-check ticker.
    LeaderCheckTick,
    /// The asynchronous snapshot goroutine.
    AsyncSnapshot,
    /// The orphan-check timer (`checkForOrphans`).
    OrphanCheck,
    /// A `go checkHealth()` goroutine.
    HealthCheck,
}

// The asynchronous snapshot's goroutine: its checkpoint and start time.
struct AsyncSnapshot {
    c: NodeCheckpoint,
    start: Timestamp,
    due: Timestamp,
}

/// Counters a test or benchmark can read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorStats {
    /// Snapshots installed synchronously.
    pub sync_snapshots: u64,
    /// Snapshots installed by the asynchronous path.
    pub async_snapshots: u64,
    /// Snapshot attempts that failed.
    pub failed_snapshots: u64,
    /// End-of-replay markers handled.
    pub recoveries: u64,
    /// Health checks run.
    pub health_checks: u64,
}

/// The running `monitorCluster` of one server.
pub struct MetaMonitor {
    js: Rc<JetStreamCtx>,
    n: NodeHandle,
    qch: Option<Signal>,
    stopped: Option<Signal>,
    t_period: Duration,
    t_next: Timestamp,
    lt_next: Option<Timestamp>,
    ht_next: Timestamp,
    is_leader: bool,
    last_snap_time: Option<Timestamp>,
    recovering: bool,
    snapshotting: bool,
    fallback_snapshot: bool,
    failed_snapshots: u32,
    async_snap: Option<AsyncSnapshot>,
    ru: Option<RecoveryUpdates>,
    oc: Option<Timestamp>,
    health_checks: u32,
    exited: bool,
    /// What the monitor did, for tests.
    pub stats: MonitorStats,
}

impl std::fmt::Debug for MetaMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaMonitor")
            .field("server", &self.js.srv.name())
            .field("recovering", &self.recovering)
            .field("is_leader", &self.is_leader)
            .field("exited", &self.exited)
            .finish()
    }
}

impl MetaMonitor {
    /// The start of `monitorCluster`: captures the channels, starts the
    /// tickers and marks the meta layer as recovering. `setupMetaGroup`
    /// calls this once the meta node runs.
    pub fn new(js: Rc<JetStreamCtx>) -> MetaMonitor {
        let n = match js.get_meta_group() {
            Some(n) => n,
            None => panic!("meta monitor started without a meta group"),
        };
        let now = js.srv.now();
        js.srv.log(LogLevel::Debug, "Starting metadata monitor");
        js.set_meta_recovering();
        MetaMonitor {
            qch: js.cluster_quit_c(),
            stopped: js.cluster_stopped_c(),
            t_period: COMPACT_INTERVAL,
            t_next: now.add(COMPACT_INTERVAL),
            lt_next: Some(now.add(LEADER_CHECK_INTERVAL)),
            ht_next: now.add(HEALTH_CHECK_INTERVAL),
            is_leader: false,
            last_snap_time: None,
            recovering: true,
            snapshotting: false,
            // The first snapshot after recovery should clean up most of the log.
            fallback_snapshot: true,
            failed_snapshots: 0,
            async_snap: None,
            ru: None,
            oc: None,
            health_checks: 0,
            exited: false,
            stats: MonitorStats::default(),
            js,
            n,
        }
    }

    /// Whether the monitor loop has returned.
    pub fn exited(&self) -> bool {
        self.exited
    }

    /// Whether the loop has returned and nothing it started is left.
    pub fn done(&self) -> bool {
        self.exited && self.async_snap.is_none() && self.health_checks == 0
    }

    /// Whether the monitor is still replaying (its local `recovering`).
    pub fn recovering(&self) -> bool {
        self.recovering
    }

    /// The monitor's view of our leadership (its local `isLeader`).
    pub fn is_leader(&self) -> bool {
        self.is_leader
    }

    /// The activities that could run now.
    pub fn ready(&self) -> Vec<Activity> {
        let now = self.js.srv.now();
        let mut out = Vec::new();
        if !self.exited {
            if self.js.srv.quit_closed() {
                out.push(Activity::ServerQuit);
            }
            if self.n.is_closed() {
                out.push(Activity::RaftQuit);
            }
            if self.qch.as_ref().is_some_and(Signal::is_closed) {
                out.push(Activity::ClusterQuit);
            }
            if self.n.apply_q_ready() {
                out.push(Activity::Apply);
            }
            if self.n.lead_change_ready() {
                out.push(Activity::LeadChange);
            }
            if now >= self.t_next {
                out.push(Activity::CompactTick);
            }
            if now >= self.ht_next {
                out.push(Activity::HealthTick);
            }
            if self.lt_next.is_some_and(|t| now >= t) {
                out.push(Activity::LeaderCheckTick);
            }
            if self.oc.is_some_and(|t| now >= t) {
                out.push(Activity::OrphanCheck);
            }
        }
        if self.async_snap.as_ref().is_some_and(|a| now >= a.due) {
            out.push(Activity::AsyncSnapshot);
        }
        if self.health_checks > 0 {
            out.push(Activity::HealthCheck);
        }
        out
    }

    // Whether a channel-like arm (no deadline of its own) is ready.
    fn signalled(&self) -> bool {
        !self.exited
            && (self.js.srv.quit_closed()
                || self.n.is_closed()
                || self.qch.as_ref().is_some_and(Signal::is_closed)
                || self.n.apply_q_ready()
                || self.n.lead_change_ready())
            || self.health_checks > 0
    }

    /// When the monitor next has something to do; `None` once done.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if self.done() {
            return None;
        }
        let now = self.js.srv.now();
        if self.signalled() {
            return Some(now);
        }
        let mut d: Option<Timestamp> = self.async_snap.as_ref().map(|a| a.due);
        let mut consider = |t: Option<Timestamp>| {
            if let Some(t) = t {
                d = Some(d.map_or(t, |x| x.min(t)));
            }
        };
        if !self.exited {
            consider(Some(self.t_next));
            consider(Some(self.ht_next));
            consider(self.lt_next);
            consider(self.oc);
        }
        d
    }

    /// Runs one ready activity, picked at random among those ready (Go's
    /// `select`); returns it, or `None` when nothing was ready.
    pub fn poll(&mut self) -> Option<Activity> {
        let ready = self.ready();
        if ready.is_empty() {
            return None;
        }
        let pick = ready[(self.js.srv.rand_u64() % ready.len() as u64) as usize];
        self.run(pick);
        Some(pick)
    }

    /// Port of (*jetStream).monitorCluster
    ///
    /// One turn of the loop: runs `activity` as upstream's matching `select`
    /// arm (or side goroutine) does.
    pub fn run(&mut self, activity: Activity) {
        match activity {
            Activity::ServerQuit | Activity::ClusterQuit => {
                // Best effort snapshot on the way out.
                self.fallback_snapshot = true;
                self.do_snapshot(false);
                self.exit();
            }
            Activity::RaftQuit => self.exit(),
            Activity::Apply => self.apply(),
            Activity::LeadChange => {
                let Some(is_leader) = self.n.lead_change() else { return };
                self.is_leader = is_leader;
                self.js.process_leader_change(is_leader);
                if is_leader {
                    self.js.srv.send_internal_msg(crate::jetstream_cluster::leader::SERVER_STATS_PING_REQ_SUBJ, "", &[], &[]);
                    // Snapshot as we become leader.
                    self.js.check_cluster_size();
                    self.do_snapshot(false);
                }
            }
            Activity::CompactTick => {
                let now = self.js.srv.now();
                self.t_next = advance(self.t_next, self.t_period, now);
                let force_if_failed = self.failed_snapshots > 0;
                self.do_snapshot(force_if_failed);
                if self.n.leader() {
                    self.js.check_cluster_size();
                }
            }
            Activity::HealthTick => {
                let now = self.js.srv.now();
                self.ht_next = advance(self.ht_next, HEALTH_CHECK_INTERVAL, now);
                self.health_checks += 1;
            }
            Activity::LeaderCheckTick => self.leader_check(),
            Activity::AsyncSnapshot => self.run_async_snapshot(),
            Activity::OrphanCheck => {
                self.oc = None;
                self.js.check_for_orphans();
            }
            Activity::HealthCheck => {
                self.health_checks = self.health_checks.saturating_sub(1);
                self.check_health();
            }
        }
    }

    // The deferred calls of monitorCluster.
    fn exit(&mut self) {
        self.exited = true;
        self.oc = None;
        self.n.stop();
        self.js.srv.set_meta_leader(false);
        if let Some(s) = &self.stopped {
            s.close();
        }
        self.js.srv.log(LogLevel::Debug, "Exiting metadata monitor");
    }

    fn check_health(&mut self) {
        self.stats.health_checks += 1;
        let err = self.js.srv.healthz_error();
        if !err.is_empty() {
            self.js.srv.log(LogLevel::Warn, &err);
        }
    }

    // The cold-boot leader check: once there is or was a leader the ticker
    // stops; before that, a mixed-mode cluster shrinks its expected size to
    // the JetStream servers it has seen.
    fn leader_check(&mut self) {
        self.js.srv.log(LogLevel::Debug, "Checking JetStream cluster state");
        if !self.n.leaderless() || self.n.had_previous_leader() {
            self.lt_next = None;
            return;
        }
        let now = self.js.srv.now();
        self.lt_next = self.lt_next.map(|t| advance(t, LEADER_CHECK_INTERVAL, now));
        let cs = self.n.cluster_size() as i64;
        let (js, total) = self.js.srv.tracked_jet_stream_servers();
        if js < total && total >= cs && js != cs {
            self.js.srv.log(LogLevel::Debug, &format!("Adjusting JetStream expected peer set size to {js} from original {cs}"));
            let _ = self.n.adjust_boot_cluster_size(js.max(0) as usize);
        }
    }

    // The apply arm: one pop of the apply queue.
    fn apply(&mut self) {
        for ce in self.n.apply_q_pop() {
            if self.recovering && self.ru.is_none() {
                self.ru = Some(RecoveryUpdates::new());
            }
            let Some(ce) = ce else {
                self.end_of_replay();
                continue;
            };
            let (is_recovering, did_snap, res) = self.js.apply_meta_entries(&ce.entries, self.ru.as_mut());
            match res {
                Ok(()) => {
                    let mut nb = 0;
                    // Entries can fail silently while shutting down: do not move applied on.
                    if !self.js.is_shutting_down() {
                        nb = self.n.applied(ce.index).1;
                    }
                    let now = self.js.srv.now();
                    if JetStream::has_peer_entries(&ce.entries) || (did_snap && !self.is_leader) {
                        self.do_snapshot(true);
                    } else if nb > COMPACT_SIZE_MIN && since(now, self.last_snap_time) > MIN_SNAP_DELTA {
                        self.do_snapshot(false);
                    }
                    self.recovering = is_recovering;
                }
                Err(e) => self.js.srv.log(LogLevel::Warn, &format!("Error applying JetStream cluster entries: {e}")),
            }
        }
    }

    // The end-of-replay marker: apply what was staged, leave recovery and
    // snapshot.
    fn end_of_replay(&mut self) {
        if let Some(ru) = self.ru.take() {
            self.js.process_recovery_updates(ru);
        }
        let was_meta_recovering = self.js.is_meta_recovering();
        self.js.clear_meta_recovering();
        self.recovering = false;
        self.stats.recoveries += 1;
        self.js.srv.log(LogLevel::Debug, "Recovered JetStream cluster metadata");
        // Start from a freshly compacted log.
        self.do_snapshot(true);
        if was_meta_recovering {
            // The first snapshot may not have been needed: do not fall back
            // to a blocking one during normal operation.
            self.fallback_snapshot = false;
            self.oc = Some(self.js.srv.now().add(ORPHAN_CHECK_DELAY));
            self.health_checks += 1;
        }
    }

    fn reset_ticker(&mut self, period: Duration) {
        self.t_period = period;
        self.t_next = self.js.srv.now().add(period);
    }

    // A snapshot failure that is not benign: shorten the ticker on the
    // first one so the forced retry comes sooner.
    fn snapshot_failed(&mut self) {
        if self.failed_snapshots == 0 {
            self.reset_ticker(COMPACT_MIN_INTERVAL);
        }
        self.failed_snapshots += 1;
        self.stats.failed_snapshots += 1;
    }

    fn snapshot_succeeded(&mut self) {
        self.last_snap_time = Some(self.js.srv.now());
        if self.failed_snapshots > 0 {
            self.reset_ticker(COMPACT_INTERVAL);
        }
        self.failed_snapshots = 0;
    }

    /// `doSnapshot` of monitorCluster: decides whether to snapshot, opens a
    /// checkpoint, then installs synchronously (fallback after recovery or
    /// failures, an oversized log, or `JetStreamMetaCompactSync`) or starts
    /// the asynchronous path.
    fn do_snapshot(&mut self, force: bool) {
        // Not while replaying; after failures only forced ones (the ticker forces).
        if self.recovering || (!force && self.failed_snapshots > 0) {
            return;
        }
        if self.snapshotting {
            return;
        }
        let opts = self.js.srv.opts();
        let (ethresh, mut szthresh, sync_snapshot) = (opts.meta_compact, opts.meta_compact_size, opts.meta_compact_sync);
        let (by_entries, by_size) = (ethresh > 0, szthresh > 0);
        let by_neither = !by_entries && !by_size;
        let (ne, nsz) = self.n.size();
        let create = force || by_neither || (by_entries && ne > ethresh) || (by_size && nsz > szthresh) || self.n.need_snapshot();
        if !create {
            return;
        }

        // After many failures relax raft's checks so the log cannot grow forever.
        let force_snapshot = self.failed_snapshots > 4;
        let c = match self.n.create_snapshot_checkpoint(force_snapshot) {
            Ok(c) => c,
            Err(e) => {
                if e != RaftError::NoSnapAvailable && e != RaftError::NodeClosed {
                    self.js.srv.log(LogLevel::Warn, &format!("Error snapshotting JetStream cluster state: {e}"));
                    self.snapshot_failed();
                }
                return;
            }
        };

        if !self.fallback_snapshot && !sync_snapshot {
            if szthresh == 0 {
                szthresh = COMPACT_SIZE_MIN;
            }
            let thresh = 10 * szthresh;
            if nsz >= thresh {
                self.js.srv.log(
                    LogLevel::Warn,
                    &format!("JetStream cluster metalayer log size has exceeded async threshold ({thresh} bytes), will fall back to blocking snapshot"),
                );
                self.fallback_snapshot = true;
            }
        }

        if self.fallback_snapshot || sync_snapshot {
            let now = || self.js.srv.unix_nanos();
            let snap = self.js.st.borrow_mut().meta_snapshot(&now);
            match snap {
                Err(e) => {
                    self.js.srv.log(LogLevel::Warn, &format!("Error generating JetStream cluster snapshot: {e}"));
                    c.abort();
                }
                Ok(snap) => match c.install_snapshot(&snap.data) {
                    Ok(_compacted) => {
                        self.snapshot_succeeded();
                        // The next one can be asynchronous again.
                        self.fallback_snapshot = false;
                        self.stats.sync_snapshots += 1;
                    }
                    Err(e) => {
                        c.abort();
                        if !matches!(e, RaftError::NoSnapAvailable | RaftError::NodeClosed | RaftError::SnapAborted) {
                            self.js.srv.log(LogLevel::Warn, &format!("Error snapshotting JetStream cluster state: {e}"));
                            self.snapshot_failed();
                        }
                    }
                },
            }
            return;
        }

        // Asynchronous: the goroutine runs on a later turn of its own.
        self.snapshotting = true;
        let now = self.js.srv.now();
        let jitter = Duration::from_micros(self.js.srv.rand_u64() % 5_000);
        self.async_snap = Some(AsyncSnapshot { c, start: now, due: now.add(jitter) });
    }

    // The asynchronous snapshot goroutine: without the JetStream lock, fold
    // the entries the checkpoint covers into the previous snapshot, encode
    // and install it.
    fn run_async_snapshot(&mut self) {
        let Some(a) = self.async_snap.take() else { return };
        let res = (|| -> Result<(), SnapErr> {
            let data = match a.c.load_last_snapshot() {
                Ok(d) => d,
                Err(RaftError::NoSnapAvailable) => Vec::new(),
                Err(e) => return Err(SnapErr::Raft(e)),
            };
            let mut streams = JetStream::decode_meta_snapshot(&data).map_err(SnapErr::Meta)?;
            JetStream::collect_stream_and_consumer_changes(&a.c, &mut streams).map_err(|e| match e {
                super::checkpoint::CollectError::Checkpoint(r) => SnapErr::Raft(r),
                other => SnapErr::Other(other.to_string()),
            })?;
            let now = || self.js.srv.unix_nanos();
            let snap = JetStream::encode_meta_snapshot(&streams, &now).map_err(SnapErr::Meta)?;
            // Upstream records this in the cluster's snapshot statistics.
            if let Some(cc) = self.js.st.borrow_mut().cluster.as_mut() {
                cc.last_meta_snap_time = snap.started_unix_nanos;
                cc.last_meta_snap_duration = snap.took_nanos;
            }
            a.c.install_snapshot(&snap.data).map_err(SnapErr::Raft)?;
            Ok(())
        })();
        match res {
            Ok(()) => {
                self.snapshot_succeeded();
                let took = self.js.srv.now().since(a.start);
                if took > Duration::from_secs(2) {
                    self.js.srv.log(LogLevel::Warn, &format!("Metalayer async snapshot took {:.3}s", took.as_secs_f64()));
                }
                self.stats.async_snapshots += 1;
                self.snapshotting = false;
            }
            Err(err) => {
                a.c.abort();
                let benign = matches!(err, SnapErr::Raft(RaftError::NoSnapAvailable | RaftError::NodeClosed | RaftError::SnapAborted));
                if !benign {
                    self.js.srv.log(
                        LogLevel::Warn,
                        &format!("Error snapshotting JetStream cluster state: {err}, will fall back to blocking snapshot"),
                    );
                    self.fallback_snapshot = true;
                    self.snapshot_failed();
                }
                self.snapshotting = false;
            }
        }
    }
}

// Why the asynchronous snapshot failed.
#[derive(Debug)]
enum SnapErr {
    Raft(RaftError),
    Meta(MetaSnapshotError),
    Other(String),
}

impl std::fmt::Display for SnapErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapErr::Raft(e) => write!(f, "{e}"),
            SnapErr::Meta(e) => write!(f, "{e}"),
            SnapErr::Other(e) => f.write_str(e),
        }
    }
}

// Next tick of a Go ticker after `now` (ticks missed while busy are dropped).
fn advance(mut t: Timestamp, every: Duration, now: Timestamp) -> Timestamp {
    while t <= now {
        t = t.add(every);
    }
    t
}

#[cfg(test)]
#[path = "monitor_tests.rs"]
mod tests;
