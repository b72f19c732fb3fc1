//! The apply path on hand-built committed entries: every op, batches
//! (committed across entries, gaps, abandonment, recovery skips),
//! snapshots in both encodings, and the leader's API replies.

use std::rc::Rc;

use super::*;
use crate::jetstream_cluster::stream_ops::{encode_msg_delete, encode_stream_msg, encode_stream_msg_allow_compress_and_batch, encode_stream_purge, StreamMsg, StreamMsgDelete, StreamPurge};
use crate::raft::wire::Entry;
use crate::store::{StorageType, StoreConfig};

fn js() -> Rc<JetStreamCtx> {
    JetStreamCtx::offline("S1ID").0
}

fn stream() -> StreamReplica {
    let cfg = StoreConfig { name: "TEST".into(), subjects: vec!["foo.>".into()], storage: StorageType::Memory, ..Default::default() };
    StreamReplica::new("$G", "TEST", MemStore::new(&cfg, Rc::new(|| 1_000)).expect("store"))
}

fn msg(subject: &str, lseq: u64) -> StreamMsg {
    StreamMsg { subject: subject.into(), msg: format!("m{lseq}").into_bytes(), lseq, ts: 1_000 + lseq as i64, ..Default::default() }
}

fn ce(index: u64, data: Vec<Vec<u8>>) -> CommittedEntry {
    CommittedEntry { index, entries: data.into_iter().map(|d| Entry::new(EntryType::Normal, d)).collect() }
}

fn state(s: &mut StreamReplica) -> StreamState {
    s.store.state()
}

#[test]
fn messages_apply_in_order_and_replays_are_skipped() {
    let mut s = stream();
    let entries: Vec<Vec<u8>> = (0..5).map(|i| encode_stream_msg(&msg("foo.a", i))).collect();
    assert_eq!(js().apply_stream_entries(&mut s, &ce(5, entries.clone()), false), Ok(0));
    let st = state(&mut s);
    assert_eq!((st.msgs, st.first_seq, st.last_seq), (5, 1, 5));
    assert_eq!(s.lseq, 5);
    assert_eq!(s.store.load_msg(3).expect("seq 3").msg, b"m2");
    // The same entries again (a replay): nothing changes.
    assert_eq!(js().apply_stream_entries(&mut s, &ce(5, entries), true), Ok(0));
    assert_eq!(state(&mut s).msgs, 5);
}

#[test]
fn an_empty_message_is_a_skip_and_a_gap_is_a_mismatch() {
    let mut s = stream();
    js().apply_stream_entries(&mut s, &ce(1, vec![encode_stream_msg(&msg("foo.a", 0))]), false).expect("first");
    let skip = StreamMsg { lseq: 1, ..Default::default() };
    js().apply_stream_entries(&mut s, &ce(2, vec![encode_stream_msg(&skip)]), false).expect("skip");
    let st = state(&mut s);
    assert_eq!((st.msgs, st.last_seq, st.num_deleted), (1, 2, 1));
    assert_eq!(s.lseq, 2);
    // The leader says the next one is 5: we have 2 and messages, a mismatch.
    assert_eq!(js().apply_stream_entries(&mut s, &ce(3, vec![encode_stream_msg(&msg("foo.a", 4))]), false), Err(ApplyError::LastSeqMismatch));
}

#[test]
fn a_replica_without_state_starts_at_the_leaders_sequence() {
    let mut s = stream();
    js().apply_stream_entries(&mut s, &ce(9, vec![encode_stream_msg(&msg("foo.a", 41))]), false).expect("applies");
    let st = state(&mut s);
    assert_eq!((st.msgs, st.first_seq, st.last_seq), (1, 42, 42));
}

#[test]
fn failed_proposals_shift_sequences_by_clfs() {
    let mut s = stream();
    js().apply_stream_entries(&mut s, &ce(1, vec![encode_stream_msg(&msg("foo.a", 0))]), false).expect("first");
    // The leader counted one failed proposal: its lseq runs one ahead.
    s.clfs = 1;
    js().apply_stream_entries(&mut s, &ce(2, vec![encode_stream_msg(&msg("foo.a", 2))]), false).expect("second");
    assert_eq!(state(&mut s).last_seq, 2);
}

