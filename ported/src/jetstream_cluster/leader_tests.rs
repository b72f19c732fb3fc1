use std::time::Duration;

use super::*;
use crate::jetstream_cluster::test_util::sa;
use crate::sim::js::{JsCluster, SYSTEM_ACCOUNT};

fn cluster(test: &str) -> JsCluster {
    JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed(test))
}

fn stepdown(c: &mut JsCluster, from: usize, body: &[u8]) -> LeaderStepDownResponse {
    let nc = c.connect(from, SYSTEM_ACCOUNT);
    let m = c.request(nc, JS_API_LEADER_STEP_DOWN, body, Duration::from_secs(1)).expect("a response");
    serde_json::from_slice(&m.data).expect("a stepdown response")
}

#[test]
fn headers_api_level_and_json_sniffing() {
    let hdr = b"NATS/1.0\r\nFoo: bar\r\nNats-Required-Api-Level:  2\r\n\r\n";
    assert_eq!(slice_header("Nats-Required-Api-Level", hdr), Some(&b"2"[..]));
    assert_eq!(slice_header("Foo", hdr), Some(&b"bar"[..]));
    assert_eq!(slice_header("Missing", hdr), None);
    assert_eq!(slice_header("Foo", b"Foo: at the start\r\n"), None, "a key must start a line after CRLF");
    assert_eq!(slice_header("Fo", hdr), None, "a prefix of a key is not the key");
    assert!(!error_on_required_api_level(b""));
    assert!(!error_on_required_api_level(hdr), "level 2 is supported");
    assert!(error_on_required_api_level(b"NATS/1.0\r\nNats-Required-Api-Level: 99\r\n\r\n"));
    assert!(error_on_required_api_level(b"NATS/1.0\r\nNats-Required-Api-Level: two\r\n\r\n"), "unreadable levels are rejected");
    assert!(is_json_object_or_array(b" \r\n\t{\"a\":1}"));
    assert!(is_json_object_or_array(b"[1]"));
    assert!(!is_json_object_or_array(b"  "));
    assert!(!is_json_object_or_array(b"\"s\""));
}

#[test]
fn sync_subjects_are_random_base62() {
    let c = cluster("sync_subjects_are_random_base62");
    let a = sync_subj_for_stream(c.srv(0));
    let b = sync_subj_for_stream(c.srv(0));
    assert_ne!(a, b);
    let suffix = a.strip_prefix("$JSC.SYNC.").expect("prefix");
    assert_eq!(suffix.len(), 8);
    assert!(suffix.chars().all(|ch| ch.is_ascii_alphanumeric()), "{a}");
}

#[test]
fn only_the_leader_has_the_stepdown_subscription() {
    let mut c = cluster("only_the_leader_has_the_stepdown_subscription");
    let l = c.leader().expect("a leader");
    let has_sub = |c: &JsCluster, i: usize| c.js(i).st.borrow().cluster.as_ref().expect("cc").stepdown.is_some();
    assert!(has_sub(&c, l));
    assert!((0..3).filter(|&i| i != l).all(|i| !has_sub(&c, i)));
    assert!(c.srv(l).has_interest(SYSTEM_ACCOUNT, JS_API_LEADER_STEP_DOWN));

    let f = (0..3).find(|&i| i != l).expect("a follower");
    let resp = stepdown(&mut c, f, b"");
    assert!(resp.success && resp.error.is_none(), "{resp:?}");
    let r = c.wait_on_leader();
    assert!(r.is_ok(), "{r:?}");
    let nl = c.leader().expect("a new leader");
    assert_ne!(nl, l);
    assert!(has_sub(&c, nl) && !has_sub(&c, l), "the subscription moved with the leadership");
}

