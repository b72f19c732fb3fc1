use std::rc::Rc;

use super::*;
use crate::jetstream_cluster::runtime::NoRuntime;
use crate::jetstream_cluster::js::JetStreamConfig;
use crate::jetstream_cluster::test_util::{ca, r3s_cluster, sa};
use crate::sim::js::{GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};

#[test]
fn the_account_reaches_its_jet_stream_only_when_enabled_and_alive() {
    let c = r3s_cluster("the_account_reaches_its_jet_stream_only_when_enabled_and_alive");
    let s = c.srv(0);
    let (srv, js, jsa) = s.get_jet_stream_from_account(GLOBAL_ACCOUNT).expect("$G has JetStream");
    assert!(Rc::ptr_eq(&js, c.js(0)), "the server's own JetStream");
    assert_eq!(srv.name(), s.name());
    assert_eq!(jsa.account, GLOBAL_ACCOUNT);
    assert!(Rc::ptr_eq(&jsa, &c.js(0).enable_account(GLOBAL_ACCOUNT)), "enabling again keeps the registration");
    assert!(s.get_jet_stream_from_account(SYSTEM_ACCOUNT).is_none(), "the system account has no JetStream");
    assert!(s.get_jet_stream_from_account("NOPE").is_none(), "no such account");

    // An account added later gets JetStream; one registered only with
    // JetStream but unknown to the server is not reached.
    c.core(0).add_account("ONE");
    assert_eq!(s.get_jet_stream_from_account("ONE").map(|(_, _, a)| a.account.clone()), Some("ONE".to_string()));
    c.js(0).enable_account("GHOST");
    assert!(s.get_jet_stream_from_account("GHOST").is_none());

    // A registration whose JetStream is gone reaches nothing.
    let core = c.core(1).clone();
    let gone = JetStreamCtx::new(core, Rc::new(NoRuntime), JetStreamConfig::default());
    let stale = gone.enable_account(GLOBAL_ACCOUNT);
    drop(gone);
    assert!(stale.js().is_none());
    assert!(!stale.stream_assigned("ANY"), "no JetStream, nothing assigned");
}

#[test]
fn account_side_assignment_and_leadership_follow_the_cluster_predicates() {
    let c = r3s_cluster("account_side_assignment_and_leadership_follow_the_cluster_predicates");
    let f = c.random_non_leader().expect("a follower");
    let me = c.core(f).node.clone();
    let js = c.js(f).clone();
    js.process_stream_assignment(sa(GLOBAL_ACCOUNT, "R1", &[me.as_str()], 1));
    js.process_stream_assignment(sa(GLOBAL_ACCOUNT, "R3", &[me.as_str(), "other111", "other222"], 3));
    js.process_stream_assignment(sa(GLOBAL_ACCOUNT, "AWAY", &["other111"], 1));
    let mut c1 = ca(GLOBAL_ACCOUNT, "R1", "c1", "G-1");
    c1.group.as_mut().expect("group").peers = vec![me.clone()];
    js.process_consumer_assignment(c1);

    let s = c.srv(f);
    let (_, _, jsa) = s.get_jet_stream_from_account(GLOBAL_ACCOUNT).expect("$G has JetStream");
    assert!(jsa.stream_assigned("R1") && jsa.stream_assigned("R3"), "we are in both groups");
    assert!(!jsa.stream_assigned("AWAY") && !jsa.stream_assigned("NONE"));
    assert!(s.account_jet_stream_is_stream_leader(GLOBAL_ACCOUNT, "R1"), "the only peer of an R1 leads it");
    assert!(!s.account_jet_stream_is_stream_leader(GLOBAL_ACCOUNT, "R3"), "an R3 leads through its group node, which runs nowhere here");
    assert!(!s.account_jet_stream_is_stream_leader(GLOBAL_ACCOUNT, "AWAY"));
    assert!(s.account_jet_stream_is_consumer_leader(GLOBAL_ACCOUNT, "R1", "c1"));
    assert!(!s.account_jet_stream_is_consumer_leader(GLOBAL_ACCOUNT, "R1", "nope"));
    // Another account's streams are not this account's.
    c.core(f).add_account("ONE");
    let (_, _, one) = s.get_jet_stream_from_account("ONE").expect("ONE has JetStream");
    assert!(!one.stream_assigned("R1"));
    assert!(!s.account_jet_stream_is_stream_leader("ONE", "R1"));
    assert!(!s.account_jet_stream_is_consumer_leader("ONE", "R1", "c1"));
    // Without JetStream for the account nothing leads.
    assert!(!s.account_jet_stream_is_stream_leader(SYSTEM_ACCOUNT, "R1"));
    assert!(!s.account_jet_stream_is_consumer_leader("NOPE", "R1", "c1"));

    // Not clustered: the cluster predicates answer true for any stream,
    // where the server's own accessor needs a cluster.
    js.st.borrow_mut().cluster = None;
    assert!(jsa.stream_assigned("AWAY"));
    assert!(s.account_jet_stream_is_stream_leader(GLOBAL_ACCOUNT, "AWAY"));
    assert!(s.account_jet_stream_is_consumer_leader(GLOBAL_ACCOUNT, "AWAY", "any"));
    assert!(!s.jet_stream_is_stream_leader(GLOBAL_ACCOUNT, "AWAY"));
}
