use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use super::*;
use crate::jetstream_cluster::node::{Entry, RaftNode};
use crate::jetstream_cluster::ops::encode_add_stream_assignment;
use crate::jetstream_cluster::server::NodeInfo;
use crate::jetstream_cluster::test_util::sa;
use crate::peer_state::PeerState;
use crate::raft::snapshot::Checkpoint;
use crate::raft::wire::AppendEntry;
use crate::raft::{CommittedEntry, Peer, RaftState};
use crate::sim::js::{JsCluster, RuntimeCall};

fn cluster(test: &str) -> JsCluster {
    JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed(test))
}

fn monitor(c: &JsCluster, i: usize) -> &MetaMonitor {
    c.servers[i].monitor.as_ref().expect("a monitor")
}

fn propose_streams(c: &mut JsCluster, names: &[&str]) {
    let l = c.leader().expect("a leader");
    for n in names {
        c.propose(l, &encode_add_stream_assignment(&sa("$G", n, &["p1"], 1)).expect("enc")).expect("proposed");
    }
    let ok = c.run_until(Duration::from_secs(5), |c| {
        (0..c.servers.len()).filter(|&i| c.servers[i].running()).all(|i| names.iter().all(|n| c.streams(i).get("$G").is_some_and(|a| a.contains_key(*n))))
    });
    assert!(ok, "proposals applied");
}

#[test]
fn poll_picks_at_random_among_ready_activities() {
    let mut first = BTreeSet::new();
    for k in 0..12 {
        let mut c = cluster(&format!("poll_picks_at_random_among_ready_activities/{k}"));
        let i = c.random_non_leader().expect("a follower");
        // Both the compaction and the health ticker are due at once.
        let m = monitor(&c, i);
        let at = m.t_next.max(m.ht_next);
        c.world.now.set(at.0);
        let m = c.servers[i].monitor.as_mut().expect("monitor");
        let ready = m.ready();
        assert!(ready.contains(&Activity::CompactTick) && ready.contains(&Activity::HealthTick), "{ready:?}");
        first.insert(m.poll().expect("something ran"));
        assert!(m.next_deadline().is_some_and(|d| d.0 <= at.0), "the other one is still due");
    }
    assert!(first.contains(&Activity::CompactTick) && first.contains(&Activity::HealthTick), "both arms were chosen first: {first:?}");
}

#[test]
fn every_server_recovers_at_start_and_checks_its_health() {
    let c = cluster("every_server_recovers_at_start_and_checks_its_health");
    for i in 0..3 {
        let m = monitor(&c, i);
        assert!(!m.recovering(), "replay over");
        assert!(m.stats.recoveries >= 1);
        assert_eq!(m.stats.health_checks, 1, "one check after the start-up replay");
        assert!(m.oc.is_some(), "the orphan check is armed");
        assert!(!m.fallback_snapshot, "after the start-up replay snapshots can be asynchronous");
        assert!(!c.js(i).is_meta_recovering());
    }
    let log = c.world.log.borrow();
    assert!(log.iter().any(|l| l.contains("JetStream has not established contact with a meta leader")), "the first check ran before a leader existed");
    let l = c.leader().expect("a leader");
    assert!(monitor(&c, l).is_leader());
}

#[test]
fn the_compaction_ticker_takes_asynchronous_snapshots() {
    let mut c = cluster("the_compaction_ticker_takes_asynchronous_snapshots");
    propose_streams(&mut c, &["A", "B", "C"]);
    let f = c.random_non_leader().expect("a follower");
    let before = monitor(&c, f).stats.async_snapshots;
    c.run_for(COMPACT_INTERVAL + Duration::from_secs(1));
    propose_streams(&mut c, &["D"]);
    c.run_for(COMPACT_INTERVAL);
    let m = monitor(&c, f);
    assert!(m.stats.async_snapshots >= before + 1, "{:?}", m.stats);
    assert!(!m.snapshotting && m.async_snap.is_none(), "finished");
    let r = c.meta_raft(f).expect("node");
    let (papplied, applied) = (r.borrow().snapshot_index(), r.borrow().applied_index());
    assert!(papplied > 0 && papplied <= applied);
    let path = r.borrow().snapfile().to_string();
    let bytes = c.world.disk.borrow().file(&path).map(<[u8]>::to_vec).expect("snapshot file");
    let snap = crate::snapshot_file::SnapshotCodec::new("_meta_").decode(&bytes).expect("valid");
    let m = JetStream::decode_meta_snapshot(&snap.data).expect("decodes");
    assert_eq!(m["$G"].keys().collect::<Vec<_>>(), vec!["A", "B", "C", "D"], "the async path folded the entries into the previous snapshot");
}

