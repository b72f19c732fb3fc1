//! Reading a copy's history and evidence in portable form (global IDs in
//! place of local ones), and rewriting a copy into the merge of two
//! (`domain::merge` decides what; this writes it). The rewrite replaces
//! the rows after the shared prefix in one transaction: the append-only
//! guards are lifted for it alone and restored before it commits, and
//! every row is re-chained by the same code that appends rows normally.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::chain::{self, NewHistory, NewIds};
use super::Database;
use crate::domain::chain::{ResultEntry, RUN_HASHED_COLUMNS};
use crate::domain::merge::{Change, Mapping, MappingMerge, OverrideRec, Plan, RunKey};
use crate::error::Error;

/// A gate run as stored, to copy into another database.
#[derive(Debug, Clone)]
pub struct RunCopy {
    pub columns: Vec<Value>,
    pub results: Vec<ResultEntry>,
    pub files: Vec<(String, Option<String>)>,
    pub actor: Option<String>,
}

/// Items' mappings by (kind, id), and features' extra Rust tests.
pub type Mappings = (BTreeMap<(String, i64), Mapping>, BTreeSet<(i64, String)>);

/// An item's status as stored, with what a status change keeps beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemState {
    pub status: String,
    pub evidence_uid: Option<String>,
    pub proven_hash: Option<String>,
}

/// The append-only guards a merge lifts while it rewrites the tail.
const GUARDS: &[&str] = &[
    "status_history_append_only_update",
    "status_history_append_only_delete",
    "gate_runs_append_only_update",
    "gate_runs_append_only_delete",
    "gate_results_append_only_update",
    "gate_results_append_only_delete",
    "gate_file_hashes_append_only_update",
    "gate_file_hashes_append_only_delete",
];

impl Database {
    /// Every history row in order: (local ID, the row in portable form).
    pub fn export_history(&self) -> Result<Vec<(i64, Change)>, Error> {
        self.read(export_history)
    }

    /// Every gate run in order: (local ID, identity and time).
    pub fn export_runs(&self) -> Result<Vec<(i64, RunKey)>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, uid, started_at FROM gate_runs ORDER BY id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, RunKey { uid: r.get::<_, Option<String>>(1)?.unwrap_or_default(), started_at: r.get(2)? })))?;
            rows.collect()
        })
    }

    /// A run as stored, by global ID.
    pub fn run_copy(&self, uid: &str) -> Result<Option<RunCopy>, Error> {
        self.read(|c| run_copy(c, uid))
    }

    /// Status, evidence and proven hash of every feature, test and module.
    pub fn item_states(&self) -> Result<HashMap<(String, i64), ItemState>, Error> {
        self.read(|c| {
            let mut out = HashMap::new();
            let mut stmt = c.prepare(
                "SELECT 'feature', f.id, f.status, g.uid, f.proven_hash FROM features f LEFT JOIN gate_runs g ON g.id = f.evidence_run
                 UNION ALL SELECT 'test', t.id, t.status, g.uid, t.proven_hash FROM tests t LEFT JOIN gate_runs g ON g.id = t.evidence_run
                 UNION ALL SELECT 'module', id, status, NULL, NULL FROM modules",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                out.insert((r.get(0)?, r.get(1)?), ItemState { status: r.get(2)?, evidence_uid: r.get(3)?, proven_hash: r.get(4)? });
            }
            Ok(out)
        })
    }

    /// Every item's mapping that is set, and every feature's extra Rust tests.
    pub fn mappings(&self) -> Result<Mappings, Error> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT 'feature', id, rust_file, rust_symbol FROM features WHERE rust_file IS NOT NULL OR rust_symbol IS NOT NULL
                 UNION ALL SELECT 'test', id, rust_file, rust_test FROM tests WHERE rust_file IS NOT NULL OR rust_test IS NOT NULL",
            )?;
            let maps = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))?.collect::<rusqlite::Result<_>>()?;
            let tests = c.prepare("SELECT feature_id, rust_test FROM feature_rust_tests")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            Ok((maps, tests))
        })
    }

    /// Fold the write-ahead log into the database file, so the file alone
    /// (what git stores) holds every committed change.
    pub fn checkpoint(&self) -> Result<(), Error> {
        self.read(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())))
    }

    /// Rewrite this copy into the merge: keep the first `history_prefix`
    /// history rows and `run_prefix` runs, then append the plan's runs
    /// (content from `runs`, by global ID) and changes, re-chained, and set
    /// each touched item to its final state (`proven` gives the proven
    /// hash the deciding side stored).
    pub fn apply_merge(
        &mut self,
        history_prefix: i64,
        run_prefix: i64,
        plan: &Plan,
        runs: &HashMap<String, RunCopy>,
        proven: &HashMap<(String, i64), Option<String>>,
        mappings: &MappingMerge,
    ) -> Result<(), Error> {
        self.write(|tx| apply(tx, history_prefix, run_prefix, plan, runs, proven, mappings))
    }
}

