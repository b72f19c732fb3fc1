//! Focused tests for crate-private raft functions that no ported Go test
//! calls by name. Each test drives one function of a single memory node
//! (held frozen, so only the test moves it) and checks what the function
//! did. Registered per feature in `ported/mappings/raft_exercise.tsv`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::peer_state::{decode_peer_state, encode_peer_state, ExtensionState, PeerState};
use crate::sim::world::SimHost;
use crate::sim::{test_seed, Cluster};
use crate::snapshot_file::{snapshot_file_name, Snapshot, SNAPSHOTS_DIR};

use super::append::PAE_DROP_THRESHOLD;
use super::append::PAUSE_QUORUM_THRESHOLD;
use super::env::{join, Fs, FsError, LogLevel, RaftEnv, Timestamp, Transport};
use super::node::{Currentness, Lps, Raft, SubKind};
use super::persist::{read_peer_state, PEER_STATE_FILE, TERM_VOTE_FILE};
use super::wal::WalError;
use super::wire::{
    decode_append_entry, AppendEntry, AppendEntryResponse, Entry, EntryType, VoteRequest, VoteResponse,
};
use super::{RaftError, RaftState, NO_LEADER};

/// Node ids of two other servers (any 8-character ids would do).
const PEER1: &str = "yrzKKRBu";
const PEER2: &str = "cnrtt3eg";

/// A single-member memory node on the first server, frozen so the
/// simulator never runs it behind the test's back.
fn single_node(test: &str) -> (Cluster, usize) {
    let mut c = Cluster::new("R3S", 3, test_seed(test));
    let slot = c.init_single_mem_raft_node();
    c.freeze(&[slot]);
    (c, slot)
}

fn now(c: &Cluster) -> Timestamp {
    Timestamp(c.world.now.get())
}

fn advance(c: &Cluster, d: Duration) {
    c.world.now.set(c.world.now.get() + d.as_nanos() as u64);
}

fn encoded(leader: &str, term: u64, commit: u64, pterm: u64, pindex: u64, entries: Vec<Entry>) -> AppendEntry {
    match AppendEntry::new(leader, term, commit, pterm, pindex, entries).encoded() {
        Ok(ae) => ae,
        Err(e) => panic!("encoding append entry: {e}"),
    }
}

fn normal(data: &[u8]) -> Vec<Entry> {
    vec![Entry::new(EntryType::Normal, data)]
}

/// Appends `count` normal entries of `term` to the node's WAL.
fn store_entries(n: &mut Raft, term: u64, count: u64) {
    for _ in 0..count {
        let ae = encoded(&n.id.clone(), term, n.commit, n.pterm, n.pindex, normal(b"x"));
        if let Err(e) = n.store_to_wal(&ae) {
            panic!("storing entry {}: {e}", n.pindex + 1);
        }
    }
}

/// Leader of its single-member group with leadership announced: the
/// peer-state entry it sends on winning commits at once and is applied.
fn make_leader(n: &mut Raft) {
    n.switch_to_leader();
    let idx = n.pindex;
    n.applied(idx);
    assert!(n.leader(), "single-member leader announces itself once its first entry is applied");
}

/// Runs `f` on the node in `slot`, then returns what the network
/// delivered to `subject` within a second of simulated time (the node
/// stays frozen).
fn published(c: &mut Cluster, slot: usize, subject: &str, f: impl FnOnce(&mut Raft)) -> Vec<crate::sim::Msg> {
    let p = c.subscribe(subject);
    f(c.node(slot));
    c.run_for(Duration::from_secs(1));
    let msgs = c.probes[p].msgs.drain(..).collect();
    c.unsubscribe(p);
    msgs
}

/// Records every log line of a node, debug included.
struct CaptureEnv {
    inner: SimHost,
    lines: Rc<RefCell<Vec<(LogLevel, String)>>>,
}

impl RaftEnv for CaptureEnv {
    fn now(&self) -> Timestamp {
        self.inner.now()
    }
    fn rand_u64(&mut self) -> u64 {
        self.inner.rand_u64()
    }
    fn transport(&mut self) -> &mut dyn Transport {
        self.inner.transport()
    }
    fn fs(&mut self) -> &mut dyn Fs {
        self.inner.fs()
    }
    fn log(&mut self, level: LogLevel, msg: &str) {
        self.lines.borrow_mut().push((level, msg.to_string()));
    }
}

/// Swaps the node's host for an equivalent one that records log lines.
fn capture_logs(c: &mut Cluster, slot: usize) -> Rc<RefCell<Vec<(LogLevel, String)>>> {
    let server = c.nodes[slot].server;
    let name = c.servers[server].name.clone();
    let lines = Rc::new(RefCell::new(Vec::new()));
    let host = SimHost::new(c.world.clone(), server, slot, &name);
    c.nodes[slot].raft.env = Box::new(CaptureEnv { inner: host, lines: lines.clone() });
    lines
}

fn peer(ts: Option<Timestamp>, li: u64, kp: bool) -> Lps {
    Lps { ts, li, kp }
}

// ---- node.rs -------------------------------------------------------------

#[test]
fn recreate_internal_subs_locked_resubscribes_after_losing_the_client() {
    let (mut c, slot) = single_node("recreate_internal_subs_locked_resubscribes_after_losing_the_client");
    let n = c.node(slot);
    assert_eq!(n.num_subscriptions(), 4);
    let vreply = n.vreply.clone();

    // The append-entry subscription is in place: nothing to do.
    n.recreate_internal_subs_locked().expect("no-op while subscribed");
    assert_eq!(n.vreply, vreply);
    assert_eq!(n.num_subscriptions(), 4);

    // Catching up, then losing client and subscriptions.
    let ahead = encoded(PEER1, 1, 0, 1, 5, Vec::new());
    n.create_catchup(&ahead);
    n.teardown();
    assert_eq!(n.num_subscriptions(), 0);
    assert!(n.aesub.is_none());
    assert!(n.is_catching_up());

    n.recreate_internal_subs_locked().expect("resubscribes");
    assert!(n.client.is_some());
    assert!(n.aesub.is_some());
    assert_eq!(n.num_subscriptions(), 4);
    assert!(!n.is_catching_up(), "the catch-up of the old client is cancelled");
    assert_ne!(n.vreply, vreply, "fresh inboxes");
}