#[test]
fn leader_change_clears_in_flight_state_and_repairs_sync_subjects() {
    let c = cluster("leader_change_clears_in_flight_state_and_repairs_sync_subjects");
    let f = c.random_non_leader().expect("a follower");
    let js = c.js(f).clone();
    let mut broken = sa("$G", "B", &["p1"], 1);
    broken.sync.clear();
    {
        let mut st = js.st.borrow_mut();
        let cc = st.cluster.as_mut().expect("cc");
        cc.streams.entry("$G".into()).or_default().insert("B".into(), broken.clone());
        cc.track_inflight_stream_proposal("$G", &sa("$G", "OTHER", &["p1"], 1), false);
        cc.peer_remove_reply.insert("x".into(), Default::default());
        cc.streams_check = true;
    }
    js.process_leader_change(false);
    {
        let st = js.st.borrow();
        let cc = st.cluster.as_ref().expect("cc");
        assert!(cc.inflight_streams.is_empty() && cc.peer_remove_reply.is_empty(), "forgotten on any change");
        assert!(cc.streams_check, "only a leader repairs");
    }
    assert!(!c.srv(f).is_meta_leader());

    js.process_leader_change(true);
    assert!(c.srv(f).is_meta_leader(), "the server flag follows");
    let st = js.st.borrow();
    let cc = st.cluster.as_ref().expect("cc");
    assert!(!cc.streams_check);
    let fixed = &cc.inflight_streams["$G"]["B"].sa;
    assert!(fixed.sync.starts_with("$JSC.SYNC.") && fixed.sync.len() == "$JSC.SYNC.".len() + 8, "{}", fixed.sync);
    assert_eq!(fixed.group, broken.group);
    assert_eq!(fixed.created, broken.created);
    assert!(cc.stepdown.is_some());
}

#[test]
fn an_observer_that_becomes_leader_steps_down() {
    let mut c = cluster("an_observer_that_becomes_leader_steps_down");
    let l = c.leader().expect("a leader");
    let meta = c.js(l).get_meta_group().expect("meta");
    meta.set_observer(true);
    c.js(l).process_leader_change(true);
    assert!(!meta.leader(), "it stepped down at once");
    c.run_for(Duration::from_millis(50));
    assert!(!c.srv(l).is_meta_leader(), "the monitor saw the change");
    assert!(c.js(l).st.borrow().cluster.as_ref().expect("cc").stepdown.is_none(), "and dropped the leader subscriptions");
}

#[test]
fn a_new_leader_announces_itself_with_its_replicas() {
    let mut c = cluster("a_new_leader_announces_itself_with_its_replicas");
    let l = c.leader().expect("a leader");
    let f = (0..3).find(|&i| i != l).expect("a follower");
    let probe = c.connect(f, SYSTEM_ACCOUNT);
    c.subscribe(probe, JS_ADVISORY_DOMAIN_LEADER_ELECTED);
    c.run_for(Duration::from_millis(5));
    let resp = stepdown(&mut c, f, b"");
    assert!(resp.success);
    let ok = c.run_until(Duration::from_secs(10), |c| c.clients[probe].msgs.iter().any(|m| m.subject == JS_ADVISORY_DOMAIN_LEADER_ELECTED));
    assert!(ok, "the domain leader advisory arrived");
    let m = c.clients[probe].msgs.iter().find(|m| m.subject == JS_ADVISORY_DOMAIN_LEADER_ELECTED).expect("advisory").clone();
    let adv: serde_json::Value = serde_json::from_slice(&m.data).expect("json");
    let nl = c.leader().expect("a new leader");
    assert_eq!(adv["type"], JS_DOMAIN_LEADER_ELECTED_ADVISORY_TYPE);
    assert_eq!(adv["leader"], c.core(nl).node.as_str());
    assert_eq!(adv["cluster"], "R3S");
    let names: Vec<&str> = adv["replicas"].as_array().expect("replicas").iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names.len(), 3, "{adv}");
    assert!(adv["timestamp"].as_str().is_some_and(|t| t.starts_with("2025-01-01T")));
}