#[test]
fn delete_entries_reply_from_the_leader_only() {
    let mut s = stream();
    let entries: Vec<Vec<u8>> = (0..3).map(|i| encode_stream_msg(&msg("foo.a", i))).collect();
    js().apply_stream_entries(&mut s, &ce(3, entries), false).expect("msgs");
    let del = |seq: u64, no_erase: bool| encode_msg_delete(&StreamMsgDelete { stream: "TEST".into(), seq, no_erase, subject: "$JS.API.STREAM.MSG.DELETE.TEST".into(), reply: "_INBOX.1".into(), client: None });
    // A follower deletes silently.
    js().apply_stream_entries(&mut s, &ce(4, vec![del(2, true)]), false).expect("delete");
    assert!(s.replies.is_empty());
    assert_eq!(state(&mut s).deleted, vec![2]);
    s.leader = true;
    js().apply_stream_entries(&mut s, &ce(5, vec![del(3, false)]), false).expect("erase");
    js().apply_stream_entries(&mut s, &ce(6, vec![del(3, false)]), false).expect("again");
    let replies: Vec<&str> = s.replies.iter().map(|r| r.json.as_str()).collect();
    assert_eq!(
        replies,
        vec![
            r#"{"type":"io.nats.jetstream.api.v1.stream_msg_delete_response","success":true}"#,
            r#"{"type":"io.nats.jetstream.api.v1.stream_msg_delete_response","error":{"code":400,"err_code":10043,"description":"sequence 3 not found"}}"#,
        ]
    );
    assert_eq!(s.replies[0].reply, "_INBOX.1");
    // While recovering the leader does not answer.
    js().apply_stream_entries(&mut s, &ce(7, vec![del(1, true)]), true).expect("recovering");
    assert_eq!(s.replies.len(), 2);
}

