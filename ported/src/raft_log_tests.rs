use super::writer::LogWriter;
use super::*;
use crate::peer_state::encode_peer_state;
use crate::snapshot_file::Snapshot;

const G: &str = "_meta_";
const LEADER: &str = "S1Nunr6R";

fn peers() -> PeerState {
    PeerState { known_peers: vec![LEADER.into(), "cnrtt3eg".into(), "yrzKKRBu".into()], cluster_size: 3, ..Default::default() }
}

fn normal(i: u64) -> Entry {
    Entry::new(EntryType::Normal, format!("op {i}").into_bytes())
}

/// Entries 1..=n of term 1, each carrying the commit of the one before.
fn log(n: u64) -> LogWriter {
    let mut w = LogWriter::new(G, LEADER, 1 << 20);
    w.peer_state(&peers());
    for i in 1..=n {
        w.append(1, i - 1, vec![normal(i)]).expect("append");
    }
    w
}

fn committed_indices(r: &RaftRecovery) -> Vec<u64> {
    r.committed.iter().map(|c| c.index).collect()
}

#[test]
fn replay_commits_what_the_log_records_as_committed() {
    let r = recover_raft_dir(G, &log(5).files(None)).expect("recovers");
    assert_eq!(committed_indices(&r), vec![1, 2, 3, 4]);
    assert_eq!(r.committed[0].entries, vec![normal(1)]);
    assert_eq!((r.pindex, r.pterm, r.commit, r.replayed), (5, 1, 4, 5));
    assert_eq!(r.pending, vec![(5, vec![normal(5)])]);
    assert_eq!((r.cluster_size, r.peers.len()), (3, 3));
    assert!(r.stop.is_none() && r.snapshot.is_none());
}

#[test]
fn a_snapshot_comes_first_and_the_log_is_compacted_to_it() {
    let mut w = log(6);
    w.snapshot(&Snapshot { last_term: 1, last_index: 3, peer_state: encode_peer_state(&peers()), data: b"snap".to_vec() });
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!(committed_indices(&r), vec![3, 4, 5]);
    assert_eq!(r.committed[0].entries, vec![Entry::new(EntryType::Snapshot, b"snap".to_vec())]);
    assert_eq!((r.wal.first_seq, r.wal.last_seq, r.replayed), (4, 6, 3));
    assert_eq!(r.snapshot.as_ref().map(|s| s.file.as_str()), Some("snap.1.3"));
}

#[test]
fn the_latest_snapshot_is_by_term_then_index() {
    let mut w = log(6);
    for (t, i) in [(1, 5), (2, 1), (1, 4)] {
        w.snapshot(&Snapshot { last_term: t, last_index: i, peer_state: encode_peer_state(&peers()), data: vec![] });
    }
    let mut f = w.files(None);
    f.snapshots.insert("snap.bogus".into(), vec![]);
    let r = recover_raft_dir(G, &f).expect("recovers");
    assert_eq!(r.snapshot.expect("snapshot").file, "snap.2.1");
    assert_eq!(r.unparsable_snapshots, vec!["snap.bogus".to_string()]);
}

#[test]
fn a_log_that_does_not_follow_the_snapshot_is_dropped() {
    let mut w = LogWriter::new(G, LEADER, 1 << 20);
    w.start_after(1, 7);
    w.append(1, 7, vec![normal(8)]).expect("append");
    w.snapshot(&Snapshot { last_term: 1, last_index: 3, peer_state: encode_peer_state(&peers()), data: vec![] });
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!(r.stop, Some(ReplayStop::Misaligned { index: 8, pindex: 7, expected: 3 }));
    assert_eq!(committed_indices(&r), vec![3]);
}

#[test]
fn a_deleted_entry_stops_replay_before_it() {
    let mut w = log(6);
    w.tombstone(4);
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert!(matches!(&r.stop, Some(ReplayStop::LoadFailed { index: 4, .. })), "{:?}", r.stop);
    assert_eq!(committed_indices(&r), vec![1, 2]);
    assert_eq!(r.pending.len(), 1);
}

#[test]
fn an_undecodable_entry_stops_replay_before_it() {
    let mut w = log(3);
    w.append_raw(b"short");
    w.append(1, 4, vec![normal(5)]).expect("append");
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert!(matches!(&r.stop, Some(ReplayStop::LoadFailed { index: 4, error }) if error.contains("corrupt")), "{:?}", r.stop);
    assert_eq!(committed_indices(&r), vec![1, 2]);
}

