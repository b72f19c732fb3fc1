//! Focused tests for public raft functions that no ported Go test calls by
//! name: each test calls one function of the node's public API (or a
//! persistence helper) and checks its outcome. Registered per feature in
//! `ported/mappings/raft_exercise.tsv`; the crate-private functions have
//! theirs in `src/raft/exercise.rs`.

use std::time::Duration;

use ported::peer_state::{ExtensionState, PeerState};
use ported::raft::node::bootstrap_raft_node;
use ported::raft::persist::{read_peer_state, write_peer_state, write_term_vote, PEER_STATE_FILE, TERM_VOTE_FILE};
use ported::raft::{
    AppendEntry, Entry, EntryType, Fs, FsError, MemWal, Raft, RaftConfig, RaftError, RaftState, RaftTimings, Timestamp,
};
use ported::sim::world::{SimFs, SimHost};
use ported::sim::{Cluster, World, GLOBAL_ACCOUNT};

use crate::helpers::cluster;

/// Node ids of two other servers.
const PEER1: &str = "yrzKKRBu";
const PEER2: &str = "cnrtt3eg";

/// A single-member memory node (not started, frozen).
fn single_node(test: &str) -> (Cluster, usize) {
    let mut c = cluster(test, "R3S", 3);
    let slot = c.init_single_mem_raft_node();
    c.freeze(&[slot]);
    (c, slot)
}

fn now(c: &Cluster) -> Timestamp {
    Timestamp(c.world.now.get())
}

/// Leader of its single-member group, leadership announced: the peer-state
/// entry it sends on winning commits at once and is then applied.
fn make_leader(n: &mut Raft) {
    n.internals().switch_to_leader();
    let (index, _) = n.last_log();
    n.applied(index);
    assert!(n.leader());
}

/// A store bootstrapped with our id as the only peer, and a host for a
/// node of the first server that is not part of the cluster's slots.
fn standalone_host(c: &Cluster, store: &str) -> SimHost {
    let mut fs = SimFs::new(c.world.clone());
    if let Err(e) = bootstrap_raft_node(&mut fs, store, &[c.servers[0].id.clone()], true) {
        panic!("bootstrap: {e}");
    }
    SimHost::new(c.world.clone(), 0, c.nodes.len(), &c.servers[0].name)
}

fn peers_idx(c: &Cluster, n: &Raft) -> PeerState {
    let mut fs = SimFs::new(c.world.clone());
    match read_peer_state(&mut fs, n.store_dir()) {
        Ok(ps) => ps,
        Err(e) => panic!("reading peers.idx: {e}"),
    }
}

#[test]
fn start_queues_the_end_of_replay_marker() {
    let c = cluster("start_queues_the_end_of_replay_marker", "R3S", 3);
    let id = c.servers[0].id.clone();

    let host = standalone_host(&c, "/S-1/init");
    let mut inited = match Raft::init(Box::new(host), &id, GLOBAL_ACCOUNT, RaftConfig::new("G", "/S-1/init", Box::new(MemWal::new())), RaftTimings::go_test_defaults()) {
        Ok(n) => n,
        Err(e) => panic!("init: {e}"),
    };
    assert!(inited.apply_q().is_empty(), "init alone queues nothing for an empty log");

    let host = standalone_host(&c, "/S-1/start");
    let mut n = match Raft::start(Box::new(host), &id, GLOBAL_ACCOUNT, RaftConfig::new("G", "/S-1/start", Box::new(MemWal::new())), RaftTimings::go_test_defaults()) {
        Ok(n) => n,
        Err(e) => panic!("start: {e}"),
    };
    assert_eq!(n.state(), RaftState::Follower);
    assert_eq!(n.group(), "G");
    assert_eq!(n.num_subscriptions(), 4);
    assert_eq!(n.apply_q().iter().cloned().collect::<Vec<_>>(), vec![None], "the end-of-replay marker");
}

#[test]
fn start_fails_without_peer_state() {
    let c = cluster("start_fails_without_peer_state", "R3S", 3);
    let host = SimHost::new(c.world.clone(), 0, 0, &c.servers[0].name);
    let cfg = RaftConfig::new("G", "/S-1/empty", Box::new(MemWal::new()));
    let res = Raft::start(Box::new(host), &c.servers[0].id, GLOBAL_ACCOUNT, cfg, RaftTimings::go_test_defaults());
    assert_eq!(res.err(), Some(RaftError::NoPeerState));
}

