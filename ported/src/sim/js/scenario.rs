//! The seeded meta scenario: a 3- or 5-server cluster takes random stream
//! and consumer assignment proposals at its meta leader while servers are
//! killed, shut down, restarted and partitioned. Every proposal's outcome
//! goes into a reference model (an op seen applied on the leader is in;
//! one whose fate is unclear is settled once the cluster has healed and
//! agreed). At the end, after healing, every server's assignment maps must
//! equal the model, no in-flight proposal may be left on the leader, and
//! every server must run exactly the streams whose group it is in.
//!
//! Proposals are made by hand the way the meta leader's requests make them
//! (`jsClusteredStreamRequest` and friends, `stream_requests.rs`): encode,
//! `Propose`, track the proposal as in flight; the model picks the peers
//! itself so that it knows them.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::jetstream_cluster::assignments::{ClientInfo, ConsumerAssignment, GoTime, RaftGroup, StorageType, StreamAssignment};
use crate::jetstream_cluster::cluster::StreamMap;
use crate::jetstream_cluster::config::{ConsumerConfig, StreamConfig};
use crate::jetstream_cluster::leader::sync_subj_for_stream;
use crate::jetstream_cluster::ops::{
    encode_add_consumer_assignment, encode_add_stream_assignment, encode_delete_consumer_assignment,
    encode_delete_stream_assignment, encode_update_stream_assignment,
};
use crate::sim::rng::SimRng;

use super::cluster::JsCluster;
use super::server::GLOBAL_ACCOUNT;

/// The accounts streams are created in; `GHOST` exists on no server, so its
/// streams are assigned but never run.
pub const SCENARIO_ACCOUNTS: &[&str] = &[GLOBAL_ACCOUNT, "ACME", "GHOST"];

/// Knobs of one run.
#[derive(Debug, Clone)]
pub struct ScenarioConfig {
    /// Number of servers.
    pub servers: usize,
    /// Assignment proposals to make.
    pub ops: usize,
    /// Probability that a turn injects a fault instead of proposing.
    pub fault_rate: f64,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig { servers: 3, ops: 12, fault_rate: 0.45 }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioReport {
    /// Proposals seen applied on the leader right away.
    pub applied: usize,
    /// Proposals whose fate was settled after healing, and how many of
    /// those had taken effect.
    pub settled: usize,
    pub settled_applied: usize,
    /// Faults injected: kills, clean shutdowns, restarts, partitions.
    pub kills: usize,
    pub shutdowns: usize,
    pub restarts: usize,
    pub partitions: usize,
    /// Streams still running somewhere without an assignment.
    pub orphans: usize,
    /// Streams in the final model.
    pub streams: usize,
    /// Consumers in the final model.
    pub consumers: usize,
    /// Simulated seconds covered.
    pub sim_secs: f64,
    /// Digest of the cluster's event log.
    pub digest: String,
}

/// The replicated part of an assignment, as servers must agree on it.
/// The preferred leader and scale-up hint are left out: recovery clears
/// them on the servers that replay (as upstream does).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamView {
    pub config: String,
    pub group: String,
    pub peers: Vec<String>,
    pub created: String,
    pub sync: String,
    pub consumers: BTreeMap<String, (String, String, Vec<String>)>,
}

/// Account → stream → what every server must agree on.
pub type MapView = BTreeMap<String, BTreeMap<String, StreamView>>;

/// The agreed view of assignment maps.
pub fn view(streams: &StreamMap) -> MapView {
    streams
        .iter()
        .filter(|(_, a)| !a.is_empty())
        .map(|(acc, asa)| {
            let inner = asa
                .iter()
                .map(|(name, sa)| {
                    let g = sa.group.as_ref();
                    let consumers = sa
                        .consumers
                        .iter()
                        .map(|(n, ca)| {
                            let cg = ca.group.as_ref();
                            (n.clone(), (ca.config_json.get().to_string(), cg.map_or(String::new(), |g| g.name.clone()), cg.map_or(Vec::new(), |g| g.peers.clone())))
                        })
                        .collect();
                    let v = StreamView {
                        config: sa.config_json.get().to_string(),
                        group: g.map_or(String::new(), |g| g.name.clone()),
                        peers: g.map_or(Vec::new(), |g| g.peers.clone()),
                        created: sa.created.0.clone(),
                        sync: sa.sync.clone(),
                        consumers,
                    };
                    (name.clone(), v)
                })
                .collect();
            (acc.clone(), inner)
        })
        .collect()
}

