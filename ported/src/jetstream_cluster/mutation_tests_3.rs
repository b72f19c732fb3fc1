//! Behaviour the mutation gate (issue 11) still found unchecked after
//! `mutation_tests_2`: which consumers follow a stream that gains a peer,
//! the stream apply loop's message path, and raft group creation.

use crate::jetstream_cluster::test_util::{ca, r3s_cluster, stream_short_of_a_peer};


/// processAddPeer re-assigns a stream's durable consumers and its
/// replicated ones with it, whatever their size: an R1 durable follows
/// (durability alone is enough) and so does a replicated ephemeral
/// (being replicated alone is enough); an R1 ephemeral stays behind.
#[test]
fn add_peer_moves_durable_or_replicated_consumers_with_the_stream() {
    let c = r3s_cluster("add_peer_moves_durable_or_replicated_consumers_with_the_stream");
    let (js, newcomer, have) = stream_short_of_a_peer(&c);
    let have: Vec<&str> = have.iter().map(String::as_str).collect();
    let consumer = |name: &str, durable: bool, peers: &[&str]| {
        let mut x = ca("$G", "SHORT", name, &format!("C-{name}"));
        if !durable {
            x.config.as_mut().expect("config").durable.clear();
        }
        x.group.as_mut().expect("group").peers = peers.iter().map(|p| p.to_string()).collect();
        x
    };
    js.process_consumer_assignment(consumer("r1dur", true, &have[..1]));
    js.process_consumer_assignment(consumer("r2eph", false, &have));
    js.process_consumer_assignment(consumer("r1eph", false, &have[..1]));

    js.process_add_peer(&newcomer);
    let st = js.st.borrow();
    let cc = st.cluster.as_ref().expect("clustered");
    let stream_peers = cc.inflight_streams["$G"]["SHORT"].sa.group.as_ref().expect("group").peers.clone();
    let cons = &cc.inflight_consumers["$G"]["SHORT"];
    assert_eq!(cons.keys().map(String::as_str).collect::<Vec<_>>(), vec!["r1dur", "r2eph"]);
    for name in ["r1dur", "r2eph"] {
        assert_eq!(cons[name].ca.group.as_ref().expect("group").peers, stream_peers, "{name} gets the stream's new peer set");
    }
}

/// createRaftGroup starts a node only for a replicated group we are a
/// member of; the preferred member campaigns at once on a fresh group
/// (so it wins the first term), the others wait for their election
/// timeout; asking again for a running group whose peers changed updates
/// the node's known peers.
#[test]
fn create_raft_group_runs_only_replicated_groups_we_are_in_and_the_preferred_campaigns() {
    use crate::jetstream_cluster::assignments::{RaftGroup, StorageType};
    use crate::raft::RaftState;
    use std::time::Duration;

    let mut c = r3s_cluster("create_raft_group_runs_only_replicated_groups_we_are_in_and_the_preferred_campaigns");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let group = |peers: &[&str], preferred: &str| RaftGroup { name: "S-R3M-G".into(), peers: peers.iter().map(|p| p.to_string()).collect(), storage: StorageType::Memory, cluster: "R3S".into(), preferred: preferred.into(), ..Default::default() };
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();

    let mut r1 = group(&all[..1], all[0]);
    assert!(c.js(0).create_raft_group("$G", &mut r1, false, StorageType::Memory).expect("no error").is_none(), "an R1 group has no node");
    assert!(r1.node.is_none());
    let mut elsewhere = group(&["other111", "other222", "other333"], "other111");
    assert!(c.js(0).create_raft_group("$G", &mut elsewhere, false, StorageType::Memory).expect("no error").is_none(), "not a member: no node");
    assert!(elsewhere.node.is_none());

    // Every member starts the group, server 1 preferred.
    let mut nodes = Vec::new();
    for i in 0..3 {
        let mut rg = group(&all, all[1]);
        let n = c.js(i).create_raft_group("$G", &mut rg, false, StorageType::Memory).expect("no error").expect("a member's node");
        assert_eq!(n.id(), ids[i]);
        assert!(rg.node.as_ref().is_some_and(|x| x.same_node(&n)), "the group holds its node");
        nodes.push(n);
    }
    // A second group only server 0 starts, server 1 preferred: nobody
    // answers it, so a campaign would leave it a candidate.
    let mut lonely = group(&all, all[1]);
    lonely.name = "S-R3M-H".into();
    let alone = c.js(0).create_raft_group("$G", &mut lonely, false, StorageType::Memory).expect("no error").expect("a member's node");
    // Well before any election timeout (1.5 s at least here).
    c.run_for(Duration::from_millis(500));
    assert_eq!(alone.state(), RaftState::Follower, "a member that is not preferred waits for its election timeout");
    assert_eq!((nodes[1].state(), nodes[1].term()), (RaftState::Leader, 1), "the preferred member won the first term");
    assert_eq!(nodes[0].state(), RaftState::Follower);
    assert_eq!(nodes[2].state(), RaftState::Follower);

    // The same group again with server 2 replaced: the running node is
    // returned and learns the new peer set.
    let mut moved = group(&[all[0], all[1], "other111"], all[1]);
    let again = c.js(1).create_raft_group("$G", &mut moved, false, StorageType::Memory).expect("no error").expect("still a member");
    assert!(again.same_node(&nodes[1]), "the running node, not a new one");
    let mut known: Vec<String> = again.peers().into_iter().map(|p| p.id).collect();
    known.sort();
    let mut want = moved.peers.clone();
    want.sort();
    assert_eq!(known, want);
}

