//! Recovers the JetStream meta assignments from a nats-server's meta group
//! directory — the latest snapshot plus the raft log (WAL) after it — the
//! way the server itself does at startup, and prints them as JSON (the
//! `streams` list has the shape `--example meta_snapshot` prints), with
//! what recovery found along the way.
//!
//!     cargo run -p ported --example meta_recover -- DIR
//!
//! DIR is the meta group directory (`<store_dir>/jetstream/$SYS/_js_/_meta_`
//! or wherever it was copied) or a directory with exactly one
//! `*/_js_/_meta_` below it. Nothing is written.
//!
//! Exit status: 0 recovered cleanly; 3 recovered, but the files were damaged
//! (a block truncated at a bad record, data lost, the raft log repaired at
//! startup, or an entry that would not apply) — the JSON shows what a server would
//! recover and stderr says what was damaged; 1 not recoverable (a server
//! would not start the group: corrupt snapshot, no peer state, encrypted
//! store, an entry it panics on) or not a meta group directory; 2 bad
//! arguments.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[path = "shared/assignments_json.rs"]
mod assignments_json;
#[path = "shared/raft_dir.rs"]
mod raft_dir;
use raft_dir::{clean, read_node_files};

use ported::filestore::StoreEvent;
use ported::jetstream_cluster::meta_wal::{recover_meta, MetaRecovery};
use ported::jetstream_cluster::ops::{decode_meta_op, MetaOp};
use ported::jetstream_cluster::DEFAULT_META_GROUP_NAME;
use ported::raft::wire::{Entry, EntryType};
use ported::raft_log::{RaftDirFiles, WalRepair};
use serde_json::{json, Value};

const USAGE: &str = "usage: meta_recover DIR

Recovers nats-server's JetStream meta assignments from a meta group
directory (snapshots/, msgs/ (the WAL), peers.idx, tav.idx) as the server
would at startup, and prints them as JSON.

exit status: 0 clean, 3 recovered from damaged files, 1 not recoverable, 2 usage";

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_DAMAGED: u8 = 3;

fn is_raft_dir(dir: &Path) -> bool {
    ["msgs", "snapshots", "peers.idx"].iter().any(|n| dir.join(n).exists())
}

// `dir` itself, or the one `*/_js_/_meta_` within a few levels below it.
fn find_meta_dir(dir: &Path) -> Result<PathBuf, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", clean(&dir.display().to_string())));
    }
    if is_raft_dir(dir) {
        return Ok(dir.to_path_buf());
    }
    let mut found = Vec::new();
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for d in level {
            let Ok(rd) = fs::read_dir(&d) else { continue };
            for e in rd.flatten() {
                let p = e.path();
                if !e.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let is_meta = p.file_name().is_some_and(|n| n == DEFAULT_META_GROUP_NAME)
                    && p.parent().and_then(|q| q.file_name()).is_some_and(|n| n == "_js_");
                if is_meta && is_raft_dir(&p) {
                    found.push(p);
                } else {
                    next.push(p);
                }
            }
        }
        level = next;
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "{}: not a meta group directory (no msgs/, snapshots/ or peers.idx) and no */_js_/_meta_ below it",
            clean(&dir.display().to_string())
        )),
        _ => Err(format!(
            "{}: several meta group directories below it, name one: {}",
            clean(&dir.display().to_string()),
            found.iter().map(|p| clean(&p.display().to_string())).collect::<Vec<_>>().join(", ")
        )),
    }
}

fn entry_json(e: &Entry) -> Value {
    let mut v = json!({ "type": e.typ.to_string(), "len": e.data.len() });
    if e.typ == EntryType::Normal {
        match decode_meta_op(&e.data) {
            Ok(op) => {
                let (name, account, stream, consumer) = match &op {
                    MetaOp::AssignStream(sa) => ("AssignStream", sa.account(), sa.name(), None),
                    MetaOp::UpdateStream(sa) => ("UpdateStream", sa.account(), sa.name(), None),
                    MetaOp::RemoveStream(sa) => ("RemoveStream", sa.account(), sa.name(), None),
                    MetaOp::AssignConsumer(ca) => ("AssignConsumer", ca.account(), ca.stream.as_str(), Some(ca.name.as_str())),
                    MetaOp::AssignCompressedConsumer(ca) => {
                        ("AssignCompressedConsumer", ca.account(), ca.stream.as_str(), Some(ca.name.as_str()))
                    }
                    MetaOp::RemoveConsumer(ca) => ("RemoveConsumer", ca.account(), ca.stream.as_str(), Some(ca.name.as_str())),
                };
                v["op"] = json!(name);
                v["account"] = json!(account);
                v["stream"] = json!(stream);
                if let Some(c) = consumer {
                    v["consumer"] = json!(c);
                }
            }
            Err(err) => v["op_error"] = json!(err.to_string()),
        }
    }
    v
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
            if lost.is_empty() { String::new() } else { format!(" (sequences {:?} lost)", lost) }
        ),
        StoreEvent::EmptyBlockLost { block, lost } => format!("msgs/{block}.blk is empty; sequences {lost:?} lost"),
        StoreEvent::EmptyBlockRemoved { block } => format!("msgs/{block}.blk holds no sequence; a server removes it"),
        StoreEvent::RebuiltOnRead { block } => format!("msgs/{block}.blk disagreed with its state when read; rescanned"),
    }
}

