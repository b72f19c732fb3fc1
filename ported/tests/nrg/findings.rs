//! Upstream findings: behaviours of raft.go at 8188ea93a under faults it
//! does not survive, each reproduced here and recorded in
//! `ported/README.md` with the Go lines. The port keeps them (it is a
//! port). The full fault model of the simulation tests keeps the faults
//! on and puts each violation down to one of these findings only when the
//! run's trace shows its mechanism; the searches here look through the
//! schedule's seeds for the first one that shows a finding.
//! The deterministic ones drive a single node by hand.
//!
//! The published one (Jepsen, NATS 2.12.1): with Go's default lazy sync,
//! a majority losing power together loses acknowledged writes; with
//! sync_always it does not.

use std::time::Duration;

use ported::peer_state::{encode_peer_state, PeerState};
use ported::raft::{decode_vote_response, AppendEntry, Entry, EntryType, RaftState, StorageType, VoteRequest, VoteResponse};
use ported::sim::schedule::{run_schedule, FaultModel, ScheduleConfig, LAZY_SYNC_POWER_LOSS, LIVENESS, LOST_COMMITS, WAL_READ_ERROR_RESET};
use ported::sim::SyncPolicy;

use crate::part2_support::{ae, encode, ix, single_node, NATS0, NATS1, NATS2};

/// Seeds each search may look through.
const SEARCH: u64 = 400;