/// One proposal.
#[derive(Debug, Clone)]
enum Op {
    AddStream(StreamAssignment),
    UpdateStream(StreamAssignment),
    RemoveStream(StreamAssignment),
    AddConsumer(ConsumerAssignment),
    RemoveConsumer(ConsumerAssignment),
}

// The model: what the assignment maps must end up as.
#[derive(Debug, Default)]
struct Model {
    streams: StreamMap,
}

impl Model {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::AddStream(sa) => {
                let asa = self.streams.entry(sa.account().to_string()).or_default();
                let mut sa = sa.clone();
                if let Some(old) = asa.get(sa.name()) {
                    sa.consumers = old.consumers.clone();
                }
                asa.insert(sa.name().to_string(), sa);
            }
            Op::UpdateStream(sa) => {
                if let Some(old) = self.streams.get_mut(sa.account()).and_then(|a| a.get_mut(sa.name())) {
                    let consumers = std::mem::take(&mut old.consumers);
                    *old = sa.clone();
                    old.consumers = consumers;
                }
            }
            Op::RemoveStream(sa) => {
                if let Some(asa) = self.streams.get_mut(sa.account()) {
                    asa.remove(sa.name());
                }
            }
            Op::AddConsumer(ca) => {
                if let Some(sa) = self.streams.get_mut(ca.account()).and_then(|a| a.get_mut(&ca.stream)) {
                    sa.consumers.insert(ca.name.clone(), ca.clone());
                }
            }
            Op::RemoveConsumer(ca) => {
                if let Some(sa) = self.streams.get_mut(ca.account()).and_then(|a| a.get_mut(&ca.stream)) {
                    let same = sa.consumers.get(&ca.name).is_some_and(|o| o.group.as_ref().map(|g| &g.name) == ca.group.as_ref().map(|g| &g.name));
                    if same {
                        sa.consumers.remove(&ca.name);
                    }
                }
            }
        }
    }

    // Whether `streams` shows the effect of `op` (used on the leader, one
    // op at a time).
    fn shows(streams: &StreamMap, op: &Op) -> bool {
        let stream = |acc: &str, name: &str| streams.get(acc).and_then(|a| a.get(name));
        match op {
            Op::AddStream(sa) | Op::UpdateStream(sa) => stream(sa.account(), sa.name()).is_some_and(|s| s.config_json.get() == encoded_config(sa)),
            Op::RemoveStream(sa) => stream(sa.account(), sa.name()).is_none(),
            Op::AddConsumer(ca) => stream(ca.account(), &ca.stream)
                .and_then(|s| s.consumers.get(&ca.name))
                .is_some_and(|c| c.group.as_ref().map(|g| &g.name) == ca.group.as_ref().map(|g| &g.name)),
            Op::RemoveConsumer(ca) => stream(ca.account(), &ca.stream).is_none_or(|s| !s.consumers.contains_key(&ca.name)),
        }
    }
}

fn op_summary(op: &Op) -> String {
    let g = |g: &Option<RaftGroup>| g.as_ref().map_or(String::new(), |g| g.name.clone());
    match op {
        Op::AddStream(sa) => format!("add stream {}>{} {}", sa.account(), sa.name(), g(&sa.group)),
        Op::UpdateStream(sa) => format!("update stream {}>{} {}", sa.account(), sa.name(), g(&sa.group)),
        Op::RemoveStream(sa) => format!("remove stream {}>{}", sa.account(), sa.name()),
        Op::AddConsumer(ca) => format!("add consumer {}>{}>{} {}", ca.account(), ca.stream, ca.name, g(&ca.group)),
        Op::RemoveConsumer(ca) => format!("remove consumer {}>{}>{} {}", ca.account(), ca.stream, ca.name, g(&ca.group)),
    }
}

/// The config as a proposal carries it (Go's `json.Marshal` of it).
fn encoded_config(sa: &StreamAssignment) -> String {
    crate::go_json::to_string(&sa.config).unwrap_or_default()
}

fn err(c: &JsCluster, what: String) -> String {
    format!("seed {} at {:.3}s: {what}", c.seed, c.world.now.get() as f64 / 1e9)
}

