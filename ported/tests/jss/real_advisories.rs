//! The advisories of the real 2.9.10 cluster run
//! (`tests/fixtures/real_cluster_streams/advisories.json`, everything seen
//! on `$JS.EVENT.>` in ACC_A and in the system account) against what the
//! simulated cluster emits for the same operations (`ops.json`: the four
//! streams created, published to with message ids, a delete, an erase and
//! a filtered purge each, leader step-downs, updates, more publishes). The
//! advisory types the port sends must come with the same subjects, in the
//! same numbers per account, with the same JSON keys in the same order;
//! the types it does not send are named here, and any other type in the
//! fixture fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ported::jetstream_cluster::assignments::{ClientInfo, GoTime, RaftGroup, StorageType, StreamAssignment};
use ported::jetstream_cluster::config::StreamConfig;
use ported::jetstream_cluster::leader::sync_subj_for_stream;
use ported::jetstream_cluster::ops::{encode_add_stream_assignment, encode_update_stream_assignment};
use ported::jetstream_cluster::stream_ops::PurgeRequest;
use ported::jetstream_cluster::stream_events::{JS_ADVISORY_STREAM_LEADER_ELECTED_PRE, JS_ADVISORY_STREAM_QUORUM_LOST_PRE};
use ported::sim::js::{js_test_seed, JsCluster, SYSTEM_ACCOUNT};
use serde_json::Value;

use crate::helpers::{hosted, stream_cluster, stream_leader, top_level_keys};

const ACC: &str = "ACC_A";

fn fixture(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real_cluster_streams").join(name);
    serde_json::from_slice(&std::fs::read(p).expect("fixture")).expect("fixture json")
}

/// The `data` objects of the fixture's advisories as raw text, in order
/// (serde_json's `Value` would sort their keys).
fn raw_fixture_advisories() -> Vec<(String, String, String)> {
    #[derive(serde::Deserialize)]
    struct Seen<'a> {
        account: String,
        subject: String,
        #[serde(borrow)]
        data: &'a serde_json::value::RawValue,
    }
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real_cluster_streams/advisories.json");
    let text = std::fs::read_to_string(p).expect("fixture");
    let seen: Vec<Seen> = serde_json::from_str(&text).expect("advisories");
    seen.into_iter().map(|s| (s.account, s.subject, s.data.get().to_string())).collect()
}

/// Per (account, subject): how many, the top-level keys, the keys of each
/// replica entry.
type Shape = BTreeMap<(String, String), (usize, Vec<Vec<String>>, BTreeSet<Vec<String>>)>;

fn shape(advs: &[(String, String, String)]) -> Shape {
    let mut out: Shape = BTreeMap::new();
    for (acc, subj, data) in advs {
        let e = out.entry((acc.clone(), subj.clone())).or_default();
        e.0 += 1;
        let top = top_level_keys(data.as_bytes());
        if !e.1.contains(&top) {
            e.1.push(top);
        }
        let v: Value = serde_json::from_str(data).expect("json");
        for r in v["replicas"].as_array().into_iter().flatten() {
            // (Value keeps its keys sorted: a replica entry's key set.)
            let k: Vec<String> = r.as_object().expect("replica").keys().cloned().collect();
            e.2.insert(k);
        }
    }
    out
}

/// Advisory subjects the port publishes.
const PORTED: [&str; 2] = [JS_ADVISORY_STREAM_LEADER_ELECTED_PRE, JS_ADVISORY_STREAM_QUORUM_LOST_PRE];
/// Advisories of the fixture the port does not send, and why: the
/// JetStream API layer (`jsStreamCreateRequest`, `jsStreamUpdateRequest`
/// and the API audit of `server/jetstream_api.go`) is not ported; the
/// simulated cluster takes assignments straight to the meta leader.
const NOT_PORTED: [&str; 3] = ["$JS.EVENT.ADVISORY.API", "$JS.EVENT.ADVISORY.STREAM.CREATED.", "$JS.EVENT.ADVISORY.STREAM.UPDATED."];