#[test]
fn purge_without_a_sequence_stops_at_the_leaders_last() {
    let mut s = stream();
    let entries: Vec<Vec<u8>> = (0..10).map(|i| encode_stream_msg(&msg(if i % 2 == 0 { "foo.a" } else { "foo.b" }, i))).collect();
    js().apply_stream_entries(&mut s, &ce(10, entries), false).expect("msgs");
    s.leader = true;
    // The leader had 6 when it proposed: a replay must keep 7..10.
    let p = encode_stream_purge(&StreamPurge { stream: "TEST".into(), last_seq: 6, subject: "$JS.API.STREAM.PURGE.TEST".into(), reply: "_INBOX.p".into(), ..Default::default() });
    js().apply_stream_entries(&mut s, &ce(11, vec![p]), false).expect("purge");
    let st = state(&mut s);
    assert_eq!((st.msgs, st.first_seq, st.last_seq), (4, 7, 10));
    assert_eq!(s.replies.last().map(|r| r.json.as_str()), Some(r#"{"type":"io.nats.jetstream.api.v1.stream_purge_response","success":true,"purged":6}"#));
    // A filtered purge keeping one.
    let p = encode_stream_purge(&StreamPurge { stream: "TEST".into(), last_seq: 10, request: Some(PurgeRequest { subject: "foo.b".into(), keep: 1, sequence: 0 }), ..Default::default() });
    js().apply_stream_entries(&mut s, &ce(12, vec![p.clone()]), false).expect("filtered");
    assert_eq!(s.store.subjects_totals("foo.b").get("foo.b"), Some(&1));
    // With keep, a recovering replay skips the entry altogether.
    let before = state(&mut s);
    js().apply_stream_entries(&mut s, &ce(12, vec![p]), true).expect("skipped");
    assert_eq!(state(&mut s), before);
}

fn bmsg(lseq: u64, id: &str, seq: u64, commit: bool) -> Vec<u8> {
    encode_stream_msg_allow_compress_and_batch(&msg("foo.batch", lseq), id, seq, commit)
}

#[test]
fn a_batch_applies_at_its_commit_across_entries() {
    let mut s = stream();
    // Index 3 holds the batch's first two messages: nothing is applied,
    // and only index 2 may be reported applied.
    assert_eq!(js().apply_stream_entries(&mut s, &ce(3, vec![bmsg(0, "B", 1, false), bmsg(1, "B", 2, false)]), false), Ok(2));
    assert_eq!(state(&mut s).msgs, 0);
    assert_eq!(js().apply_stream_entries(&mut s, &ce(4, vec![bmsg(2, "B", 3, true)]), false), Ok(0));
    let st = state(&mut s);
    assert_eq!((st.msgs, st.last_seq), (3, 3));
    assert_eq!(s.batch.as_ref().map(|b| b.id.is_empty()), Some(true));
}

#[test]
fn a_batch_with_a_gap_or_abandoned_counts_as_failed() {
    let mut s = stream();
    js().apply_stream_entries(&mut s, &ce(2, vec![bmsg(0, "B", 1, false), bmsg(1, "B", 3, true)]), false).expect("gap");
    assert_eq!(state(&mut s).msgs, 0);
    // Two proposals used no sequence.
    assert_eq!(s.clfs, 2);
    // Abandoned by a plain message: one more failed, and the plain one applies.
    js().apply_stream_entries(&mut s, &ce(4, vec![bmsg(2, "C", 1, false), encode_stream_msg(&msg("foo.a", 3))]), false).expect("abandoned");
    assert_eq!(s.clfs, 3);
    assert_eq!(state(&mut s).msgs, 1);
    // A new batch id replaces an open one.
    js().apply_stream_entries(&mut s, &ce(5, vec![bmsg(4, "D", 1, false)]), false).expect("open");
    js().apply_stream_entries(&mut s, &ce(6, vec![bmsg(5, "E", 1, true)]), false).expect("other");
    assert_eq!(s.clfs, 4);
    assert_eq!(state(&mut s).msgs, 2);
}

#[test]
fn recovering_into_an_applied_batch_skips_it() {
    let mut s = stream();
    for i in 0..3 {
        js().apply_stream_entries(&mut s, &ce(i + 1, vec![encode_stream_msg(&msg("foo.a", i))]), false).expect("msg");
    }
    // The batch's first entry was compacted away; its second carries lseq 1 < 3.
    let buf = bmsg(1, "B", 2, false);
    s.batch = Some(BatchApply { id: "B".into(), ..Default::default() });
    assert_eq!(s.skip_batch_if_recovering(&buf), Ok(true));
    assert_eq!(s.batch.as_ref().map(|b| b.id.as_str()), Some(""));
    assert_eq!(js().apply_stream_entries(&mut s, &ce(5, vec![buf, bmsg(2, "B", 3, true)]), true), Ok(0));
    assert_eq!(state(&mut s).msgs, 3);
    // Not yet applied: not skipped.
    assert_eq!(s.skip_batch_if_recovering(&bmsg(3, "Z", 2, false)), Ok(false));
}

#[test]
fn snapshots_sync_deletes_and_report_a_needed_catchup() {
    let mut s = stream();
    let entries: Vec<Vec<u8>> = (0..10).map(|i| encode_stream_msg(&msg("foo.a", i))).collect();
    js().apply_stream_entries(&mut s, &ce(10, entries), false).expect("msgs");
    // A leader with first 3 and 5 deleted, last 10, one failed proposal.
    let mut leader = stream();
    let entries: Vec<Vec<u8>> = (0..10).map(|i| encode_stream_msg(&msg("foo.a", i))).collect();
    js().apply_stream_entries(&mut leader, &ce(10, entries), false).expect("msgs");
    leader.store.compact(3).expect("compact");
    leader.store.remove_msg(5).expect("remove");
    leader.clfs = 1;
    let snap = Entry::new(EntryType::Snapshot, leader.state_snapshot());
    js().apply_stream_entries(&mut s, &CommittedEntry { index: 11, entries: vec![snap] }, false).expect("snapshot");
    assert_eq!(state(&mut s), state(&mut leader));
    assert_eq!(s.clfs, 1);
    // A legacy JSON snapshot past our last: a catch-up is needed.
    let json = br#"{"messages":12,"bytes":1,"first_seq":3,"last_seq":14,"clfs":1,"deleted":[5]}"#.to_vec();
    let r = js().apply_stream_entries(&mut s, &CommittedEntry { index: 12, entries: vec![Entry::new(EntryType::Snapshot, json)] }, false);
    assert_eq!(r, Err(ApplyError::CatchupRequired { first: 11, last: 14 }));
    // A broken one resets a recovering replica.
    let r = js().apply_stream_entries(&mut s, &CommittedEntry { index: 13, entries: vec![Entry::new(EntryType::Snapshot, b"{bad".to_vec())] }, true);
    assert!(matches!(r, Err(ApplyError::BadSnapshot(_))));
    assert!(s.reset.is_some());
}

#[test]
fn a_remove_peer_for_us_stops_the_stream_unless_still_assigned() {
    let mut s = stream();
    s.our_id = "S1ID".into();
    s.group_peers = Some(vec!["S1ID".into(), "S2ID".into()]);
    let rp = |p: &str| CommittedEntry { index: 1, entries: vec![Entry::new(EntryType::RemovePeer, p.as_bytes().to_vec())] };
    js().apply_stream_entries(&mut s, &rp("S1ID"), false).expect("still a member");
    assert!(!s.stopped);
    s.group_peers = Some(vec!["S2ID".into()]);
    js().apply_stream_entries(&mut s, &rp("S2ID"), false).expect("not us");
    assert!(!s.stopped);
    js().apply_stream_entries(&mut s, &rp("S1ID"), false).expect("us");
    assert!(s.stopped && s.closed);
    assert_eq!(js().apply_stream_entries(&mut s, &ce(2, vec![encode_stream_msg(&msg("foo.a", 0))]), false), Err(ApplyError::StreamClosed));
}

#[test]
fn unknown_ops_and_corrupt_entries_are_errors() {
    let mut s = stream();
    assert_eq!(js().apply_stream_entries(&mut s, &ce(1, vec![vec![99]]), false), Err(ApplyError::UnknownOp(99)));
    assert!(matches!(js().apply_stream_entries(&mut s, &ce(1, vec![vec![4, 1, 2]]), false), Err(ApplyError::Corrupt(_))));
    assert!(matches!(js().apply_stream_entries(&mut s, &ce(1, vec![vec![6, b'{']]), false), Err(ApplyError::Corrupt(_))));
    // Catch-up markers are ignored.
    let c = CommittedEntry { index: 1, entries: vec![Entry::new(EntryType::Catchup, vec![1])] };
    assert_eq!(js().apply_stream_entries(&mut s, &c, false), Ok(0));
}