// The server whose view decides: the meta leader, when its node leads.
fn leader_with_node(c: &JsCluster) -> Option<usize> {
    let l = c.leader()?;
    c.servers[l].js.as_ref()?.get_meta_group().filter(|m| m.leader()).map(|_| l)
}

fn streams_of(c: &JsCluster, i: usize) -> StreamMap {
    c.servers[i].js.as_ref().and_then(|js| js.st.borrow().cluster.as_ref().map(|cc| cc.streams.clone())).unwrap_or_default()
}

/// The leader, once every running server has applied all the leader has
/// committed, left recovery and holds the same maps.
pub fn settled(c: &JsCluster) -> Option<usize> {
    let l = leader_with_node(c)?;
    let (_, commit, lapplied) = c.servers[l].js.as_ref()?.get_meta_group()?.progress();
    if lapplied < commit {
        return None;
    }
    let want = view(&streams_of(c, l));
    for (i, s) in c.servers.iter().enumerate() {
        if !s.running() {
            continue;
        }
        let m = s.monitor.as_ref()?;
        if m.recovering() || m.exited() {
            return None;
        }
        let (_, _, applied) = s.js.as_ref()?.get_meta_group()?.progress();
        if applied < commit || (i != l && view(&streams_of(c, i)) != want) {
            return None;
        }
    }
    Some(l)
}

/// One line per server: leadership, raft progress, monitor state, map size.
pub fn describe(c: &JsCluster) -> String {
    let mut out = Vec::new();
    for (i, s) in c.servers.iter().enumerate() {
        let Some(js) = s.js.as_ref() else {
            out.push(format!("  {} down", s.cfg.name));
            continue;
        };
        let node = js.get_meta_group();
        let line = format!(
            "  {} meta_leader={} node={:?} term={:?} leader={:?} progress={:?} monitor(recovering={:?} exited={:?}) streams={}",
            s.cfg.name,
            c.srv(i).is_meta_leader(),
            node.as_ref().map(|n| n.state()),
            node.as_ref().map(|n| n.term()),
            node.as_ref().map(|n| n.group_leader()),
            node.as_ref().map(|n| n.progress()),
            s.monitor.as_ref().map(|m| m.recovering()),
            s.monitor.as_ref().map(|m| m.exited()),
            view(&streams_of(c, i)).values().map(|a| a.len()).sum::<usize>(),
        );
        out.push(line);
    }
    if let Some(l) = c.leader() {
        let want = view(&streams_of(c, l));
        for (i, s) in c.servers.iter().enumerate() {
            if s.running() && i != l {
                let got = view(&streams_of(c, i));
                if got != want {
                    out.push(format!("  {} differs from the leader:\n   got {got:?}\n  want {want:?}", s.cfg.name));
                }
            }
        }
    }
    out.join("\n")
}

// Heal, restart everything stopped and wait until the cluster agrees.
fn stabilize(c: &mut JsCluster) -> Result<usize, String> {
    c.heal();
    for i in 0..c.servers.len() {
        if !c.servers[i].running() {
            c.restart_server(i);
        }
    }
    // Comparing every server's maps is costly: look every 100ms.
    let agreed = |c: &mut JsCluster| if settled(c).is_some() { Ok(()) } else { Err(String::new()) };
    if c.check_for(Duration::from_secs(120), Duration::from_millis(100), agreed).is_ok() {
        settled(c).ok_or_else(|| err(c, "settled and then not".into()))
    } else {
        Err(err(c, format!("the cluster did not settle within 120s after healing:\n{}", describe(c))))
    }
}

struct Gen<'a> {
    rng: &'a mut SimRng,
    nonce: u64,
}