fn export_history(c: &Connection) -> rusqlite::Result<Vec<(i64, Change)>> {
    let mut stmt = c.prepare(
        "SELECT h.id, h.uid, h.change_uid, h.item_kind, h.item_id, h.batch_id, h.from_status, h.to_status, h.reason,
                o.batch_id, o.reason, o.blocking, o.actor, o.at, o.command, g.uid, h.actor, h.at, h.command, h.merge_claims
         FROM status_history h LEFT JOIN overrides o ON o.id = h.override_id LEFT JOIN gate_runs g ON g.id = h.evidence_run
         ORDER BY h.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let override_rec = match r.get::<_, Option<i64>>(9)? {
            Some(batch_id) => Some(OverrideRec { batch_id, reason: r.get(10)?, blocking: r.get(11)?, actor: r.get(12)?, at: r.get(13)?, command: r.get(14)? }),
            None => None,
        };
        Ok((
            r.get(0)?,
            Change {
                uid: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                change_uid: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                item_kind: r.get(3)?,
                item_id: r.get(4)?,
                batch_id: r.get(5)?,
                from_status: r.get(6)?,
                to_status: r.get(7)?,
                reason: r.get(8)?,
                override_rec,
                evidence_uid: r.get(15)?,
                actor: r.get(16)?,
                at: r.get(17)?,
                command: r.get(18)?,
                merge_claims: r.get(19)?,
            },
        ))
    })?;
    rows.collect()
}

fn run_copy(c: &Connection, uid: &str) -> rusqlite::Result<Option<RunCopy>> {
    let names = RUN_HASHED_COLUMNS.join(", ");
    let n = RUN_HASHED_COLUMNS.len();
    let row: Option<(i64, Vec<Value>, Option<String>)> = c
        .prepare_cached(&format!("SELECT id, {names}, actor FROM gate_runs WHERE uid = ?1"))?
        .query_row([uid], |r| {
            let cols = (1..=n).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((r.get(0)?, cols, r.get(n + 1)?))
        })
        .optional()?;
    let Some((id, columns, actor)) = row else { return Ok(None) };
    let results = c
        .prepare_cached("SELECT seq, container, test_name, outcome, duration_ms FROM gate_results WHERE run_id = ?1 ORDER BY seq")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let files = c.prepare_cached("SELECT path, sha256 FROM gate_file_hashes WHERE run_id = ?1 ORDER BY path")?.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(Some(RunCopy { columns, results, files, actor }))
}

fn missing(what: String) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(what.into())
}

