use super::*;
use crate::jetstream_cluster::node::EntryType;
use crate::jetstream_cluster::ops::{encode_add_consumer_assignment, encode_add_stream_assignment, encode_delete_stream_assignment};
use crate::jetstream_cluster::test_util::{ca, sa, with_consumers};
use crate::jetstream_cluster::JetStream;

fn normal(buf: Vec<u8>) -> Entry {
    Entry::new(EntryType::Normal, buf)
}

fn snapshot_entry(sas: Vec<crate::jetstream_cluster::StreamAssignment>) -> Entry {
    let mut m = StreamMap::new();
    for s in sas {
        m.entry(s.account().to_string()).or_default().insert(s.name().to_string(), s);
    }
    Entry::new(EntryType::Snapshot, JetStream::encode_meta_snapshot(&m, &|| 0).expect("enc").data)
}

#[test]
fn snapshot_then_wal_entries_recover_the_assignments() {
    let batches = vec![
        vec![snapshot_entry(vec![with_consumers(sa("A", "OLD", &["p1"], 1), vec![ca("A", "OLD", "c1", "G-1")]), sa("B", "KEEP", &["p2"], 1)])],
        vec![normal(encode_add_stream_assignment(&sa("A", "NEW", &["p1", "p2", "p3"], 3)).expect("enc"))],
        vec![
            normal(encode_delete_stream_assignment(&sa("A", "OLD", &["p1"], 1)).expect("enc")),
            normal(encode_add_consumer_assignment(&ca("A", "NEW", "d1", "G-2")).expect("enc")),
        ],
        // Peer entries are skipped during a replay.
        vec![Entry::new(EntryType::AddPeer, b"p4567890".to_vec())],
    ];
    let r = recover_meta_state("p1", &batches).expect("recovers");
    assert_eq!(r.streams["A"].keys().collect::<Vec<_>>(), vec!["NEW"]);
    assert_eq!(r.streams["A"]["NEW"].consumers.keys().collect::<Vec<_>>(), vec!["d1"]);
    assert_eq!(r.streams["B"].keys().collect::<Vec<_>>(), vec!["KEEP"]);
    assert!(r.streams["A"]["NEW"].recovering, "replayed assignments are marked recovering");
    assert!(recover_meta_state("", &[]).expect("nothing to replay").streams.is_empty());
}

#[test]
fn a_bad_batch_names_its_position() {
    let batches = vec![vec![normal(encode_add_stream_assignment(&sa("A", "S", &["p1"], 1)).expect("enc"))], vec![normal(vec![0, b'{'])]];
    let e = recover_meta_state("p1", &batches).expect_err("a bad entry");
    assert_eq!(e.batch, 1);
    assert!(e.to_string().starts_with("meta entry batch 1: "), "{e}");
    let e = recover_meta_state("p1", &[vec![Entry::new(EntryType::Snapshot, b"not s2".to_vec())]]).expect_err("a bad snapshot");
    assert_eq!(e.batch, 0);
    assert!(matches!(e.source, ApplyError::Snapshot(_)));
}

#[test]
fn an_offline_replay_matches_live_application() {
    let ops: Vec<Vec<Entry>> = (0..6)
        .map(|i| {
            let name = format!("S{}", i % 3);
            if i % 4 == 3 {
                vec![normal(encode_delete_stream_assignment(&sa("A", &name, &["p1"], 1)).expect("enc"))]
            } else {
                vec![
                    normal(encode_add_stream_assignment(&sa("A", &name, &["p1"], 1)).expect("enc")),
                    normal(encode_add_consumer_assignment(&ca("A", &name, &format!("c{i}"), &format!("G-{i}"))).expect("enc")),
                ]
            }
        })
        .collect();
    let replayed = recover_meta_state("p1", &ops).expect("recovers");
    let (live, _) = JetStreamCtx::offline("p1");
    live.clear_meta_recovering();
    for b in &ops {
        let (_, _, res) = live.apply_meta_entries(b, None);
        res.expect("applies");
    }
    let live = live.st.borrow().cluster.as_ref().map(|cc| cc.streams.clone()).unwrap_or_default();
    let shape = |m: &StreamMap| -> Vec<(String, Vec<String>)> {
        m.values().flat_map(|a| a.values()).map(|s| (s.name().to_string(), s.consumers.keys().cloned().collect())).collect()
    };
    assert_eq!(shape(&replayed.streams), shape(&live));
    assert!(!shape(&live).is_empty());
}

#[test]
fn the_offline_node_is_a_stopped_node() {
    let n = OfflineNode::new("p1234567", "_meta_");
    assert_eq!((n.id().as_str(), n.group().as_str()), ("p1234567", "_meta_"));
    assert!(n.is_closed() && !n.leader() && n.leaderless());
    assert_eq!(n.state(), RaftState::Closed);
    assert_eq!(n.propose(b"x"), Err(RaftError::NodeClosed));
    assert_eq!(n.step_down(&[]), Err(RaftError::NotLeader));
    assert!(n.apply_q_pop().is_empty() && !n.apply_q_ready());
    let (js, srv) = JetStreamCtx::offline("p1234567");
    assert!(js.is_meta_recovering());
    assert_eq!(srv.node(), "p1234567");
    assert!(srv.jet_stream().is_some(), "the server finds its JetStream");
    assert!(!srv.is_running());
}

#[test]
fn only_what_raft_passes_up_is_replayed() {
    let stored = vec![
        Entry::new(EntryType::PeerState, vec![1, 2, 3]),
        normal(encode_add_stream_assignment(&sa("A", "S", &["p1"], 1)).expect("enc")),
        Entry::new(EntryType::LeaderTransfer, b"p2345678".to_vec()),
        Entry::new(EntryType::OldSnapshot, b"old".to_vec()),
        Entry::new(EntryType::AddPeer, b"p3456789".to_vec()),
    ];
    let up = upper_layer_entries(&stored);
    let kinds: Vec<EntryType> = up.iter().map(|e| e.typ).collect();
    assert_eq!(kinds, vec![EntryType::Normal, EntryType::Snapshot, EntryType::AddPeer]);
    assert_eq!(up[1].data, b"old");
    let r = recover_meta_state("p1", &[upper_layer_entries(&stored[..3])]).expect("peer state and transfers are not meta ops");
    assert!(r.streams["A"].contains_key("S"));
    assert!(recover_meta_state("p1", &[stored[..1].to_vec()]).is_err(), "unfiltered, a peer-state entry is not a meta op");
}
