//! Where the meta leader places a stream (`server/jetstream_cluster.go` at
//! 8188ea93a): the peer selection of `selectPeerGroup` with its cluster,
//! tag, offline, storage, HA-asset and unique-tag filters, the reasons it
//! reports when it cannot place (`selectPeerError`), the new group of
//! `createGroupForStream`, and the group names (`groupName`).
//!
//! What a peer offers comes from the server's `nodeToInfo` registry: its
//! cluster and tags, and the JetStream config and stats of its last statsz
//! (`max_memory`/`max_storage`, `memory`/`storage`,
//! `reserved_memory`/`reserved_storage`, `ha_assets`), read by their JSON
//! names. Randomness (the peer shuffle, the group name's nuid) comes from
//! the server ([`ServerEnv::rand_u64`]), which the simulator seeds.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sha2::{Digest, Sha256};

use super::assignments::{ClientInfo, RaftGroup, StorageType};
use super::config::StreamConfig;
use super::js::JetStreamCtx;
use super::server::{NodeInfo, ServerEnv};
use crate::raft::env::LogLevel;

/// Go: `jsExcludePlacement`, the tag that keeps a server out of placement.
pub const JS_EXCLUDE_PLACEMENT: &str = "!jetstream";

/// Port of getHash
///
/// Eight characters for `name`: each of the first 8 bytes of its SHA-256
/// picks one of 62 alphanumeric digits. Node ids and group names use it.
pub fn get_hash(name: &str) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let d = Sha256::digest(name.as_bytes());
    d[..8].iter().map(|&b| DIGITS[(b % 62) as usize] as char).collect()
}

/// Go's `rand.Shuffle` (Fisher-Yates) from the server's random source.
pub fn shuffle(s: &dyn ServerEnv, v: &mut [String]) {
    for i in (1..v.len()).rev() {
        let j = (s.rand_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Go's `StorageType.String()` initial: `F` for file, `M` for memory.
fn storage_initial(st: StorageType) -> char {
    match st {
        StorageType::File => 'F',
        StorageType::Memory => 'M',
    }
}

/// Port of groupName
///
/// `<prefix>-R<peers><F|M>-<hash of a fresh nuid>`. The nuid comes from
/// the server's random source (upstream's `nuid.Next()`).
pub fn group_name(s: &dyn ServerEnv, prefix: &str, peers: &[String], storage: StorageType) -> String {
    format!("{prefix}-R{}{}-{}", peers.len(), storage_initial(storage), get_hash(&s.nuid()))
}

/// Port of groupNameForStream
pub fn group_name_for_stream(s: &dyn ServerEnv, peers: &[String], storage: StorageType) -> String {
    group_name(s, "S", peers, storage)
}

/// Port of groupNameForConsumer
pub fn group_name_for_consumer(s: &dyn ServerEnv, peers: &[String], storage: StorageType) -> String {
    group_name(s, "C", peers, storage)
}

/// Why peers could not be selected (Go: `selectPeerError`). The tag sets
/// are Go maps, written in random order; here they are sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectPeerError {
    pub exclude_tag: bool,
    pub offline: bool,
    pub no_storage: bool,
    pub unique_tag: bool,
    pub misc: bool,
    pub no_js_clust: bool,
    pub no_match_tags: BTreeSet<String>,
    pub exclude_tags: BTreeSet<String>,
}

impl fmt::Display for SelectPeerError {
    /// Go's `(*selectPeerError).Error`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no suitable peers for placement")?;
        for (set, why) in [
            (self.offline, "peer offline"),
            (self.exclude_tag, "exclude tag set"),
            (self.no_storage, "insufficient storage"),
            (self.unique_tag, "server tag not unique"),
            (self.misc, "miscellaneous issue"),
            (self.no_js_clust, "jetstream not enabled in cluster"),
        ] {
            if set {
                write!(f, ", {why}")?;
            }
        }
        let list = |tags: &BTreeSet<String>| tags.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
        if !self.no_match_tags.is_empty() {
            write!(f, ", tags not matched [{}]", list(&self.no_match_tags))?;
        }
        if !self.exclude_tags.is_empty() {
            write!(f, ", tags excluded [{}]", list(&self.exclude_tags))?;
        }
        Ok(())
    }
}

impl std::error::Error for SelectPeerError {}

impl SelectPeerError {
    /// Port of (*selectPeerError).accumulate
    ///
    /// Keeps every reason either error has.
    pub fn accumulate(&mut self, add: Option<&SelectPeerError>) {
        let Some(add) = add else { return };
        self.offline |= add.offline;
        self.exclude_tag |= add.exclude_tag;
        self.no_storage |= add.no_storage;
        self.unique_tag |= add.unique_tag;
        self.misc |= add.misc;
        self.no_js_clust |= add.no_js_clust;
        self.no_match_tags.extend(add.no_match_tags.iter().cloned());
        self.exclude_tags.extend(add.exclude_tags.iter().cloned());
    }
}

/// Go: `Placement` of a stream config, as far as placement reads it.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct Placement {
    #[serde(default)]
    pub cluster: String,
    #[serde(default, deserialize_with = "super::assignments::null_default")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub preferred: String,
}

