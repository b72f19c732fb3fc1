//! Stream helpers on the simulated cluster: add a stream through the meta
//! leader (standing in for `js.AddStream`, whose API side is not ported),
//! find its leader, publish and wait for the PubAck, read replica state.

use std::time::Duration;

use ported::jetstream_cluster::assignments::{ClientInfo, GoTime, RaftGroup, StorageType, StreamAssignment};
use ported::jetstream_cluster::config::StreamConfig;
use ported::jetstream_cluster::leader::sync_subj_for_stream;
use ported::jetstream_cluster::ops::{encode_add_stream_assignment, encode_delete_stream_assignment};
use ported::jetstream_cluster::streams::HostedStream;
use ported::sim::js::JsCluster;
use ported::store::{StreamState, StreamStore};

/// A cluster of `n` servers running the stream layer.
pub fn stream_cluster(name: &str, n: usize, seed: u64) -> JsCluster {
    JsCluster::create_jet_stream_cluster_with(name, n, seed, |c| c.stream_layer = true)
}

/// The assignment upstream's meta leader would propose for
/// `&nats.StreamConfig{Name, Subjects, Replicas}` in memory, with the
/// peers given (indexes of servers).
pub fn assignment(c: &JsCluster, meta: usize, acc: &str, name: &str, subjects: &[&str], peers: &[usize]) -> StreamAssignment {
    let mut cfg = StreamConfig { name: name.into(), replicas: peers.len() as i64, ..Default::default() };
    cfg.extra.insert("subjects".into(), serde_json::json!(subjects));
    cfg.extra.insert("storage".into(), serde_json::json!("memory"));
    let mut group = RaftGroup {
        name: format!("S-R{}M-{name}{:04x}", peers.len(), c.world.rng.borrow_mut().next_u64() & 0xffff),
        peers: peers.iter().map(|&i| c.core(i).node.clone()).collect(),
        storage: StorageType::Memory,
        cluster: c.name.clone(),
        ..Default::default()
    };
    RaftGroup::set_preferred(Some(&mut group), c.srv(meta));
    let mut sa = StreamAssignment {
        client: Some(ClientInfo { account: acc.into(), cluster: c.name.clone(), ..Default::default() }),
        created: GoTime::from_unix_nanos(c.srv(meta).unix_nanos()),
        config: Some(cfg),
        group: Some(group),
        sync: sync_subj_for_stream(c.srv(meta)),
        ..Default::default()
    };
    sa.config_json = serde_json::value::to_raw_value(&sa.config).expect("a config encodes");
    sa
}

/// A copy of `sa` with its configuration changed by `change` and its
/// stored config JSON encoded again, as the meta leader proposes an update.
pub fn reconfigured(sa: &StreamAssignment, change: impl FnOnce(&mut StreamConfig)) -> StreamAssignment {
    let mut nsa = sa.clone();
    if let Some(cfg) = nsa.config.as_mut() {
        change(cfg);
    }
    nsa.config_json = serde_json::value::to_raw_value(&nsa.config).expect("a config encodes");
    nsa
}

/// Proposes `sa` to the meta leader and waits until the stream has a leader.
pub fn add_stream(c: &mut JsCluster, sa: &StreamAssignment) -> Result<usize, String> {
    let meta = c.wait_on_leader()?;
    let entry = encode_add_stream_assignment(sa).map_err(|e| e.to_string())?;
    c.propose(meta, &entry).map_err(|e| e.to_string())?;
    let (acc, name) = (sa.account().to_string(), sa.name().to_string());
    let ok = c.run_until(Duration::from_secs(10), |c| stream_leader(c, &acc, &name).is_some());
    stream_leader(c, &acc, &name).filter(|_| ok).ok_or_else(|| format!("no leader for stream {name}"))
}

/// Proposes the removal of `sa` and waits until no server hosts it.
pub fn delete_stream(c: &mut JsCluster, sa: &StreamAssignment) -> Result<(), String> {
    let meta = c.wait_on_leader()?;
    let entry = encode_delete_stream_assignment(sa).map_err(|e| e.to_string())?;
    c.propose(meta, &entry).map_err(|e| e.to_string())?;
    let (acc, name) = (sa.account().to_string(), sa.name().to_string());
    if c.run_until(Duration::from_secs(10), |c| (0..c.servers.len()).all(|i| hosted(c, i, &acc, &name).is_none())) {
        Ok(())
    } else {
        Err(format!("stream {name} still hosted"))
    }
}

/// The stream as server `i` hosts it.
pub fn hosted(c: &JsCluster, i: usize, acc: &str, name: &str) -> Option<std::rc::Rc<HostedStream>> {
    c.servers[i].streams.as_ref()?.get(acc, name)
}

/// The running server whose replica leads the stream.
pub fn stream_leader(c: &JsCluster, acc: &str, name: &str) -> Option<usize> {
    (0..c.servers.len()).find(|&i| c.servers[i].running() && hosted(c, i, acc, name).is_some_and(|h| h.is_leader.get()))
}