#[test]
fn create_internal_subs_sets_subjects_and_subscribes_four() {
    let (mut c, slot) = single_node("create_internal_subs_sets_subjects_and_subscribes_four");
    let n = c.node(slot);
    let (old_areply, old_aesub) = (n.areply.clone(), n.aesub);
    for s in [&mut n.vsubj, &mut n.asubj, &mut n.psubj, &mut n.rpsubj] {
        s.clear();
    }

    n.create_internal_subs().expect("subscribes");
    assert_eq!(n.vsubj, "$NRG.V.TEST");
    assert_eq!(n.asubj, "$NRG.AE.TEST");
    assert_eq!(n.psubj, "$NRG.P.TEST");
    assert_eq!(n.rpsubj, "$NRG.RP.TEST");
    assert!(n.vreply.starts_with("$NRG.R.") && n.areply.starts_with("$NRG.R."));
    assert_ne!(n.areply, old_areply);
    assert_eq!(n.num_subscriptions(), 8, "four more subscriptions");
    let aesub = n.aesub.expect("append entry subscription");
    assert_ne!(Some(aesub), old_aesub);
    assert_eq!(n.subs.get(&aesub), Some(&SubKind::AppendEntry));
    let kinds: Vec<SubKind> = n.subs.values().copied().collect();
    for k in [SubKind::VoteResponse, SubKind::VoteRequest, SubKind::AppendEntryResponse, SubKind::AppendEntry] {
        assert_eq!(kinds.iter().filter(|&&x| x == k).count(), 2, "{k:?}");
    }
}

#[test]
fn subscribe_registers_the_kind_and_needs_a_client() {
    let (mut c, slot) = single_node("subscribe_registers_the_kind_and_needs_a_client");
    let n = c.node(slot);
    let before = n.num_subscriptions();
    let sid = n.subscribe("test.fwd", SubKind::ForwardedProposal).expect("subscribed");
    assert_eq!(n.num_subscriptions(), before + 1);
    assert_eq!(n.subs.get(&sid), Some(&SubKind::ForwardedProposal));
    assert!(c.world.net.borrow().has_subscriber("test.fwd"));

    let n = c.node(slot);
    n.teardown();
    assert_eq!(n.subscribe("test.other", SubKind::AppendEntry), Err(RaftError::NoInternalClient));
    assert_eq!(n.num_subscriptions(), 0);
}

#[test]
fn unsubscribe_removes_only_our_own_subscription() {
    let (mut c, slot) = single_node("unsubscribe_removes_only_our_own_subscription");
    let n = c.node(slot);
    let before = n.num_subscriptions();
    let sid = n.subscribe("test.unsub", SubKind::ForwardedProposal).expect("subscribed");
    n.unsubscribe(Some(sid));
    assert_eq!(n.num_subscriptions(), before);
    assert!(!n.subs.contains_key(&sid));
    assert!(!c.world.net.borrow().has_subscriber("test.unsub"));

    // Unknown and absent subscriptions are no-ops.
    let n = c.node(slot);
    n.unsubscribe(Some(sid));
    n.unsubscribe(None);
    assert_eq!(n.num_subscriptions(), before);
    assert!(c.world.net.borrow().has_subscriber("$NRG.AE.TEST"));
}

#[test]
fn inboxes_carry_their_prefix_and_a_random_suffix() {
    let (mut c, slot) = single_node("inboxes_carry_their_prefix_and_a_random_suffix");
    let n = c.node(slot);
    let alnum = |s: &str| s.len() == 8 && s.chars().all(|ch| ch.is_ascii_alphanumeric());

    let (a, b) = (n.new_inbox(), n.new_inbox());
    let sa = a.strip_prefix("$NRG.R.").expect("reply inbox prefix");
    assert!(alnum(sa), "{a}");
    assert_ne!(a, b);

    let (x, y) = (n.new_catchup_inbox(), n.new_catchup_inbox());
    let sx = x.strip_prefix("$NRG.CR.").expect("catch-up inbox prefix");
    assert!(alnum(sx), "{x}");
    assert_ne!(x, y);
}

#[test]
fn send_rpc_publishes_with_reply_unless_subject_is_empty() {
    let (mut c, slot) = single_node("send_rpc_publishes_with_reply_unless_subject_is_empty");
    let msgs = published(&mut c, slot, "test.rpc", |n| {
        n.send_rpc("test.rpc", "test.inbox", b"hello");
        n.send_rpc("", "test.inbox", b"dropped");
    });
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].reply, "test.inbox");
    assert_eq!(msgs[0].data, b"hello");
}

#[test]
fn send_reply_publishes_without_reply_unless_subject_is_empty() {
    let (mut c, slot) = single_node("send_reply_publishes_without_reply_unless_subject_is_empty");
    let msgs = published(&mut c, slot, "test.reply", |n| {
        n.send_reply("test.reply", b"answer");
        n.send_reply("", b"dropped");
    });
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].reply, "");
    assert_eq!(msgs[0].data, b"answer");
}

#[test]
fn debug_logs_at_debug_level_with_node_and_group() {
    let (mut c, slot) = single_node("debug_logs_at_debug_level_with_node_and_group");
    let lines = capture_logs(&mut c, slot);
    let n = c.node(slot);
    let id = n.id.clone();
    n.debug("checking the debug line");
    assert_eq!(*lines.borrow(), vec![(LogLevel::Debug, format!("RAFT [{id} - TEST] checking the debug line"))]);
}

#[test]
fn warn_logs_at_warn_level_with_node_and_group() {
    let (mut c, slot) = single_node("warn_logs_at_warn_level_with_node_and_group");
    let lines = capture_logs(&mut c, slot);
    let n = c.node(slot);
    let id = n.id.clone();
    n.warn("checking the warning");
    assert_eq!(*lines.borrow(), vec![(LogLevel::Warn, format!("RAFT [{id} - TEST] checking the warning"))]);
}

#[test]
fn error_logs_at_error_level_with_node_and_group() {
    let (mut c, slot) = single_node("error_logs_at_error_level_with_node_and_group");
    let lines = capture_logs(&mut c, slot);
    let n = c.node(slot);
    let id = n.id.clone();
    n.error("checking the error");
    assert_eq!(*lines.borrow(), vec![(LogLevel::Error, format!("RAFT [{id} - TEST] checking the error"))]);
}

#[test]
fn set_write_err_locked_records_write_errors_and_closes() {
    let (mut c, slot) = single_node("set_write_err_locked_records_write_errors_and_closes");
    let n = c.node(slot);
    // Not about writing: ignored.
    n.set_write_err_locked(RaftError::Wal(WalError::Closed));
    n.set_write_err_locked(RaftError::Wal(WalError::Eof));
    n.set_write_err_locked(RaftError::Fs(FsError::NotFound("/gone".into())));
    assert_eq!(n.werr, None);
    assert_eq!(n.state(), RaftState::Follower);

    let disk_full = RaftError::Fs(FsError::Io("disk full".into()));
    n.set_write_err_locked(disk_full.clone());
    assert_eq!(n.werr, Some(disk_full.clone()));
    assert_eq!(n.state(), RaftState::Closed);
    assert_eq!(n.assertion_failures(), [super::node::WRITE_ERROR_ASSERTION], "upstream's Unreachable fires once");

    // Once closed, later errors are not recorded.
    n.set_write_err_locked(RaftError::Fs(FsError::Io("another".into())));
    assert_eq!(n.werr, Some(disk_full));
}