impl Gen<'_> {
    fn nonce(&mut self) -> u64 {
        self.nonce += 1;
        self.nonce
    }

    fn pick<'b, T>(&mut self, v: &'b [T]) -> Option<&'b T> {
        (!v.is_empty()).then(|| &v[self.rng.index(v.len())])
    }

    fn peers(&mut self, nodes: &[String], r: usize) -> Vec<String> {
        let mut all = nodes.to_vec();
        for i in (1..all.len()).rev() {
            let j = self.rng.index(i + 1);
            all.swap(i, j);
        }
        all.truncate(r);
        all
    }

    fn stream(&mut self, c: &JsCluster, l: usize, acc: &str, name: &str, created: GoTime) -> StreamAssignment {
        let nodes: Vec<String> = c.servers.iter().map(|s| crate::sim::cluster::server_hash(&s.cfg.name)).collect();
        let r = if nodes.len() >= 3 && self.rng.chance(0.6) { 3 } else { 1 };
        let n = self.nonce();
        let mut cfg = StreamConfig { name: name.to_string(), replicas: r as i64, ..Default::default() };
        cfg.extra.insert("description".into(), format!("v{n}").into());
        cfg.extra.insert("subjects".into(), serde_json::json!([format!("{name}.>")]));
        cfg.extra.insert("storage".into(), "file".into());
        let mut group = RaftGroup {
            name: format!("S-R{r}F-{n:08}"),
            peers: self.peers(&nodes, r),
            storage: StorageType::File,
            cluster: c.name.clone(),
            ..Default::default()
        };
        RaftGroup::set_preferred(Some(&mut group), c.srv(l));
        let mut sa = StreamAssignment {
            client: Some(ClientInfo { account: acc.to_string(), cluster: c.name.clone(), ..Default::default() }),
            created,
            config: Some(cfg),
            group: Some(group),
            sync: sync_subj_for_stream(c.srv(l)),
            ..Default::default()
        };
        sa.config_json = crate::go_json::to_raw_value(&sa.config).unwrap_or_else(|_| unreachable!("a config encodes"));
        sa
    }

    fn consumer(&mut self, c: &JsCluster, sa: &StreamAssignment, name: &str, created: GoTime) -> ConsumerAssignment {
        let n = self.nonce();
        let peers = sa.group.as_ref().map(|g| g.peers.clone()).unwrap_or_default();
        let cfg = ConsumerConfig { durable: name.to_string(), replicas: peers.len() as i64, ..Default::default() };
        let config_json = crate::go_json::to_raw_value(&cfg).unwrap_or_else(|_| unreachable!("a config encodes"));
        ConsumerAssignment {
            config_json,
            client: sa.client.clone(),
            created,
            name: name.to_string(),
            stream: sa.name().to_string(),
            config: Some(cfg),
            group: Some(RaftGroup { name: format!("C-R{}F-{n:08}", peers.len()), peers, storage: StorageType::File, cluster: c.name.clone(), ..Default::default() }),
            ..Default::default()
        }
    }

    // A proposal that makes sense against the model.
    fn op(&mut self, c: &JsCluster, l: usize, model: &Model) -> Op {
        let created = GoTime::from_unix_nanos(c.srv(l).unix_nanos());
        let existing: Vec<StreamAssignment> = model.streams.values().flat_map(|a| a.values().cloned()).collect();
        let with_consumers: Vec<StreamAssignment> = existing.iter().filter(|s| !s.consumers.is_empty()).cloned().collect();
        let roll = self.rng.below(100);
        if existing.is_empty() || roll < 35 {
            // A create for a name the model does not hold: a stream that
            // exists changes through an update. At 8188ea93a a re-add staged
            // after an update is applied before it on replay (upstream fixed
            // that later, in 074c74bd5); see
            // jetstream_cluster::apply::tests::replay_applies_a_staged_add_before_an_earlier_update.
            let acc = *self.pick(SCENARIO_ACCOUNTS).unwrap_or(&GLOBAL_ACCOUNT);
            let free: Vec<String> = (0..8).map(|i| format!("S{i}")).filter(|n| model.streams.get(acc).is_none_or(|a| !a.contains_key(n))).collect();
            if let Some(name) = self.pick(&free).cloned() {
                return Op::AddStream(self.stream(c, l, acc, &name, created));
            }
        }
        if existing.is_empty() {
            let name = format!("S{}", self.rng.below(8));
            return Op::AddStream(self.stream(c, l, GLOBAL_ACCOUNT, &name, created));
        }
        let Some(sa) = self.pick(&existing).cloned() else { unreachable!("existing is not empty") };
        if roll < 50 {
            let mut nsa = self.stream(c, l, sa.account(), sa.name(), sa.created.clone());
            nsa.sync = sa.sync.clone();
            return Op::UpdateStream(nsa);
        }
        if roll < 62 {
            return Op::RemoveStream(sa);
        }
        if roll < 85 || with_consumers.is_empty() {
            // Consumer names are never reused: upstream's catch-up staging
            // leaves a stale consumer when one is recreated in a new group
            // and removed again while a server catches up (see
            // jetstream_cluster::apply::tests::catchup_keeps_a_stale_consumer_recreated_and_removed_in_between).
            let name = format!("C{}", self.nonce + 1);
            return Op::AddConsumer(self.consumer(c, &sa, &name, created));
        }
        let Some(sa) = self.pick(&with_consumers).cloned() else { unreachable!("with_consumers is not empty") };
        let cas: Vec<ConsumerAssignment> = sa.consumers.values().cloned().collect();
        let Some(ca) = self.pick(&cas).cloned() else { unreachable!("a stream with consumers") };
        Op::RemoveConsumer(ca)
    }
}

