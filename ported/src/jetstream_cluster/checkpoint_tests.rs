use super::*;
use crate::jetstream_cluster::ops::{
    encode_add_consumer_assignment, encode_add_consumer_assignment_compressed, encode_add_stream_assignment,
    encode_delete_consumer_assignment, encode_delete_stream_assignment, encode_update_stream_assignment, EntryOp,
};
use crate::jetstream_cluster::test_util::{ca, sa, with_consumers};
use crate::jetstream_cluster::StreamAssignment;
use crate::jetstream_cluster::node::CheckpointOn;
use crate::raft::wire::{AppendEntry, Entry};
use crate::raft::Raft;
use crate::sim::{test_seed, Cluster};

const PEERS: &[&str] = &["p1", "p2", "p3"];

/// Whether a decode error is the expected one.
type OpCheck = fn(&OpError) -> bool;

fn normal(buf: Vec<u8>) -> Entry {
    Entry::new(EntryType::Normal, buf)
}

/// A meta node (a frozen single-member memory node) whose WAL holds one
/// append entry per item of `log`, all committed and applied.
fn meta_node(test: &str, log: Vec<Vec<Entry>>) -> (Cluster, usize) {
    let mut c = Cluster::new("R3S", 3, test_seed(test));
    let slot = c.init_single_mem_raft_node();
    c.freeze(&[slot]);
    append(c.node(slot), log);
    (c, slot)
}

fn append(n: &mut Raft, log: Vec<Vec<Entry>>) {
    for entries in log {
        let (pindex, pterm) = n.last_log();
        let ae = match AppendEntry::new(n.id(), 1, 0, pterm, pindex, entries).encoded() {
            Ok(ae) => ae,
            Err(e) => panic!("encoding: {e}"),
        };
        if let Err(e) = n.internals().store_to_wal(&ae) {
            panic!("storing: {e}");
        }
    }
    let (last, _) = n.last_log();
    n.internals().set_commit(last);
    n.internals().set_applied(last);
}

fn collect(n: &mut Raft, streams: &mut StreamMap) -> Result<(), CollectError> {
    let cp = n.create_snapshot_checkpoint(false).expect("checkpoint");
    let res = JetStream::collect_stream_and_consumer_changes(&CheckpointOn::new(&cp, n), streams);
    cp.abort(n);
    res
}

fn snapshot(sas: Vec<StreamAssignment>) -> StreamMap {
    let mut streams = StreamMap::new();
    for s in sas {
        streams.entry(s.account().to_string()).or_default().insert(s.name().to_string(), s);
    }
    streams
}

fn names(streams: &StreamMap) -> Vec<(String, String, Vec<String>)> {
    streams
        .iter()
        .flat_map(|(acc, asa)| asa.iter().map(move |(name, s)| (acc.clone(), name.clone(), s.consumers.keys().cloned().collect())))
        .collect()
}

#[test]
fn folds_stream_and_consumer_changes_into_the_snapshot() {
    let orders = with_consumers(sa("A", "ORDERS", PEERS, 3), vec![ca("A", "ORDERS", "c1", "C-1"), ca("A", "ORDERS", "c2", "C-2")]);
    let r2 = with_consumers(sa("A", "R2", PEERS, 3), vec![ca("A", "R2", "old", "C-9")]);
    let mut streams = snapshot(vec![orders, sa("A", "OLD", PEERS, 3), r2]);

    let orders_r5 = sa("A", "ORDERS", &["p1", "p2", "p3", "p4", "p5"], 5);
    let log = vec![
        // Not a meta op: skipped (decoding it as one would fail).
        vec![Entry::new(EntryType::PeerState, vec![1, 2, 3])],
        vec![normal(encode_update_stream_assignment(&orders_r5).expect("enc"))],
        vec![normal(encode_add_consumer_assignment(&ca("A", "ORDERS", "c3", "C-3")).expect("enc"))],
        vec![normal(encode_delete_consumer_assignment(&ca("A", "ORDERS", "c1", "C-1")).expect("enc"))],
        vec![normal(encode_delete_stream_assignment(&sa("A", "OLD", PEERS, 3)).expect("enc"))],
        // Two meta ops in one append entry.
        vec![
            normal(encode_add_stream_assignment(&sa("B", "NEW", PEERS, 3)).expect("enc")),
            normal(encode_add_consumer_assignment_compressed(&ca("B", "NEW", "n1", "C-4")).expect("enc")),
        ],
        // A consumer of a stream that does not exist is dropped.
        vec![normal(encode_add_consumer_assignment(&ca("A", "GHOST", "g1", "C-5")).expect("enc"))],
        // Added then removed: gone.
        vec![normal(encode_add_stream_assignment(&sa("A", "TEMP", PEERS, 1)).expect("enc"))],
        vec![normal(encode_delete_stream_assignment(&sa("A", "TEMP", PEERS, 1)).expect("enc"))],
        // Removed then recreated: back, without the old stream's consumers.
        vec![normal(encode_delete_stream_assignment(&sa("A", "R2", PEERS, 3)).expect("enc"))],
        vec![normal(encode_add_stream_assignment(&sa("A", "R2", PEERS, 1)).expect("enc"))],
    ];
    let (mut c, slot) = meta_node("collect_folds_stream_and_consumer_changes", log);
    let n = c.node(slot);
    let cp = n.create_snapshot_checkpoint(false).expect("checkpoint");
    JetStream::collect_stream_and_consumer_changes(&CheckpointOn::new(&cp, n), &mut streams).expect("collected");

    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        names(&streams),
        vec![
            ("A".to_string(), "ORDERS".to_string(), s(&["c2", "c3"])),
            ("A".to_string(), "R2".to_string(), s(&[])),
            ("B".to_string(), "NEW".to_string(), s(&["n1"])),
        ]
    );
    let orders = &streams["A"]["ORDERS"];
    assert_eq!(orders.config.as_ref().map(|c| c.replicas), Some(5), "the update replaced the assignment");
    assert_eq!(orders.group.as_ref().map(|g| g.peers.len()), Some(5));
    assert_eq!(streams["A"]["R2"].config.as_ref().map(|c| c.replicas), Some(1));
}