#[test]
fn is_closed_follows_shutdown() {
    let (mut c, slot) = single_node("is_closed_follows_shutdown");
    let n = c.node(slot);
    assert!(!n.is_closed());
    n.switch_state(RaftState::Candidate);
    assert!(!n.is_closed());
    n.shutdown();
    assert!(n.is_closed());
}

#[test]
fn is_current_needs_commits_applied_and_a_live_leader() {
    let (mut c, slot) = single_node("is_current_needs_commits_applied_and_a_live_leader");
    let hb = c.node(slot).timings.hb_interval;
    let t0 = now(&c);
    let n = c.node(slot);
    assert_ne!(n.is_current(false), Currentness::Yes, "nothing committed yet");

    n.commit = 3;
    n.applied = 3;
    assert_eq!(n.is_current(false), Currentness::Yes);
    n.applied = 2;
    assert_ne!(n.is_current(false), Currentness::Yes, "commits not yet applied");
    n.applied = 3;

    n.paused = true;
    n.hcommit = 5;
    assert_ne!(n.is_current(false), Currentness::Yes, "paused with commits held back");
    n.paused = false;
    n.hcommit = 0;

    // Following a leader: current only while we hear from it.
    n.leader = PEER1.to_string();
    n.peers.insert(PEER1.to_string(), peer(Some(t0), 0, true));
    assert_eq!(n.is_current(true), Currentness::Yes);
    advance(&c, hb * 2 + Duration::from_millis(1));
    let n = c.node(slot);
    assert_ne!(n.is_current(false), Currentness::Yes, "leader silent for over two heartbeats");

    // Catching up is never current.
    n.leader = NO_LEADER.to_string();
    let ahead = encoded(PEER1, 1, 0, 1, 9, Vec::new());
    n.create_catchup(&ahead);
    assert_ne!(n.is_current(false), Currentness::Yes);
    n.cancel_catchup();
    assert_eq!(n.is_current(false), Currentness::Yes);

    // A leader is current even with applies pending.
    n.state = RaftState::Leader;
    n.applied = 0;
    assert_eq!(n.is_current(false), Currentness::Yes);
    n.shutdown();
    assert_ne!(n.is_current(false), Currentness::Yes);
}

#[test]
fn quorum_needed_is_a_majority_of_the_cluster() {
    let (mut c, slot) = single_node("quorum_needed_is_a_majority_of_the_cluster");
    let n = c.node(slot);
    assert_eq!(n.quorum_needed(), 1);
    let ps = PeerState { known_peers: vec![n.id.clone(), PEER1.into(), PEER2.into()], cluster_size: 5, domain_ext: ExtensionState::UNDETERMINED };
    n.process_peer_state(&ps);
    assert_eq!(n.quorum_needed(), 3);
    n.qn = 7;
    assert_eq!(n.quorum_needed(), 7);
}

#[test]
fn update_lead_change_queues_in_order_and_keeps_the_last_32() {
    let (mut c, slot) = single_node("update_lead_change_queues_in_order_and_keeps_the_last_32");
    let n = c.node(slot);
    while n.lead_change_c().is_some() {}
    n.update_lead_change(true);
    n.update_lead_change(false);
    assert_eq!(n.lead_change_c(), Some(true));
    assert_eq!(n.lead_change_c(), Some(false));
    assert_eq!(n.lead_change_c(), None);

    // 40 values into a 32-slot buffer: the 8 oldest (true) are dropped.
    for i in 0..40 {
        n.update_lead_change(i < 8);
    }
    assert_eq!(n.leadc.len(), 32);
    assert!(n.leadc.iter().all(|&b| !b));
}

// ---- election.rs ---------------------------------------------------------

#[test]
fn rand_election_timeout_stays_in_the_election_range() {
    let (mut c, slot) = single_node("rand_election_timeout_stays_in_the_election_range");
    let n = c.node(slot);
    let (min, max) = (n.timings.min_election_timeout, n.timings.max_election_timeout);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let et = n.rand_election_timeout();
        assert!(et >= min && et < max, "{et:?} outside [{min:?}, {max:?})");
        seen.insert(et);
    }
    assert!(seen.len() > 1, "randomised");
}

#[test]
fn rand_campaign_timeout_stays_in_the_campaign_range() {
    let (mut c, slot) = single_node("rand_campaign_timeout_stays_in_the_campaign_range");
    let n = c.node(slot);
    let (min, max) = (n.timings.min_campaign_timeout, n.timings.max_campaign_timeout);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let et = n.rand_campaign_timeout();
        assert!(et >= min && et < max, "{et:?} outside [{min:?}, {max:?})");
        seen.insert(et);
    }
    assert!(seen.len() > 1, "randomised");
}

#[test]
fn reset_election_timeout_arms_the_timer_within_the_election_range() {
    let (mut c, slot) = single_node("reset_election_timeout_arms_the_timer_within_the_election_range");
    advance(&c, Duration::from_secs(7));
    let t = now(&c);
    let n = c.node(slot);
    let (min, max) = (n.timings.min_election_timeout, n.timings.max_election_timeout);
    n.etlr = None;
    n.reset_election_timeout();
    assert_eq!(n.etlr(), Some(t));
    let et = n.election_deadline().since(t);
    assert!(et >= min && et < max, "{et:?} outside [{min:?}, {max:?})");
}

#[test]
fn campaign_locked_arms_the_timer_unless_leader() {
    let (mut c, slot) = single_node("campaign_locked_arms_the_timer_unless_leader");
    advance(&c, Duration::from_secs(1));
    let t = now(&c);
    let n = c.node(slot);
    let et = Duration::from_millis(123);
    n.campaign_locked(et).expect("follower may campaign");
    assert_eq!(n.election_deadline(), t.add(et));
    assert_eq!(n.etlr(), Some(t));

    make_leader(n);
    let deadline = n.election_deadline();
    assert_eq!(n.campaign_locked(Duration::from_millis(5)), Err(RaftError::AlreadyLeader));
    assert_eq!(n.election_deadline(), deadline);
}