/// The config's `placement`, if set and well formed.
pub fn placement_of(cfg: &StreamConfig) -> Option<Placement> {
    cfg.extra.get("placement").filter(|v| !v.is_null()).and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The config's storage type (Go's zero value is file).
pub fn storage_of(cfg: &StreamConfig) -> StorageType {
    cfg.extra.get("storage").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default()
}

/// The config's `max_bytes` (0 when unset; -1 is unlimited upstream).
pub fn max_bytes_of(cfg: &StreamConfig) -> i64 {
    cfg.extra.get("max_bytes").and_then(|v| v.as_i64()).unwrap_or(0)
}

/// Go's `TagList.Contains`: the tag compared lower-cased and trimmed
/// (tags are stored lower-cased).
fn tags_contain(tags: &[String], t: &str) -> bool {
    let t = t.trim().to_lowercase();
    tags.iter().any(|x| *x == t)
}

/// What a statsz says, read by its JSON name (0 when missing).
fn stat(v: Option<&serde_json::Value>, key: &str) -> u64 {
    v.and_then(|v| v.get(key)).and_then(|x| x.as_u64()).unwrap_or(0)
}
fn cfg_i64(v: Option<&serde_json::Value>, key: &str) -> i64 {
    v.and_then(|v| v.get(key)).and_then(|x| x.as_i64()).unwrap_or(0)
}

/// The storage of `storage` kind a peer has left (0 when unknown).
fn available(ni: &NodeInfo, storage: StorageType) -> u64 {
    let (st, cfg) = (ni.stats.as_ref(), ni.cfg.as_ref());
    let (used_key, reserved_key, max_key) = match storage {
        StorageType::Memory => ("memory", "reserved_memory", "max_memory"),
        StorageType::File => ("storage", "reserved_storage", "max_storage"),
    };
    let used = stat(st, reserved_key).max(stat(st, used_key));
    let max = cfg_i64(cfg, max_key);
    if max > used as i64 {
        max as u64 - used
    } else {
        0
    }
}

/// One candidate peer (Go: `wn`).
struct Candidate {
    id: String,
    avail: u64,
    off: bool,
    ha: usize,
    ns: usize,
}

