use super::*;
use crate::jetstream_cluster::test_util::sa;
use crate::sim::js::JsCluster;

fn cluster(test: &str, n: usize) -> JsCluster {
    JsCluster::create_jet_stream_cluster_explicit("R5S", n, crate::sim::test_seed(test))
}

fn cfg(replicas: i64, extra: serde_json::Value) -> StreamConfig {
    let mut c = StreamConfig { name: "TEST".into(), replicas, ..Default::default() };
    if let serde_json::Value::Object(m) = extra {
        c.extra = m;
    }
    c
}

fn ids(c: &JsCluster) -> Vec<String> {
    (0..c.servers.len()).map(|i| c.core(i).node.clone()).collect()
}

/// Changes server `of`'s registry entry for server `who`.
fn edit(c: &JsCluster, of: usize, who: usize, f: impl FnOnce(&mut NodeInfo)) {
    let id = c.core(who).node.clone();
    f(c.core(of).node_to_info.borrow_mut().get_mut(&id).expect("registry entry"));
}

#[test]
fn get_hash_takes_eight_digits_of_the_sha256() {
    // Each of SHA-256's first 8 bytes modulo 62 into Go's `digits`
    // (computed outside the port).
    assert_eq!(get_hash("S-1"), "esFhDys3");
    assert_eq!(get_hash("S-2"), "z3WIzPtj");
    assert_eq!(crate::sim::server_hash("S-1"), "esFhDys3", "node ids are the same hash");
}

#[test]
fn group_names_carry_prefix_replicas_and_storage() {
    let c = cluster("group_names_carry_prefix_replicas_and_storage", 3);
    let s = c.srv(0);
    let peers = ids(&c);
    let a = group_name_for_stream(s, &peers, StorageType::File);
    assert!(a.starts_with("S-R3F-") && a.len() == "S-R3F-".len() + 8, "{a}");
    let b = group_name_for_stream(s, &peers[..1], StorageType::Memory);
    assert!(b.starts_with("S-R1M-"), "{b}");
    assert!(group_name_for_consumer(s, &peers, StorageType::File).starts_with("C-R3F-"));
    assert_ne!(a, group_name_for_stream(s, &peers, StorageType::File), "each name draws a fresh nuid");
}

#[test]
fn select_peer_group_picks_distinct_online_peers_of_the_cluster() {
    let c = cluster("select_peer_group_picks_distinct_online_peers_of_the_cluster", 5);
    let l = c.leader().expect("meta leader");
    let js = c.js(l);
    let all = ids(&c);
    for r in 1..=5 {
        let got = js.select_peer_group(r, "R5S", Some(&cfg(r as i64, serde_json::json!({}))), &[], 0, &[]).expect("placed");
        assert_eq!(got.len(), r, "r={r}");
        let mut d = got.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), r, "r={r}: distinct peers {got:?}");
        assert!(got.iter().all(|p| all.contains(p)), "r={r}");
    }
    let e = js.select_peer_group(6, "R5S", Some(&cfg(6, serde_json::json!({}))), &[], 0, &[]).expect_err("only 5 peers");
    assert_eq!(e, SelectPeerError::default(), "too few peers and no other reason");
    assert_eq!(e.to_string(), "no suitable peers for placement");
    let e = js.select_peer_group(1, "OTHER", Some(&cfg(1, serde_json::json!({}))), &[], 0, &[]).expect_err("no such cluster");
    assert_eq!(e, SelectPeerError::default());
    let e = js.select_peer_group(1, "", Some(&cfg(1, serde_json::json!({}))), &[], 0, &[]).expect_err("no cluster");
    assert!(e.misc);
    assert!(js.select_peer_group(1, "R5S", None, &[], 0, &[]).expect_err("no config").misc);
}

#[test]
fn existing_peers_come_first_and_ignored_ones_never() {
    let c = cluster("existing_peers_come_first_and_ignored_ones_never", 5);
    let l = c.leader().expect("meta leader");
    let js = c.js(l);
    let all = ids(&c);
    let existing = vec![all[3].clone()];
    let got = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &existing, 0, &[all[0].clone(), all[1].clone()]).expect("placed");
    assert_eq!(got[0], all[3], "existing first");
    let mut rest = got[1..].to_vec();
    rest.sort();
    let mut want = vec![all[2].clone(), all[4].clone()];
    want.sort();
    assert_eq!(rest, want, "the ignored peers are left out");
    // Enough existing peers: their first r, nothing selected.
    let got = js.select_peer_group(2, "R5S", Some(&cfg(2, serde_json::json!({}))), &all[1..4], 0, &[]).expect("placed");
    assert_eq!(got, all[1..3].to_vec());
}

