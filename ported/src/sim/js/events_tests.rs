use std::cell::RefCell;
use std::rc::Rc;

use super::*;
use crate::jetstream_cluster::server::ServerOpts;
use crate::raft::RaftTimings;
use crate::sim::js::bus::Bus;
use crate::sim::js::server::ServerConfig;
use crate::sim::World;

fn server(world: &Rc<World>, bus: &Rc<RefCell<Bus>>, i: usize, name: &str) -> Rc<ServerCore> {
    let cfg = ServerConfig { name: name.into(), cluster: "C".into(), routes: 3, opts: ServerOpts::default(), timings: RaftTimings::go_test_defaults(), accounts: vec![] };
    ServerCore::new(world.clone(), bus.clone(), i, &cfg)
}

fn statsz_of(s: &ServerCore) -> Vec<u8> {
    let mut m = ServerStatsMsg::default();
    m.server = s.server_info();
    m.stats.jetstream = Some(JetStreamVarz { config: None, stats: Some(serde_json::json!({"memory": 0})) });
    serde_json::to_vec(&m).expect("json")
}

#[test]
fn statsz_updates_the_registry_and_tracks_the_server() {
    let world = World::new(1);
    let bus = Rc::new(RefCell::new(Bus::default()));
    let a = server(&world, &bus, 0, "S-1");
    let b = server(&world, &bus, 1, "S-2");
    assert_eq!(a.node_infos().len(), 1, "a server knows itself");
    assert!(a.node_info(&a.node).is_some_and(|ni| ni.js && ni.stats.is_none()));

    a.remote_server_update(&statsz_of(&b));
    let ni = a.node_info(&b.node).expect("registered");
    assert_eq!((ni.name.as_str(), ni.id.as_str(), ni.cluster.as_str()), ("S-2", b.id.as_str(), "C"));
    assert!(ni.js && ni.stats.is_some() && !ni.offline && ni.binary_snapshots && ni.account_nrg);
    assert!(a.sys_servers.borrow().contains_key(&b.id));

    // An old sequence is reported but the registry still takes the update.
    let stale = statsz_of(&b);
    let mut later = serde_json::from_slice::<ServerStatsMsg>(&statsz_of(&b)).expect("json");
    later.server.seq = 100;
    a.remote_server_update(&serde_json::to_vec(&later).expect("json"));
    a.remote_server_update(&stale);
    assert_eq!(a.sys_servers.borrow()[&b.id].seq, 100);
    assert!(world.log.borrow().iter().any(|l| l.contains("out of order")));

    // Junk is ignored.
    let n = a.node_infos().len();
    a.remote_server_update(b"");
    a.remote_server_update(b"{oops");
    assert_eq!(a.node_infos().len(), n);

    // A server in another domain is tracked but not registered.
    let mut other = serde_json::from_slice::<ServerStatsMsg>(&statsz_of(&b)).expect("json");
    other.server.name = "X-1".into();
    other.server.id = "XID".into();
    other.server.domain = "elsewhere".into();
    a.opts.borrow_mut().js_domain = "home".into();
    a.remote_server_update(&serde_json::to_vec(&other).expect("json"));
    assert!(a.node_info(&crate::sim::cluster::server_hash("X-1")).is_none());
    assert!(a.sys_servers.borrow().contains_key("XID"));
}