#[test]
fn xfer_campaign_fires_in_ten_milliseconds_unless_leader() {
    let (mut c, slot) = single_node("xfer_campaign_fires_in_ten_milliseconds_unless_leader");
    let t = now(&c);
    let n = c.node(slot);
    n.xfer_campaign().expect("follower may campaign");
    assert_eq!(n.election_deadline(), t.add(Duration::from_millis(10)));

    make_leader(n);
    n.lxfer = true;
    assert_eq!(n.xfer_campaign(), Err(RaftError::AlreadyLeader));
    assert!(!n.lxfer, "a leader drops the transfer");
}

#[test]
fn select_next_leader_picks_the_most_caught_up_other_peer() {
    let (mut c, slot) = single_node("select_next_leader_picks_the_most_caught_up_other_peer");
    let n = c.node(slot);
    assert_eq!(n.select_next_leader(), NO_LEADER, "alone in the group");

    let me = n.id.clone();
    n.peers.insert(PEER1.into(), peer(None, 5, true));
    n.peers.insert(PEER2.into(), peer(None, 9, true));
    n.peers.get_mut(&me).expect("self").li = 20;
    assert_eq!(n.select_next_leader(), PEER2);

    for p in n.peers.values_mut() {
        p.li = 0;
    }
    assert_eq!(n.select_next_leader(), NO_LEADER, "nobody has replicated anything");
}

#[test]
fn won_election_needs_a_quorum_of_votes() {
    let (mut c, slot) = single_node("won_election_needs_a_quorum_of_votes");
    let n = c.node(slot);
    n.qn = 2;
    assert!(!n.won_election(0));
    assert!(!n.won_election(1));
    assert!(n.won_election(2));
    assert!(n.won_election(3));
}

#[test]
fn switch_to_follower_locked_drops_leadership_and_acks() {
    let (mut c, slot) = single_node("switch_to_follower_locked_drops_leadership_and_acks");
    let n = c.node(slot);
    make_leader(n);
    assert_eq!(n.lead_change_c(), Some(true));
    n.acks.insert(9, [PEER1.to_string()].into_iter().collect());
    n.lxfer = true;
    n.aflr = 4;

    n.switch_to_follower_locked(PEER1);
    assert_eq!(n.state(), RaftState::Follower);
    assert_eq!(n.group_leader(), PEER1);
    assert!(!n.leader());
    assert_eq!(n.leader_since(), None);
    assert!(n.acks.is_empty());
    assert!(!n.lxfer);
    assert_eq!(n.aflr, 0);
    assert_eq!(n.lead_change_c(), Some(false));

    // A closed node stays closed.
    n.shutdown();
    n.switch_to_follower_locked(PEER2);
    assert_eq!(n.state(), RaftState::Closed);
    assert_eq!(n.group_leader(), PEER1);
}

#[test]
fn set_observer_locked_records_extension_and_rearms_on_leaving() {
    let (mut c, slot) = single_node("set_observer_locked_records_extension_and_rearms_on_leaving");
    advance(&c, Duration::from_secs(2));
    let t = now(&c);
    let n = c.node(slot);
    let (min, max) = (n.timings.min_election_timeout, n.timings.max_election_timeout);
    n.etlr = None;
    n.set_observer_locked(true, ExtensionState::EXTENDED);
    assert!(n.is_observer());
    assert_eq!(n.ext_st, ExtensionState::EXTENDED);
    assert_eq!(n.etlr(), None, "becoming an observer leaves the timer alone");

    n.set_observer_locked(false, ExtensionState::NOT_EXTENDED);
    assert!(!n.is_observer());
    assert_eq!(n.ext_st, ExtensionState::NOT_EXTENDED);
    assert_eq!(n.etlr(), Some(t));
    let et = n.election_deadline().since(t);
    assert!(et >= min && et < max);
}

#[test]
fn handle_vote_request_queues_decoded_requests() {
    let (mut c, slot) = single_node("handle_vote_request_queues_decoded_requests");
    let n = c.node(slot);
    let vr = VoteRequest { term: 4, last_term: 3, last_index: 12, candidate: PEER1.into(), reply: String::new() };
    n.handle_vote_request("vote.inbox", &vr.encode());
    assert_eq!(n.reqs.len(), 1);
    let got = &n.reqs[0];
    assert_eq!((got.term, got.last_term, got.last_index), (4, 3, 12));
    assert_eq!(got.candidate, PEER1);
    assert_eq!(got.reply, "vote.inbox");

    n.handle_vote_request("vote.inbox", b"garbage");
    assert_eq!(n.reqs.len(), 1, "malformed requests are dropped");
}

#[test]
fn handle_vote_response_queues_only_while_campaigning_or_leading() {
    let (mut c, slot) = single_node("handle_vote_response_queues_only_while_campaigning_or_leading");
    let n = c.node(slot);
    let vresp = VoteResponse { term: 2, peer: PEER1.into(), granted: true, empty: false };
    n.handle_vote_response(&vresp.encode());
    assert!(n.votes.is_empty(), "a follower ignores vote responses");

    n.state = RaftState::Candidate;
    n.handle_vote_response(&vresp.encode());
    assert_eq!(n.votes.len(), 1);
    assert_eq!(n.votes[0].peer, PEER1);
    assert!(n.votes[0].granted);

    n.handle_vote_response(b"bad");
    assert_eq!(n.votes.len(), 1, "malformed responses are dropped");
}

// ---- append.rs -----------------------------------------------------------

#[test]
fn handle_append_entry_queues_decoded_entries_with_sub_and_reply() {
    let (mut c, slot) = single_node("handle_append_entry_queues_decoded_entries_with_sub_and_reply");
    let n = c.node(slot);
    let sid = n.aesub.expect("subscribed");
    let ae = encoded(PEER1, 2, 0, 0, 0, normal(b"payload"));
    n.handle_append_entry(sid, "ae.reply", &ae.buf);
    assert_eq!(n.entry.len(), 1);
    let got = &n.entry[0];
    assert_eq!(got.sub, Some(sid));
    assert_eq!(got.reply, "ae.reply");
    assert_eq!(got.leader, PEER1);
    assert_eq!(got.entries, normal(b"payload"));

    n.handle_append_entry(sid, "ae.reply", b"\x01\x02");
    assert_eq!(n.entry.len(), 1, "corrupt entries are dropped");
}

