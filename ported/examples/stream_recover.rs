//! Recovers a clustered stream's state from a nats-server's store directory
//! the way the server rebuilds it at startup — the stream store, then the
//! stream's raft group (snapshot and WAL) replayed onto it — and prints it
//! as JSON: messages, bytes, first/last sequence, deleted sequences,
//! per-subject counts and the remaining messages (sequence, subject,
//! payload SHA-256). See `ported::stream_recover` for what is read in Go's
//! format and what is a stand-in.
//!
//!     cargo run -p ported --example stream_recover -- [--no-store] [--no-messages] [--config FILE] DIR
//!
//! DIR is either a stream's raft group directory
//! (`<store_dir>/jetstream/<system account>/_js_/<group>`, as 2.9.10 places
//! every raft group) or, for a stream without a raft group (R1 in 2.9.10),
//! its stream store (`<store_dir>/jetstream/<account>/streams/<name>`).
//! Which stream a group belongs to, and its config, come from the meta
//! group found in the same store directory (`jetstream/*/_js_/_meta_`),
//! the config preferably from the stream store's `meta.inf`; `--config FILE`
//! gives the stream config (JSON) instead. `--no-store` ignores the stream
//! store and replays the raft group's directory alone; `--no-messages` leaves
//! the message list out (for big streams). The directory's name must be the
//! group's: the WAL's record checksums are keyed by it. Nothing is written.
//!
//! Exit status: 0 recovered cleanly; 3 recovered from damaged files (a
//! block truncated, data lost, the WAL repaired); 4 incomplete: the
//! snapshot is ahead of the store and a server would catch up from a peer
//! (the JSON shows the state before that); 1 not recoverable or not a
//! stream directory; 2 bad arguments.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[path = "shared/raft_dir.rs"]
mod raft_dir;
use raft_dir::{clean, io_err, read_node_files, shown};

use ported::filestore::{StoreEvent, StoreFiles};
use ported::jetstream_cluster::meta_wal::recover_meta;
use ported::jetstream_cluster::DEFAULT_META_GROUP_NAME;
use ported::raft_log::{RaftDirFiles, WalRepair};
use ported::stream_recover::{recover_stream, stream_spec_from_json, StreamRecovery};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const USAGE: &str = "usage: stream_recover [--no-store] [--no-messages] [--config FILE] DIR

Recovers a stream's state from a nats-server store directory as the server
would at startup (stream store, then the stream's raft group replayed onto
it) and prints it as JSON. DIR is a raft group directory
(jetstream/<sys account>/_js_/<group>) or a stream store directory
(jetstream/<account>/streams/<name>).

  --no-store     replay the raft group's directory alone
  --no-messages  leave the list of remaining messages out
  --config FILE  the stream config (JSON) instead of looking it up

exit status: 0 clean, 3 recovered from damaged files, 4 incomplete (needs a
catch-up from a peer), 1 not recoverable, 2 usage";

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_DAMAGED: u8 = 3;
const EXIT_INCOMPLETE: u8 = 4;

fn is_raft_dir(dir: &Path) -> bool {
    ["msgs", "snapshots", "peers.idx", "tav.idx"].iter().any(|n| dir.join(n).exists())
}

fn is_stream_store_dir(dir: &Path) -> bool {
    dir.join("meta.inf").is_file() && dir.parent().and_then(Path::file_name).is_some_and(|n| n == "streams")
}

fn name_of(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

// The stream store's files (its `msgs/`), without meta.inf and friends.
fn store_files(dir: &Path) -> Result<StoreFiles, String> {
    let entries = read_node_files(dir)?.into_iter().filter(|(n, _)| n.starts_with("msgs/"));
    Ok(StoreFiles::from_entries(entries))
}

// The one `*/_js_/_meta_` of a jetstream directory.
fn find_meta_dir(root: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(root)
        .ok()?
        .flatten()
        .map(|e| e.path().join("_js_").join(DEFAULT_META_GROUP_NAME))
        .filter(|p| p.is_dir())
        .collect();
    (found.len() == 1).then(|| found.remove(0))
}

// A stream config from `meta.inf` of a stream store (FileStreamInfo: the
// config's fields plus `Created`).
fn read_meta_inf(dir: &Path) -> Result<Value, String> {
    let p = dir.join("meta.inf");
    let b = fs::read(&p).map_err(|e| io_err(&p, e))?;
    let mut v: Value = serde_json::from_slice(&b).map_err(|e| format!("{}: not JSON: {e}", shown(&p)))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("Created");
    }
    Ok(v)
}