#[test]
fn sync_snapshots_when_configured_and_thresholds_when_set() {
    let mut c = JsCluster::create_jet_stream_cluster_with("R3S", 3, crate::sim::test_seed("sync_snapshots_when_configured"), |c| {
        c.opts.meta_compact_sync = true;
    });
    propose_streams(&mut c, &["A"]);
    let f = c.random_non_leader().expect("a follower");
    let s0 = monitor(&c, f).stats.clone();
    c.run_for(COMPACT_INTERVAL + Duration::from_secs(1));
    let s1 = monitor(&c, f).stats.clone();
    assert!(s1.sync_snapshots > s0.sync_snapshots && s1.async_snapshots == 0, "{s1:?}");

    let mut c = JsCluster::create_jet_stream_cluster_with("R3S", 3, crate::sim::test_seed("thresholds_when_set"), |c| {
        c.opts.meta_compact = 1000;
    });
    propose_streams(&mut c, &["A"]);
    let f = c.random_non_leader().expect("a follower");
    // The first tick snapshots anyway: no snapshot exists yet (NeedSnapshot).
    c.run_for(COMPACT_INTERVAL + Duration::from_secs(1));
    let snap = c.meta_raft(f).expect("node").borrow().snapshot_index();
    assert!(snap > 0);
    propose_streams(&mut c, &["B", "C"]);
    c.run_for(COMPACT_INTERVAL);
    assert_eq!(c.meta_raft(f).expect("node").borrow().snapshot_index(), snap, "below the entry threshold: no new snapshot");
}

/// A meta node whose checkpoints fail on purpose a number of times
/// (upstream's snapshots fail this way when catch-ups run or the disk
/// errors); everything else is the real node.
struct FailingCheckpoints {
    inner: NodeHandle,
    fail: Cell<u32>,
    forced: RefCell<Vec<bool>>,
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> $ret { self.inner.$name($($arg),*) })*
    };
}

impl RaftNode for FailingCheckpoints {
    fn create_snapshot_checkpoint(&self, force: bool) -> Result<Checkpoint, RaftError> {
        self.forced.borrow_mut().push(force);
        if self.fail.get() > 0 {
            self.fail.set(self.fail.get() - 1);
            return Err(RaftError::CatchupsRunning);
        }
        self.inner.0.create_snapshot_checkpoint(force)
    }
    delegate! {
        propose(entry: &[u8]) -> Result<(), RaftError>;
        propose_multi(entries: Vec<Entry>) -> Result<(), RaftError>;
        forward_proposal(entry: &[u8]) -> Result<(), RaftError>;
        applied(index: u64) -> (u64, u64);
        processed(index: u64, applied: u64) -> (u64, u64);
        apply_q_pop() -> Vec<Option<CommittedEntry>>;
        apply_q_ready() -> bool;
        lead_change() -> Option<bool>;
        lead_change_ready() -> bool;
        install_snapshot(data: &[u8], force: bool) -> Result<(), RaftError>;
        checkpoint_load_last_snapshot(c: &Checkpoint) -> Result<Vec<u8>, RaftError>;
        checkpoint_append_entries(c: &Checkpoint) -> Vec<Result<AppendEntry, RaftError>>;
        checkpoint_abort(c: &Checkpoint) -> ();
        checkpoint_install_snapshot(c: &Checkpoint, data: &[u8]) -> Result<u64, RaftError>;
        send_snapshot(data: &[u8]) -> Result<(), RaftError>;
        need_snapshot() -> bool;
        drain_and_replay_snapshot() -> bool;
        state() -> RaftState;
        size() -> (u64, u64);
        progress() -> (u64, u64, u64);
        leader() -> bool;
        leader_since() -> Option<Timestamp>;
        quorum() -> bool;
        current() -> bool;
        healthy() -> bool;
        term() -> u64;
        leaderless() -> bool;
        group_leader() -> String;
        had_previous_leader() -> bool;
        created() -> Timestamp;
        is_observer() -> bool;
        set_observer(observer: bool) -> ();
        write_err() -> Option<RaftError>;
        step_down(preferred: &[&str]) -> Result<(), RaftError>;
        campaign() -> Result<(), RaftError>;
        campaign_immediately() -> Result<(), RaftError>;
        id() -> String;
        group() -> String;
        peers() -> Vec<Peer>;
        propose_known_peers(peers: &[String]) -> ();
        update_known_peers(peers: &[String]) -> ();
        propose_add_peer(peer: &str) -> Result<(), RaftError>;
        propose_remove_peer(peer: &str) -> Result<(), RaftError>;
        adjust_cluster_size(csz: usize) -> Result<(), RaftError>;
        adjust_boot_cluster_size(csz: usize) -> Result<(), RaftError>;
        cluster_size() -> usize;
        current_peer_state() -> PeerState;
        membership_change_in_progress() -> bool;
        stop() -> ();
        wait_for_stop() -> ();
        delete() -> ();
        is_deleted() -> bool;
        is_closed() -> bool;
    }
}