#[test]
fn get_traffic_account_name_is_the_account_given_at_start() {
    let c = cluster("get_traffic_account_name_is_the_account_given_at_start", "R3S", 3);
    let host = standalone_host(&c, "/S-1/acc");
    let cfg = RaftConfig::new("G", "/S-1/acc", Box::new(MemWal::new()));
    let n = match Raft::start(Box::new(host), &c.servers[0].id, "ACC-ONE", cfg, RaftTimings::go_test_defaults()) {
        Ok(n) => n,
        Err(e) => panic!("start: {e}"),
    };
    assert_eq!(n.get_traffic_account_name(), "ACC-ONE");

    let (mut c, slot) = single_node("get_traffic_account_name_is_the_account_given_at_start");
    assert_eq!(c.node(slot).get_traffic_account_name(), GLOBAL_ACCOUNT);
}

#[test]
fn created_is_the_time_the_node_was_built() {
    let mut c = cluster("created_is_the_time_the_node_was_built", "R3S", 3);
    c.run_for(Duration::from_millis(1_250));
    let t = now(&c);
    let slot = c.init_single_mem_raft_node();
    c.freeze(&[slot]);
    c.run_for(Duration::from_secs(3));
    assert_eq!(c.node(slot).created(), t);
    assert_ne!(now(&c), t);
}

#[test]
fn group_is_the_configured_group_name() {
    let (mut c, slot) = single_node("group_is_the_configured_group_name");
    assert_eq!(c.node(slot).group(), "TEST");
}

#[test]
fn recreate_internal_subs_resubscribes_a_stopped_node_once() {
    let (mut c, slot) = single_node("recreate_internal_subs_resubscribes_a_stopped_node_once");
    let n = c.node(slot);
    let vreply = n.vreply().to_string();
    n.recreate_internal_subs().expect("no-op while subscribed");
    assert_eq!(n.vreply(), vreply);
    assert_eq!(n.num_subscriptions(), 4);

    n.stop();
    n.wait_for_stop();
    assert_eq!(n.num_subscriptions(), 0);
    n.recreate_internal_subs().expect("resubscribes");
    assert_eq!(n.num_subscriptions(), 4);
    assert_ne!(n.vreply(), vreply, "fresh reply inbox");
    let again = n.vreply().to_string();
    n.recreate_internal_subs().expect("no-op");
    assert_eq!(n.vreply(), again);
    assert_eq!(n.num_subscriptions(), 4);
}

#[test]
fn forward_proposal_publishes_unless_leader() {
    let (mut c, slot) = single_node("forward_proposal_publishes_unless_leader");
    let psubj = c.node(slot).psubj().to_string();
    let probe = c.subscribe(&psubj);
    c.node(slot).forward_proposal(b"forwarded").expect("forwarded");
    let m = c.next_msg(probe, Duration::from_secs(1)).expect("published to the proposal subject");
    assert_eq!(m.data, b"forwarded");
    assert_eq!(c.node(slot).internals().prop_len(), 0);

    let n = c.node(slot);
    make_leader(n);
    n.forward_proposal(b"local").expect("proposed");
    assert_eq!(n.internals().prop_len(), 1);
    assert!(c.no_msg(probe, Duration::from_secs(1)), "a leader proposes locally");
}

#[test]
fn propose_add_peer_needs_a_leader_without_a_change_in_flight() {
    let (mut c, slot) = single_node("propose_add_peer_needs_a_leader_without_a_change_in_flight");
    let n = c.node(slot);
    assert_eq!(n.propose_add_peer(PEER1), Err(RaftError::NotLeader));
    make_leader(n);
    n.internals().set_memb_change_index(5);
    assert_eq!(n.propose_add_peer(PEER1), Err(RaftError::MembershipChange));
    assert_eq!(n.internals().prop_len(), 0);
    n.internals().set_memb_change_index(0);
    n.propose_add_peer(PEER1).expect("queued");
    assert_eq!(n.internals().prop_len(), 1);
}

#[test]
fn adjust_cluster_size_sets_size_and_quorum_on_a_leader() {
    let (mut c, slot) = single_node("adjust_cluster_size_sets_size_and_quorum_on_a_leader");
    let n = c.node(slot);
    assert_eq!(n.adjust_cluster_size(5), Err(RaftError::NotLeader));
    assert_eq!(n.cluster_size(), 1);

    make_leader(n);
    let (before, _) = n.last_log();
    n.adjust_cluster_size(5).expect("leader");
    assert_eq!(n.cluster_size(), 5);
    assert_eq!(n.internals().qn(), 3);
    let (after, _) = n.last_log();
    assert_eq!(after, before + 1, "the new size goes out as a peer-state entry");
    let e = n.log_entry(after).expect("stored");
    assert_eq!(e.entries[0].typ, EntryType::PeerState);

    n.adjust_cluster_size(1).expect("leader");
    assert_eq!(n.cluster_size(), 2, "never below two");
    assert_eq!(n.internals().qn(), 2);
}

