//! The meta layer's snapshots on the simulated disk: after a recovery and
//! after a peer joins, a meta snapshot file exists and the WAL is
//! compacted; a restart recovers snapshot + WAL to the same assignments.

use std::time::Duration;

use ported::jetstream_cluster::ops::encode_add_stream_assignment;
use ported::jetstream_cluster::{JetStream, StreamMap};
use ported::sim::js::scenario::view;
use ported::sim::js::{js_test_seed, JsCluster};
use ported::snapshot_file::SnapshotCodec;

use super::common::{stream_assignment, stream_config};

/// Proposes `n` streams at the leader and waits until every running server applied them.
fn add_streams(c: &mut JsCluster, prefix: &str, n: usize) {
    let l = c.leader().expect("a leader");
    for i in 0..n {
        let mut sa = stream_assignment(stream_config(&format!("{prefix}{i}"), "file"));
        sa.client = Some(ported::jetstream_cluster::ClientInfo { account: "$G".into(), ..Default::default() });
        c.propose(l, &encode_add_stream_assignment(&sa).expect("encodes")).expect("proposed");
    }
    let want = (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
    let ok = c.run_until(Duration::from_secs(10), |c| {
        (0..c.servers.len()).filter(|&i| c.servers[i].running()).all(|i| {
            let m = c.streams(i);
            want.iter().all(|w| m.get("$G").is_some_and(|a| a.contains_key(w)))
        })
    });
    assert!(ok, "streams {prefix}* applied everywhere");
}

/// (snapshot index, WAL first sequence, WAL messages) of server `i`'s meta node.
fn log_shape(c: &JsCluster, i: usize) -> (u64, u64, u64) {
    let r = c.meta_raft(i).expect("a meta node");
    let mut n = r.borrow_mut();
    let st = n.wal_mut().state();
    (n.snapshot_index(), st.first_seq, st.msgs)
}

/// The assignments in server `i`'s snapshot file on disk.
fn snapshot_on_disk(c: &JsCluster, i: usize) -> StreamMap {
    let r = c.meta_raft(i).expect("a meta node");
    let path = r.borrow().snapfile().to_string();
    assert!(!path.is_empty(), "a snapshot file is recorded");
    let bytes = c.world.disk.borrow().file(&path).map(<[u8]>::to_vec).expect("the snapshot file exists");
    let snap = SnapshotCodec::new("_meta_").decode(&bytes).expect("checksum and layout verify");
    JetStream::decode_meta_snapshot(&snap.data).expect("meta snapshot decodes")
}

#[test]
fn meta_snapshot_and_compacted_wal_after_recovery() {
    let mut c = JsCluster::create_jet_stream_cluster_explicit("R3S", 3, js_test_seed("meta_snapshot_and_compacted_wal_after_recovery"));
    add_streams(&mut c, "A", 5);
    // A later entry carries the commit of the first ones, so a replay of the
    // follower's WAL alone knows they are committed.
    add_streams(&mut c, "Z", 1);
    let victim = c.random_non_leader().expect("a follower");
    let before = c.streams(victim);
    let (_, _, msgs) = log_shape(&c, victim);
    assert!(msgs > 0, "the follower's WAL holds entries");

    // SIGKILL: no snapshot on the way down; the WAL keeps the entries.
    c.kill_server(victim);
    c.restart_server(victim);
    let recovered = c.run_until(Duration::from_secs(10), |c| c.servers[victim].monitor.as_ref().is_some_and(|m| !m.recovering()));
    assert!(recovered, "the meta layer recovered");

    // At the end of the replay the monitor snapshots what it replayed.
    let (snap, first, msgs) = log_shape(&c, victim);
    let (_, _, applied) = c.js(victim).get_meta_group().expect("meta").progress();
    assert!(snap > 0 && snap == applied, "a snapshot covers the replay: snap {snap}, applied {applied}");
    assert_eq!(first, snap + 1, "the WAL was compacted to the snapshot (msgs {msgs})");
    assert_eq!(view(&snapshot_on_disk(&c, victim)), view(&c.streams(victim)), "the snapshot holds the replayed assignments");
    assert!((0..5).all(|i| c.streams(victim).get("$G").is_some_and(|a| a.contains_key(&format!("A{i}")))), "the replay recovered the committed assignments");

    // Entries committed after what the WAL knew arrive from the leader.
    let ok = c.run_until(Duration::from_secs(10), |c| view(&c.streams(victim)) == view(&before));
    assert!(ok, "the follower holds every assignment again");

    // More entries, then a restart: snapshot + WAL give the same state again.
    add_streams(&mut c, "B", 3);
    let before = c.streams(victim);
    let (_, _, msgs) = log_shape(&c, victim);
    assert!(msgs > 0, "entries after the snapshot are in the WAL");
    // A clean shutdown snapshots on the way down (the monitor's quit arm);
    // the restart recovers from the snapshot alone.
    c.shutdown_server(victim);
    c.restart_server(victim);
    let recovered = c.run_until(Duration::from_secs(10), |c| c.servers[victim].monitor.as_ref().is_some_and(|m| !m.recovering()));
    assert!(recovered, "the meta layer recovered again");
    assert_eq!(view(&c.streams(victim)), view(&before), "snapshot + WAL recover the same assignments");
    assert_eq!(c.streams(victim)["$G"].len(), 9);
}

#[test]
fn meta_snapshot_and_compacted_wal_after_a_peer_add() {
    let mut c = JsCluster::create_jet_stream_cluster_explicit("JSC", 2, js_test_seed("meta_snapshot_and_compacted_wal_after_a_peer_add"));
    add_streams(&mut c, "P", 4);
    let before: Vec<(u64, u64, u64)> = (0..2).map(|i| log_shape(&c, i)).collect();
    let index_before: Vec<u64> = (0..2).map(|i| c.js(i).get_meta_group().expect("meta").progress().0).collect();

    c.add_in_new_server();
    let r = c.wait_on_peer_count(3);
    assert!(r.is_ok(), "{r:?}");

    for i in 0..2 {
        let (snap, first, msgs) = log_shape(&c, i);
        assert!(snap > index_before[i], "server {i}: a snapshot after the peer add ({snap} > {})", index_before[i]);
        assert!(snap > before[i].0, "server {i}: a newer snapshot than before the add");
        assert!(first > snap && msgs <= 1, "server {i}: WAL compacted to the snapshot (first {first}, msgs {msgs})");
        assert_eq!(view(&snapshot_on_disk(&c, i)), view(&c.streams(i)), "server {i}: the snapshot holds the assignments");
    }
    let peers = c.js(0).get_meta_group().expect("meta").peers().len();
    assert_eq!(peers, 3, "the meta group has three peers");

    // The new server learned the assignments; a restart of an old one recovers them.
    let want = view(&c.streams(0));
    let ok = c.run_until(Duration::from_secs(10), |c| view(&c.streams(2)) == want);
    assert!(ok, "the new server caught up");
    c.shutdown_server(0);
    c.restart_server(0);
    let ok = c.run_until(Duration::from_secs(10), |c| c.servers[0].monitor.as_ref().is_some_and(|m| !m.recovering()));
    assert!(ok, "S-1 recovered");
    assert_eq!(view(&c.streams(0)), want);
}