#[test]
fn shutdown_events_mark_servers_offline() {
    let world = World::new(2);
    let bus = Rc::new(RefCell::new(Bus::default()));
    let a = server(&world, &bus, 0, "S-1");
    let b = server(&world, &bus, 1, "S-2");
    a.remote_server_update(&statsz_of(&b));
    let si = serde_json::to_vec(&b.server_info()).expect("json");
    a.remote_server_shutdown("bad.subject", &si);
    assert!(!a.node_info(&b.node).expect("entry").offline, "a malformed subject is ignored");
    a.remote_server_shutdown(&shutdown_event_subj(&b.id), b"");
    assert!(!a.node_info(&b.node).expect("entry").offline, "an empty event is ignored");
    a.remote_server_shutdown(&shutdown_event_subj(&b.id), &si);
    assert!(a.node_info(&b.node).expect("entry").offline);
    assert!(!a.sys_servers.borrow().contains_key(&b.id), "no longer tracked");
    let srv: &dyn crate::jetstream_cluster::server::ServerEnv = &*a;
    assert!(srv.active_peers().iter().all(|p| *p != b.node), "offline peers are not active");

    // Back: the next statsz brings it online again.
    a.remote_server_update(&statsz_of(&b));
    assert!(!a.node_info(&b.node).expect("entry").offline);
}

#[test]
fn new_servers_and_routes_register_once_and_refresh() {
    let world = World::new(3);
    let bus = Rc::new(RefCell::new(Bus::default()));
    let a = server(&world, &bus, 0, "S-1");
    let b = server(&world, &bus, 1, "S-2");
    a.route_connected(&b);
    let ni = a.node_info(&b.node).expect("entry");
    assert!(ni.stats.is_none() && !ni.offline && ni.js);
    a.node_to_info.borrow_mut().get_mut(&b.node).expect("entry").offline = true;
    a.process_new_server(&b.server_info());
    assert!(a.node_info(&b.node).expect("entry").offline, "processNewServer only adds missing entries");
    a.route_connected(&b);
    assert!(!a.node_info(&b.node).expect("entry").offline, "a route connection refreshes the entry");
    let c3 = server(&world, &bus, 2, "S-3");
    a.process_new_server(&c3.server_info());
    assert!(a.node_info(&c3.node).is_some_and(|ni| ni.stats.is_none() && ni.name == "S-3"));
}

#[test]
fn statsz_pings_are_answered_and_broadcasts_rate_limited() {
    let world = World::new(4);
    let bus = Rc::new(RefCell::new(Bus::default()));
    let a = server(&world, &bus, 0, "S-1");
    a.init_event_tracking();
    let probe = bus.borrow_mut().create_client(1, SYSTEM_ACCOUNT, crate::sim::js::Owner::Client(0));
    bus.borrow_mut().subscribe(probe, "$SYS.SERVER.*.STATSZ").expect("sub");
    bus.borrow_mut().subscribe(probe, "reply.here").expect("sub");
    let drain = |bus: &Rc<RefCell<Bus>>| {
        let mut out = Vec::new();
        while let Some((_, _, m)) = bus.borrow_mut().pop_due(u64::MAX) {
            out.push(m.subject);
        }
        out
    };
    a.statsz_req("reply.here", b"");
    assert_eq!(drain(&bus), vec!["reply.here".to_string()]);
    a.statsz_req("", b"");
    assert_eq!(drain(&bus), vec![server_stats_subj(&a.id)], "no reply: our broadcast subject");
    a.send_statsz(&server_stats_subj(&a.id));
    assert!(drain(&bus).is_empty(), "broadcasts within the rate limit are held back");
    assert!(a.node_info(&a.node).is_some_and(|ni| ni.stats.is_none()), "without JetStream there are no JetStream stats");
    a.statsz_req("reply.here", b"{bad");
    let out = drain(&bus);
    assert_eq!(out, vec!["reply.here".to_string()], "a bad request gets an error answer");

    // The heartbeat backs off from 250ms to the steady 10s.
    let mut periods = Vec::new();
    for _ in 0..8 {
        let at = a.statsz_deadline().expect("armed");
        world.now.set(at.0);
        a.heartbeat_statsz();
        periods.push(a.cstatsz.get());
    }
    assert_eq!(periods[0], std::time::Duration::from_millis(500));
    assert_eq!(*periods.last().expect("some"), STATS_HB_INTERVAL);
    a.send_shutdown_event();
    assert!(a.statsz_deadline().is_none() && !a.events.get(), "nothing after the shutdown event");
}
