//! `porttrack db merge BASE OURS THEIRS`: merge two copies of a database
//! by their histories (rules in `domain::merge`). Every input is copied
//! and opened apart, which upgrades an older schema first; the merge is
//! built in a temporary file beside the destination and renamed into
//! place, so an error or a crash leaves the destination as it was.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::db::{db_error, Database, RunCopy};
use crate::domain::merge::{common_prefix, keep_leading, merge_mappings, plan, Change, Conflict, RunKey, Side};
use crate::error::Error;

#[derive(Debug, Clone)]
pub struct MergeOptions {
    pub base: PathBuf,
    pub ours: PathBuf,
    pub theirs: PathBuf,
    /// Where the merge is written (default: OURS, as git expects of a driver).
    pub out: Option<PathBuf>,
}

/// A copy whose schema the merge upgraded before merging.
#[derive(Debug, Clone, Serialize)]
pub struct Upgrade {
    pub copy: &'static str,
    pub from_version: i64,
    pub to_version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    pub output: String,
    /// History rows and gate runs both copies share (BASE's and after).
    pub shared_changes: usize,
    pub shared_runs: usize,
    /// Changes only one copy had, and those both had beyond the shared part.
    pub ours_changes: usize,
    pub theirs_changes: usize,
    pub both_changes: usize,
    pub runs_added: usize,
    pub conflicts: Vec<Conflict>,
    pub upgraded: Vec<Upgrade>,
    /// Items whose mapping THEIRS changed and the merge took.
    pub mappings_taken: usize,
    /// Items whose mapping both sides changed differently: OURS's was kept.
    pub mapping_conflicts: Vec<String>,
}

/// Copy `path` (with its write-ahead log) to `dir/name` and open the copy,
/// upgrading its schema; None for BASE when git passes an empty file (the
/// database was added on both sides).
fn open_copy(path: &Path, dir: &Path, name: &'static str, empty_ok: bool, upgraded: &mut Vec<Upgrade>) -> Result<Option<Database>, Error> {
    let meta = std::fs::metadata(path).map_err(|e| db_error(path, format!("cannot read {name}: {e}")))?;
    if empty_ok && meta.is_file() && meta.len() == 0 {
        return Ok(None);
    }
    if !meta.is_file() {
        return Err(db_error(path, format!("{name} is not a regular file")));
    }
    let copy = dir.join(format!("{name}.db"));
    std::fs::copy(path, &copy).map_err(|e| db_error(path, format!("cannot copy {name}: {e}")))?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if Path::new(&wal).is_file() {
        std::fs::copy(&wal, dir.join(format!("{name}.db-wal"))).map_err(|e| db_error(path, format!("cannot copy {name}'s WAL: {e}")))?;
    }
    let before = Database::stored_schema_version(&copy).unwrap_or(0);
    let db = Database::open(&copy).map_err(|e| match e {
        Error::Database { message, .. } => db_error(path, format!("{name}: {message}")),
        other => other,
    })?;
    if before > 0 && before < crate::db::schema_version() {
        upgraded.push(Upgrade { copy: name, from_version: before, to_version: crate::db::schema_version() });
    }
    Ok(Some(db))
}

fn uids(rows: &[(i64, Change)]) -> Vec<&str> {
    rows.iter().map(|(_, c)| c.uid.as_str()).collect()
}

