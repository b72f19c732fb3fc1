use super::*;
use crate::jetstream_cluster::cluster::JetStream;
use crate::raft::wire::{Entry, EntryType};
use crate::jetstream_cluster::ops::{
    encode_add_consumer_assignment, encode_add_consumer_assignment_compressed, encode_add_stream_assignment,
    encode_delete_consumer_assignment, encode_delete_stream_assignment, encode_update_stream_assignment,
};
use crate::jetstream_cluster::test_util::{ca, sa, with_consumers};
use crate::peer_state::{encode_peer_state, PeerState};
use crate::raft_log::writer::LogWriter;
use crate::snapshot_file::Snapshot;

const LEADER: &str = "S1Nunr6R";
const PEERS: [&str; 3] = ["S1Nunr6R", "cnrtt3eg", "yrzKKRBu"];

fn peer_state() -> PeerState {
    PeerState { known_peers: PEERS.iter().map(|p| p.to_string()).collect(), cluster_size: 3, ..Default::default() }
}

fn normal(data: Vec<u8>) -> Entry {
    Entry::new(EntryType::Normal, data)
}

/// A log of `ops`, one per append entry, each committing the one before,
/// and a final entry committing them all.
fn log_of(w: &mut LogWriter, ops: Vec<Vec<u8>>) {
    for op in ops {
        let commit = w.next_index() - 1;
        w.append(1, commit, vec![normal(op)]).expect("append");
    }
    let commit = w.next_index() - 1;
    w.append(1, commit, vec![Entry::new(EntryType::PeerState, encode_peer_state(&peer_state()))]).expect("append");
}

fn names(m: &StreamMap) -> Vec<(String, String, Vec<String>)> {
    m.iter()
        .flat_map(|(acc, s)| s.iter().map(move |(n, sa)| (acc.clone(), n.clone(), sa.consumers.keys().cloned().collect())))
        .collect()
}

fn v(acc: &str, s: &str, cs: &[&str]) -> (String, String, Vec<String>) {
    (acc.into(), s.into(), cs.iter().map(|c| c.to_string()).collect())
}

#[test]
fn snapshot_then_ops_give_the_final_assignments() {
    let mut w = LogWriter::new("_meta_", LEADER, 1 << 20);
    w.start_after(1, 10);
    let a = with_consumers(sa("ACC", "A", &PEERS, 3), vec![ca("ACC", "A", "c1", "C-1"), ca("ACC", "A", "c2", "C-2")]);
    let b = sa("ACC", "B", &PEERS, 3);
    let snap = JetStream::encode_meta_snapshot(&[("ACC".to_string(), [("A".to_string(), a.clone()), ("B".to_string(), b.clone())].into())].into(), &|| 0)
        .expect("snapshot");
    w.snapshot(&Snapshot { last_term: 1, last_index: 10, peer_state: encode_peer_state(&peer_state()), data: snap.data });
    let mut a2 = a.clone();
    a2.config.as_mut().expect("config").duplicates = 77;
    let c = sa("ACC2", "C", &PEERS[..1], 1);
    log_of(
        &mut w,
        vec![
            encode_delete_stream_assignment(&b).expect("op"),
            encode_update_stream_assignment(&a2).expect("op"),
            encode_delete_consumer_assignment(&ca("ACC", "A", "c1", "C-1")).expect("op"),
            encode_delete_consumer_assignment(&ca("ACC", "A", "c2", "C-other-group")).expect("op"),
            encode_add_consumer_assignment(&ca("ACC", "A", "c3", "C-3")).expect("op"),
            encode_add_stream_assignment(&c).expect("op"),
            encode_add_consumer_assignment_compressed(&ca("ACC2", "C", "cc", "C-4")).expect("op"),
            encode_add_consumer_assignment(&ca("ACC", "NOPE", "orphan", "C-5")).expect("op"),
            encode_update_stream_assignment(&sa("ACC", "UNKNOWN", &PEERS, 3)).expect("op"),
        ],
    );
    let r = recover_meta(&w.files(None)).expect("recovers");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // While recovering, a staged removal drops the consumer's staged add by
    // key, whatever its group (upstream's recoveryUpdates does the same), so
    // c2 goes although the removal names another group.
    assert_eq!(names(&r.streams), vec![v("ACC", "A", &["c3"]), v("ACC2", "C", &["cc"])]);
    let a = &r.streams["ACC"]["A"];
    assert_eq!(a.config.as_ref().expect("config").duplicates, 77, "the update won");
    assert!(a.recovering && a.responded);
    assert!(a.group.as_ref().expect("group").preferred.is_empty(), "recovery clears the preferred leader");
    assert_eq!(r.raft.commit, w.next_index() - 2);
}