#[test]
fn a_term_that_does_not_continue_the_log_diverges() {
    let mut w = log(3);
    w.start_after(5, 3);
    w.append(6, 3, vec![normal(4)]).expect("append");
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert!(matches!(r.stop, Some(ReplayStop::Diverged { index: 4, pterm: 5, expected_pterm: 1, .. })), "{:?}", r.stop);
}

#[test]
fn terms_votes_and_peer_changes_follow_the_log() {
    let mut w = log(2);
    w.term_vote(1, "cnrtt3eg");
    w.append(2, 2, vec![Entry::new(EntryType::AddPeer, b"newpeer1".to_vec())]).expect("append");
    let ps = PeerState { known_peers: vec![LEADER.into(), "newpeer1".into()], cluster_size: 2, ..Default::default() };
    w.append(2, 3, vec![Entry::new(EntryType::PeerState, encode_peer_state(&ps))]).expect("append");
    w.append(2, 4, vec![Entry::new(EntryType::LeaderTransfer, b"newpeer1".to_vec())]).expect("append");
    w.append(2, 5, vec![normal(6)]).expect("append");
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!(r.stored_term_vote, Some((1, "cnrtt3eg".to_string())));
    assert_eq!((r.term, r.vote.as_str()), (2, ""), "a higher term clears the vote");
    assert_eq!(r.cluster_size, 2);
    assert_eq!(counted_peers(&r.peers), [LEADER.to_string(), "newpeer1".to_string()].into_iter().collect());
    let kinds: Vec<Vec<EntryType>> = r.committed.iter().map(|c| c.entries.iter().map(|e| e.typ).collect()).collect();
    assert_eq!(kinds, vec![vec![EntryType::Normal], vec![EntryType::Normal], vec![EntryType::AddPeer], vec![], vec![]]);
}

#[test]
fn files_that_stop_a_server_are_errors() {
    let mut no_peers = log(2).files(None);
    no_peers.peer_state = None;
    assert!(matches!(recover_raft_dir(G, &no_peers), Err(RaftLogError::NoPeerState)));
    let mut bad_peers = log(2).files(None);
    bad_peers.peer_state = Some(vec![1, 0, 0]);
    assert!(matches!(recover_raft_dir(G, &bad_peers), Err(RaftLogError::PeerState { .. })));
    let mut w = log(2);
    w.snapshot(&Snapshot { last_term: 1, last_index: 1, peer_state: encode_peer_state(&peers()), data: vec![] });
    let mut f = w.files(None);
    let snap = f.snapshots.get_mut("snap.1.1").expect("snapshot");
    snap[0] ^= 1;
    assert!(matches!(recover_raft_dir(G, &f), Err(RaftLogError::Snapshot { .. })));
    let mut w = log(2);
    w.snapshot(&Snapshot { last_term: 1, last_index: 0, peer_state: encode_peer_state(&peers()), data: vec![] });
    assert!(matches!(recover_raft_dir(G, &w.files(None)), Err(RaftLogError::ZeroIndexSnapshot(_))));
    let mut enc = log(2).files(None);
    enc.store.meta_key = true;
    assert!(matches!(recover_raft_dir(G, &enc), Err(RaftLogError::Store(StoreError::NoMainKey))));
}

#[test]
fn classifies_directory_entries() {
    let f = RaftDirFiles::from_entries(
        [("tav.idx", 1), ("peers.idx", 2), ("snapshots/snap.1.2", 3), ("msgs/1.blk", 4), ("meta.inf", 5), ("snapshots/x/y", 6)]
            .into_iter()
            .map(|(p, b)| (p.to_string(), vec![b])),
    );
    assert_eq!((f.term_vote.clone(), f.peer_state.clone()), (Some(vec![1]), Some(vec![2])));
    assert_eq!(f.snapshots.keys().collect::<Vec<_>>(), vec!["snap.1.2"]);
    assert_eq!(f.store.block_indices(), vec![1]);
    assert!(!f.is_empty());
    assert!(RaftDirFiles::from_entries([("meta.inf".to_string(), vec![])]).is_empty());
}

#[test]
fn term_vote_file_lengths() {
    assert_eq!(read_term_vote(&[1, 0, 0]), (0, String::new()));
    assert_eq!(read_term_vote(&7u64.to_le_bytes()), (7, String::new()));
    let mut b = 7u64.to_le_bytes().to_vec();
    b.extend_from_slice(b"abcdefgh");
    assert_eq!(read_term_vote(&b), (7, "abcdefgh".to_string()));
}