#[test]
fn process_append_entries_drains_the_queue_and_drops_it_when_closed() {
    let (mut c, slot) = single_node("process_append_entries_drains_the_queue_and_drops_it_when_closed");
    let n = c.node(slot);
    let mut first = encoded(PEER1, 1, 0, 0, 0, normal(b"one"));
    first.sub = n.aesub;
    let mut second = encoded(PEER1, 1, 0, 1, 1, normal(b"two"));
    second.sub = n.aesub;
    n.entry.push_back(first);
    n.entry.push_back(second);

    n.process_append_entries();
    assert!(n.entry.is_empty());
    assert_eq!(n.last_log(), (2, 1));
    assert_eq!(n.group_leader(), PEER1);

    let mut third = encoded(PEER1, 1, 0, 1, 2, normal(b"three"));
    third.sub = n.aesub;
    n.entry.push_back(third);
    n.shutdown();
    n.process_append_entries();
    assert!(n.entry.is_empty(), "entries are popped even when closed");
    assert_eq!(n.last_log(), (2, 1), "but not processed");
}

#[test]
fn cache_pending_entry_keys_by_pindex_and_stops_at_the_drop_threshold() {
    let (mut c, slot) = single_node("cache_pending_entry_keys_by_pindex_and_stops_at_the_drop_threshold");
    let n = c.node(slot);
    let ae = encoded(PEER1, 1, 0, 0, 3, normal(b"x"));
    n.pindex = 4;
    n.cache_pending_entry(ae.clone());
    assert_eq!(n.pae.get(&4), Some(&ae));

    // Full cache: the entry at pindex is dropped instead of cached.
    for i in 0..(PAE_DROP_THRESHOLD as u64 - 1) {
        n.pae.insert(1_000 + i, ae.clone());
    }
    assert_eq!(n.pae.len(), PAE_DROP_THRESHOLD);
    n.cache_pending_entry(ae.clone());
    assert!(!n.pae.contains_key(&4));
    assert_eq!(n.pae.len(), PAE_DROP_THRESHOLD - 1);
    // Below the threshold again: cached.
    n.pindex = 5;
    n.cache_pending_entry(ae);
    assert!(n.pae.contains_key(&5));
}

#[test]
fn reset_initializing_ends_initializing_and_scale_up_observer() {
    let (mut c, slot) = single_node("reset_initializing_ends_initializing_and_scale_up_observer");
    let n = c.node(slot);
    n.initializing = true;
    n.reset_initializing();
    assert!(!n.initializing);
    assert!(!n.is_observer());

    // A plain observer stays one.
    n.set_observer_locked(true, ExtensionState::UNDETERMINED);
    n.initializing = true;
    n.reset_initializing();
    assert!(n.is_observer());

    // The observer of a scale-up is released and may campaign.
    n.scale_up = true;
    n.etlr = None;
    n.reset_initializing();
    assert!(!n.scale_up);
    assert!(!n.is_observer());
    assert!(n.etlr().is_some(), "leaving observer mode re-arms the election timer");
}

#[test]
fn catchup_stalled_after_two_seconds_without_progress() {
    let (mut c, slot) = single_node("catchup_stalled_after_two_seconds_without_progress");
    assert!(!c.node(slot).catchup_stalled(), "no catch-up, nothing stalled");
    let ahead = encoded(PEER1, 1, 0, 1, 9, Vec::new());
    c.node(slot).create_catchup(&ahead);
    assert!(!c.node(slot).catchup_stalled());

    advance(&c, Duration::from_millis(2_500));
    assert!(c.node(slot).catchup_stalled(), "no progress for 2.5s");

    // Progress resets the clock.
    store_entries(c.node(slot), 1, 1);
    assert!(!c.node(slot).catchup_stalled());
    assert_eq!(c.node(slot).catchup.as_ref().map(|cs| (cs.pindex, cs.active)), Some((1, Some(now(&c)))));
    advance(&c, Duration::from_millis(1_500));
    assert!(!c.node(slot).catchup_stalled());
    advance(&c, Duration::from_millis(1_000));
    assert!(c.node(slot).catchup_stalled());
}

#[test]
fn send_catchup_signal_queues_one_marker_per_catchup() {
    let (mut c, slot) = single_node("send_catchup_signal_queues_one_marker_per_catchup");
    let n = c.node(slot);
    n.send_catchup_signal();
    assert!(n.apply.is_empty(), "no catch-up, no signal");

    let ahead = encoded(PEER1, 1, 0, 1, 9, Vec::new());
    n.create_catchup(&ahead);
    n.send_catchup_signal();
    n.send_catchup_signal();
    assert_eq!(n.apply.len(), 1);
    let marker = n.apply[0].as_ref().expect("a catch-up entry, not the end marker");
    assert_eq!(marker.index, 0);
    assert_eq!(marker.entries, vec![Entry::new(EntryType::Catchup, Vec::new())]);
    assert!(n.catchup.as_ref().is_some_and(|cs| cs.signal));
}

#[test]
fn cancel_catchup_signal_ends_a_signalled_catchup_only() {
    let (mut c, slot) = single_node("cancel_catchup_signal_ends_a_signalled_catchup_only");
    let n = c.node(slot);
    n.cancel_catchup_signal();
    assert!(n.apply.is_empty());

    let ahead = encoded(PEER1, 1, 0, 1, 9, Vec::new());
    n.create_catchup(&ahead);
    n.cancel_catchup_signal();
    assert!(n.apply.is_empty(), "the upper layer never heard of this catch-up");

    n.send_catchup_signal();
    n.cancel_catchup_signal();
    assert_eq!(n.apply.len(), 2);
    assert_eq!(n.apply[1], None, "end-of-catch-up marker");
}

// ---- leader.rs -----------------------------------------------------------

#[test]
fn is_leader_overrun_when_uncommitted_or_unapplied_pass_the_threshold() {
    let (mut c, slot) = single_node("is_leader_overrun_when_uncommitted_or_unapplied_pass_the_threshold");
    let n = c.node(slot);
    let t = PAUSE_QUORUM_THRESHOLD;
    assert!(!n.is_leader_overrun());

    n.pindex = t + 1;
    assert!(n.is_leader_overrun(), "too many uncommitted entries");
    n.pindex = t;
    assert!(!n.is_leader_overrun(), "at the threshold is fine");

    n.pindex = t + 1;
    n.commit = t + 1;
    assert!(n.is_leader_overrun(), "too many unapplied commits");
    n.applied = 1;
    assert!(!n.is_leader_overrun());
    n.applied = 0;
    n.papplied = t + 1;
    assert!(!n.is_leader_overrun(), "a snapshot counts as applied");
}