#[test]
fn a_remove_then_re_add_keeps_the_new_stream() {
    let mut w = LogWriter::new("_meta_", LEADER, 1 << 20);
    w.peer_state(&peer_state());
    let s = with_consumers(sa("ACC", "S", &PEERS, 3), vec![]);
    log_of(
        &mut w,
        vec![
            encode_add_stream_assignment(&s).expect("op"),
            encode_add_consumer_assignment(&ca("ACC", "S", "old", "C-1")).expect("op"),
            encode_delete_stream_assignment(&s).expect("op"),
            encode_add_stream_assignment(&s).expect("op"),
            encode_add_consumer_assignment(&ca("ACC", "S", "new", "C-2")).expect("op"),
        ],
    );
    let r = recover_meta(&w.files(None)).expect("recovers");
    assert_eq!(names(&r.streams), vec![v("ACC", "S", &["new"])]);
}

#[test]
fn uncommitted_ops_are_not_applied() {
    let mut w = LogWriter::new("_meta_", LEADER, 1 << 20);
    w.peer_state(&peer_state());
    w.append(1, 0, vec![normal(encode_add_stream_assignment(&sa("ACC", "S", &PEERS, 3)).expect("op"))]).expect("append");
    w.append(1, 1, vec![normal(encode_add_stream_assignment(&sa("ACC", "T", &PEERS, 3)).expect("op"))]).expect("append");
    let r = recover_meta(&w.files(None)).expect("recovers");
    assert_eq!(names(&r.streams), vec![v("ACC", "S", &[])]);
    assert_eq!(r.raft.pending.len(), 1);
}

#[test]
fn an_undecodable_op_warns_and_skips_its_batch() {
    let mut w = LogWriter::new("_meta_", LEADER, 1 << 20);
    w.peer_state(&peer_state());
    let good = encode_add_stream_assignment(&sa("ACC", "S", &PEERS, 3)).expect("op");
    let t = encode_add_stream_assignment(&sa("ACC", "T", &PEERS, 3)).expect("op");
    w.append(1, 0, vec![normal(b"\x00{not json".to_vec()), normal(t)]).expect("append");
    w.append(1, 1, vec![normal(good)]).expect("append");
    w.append(1, 2, vec![Entry::new(EntryType::AddPeer, b"newpeer1".to_vec())]).expect("append");
    w.append(1, 3, vec![]).expect("append");
    let r = recover_meta(&w.files(None)).expect("recovers");
    assert_eq!(r.warnings.len(), 1);
    assert_eq!(r.warnings[0].index, 1);
    assert_eq!(names(&r.streams), vec![v("ACC", "S", &[])], "T shared the failed batch");
}

#[test]
fn entries_a_server_panics_on_are_fatal() {
    for (bad, what) in [(vec![], "empty"), (vec![42u8, b'{', b'}'], "unknown op"), (vec![4u8, 1, 2], "stream message op")] {
        let mut w = LogWriter::new("_meta_", LEADER, 1 << 20);
        w.peer_state(&peer_state());
        w.append(1, 0, vec![normal(bad)]).expect("append");
        w.append(1, 1, vec![normal(vec![])]).expect("append");
        match recover_meta(&w.files(None)) {
            Err(MetaWalError::Fatal { index: 1, .. }) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
}