fn apply(
    tx: &Transaction<'_>,
    history_prefix: i64,
    run_prefix: i64,
    plan: &Plan,
    runs: &HashMap<String, RunCopy>,
    proven: &HashMap<(String, i64), Option<String>>,
    mappings: &MappingMerge,
) -> rusqlite::Result<()> {
    let mut guards = Vec::new();
    for name in GUARDS {
        let sql: Option<String> = tx.query_row("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1", [name], |r| r.get(0)).optional()?;
        if let Some(sql) = sql {
            tx.execute_batch(&format!("DROP TRIGGER {name}"))?;
            guards.push(sql);
        }
    }
    // Items the tail moved go back to not_started (their final state is
    // set below), so no row points at a run about to be replaced.
    for (kind, id) in plan.finals.keys() {
        set_item(tx, kind, *id, "not_started", None, None)?;
    }
    tx.execute("DELETE FROM status_history WHERE id > ?1", [history_prefix])?;
    tx.execute("DELETE FROM overrides WHERE id NOT IN (SELECT override_id FROM status_history WHERE override_id IS NOT NULL)", [])?;
    tx.execute("DELETE FROM gate_results WHERE run_id > ?1", [run_prefix])?;
    tx.execute("DELETE FROM gate_file_hashes WHERE run_id > ?1", [run_prefix])?;
    tx.execute("DELETE FROM gate_runs WHERE id > ?1", [run_prefix])?;
    // The heads and legacy bounds as of the prefix: every row after it is
    // written again, chained and covering its global IDs.
    for (table, head, bounds) in [
        ("status_history", chain::HISTORY_HEAD, [chain::HISTORY_LEGACY, chain::HISTORY_UID_LEGACY]),
        ("gate_runs", chain::RUNS_HEAD, [chain::RUNS_LEGACY, chain::RUNS_UID_LEGACY]),
    ] {
        let sql = match table {
            "status_history" => "SELECT chain_hash FROM status_history ORDER BY id DESC LIMIT 1",
            _ => "SELECT chain_hash FROM gate_runs ORDER BY id DESC LIMIT 1",
        };
        let hash: Option<Option<String>> = tx.query_row(sql, [], |r| r.get(0)).optional()?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![head, hash.flatten().unwrap_or_default()])?;
        let prefix = if table == "status_history" { history_prefix } else { run_prefix };
        for key in bounds {
            let bound: i64 = chain::meta(tx, key)?.and_then(|v| v.parse().ok()).unwrap_or(0);
            tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, bound.min(prefix).to_string()])?;
        }
    }

    let mut run_ids: HashMap<String, i64> = tx
        .prepare("SELECT uid, id FROM gate_runs WHERE uid IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (key, _) in &plan.runs {
        let copy = runs.get(&key.uid).ok_or_else(|| missing(format!("gate run {} is in neither copy", key.uid)))?;
        let id = chain::append_run(tx, copy.columns.clone(), &copy.results, &copy.files, Some(key.uid.clone()), copy.actor.as_deref())?;
        run_ids.insert(key.uid.clone(), id);
    }

    let mut change_ids: BTreeMap<String, i64> = BTreeMap::new();
    let mut next_change: i64 = tx.query_row("SELECT coalesce(max(change_id), 0) + 1 FROM status_history", [], |r| r.get(0))?;
    let mut overrides: HashMap<(String, String), i64> = HashMap::new();
    for p in &plan.changes {
        let c = &p.change;
        let change_id = *change_ids.entry(c.change_uid.clone()).or_insert_with(|| {
            next_change += 1;
            next_change - 1
        });
        let override_id = match &c.override_rec {
            Some(o) => Some(match overrides.get(&(c.change_uid.clone(), o.reason.clone())) {
                Some(id) => *id,
                None => {
                    tx.execute(
                        "INSERT INTO overrides (batch_id, reason, blocking, actor, at, command) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![o.batch_id, o.reason, o.blocking, o.actor, o.at, o.command],
                    )?;
                    let id = tx.last_insert_rowid();
                    overrides.insert((c.change_uid.clone(), o.reason.clone()), id);
                    id
                }
            }),
            None => None,
        };
        let evidence_run = match &c.evidence_uid {
            Some(u) => Some(*run_ids.get(u).ok_or_else(|| missing(format!("change {} names gate run {u}, which neither copy holds", c.uid)))?),
            None => None,
        };
        chain::append_history(
            tx,
            &NewHistory {
                item_kind: &c.item_kind,
                item_id: c.item_id,
                batch_id: c.batch_id,
                from_status: &c.from_status,
                to_status: &c.to_status,
                reason: c.reason.as_deref(),
                override_id,
                evidence_run,
                actor: &c.actor,
                at: &c.at,
                command: &c.command,
                change_id,
                ids: NewIds { uid: Some(c.uid.clone()), change_uid: Some(c.change_uid.clone()), merge_claims: c.merge_claims.clone() },
            },
        )?;
    }

    // THEIRS's mapping edits, before any item is verified against them.
    for ((kind, id), (file, symbol)) in &mappings.set {
        let sql = match kind.as_str() {
            "feature" => "UPDATE features SET rust_file = ?2, rust_symbol = ?3 WHERE id = ?1",
            _ => "UPDATE tests SET rust_file = ?2, rust_test = ?3 WHERE id = ?1",
        };
        tx.prepare_cached(sql)?.execute(params![id, file, symbol])?;
    }
    for (id, test) in &mappings.remove_tests {
        tx.prepare_cached("DELETE FROM feature_rust_tests WHERE feature_id = ?1 AND rust_test = ?2")?.execute(params![id, test])?;
    }
    for (id, test) in &mappings.add_tests {
        tx.prepare_cached("INSERT OR IGNORE INTO feature_rust_tests (feature_id, rust_test) VALUES (?1, ?2)")?.execute(params![id, test])?;
    }
    // Modules last: a verified module needs its items verified first.
    let (items, modules): (Vec<_>, Vec<_>) = plan.finals.iter().partition(|((kind, _), _)| kind != "module");
    for ((kind, id), (status, evidence, _)) in items.into_iter().chain(modules) {
        let run = match evidence {
            Some(u) => Some(*run_ids.get(u).ok_or_else(|| missing(format!("{kind} {id} is verified by gate run {u}, which neither copy holds")))?),
            None => None,
        };
        set_item(tx, kind, *id, status, run, proven.get(&(kind.clone(), *id)).cloned().flatten())?;
    }
    for sql in guards {
        tx.execute_batch(&sql)?;
    }
    Ok(())
}