fn is_damage(e: &StoreEvent) -> bool {
    matches!(e, StoreEvent::Truncated { .. } | StoreEvent::EmptyBlockLost { .. } | StoreEvent::RebuiltOnRead { .. })
}

/// The report, and the damage found (one line each).
fn report(dir: &Path, r: &MetaRecovery) -> Result<(Value, Vec<String>), String> {
    let raft = &r.raft;
    let mut damage: Vec<String> = raft.wal_events.iter().filter(|e| is_damage(e)).map(event_text).collect();
    for w in &raft.warnings {
        damage.push(format!("raft: {w}"));
    }
    for rep in &raft.repairs {
        damage.push(match rep {
            WalRepair::Truncated(i) => format!("a server truncates this WAL after entry {i}"),
            WalRepair::Reset => "a server resets this WAL".to_string(),
        });
    }
    for w in &r.warnings {
        damage.push(format!("entry {} not applied: {}", w.index, w.error));
    }
    let out = json!({
        "dir": dir.display().to_string(),
        "group": DEFAULT_META_GROUP_NAME,
        "term": raft.term,
        "vote": raft.vote,
        "snapshot": raft.snapshot.as_ref().map(|s| json!({"file": s.file, "last_term": s.last_term, "last_index": s.last_index})),
        "peer_state": {
            "cluster_size": raft.cluster_size,
            "known_peers": raft.peers,
        },
        "wal": {
            "first_seq": raft.wal.first_seq,
            "last_seq": raft.wal.last_seq,
            "msgs": raft.wal.msgs,
            "bytes": raft.wal.bytes,
            "lost": raft.wal_lost,
            "events": raft.wal_events.iter().map(event_text).collect::<Vec<_>>(),
        },
        "replay": {
            "last_index": raft.last_log.0,
            "last_term": raft.last_log.1,
            "commit": raft.commit,
            "committed_batches": raft.committed.len(),
            "repairs": raft.repairs.iter().map(|r| match r {
                WalRepair::Truncated(i) => json!({"truncated_after": i}),
                WalRepair::Reset => json!("reset"),
            }).collect::<Vec<_>>(),
            "warnings": raft.warnings,
            "pending": raft.pending.iter().map(|(i, es)| json!({"index": i, "entries": es.iter().map(entry_json).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        },
        "warnings": r.warnings.iter().map(|w| json!({"index": w.index, "error": w.error})).collect::<Vec<_>>(),
        "streams": assignments_json::streams_json(&r.streams)?,
    });
    Ok((out, damage))
}

fn run(dir: &Path) -> Result<(Value, Vec<String>), String> {
    let meta = find_meta_dir(dir)?;
    let files = RaftDirFiles::from_entries(read_node_files(&meta)?);
    if files.is_empty() {
        return Err(format!("{}: no WAL blocks, snapshot or peer state", clean(&meta.display().to_string())));
    }
    let r = recover_meta(&files).map_err(|e| format!("{}: {}", clean(&meta.display().to_string()), clean(&e.to_string())))?;
    report(&meta, &r)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [a] if a == "-h" || a == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [a] if !a.starts_with('-') => PathBuf::from(a),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match run(&dir) {
        Ok((out, damage)) => {
            match serde_json::to_string_pretty(&out) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("meta_recover: {e}");
                    return ExitCode::from(EXIT_FAILED);
                }
            }
            if damage.is_empty() {
                return ExitCode::SUCCESS;
            }
            for d in &damage {
                eprintln!("meta_recover: damaged: {}", clean(d));
            }
            ExitCode::from(EXIT_DAMAGED)
        }
        Err(e) => {
            eprintln!("meta_recover: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}
