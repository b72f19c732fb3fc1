use super::writer::LogWriter;
use super::*;
use crate::peer_state::{encode_peer_state, PeerState};
use crate::raft::wire::EntryType;
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
    assert_eq!((r.last_log, r.commit), ((5, 1), 4));
    assert_eq!(r.pending, vec![(5, vec![normal(5)])]);
    assert_eq!((r.cluster_size, r.peers.len()), (3, 3));
    assert!(r.repairs.is_empty() && r.warnings.is_empty() && r.snapshot.is_none(), "{:?}", r.warnings);
}

#[test]
fn a_snapshot_comes_first_and_the_log_is_compacted_to_it() {
    let mut w = log(6);
    w.snapshot(&Snapshot { last_term: 1, last_index: 3, peer_state: encode_peer_state(&peers()), data: b"snap".to_vec() });
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!(committed_indices(&r), vec![3, 4, 5]);
    assert_eq!(r.committed[0].entries, vec![Entry::new(EntryType::Snapshot, b"snap".to_vec())]);
    assert_eq!((r.wal.first_seq, r.wal.last_seq, r.last_log.0), (1, 6, 6));
    assert_eq!(r.snapshot, Some(SnapshotInfo { file: "snap.1.3".into(), last_term: 1, last_index: 3 }));
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
}

#[test]
fn a_log_that_does_not_follow_the_snapshot_is_dropped() {
    let mut w = LogWriter::new(G, LEADER, 1 << 20);
    w.start_after(1, 7);
    w.append(1, 7, vec![normal(8)]).expect("append");
    w.snapshot(&Snapshot { last_term: 1, last_index: 3, peer_state: encode_peer_state(&peers()), data: vec![] });
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!(r.repairs, vec![WalRepair::Truncated(3)]);
    assert!(r.warnings.iter().any(|w| w.contains("Misaligned WAL")), "{:?}", r.warnings);
    assert_eq!(committed_indices(&r), vec![3]);
}

#[test]
fn a_deleted_entry_stops_replay_before_it() {
    let mut w = log(6);
    w.tombstone(4);
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!(r.repairs, vec![WalRepair::Truncated(3)]);
    assert!(r.warnings.iter().any(|w| w.contains("Could not load 4")), "{:?}", r.warnings);
    assert_eq!(committed_indices(&r), vec![1, 2]);
    assert_eq!(r.pending.len(), 1);
}

#[test]
fn an_undecodable_entry_stops_replay_before_it() {
    let mut w = log(3);
    w.append_raw(b"short");
    w.append(1, 4, vec![normal(5)]).expect("append");
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!(r.repairs, vec![WalRepair::Truncated(3)]);
    assert!(r.warnings.iter().any(|w| w.contains("Could not load 4") && w.contains("corrupt")), "{:?}", r.warnings);
    assert_eq!(committed_indices(&r), vec![1, 2]);
}

#[test]
fn an_entry_out_of_place_truncates_before_it() {
    let mut w = log(3);
    let stray = crate::raft::wire::AppendEntry::new(LEADER, 1, 3, 1, 9, vec![normal(10)]).encode().expect("encode");
    assert_eq!(w.append_raw(&stray), 4);
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!(r.repairs, vec![WalRepair::Truncated(3)]);
    assert!(r.warnings.iter().any(|w| w.contains("Corrupt WAL")), "{:?}", r.warnings);
    assert_eq!(committed_indices(&r), vec![1, 2]);
}

#[test]
fn terms_votes_and_peer_changes_follow_the_log() {
    let mut w = log(2);
    w.term_vote(1, "cnrtt3eg");
    let before = recover_raft_dir(G, &log_with_vote()).expect("recovers");
    assert_eq!((before.term, before.vote.as_str()), (1, "cnrtt3eg"), "term and vote come from tav.idx");
    w.append(2, 2, vec![Entry::new(EntryType::AddPeer, b"newpeer1".to_vec())]).expect("append");
    let ps = PeerState { known_peers: vec![LEADER.into(), "newpeer1".into()], cluster_size: 2, ..Default::default() };
    w.append(2, 3, vec![Entry::new(EntryType::PeerState, encode_peer_state(&ps))]).expect("append");
    w.append(2, 4, vec![Entry::new(EntryType::LeaderTransfer, b"newpeer1".to_vec())]).expect("append");
    w.append(2, 5, vec![normal(6)]).expect("append");
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!((r.term, r.vote.as_str()), (2, ""), "a higher term clears the vote");
    assert_eq!(r.cluster_size, 2);
    let peers: std::collections::BTreeSet<_> = r.peers.iter().cloned().collect();
    assert_eq!(peers, [LEADER.to_string(), "newpeer1".to_string()].into_iter().collect());
    let kinds: Vec<Vec<EntryType>> = r.committed.iter().map(|c| c.entries.iter().map(|e| e.typ).collect()).collect();
    assert_eq!(kinds, vec![vec![EntryType::Normal], vec![EntryType::Normal], vec![EntryType::AddPeer], vec![], vec![]]);
}

#[test]
fn files_that_stop_a_server_are_errors() {
    let mut no_peers = log(2).files(None);
    no_peers.peer_state = None;
    assert!(matches!(recover_raft_dir(G, &no_peers), Err(RaftLogError::Start(RaftError::NoPeerState))));
    let mut bad_peers = log(2).files(None);
    bad_peers.peer_state = Some(vec![1, 0, 0]);
    assert!(matches!(recover_raft_dir(G, &bad_peers), Err(RaftLogError::Start(_))));
    let mut w = log(2);
    w.snapshot(&Snapshot { last_term: 1, last_index: 1, peer_state: encode_peer_state(&peers()), data: vec![] });
    let mut f = w.files(None);
    let snap = f.snapshots.get_mut("snap.1.1").expect("snapshot");
    snap[0] ^= 1;
    assert!(matches!(recover_raft_dir(G, &f), Err(RaftLogError::Start(RaftError::SnapshotCorrupt(_)))));
    // A snapshot at index 0 (an old server bug) is dropped and the log replayed.
    let mut w = log(2);
    w.snapshot(&Snapshot { last_term: 1, last_index: 0, peer_state: encode_peer_state(&peers()), data: vec![] });
    let r = recover_raft_dir(G, &w.files(None)).expect("recovers");
    assert_eq!((r.snapshot.clone(), committed_indices(&r)), (None, vec![1]));
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

fn log_with_vote() -> RaftDirFiles {
    let mut w = log(2);
    w.term_vote(1, "cnrtt3eg");
    w.files(None)
}