#[test]
fn offline_unheard_and_excluded_peers_are_reported() {
    let c = cluster("offline_unheard_and_excluded_peers_are_reported", 3);
    let l = c.leader().expect("meta leader");
    let js = c.js(l);
    let others: Vec<usize> = (0..3).filter(|&i| i != l).collect();
    // A peer never heard from does not count.
    edit(&c, l, others[0], |ni| ni.stats = None);
    let e = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &[], 0, &[]).expect_err("one unheard");
    assert!(e.offline && !e.exclude_tag, "{e:?}");
    edit(&c, l, others[0], |ni| ni.stats = Some(serde_json::json!({})));
    // The !jetstream tag keeps a server out.
    edit(&c, l, others[1], |ni| ni.tags = vec![JS_EXCLUDE_PLACEMENT.into()]);
    let e = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &[], 0, &[]).expect_err("one excluded");
    assert!(e.exclude_tag && !e.offline, "{e:?}");
    assert_eq!(e.to_string(), "no suitable peers for placement, exclude tag set");
    edit(&c, l, others[1], |ni| ni.tags.clear());
    // Offline peers are candidates, but a quorum must be online.
    edit(&c, l, others[0], |ni| ni.offline = true);
    edit(&c, l, others[1], |ni| ni.offline = true);
    let e = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &[], 0, &[]).expect_err("no quorum online");
    assert!(e.offline, "{e:?}");
    edit(&c, l, others[1], |ni| ni.offline = false);
    let got = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &[], 0, &[]).expect("a quorum is online");
    assert_eq!(got.last(), Some(&c.core(others[0]).node), "the offline peer comes last: {got:?}");
}

#[test]
fn placement_tags_must_match_and_excluded_tags_must_not() {
    let c = cluster("placement_tags_must_match_and_excluded_tags_must_not", 3);
    let l = c.leader().expect("meta leader");
    let js = c.js(l);
    for (i, tags) in [vec!["az:1", "ssd"], vec!["az:2", "ssd"], vec!["az:3"]].into_iter().enumerate() {
        edit(&c, l, i, |ni| ni.tags = tags.into_iter().map(String::from).collect());
    }
    let got = js.select_peer_group(2, "R5S", Some(&cfg(2, serde_json::json!({"placement": {"tags": ["SSD"]}}))), &[], 0, &[]).expect("two ssd servers");
    let mut got = got;
    got.sort();
    let mut want = vec![c.core(0).node.clone(), c.core(1).node.clone()];
    want.sort();
    assert_eq!(got, want);
    let e = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({"placement": {"tags": ["ssd"]}}))), &[], 0, &[]).expect_err("one lacks ssd");
    assert_eq!(e.no_match_tags.iter().collect::<Vec<_>>(), vec!["ssd"]);
    assert_eq!(e.to_string(), "no suitable peers for placement, tags not matched ['ssd']");
    let e = js.select_peer_group(2, "R5S", Some(&cfg(2, serde_json::json!({"placement": {"tags": ["!ssd"]}}))), &[], 0, &[]).expect_err("two have ssd");
    assert_eq!(e.exclude_tags.iter().collect::<Vec<_>>(), vec!["ssd"]);
    assert_eq!(e.to_string(), "no suitable peers for placement, tags excluded ['ssd']");
}

#[test]
fn max_bytes_needs_room_in_the_configured_storage() {
    let c = cluster("max_bytes_needs_room_in_the_configured_storage", 3);
    let l = c.leader().expect("meta leader");
    let js = c.js(l);
    for i in 0..3 {
        edit(&c, l, i, |ni| {
            ni.cfg = Some(serde_json::json!({"max_memory": 1000, "max_storage": 5000}));
            ni.stats = Some(serde_json::json!({"memory": 100, "reserved_memory": 400, "storage": 0, "reserved_storage": 0}));
        });
    }
    let mem = |mb: i64| cfg(3, serde_json::json!({"storage": "memory", "max_bytes": mb}));
    assert!(js.select_peer_group(3, "R5S", Some(&mem(600)), &[], 0, &[]).is_ok(), "1000 - max(100, 400) = 600 left");
    let e = js.select_peer_group(3, "R5S", Some(&mem(601)), &[], 0, &[]).expect_err("one byte short");
    assert!(e.no_storage, "{e:?}");
    let file = cfg(3, serde_json::json!({"max_bytes": 5000}));
    assert!(js.select_peer_group(3, "R5S", Some(&file), &[], 0, &[]).is_ok(), "file is the default storage");
}