#[test]
fn failed_snapshots_shorten_the_ticker_then_force() {
    let mut c = cluster("failed_snapshots_shorten_the_ticker_then_force");
    propose_streams(&mut c, &["A"]);
    let f = c.random_non_leader().expect("a follower");
    let js = c.js(f).clone();
    let real = js.get_meta_group().expect("meta");
    let faulty = std::rc::Rc::new(FailingCheckpoints { inner: real, fail: Cell::new(6), forced: RefCell::default() });
    js.st.borrow_mut().cluster.as_mut().expect("cc").meta = Some(NodeHandle(faulty.clone()));
    // The monitor that takes over from here sees the failing node.
    let mut m = MetaMonitor::new(js.clone());
    m.recovering = false;
    m.fallback_snapshot = false;
    m.t_next = c.srv(f).now().add(COMPACT_INTERVAL);
    c.servers[f].monitor = Some(m);

    let t0 = c.srv(f).now();
    c.run_for(COMPACT_INTERVAL + Duration::from_millis(10));
    let m = monitor(&c, f);
    assert_eq!(m.failed_snapshots, 1, "the first failure is counted");
    assert_eq!(m.t_period, COMPACT_MIN_INTERVAL, "and shortens the ticker");
    let tick1 = m.t_next;
    assert!(tick1.since(t0) <= COMPACT_INTERVAL + COMPACT_MIN_INTERVAL + Duration::from_millis(10));

    // Forced retries every 15s; after more than four failures raft's own
    // checks are relaxed (the force flag).
    c.run_for(COMPACT_MIN_INTERVAL * 6);
    let forced = faulty.forced.borrow().clone();
    assert!(forced.len() >= 7, "{forced:?}");
    assert_eq!(&forced[..5], &[false, false, false, false, false], "no relaxing for the first failures");
    assert!(forced[5..].iter().all(|f| *f), "relaxed after more than four: {forced:?}");
    let m = monitor(&c, f);
    assert_eq!(m.failed_snapshots, 0, "a snapshot went through");
    assert_eq!(m.t_period, COMPACT_INTERVAL, "the ticker is back to a minute");
    assert!(m.stats.failed_snapshots >= 6);
    assert!(m.stats.sync_snapshots + m.stats.async_snapshots >= 1);
}

#[test]
fn mixed_mode_cold_boot_shrinks_the_expected_size() {
    // Routes name four servers; the fourth runs without JetStream, which the
    // three learn through their registries.
    let mut c = JsCluster::new("MIX", crate::sim::test_seed("mixed_mode_cold_boot_shrinks_the_expected_size"));
    for i in 1..=3 {
        c.add_server(&format!("S-{i}"), 4);
    }
    for i in 0..3 {
        c.start_server(i);
        let nojs = NodeInfo { name: "S-4".into(), cluster: "MIX".into(), id: "NOJS".into(), js: false, ..Default::default() };
        c.core(i).node_to_info.borrow_mut().insert(crate::sim::cluster::server_hash("S-4"), nojs);
    }
    c.wait_on_cluster_ready();
    let l = c.leader().expect("a leader after the adjustment");
    let meta = c.js(l).get_meta_group().expect("meta");
    assert_eq!(meta.cluster_size(), 3);
    c.run_for(LEADER_CHECK_INTERVAL + Duration::from_millis(10));
    for i in 0..3 {
        assert!(monitor(&c, i).lt_next.is_none(), "the leader check stops once there is a leader");
    }
}

