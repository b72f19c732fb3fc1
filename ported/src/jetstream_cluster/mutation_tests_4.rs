//! Behaviour of `applyStreamMsgOp`, `applyStreamEntries` and
//! `createRaftGroup` that only the 300-seed stream scenario touched
//! before (issue 11): the reset of an empty replica a leader is past,
//! the recovery skip of a batch met in its middle, a batch that starts
//! inside an entry, the batch a non-message entry abandons, and the
//! replacement of a stopped group node.

use std::rc::Rc;

use crate::jetstream_cluster::js::JetStreamCtx;
use crate::jetstream_cluster::stream_apply::{ApplyError, StreamReplica};
use crate::jetstream_cluster::stream_ops::{encode_stream_msg, encode_stream_msg_allow_compress_and_batch, StreamMsg};
use crate::raft::node::CommittedEntry;
use crate::raft::wire::{Entry, EntryType};
use crate::store::{MemStore, StorageType, StoreConfig, StreamStore};

fn js() -> Rc<JetStreamCtx> {
    JetStreamCtx::offline("S1ID").0
}

fn stream() -> StreamReplica {
    let cfg = StoreConfig { name: "TEST".into(), subjects: vec!["foo.>".into()], storage: StorageType::Memory, ..Default::default() };
    StreamReplica::new("$G", "TEST", MemStore::new(&cfg, Rc::new(|| 1_000)).expect("store"))
}

fn msg(lseq: u64) -> StreamMsg {
    StreamMsg { subject: "foo.a".into(), msg: format!("m{lseq}").into_bytes(), lseq, ts: 1_000 + lseq as i64, ..Default::default() }
}

fn plain(lseq: u64) -> Vec<u8> {
    encode_stream_msg(&msg(lseq))
}

fn bmsg(lseq: u64, id: &str, seq: u64, commit: bool) -> Vec<u8> {
    encode_stream_msg_allow_compress_and_batch(&msg(lseq), id, seq, commit)
}

fn ce(index: u64, data: Vec<Vec<u8>>) -> CommittedEntry {
    CommittedEntry { index, entries: data.into_iter().map(|d| Entry::new(EntryType::Normal, d)).collect() }
}

/// A replica holding the messages at leader sequences `0..n` (stream sequences 1..=n).
fn stream_with(n: u64) -> StreamReplica {
    let mut s = stream();
    js().apply_stream_entries(&mut s, &ce(n, (0..n).map(plain).collect()), false).expect("messages");
    assert_eq!(s.store.state().msgs, n);
    s
}

fn apply_op(s: &mut StreamReplica, m: &StreamMsg) -> Result<(), ApplyError> {
    let buf = encode_stream_msg(m);
    js().apply_stream_msg_op(s, buf[0], &buf[1..], false)
}

fn first_last_msgs(s: &mut StreamReplica) -> (u64, u64, u64) {
    let st = s.store.state();
    (st.first_seq, st.last_seq, st.msgs)
}

/// applyStreamMsgOp, on a sequence mismatch: a replica left with no
/// messages (here purged) compacts its store to just below the leader's
/// sequence before retrying, so its store follows the leader's even
/// though the retry still reports the mismatch (our last sequence is
/// unchanged, as upstream's is); a replica that still has messages
/// keeps them and only reports the mismatch.
#[test]
fn an_empty_replica_the_leader_is_past_compacts_to_the_leaders_sequence() {
    let mut s = stream_with(3);
    assert_eq!(s.purge(None), Ok(3));
    assert_eq!(first_last_msgs(&mut s), (4, 3, 0));
    assert_eq!(apply_op(&mut s, &msg(9)), Err(ApplyError::LastSeqMismatch));
    assert_eq!(first_last_msgs(&mut s), (10, 9, 0), "compacted to the leader's sequence + 1");

    let mut full = stream_with(3);
    assert_eq!(apply_op(&mut full, &msg(9)), Err(ApplyError::LastSeqMismatch));
    assert_eq!(first_last_msgs(&mut full), (1, 3, 3), "messages are never compacted away");
    assert_eq!(full.store.load_msg(1).expect("seq 1").msg, b"m0");
}