#[test]
fn replicas_report_known_peers() {
    let mut c = cluster("replicas_report_known_peers");
    let l = c.leader().expect("a leader");
    c.run_for(Duration::from_millis(300));
    let meta = c.js(l).get_meta_group().expect("meta");
    let reps = c.srv(l).replicas(&*meta).expect("replicas");
    assert_eq!(reps.len(), 3);
    let me = reps.iter().find(|r| r.peer == c.core(l).node).expect("ourselves");
    assert!(me.current && me.lag == 0);
    assert!(reps.iter().all(|r| !r.offline && !r.name.is_empty()));
    assert!(reps.iter().filter(|r| r.peer != c.core(l).node).all(|r| r.active > 0 && r.active < 2_000_000_000), "{reps:?}");
    let f = (0..3).find(|&i| i != l).expect("a follower");
    c.core(l).node_to_info.borrow_mut().get_mut(&c.core(f).node).expect("entry").offline = true;
    let reps = c.srv(l).replicas(&*meta).expect("replicas");
    assert!(reps.iter().find(|r| r.peer == c.core(f).node).is_some_and(|r| r.offline));
    let js = serde_json::to_value(&reps[0]).expect("json");
    assert!(js.get("peer").is_some() && js.get("active").is_some() && js.get("current").is_some());
    assert_eq!(c.srv(l).replicas(&crate::jetstream_cluster::offline::OfflineNode::new("x", "_meta_")), None, "no peers: null");
}

#[test]
fn stepdown_requests_are_checked_and_answered() {
    let mut c = cluster("stepdown_requests_are_checked_and_answered");
    let l = c.leader().expect("a leader");
    let f = (0..3).find(|&i| i != l).expect("a follower");

    // Not from the system account: ignored.
    let nc = c.connect(f, crate::sim::js::GLOBAL_ACCOUNT);
    assert!(c.request(nc, JS_API_LEADER_STEP_DOWN, b"", Duration::from_millis(300)).is_none());

    let nc = c.connect(f, SYSTEM_ACCOUNT);
    let hdr_req = {
        let inbox = "_INBOX.api";
        c.subscribe(nc, inbox);
        c.publish(nc, JS_API_LEADER_STEP_DOWN, inbox, b"NATS/1.0\r\nNats-Required-Api-Level: 99\r\n\r\n", b"");
        c.run_until(Duration::from_secs(1), |c| !c.clients[nc].msgs.is_empty());
        let m = c.clients[nc].msgs.pop_front().expect("an answer");
        serde_json::from_slice::<LeaderStepDownResponse>(&m.data).expect("json")
    };
    assert_eq!(hdr_req.error.map(|e| e.err_code), Some(10185));
    assert!(!hdr_req.success);

    let bad = stepdown(&mut c, f, b"{not json");
    assert_eq!(bad.error.map(|e| e.err_code), Some(10025));
    let unknown = stepdown(&mut c, f, br#"{"placement":{"preferred":"S-9"}}"#);
    assert_eq!(unknown.error.map(|e| e.description), Some("preferred server \"S-9\" not known".to_string()));
    let body = format!(r#"{{"placement":{{"preferred":"{}"}}}}"#, c.servers[l].cfg.name);
    let me = stepdown(&mut c, f, body.as_bytes());
    assert!(me.error.is_some_and(|e| e.description.contains("is already leader")));
    let wrong_cluster = stepdown(&mut c, f, br#"{"placement":{"cluster":"ELSEWHERE"}}"#);
    assert_eq!(wrong_cluster.error.map(|e| e.description), Some("no replacement peer connected".to_string()));
    assert_eq!(c.leader(), Some(l), "none of these moved the leadership");

    // A named successor gets it.
    let target = (0..3).find(|&i| i != l && i != f).expect("a third server");
    let body = format!(r#"{{"placement":{{"preferred":"{}"}}}}"#, c.servers[target].cfg.name);
    let ok = stepdown(&mut c, f, body.as_bytes());
    assert!(ok.success && ok.error.is_none(), "{ok:?}");
    let r = c.wait_on_leader();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(c.leader(), Some(target));
}