// Proposes `op` at server `l`'s meta node and tracks it as in flight.
fn propose(c: &JsCluster, l: usize, op: &Op) -> bool {
    let Some(js) = c.servers[l].js.as_ref() else { return false };
    let Some(meta) = js.get_meta_group() else { return false };
    let (buf, track) = match op {
        Op::AddStream(sa) => (encode_add_stream_assignment(sa), Some((sa, false))),
        Op::UpdateStream(sa) => (encode_update_stream_assignment(sa), Some((sa, false))),
        Op::RemoveStream(sa) => (encode_delete_stream_assignment(sa), Some((sa, true))),
        Op::AddConsumer(ca) => (encode_add_consumer_assignment(ca), None),
        Op::RemoveConsumer(ca) => (encode_delete_consumer_assignment(ca), None),
    };
    let Ok(buf) = buf else { return false };
    if meta.propose(&buf).is_err() {
        return false;
    }
    let mut st = js.st.borrow_mut();
    let Some(cc) = st.cluster.as_mut() else { return true };
    match (track, op) {
        (Some((sa, deleted)), _) => cc.track_inflight_stream_proposal(sa.account(), sa, deleted),
        (None, Op::AddConsumer(ca)) => cc.track_inflight_consumer_proposal(ca.account(), &ca.stream, ca, false),
        (None, Op::RemoveConsumer(ca)) => cc.track_inflight_consumer_proposal(ca.account(), &ca.stream, ca, true),
        _ => {}
    }
    true
}

// One fault, drawn from the RNG.
fn fault(c: &mut JsCluster, rng: &mut SimRng, report: &mut ScenarioReport) {
    let n = c.servers.len();
    let running: Vec<usize> = (0..n).filter(|&i| c.servers[i].running()).collect();
    let stopped: Vec<usize> = (0..n).filter(|&i| !c.servers[i].running()).collect();
    match rng.below(100) {
        0..=29 if running.len() > 1 => {
            let i = running[rng.index(running.len())];
            c.kill_server(i);
            report.kills += 1;
        }
        30..=44 if running.len() > 1 => {
            let i = running[rng.index(running.len())];
            c.shutdown_server(i);
            report.shutdowns += 1;
        }
        45..=69 if !stopped.is_empty() => {
            let i = stopped[rng.index(stopped.len())];
            c.restart_server(i);
            report.restarts += 1;
        }
        70..=89 => {
            let mut a = Vec::new();
            let mut b = Vec::new();
            for i in 0..n {
                if rng.chance(0.5) { a.push(i) } else { b.push(i) }
            }
            c.partition(&[a, b]);
            report.partitions += 1;
        }
        _ => c.heal(),
    }
}

