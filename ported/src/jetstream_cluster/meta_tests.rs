use super::*;
use crate::jetstream_cluster::js::JetStreamConfig;
use crate::jetstream_cluster::runtime::NoRuntime;
use crate::jetstream_cluster::server::ServerOpts;
use crate::raft::RaftTimings;
use crate::sim::js::server::{ServerConfig, ServerCore};
use crate::sim::js::{Bus, JsCluster};

fn lone_server(test: &str, cluster: &str, routes: usize) -> (std::rc::Rc<ServerCore>, std::rc::Rc<JetStreamCtx>) {
    let world = crate::sim::World::new(crate::sim::test_seed(test));
    let bus = std::rc::Rc::new(std::cell::RefCell::new(Bus::default()));
    let mut opts = ServerOpts::default();
    opts.store_dir = "/S-1/js".into();
    let cfg = ServerConfig { name: "S-1".into(), cluster: cluster.into(), routes, opts, timings: RaftTimings::go_test_defaults(), accounts: vec![] };
    let core = ServerCore::new(world, bus, 0, &cfg);
    let js = JetStreamCtx::new(core.clone(), std::rc::Rc::new(NoRuntime), JetStreamConfig { store_dir: "/S-1/js".into(), domain: String::new() });
    *core.js.borrow_mut() = std::rc::Rc::downgrade(&js);
    (core, js)
}

#[test]
fn clustering_needs_a_cluster_name_and_routes() {
    let (core, _js) = lone_server("clustering_needs_a_cluster_name", "", 3);
    let srv: &dyn ServerEnv = &*core;
    assert_eq!(srv.enable_jet_stream_clustering().err(), Some(SetupError::Config("JetStream cluster requires cluster name".into())));

    let (core, _js) = lone_server("clustering_needs_routes", "C", 0);
    let srv: &dyn ServerEnv = &*core;
    assert!(matches!(srv.enable_jet_stream_clustering(), Err(SetupError::Config(m)) if m.contains("requires configured routes")));

    let (core, js) = lone_server("clustering_not_running", "C", 3);
    core.running.set(false);
    let srv: &dyn ServerEnv = &*core;
    assert!(matches!(srv.enable_jet_stream_clustering(), Ok(None)), "not running: nothing to do");
    assert!(js.st.borrow().cluster.is_none());
    core.running.set(true);

    let (core, js) = lone_server("clustering_sets_up_the_meta_group", "C", 3);
    let srv: &dyn ServerEnv = &*core;
    let m = srv.enable_jet_stream_clustering().expect("sets up").expect("a monitor");
    assert!(m.recovering() && js.is_meta_recovering());
    assert!(matches!(srv.enable_jet_stream_clustering(), Ok(None)), "already clustered");
    let meta = js.get_meta_group().expect("meta node");
    assert_eq!(meta.cluster_size(), 3, "expected size from the routes");
    assert_eq!(meta.group(), "_meta_");
    assert!(srv.lookup_raft_node("_meta_").is_some() && srv.num_raft_nodes() == 1, "registered with the server");
    let ps = srv.read_peer_state(&meta_store_dir("/S-1/js", "$SYS")).expect("bootstrapped peer state");
    assert_eq!(ps.known_peers, vec![core.node.clone()]);
    assert_eq!(meta_store_dir("/S-1/js", "$SYS"), "/S-1/js/$SYS/_js_/_meta_");
}

#[test]
fn setup_recovers_the_peer_state_it_finds() {
    let mut c = JsCluster::create_jet_stream_cluster_explicit("R3S", 3, crate::sim::test_seed("setup_recovers_the_peer_state_it_finds"));
    let f = c.random_non_leader().expect("a follower");
    let store = meta_store_dir(&c.servers[f].cfg.opts.store_dir, "$SYS");
    let mut ps = c.srv(f).read_peer_state(&store).expect("peer state");
    assert_eq!(ps.known_peers.len(), 3);
    ps.domain_ext = crate::peer_state::ExtensionState::EXTENDED;
    c.srv(f).write_peer_state(&store, &ps).expect("written");
    c.kill_server(f);
    c.restart_server(f);
    let back = c.srv(f).read_peer_state(&store).expect("peer state");
    assert_eq!(back.domain_ext, crate::peer_state::ExtensionState::UNDETERMINED, "not an observer: the extension state is reset");
    assert!(!back.known_peers.is_empty());
    c.run_for(std::time::Duration::from_secs(1));
    let meta = c.js(f).get_meta_group().expect("meta");
    assert_eq!(meta.cluster_size(), 3, "the recovered node knows the whole group");
    assert_eq!(meta.peers().len(), 3);
}
