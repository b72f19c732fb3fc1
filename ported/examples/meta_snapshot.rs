//! Prints a raft snapshot file: header, peer state, and for the meta group
//! the decoded stream and consumer assignments, as JSON.
//!
//!     cargo run -p ported --example meta_snapshot -- FILE [--group NAME]
//!
//! The group name keys the checksum; it defaults to `_meta_`. Exits 1 with a
//! message on a corrupt or truncated file, 2 on bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;

#[path = "shared/assignments_json.rs"]
mod assignments_json;

use ported::jetstream_cluster::{JetStream, DEFAULT_META_GROUP_NAME};
use ported::peer_state::decode_peer_state;
use ported::snapshot_file::{term_and_index_from_snap_file, SnapshotCodec};
use serde_json::{json, Value};

fn usage() -> ExitCode {
    eprintln!("usage: meta_snapshot FILE [--group NAME]");
    ExitCode::from(2)
}

fn run(path: &PathBuf, group: &str) -> Result<Value, String> {
    let codec = SnapshotCodec::new(group);
    let snap = codec.read_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ps = decode_peer_state(&snap.peer_state).map_err(|e| format!("{}: {e}", path.display()))?;
    let name_matches = term_and_index_from_snap_file(&path.to_string_lossy())
        .map(|(t, i)| t == snap.last_term && i == snap.last_index)
        .ok();
    let mut out = json!({
        "file": path.display().to_string(),
        "group": group,
        "last_term": snap.last_term,
        "last_index": snap.last_index,
        "name_matches_header": name_matches,
        "peer_state": {
            "cluster_size": ps.cluster_size,
            "known_peers": ps.known_peers,
            "domain_ext": ps.domain_ext.0,
        },
        "data_len": snap.data.len(),
    });
    if group == DEFAULT_META_GROUP_NAME {
        let streams = JetStream::decode_meta_snapshot(&snap.data)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        out["streams"] = assignments_json::streams_json(&streams)?;
    }
    Ok(out)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut group = DEFAULT_META_GROUP_NAME.to_string();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--group" => match args.next() {
                Some(g) => group = g,
                None => return usage(),
            },
            "-h" | "--help" => return usage(),
            _ if file.is_none() => file = Some(PathBuf::from(a)),
            _ => return usage(),
        }
    }
    let Some(file) = file else { return usage() };
    match run(&file, &group) {
        Ok(v) => match serde_json::to_string_pretty(&v) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