/// Runs one seeded scenario; `Err` carries the seed and what failed.
pub fn run_meta_scenario(seed: u64, cfg: &ScenarioConfig) -> Result<ScenarioReport, String> {
    let mut c = JsCluster::create_jet_stream_cluster_with("JSC", cfg.servers, seed, |c| c.accounts = vec!["ACME".into()]);
    let mut rng = SimRng::new(seed ^ 0x5eed_0f_5ce4a810);
    let mut gen_rng = SimRng::new(seed.rotate_left(17) ^ 0x0b5e_55ed);
    let mut gen = Gen { rng: &mut gen_rng, nonce: 0 };
    let mut model = Model::default();
    let mut report = ScenarioReport::default();

    let trace = std::env::var("JS_SIM_TRACE").is_ok_and(|v| v == "1");
    let mut done = 0;
    let mut turns = 0;
    let mut leaderless = 0;
    while done < cfg.ops {
        turns += 1;
        if turns > cfg.ops * 20 {
            return Err(err(&c, format!("only {done} of {} proposals made in {turns} turns:\n{}", cfg.ops, describe(&c))));
        }
        if rng.chance(cfg.fault_rate) {
            fault(&mut c, &mut rng, &mut report);
            if trace {
                eprintln!("[{:.3}s] fault -> running {:?} cuts {:?}", c.world.now.get() as f64 / 1e9, (0..c.servers.len()).filter(|&i| c.servers[i].running()).collect::<Vec<_>>(), c.bus.borrow().cuts());
            }
            let d = Duration::from_millis(rng.range(100, 3000));
            c.run_for(d);
            continue;
        }
        let Some(l) = leader_with_node(&c) else {
            leaderless += 1;
            if leaderless >= 10 {
                // Faults keep quorum away: heal and restart (this also checks
                // the cluster comes back).
                stabilize(&mut c)?;
                leaderless = 0;
            } else {
                c.run_for(Duration::from_millis(500));
            }
            continue;
        };
        leaderless = 0;
        let op = gen.op(&c, l, &model);
        if !propose(&c, l, &op) {
            c.run_for(Duration::from_millis(200));
            continue;
        }
        done += 1;
        if trace {
            eprintln!("[{:.3}s] propose at S-{} {}", c.world.now.get() as f64 / 1e9, l + 1, op_summary(&op));
        }
        let seen = c.run_until(Duration::from_secs(3), |c| c.servers[l].js.as_ref().is_some_and(|js| js.st.borrow().cluster.as_ref().is_some_and(|cc| Model::shows(&cc.streams, &op))));
        if seen {
            model.apply(&op);
            report.applied += 1;
            continue;
        }
        // Unclear: settle it once the cluster agrees again.
        let l = stabilize(&mut c)?;
        report.settled += 1;
        let took = Model::shows(&streams_of(&c, l), &op);
        if took {
            model.apply(&op);
            report.settled_applied += 1;
        }
        if trace {
            eprintln!("[{:.3}s] settled: took effect {took}", c.world.now.get() as f64 / 1e9);
        }
    }

    let l = stabilize(&mut c)?;
    // The orphan check runs 30s after a server recovered.
    c.run_for(Duration::from_secs(35));
    let l = settled(&c).unwrap_or(l);
    let want = view(&model.streams);
    for i in 0..c.servers.len() {
        let got = view(&streams_of(&c, i));
        if got != want {
            return Err(err(&c, format!("server {} maps differ from the model:\n got {got:?}\nwant {want:?}", c.servers[i].cfg.name)));
        }
    }
    if let Some(cc) = c.servers[l].js.as_ref().and_then(|js| js.st.borrow().cluster.clone()) {
        if !cc.inflight_streams.is_empty() || !cc.inflight_consumers.is_empty() {
            return Err(err(&c, format!("in-flight proposals left on the leader: {:?} {:?}", cc.inflight_streams, cc.inflight_consumers)));
        }
    }
    // Every server runs the streams whose group it is in, and none assigned
    // elsewhere. A stream with no assignment at all may linger: upstream's
    // orphan sweep runs once, 30s after recovery, and only when healthy.
    for i in 0..c.servers.len() {
        let node = c.core(i).node.clone();
        let member = |acc: &str, name: &str| -> Option<bool> {
            let sa = model.streams.get(acc)?.get(name)?;
            Some(RaftGroup::is_member(sa.group.as_ref(), &node))
        };
        let running = c.servers[i].runtime.running_streams();
        for (acc, name) in &running {
            match member(acc, name) {
                Some(false) => return Err(err(&c, format!("server {} runs {acc} > {name}, assigned elsewhere", c.servers[i].cfg.name))),
                Some(true) => {}
                None => report.orphans += 1,
            }
        }
        for (acc, asa) in &model.streams {
            if !c.srv(i).lookup_account(acc) {
                continue;
            }
            for name in asa.keys() {
                if member(acc, name) == Some(true) && !running.iter().any(|(a, n)| a == acc && n == name) {
                    return Err(err(&c, format!("server {} does not run {acc} > {name} of its group", c.servers[i].cfg.name)));
                }
            }
        }
    }
    report.streams = model.streams.values().map(|a| a.len()).sum();
    report.consumers = model.streams.values().flat_map(|a| a.values()).map(|s| s.consumers.len()).sum();
    report.sim_secs = c.world.now.get() as f64 / 1e9;
    report.digest = c.event_digest();
    Ok(report)
}