impl JetStreamCtx {
    /// Port of (*jetStreamCluster).selectPeerGroup
    ///
    /// Picks `r` peers of the meta group in `cluster` for `cfg`: keeps
    /// `existing` (all of it, or its first `r` when it already has that
    /// many) and adds peers that are not in `ignore`, have been heard from
    /// (config and stats in their statsz), are not excluded by the
    /// `!jetstream` tag or the placement tags, have room for `max_bytes`,
    /// are under the `MaxHAAssets` limit and hold a unique value of the
    /// unique-tag prefix (the first `replace_first_existing` existing peers
    /// do not claim theirs). Online peers come first, then the most
    /// available storage, then the fewest streams; replicated streams are
    /// then ordered (stably) by fewest HA assets. Fails when too few peers
    /// fit or too few are online for a quorum.
    ///
    /// The meta peers are shuffled with the server's random source.
    /// Upstream logs each discarded peer at debug level; only the
    /// storage and HA-asset discards, which upstream warns about, are
    /// logged here.
    pub fn select_peer_group(
        &self,
        r: usize,
        cluster: &str,
        cfg: Option<&StreamConfig>,
        existing: &[String],
        replace_first_existing: usize,
        ignore: &[String],
    ) -> Result<Vec<String>, SelectPeerError> {
        let s = &*self.srv;
        let (Some(cfg), false) = (cfg, cluster.is_empty()) else {
            return Err(SelectPeerError { misc: true, ..Default::default() });
        };
        let max_bytes = max_bytes_of(cfg).max(0) as u64;
        let placement = placement_of(cfg);
        // (tag, exclude)
        let ti: Vec<(String, bool)> = placement
            .as_ref()
            .map(|p| p.tags.iter().map(|t| (t.strip_prefix('!').unwrap_or(t).to_string(), t.starts_with('!'))).collect())
            .unwrap_or_default();

        let opts = s.opts();
        let mut unique_prefix = opts.js_unique_tag.clone();
        if !unique_prefix.is_empty() && ti.iter().any(|(t, _)| t.starts_with(&unique_prefix)) {
            // Listing the unique tag explicitly turns the check off.
            unique_prefix.clear();
        }
        let mut unique_tags: BTreeMap<String, NodeInfo> = BTreeMap::new();
        // Whether `ni` claims a unique tag value; else who owns it, if anyone.
        let check_unique_tag = |ni: &NodeInfo, unique_tags: &mut BTreeMap<String, NodeInfo>| -> (bool, Option<NodeInfo>) {
            for t in &ni.tags {
                if t.starts_with(&unique_prefix) {
                    return match unique_tags.get(t) {
                        None => {
                            unique_tags.insert(t.clone(), ni.clone());
                            (true, Some(ni.clone()))
                        }
                        Some(owner) => (false, Some(owner.clone())),
                    };
                }
            }
            (false, None)
        };

        if !existing.is_empty() {
            if existing.len() >= r {
                return Ok(existing[..r].to_vec());
            }
            if !unique_prefix.is_empty() {
                for (i, p) in existing.iter().enumerate() {
                    if i < replace_first_existing {
                        continue;
                    }
                    if let Some(ni) = s.node_info(p) {
                        // Collected, not required: these are members already.
                        check_unique_tag(&ni, &mut unique_tags);
                    }
                }
            }
        }

        let mut peers: Vec<String> = {
            let st = self.st.borrow();
            st.cluster.as_ref().and_then(|cc| cc.meta.as_ref()).map(|m| m.peers().into_iter().map(|p| p.id).collect()).unwrap_or_default()
        };
        // Streams and HA assets per peer, from the assignments (upstream:
        // usage is reported asynchronously, so it counts them here).
        let (mut peer_streams, mut peer_ha) = (BTreeMap::<String, usize>::new(), BTreeMap::<String, usize>::new());
        {
            let st = self.st.borrow();
            for sa in st.cluster.iter().flat_map(|cc| cc.streams.values()).flat_map(|a| a.values()) {
                if sa.unsupported.is_some() {
                    continue;
                }
                let gp = sa.group.as_ref().map(|g| g.peers.as_slice()).unwrap_or_default();
                for p in gp {
                    *peer_streams.entry(p.clone()).or_default() += 1;
                    if gp.len() > 1 {
                        *peer_ha.entry(p.clone()).or_default() += 1;
                    }
                }
            }
        }
        let max_ha_assets = opts.max_ha_assets;
        let storage = storage_of(cfg);
        let mut err = SelectPeerError::default();
        let mut online_peers = 0usize;
        let mut nodes: Vec<Candidate> = Vec::new();

        shuffle(s, &mut peers);
        for p in &peers {
            let Some(ni) = s.node_info(p) else {
                err.misc = true;
                continue;
            };
            if ni.cluster != cluster {
                continue;
            }
            if ni.cfg.is_none() || ni.stats.is_none() {
                err.offline = true;
                continue;
            }
            if ignore.contains(p) || existing.contains(p) {
                continue;
            }
            if tags_contain(&ni.tags, JS_EXCLUDE_PLACEMENT) {
                err.exclude_tag = true;
                continue;
            }
            let mut matched = true;
            for (t, exclude) in &ti {
                let contains = tags_contain(&ni.tags, t);
                if *exclude && contains {
                    err.exclude_tags.insert(t.clone());
                    matched = false;
                    break;
                } else if !*exclude && !contains {
                    err.no_match_tags.insert(t.clone());
                    matched = false;
                    break;
                }
            }
            if !matched {
                continue;
            }
            let avail = available(&ni, storage);
            if max_bytes > 0 && max_bytes > avail {
                s.log(
                    LogLevel::Warn,
                    &format!("Peer selection: discard {}@{} (Max Bytes: {max_bytes}) exceeds available {storage:?} storage of {avail} bytes", ni.name, ni.cluster),
                );
                err.no_storage = true;
                continue;
            }
            // HA assets include the meta group, hence `>`.
            let ha_assets = cfg_i64(ni.stats.as_ref(), "ha_assets");
            if max_ha_assets > 0 && ha_assets > max_ha_assets {
                s.log(
                    LogLevel::Warn,
                    &format!("Peer selection: discard {}@{} (HA Asset Count: {ha_assets}) exceeds max ha asset limit of {max_ha_assets} for stream placement", ni.name, ni.cluster),
                );
                err.misc = true;
                continue;
            }
            if !unique_prefix.is_empty() && !check_unique_tag(&ni, &mut unique_tags).0 {
                err.unique_tag = true;
                continue;
            }
            nodes.push(Candidate {
                id: p.clone(),
                avail,
                off: ni.offline,
                ha: peer_ha.get(p).copied().unwrap_or(0),
                ns: peer_streams.get(p).copied().unwrap_or(0),
            });
            if !ni.offline {
                online_peers += 1;
            }
        }

        let quorum = r / 2 + 1;
        let missing_quorum = online_peers + existing.len() < quorum;
        let missing_nodes = nodes.len() < r.saturating_sub(existing.len());
        if missing_nodes || missing_quorum {
            if peers.is_empty() {
                err.no_js_clust = true;
            } else if !missing_nodes && missing_quorum {
                err.offline = true;
            }
            s.log(
                LogLevel::Debug,
                &format!(
                    "Peer selection: required {} nodes but found {} (cluster: {cluster} replica: {r} existing: {existing:?}/{replace_first_existing} peers: {} result-peers: {} err: {err:?})",
                    r.saturating_sub(existing.len()),
                    nodes.len(),
                    peers.len(),
                    nodes.len()
                ),
            );
            return Err(err);
        }
        // Online first, then most available, then fewest streams. Go's
        // sort is not stable; equal candidates keep their shuffled order here.
        nodes.sort_by(|a, b| a.off.cmp(&b.off).then_with(|| if a.avail == b.avail { a.ns.cmp(&b.ns) } else { b.avail.cmp(&a.avail) }));
        if cfg.replicas > 1 {
            nodes.sort_by(|a, b| a.off.cmp(&b.off).then(a.ha.cmp(&b.ha)));
        }
        let mut results: Vec<String> = existing.to_vec();
        let want = r - existing.len();
        results.extend(nodes.into_iter().take(want).map(|n| n.id));
        Ok(results)
    }