fn set_item(tx: &Transaction<'_>, kind: &str, id: i64, status: &str, run: Option<i64>, proven: Option<String>) -> rusqlite::Result<()> {
    let n = match kind {
        "feature" => tx
            .prepare_cached("UPDATE features SET status = ?2, evidence_run = ?3, proven_hash = coalesce(?4, proven_hash) WHERE id = ?1")?
            .execute(params![id, status, run, proven])?,
        "test" => tx
            .prepare_cached("UPDATE tests SET status = ?2, evidence_run = ?3, proven_hash = coalesce(?4, proven_hash) WHERE id = ?1")?
            .execute(params![id, status, run, proven])?,
        _ => tx.prepare_cached("UPDATE modules SET status = ?2 WHERE id = ?1")?.execute(params![id, status])?,
    };
    if n == 0 {
        return Err(missing(format!("{kind} {id} has history in the other copy but is not in this one (imported on one side only)")));
    }
    Ok(())
}

/// What a dump shows of a gate run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    pub uid: String,
    pub started_at: String,
    pub kind: String,
    pub outcome: String,
    pub batch: Option<i64>,
    pub provenance: String,
    pub commit: Option<String>,
    pub passed: i64,
    pub failed: i64,
    pub skipped: i64,
    pub results: i64,
    pub actor: Option<String>,
}

impl Database {
    /// Every gate run, in local order.
    pub fn run_summaries(&self) -> Result<Vec<RunSummary>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT coalesce(uid, ''), started_at, kind, outcome, batch_id, provenance, git_commit, tests_passed, tests_failed, tests_skipped,
                        (SELECT count(*) FROM gate_results r WHERE r.run_id = g.id), actor
                 FROM gate_runs g ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(RunSummary {
                    uid: r.get(0)?,
                    started_at: r.get(1)?,
                    kind: r.get(2)?,
                    outcome: r.get(3)?,
                    batch: r.get(4)?,
                    provenance: r.get(5)?,
                    commit: r.get(6)?,
                    passed: r.get(7)?,
                    failed: r.get(8)?,
                    skipped: r.get(9)?,
                    results: r.get(10)?,
                    actor: r.get(11)?,
                })
            })?;
            rows.collect()
        })
    }
}

/// A conflict a merge recorded that no change has settled yet.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenConflict {
    pub item_kind: String,
    pub item_id: i64,
    pub name: String,
    pub batch: Option<i64>,
    pub status: String,
    pub claims: Vec<crate::domain::merge::Claim>,
    /// The merge's change (local history row and global ID).
    pub history_row: i64,
    pub uid: String,
    pub at: String,
}

impl Database {
    /// Conflicts recorded by merges whose item has not changed since.
    pub fn open_conflicts(&self) -> Result<Vec<OpenConflict>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT h.id, h.item_kind, h.item_id, h.batch_id, h.to_status, h.merge_claims, h.uid, h.at FROM status_history h
                 WHERE h.merge_claims IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM status_history l WHERE l.item_kind = h.item_kind AND l.item_id = h.item_id AND l.id > h.id)
                 ORDER BY h.id",
            )?;
            type Row = (i64, String, i64, Option<i64>, String, String, String, String);
            let rows: Vec<Row> =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))?.collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for (row, kind, id, batch, status, claims, uid, at) in rows {
                let name = match crate::domain::status::ItemKind::from_stored(&kind) {
                    Some(k) => super::read::item_in(c, k, id)?.map(|r| r.qualified_name()).unwrap_or_default(),
                    None => String::new(),
                };
                let claims = serde_json::from_str(&claims).unwrap_or_default();
                out.push(OpenConflict { item_kind: kind, item_id: id, name, batch, status, claims, history_row: row, uid, at });
            }
            Ok(out)
        })
    }
}

/// Whether an item's last change is a merge's unsettled conflict.
pub(crate) fn in_conflict(c: &Connection, kind: &str, id: i64) -> rusqlite::Result<bool> {
    let last: Option<bool> = c
        .prepare_cached("SELECT merge_claims IS NOT NULL FROM status_history WHERE item_kind = ?1 AND item_id = ?2 ORDER BY id DESC LIMIT 1")?
        .query_row(params![kind, id], |r| r.get(0))
        .optional()?;
    Ok(last.unwrap_or(false))
}