struct Target {
    account: String,
    stream: String,
    group: Option<(String, PathBuf)>,
    config: Value,
    config_from: String,
    store_dir: Option<PathBuf>,
}

// Which stream DIR holds and where its config and store are.
fn locate(dir: &Path, config_file: Option<&Path>, no_store: bool) -> Result<Target, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", shown(dir)));
    }
    let given_config = match config_file {
        Some(p) => {
            let b = fs::read(p).map_err(|e| io_err(p, e))?;
            Some(serde_json::from_slice::<Value>(&b).map_err(|e| format!("{}: not JSON: {e}", shown(p)))?)
        }
        None => None,
    };
    let up = |p: &Path, n: usize| -> Option<PathBuf> {
        let mut q = p.to_path_buf();
        for _ in 0..n {
            q = q.parent()?.to_path_buf();
        }
        Some(q)
    };
    if is_stream_store_dir(dir) {
        // A stream without a raft group: its store is all there is.
        let account = up(dir, 2).map(|p| name_of(&p)).unwrap_or_default();
        let (config, config_from) = match given_config {
            Some(c) => (c, "--config".to_string()),
            None => (read_meta_inf(dir)?, "meta.inf".to_string()),
        };
        return Ok(Target { account, stream: name_of(dir), group: None, config, config_from, store_dir: Some(dir.to_path_buf()) });
    }
    if !is_raft_dir(dir) {
        return Err(format!(
            "{}: not a raft group directory (no msgs/, snapshots/, peers.idx or tav.idx) nor a stream store (streams/<name>/meta.inf)",
            shown(dir)
        ));
    }
    let group = name_of(dir);
    if group == DEFAULT_META_GROUP_NAME {
        return Err(format!("{}: the meta group's directory; use --example meta_recover", shown(dir)));
    }
    let root = dir
        .parent()
        .filter(|p| name_of(p) == "_js_")
        .and_then(|p| p.parent())
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    // The group's stream, from the meta group's assignments.
    let mut found = None;
    let mut meta_note = String::new();
    if let Some(meta) = root.as_deref().and_then(find_meta_dir) {
        let files = RaftDirFiles::from_entries(read_node_files(&meta)?);
        match recover_meta(&files) {
            Ok(mr) => {
                for (account, streams) in &mr.streams {
                    for (name, sa) in streams {
                        if sa.group.as_ref().is_some_and(|g| g.name == group) {
                            found = Some((account.clone(), name.clone(), sa.config_json.get().to_string()));
                        }
                    }
                }
                if found.is_none() {
                    meta_note = format!("no stream assignment in {} has group {}", shown(&meta), clean(&group));
                }
            }
            Err(e) => meta_note = format!("{}: {}", shown(&meta), clean(&e.to_string())),
        }
    } else {
        meta_note = "no */_js_/_meta_ beside it".into();
    }
    let Some((account, stream, sa_config)) = found else {
        let Some(config) = given_config else {
            return Err(format!("{}: which stream is group {}? {meta_note}; give its config with --config FILE", shown(dir), clean(&group)));
        };
        let stream = config.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        return Ok(Target { account: String::new(), stream, group: Some((group, dir.to_path_buf())), config, config_from: "--config".into(), store_dir: None });
    };
    let sdir = root.as_ref().map(|r| r.join(&account).join("streams").join(&stream));
    let sdir = sdir.filter(|d| d.join("meta.inf").is_file());
    let (config, config_from) = match (given_config, &sdir) {
        (Some(c), _) => (c, "--config".to_string()),
        (None, Some(d)) => (read_meta_inf(d)?, format!("{account}/streams/{stream}/meta.inf")),
        (None, None) => (
            serde_json::from_str(&sa_config).map_err(|e| format!("assignment of {stream}: config not JSON: {e}"))?,
            "meta group assignment".to_string(),
        ),
    };
    let store_dir = if no_store { None } else { sdir.filter(|d| d.join("msgs").is_dir()) };
    Ok(Target { account, stream, group: Some((group, dir.to_path_buf())), config, config_from, store_dir })
}