    /// Port of (*jetStream).createGroupForStream
    ///
    /// A new group of `cfg.replicas` (at least 1) peers in the placement's
    /// cluster, else in the requester's cluster and then its alternates;
    /// the reasons of every cluster tried when none fits. The group's
    /// preferred leader is not set here (the caller does).
    pub fn create_group_for_stream(&self, ci: &ClientInfo, cfg: &StreamConfig) -> Result<RaftGroup, SelectPeerError> {
        let replicas = if cfg.replicas == 0 { 1 } else { cfg.replicas.max(0) as usize };
        let placement_cluster = placement_of(cfg).map(|p| p.cluster).filter(|c| !c.is_empty());
        let clusters: Vec<String> = match placement_cluster {
            Some(c) => vec![c],
            None => std::iter::once(ci.cluster.clone()).chain(ci.alternates.iter().cloned()).collect(),
        };
        let storage = storage_of(cfg);
        let mut errs = SelectPeerError::default();
        for cn in clusters {
            match self.select_peer_group(replicas, &cn, Some(cfg), &[], 0, &[]) {
                Ok(peers) if peers.len() >= replicas => {
                    let name = group_name_for_stream(&*self.srv, &peers, storage);
                    return Ok(RaftGroup { name, storage, peers, cluster: cn, ..Default::default() });
                }
                Ok(_) => {}
                Err(e) => errs.accumulate(Some(&e)),
            }
        }
        Err(errs)
    }
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;