pub fn merge(o: &MergeOptions) -> Result<MergeReport, Error> {
    let out = o.out.clone().unwrap_or_else(|| o.ours.clone());
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".porttrack-merge-")
        .tempdir_in(dir)
        .map_err(|e| db_error(&out, format!("cannot make a temporary directory beside it: {e}")))?;
    let mut upgraded = Vec::new();
    let base = open_copy(&o.base, tmp.path(), "base", true, &mut upgraded)?;
    let ours = open_copy(&o.ours, tmp.path(), "ours", false, &mut upgraded)?.ok_or_else(|| db_error(&o.ours, "OURS is empty"))?;
    let theirs = open_copy(&o.theirs, tmp.path(), "theirs", false, &mut upgraded)?.ok_or_else(|| db_error(&o.theirs, "THEIRS is empty"))?;

    let (ours_h, theirs_h) = (ours.export_history()?, theirs.export_history()?);
    let (ours_r, theirs_r) = (ours.export_runs()?, theirs.export_runs()?);
    if let Some(base) = &base {
        let (base_h, base_r) = (base.export_history()?, base.export_runs()?);
        for (name, path, h, r) in [("OURS", &o.ours, &ours_h, &ours_r), ("THEIRS", &o.theirs, &theirs_h, &theirs_r)] {
            let shared = common_prefix(&uids(&base_h), &uids(h), |u| *u);
            let shared_runs = common_prefix(&base_r, r, |(_, k)| k.uid.clone());
            if shared < base_h.len() || shared_runs < base_r.len() {
                return Err(db_error(
                    path,
                    format!("{name} does not descend from BASE: its history does not begin with BASE's {} change(s) and {} gate run(s) (was it made again with `init --force`?)", base_h.len(), base_r.len()),
                ));
            }
        }
    }
    let ph = common_prefix(&uids(&ours_h), &uids(&theirs_h), |u| *u);
    let pr = common_prefix(&ours_r, &theirs_r, |(_, k)| k.uid.clone());

    // Each item's state at the end of the shared prefix.
    let mut prefix_status = HashMap::new();
    for (_, c) in &ours_h[..ph] {
        let evidence = if c.to_status == "verified" { c.evidence_uid.clone() } else { None };
        prefix_status.insert((c.item_kind.clone(), c.item_id), (c.to_status.clone(), evidence));
    }
    let side = |rows: &[(i64, Change)]| rows[ph..].iter().map(|(_, c)| c.clone()).collect::<Vec<_>>();
    let side_runs = |rows: &[(i64, RunKey)]| rows[pr..].iter().map(|(_, k)| k.clone()).collect::<Vec<_>>();
    let (ours_new, theirs_new) = (side(&ours_h), side(&theirs_h));
    let (ours_new_runs, theirs_new_runs) = (side_runs(&ours_r), side_runs(&theirs_r));
    let mut p = plan(&prefix_status, &ours_new, &theirs_new, &ours_new_runs, &theirs_new_runs);
    let count = |s: Side| p.changes.iter().filter(|c| c.side == s && c.change.merge_claims.is_none()).count();
    let (ours_changes, theirs_changes, both_changes) = (count(Side::Ours), count(Side::Theirs), count(Side::Both));
    let runs_added = p.runs.iter().filter(|(_, s)| *s == Side::Theirs).count();
    let (kept_changes, kept_runs) = keep_leading(&mut p, &ours_new, &ours_new_runs);

    let mut runs: HashMap<String, RunCopy> = HashMap::new();
    for (key, from) in &p.runs {
        let db = if *from == Side::Theirs { &theirs } else { &ours };
        let copy = db.run_copy(&key.uid)?.ok_or_else(|| db_error(db.path(), format!("gate run {} vanished while merging", key.uid)))?;
        runs.insert(key.uid.clone(), copy);
    }
    let (our_items, their_items) = (ours.item_states()?, theirs.item_states()?);
    for key in p.finals.keys() {
        if !our_items.contains_key(key) {
            return Err(db_error(&o.ours, format!("THEIRS changed {} {}, which OURS does not have (imported on one side only); import it on both sides first", key.0, key.1)));
        }
    }
    let proven = p
        .finals
        .iter()
        .map(|(key, (_, _, from))| {
            let items = if *from == Side::Theirs { &their_items } else { &our_items };
            (key.clone(), items.get(key).and_then(|s| s.proven_hash.clone()))
        })
        .collect();
    let prefix_id = |n: usize, ids: &[i64]| if n == 0 { 0 } else { ids[n - 1] };
    let ours_ids: Vec<i64> = ours_h.iter().map(|(id, _)| *id).collect();
    let ours_run_ids: Vec<i64> = ours_r.iter().map(|(id, _)| *id).collect();
    let (our_maps, our_tests) = ours.mappings()?;
    let (their_maps, their_tests) = theirs.mappings()?;
    let (base_maps, base_tests) = match &base {
        Some(b) => b.mappings()?,
        None => Default::default(),
    };
    let mappings = merge_mappings(&base_maps, &our_maps, &their_maps, [&base_tests, &our_tests, &their_tests]);
    let mut merged = ours;
    drop(theirs);
    drop(base);
    merged.apply_merge(prefix_id(ph + kept_changes, &ours_ids), prefix_id(pr + kept_runs, &ours_run_ids), &p, &runs, &proven, &mappings)?;
    merged.checkpoint()?;
    let built = merged.path().to_path_buf();
    drop(merged);
    for suffix in ["-wal", "-shm"] {
        let mut side_file = built.as_os_str().to_owned();
        side_file.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side_file));
    }
    // The destination's WAL belongs to the file being replaced (its
    // changes are in the merge, read from the copy); left beside the new
    // file it would be replayed onto it.
    for suffix in ["-wal", "-shm"] {
        let mut stale = out.as_os_str().to_owned();
        stale.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(stale));
    }
    std::fs::rename(&built, &out).map_err(|e| db_error(&out, format!("cannot move the merged database into place: {e}")))?;

    Ok(MergeReport {
        output: out.display().to_string(),
        shared_changes: ph,
        shared_runs: pr,
        ours_changes,
        theirs_changes,
        both_changes,
        runs_added,
        conflicts: p.conflicts,
        upgraded,
        mappings_taken: mappings.set.len(),
        mapping_conflicts: mappings.both_changed.iter().map(|(k, id)| format!("{k} {id}")).collect(),
    })
}