fn event_text(e: &StoreEvent) -> String {
    match e {
        StoreEvent::IndexDbNotRead => "msgs/index.db present, not read (block files scanned instead)".into(),
        StoreEvent::IndexUsed { block } => format!("msgs/{block}.idx used for block {block}"),
        StoreEvent::IndexNotUsed { block, reason } => format!("msgs/{block}.idx not used: {reason:?}"),
        StoreEvent::Truncated { block, truncation, lost } => format!(
            "msgs/{block}.blk: bad record at offset {}: {}; a server truncates the block there{}",
            truncation.offset,
            truncation.reason,
            if lost.is_empty() { String::new() } else { format!(" (sequences {lost:?} lost)") }
        ),
        StoreEvent::EmptyBlockLost { block, lost } => format!("msgs/{block}.blk is empty; sequences {lost:?} lost"),
        StoreEvent::EmptyBlockRemoved { block } => format!("msgs/{block}.blk holds no sequence; a server removes it"),
        StoreEvent::RebuiltOnRead { block } => format!("msgs/{block}.blk disagreed with its state when read; rescanned"),
    }
}

fn is_damage(e: &StoreEvent) -> bool {
    matches!(e, StoreEvent::Truncated { .. } | StoreEvent::EmptyBlockLost { .. } | StoreEvent::RebuiltOnRead { .. })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn report(t: &Target, r: &mut StreamRecovery, with_messages: bool) -> (Value, Vec<String>) {
    let mut damage = Vec::new();
    let store = r.store.as_ref().map(|s| {
        damage.extend(s.events.iter().filter(|e| is_damage(e)).map(|e| format!("stream store: {}", event_text(e))));
        json!({
            "dir": t.store_dir.as_deref().map(shown),
            "msgs": s.state.msgs,
            "first_seq": s.state.first_seq,
            "last_seq": s.state.last_seq,
            "loaded": s.loaded,
            "lost": s.lost,
            "events": s.events.iter().map(event_text).collect::<Vec<_>>(),
        })
    });
    let raft = r.raft.as_ref().map(|raft| {
        damage.extend(raft.wal_events.iter().filter(|e| is_damage(e)).map(|e| format!("raft WAL: {}", event_text(e))));
        damage.extend(raft.warnings.iter().map(|w| format!("raft: {w}")));
        for rep in &raft.repairs {
            damage.push(match rep {
                WalRepair::Truncated(i) => format!("a server truncates this WAL after entry {i}"),
                WalRepair::Reset => "a server resets this WAL".to_string(),
            });
        }
        json!({
            "group": t.group.as_ref().map(|g| clean(&g.0)),
            "dir": t.group.as_ref().map(|g| shown(&g.1)),
            "term": raft.term,
            "vote": raft.vote,
            "snapshot": raft.snapshot.as_ref().map(|s| json!({"file": s.file, "last_term": s.last_term, "last_index": s.last_index})),
            "peer_state": {"cluster_size": raft.cluster_size, "known_peers": raft.peers},
            "wal": {
                "first_seq": raft.wal.first_seq,
                "last_seq": raft.wal.last_seq,
                "msgs": raft.wal.msgs,
                "bytes": raft.wal.bytes,
                "lost": raft.wal_lost,
                "events": raft.wal_events.iter().map(event_text).collect::<Vec<_>>(),
            },
            "last_index": raft.last_log.0,
            "last_term": raft.last_log.1,
            "commit": raft.commit,
            "committed_batches": raft.committed.len(),
            "applied_batches": r.applied,
            "duplicates_dropped": r.duplicates,
            "pending_entries": raft.pending.iter().map(|(_, es)| es.len()).sum::<usize>(),
        })
    });
    if let Some(reset) = &r.reset {
        damage.push(format!("bad snapshot, the stream resets its clustered state: {reset}"));
    }
    let bytes = r.bytes();
    let subjects = r.subjects();
    let st = r.state();
    let listed = if with_messages { r.messages() } else { Vec::new() };
    let messages: Vec<Value> = listed
        .iter()
        .map(|m| {
            json!({
                "seq": m.seq,
                "subject": m.subject,
                "ts": m.ts,
                "hdr_len": m.hdr.len(),
                "payload_len": m.msg.len(),
                "payload_sha256": hex(&Sha256::digest(&m.msg)),
            })
        })
        .collect();
    let out = json!({
        "account": t.account,
        "stream": t.stream,
        "config_from": t.config_from,
        "storage": match r.config.storage { ported::store::StorageType::File => "file", ported::store::StorageType::Memory => "memory" },
        "store": store,
        "raft": raft,
        "catchup_required": r.catchup.map(|(first, last)| json!({"first": first, "last": last})),
        "state": {
            "messages": st.msgs,
            "bytes": bytes,
            "first_seq": st.first_seq,
            "last_seq": st.last_seq,
            "num_deleted": st.num_deleted,
            "deleted": st.deleted,
            "num_subjects": subjects.len(),
            "subjects": subjects,
        },
        "messages": if with_messages { Value::Array(messages) } else { Value::Null },
    });
    (out, damage)
}

fn run(dir: &Path, config: Option<&Path>, no_store: bool, with_messages: bool) -> Result<(Value, Vec<String>, bool), String> {
    let t = locate(dir, config, no_store)?;
    let cfg = stream_spec_from_json(&t.config).map_err(|e| format!("{} ({}): {}", clean(&t.stream), clean(&t.config_from), clean(&e.to_string())))?;
    let sfiles = t.store_dir.as_deref().map(store_files).transpose()?;
    let rfiles = match &t.group {
        Some((_, d)) => Some(RaftDirFiles::from_entries(read_node_files(d)?)),
        None => None,
    };
    let raft = t.group.as_ref().zip(rfiles.as_ref()).map(|((g, _), f)| (g.as_str(), f));
    let mut r = recover_stream(&t.account, &cfg, sfiles.as_ref(), raft).map_err(|e| format!("{}: {}", shown(dir), clean(&e.to_string())))?;
    let incomplete = r.catchup.is_some();
    let (out, damage) = report(&t, &mut r, with_messages);
    Ok((out, damage, incomplete))
}

fn main() -> ExitCode {
    let mut no_store = false;
    let mut with_messages = true;
    let mut config = None;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--no-store" => no_store = true,
            "--no-messages" => with_messages = false,
            "--config" => match args.next() {
                Some(f) => config = Some(PathBuf::from(f)),
                None => {
                    eprintln!("stream_recover: --config needs a FILE\n{USAGE}");
                    return ExitCode::from(EXIT_USAGE);
                }
            },
            _ if a.starts_with('-') || dir.is_some() => {
                eprintln!("stream_recover: unexpected argument {}\n{USAGE}", clean(&a));
                return ExitCode::from(EXIT_USAGE);
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let Some(dir) = dir else {
        eprintln!("{USAGE}");
        return ExitCode::from(EXIT_USAGE);
    };
    match run(&dir, config.as_deref(), no_store, with_messages) {
        Ok((out, damage, incomplete)) => {
            match serde_json::to_string_pretty(&out) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("stream_recover: {e}");
                    return ExitCode::from(EXIT_FAILED);
                }
            }
            for d in &damage {
                eprintln!("stream_recover: damaged: {}", clean(d));
            }
            if !damage.is_empty() {
                return ExitCode::from(EXIT_DAMAGED);
            }
            if incomplete {
                eprintln!("stream_recover: incomplete: the snapshot is ahead of the store; a server would catch up from a peer");
                return ExitCode::from(EXIT_INCOMPLETE);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stream_recover: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}