/// applyStreamMsgOp ignores what the store refuses as closed (a sealed
/// stream here) instead of stopping the stream, but a closed stream is
/// an error the caller stops on.
#[test]
fn a_closed_store_is_ignored_and_a_closed_stream_is_an_error() {
    let mut s = stream_with(1);
    s.sealed = true;
    assert_eq!(apply_op(&mut s, &msg(1)), Ok(()));
    assert_eq!((first_last_msgs(&mut s), s.lseq), ((1, 1, 1), 1), "nothing stored");
    s.sealed = false;
    s.closed = true;
    assert_eq!(apply_op(&mut s, &msg(1)), Err(ApplyError::StreamClosed));
}

/// applyStreamEntries, recovering into the middle of a batch whose
/// messages are already stored (its first entry compacted away): every
/// entry of it is skipped, none counts as a failed proposal, and no
/// batch stays open.
#[test]
fn recovering_into_the_middle_of_an_applied_batch_counts_no_failure() {
    let mut s = stream_with(3);
    assert_eq!(js().apply_stream_entries(&mut s, &ce(5, vec![bmsg(1, "B", 2, false), bmsg(2, "B", 3, true)]), true), Ok(0));
    assert_eq!(first_last_msgs(&mut s), (1, 3, 3));
    assert_eq!(s.clfs, 0, "a skipped batch is no failed proposal");
    assert_eq!(s.batch.as_ref().map(|b| (b.id.as_str(), b.count)), Some(("", 0)));
}

/// The recovery skip needs the batch's start to be gone: a recovering
/// replica that sees a batch's first entry keeps the batch open (even
/// when its messages are stored already, which the message path then
/// skips one by one), and applies it at its commit.
#[test]
fn a_recovering_replica_keeps_a_batch_it_sees_from_its_first_entry() {
    let mut s = stream_with(3);
    assert_eq!(js().apply_stream_entries(&mut s, &ce(4, vec![bmsg(1, "R", 1, false)]), true), Ok(3), "held below index 4");
    assert_eq!(s.batch.as_ref().map(|b| (b.id.as_str(), b.count)), Some(("R", 1)));
    assert_eq!(js().apply_stream_entries(&mut s, &ce(5, vec![bmsg(2, "R", 2, false), bmsg(3, "R", 3, true)]), true), Ok(0));
    assert_eq!(first_last_msgs(&mut s), (1, 4, 4), "the stored ones skipped, the new one applied");
    assert_eq!(s.store.load_msg(4).expect("seq 4").msg, b"m3");
    assert_eq!(s.clfs, 0);
}

/// A batch met in its middle is a gap, rejected and counted as a failed
/// proposal, when the replica is not recovering, or when it is but the
/// batch's messages are not stored yet.
#[test]
fn a_batch_met_in_its_middle_is_rejected_unless_recovering_and_applied() {
    for (recovering, lseq) in [(false, 1), (true, 5)] {
        let mut s = stream_with(3);
        let case = format!("recovering={recovering}, lseq={lseq}");
        assert_eq!(js().apply_stream_entries(&mut s, &ce(4, vec![bmsg(lseq, "M", 2, false)]), recovering), Ok(0), "{case}");
        assert_eq!(s.clfs, 1, "{case}: one failed proposal");
        assert_eq!(s.batch.as_ref().map(|b| (b.id.as_str(), b.count)), Some(("", 0)), "{case}");
        assert_eq!(first_last_msgs(&mut s), (1, 3, 3), "{case}");
    }
}