fn is_ported(subject: &str) -> bool {
    PORTED.iter().any(|p| subject.starts_with(&format!("{p}.")))
}

fn assignment(c: &JsCluster, meta: usize, cfg: &Value, peers: &[usize]) -> StreamAssignment {
    let name = cfg["name"].as_str().expect("name").to_string();
    let storage = if cfg["storage"] == "file" { StorageType::File } else { StorageType::Memory };
    let mut config = StreamConfig { name: name.clone(), replicas: peers.len() as i64, ..Default::default() };
    for k in ["subjects", "storage", "max_msgs_per_subject", "description", "retention", "discard"] {
        config.extra.insert(k.into(), cfg[k].clone());
    }
    let mut group = RaftGroup {
        name: format!("S-R{}{}-{name}", peers.len(), if storage == StorageType::File { "F" } else { "M" }),
        peers: peers.iter().map(|&i| c.core(i).node.clone()).collect(),
        storage,
        cluster: c.name.clone(),
        ..Default::default()
    };
    RaftGroup::set_preferred(Some(&mut group), c.srv(meta));
    let mut sa = StreamAssignment {
        client: Some(ClientInfo { account: ACC.into(), cluster: c.name.clone(), ..Default::default() }),
        created: GoTime::from_unix_nanos(c.srv(meta).unix_nanos()),
        config: Some(config),
        group: Some(group),
        sync: sync_subj_for_stream(c.srv(meta)),
        ..Default::default()
    };
    sa.config_json = serde_json::value::to_raw_value(&sa.config).expect("a config encodes");
    sa
}

fn publish_with_id(c: &mut JsCluster, cl: usize, subject: &str, id: &str, payload: &str) {
    let inbox = format!("_INBOX.pub.{id}");
    c.subscribe(cl, &inbox);
    let hdr = format!("NATS/1.0\r\nNats-Msg-Id: {id}\r\nX-Fixture: streams\r\n\r\n");
    assert!(c.publish(cl, subject, &inbox, hdr.as_bytes(), payload.as_bytes()), "published");
    let got = c.run_until(Duration::from_secs(5), |c| c.clients[cl].msgs.iter().any(|m| m.subject == inbox));
    assert!(got, "PubAck for {id}");
}