#[test]
fn need_snapshot_without_a_snapshot_after_two_applies() {
    let (mut c, slot) = single_node("need_snapshot_without_a_snapshot_after_two_applies");
    let n = c.node(slot);
    assert!(!n.need_snapshot());
    n.internals().set_applied(1);
    assert!(!n.need_snapshot());
    n.internals().set_applied(2);
    assert!(n.need_snapshot());
    n.internals().set_snapfile("/S-1/nrg-1/snapshots/snap.1.2".into());
    assert!(!n.need_snapshot(), "a snapshot exists");
}

#[test]
fn leader_since_is_set_when_leadership_is_announced() {
    let (mut c, slot) = single_node("leader_since_is_set_when_leadership_is_announced");
    c.run_for(Duration::from_secs(2));
    let t = now(&c);
    let n = c.node(slot);
    assert_eq!(n.leader_since(), None);
    n.internals().switch_to_leader();
    assert_eq!(n.leader_since(), None, "not before the first entry is applied");
    let (index, _) = n.last_log();
    n.applied(index);
    assert_eq!(n.leader_since(), Some(t));
    n.internals().stepdown("");
    assert_eq!(n.leader_since(), None);
}

#[test]
fn current_needs_commits_applied_and_a_live_leader() {
    let (mut c, slot) = single_node("current_needs_commits_applied_and_a_live_leader");
    let n = c.node(slot);
    assert!(!n.current(), "nothing committed");
    n.internals().set_commit(3);
    n.internals().set_applied(3);
    assert!(n.current());
    n.internals().set_applied(2);
    assert!(!n.current(), "commits not applied");
    n.internals().set_applied(3);

    // Following a leader we have not heard from.
    n.internals().set_peers(&[(PEER1, ported::raft::internals::PeerTrack { ts: None, li: 0, kp: true })]);
    n.internals().set_leader(PEER1.into());
    assert!(!n.current());
    let t = now(&c);
    let n = c.node(slot);
    n.internals().set_peer_ts(PEER1, Some(t));
    assert!(n.current());
    n.stop();
    assert!(!n.current(), "closed");
}

#[test]
fn had_previous_leader_once_any_leader_was_seen() {
    let (mut c, slot) = single_node("had_previous_leader_once_any_leader_was_seen");
    let n = c.node(slot);
    assert!(!n.had_previous_leader());
    n.internals().update_leader("");
    assert!(!n.had_previous_leader());
    n.internals().update_leader(PEER1);
    assert!(n.had_previous_leader());
    n.internals().update_leader("");
    assert!(n.had_previous_leader(), "remembered after losing the leader");
}

#[test]
fn leaderless_until_a_leader_is_known() {
    let (mut c, slot) = single_node("leaderless_until_a_leader_is_known");
    let n = c.node(slot);
    assert!(n.leaderless());
    n.internals().update_leader(PEER1);
    assert!(!n.leaderless());
    n.internals().update_leader("");
    assert!(n.leaderless());
}

#[test]
fn propose_known_peers_replaces_the_peer_set_on_a_leader() {
    let (mut c, slot) = single_node("propose_known_peers_replaces_the_peer_set_on_a_leader");
    let n = c.node(slot);
    let me = n.id().to_string();
    let peers = vec![me, PEER1.to_string(), PEER2.to_string()];
    n.propose_known_peers(&peers);
    assert_eq!(n.cluster_size(), 1, "followers leave it alone");

    make_leader(n);
    let (before, _) = n.last_log();
    n.propose_known_peers(&peers);
    assert_eq!(n.cluster_size(), 3);
    assert_eq!(n.internals().peer_names().len(), 3);
    let (after, _) = n.last_log();
    assert_eq!(after, before + 1);
    let e = n.log_entry(after).expect("stored");
    assert_eq!(e.entries[0].typ, EntryType::PeerState);
}

#[test]
fn update_known_peers_adopts_and_persists_the_list() {
    let (mut c, slot) = single_node("update_known_peers_adopts_and_persists_the_list");
    let n = c.node(slot);
    let me = n.id().to_string();
    n.update_known_peers(&[me, PEER1.to_string(), PEER2.to_string()]);
    assert_eq!(n.cluster_size(), 3);
    assert_eq!(n.internals().qn(), 2);
    assert_eq!(n.last_log(), (0, 0), "followers store nothing");
    let n = &c.nodes[slot].raft;
    let ps = peers_idx(&c, n);
    assert_eq!(ps.cluster_size, 3);
    assert_eq!(ps.known_peers.len(), 3);
}

#[test]
fn delete_stops_the_node_and_removes_its_store() {
    let (mut c, slot) = single_node("delete_stops_the_node_and_removes_its_store");
    let store = c.node(slot).store_dir().to_string();
    let mut fs = SimFs::new(c.world.clone());
    assert!(fs.exists(&format!("{store}/{PEER_STATE_FILE}")));
    let n = c.node(slot);
    assert!(!n.is_deleted());
    n.delete();
    assert!(n.is_deleted());
    assert_eq!(n.state(), RaftState::Closed);
    assert_eq!(n.num_subscriptions(), 0);
    assert!(!fs.exists(&format!("{store}/{PEER_STATE_FILE}")));
    assert!(!fs.exists(&store));
}