/// A batch that starts in the middle of a committed entry and commits two
/// entries later applies from its own first message: only the first held
/// entry is cut at the batch's start, the later ones are applied whole,
/// then the committing entry up to the commit; what follows the commit in
/// that entry applies after it.
#[test]
fn a_batch_started_inside_an_entry_applies_from_its_start() {
    let mut s = stream();
    assert_eq!(js().apply_stream_entries(&mut s, &ce(3, vec![plain(0), bmsg(1, "B", 1, false)]), false), Ok(2));
    assert_eq!(s.store.state().msgs, 1, "the plain message before the batch applies at once");
    assert_eq!(js().apply_stream_entries(&mut s, &ce(4, vec![bmsg(2, "B", 2, false)]), false), Ok(2), "still held below index 3");
    assert_eq!(js().apply_stream_entries(&mut s, &ce(5, vec![bmsg(3, "B", 3, true), plain(4)]), false), Ok(0));
    assert_eq!(first_last_msgs(&mut s), (1, 5, 5));
    for seq in 1..=5u64 {
        assert_eq!(s.store.load_msg(seq).expect("stored").msg, format!("m{}", seq - 1).into_bytes(), "seq {seq}");
    }
    assert_eq!(s.clfs, 0);
}

/// An entry that is not a normal one (a peer removal here) abandons an
/// open batch: its messages count as failed proposals. A catch-up marker
/// is ignored altogether and leaves the batch open.
#[test]
fn a_non_message_entry_abandons_an_open_batch_but_a_catchup_marker_does_not() {
    let mut s = stream();
    s.our_id = "S1ID".into();
    assert_eq!(js().apply_stream_entries(&mut s, &ce(2, vec![bmsg(0, "B", 1, false), bmsg(1, "B", 2, false)]), false), Ok(1));
    let marker = CommittedEntry { index: 3, entries: vec![Entry::new(EntryType::Catchup, vec![1])] };
    assert_eq!(js().apply_stream_entries(&mut s, &marker, false), Ok(1), "still open, still held below index 2");
    assert_eq!((s.clfs, s.batch.as_ref().map(|b| b.count)), (0, Some(2)));
    let rp = CommittedEntry { index: 4, entries: vec![Entry::new(EntryType::RemovePeer, b"S2ID".to_vec())] };
    assert_eq!(js().apply_stream_entries(&mut s, &rp, false), Ok(0));
    assert_eq!(s.clfs, 2, "both batch messages failed");
    assert_eq!(s.batch.as_ref().map(|b| b.id.as_str()), Some(""));
    assert!(!s.stopped, "the removal was not for us");
    // The next message is at the leader's sequence 2 + CLFS 2 = stream sequence 1.
    assert_eq!(js().apply_stream_entries(&mut s, &ce(5, vec![plain(2)]), false), Ok(0));
    assert_eq!(first_last_msgs(&mut s), (1, 1, 1));
}

/// createRaftGroup replaces a node of the group that was stopped (it
/// waits for it to finish stopping): a new, running node is returned and
/// held by the group, not the closed one.
#[test]
fn create_raft_group_replaces_a_stopped_node() {
    use crate::jetstream_cluster::assignments::{RaftGroup, StorageType as Storage};
    use crate::jetstream_cluster::server::ServerEnv;
    use crate::jetstream_cluster::test_util::r3s_cluster;
    use crate::raft::RaftState;

    let c = r3s_cluster("create_raft_group_replaces_a_stopped_node");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let mut rg = RaftGroup { name: "S-R3M-STOP".into(), peers: ids.clone(), storage: Storage::Memory, cluster: "R3S".into(), preferred: ids[1].clone(), ..Default::default() };
    let first = c.js(0).create_raft_group("$G", &mut rg, false, Storage::Memory).expect("no error").expect("a member's node");
    first.stop();
    assert_eq!(first.state(), RaftState::Closed);
    let second = c.js(0).create_raft_group("$G", &mut rg, false, Storage::Memory).expect("no error").expect("a member's node");
    assert!(!second.same_node(&first), "a new node replaces the stopped one");
    assert_ne!(second.state(), RaftState::Closed);
    assert!(rg.node.as_ref().is_some_and(|n| n.same_node(&second)), "the group holds the new node");
    assert!(c.core(0).lookup_raft_node("S-R3M-STOP").is_some_and(|n| n.same_node(&second)), "and the server knows it");
}