mod stream_msg_op {
    use std::rc::Rc;

    use crate::jetstream_cluster::js::JetStreamCtx;
    use crate::jetstream_cluster::stream_apply::StreamReplica;
    use crate::jetstream_cluster::stream_ops::{encode_stream_msg, StreamMsg};
    use crate::store::{MemStore, StorageType, StoreConfig, StreamStore};

    fn stream() -> StreamReplica {
        let cfg = StoreConfig { name: "TEST".into(), subjects: vec!["foo.>".into()], storage: StorageType::Memory, ..Default::default() };
        StreamReplica::new("$G", "TEST", MemStore::new(&cfg, Rc::new(|| 1_000)).expect("store"))
    }

    /// Applies `m` the way the entry loop does: the op byte, then the rest.
    fn apply(s: &mut StreamReplica, m: &StreamMsg) -> Result<(), crate::jetstream_cluster::stream_apply::ApplyError> {
        let buf = encode_stream_msg(m);
        JetStreamCtx::offline("S1ID").0.apply_stream_msg_op(s, buf[0], &buf[1..], false)
    }

    fn at(lseq: u64) -> StreamMsg {
        StreamMsg { subject: "foo.a".into(), msg: b"m".to_vec(), lseq, ts: 1_000 + lseq as i64, ..Default::default() }
    }