#[test]
fn only_entries_after_the_previous_snapshot_are_folded() {
    let log = vec![
        vec![normal(encode_add_stream_assignment(&sa("A", "BEFORE", PEERS, 3)).expect("enc"))],
        vec![normal(encode_add_stream_assignment(&sa("A", "ALSO_BEFORE", PEERS, 3)).expect("enc"))],
    ];
    let (mut c, slot) = meta_node("collect_only_entries_after_the_previous_snapshot", log);
    let n = c.node(slot);
    let first = n.create_snapshot_checkpoint(false).expect("checkpoint");
    first.install_snapshot(n, b"meta snapshot at 2").expect("installed");
    append(n, vec![vec![normal(encode_add_stream_assignment(&sa("A", "AFTER", PEERS, 3)).expect("enc"))]]);

    let mut streams = StreamMap::new();
    collect(n, &mut streams).expect("collected");
    assert_eq!(names(&streams), vec![("A".to_string(), "AFTER".to_string(), Vec::new())]);
}

#[test]
fn errors_leave_the_snapshot_untouched() {
    let base = || snapshot(vec![with_consumers(sa("A", "ORDERS", PEERS, 3), vec![ca("A", "ORDERS", "c1", "C-1")])]);
    let remove_orders = normal(encode_delete_stream_assignment(&sa("A", "ORDERS", PEERS, 3)).expect("enc"));

    // An aborted checkpoint.
    let (mut c, slot) = meta_node("collect_errors_aborted", vec![vec![remove_orders.clone()]]);
    let n = c.node(slot);
    let cp = n.create_snapshot_checkpoint(false).expect("checkpoint");
    cp.abort(n);
    let mut streams = base();
    let res = JetStream::collect_stream_and_consumer_changes(&CheckpointOn::new(&cp, n), &mut streams);
    assert!(matches!(res, Err(CollectError::Checkpoint(RaftError::SnapAborted))), "{res:?}");
    assert_eq!(names(&streams), names(&base()));

    // Entries that are not meta assignment ops, after a valid one.
    let bad: [(Vec<u8>, OpCheck); 3] = [
        (vec![200, b'{', b'}'], |e| matches!(e, OpError::UnknownOp(200))),
        (vec![EntryOp::StreamMsg as u8, 0, 0], |e| matches!(e, OpError::NotMetaOp(EntryOp::StreamMsg))),
        (Vec::new(), |e| matches!(e, OpError::Empty)),
    ];
    for (i, (data, want)) in bad.into_iter().enumerate() {
        let log = vec![vec![remove_orders.clone()], vec![normal(data)]];
        let (mut c, slot) = meta_node(&format!("collect_errors_bad_entry_{i}"), log);
        let mut streams = base();
        match collect(c.node(slot), &mut streams) {
            Err(CollectError::Decode { index, source }) => {
                assert_eq!(index, 2);
                assert!(want(&source), "{source:?}");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
        assert_eq!(names(&streams), names(&base()), "nothing applied");
    }

    // A bad assignment body.
    let (mut c, slot) = meta_node("collect_errors_bad_json", vec![vec![normal(vec![EntryOp::AssignStream as u8, b'{'])]]);
    let mut streams = base();
    assert!(matches!(collect(c.node(slot), &mut streams), Err(CollectError::Decode { index: 1, source: OpError::Json(_) })));
    assert_eq!(names(&streams), names(&base()));
}
