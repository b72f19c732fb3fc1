use super::*;
use crate::jetstream_cluster::test_util::{ca, sa};
use crate::jetstream_cluster::runtime::StreamRuntime;
use crate::sim::js::{JsCluster, RuntimeCall};

/// A settled 3-server cluster and a follower to call the handlers on
/// directly (nothing else changes its maps meanwhile).
fn follower(test: &str) -> (JsCluster, usize, String) {
    let c = JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed(test));
    let f = c.random_non_leader().expect("a follower");
    let me = c.core(f).node.clone();
    (c, f, me)
}

fn calls(c: &JsCluster, i: usize) -> Vec<RuntimeCall> {
    c.servers[i].runtime.calls.borrow().clone()
}

fn created_at(s: &mut StreamAssignment, nanos: i64) {
    s.created = GoTime::from_unix_nanos(nanos);
}

#[test]
fn stream_assignment_registers_and_creates_for_members() {
    let (c, f, me) = follower("stream_assignment_registers_and_creates_for_members");
    let js = c.js(f).clone();
    let mut s = sa("$G", "S", &[me.as_str(), "other111"], 3);
    s.consumers.insert("ignored".into(), ca("$G", "S", "ignored", "G"));
    s.responded = false;
    {
        let mut st = js.st.borrow_mut();
        let cc = st.cluster.as_mut().expect("clustered");
        cc.track_inflight_stream_proposal("$G", &s, false);
    }
    js.process_stream_assignment(s.clone());
    let st = js.st.borrow();
    let cc = st.cluster.as_ref().expect("clustered");
    assert!(cc.inflight_streams.is_empty(), "the applied proposal is no longer in flight");
    let got = &cc.streams["$G"]["S"];
    assert_eq!(got.group, s.group);
    assert!(got.consumers.contains_key("ignored"), "with nothing to replace, the assignment's own consumers stay (as a snapshot hands them)");
    drop(st);
    assert_eq!(calls(&c, f), vec![RuntimeCall::CreateStream { acc: "$G".into(), stream: "S".into() }]);

    // A re-assignment keeps consumers, responded and the node; we are no
    // longer a member, so our running copy is removed.
    js.st.borrow_mut().cluster.as_mut().and_then(|cc| cc.streams.get_mut("$G")).and_then(|a| a.get_mut("S")).map(|s| {
        s.consumers.insert("c1".into(), ca("$G", "S", "c1", "G-1"));
        s.responded = true;
    });
    js.process_stream_assignment(sa("$G", "S", &["other111", "other222"], 3));
    let kept = js.st.borrow().cluster.as_ref().expect("clustered").streams["$G"]["S"].clone();
    assert_eq!(kept.consumers.keys().collect::<Vec<_>>(), vec!["c1", "ignored"], "the replaced assignment's consumers");
    assert!(kept.responded);
    assert_eq!(calls(&c, f).last(), Some(&RuntimeCall::RemoveStream { acc: "$G".into(), stream: "S".into() }));
    assert!(!js.st.borrow().cluster.as_ref().expect("clustered").streams_check);

    // A missing sync subject asks the next meta leader to repair it.
    let mut broken = sa("$G", "B", &["other111"], 1);
    broken.sync.clear();
    js.process_stream_assignment(broken);
    assert!(js.st.borrow().cluster.as_ref().expect("clustered").streams_check);
}

#[test]
fn stream_assignment_for_a_missing_account_reports_to_the_leader() {
    let (mut c, f, me) = follower("stream_assignment_for_a_missing_account_reports_to_the_leader");
    let probe = c.connect(f, crate::sim::js::SYSTEM_ACCOUNT);
    c.subscribe(probe, STREAM_ASSIGNMENT_SUBJ);
    let js = c.js(f).clone();
    js.process_stream_assignment(sa("NOPE", "S", &[me.as_str()], 1));
    assert!(js.st.borrow().cluster.as_ref().expect("clustered").streams["NOPE"].contains_key("S"), "recorded even so");
    c.run_for(std::time::Duration::from_millis(10));
    let m = c.clients[probe].msgs.pop_front().expect("a result for the leader");
    let v: serde_json::Value = serde_json::from_slice(&m.data).expect("json");
    assert_eq!(v["account"], "NOPE");
    assert_eq!(v["stream"], "S");
    assert_eq!(v["create_response"]["type"], JS_API_STREAM_CREATE_RESPONSE_TYPE);
    assert_eq!(v["create_response"]["error"]["err_code"], 10035);
    assert!(calls(&c, f).is_empty(), "nothing to run without the account");

    // Already answered: no second result; not a member: no result at all.
    let mut again = sa("NOPE", "T", &[me.as_str()], 1);
    js.process_stream_assignment(again.clone());
    js.st.borrow_mut().cluster.as_mut().and_then(|cc| cc.streams.get_mut("NOPE")).and_then(|a| a.get_mut("T")).map(|s| s.responded = true);
    again.created = GoTime::from_unix_nanos(5);
    c.run_for(std::time::Duration::from_millis(10));
    c.clients[probe].msgs.clear();
    js.process_stream_assignment(again);
    js.process_stream_assignment(sa("NOPE", "U", &["other111"], 1));
    c.run_for(std::time::Duration::from_millis(10));
    assert!(c.clients[probe].msgs.is_empty());
}