#[test]
fn pause_apply_locked_holds_commits_and_parks_the_election_timer() {
    let (mut c, slot) = single_node("pause_apply_locked_holds_commits_and_parks_the_election_timer");
    let t = now(&c);
    let n = c.node(slot);
    let parked = n.timings.observer_mode_interval;
    n.commit = 7;
    n.pause_apply_locked();
    assert!(n.paused);
    assert_eq!(n.hcommit, 7);
    assert_eq!(n.election_deadline(), t.add(parked));

    n.hcommit = 9;
    n.pause_apply_locked();
    assert_eq!(n.hcommit, 9, "a higher held commit is kept");

    // A leader steps down first.
    n.paused = false;
    n.hcommit = 0;
    n.commit = 0;
    make_leader(n);
    n.pause_apply_locked();
    assert_eq!(n.state(), RaftState::Follower);
    assert!(n.paused);
}

#[test]
fn handle_forwarded_proposal_queues_only_on_an_announced_leader() {
    let (mut c, slot) = single_node("handle_forwarded_proposal_queues_only_on_an_announced_leader");
    let n = c.node(slot);
    n.handle_forwarded_proposal("fwd.reply", b"data");
    assert!(n.prop.is_empty(), "followers ignore forwarded proposals");

    n.switch_to_leader();
    n.handle_forwarded_proposal("fwd.reply", b"data");
    assert!(n.prop.is_empty(), "leadership not announced yet");

    let idx = n.pindex;
    n.applied(idx);
    n.handle_forwarded_proposal("fwd.reply", b"data");
    assert_eq!(n.prop.len(), 1);
    assert_eq!(n.prop[0].entry, Entry::new(EntryType::Normal, b"data".to_vec()));
    assert_eq!(n.prop[0].reply, "fwd.reply");

    // An overrun leader steps down instead.
    n.pindex = n.commit + PAUSE_QUORUM_THRESHOLD + 1;
    n.handle_forwarded_proposal("fwd.reply", b"more");
    assert_eq!(n.prop.len(), 0, "stepping down drops queued proposals");
    assert_eq!(n.state(), RaftState::Follower);
}

#[test]
fn send_append_entry_locked_stores_and_publishes() {
    let (mut c, slot) = single_node("send_append_entry_locked_stores_and_publishes");
    let n = c.node(slot);
    assert_eq!(n.send_append_entry_locked(normal(b"x"), true), Err(RaftError::NotLeader));
    assert_eq!(n.last_log(), (0, 0));

    // Without the leader check a follower stores it too (SendSnapshot's path).
    n.send_append_entry_locked(normal(b"y"), false).expect("stored");
    assert_eq!(n.last_log().0, 1);
    assert_eq!(n.load_entry(1).expect("in the WAL").entries, normal(b"y"));
    assert_eq!(n.commit_index(), 1, "a single-member group commits at once");

    let (asubj, areply) = (n.asubj.clone(), n.areply.clone());
    let msgs = published(&mut c, slot, &asubj, |n| {
        make_leader(n);
        let before = n.pindex;
        n.send_append_entry_locked(normal(b"z"), true).expect("leader sends");
        assert_eq!(n.pindex, before + 1);
        assert_eq!(n.commit, n.pindex, "a single-member group commits at once");
        assert!(n.active.is_some());
    });
    let last = msgs.last().expect("published to the group");
    assert_eq!(last.reply, areply);
    let ae = decode_append_entry(&last.data, None, "").expect("decodes");
    assert_eq!(ae.entries, normal(b"z"));
}

#[test]
fn send_heartbeat_publishes_an_empty_entry_without_storing() {
    let (mut c, slot) = single_node("send_heartbeat_publishes_an_empty_entry_without_storing");
    let asubj = c.node(slot).asubj.clone();
    let follower = published(&mut c, slot, &asubj, |n| n.send_heartbeat());
    assert!(follower.is_empty(), "followers send no heartbeats");

    make_leader(c.node(slot));
    let before = c.node(slot).last_log();
    let msgs = published(&mut c, slot, &asubj, |n| n.send_heartbeat());
    assert_eq!(c.node(slot).last_log(), before, "heartbeats are not stored");
    assert_eq!(msgs.len(), 1);
    let hb = decode_append_entry(&msgs[0].data, None, "").expect("decodes");
    assert!(hb.entries.is_empty());
    let n = c.node(slot);
    assert_eq!((hb.term, hb.commit, hb.pindex), (n.term, n.commit, n.pindex));
}

#[test]
fn send_peer_state_replicates_the_current_peer_state() {
    let (mut c, slot) = single_node("send_peer_state_replicates_the_current_peer_state");
    let n = c.node(slot);
    n.send_peer_state();
    assert_eq!(n.last_log().0, 0, "followers do not send it");

    make_leader(n);
    n.ext_st = ExtensionState::EXTENDED;
    let before = n.pindex;
    let asubj = n.asubj.clone();
    let msgs = published(&mut c, slot, &asubj, |n| n.send_peer_state());
    let n = c.node(slot);
    assert_eq!(n.pindex, before + 1);
    let stored = n.load_entry(n.pindex).expect("stored");
    assert_eq!(stored.entries.len(), 1);
    assert_eq!(stored.entries[0].typ, EntryType::PeerState);
    let ps = decode_peer_state(&stored.entries[0].data).expect("peer state");
    assert_eq!(ps, n.current_peer_state());
    assert_eq!(ps.domain_ext, ExtensionState::EXTENDED);
    assert_eq!(msgs.len(), 1);
}

#[test]
fn not_active_after_a_heartbeat_interval_of_silence() {
    let (mut c, slot) = single_node("not_active_after_a_heartbeat_interval_of_silence");
    let hb = c.node(slot).timings.hb_interval;
    assert!(c.node(slot).not_active(), "never sent anything");
    let t = now(&c);
    c.node(slot).active = Some(t);
    assert!(!c.node(slot).not_active());
    advance(&c, hb);
    assert!(!c.node(slot).not_active(), "exactly one interval is still active");
    advance(&c, Duration::from_millis(1));
    assert!(c.node(slot).not_active());
}

#[test]
fn handle_append_entry_response_queues_with_the_reply_inbox() {
    let (mut c, slot) = single_node("handle_append_entry_response_queues_with_the_reply_inbox");
    let n = c.node(slot);
    let ar = AppendEntryResponse::new(3, 9, PEER1, true);
    n.handle_append_entry_response("catchup.inbox", &ar.encode());
    assert_eq!(n.resp.len(), 1);
    let got = &n.resp[0];
    assert_eq!((got.term, got.index, got.success), (3, 9, true));
    assert_eq!(got.peer, PEER1);
    assert_eq!(got.reply, "catchup.inbox");

    n.handle_append_entry_response("catchup.inbox", b"short");
    assert_eq!(n.resp.len(), 1, "malformed responses are dropped");
}

