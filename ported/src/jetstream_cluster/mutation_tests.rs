//! Behaviour the mutation gate (issue 11) found unchecked by the tests
//! registered for batch 33's features: each test pins one observable
//! effect upstream's function has, beside the feature's existing tests.

use crate::jetstream_cluster::server::NodeInfo;
use crate::jetstream_cluster::test_util::r3s_cluster;
use crate::sim::js::JsCluster;


/// checkClusterSize adjusts only when fewer servers run JetStream than
/// the cluster size: with every expected peer registered and running
/// JetStream it leaves the size alone and proposes no peer state.
#[test]
fn check_cluster_size_leaves_a_cluster_of_jetstream_servers_alone() {
    let c = r3s_cluster("check_cluster_size_leaves_a_cluster_of_jetstream_servers_alone");
    let l = c.leader().expect("a leader");
    let meta = c.js(l).get_meta_group().expect("meta");
    // A fourth expected peer, registered and running JetStream.
    meta.adjust_cluster_size(4).expect("the leader adjusts");
    let js4 = NodeInfo { name: "S-4".into(), cluster: "R3S".into(), id: "JS4".into(), js: true, ..Default::default() };
    c.core(l).node_to_info.borrow_mut().insert(crate::sim::cluster::server_hash("S-4"), js4);
    let before = meta.progress();
    c.js(l).check_cluster_size();
    assert_eq!(meta.cluster_size(), 4, "as many JetStream servers as the size");
    assert_eq!(meta.progress(), before, "no peer state was proposed");
}

mod apply_batches {
    //! Batches on the apply path (applyStreamEntries): an id change, a
    //! batch recovered from its start, and the recovery skip that only a
    //! recovering replica may take.

    use std::rc::Rc;

    use crate::jetstream_cluster::js::JetStreamCtx;
    use crate::jetstream_cluster::stream_apply::StreamReplica;
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
        StreamMsg { subject: "foo.batch".into(), msg: format!("m{lseq}").into_bytes(), lseq, ts: 1_000 + lseq as i64, ..Default::default() }
    }

    fn bmsg(lseq: u64, id: &str, seq: u64, commit: bool) -> Vec<u8> {
        encode_stream_msg_allow_compress_and_batch(&msg(lseq), id, seq, commit)
    }

    fn ce(index: u64, data: Vec<Vec<u8>>) -> CommittedEntry {
        CommittedEntry { index, entries: data.into_iter().map(|d| Entry::new(EntryType::Normal, d)).collect() }
    }

    /// An entry of another batch rejects the open one, so a batch whose
    /// start was never seen cannot continue the count of the one before:
    /// nothing of either applies, and each rejected entry counts as failed.
    #[test]
    fn another_batch_id_rejects_the_open_batch() {
        let mut s = stream();
        js().apply_stream_entries(&mut s, &ce(1, vec![bmsg(0, "A", 1, false)]), false).expect("open");
        js().apply_stream_entries(&mut s, &ce(2, vec![bmsg(1, "B", 2, false), bmsg(2, "B", 3, true)]), false).expect("other");
        assert_eq!(s.store.state().msgs, 0, "no batch was complete");
        assert_eq!(s.clfs, 3);
    }

    /// A recovering replica replays a batch from its first entry like any
    /// other: it applies at its commit.
    #[test]
    fn a_batch_recovered_from_its_start_applies() {
        let mut s = stream();
        let got = js().apply_stream_entries(&mut s, &ce(2, vec![bmsg(0, "B", 1, false), bmsg(1, "B", 2, true)]), true);
        assert_eq!(got, Ok(0));
        let st = s.store.state();
        assert_eq!((st.msgs, st.last_seq), (2, 2));
    }

    /// Outside recovery an open batch is never skipped, even when its
    /// messages are already stored: it stays open and holds the applied
    /// index below its first entry.
    #[test]
    fn only_a_recovering_replica_skips_an_applied_batch() {
        let mut s = stream();
        let plain: Vec<Vec<u8>> = (0..3).map(|i| encode_stream_msg(&msg(i))).collect();
        js().apply_stream_entries(&mut s, &ce(3, plain), false).expect("msgs");
        assert_eq!(js().apply_stream_entries(&mut s, &ce(4, vec![bmsg(1, "R", 1, false)]), false), Ok(3));
        assert_eq!(s.batch.as_ref().map(|b| b.id.as_str()), Some("R"), "the batch is still open");
    }
}

/// processStreamAssignment keeps an earlier assignment's "unsupported"
/// only when the new one does not say so itself: a stream that turns
/// unsupported is detected, and a new reason replaces the old one.
#[test]
fn an_assignment_that_turns_unsupported_is_detected() {
    use crate::jetstream_cluster::assignments::UnsupportedAssignment;
    use crate::jetstream_cluster::test_util::sa;
    let c = r3s_cluster("an_assignment_that_turns_unsupported_is_detected");
    let l = c.leader().expect("a leader");
    let js = c.js(l).clone();
    js.process_stream_assignment(sa("$G", "S", &["p1"], 1));
    let detected = |c: &JsCluster, why: &str| c.world.log.borrow().iter().any(|l| l.contains(&format!("Detected unsupported stream '$G > S': {why}")));
    let unsupported = |why: &str| {
        let mut u = sa("$G", "S", &["p1"], 1);
        u.unsupported = Some(UnsupportedAssignment { reason: why.into() });
        u
    };
    js.process_stream_assignment(unsupported("old reason"));
    assert!(detected(&c, "old reason"), "{:?}", c.world.log.borrow());
    js.process_stream_assignment(unsupported("new reason"));
    assert!(detected(&c, "new reason"), "{:?}", c.world.log.borrow());
}
