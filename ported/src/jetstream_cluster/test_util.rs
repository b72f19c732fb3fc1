//! Builders for assignments used by this module's unit tests.

use super::assignments::{ConsumerAssignment, StreamAssignment};
use super::ops::{decode_consumer_assignment, decode_stream_assignment};

/// A decoded stream assignment in `account` with the given peers and replicas.
pub(crate) fn sa(account: &str, name: &str, peers: &[&str], replicas: i64) -> StreamAssignment {
    let json = serde_json::json!({
        "client": {"acc": account, "server": "n1", "jwt": "secret-jwt", "issuer_key": "IK"},
        "created": "2024-05-06T07:08:09.123456789Z",
        "stream": {"name": name, "subjects": [format!("{name}.>")], "retention": "limits",
                   "num_replicas": replicas, "storage": "file"},
        "group": {"name": format!("S-R{replicas}F-{name}"), "peers": peers, "store": "file",
                  "preferred": peers.first().copied().unwrap_or(""), "scale_up": true},
        "sync": format!("$JSC.SYNC.{name}"),
        "subject": "$JS.API.STREAM.CREATE",
        "reply": "_INBOX.1"
    });
    decode_stream_assignment(json.to_string().as_bytes()).expect("valid test assignment")
}

/// A settled 3-server cluster named R3S, seeded from the test's name.
pub(crate) fn r3s_cluster(test: &str) -> crate::sim::js::JsCluster {
    crate::sim::js::JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed(test))
}

/// On `c`'s meta leader, an R3 stream `$G > SHORT` assigned to two of the
/// three servers: the leader, the server left out (the peer an add-peer
/// would bring in) and the two that have it.
pub(crate) fn stream_short_of_a_peer(c: &crate::sim::js::JsCluster) -> (std::rc::Rc<crate::jetstream_cluster::js::JetStreamCtx>, String, Vec<String>) {
    let l = c.leader().expect("a leader");
    let ids: Vec<String> = (0..3).map(|i| c.core(i).node.clone()).collect();
    let newcomer = ids[(l + 1) % 3].clone();
    let have: Vec<String> = ids.into_iter().filter(|p| *p != newcomer).collect();
    let js = c.js(l).clone();
    let peers: Vec<&str> = have.iter().map(String::as_str).collect();
    let mut short = sa("$G", "SHORT", &peers, 3);
    short.client.as_mut().expect("client").cluster = "R3S".into();
    js.process_stream_assignment(short);
    (js, newcomer, have)
}

/// A decoded consumer assignment of `stream` in `account`, in raft group `group`.
pub(crate) fn ca(account: &str, stream: &str, name: &str, group: &str) -> ConsumerAssignment {
    let json = serde_json::json!({
        "client": {"acc": account, "jwt": "secret-jwt"},
        "created": "2024-05-06T07:08:10Z",
        "name": name,
        "stream": stream,
        "consumer": {"durable_name": name, "ack_policy": "explicit", "num_replicas": 0},
        "group": {"name": group, "peers": ["p1", "p2", "p3"], "store": "file", "preferred": "p2"}
    });
    decode_consumer_assignment(json.to_string().as_bytes()).expect("valid test consumer")
}

/// `sa` with consumers attached.
pub(crate) fn with_consumers(mut s: StreamAssignment, cas: Vec<ConsumerAssignment>) -> StreamAssignment {
    for c in cas {
        s.consumers.insert(c.name.clone(), c);
    }
    s
}

/// A started single-member memory raft node on a fresh simulated world
/// (server `S-1`), for tests that need a real node behind a handle.
pub(crate) fn mem_node(test: &str) -> (std::rc::Rc<crate::sim::World>, std::rc::Rc<std::cell::RefCell<crate::raft::Raft>>) {
    use crate::raft::node::bootstrap_raft_node;
    use crate::raft::{MemWal, Raft, RaftConfig, RaftTimings};
    use crate::sim::world::{SimFs, SimHost};
    let world = crate::sim::World::new(crate::sim::test_seed(test));
    let id = crate::sim::server_hash("S-1");
    let store = "/S-1/nrg/TEST".to_string();
    bootstrap_raft_node(&mut SimFs::new(world.clone()), &store, std::slice::from_ref(&id), true).expect("bootstrap");
    let host = SimHost::new(world.clone(), 0, 0, "S-1");
    let cfg = RaftConfig::new("TEST", &store, Box::new(MemWal::new()));
    let n = Raft::start(Box::new(host), &id, "$G", cfg, RaftTimings::go_test_defaults()).expect("start");
    (world, std::rc::Rc::new(std::cell::RefCell::new(n)))
}