#[test]
fn lost_quorum_locked_counts_recently_heard_peers() {
    let (mut c, slot) = single_node("lost_quorum_locked_counts_recently_heard_peers");
    let t = now(&c);
    let n = c.node(slot);
    n.lsut = None;
    assert!(!n.lost_quorum_locked(), "alone, we are our own quorum");

    n.peers.insert(PEER1.into(), peer(None, 0, true));
    n.peers.insert(PEER2.into(), peer(None, 0, true));
    n.csz = 3;
    n.qn = 2;
    assert!(n.lost_quorum_locked(), "nobody else heard from");

    n.peers.get_mut(PEER1).expect("peer").ts = Some(t);
    assert!(!n.lost_quorum_locked());
    n.peers.get_mut(PEER1).expect("peer").ts = None;

    n.resp.push_back(AppendEntryResponse::new(1, 1, PEER2, true));
    assert!(!n.lost_quorum_locked(), "responses waiting to be processed");
    n.resp.clear();

    n.lsut = Some(t);
    assert!(!n.lost_quorum_locked(), "just scaled up");
}

// ---- membership.rs -------------------------------------------------------

#[test]
fn process_peer_state_adopts_peers_size_and_persists() {
    let (mut c, slot) = single_node("process_peer_state_adopts_peers_size_and_persists");
    let n = c.node(slot);
    let me = n.id.clone();
    n.peers.insert(PEER1.into(), peer(None, 7, false));
    n.peers.insert("gone0000".into(), peer(None, 1, true));
    let ps = PeerState { known_peers: vec![me.clone(), PEER1.into(), PEER2.into()], cluster_size: 5, domain_ext: ExtensionState::EXTENDED };
    n.process_peer_state(&ps);

    assert_eq!((n.csz, n.qn), (5, 3));
    let ids: Vec<&String> = n.peers.keys().collect();
    assert_eq!(ids.len(), 3);
    assert!(!n.peers.contains_key("gone0000"));
    assert!(n.peers.values().all(|p| p.kp));
    assert_eq!(n.peers[PEER1].li, 7, "what we knew about a peer is kept");
    let sd = n.sd.clone();
    assert_eq!(read_peer_state(n.env.fs(), &sd).expect("written"), ps);
}

#[test]
fn update_known_peers_locked_sizes_the_cluster_from_the_list() {
    let (mut c, slot) = single_node("update_known_peers_locked_sizes_the_cluster_from_the_list");
    let n = c.node(slot);
    let me = n.id.clone();
    n.ext_st = ExtensionState::NOT_EXTENDED;
    n.update_known_peers_locked(&[me, PEER1.into(), PEER2.into()]);
    assert_eq!((n.csz, n.qn), (3, 2));
    assert_eq!(n.peer_names().len(), 3);
    let sd = n.sd.clone();
    let ps = read_peer_state(n.env.fs(), &sd).expect("written");
    assert_eq!(ps.cluster_size, 3);
    assert_eq!(ps.domain_ext, ExtensionState::NOT_EXTENDED, "our extension state is kept");
}

#[test]
fn adjust_cluster_size_and_quorum_counts_known_peers() {
    let (mut c, slot) = single_node("adjust_cluster_size_and_quorum_counts_known_peers");
    let t = now(&c);
    let n = c.node(slot);
    make_leader(n);
    n.lsut = None;
    n.hb_pending = false;
    n.peers.insert(PEER1.into(), peer(None, 0, true));
    n.peers.insert(PEER2.into(), peer(None, 0, false));
    n.adjust_cluster_size_and_quorum();
    assert_eq!((n.csz, n.qn), (2, 2), "only known peers count");
    assert_eq!(n.lsut, Some(t), "growing records the scale-up time");
    assert!(!n.hb_pending);

    n.peers.get_mut(PEER1).expect("peer").kp = false;
    n.adjust_cluster_size_and_quorum();
    assert_eq!((n.csz, n.qn), (1, 1));
    assert!(n.hb_pending, "a shrinking leader sends a heartbeat");
}

#[test]
fn remove_peer_forgets_it_and_shrinks_the_cluster() {
    let (mut c, slot) = single_node("remove_peer_forgets_it_and_shrinks_the_cluster");
    let t = now(&c);
    let n = c.node(slot);
    let me = n.id.clone();
    n.update_known_peers_locked(&[me.clone(), PEER1.into(), PEER2.into()]);
    n.remove_peer(PEER1);
    assert!(!n.peers.contains_key(PEER1));
    assert_eq!(n.removed.get(PEER1), Some(&t));
    assert_eq!((n.csz, n.qn), (2, 2));
    let sd = n.sd.clone();
    let ps = read_peer_state(n.env.fs(), &sd).expect("written");
    let mut want = vec![me, PEER2.to_string()];
    want.sort();
    assert_eq!(ps.known_peers, want);

    // An unknown peer is still remembered as removed.
    n.remove_peer("unknown0");
    assert!(n.removed.contains_key("unknown0"));
    assert_eq!(n.csz, 2);
}

#[test]
fn send_membership_change_sends_one_change_at_a_time() {
    let (mut c, slot) = single_node("send_membership_change_sends_one_change_at_a_time");
    let n = c.node(slot);
    let add = Entry::new(EntryType::AddPeer, PEER1.as_bytes());
    assert!(!n.send_membership_change(add.clone()), "followers cannot send");
    assert_eq!(n.memb_change_index, 0);

    make_leader(n);
    assert!(!n.send_membership_change(Entry::new(EntryType::Normal, b"x".to_vec())), "not a membership change");
    n.memb_change_index = 42;
    assert!(!n.send_membership_change(add.clone()), "another change in flight");
    n.memb_change_index = 0;

    let before = n.pindex;
    assert!(n.send_membership_change(add.clone()));
    assert_eq!(n.pindex, before + 1);
    assert_eq!(n.load_entry(n.pindex).expect("stored").entries, vec![add]);
    assert!(n.peers.get(PEER1).is_some_and(|p| p.kp));
    assert_eq!(n.csz, 2);
}

#[test]
fn handle_forwarded_remove_peer_proposal_checks_name_leader_and_change() {
    let (mut c, slot) = single_node("handle_forwarded_remove_peer_proposal_checks_name_leader_and_change");
    let n = c.node(slot);
    n.handle_forwarded_remove_peer_proposal("rp.reply", PEER1.as_bytes());
    assert!(n.prop.is_empty(), "followers ignore it");

    make_leader(n);
    n.handle_forwarded_remove_peer_proposal("rp.reply", b"short");
    assert!(n.prop.is_empty(), "peer names are 8 bytes");
    n.memb_change_index = 3;
    n.handle_forwarded_remove_peer_proposal("rp.reply", PEER1.as_bytes());
    assert!(n.prop.is_empty(), "a membership change is in flight");
    n.memb_change_index = 0;

    n.handle_forwarded_remove_peer_proposal("rp.reply", PEER1.as_bytes());
    assert_eq!(n.prop.len(), 1);
    assert_eq!(n.prop[0].entry, Entry::new(EntryType::RemovePeer, PEER1.as_bytes()));
    assert_eq!(n.prop[0].reply, "rp.reply");
}