#[test]
fn unique_tags_and_ha_asset_limits_filter_peers() {
    let c = cluster("unique_tags_and_ha_asset_limits_filter_peers", 3);
    let l = c.leader().expect("meta leader");
    for (i, az) in ["az:1", "az:1", "az:2"].into_iter().enumerate() {
        edit(&c, l, i, |ni| ni.tags = vec![az.into()]);
    }
    c.core(l).opts.borrow_mut().js_unique_tag = "az:".into();
    let js = c.js(l).clone();
    let got = js.select_peer_group(2, "R5S", Some(&cfg(2, serde_json::json!({}))), &[], 0, &[]).expect("one per zone");
    let zones: Vec<String> = got.iter().map(|p| c.srv(l).node_info(p).expect("known").tags[0].clone()).collect();
    assert_ne!(zones[0], zones[1], "{zones:?}");
    let e = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &[], 0, &[]).expect_err("two zones only");
    assert!(e.unique_tag, "{e:?}");
    // Naming the unique tag in the placement turns the check off.
    assert!(js.select_peer_group(2, "R5S", Some(&cfg(2, serde_json::json!({"placement": {"tags": ["az:1"]}}))), &[], 0, &[]).is_ok());
    c.core(l).opts.borrow_mut().js_unique_tag.clear();

    c.core(l).opts.borrow_mut().max_ha_assets = 1;
    edit(&c, l, 0, |ni| ni.stats = Some(serde_json::json!({"ha_assets": 2})));
    let e = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &[], 0, &[]).expect_err("over the limit");
    assert!(e.misc, "{e:?}");
    edit(&c, l, 0, |ni| ni.stats = Some(serde_json::json!({"ha_assets": 1})));
    assert!(js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &[], 0, &[]).is_ok(), "the meta group's asset is not counted");
}

#[test]
fn replicated_streams_go_to_the_peers_with_fewest_ha_assets() {
    let c = cluster("replicated_streams_go_to_the_peers_with_fewest_ha_assets", 5);
    let l = c.leader().expect("meta leader");
    let js = c.js(l);
    let all = ids(&c);
    // Peers 1 and 2 carry two replicated streams, 0 and 3 one, 4 none.
    let p = |ix: &[usize]| ix.iter().map(|&i| all[i].as_str()).collect::<Vec<_>>();
    js.process_stream_assignment(sa("$G", "A", &p(&[0, 1, 2]), 3));
    js.process_stream_assignment(sa("$G", "B", &p(&[1, 2, 3]), 3));
    for _ in 0..20 {
        let mut got = js.select_peer_group(3, "R5S", Some(&cfg(3, serde_json::json!({}))), &[], 0, &[]).expect("placed");
        got.sort();
        let mut want = vec![all[4].clone(), all[0].clone(), all[3].clone()];
        want.sort();
        assert_eq!(got, want, "fewest HA assets first");
    }
}

#[test]
fn create_group_for_stream_tries_the_placement_cluster_or_the_clients() {
    let c = cluster("create_group_for_stream_tries_the_placement_cluster_or_the_clients", 3);
    let l = c.leader().expect("meta leader");
    let js = c.js(l);
    let ci = ClientInfo { cluster: "R5S".into(), ..Default::default() };
    let g = js.create_group_for_stream(&ci, &cfg(0, serde_json::json!({}))).expect("R0 is R1");
    assert_eq!((g.peers.len(), g.cluster.as_str(), g.storage), (1, "R5S", StorageType::File));
    assert!(g.name.starts_with("S-R1F-"), "{}", g.name);
    assert!(g.preferred.is_empty(), "the caller picks the preferred leader");
    let g = js.create_group_for_stream(&ci, &cfg(3, serde_json::json!({"storage": "memory"}))).expect("R3");
    assert!(g.name.starts_with("S-R3M-"), "{}", g.name);
    let elsewhere = ClientInfo { cluster: "X".into(), alternates: vec!["Y".into(), "R5S".into()], ..Default::default() };
    assert_eq!(js.create_group_for_stream(&elsewhere, &cfg(3, serde_json::json!({}))).expect("an alternate fits").cluster, "R5S");
    let pinned = cfg(3, serde_json::json!({"placement": {"cluster": "X"}}));
    assert!(js.create_group_for_stream(&elsewhere, &pinned).is_err(), "a placement cluster allows no alternates");
    let e = js.create_group_for_stream(&ci, &cfg(4, serde_json::json!({"placement": {"tags": ["gpu"]}}))).expect_err("no gpu");
    assert_eq!(e.to_string(), "no suitable peers for placement, tags not matched ['gpu']");
}