    /// applyStreamMsgOp answers only a flow-control request (a `100`
    /// status header, no payload, a reply subject) without storing it;
    /// a message lacking any one of those is stored, however empty, and
    /// so is a message without a subject: only an entry with no subject,
    /// time, header or payload is a skip.
    #[test]
    fn only_flow_control_is_not_stored_and_only_an_empty_entry_is_a_skip() {
        let mut s = stream();
        let fc = StreamMsg { subject: "foo.a".into(), reply: "$JSC.FC.1".into(), hdr: b"NATS/1.0 100 FlowControl Request\r\n\r\n".to_vec(), lseq: 0, ts: 1_000, ..Default::default() };
        apply(&mut s, &fc).expect("flow control");
        assert_eq!((s.store.state().msgs, s.store.state().last_seq), (0, 0), "flow control is not stored");

        let plain_hdr = b"NATS/1.0\r\nX: y\r\n\r\n".to_vec();
        let cases = [
            // No payload, no header: a message all the same.
            StreamMsg { subject: "foo.a".into(), lseq: 0, ts: 1_001, ..Default::default() },
            // No payload, a header that is no status line.
            StreamMsg { subject: "foo.a".into(), hdr: plain_hdr.clone(), lseq: 1, ts: 1_002, ..Default::default() },
            // The same with a reply subject.
            StreamMsg { subject: "foo.a".into(), reply: "_INBOX.r".into(), hdr: plain_hdr.clone(), lseq: 2, ts: 1_003, ..Default::default() },
            // A status header on a message with a payload.
            StreamMsg { subject: "foo.a".into(), reply: "_INBOX.r".into(), hdr: b"NATS/1.0 100 Idle Heartbeat\r\n\r\n".to_vec(), msg: b"x".to_vec(), lseq: 3, ts: 1_004, ..Default::default() },
            // No subject but a payload.
            StreamMsg { msg: b"body".to_vec(), lseq: 4, ..Default::default() },
        ];
        for (i, m) in cases.iter().enumerate() {
            apply(&mut s, m).expect("applies");
            let seq = i as u64 + 1;
            let st = s.store.state();
            assert_eq!((st.msgs, st.last_seq, st.num_deleted), (seq, seq, 0), "case {i} is stored, not skipped");
            let got = s.store.load_msg(seq).expect("stored");
            assert_eq!((got.hdr.as_slice(), got.msg.as_slice()), (m.hdr.as_slice(), m.msg.as_slice()), "case {i}");
        }
    }

    /// With failed proposals counted (clfs > 0), a replay of the stream's
    /// first message (lseq 0) does not fall under "below what we have"
    /// (0 - clfs wraps) and is still ignored once the stream has messages.
    #[test]
    fn a_replayed_first_message_is_ignored_when_proposals_failed() {
        let mut s = stream();
        apply(&mut s, &at(0)).expect("first");
        apply(&mut s, &at(1)).expect("second");
        s.clfs = 1;
        assert_eq!(apply(&mut s, &at(0)), Ok(()));
        let st = s.store.state();
        assert_eq!((st.msgs, st.last_seq), (2, 2));
        assert_eq!(s.lseq, 2);
    }
}

/// applyStreamEntries stores a message the leader compressed (a payload
/// above the compression threshold travels as a compressed-message op)
/// like any other: decompressed, at its sequence.
#[test]
fn a_compressed_message_entry_is_stored_decompressed() {
    use std::rc::Rc;

    use crate::jetstream_cluster::js::JetStreamCtx;
    use crate::jetstream_cluster::ops::EntryOp;
    use crate::jetstream_cluster::stream_apply::StreamReplica;
    use crate::jetstream_cluster::stream_ops::{encode_stream_msg, StreamMsg, COMPRESS_THRESHOLD};
    use crate::raft::node::CommittedEntry;
    use crate::raft::wire::{Entry, EntryType};
    use crate::store::{MemStore, StorageType, StoreConfig, StreamStore};

    let cfg = StoreConfig { name: "TEST".into(), subjects: vec!["foo.>".into()], storage: StorageType::Memory, ..Default::default() };
    let mut s = StreamReplica::new("$G", "TEST", MemStore::new(&cfg, Rc::new(|| 1_000)).expect("store"));
    let body: Vec<u8> = (0..2 * COMPRESS_THRESHOLD).map(|i| b"abcdefgh"[(i % 8) as usize]).collect();
    let m = StreamMsg { subject: "foo.big".into(), msg: body.clone(), lseq: 0, ts: 1_000, ..Default::default() };
    let buf = encode_stream_msg(&m);
    assert_eq!(buf[0], EntryOp::CompressedStreamMsg as u8, "sent compressed");
    let ce = CommittedEntry { index: 1, entries: vec![Entry::new(EntryType::Normal, buf)] };
    assert_eq!(JetStreamCtx::offline("S1ID").0.apply_stream_entries(&mut s, &ce, false), Ok(0));
    let got = s.store.load_msg(1).expect("stored at 1");
    assert_eq!((got.subj.as_str(), got.msg), ("foo.big", body));
}