// ---- catchup.rs ----------------------------------------------------------

#[test]
fn load_first_entry_reads_the_oldest_entry_in_the_wal() {
    let (mut c, slot) = single_node("load_first_entry_reads_the_oldest_entry_in_the_wal");
    let n = c.node(slot);
    assert!(n.load_first_entry().is_err(), "empty WAL");
    store_entries(n, 1, 3);
    assert_eq!(n.load_first_entry().expect("first").pindex, 0);
    n.wal.compact(3).expect("compact");
    let first = n.load_first_entry().expect("first after compaction");
    assert_eq!((first.pterm, first.pindex), (1, 2));
}

#[test]
fn send_snapshot_to_follower_sends_snapshot_and_peer_state() {
    let (mut c, slot) = single_node("send_snapshot_to_follower_sends_snapshot_and_peer_state");
    let n = c.node(slot);
    make_leader(n);
    assert_eq!(n.send_snapshot_to_follower("follower.inbox"), Err(RaftError::NoSnapAvailable));
    assert_eq!(n.state(), RaftState::Follower, "without a snapshot the leader steps down");

    store_entries(n, 1, 4);
    let peer_state = encode_peer_state(&n.current_peer_state());
    let snap = Snapshot { last_term: 1, last_index: 3, peer_state: peer_state.clone(), data: b"state".to_vec() };
    n.install_snapshot(snap).expect("installed");
    let areply = n.areply.clone();

    let mut sent = 0;
    let msgs = published(&mut c, slot, "follower.inbox", |n| sent = n.send_snapshot_to_follower("follower.inbox").expect("sent"));
    assert_eq!(sent, 3);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].reply, areply);
    let ae = decode_append_entry(&msgs[0].data, None, "").expect("decodes");
    assert_eq!((ae.pterm, ae.pindex), (1, 3));
    assert_eq!(ae.entries, vec![Entry::new(EntryType::Snapshot, b"state".to_vec()), Entry::new(EntryType::PeerState, peer_state)]);

    // The WAL compacted past the snapshot: the entry claims the WAL's start.
    c.node(slot).wal.compact(6).expect("compact");
    let msgs = published(&mut c, slot, "follower.inbox", |n| sent = n.send_snapshot_to_follower("follower.inbox").expect("sent"));
    assert_eq!(sent, 5);
    let ae = decode_append_entry(&msgs[0].data, None, "").expect("decodes");
    assert_eq!((ae.pterm, ae.pindex), (1, 5));
}

// ---- snapshot.rs ---------------------------------------------------------

#[test]
fn create_snapshot_checkpoint_locked_checks_state_and_describes_the_snapshot() {
    let (mut c, slot) = single_node("create_snapshot_checkpoint_locked_checks_state_and_describes_the_snapshot");
    let n = c.node(slot);
    assert_eq!(n.create_snapshot_checkpoint_locked(false), Err(RaftError::NoSnapAvailable), "nothing applied");

    store_entries(n, 2, 3);
    n.commit = 3;
    n.applied = 3;
    let cp = n.create_snapshot_checkpoint_locked(false).expect("checkpoint");
    assert_eq!((cp.term, cp.applied, cp.papplied), (2, 3, 0));
    assert_eq!(cp.snap_file, join(&join(&n.sd, SNAPSHOTS_DIR), &snapshot_file_name(2, 3)));
    assert_eq!(decode_peer_state(&cp.peerstate).expect("peer state"), n.current_peer_state());
    assert!(n.snapshotting);
    assert_eq!(n.create_snapshot_checkpoint_locked(false), Err(RaftError::SnapInProgress));

    // Running catch-ups block it unless forced.
    cp.abort(n);
    n.internals().add_idle_catchup(PEER1);
    assert_eq!(n.create_snapshot_checkpoint_locked(false), Err(RaftError::CatchupsRunning));
    let forced = n.create_snapshot_checkpoint_locked(true).expect("forced checkpoint");
    forced.abort(n);

    // The applied entry must still be in the WAL.
    n.wal.compact(4).expect("compact");
    assert_eq!(n.create_snapshot_checkpoint_locked(true), Err(RaftError::NoSnapAvailable));

    n.shutdown();
    assert_eq!(n.create_snapshot_checkpoint_locked(true), Err(RaftError::NodeClosed));
}

// ---- persist.rs ----------------------------------------------------------

#[test]
fn write_term_vote_persists_term_and_vote_once() {
    let (mut c, slot) = single_node("write_term_vote_persists_term_and_vote_once");
    let n = c.node(slot);
    n.term = 7;
    n.vote = PEER1.into();
    n.write_term_vote();
    assert_eq!(n.read_term_vote().expect("written"), (7, PEER1.to_string()));
    let path = join(&n.sd, TERM_VOTE_FILE);
    let mut want = 7u64.to_le_bytes().to_vec();
    want.extend_from_slice(PEER1.as_bytes());
    assert_eq!(n.env.fs().read(&path).expect("file"), want);

    // Unchanged term and vote: not written again.
    n.env.fs().remove(&path).expect("remove");
    n.write_term_vote();
    assert!(!n.env.fs().exists(&path));
    n.term = 8;
    n.write_term_vote();
    assert_eq!(n.read_term_vote().expect("written"), (8, PEER1.to_string()));
}

#[test]
fn write_peer_state_method_persists_changes_only() {
    let (mut c, slot) = single_node("write_peer_state_method_persists_changes_only");
    let n = c.node(slot);
    let sd = n.sd.clone();
    let path = join(&sd, PEER_STATE_FILE);
    let ps = PeerState { known_peers: vec![PEER1.into(), PEER2.into()], cluster_size: 2, domain_ext: ExtensionState::EXTENDED };
    n.write_peer_state(&ps);
    assert_eq!(read_peer_state(n.env.fs(), &sd).expect("written"), ps);
    assert_eq!(n.wps, encode_peer_state(&ps));

    n.env.fs().remove(&path).expect("remove");
    n.write_peer_state(&ps);
    assert!(!n.env.fs().exists(&path), "unchanged peer state is not rewritten");
}