#[test]
fn unsupported_assignments_stop_the_running_stream() {
    let (c, f, me) = follower("unsupported_assignments_stop_the_running_stream");
    let js = c.js(f).clone();
    js.process_stream_assignment(sa("$G", "S", &[me.as_str()], 1));
    let mut u = sa("$G", "S", &[me.as_str()], 1);
    u.unsupported = Some(UnsupportedAssignment { reason: "unsupported - required API level: 9".into() });
    js.process_update_stream_assignment(u.clone());
    assert_eq!(calls(&c, f).last(), Some(&RuntimeCall::StopStream { acc: "$G".into(), stream: "S".into() }));
    // Once unsupported, a later supported assignment stays unsupported.
    js.process_stream_assignment(sa("$G", "S", &[me.as_str()], 1));
    assert!(js.st.borrow().cluster.as_ref().expect("clustered").streams["$G"]["S"].unsupported.is_some());
    let n = calls(&c, f).len();
    js.process_stream_assignment(u);
    assert_eq!(calls(&c, f).len(), n, "a closed stream is not stopped again");
}

#[test]
fn update_needs_a_known_stream_and_follows_membership() {
    let (c, f, me) = follower("update_needs_a_known_stream_and_follows_membership");
    let js = c.js(f).clone();
    js.process_update_stream_assignment(sa("$G", "NEW", &[me.as_str()], 1));
    assert!(js.st.borrow().cluster.as_ref().expect("clustered").streams.get("$G").is_none_or(|a| !a.contains_key("NEW")), "unknown streams are not created by an update");

    let mut s = sa("$G", "S", &[me.as_str(), "other111", "other222"], 3);
    s.consumers.insert("c1".into(), ca("$G", "S", "c1", "G"));
    js.process_stream_assignment(s);
    js.st.borrow_mut().cluster.as_mut().and_then(|cc| cc.streams.get_mut("$G")).and_then(|a| a.get_mut("S")).map(|s| {
        s.consumers.insert("c1".into(), ca("$G", "S", "c1", "G"));
        s.responded = true;
    });
    let mut upd = sa("$G", "S", &[me.as_str(), "other111", "other222"], 3);
    upd.group.as_mut().expect("group").name = "S-UPD".into();
    js.process_update_stream_assignment(upd);
    let got = js.st.borrow().cluster.as_ref().expect("clustered").streams["$G"]["S"].clone();
    assert!(got.consumers.contains_key("c1"), "consumers carried over");
    assert!(!got.responded, "a member responds again");
    assert_eq!(got.group.as_ref().map(|g| g.name.as_str()), Some("S-UPD"));
    assert_eq!(calls(&c, f).last(), Some(&RuntimeCall::UpdateStream { acc: "$G".into(), stream: "S".into() }));

    js.process_update_stream_assignment(sa("$G", "S", &["other111"], 1));
    assert_eq!(calls(&c, f).last(), Some(&RuntimeCall::RemoveStream { acc: "$G".into(), stream: "S".into() }), "moved away: removed here");
}

#[test]
fn stream_removal_deletes_what_is_assigned_or_older() {
    let (c, f, me) = follower("stream_removal_deletes_what_is_assigned_or_older");
    let js = c.js(f).clone();
    js.process_stream_assignment(sa("$G", "S", &[me.as_str()], 1));
    js.process_stream_removal(sa("$G", "S", &[me.as_str()], 1));
    assert!(js.st.borrow().cluster.as_ref().expect("clustered").streams.get("$G").is_none(), "the account's map went with its last stream");
    assert!(matches!(calls(&c, f).last(), Some(RuntimeCall::DeleteStream { is_member: true, .. })));

    // Not assigned (start-up recovery) but running from disk: delete only if
    // it was not created after this removal.
    let rt = c.servers[f].runtime.clone();
    let mut old = sa("$G", "OLD", &[me.as_str()], 1);
    created_at(&mut old, 1_000);
    rt.process_cluster_create_stream(&js, "$G", &old);
    let mut removal = old.clone();
    created_at(&mut removal, 2_000);
    js.process_stream_removal(removal);
    assert!(rt.lookup_stream("$G", "OLD").is_none(), "created before the removal: deleted");

    let mut young = sa("$G", "YOUNG", &[me.as_str()], 1);
    created_at(&mut young, 3_000);
    rt.process_cluster_create_stream(&js, "$G", &young);
    let mut removal = young.clone();
    created_at(&mut removal, 2_000);
    js.process_stream_removal(removal);
    assert!(rt.lookup_stream("$G", "YOUNG").is_some(), "created after the removal: kept");
    let mut zero = young.clone();
    zero.created = GoTime::default();
    js.process_stream_removal(zero);
    assert!(rt.lookup_stream("$G", "YOUNG").is_some(), "no creation time: nothing to compare, kept");
}