#[test]
fn is_deleted_only_after_delete_not_stop() {
    let (mut c, slot) = single_node("is_deleted_only_after_delete_not_stop");
    let n = c.node(slot);
    n.stop();
    n.wait_for_stop();
    assert!(!n.is_deleted(), "stopping is not deleting");
    n.delete();
    assert!(n.is_deleted());
}

#[test]
fn run_takes_a_lone_node_through_an_election_and_tears_down_once_stopped() {
    let (mut c, slot) = single_node("run_takes_a_lone_node_through_an_election_and_tears_down_once_stopped");
    let n = c.node(slot);
    n.tick().expect("run loop settles");
    assert_eq!(n.state(), RaftState::Follower, "the election timer has not fired");

    n.reset_elect_with_lock(Duration::ZERO);
    n.tick().expect("run loop settles");
    assert_eq!(n.state(), RaftState::Leader, "a group of one wins its own vote");
    assert_eq!(n.term(), 1);
    assert_eq!(n.num_subscriptions(), 6, "plus forwarded proposals and peer removals");
    assert!(n.next_deadline().is_some());

    n.stop();
    n.tick().expect("run loop settles");
    assert_eq!(n.num_subscriptions(), 0);
    assert_eq!(n.next_deadline(), None, "closed and torn down");
}

#[test]
fn set_write_err_records_a_write_error_and_closes() {
    let (mut c, slot) = single_node("set_write_err_records_a_write_error_and_closes");
    let n = c.node(slot);
    n.set_write_err(RaftError::Fs(FsError::NotFound("/x".into())));
    assert_eq!(n.get_write_err(), None, "a missing file is not a write error");
    assert_eq!(n.state(), RaftState::Follower);
    let err = RaftError::Fs(FsError::Io("disk full".into()));
    n.set_write_err(err.clone());
    assert_eq!(n.get_write_err(), Some(err));
    assert_eq!(n.state(), RaftState::Closed);
}

#[test]
fn should_store_only_entries_with_content() {
    let hb = AppendEntry::new(PEER1, 1, 0, 0, 0, Vec::new());
    assert!(!hb.should_store(), "heartbeats are not stored");
    let ae = AppendEntry::new(PEER1, 1, 0, 0, 0, vec![Entry::new(EntryType::Normal, b"x".to_vec())]);
    assert!(ae.should_store());
    let ps = AppendEntry::new(PEER1, 1, 0, 0, 0, vec![Entry::new(EntryType::PeerState, Vec::new())]);
    assert!(ps.should_store());
}

#[test]
fn peer_state_file_round_trips() {
    let world = World::new(7);
    let mut fs = SimFs::new(world);
    fs.create_dir_all("/store").expect("dir");
    let ps = PeerState { known_peers: vec![PEER1.into(), PEER2.into()], cluster_size: 3, domain_ext: ExtensionState::EXTENDED };
    write_peer_state(&mut fs, "/store", &ps).expect("written");
    assert!(fs.exists(&format!("/store/{PEER_STATE_FILE}")));
    assert_eq!(read_peer_state(&mut fs, "/store").expect("read back"), ps);
}

#[test]
fn read_peer_state_rejects_missing_and_corrupt_files() {
    let world = World::new(8);
    let mut fs = SimFs::new(world);
    fs.create_dir_all("/store").expect("dir");
    assert!(matches!(read_peer_state(&mut fs, "/store"), Err(RaftError::Fs(FsError::NotFound(_)))));
    fs.write_sync(&format!("/store/{PEER_STATE_FILE}"), b"\x01\x00").expect("write");
    assert_eq!(read_peer_state(&mut fs, "/store"), Err(RaftError::CorruptPeers));
}

#[test]
fn write_term_vote_writes_the_given_bytes() {
    let world = World::new(9);
    let mut fs = SimFs::new(world);
    fs.create_dir_all("/store").expect("dir");
    let mut tav = 12u64.to_le_bytes().to_vec();
    tav.extend_from_slice(PEER1.as_bytes());
    write_term_vote(&mut fs, "/store", &tav).expect("written");
    assert_eq!(fs.read(&format!("/store/{TERM_VOTE_FILE}")).expect("file"), tav);
    write_term_vote(&mut fs, "/store", &13u64.to_le_bytes()).expect("rewritten");
    assert_eq!(fs.read(&format!("/store/{TERM_VOTE_FILE}")).expect("file"), 13u64.to_le_bytes());
}