#[test]
fn quit_arms_snapshot_and_stop() {
    // JetStream shutting down: a last snapshot, the node stopped, flags cleared.
    let mut c = cluster("quit_arms_snapshot_and_stop");
    propose_streams(&mut c, &["A"]);
    let l = c.leader().expect("a leader");
    let js = c.js(l).clone();
    let stopped = js.cluster_stopped_c().expect("stopped signal");
    let node = js.get_meta_group().expect("meta");
    let before = monitor(&c, l).stats.sync_snapshots;
    js.shutdown_cluster();
    let m = c.servers[l].monitor.as_mut().expect("monitor");
    assert!(m.ready().contains(&Activity::ClusterQuit));
    m.run(Activity::ClusterQuit);
    assert!(m.exited() && m.done());
    assert_eq!(m.stats.sync_snapshots, before + 1, "a blocking snapshot on the way out");
    assert_eq!(m.next_deadline(), None);
    assert!(stopped.is_closed(), "stopped is signalled");
    assert!(node.is_closed(), "the node was stopped");
    assert!(!c.srv(l).is_meta_leader());

    // The server quitting: the same best-effort snapshot.
    let mut c = cluster("quit_arms_snapshot_and_stop/server");
    propose_streams(&mut c, &["A"]);
    let f = c.random_non_leader().expect("a follower");
    let before = monitor(&c, f).stats.sync_snapshots;
    c.core(f).quit.set(true);
    let m = c.servers[f].monitor.as_mut().expect("monitor");
    assert!(m.ready().contains(&Activity::ServerQuit));
    m.run(Activity::ServerQuit);
    assert!(m.exited() && m.stats.sync_snapshots == before + 1);

    // The raft node closing: out, no snapshot.
    let mut c = cluster("quit_arms_snapshot_and_stop/raft");
    propose_streams(&mut c, &["A"]);
    let f = c.random_non_leader().expect("a follower");
    let before = monitor(&c, f).stats.clone();
    c.js(f).get_meta_group().expect("meta").stop();
    let m = c.servers[f].monitor.as_mut().expect("monitor");
    assert_eq!(m.poll(), Some(Activity::RaftQuit));
    assert!(m.exited());
    assert_eq!(m.stats.sync_snapshots + m.stats.async_snapshots, before.sync_snapshots + before.async_snapshots);
}

#[test]
fn orphans_are_cleaned_up_after_recovery_when_healthy() {
    let mut c = cluster("orphans_are_cleaned_up_after_recovery_when_healthy");
    let f = c.random_non_leader().expect("a follower");
    // A stream on disk the meta layer never heard of.
    let rt = c.servers[f].runtime.clone();
    let js = c.js(f).clone();
    crate::jetstream_cluster::runtime::StreamRuntime::process_cluster_create_stream(&*rt, &js, "$G", &sa("$G", "GHOST", &["p1"], 1));
    c.kill_server(f);
    c.restart_server(f);
    c.run_for(ORPHAN_CHECK_DELAY - Duration::from_secs(1));
    assert!(rt.streams.borrow().contains_key(&("$G".to_string(), "GHOST".to_string())), "not before 30s");
    c.run_for(Duration::from_secs(2));
    assert!(!rt.streams.borrow().contains_key(&("$G".to_string(), "GHOST".to_string())), "deleted by the orphan check");
    assert!(rt.calls.borrow().contains(&RuntimeCall::DeleteOrphanStream { acc: "$G".into(), stream: "GHOST".into() }));

    // Without a meta leader at that moment the check is skipped.
    let mut c = cluster("orphans_are_cleaned_up_after_recovery_when_healthy/isolated");
    let f = c.random_non_leader().expect("a follower");
    let rt = c.servers[f].runtime.clone();
    let js = c.js(f).clone();
    crate::jetstream_cluster::runtime::StreamRuntime::process_cluster_create_stream(&*rt, &js, "$G", &sa("$G", "GHOST", &["p1"], 1));
    c.kill_server(f);
    let others: Vec<usize> = (0..3).filter(|&i| i != f).collect();
    c.partition(&[vec![f], others]);
    c.restart_server(f);
    c.run_for(ORPHAN_CHECK_DELAY + Duration::from_secs(5));
    assert!(rt.streams.borrow().contains_key(&("$G".to_string(), "GHOST".to_string())), "kept: no meta leader to be current with");
}

#[test]
fn hourly_health_checks() {
    let mut c = cluster("hourly_health_checks");
    let f = c.random_non_leader().expect("a follower");
    let n0 = monitor(&c, f).stats.health_checks;
    let start = monitor(&c, f).ht_next;
    assert!(start.since(Timestamp(0)) >= HEALTH_CHECK_INTERVAL, "first tick an hour after start");
    // An hour of heartbeats is slow to simulate: bring the tick forward.
    let soon = c.srv(f).now().add(Duration::from_secs(1));
    c.servers[f].monitor.as_mut().expect("monitor").ht_next = soon;
    c.run_for(Duration::from_millis(1100));
    assert_eq!(monitor(&c, f).stats.health_checks, n0 + 1);
    assert_eq!(monitor(&c, f).ht_next, soon.add(HEALTH_CHECK_INTERVAL), "the next one an hour later");
    assert_eq!(c.srv(f).healthz_error(), "", "a current follower is healthy");
}