#[test]
fn consumer_assignment_needs_its_stream_and_follows_membership() {
    let (c, f, me) = follower("consumer_assignment_needs_its_stream_and_follows_membership");
    let js = c.js(f).clone();
    let mut mine = ca("$G", "S", "c1", "G-1");
    mine.group.as_mut().expect("group").peers = vec![me.clone()];
    js.process_consumer_assignment(mine.clone());
    assert!(calls(&c, f).is_empty(), "no stream, nothing recorded");

    js.process_stream_assignment(sa("$G", "S", &[me.as_str()], 1));
    mine.state = Some(serde_json::value::to_raw_value(&serde_json::json!({"delivered": {"consumer_seq": 1, "stream_seq": 1}})).expect("raw"));
    {
        let mut st = js.st.borrow_mut();
        st.cluster.as_mut().expect("clustered").track_inflight_consumer_proposal("$G", "S", &mine, false);
    }
    js.process_consumer_assignment(mine.clone());
    let st = js.st.borrow();
    let cc = st.cluster.as_ref().expect("clustered");
    assert!(cc.inflight_consumers.is_empty());
    assert!(cc.streams["$G"]["S"].consumers["c1"].state.is_none(), "the restore state is handed on, not kept");
    drop(st);
    assert_eq!(calls(&c, f).last(), Some(&RuntimeCall::CreateConsumer { acc: "$G".into(), stream: "S".into(), consumer: "c1".into(), was_existing: false }));
    js.process_consumer_assignment(mine.clone());
    assert_eq!(calls(&c, f).last(), Some(&RuntimeCall::CreateConsumer { acc: "$G".into(), stream: "S".into(), consumer: "c1".into(), was_existing: true }));

    let mut away = mine.clone();
    away.group.as_mut().expect("group").peers = vec!["other111".into()];
    js.process_consumer_assignment(away);
    assert_eq!(calls(&c, f).last(), Some(&RuntimeCall::RemoveConsumer { acc: "$G".into(), stream: "S".into(), consumer: "c1".into() }));

    let mut unsupported = mine;
    unsupported.unsupported = Some(UnsupportedAssignment { reason: "unsupported - config error".into() });
    js.process_consumer_assignment(unsupported);
    assert_eq!(calls(&c, f).last(), Some(&RuntimeCall::StopStream { acc: "$G".into(), stream: "S".into() }));
    assert!(js.st.borrow().cluster.as_ref().expect("clustered").streams["$G"]["S"].unsupported.is_some(), "the stream is marked too");
}

#[test]
fn consumer_removal_only_for_the_group_we_have() {
    let (c, f, me) = follower("consumer_removal_only_for_the_group_we_have");
    let js = c.js(f).clone();
    js.process_stream_assignment(sa("$G", "S", &[me.as_str()], 1));
    let mut c1 = ca("$G", "S", "c1", "G-1");
    c1.group.as_mut().expect("group").peers = vec![me.clone()];
    js.process_consumer_assignment(c1.clone());

    js.process_consumer_removal(ca("$G", "S", "c1", "G-OTHER"));
    assert!(js.st.borrow().cluster.as_ref().expect("clustered").streams["$G"]["S"].consumers.contains_key("c1"), "a removal for another group is ignored");
    js.process_consumer_removal(c1.clone());
    assert!(js.st.borrow().cluster.as_ref().expect("clustered").streams["$G"]["S"].consumers.is_empty());
    assert!(matches!(calls(&c, f).last(), Some(RuntimeCall::DeleteConsumer { .. })));

    // Recovered from disk, not assigned: deleted unless newer than the removal.
    let rt = c.servers[f].runtime.clone();
    let mut disk = ca("$G", "S", "c2", "G-2");
    disk.created = GoTime::from_unix_nanos(100);
    rt.process_cluster_create_consumer(&js, None, &disk, None, false);
    let mut removal = disk.clone();
    removal.created = GoTime::from_unix_nanos(200);
    js.process_consumer_removal(removal);
    assert!(rt.lookup_consumer("$G", "S", "c2").is_none());
}