#[test]
fn simulated_advisories_have_the_types_subjects_and_keys_of_the_real_ones() {
    let real = raw_fixture_advisories();
    for (_, subj, _) in &real {
        assert!(is_ported(subj) || NOT_PORTED.iter().any(|p| subj.starts_with(p)), "advisory {subj} neither ported nor named as not ported");
    }
    let real: Vec<_> = real.into_iter().filter(|(_, s, _)| is_ported(s)).collect();
    assert!(!real.is_empty());

    let mut c = stream_cluster("C1", 3, js_test_seed("simulated_advisories_have_the_types_subjects_and_keys_of_the_real_ones"));
    for i in 0..3 {
        c.core(i).add_account(ACC);
    }
    let user = c.connect(0, ACC);
    c.subscribe(user, "$JS.EVENT.>");
    let sys = c.connect(1, SYSTEM_ACCOUNT);
    c.subscribe(sys, "$JS.EVENT.>");
    let cl = c.connect(2, ACC);

    let mut sas: BTreeMap<String, StreamAssignment> = BTreeMap::new();
    let ops = fixture("ops.json");
    for (n, op) in ops.as_array().expect("ops").iter().enumerate() {
        let stream = op["stream"].as_str().expect("stream").to_string();
        let leader = |c: &JsCluster| stream_leader(c, ACC, &stream);
        match op["op"].as_str().expect("op") {
            "create" => {
                let meta = c.wait_on_leader().expect("meta leader");
                let r = op["config"]["num_replicas"].as_u64().expect("replicas") as usize;
                let peers: Vec<usize> = (0..r).map(|k| (n + k) % 3).collect();
                let sa = assignment(&c, meta, &op["config"], &peers);
                c.propose(meta, &encode_add_stream_assignment(&sa).expect("encodes")).expect("proposed");
                let s = stream.clone();
                assert!(c.run_until(Duration::from_secs(10), |c| (0..3).any(|i| hosted(c, i, ACC, &s).is_some())), "{stream} created");
                c.run_for(Duration::from_secs(1));
                sas.insert(stream, sa);
            }
            "publish" => {
                let subj = op["subject"].as_str().expect("subject");
                publish_with_id(&mut c, cl, subj, op["msg_id"].as_str().expect("id"), op["payload"].as_str().expect("payload"));
            }
            kind @ ("delete" | "erase" | "purge") => {
                let l = leader(&c).unwrap_or_else(|| (0..3).find(|&i| hosted(&c, i, ACC, &stream).is_some()).expect("hosted"));
                let h = hosted(&c, l, ACC, &stream).expect("hosted");
                let st = c.servers[l].streams.clone().expect("stream layer");
                if sas[&stream].group.as_ref().is_some_and(|g| g.peers.len() > 1) {
                    let ok = match kind {
                        "purge" => st.propose_purge(&h, Some(PurgeRequest { subject: op["filter"].as_str().expect("filter").into(), ..Default::default() }), "_R.op"),
                        _ => st.propose_delete(&h, op["seq"].as_u64().expect("seq"), kind == "delete", "_R.op"),
                    };
                    assert!(ok, "{kind} proposed");
                }
                c.run_for(Duration::from_millis(200));
            }
            "stepdown" => {
                let l = leader(&c).expect("a leader");
                c.srv(l).jet_stream_stepdown_stream(ACC, &stream).expect("stepdown");
                assert!(c.run_until(Duration::from_secs(10), |c| stream_leader(c, ACC, &stream).is_some_and(|x| x != l)), "new leader for {stream}");
                c.run_for(Duration::from_secs(1));
            }
            "update" => {
                let meta = c.wait_on_leader().expect("meta leader");
                let mut sa = sas[&stream].clone();
                let cfg = sa.config.as_mut().expect("config");
                cfg.extra.insert("subjects".into(), op["config"]["subjects"].clone());
                cfg.extra.insert("description".into(), op["config"]["description"].clone());
                sa.config_json = serde_json::value::to_raw_value(&sa.config).expect("a config encodes");
                c.propose(meta, &encode_update_stream_assignment(&sa).expect("encodes")).expect("proposed");
                c.run_for(Duration::from_secs(1));
                sas.insert(stream, sa);
            }
            other => panic!("op {other} not replayed"),
        }
    }
    c.run_for(Duration::from_secs(2));

    let account_of = |cl: usize| if cl == user { ACC } else { "SYS" };
    let mut sim = Vec::new();
    for who in [user, sys] {
        for m in &c.clients[who].msgs {
            if is_ported(&m.subject) {
                sim.push((account_of(who).to_string(), m.subject.clone(), String::from_utf8(m.data.clone()).expect("utf-8")));
            }
        }
    }
    // The real servers' system account is called SYS, the simulator's $SYS;
    // the advisories' `account` field is the user account in both.
    assert_eq!(shape(&sim), shape(&real), "simulated vs real advisories (count, keys, replica keys) per account and subject");
    for (acc, subj, data) in sim.iter().chain(real.iter()) {
        let v: Value = serde_json::from_str(data).expect("json");
        if acc == "SYS" {
            assert_eq!(v["account"], ACC, "{subj}");
        }
        let stream = subj.rsplit('.').next().expect("stream");
        assert_eq!(v["stream"], stream);
        let r = sas[stream].group.as_ref().expect("group").peers.len();
        assert_eq!(v["replicas"].as_array().map(Vec::len), Some(r), "{acc} {subj}: {data}");
    }
}