fn search_limit() -> u64 {
    std::env::var("NRG_FINDING_SEEDS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(SEARCH)
}

fn config(seed: u64, faults: FaultModel) -> ScheduleConfig {
    let mut cfg = ScheduleConfig::new(if seed % 2 == 1 { 5 } else { 3 }, Duration::from_secs(6));
    cfg.faults = faults;
    cfg
}

// The first seed below `SEARCH` whose run ends in a safety violation.
fn first_violation(faults: FaultModel) -> Option<(u64, String)> {
    (0..search_limit()).find_map(|seed| run_schedule(seed, config(seed, faults)).err().filter(|e| !e.starts_with(LIVENESS)).map(|e| (seed, e)))
}

fn assert_found(name: &str, faults: FaultModel, kinds: &[&str]) -> u64 {
    let Some((seed, e)) = first_violation(faults) else { panic!("{name}: no seed below {} shows it", search_limit()) };
    eprintln!("{name}: seed {seed} (replay with NRG_SIM_SEED={seed}): {e}");
    assert!(kinds.iter().any(|k| e.contains(k)), "{name}: seed {seed} failed otherwise: {e}");
    seed
}


/// Jepsen's NATS 2.12.1 finding, reproduced: Go's default sync policy
/// (`sync_always: false`, `sync_interval: 2m`) and a majority of servers
/// losing power together lose acknowledged writes. createRaftGroup and
/// setupMetaGroup hand the server's SyncAlways/SyncInterval to the WAL's
/// filestore (jetstream_cluster.go 900-904, 2762-2766); an append is
/// acknowledged once written, not synced (processAppendEntry's success
/// response after storeToWAL).
#[test]
fn lazy_sync_and_majority_power_loss_lose_acknowledged_writes() {
    let faults = FaultModel {
        sync: Some(SyncPolicy::GO_DEFAULT),
        storage: Some(StorageType::File),
        power_loss_under_lazy_sync: true,
        correlated_power_loss: 20,
        wal_read_errors: false,
        ..FaultModel::default()
    };
    // The run attributes the lost commits to the finding only when its
    // trace shows a node losing a committed entry to the power loss.
    let found = (0..search_limit()).find_map(|seed| {
        let x = run_schedule(seed, config(seed, faults)).unwrap_or_else(|e| panic!("seed {seed} (replay with NRG_SIM_SEED={seed}): unexplained: {e}")).explained.filter(|x| x.finding == LAZY_SYNC_POWER_LOSS)?;
        Some((seed, x))
    });
    let Some((seed, x)) = found else { panic!("no seed below {} shows it", search_limit()) };
    eprintln!("lazy sync, majority power loss: seed {seed} (replay with NRG_SIM_SEED={seed}): {} [{}]", x.violation, x.evidence);
    assert_eq!(x.finding, LAZY_SYNC_POWER_LOSS);
    assert!(LOST_COMMITS.iter().any(|k| x.violation.contains(k)), "seed {seed}: {}", x.violation);
}

/// The same schedules with `sync_always: true` lose nothing (the other
/// findings' faults off, so nothing else can explain a loss).
#[test]
fn sync_always_survives_majority_power_loss() {
    let faults = FaultModel {
        sync: Some(SyncPolicy::Always),
        storage: Some(StorageType::File),
        correlated_power_loss: 20,
        wal_read_errors: false,
        append_entry_faults: false,
        state_file_errors: false,
        ..FaultModel::default()
    };
    for seed in 0..search_limit() {
        match run_schedule(seed, config(seed, faults)) {
            Err(e) => panic!("seed {seed} (replay with NRG_SIM_SEED={seed}) under sync_always: {e}"),
            Ok(s) => assert_eq!(s.explained, None, "seed {seed} (replay with NRG_SIM_SEED={seed}) under sync_always"),
        }
    }
}

/// A late or duplicated append entry makes a follower drop entries it
/// already acknowledged. processAppendEntry's `ae.pindex <= n.pindex` arm
/// truncates to the entry's pindex when the terms there match (raft.go
/// 4166-4172), or resets the WAL when it cannot load the entry at that
/// index (4163). NATS routes never duplicate or reorder, so Go relies
/// on in-order, once-only delivery; with duplicates and reordering on for
/// append entries the simulation first loses a commit on seed 1659
/// (`FaultModel::append_entry_faults`, 5 nodes).
#[test]
fn a_late_append_entry_drops_acknowledged_entries() {
    let (mut c, n) = single_node("a_late_append_entry_drops_acknowledged_entries");
    let entries = vec![Entry::new(EntryType::Normal, b"x".to_vec())];
    let aesub = ix(&mut c, n).aesub();
    let first = encode(ae(NATS0, 1, 0, 0, 0, entries.clone()));
    c.node(n).process_append_entry(first.clone(), aesub);
    for pindex in 1..3 {
        c.node(n).process_append_entry(encode(ae(NATS0, 1, 0, 1, pindex, entries.clone())), aesub);
    }
    assert_eq!(ix(&mut c, n).pindex(), 3, "three entries stored and acknowledged");

    // The second entry arrives again: its pindex 1 holds a term-1 entry, so
    // the log is cut back to 1 and the entry stored again at 2.
    c.node(n).process_append_entry(encode(ae(NATS0, 1, 0, 1, 1, entries.clone())), aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2, "entry 3 is gone");

    // The first arrives again: nothing at its pindex 0 can be loaded and
    // there is no snapshot, so the whole WAL is reset.
    c.node(n).process_append_entry(first, aesub);
    assert_eq!(ix(&mut c, n).pindex(), 0, "every acknowledged entry is gone");
}

/// The port of the developers' note: a redelivered catch-up snapshot entry
/// is stored as a normal log entry. Once installed, the snapshot's
/// (pterm, pindex) match the follower's, so the copy passes the
/// consistency check and goes to storeToWAL at the next index (raft.go
/// 4279-4292, the CONTINUE path), where the leader's real entry belongs.
#[test]
fn a_redelivered_catchup_snapshot_is_stored_as_a_log_entry() {
    let (mut c, n) = single_node("a_redelivered_catchup_snapshot_is_stored_as_a_log_entry");
    ix(&mut c, n).add_peer(NATS0);
    let ps = PeerState { known_peers: vec![NATS0.into(), c.node(n).id().into()], cluster_size: 2, domain_ext: Default::default() };
    let entries = vec![Entry::new(EntryType::Snapshot, vec![1, 2, 3]), Entry::new(EntryType::PeerState, encode_peer_state(&ps))];
    let snapshot = encode(AppendEntry { lterm: 2, ..ae(NATS0, 2, 5, 1, 5, entries) });
    ix(&mut c, n).create_catchup(&snapshot);
    let csub = ix(&mut c, n).catchup().expect("catching up").sub;

    c.node(n).process_append_entry(snapshot.clone(), csub);
    assert_eq!((ix(&mut c, n).pindex(), ix(&mut c, n).snapfile().is_empty()), (5, false), "installed as our snapshot");

    // The same message again, as a duplicated delivery would bring it.
    c.node(n).process_append_entry(snapshot, csub);
    assert_eq!(ix(&mut c, n).pindex(), 6, "stored after the snapshot");
    let stored = c.node(n).log_entry(6).expect("index 6 is in the WAL");
    let kinds: Vec<EntryType> = stored.entries.iter().map(|e| e.typ).collect();
    assert_eq!(kinds, [EntryType::Snapshot, EntryType::PeerState], "the leader's entry 6 has no place now");
}

/// A candidate counts every granted vote of its term, from members or not
/// (runAsCandidate, raft.go 3707-3717: `votes[vresp.peer]` with no look-up
/// in n.peers). A node that is not in the candidate's peer set (a replica
/// being added, still catching up) makes up its quorum.
#[test]
fn a_candidate_counts_votes_from_non_members() {
    let (mut c, n) = single_node("a_candidate_counts_votes_from_non_members");
    let me = c.node(n).id().to_string();
    c.node(n).update_known_peers(&[me, NATS1.into(), NATS2.into()]);
    c.node(n).switch_to_candidate();
    c.node(n).tick().expect("run loop settles");
    assert_eq!(c.node(n).state(), RaftState::Candidate);
    let term = c.node(n).term();
    let vreply = c.node(n).vreply().to_string();
    let vote = VoteResponse { term, peer: "NOTAPEER".into(), granted: true, empty: false };
    c.publish(&vreply, "", &vote.encode());
    c.run_for(Duration::from_millis(5));
    c.node(n).tick().expect("run loop settles");
    assert_eq!(c.node(n).state(), RaftState::Leader, "its own vote and a stranger's are a quorum of three");
}

/// A replica added to a group that is not settled: candidates count votes
/// from non-members (above), and a new replica grants any candidate, its
/// log being empty, with a vote that counts as full while it is
/// initializing (processVoteRequest, raft.go 4960-4963; initRaftNode 602-610)
/// so a lagging member and the new replica elect a leader that lacks
/// committed entries. The new replica, catching up, also applies old
/// peer-state entries (applyCommit's EntryPeerState (3487) for followers) and
/// campaigns with the older, smaller peer set.
#[test]
fn adding_a_replica_to_an_unsettled_group_loses_commits() {
    let faults = FaultModel { unguarded_additions: true, power_loss_under_lazy_sync: false, wal_read_errors: false, ..FaultModel::default() };
    assert_found("unguarded additions", faults, &[LOST_COMMITS, &["two leaders"]].concat());
}

/// A restart can shrink the peer set. initRaftNode restores the peer
/// state file and replays the WAL (raft.go 526-582) only up to the commit
/// index its stored entries carry; applying an older peer-state entry on
/// the way (applyCommit's EntryPeerState (3487) for a follower) overwrites the
/// peer set, and a committed EntryAddPeer after it is not replayed when
/// only a heartbeat carried its commit. The node then counts a majority of
/// the older, smaller group. With additions and restarts together, the
/// simulation saw two nodes restarted this way elect a leader without a
/// committed entry (`FaultModel::additions_with_restarts`).
#[test]
fn a_restart_can_replay_an_older_peer_set() {
    const STORE: &str = "/S-1/replay-store";
    const WAL_DIR: &str = "/S-1/replay-wal";
    let mut c = crate::helpers::cluster("a_restart_can_replay_an_older_peer_set", "R3S", 3);
    let me = c.servers[0].id.clone();
    let three = vec![me.clone(), NATS0.to_string(), NATS1.to_string()];
    crate::part2_support::bootstrap(&c, STORE, &three, true);
    let wal = crate::part2_support::file_wal(&c, WAL_DIR);
    let n = crate::part2_support::init_file_node(&mut c, None, STORE, Box::new(wal));
    let aesub = ix(&mut c, n).aesub();
    let ps = PeerState { known_peers: three, cluster_size: 3, domain_ext: Default::default() };
    let peer_state = vec![Entry::new(EntryType::PeerState, encode_peer_state(&ps))];
    let add = vec![Entry::new(EntryType::AddPeer, NATS2.as_bytes().to_vec())];
    c.node(n).process_append_entry(encode(ae(NATS0, 1, 0, 0, 0, peer_state)), aesub);
    c.node(n).process_append_entry(encode(ae(NATS0, 1, 1, 1, 1, add)), aesub);
    // A heartbeat commits the addition: four peers.
    c.node(n).process_append_entry(encode(ae(NATS0, 1, 2, 1, 2, vec![])), aesub);
    assert_eq!((c.node(n).cluster_size(), c.node(n).commit_index()), (4, 2));

    crate::part2_support::stop_node(&mut c, n);
    let wal = crate::part2_support::file_wal(&c, WAL_DIR);
    let n = crate::part2_support::init_file_node(&mut c, Some(n), STORE, Box::new(wal));
    assert_eq!(c.node(n).commit_index(), 1, "the stored entries carry commits up to 1");
    assert_eq!(c.node(n).cluster_size(), 3, "the older peer state was applied again, the addition was not");
}

/// A memory WAL restarts empty; with membership changes, such a replica
/// and a new one (whose empty vote counts while initializing) can elect a
/// leader that lacks committed entries.
#[test]
fn memory_groups_lose_commits_when_membership_changes() {
    let faults = FaultModel { storage: Some(StorageType::Memory), memory_membership_changes: true, unguarded_additions: true, wal_read_errors: false, ..FaultModel::default() };
    assert_found("memory membership changes", faults, &[LOST_COMMITS, &["two leaders"]].concat());
}

/// A read error on a committed WAL entry at apply time makes the node
/// reset its WAL (applyCommit, raft.go 3436-3448), dropping entries below
/// its commit index (truncateWAL's own assert.Unreachable fires).
#[test]
fn a_wal_read_error_makes_a_node_drop_committed_entries() {
    // The run attributes the lost commits to the finding only when a node's
    // log shrank, or its last entry changed term, in a turn with a read error.
    let faults = FaultModel { wal_read_errors: true, storage: Some(StorageType::File), sync: Some(SyncPolicy::Always), ..FaultModel::default() };
    let found = (0..search_limit()).find_map(|seed| {
        let x = run_schedule(seed, config(seed, faults)).unwrap_or_else(|e| panic!("seed {seed} (replay with NRG_SIM_SEED={seed}): unexplained: {e}")).explained.filter(|x| x.finding == WAL_READ_ERROR_RESET)?;
        Some((seed, x))
    });
    let Some((seed, x)) = found else { panic!("no seed below {} shows it", search_limit()) };
    eprintln!("WAL read errors: seed {seed} (replay with NRG_SIM_SEED={seed}): {} [{}]", x.violation, x.evidence);
    assert_eq!(x.finding, WAL_READ_ERROR_RESET);
}

/// A failed write of the term/vote file shuts the node down, but
/// processVoteRequest still sends the granted vote (raft.go 4968-4984:
/// writeTermVote, then sendReply). Restarted, the node reads the term and
/// vote it had before and votes again in that term. (initRaftNode also
/// ignores an error reading the file, starting from term 0.)
#[test]
fn a_failed_term_vote_write_lets_a_node_vote_twice() {
    const STORE: &str = "/S-1/vote-store";
    const WAL_DIR: &str = "/S-1/vote-wal";
    let mut c = crate::helpers::cluster("a_failed_term_vote_write_lets_a_node_vote_twice", "R3S", 3);
    let me = c.servers[0].id.clone();
    crate::part2_support::bootstrap(&c, STORE, &[me, NATS1.to_string(), NATS2.to_string()], true);
    let wal = crate::part2_support::file_wal(&c, WAL_DIR);
    let n = crate::part2_support::init_file_node(&mut c, None, STORE, Box::new(wal));
    let inbox = c.new_inbox();
    let replies = c.subscribe(&inbox);
    let request = |candidate: &str| VoteRequest { term: 2, last_term: 0, last_index: 0, candidate: candidate.into(), reply: inbox.clone() };

    c.world.disk.borrow_mut().faults.state_write_error = 1.0;
    c.node(n).process_vote_request(&request(NATS1));
    assert_eq!(c.node(n).state(), RaftState::Closed, "the failed write shut the node down");
    let granted = c.next_msg(replies, Duration::from_millis(10)).expect("the vote went out anyway");
    assert!(decode_vote_response(&granted.data).expect("decodes").granted);

    c.world.disk.borrow_mut().faults.state_write_error = 0.0;
    let wal = crate::part2_support::file_wal(&c, WAL_DIR);
    let n = crate::part2_support::init_file_node(&mut c, Some(n), STORE, Box::new(wal));
    c.node(n).process_vote_request(&request(NATS2));
    let again = c.next_msg(replies, Duration::from_millis(10)).expect("a second answer");
    let again = decode_vote_response(&again.data).expect("decodes");
    assert!(again.granted && again.term == 2, "a second vote in term 2, for another candidate");
    assert_eq!(c.node(n).vote(), NATS2);
}

/// A memory-WAL node keeps only its term/vote and peer files on disk
/// (createRaftGroup gives the WAL a memory store, jetstream_cluster.go
/// 2778). A write error on those files shuts it down (setWriteErrLocked,
/// raft.go 4787-4811) however far it has replicated; it comes back with an
/// empty log and grants its vote to a candidate that holds nothing
/// (processVoteRequest's up-to-date check, raft.go 4966-4967). The
/// simulation attributes lost commits to this (`MEMORY_WAL_RESTART`) when
/// a memory-WAL node restarted after a state-file error on its server.
#[test]
fn a_state_file_error_restarts_a_memory_node_empty() {
    const STORE: &str = "/S-1/mem-store";
    let mut c = crate::helpers::cluster("a_state_file_error_restarts_a_memory_node_empty", "R3S", 3);
    let me = c.servers[0].id.clone();
    crate::part2_support::bootstrap(&c, STORE, &[me, NATS1.to_string(), NATS2.to_string()], true);
    let n = crate::part2_support::init_file_node(&mut c, None, STORE, Box::new(ported::raft::MemWal::new()));
    let aesub = ix(&mut c, n).aesub();
    let entries = vec![Entry::new(EntryType::Normal, b"x".to_vec())];
    c.node(n).process_append_entry(encode(ae(NATS0, 1, 0, 0, 0, entries.clone())), aesub);
    c.node(n).process_append_entry(encode(ae(NATS0, 1, 0, 1, 1, entries)), aesub);
    assert_eq!(ix(&mut c, n).pindex(), 2, "two entries stored and acknowledged");
    let inbox = c.new_inbox();
    let replies = c.subscribe(&inbox);

    // A candidate as up to date as we are: granting means writing term/vote.
    c.world.disk.borrow_mut().faults.state_write_error = 1.0;
    c.node(n).process_vote_request(&VoteRequest { term: 2, last_term: 1, last_index: 2, candidate: NATS1.into(), reply: inbox.clone() });
    assert_eq!(c.node(n).state(), RaftState::Closed, "the failed write shut the node down");
    let _ = c.next_msg(replies, Duration::from_millis(10));

    c.world.disk.borrow_mut().faults.state_write_error = 0.0;
    let n = crate::part2_support::init_file_node(&mut c, Some(n), STORE, Box::new(ported::raft::MemWal::new()));
    assert_eq!(c.node(n).last_log(), (0, 0), "restarted with an empty log");
    c.node(n).process_vote_request(&VoteRequest { term: 3, last_term: 0, last_index: 0, candidate: NATS2.into(), reply: inbox.clone() });
    let vote = c.next_msg(replies, Duration::from_millis(10)).expect("an answer");
    let vote = decode_vote_response(&vote.data).expect("decodes");
    assert!(vote.granted && vote.term == 3, "a candidate with an empty log gets the vote");
}

/// A removed replica's catch-up request puts it back in the group. The
/// leader refuses to re-add a peer it removed when it merely hears from it
/// (trackPeer, raft.go 3639-3651: `n.removed`), but a catch-up request
/// that reaches it after the removal committed still runs a catch-up, and
/// runCatchup's deferred clean-up proposes every peer missing from
/// `n.peers` (3211-3223, no look at `n.removed`). The group then counts a
/// replica whose server dropped it: here four members of which one is
/// gone, so losing one more of the three the operator meant to keep loses
/// the group (three needed of four). In the schedules the same phantom,
/// plus a memory-WAL replica restarted empty (whose vote counts only when
/// every member answers, runAsCandidate 3711-3726), leaves no candidate
/// able to win (seeds 4313 and 9447; `REMOVED_PEER_READDED`).
#[test]
fn a_catchup_request_readds_a_removed_peer() {
    let mut c = crate::helpers::cluster("a_catchup_request_readds_a_removed_peer", "R4S", 4);
    let rg = c.create_raft_group("TEST", 4, ported::sim::SmKind::ChainOfBlocks);
    let l = c.wait_on_leader(&rg).expect("a leader");
    let followers = rg.followers(&c);
    let (f, g) = (followers[0], followers[1]);
    let f_id = c.node(f).id().to_string();
    let (sf, sl) = (c.nodes[f].server, c.nodes[l].server);

    // F falls behind (an observer, so it does not campaign meanwhile), and
    // what it sends the leader once it hears from it again waits on a
    // stalled link: its catch-up request.
    c.node(f).set_observer(true);
    c.world.net.borrow_mut().isolate(sf, 4);
    for _ in 0..3 {
        c.propose_block(l);
        c.run_for(Duration::from_millis(20));
    }
    c.world.net.borrow_mut().stall(sf, sl);
    c.world.net.borrow_mut().heal();
    assert!(c.run_until(Duration::from_secs(2), |c| c.world.net.borrow().held_count() > 0), "F answered the leader");

    // F is removed and its server drops it.
    c.node(l).propose_remove_peer(&f_id).expect("the leader takes the removal");
    let removed = c.run_until(Duration::from_secs(2), |c| {
        let n = &mut c.nodes[l].raft;
        n.cluster_size() == 3 && !n.membership_change_in_progress() && n.commit_index() == n.last_log().0
    });
    assert!(removed, "the removal committed");
    c.stop(f);

    // The catch-up request arrives: the leader catches F up and adds it.
    {
        let now = c.world.now.get();
        let mut rng = c.world.rng.borrow_mut();
        c.world.net.borrow_mut().release(sf, sl, now, &mut rng);
    }
    let readded = c.run_until(Duration::from_secs(2), |c| {
        let n = &c.nodes[l].raft;
        n.cluster_size() == 4 && n.peers().iter().any(|p| p.id == f_id) && n.commit_index() == n.last_log().0
    });
    assert!(readded, "the removed replica is a member again");

    // Two of the three replicas the operator kept are not enough any more.
    c.stop(g);
    let live: Vec<usize> = rg.members.iter().copied().filter(|&m| m != f && m != g).collect();
    c.run_for(Duration::from_secs(30));
    let states: Vec<RaftState> = live.iter().map(|&m| c.nodes[m].raft.state()).collect();
    assert!(!states.contains(&RaftState::Leader), "no leader among the two that are left: {states:?}");
}