/// Server `i`'s replica state.
pub fn replica_state(c: &JsCluster, i: usize, acc: &str, name: &str) -> Option<StreamState> {
    let h = hosted(c, i, acc, name)?;
    let mut cs = h.cs.borrow_mut();
    Some(cs.store.state())
}

/// Publishes from client `cl` and waits for the PubAck: the stored
/// sequence, or the error JSON.
pub fn publish(c: &mut JsCluster, cl: usize, subject: &str, data: &[u8]) -> Result<u64, String> {
    let reply = c.request(cl, subject, data, Duration::from_secs(2)).ok_or("no PubAck")?;
    let v: serde_json::Value = serde_json::from_slice(&reply.data).map_err(|e| e.to_string())?;
    if v.get("error").is_some() {
        return Err(v.to_string());
    }
    v["seq"].as_u64().ok_or_else(|| v.to_string())
}

/// Waits until every running replica of the stream has the same state.
pub fn wait_replicas_equal(c: &mut JsCluster, acc: &str, name: &str, members: &[usize], budget: Duration) -> Result<StreamState, String> {
    let eq = |c: &mut JsCluster| {
        let states: Vec<Option<StreamState>> = members.iter().filter(|&&i| c.servers[i].running()).map(|&i| replica_state(c, i, acc, name)).collect();
        states.iter().all(|s| s.is_some()) && states.windows(2).all(|w| w[0] == w[1])
    };
    if c.run_until(budget, eq) {
        let i = *members.iter().find(|&&i| c.servers[i].running()).ok_or("no replica runs")?;
        replica_state(c, i, acc, name).ok_or_else(|| "gone".into())
    } else {
        let states: Vec<String> = members.iter().map(|&i| format!("{i}: {:?}", replica_state(c, i, acc, name).map(|s| (s.msgs, s.first_seq, s.last_seq)))).collect();
        Err(format!("replicas differ: {}", states.join(", ")))
    }
}

/// The keys of a JSON object in the order they were written.
pub fn top_level_keys(json: &[u8]) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Keys, A::Error> {
                    let mut k = Vec::new();
                    while let Some((key, _)) = a.next_entry::<String, serde::de::IgnoredAny>()? {
                        k.push(key);
                    }
                    Ok(Keys(k))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Keys>(json).expect("a JSON object").0
}

/// `js.AddStream(cfg)` (or `js.UpdateStream(cfg)` with `update`) from
/// client `cl`. The API handler of `jetstream_api.go` is not ported, so the
/// meta leader's request function is called directly, with the client's
/// info and an inbox the client listens on; the answer (the stream info,
/// or the API error) is waited for as nats.go does, for its default 5 s.
pub fn stream_request(c: &mut JsCluster, cl: usize, cfg: &StreamConfig, update: bool) -> Result<serde_json::Value, String> {
    let meta = c.wait_on_leader()?;
    let inbox = format!("_INBOX.{:016x}", c.world.rng.borrow_mut().next_u64());
    c.subscribe(cl, &inbox);
    c.clients[cl].msgs.clear();
    let acc = c.clients[cl].account.clone();
    let ci = ClientInfo { account: acc.clone(), server: c.servers[c.clients[cl].server].cfg.name.clone(), cluster: c.name.clone(), ..Default::default() };
    let subject = format!("$JS.API.STREAM.{}.{}", if update { "UPDATE" } else { "CREATE" }, cfg.name);
    let rmsg = serde_json::to_vec(cfg).map_err(|e| e.to_string())?;
    let js = c.js(meta).clone();
    if update {
        js.js_clustered_stream_update_request(&ci, &acc, &subject, &inbox, &rmsg, cfg, &[]);
    } else {
        js.js_clustered_stream_request(&ci, &acc, &subject, &inbox, &rmsg, cfg);
    }
    c.run_until(Duration::from_secs(5), |c| c.clients[cl].msgs.iter().any(|m| m.subject == inbox));
    let pos = c.clients[cl].msgs.iter().position(|m| m.subject == inbox).ok_or("context deadline exceeded")?;
    let reply = c.clients[cl].msgs.remove(pos).ok_or("no reply")?;
    let v: serde_json::Value = serde_json::from_slice(&reply.data).map_err(|e| e.to_string())?;
    match v.get("error") {
        Some(e) => Err(e.to_string()),
        None => Ok(v),
    }
}

/// `&nats.StreamConfig{Name, Subjects, Replicas}` as nats.go sends it
/// (its zero storage and retention written out).
pub fn nats_stream_config(name: &str, subjects: &[&str], replicas: i64) -> StreamConfig {
    let mut cfg = StreamConfig { name: name.into(), replicas, ..Default::default() };
    cfg.extra.insert("subjects".into(), serde_json::json!(subjects));
    cfg.extra.insert("retention".into(), serde_json::json!("limits"));
    cfg.extra.insert("storage".into(), serde_json::json!("file"));
    cfg
}
