//! Is the database what porttrack wrote? A cheap check before every write
//! (the ends of both hash chains; status writes also replay the items they
//! change, see `update::replay_mismatch`), and the full reads behind
//! `porttrack audit`: SQLite's own check, the schema, both chains from the
//! first row, and every item's status replayed from its history.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::chain::{self, history_row, HISTORY_LEGACY, RUNS_LEGACY};
use super::read::ItemRow;
use super::Database;
use crate::domain::chain::link;
use crate::domain::evidence::RunFacts;
use crate::domain::status::ItemKind;
use crate::domain::transitions::Coverage;
use crate::error::Error;

/// The check every write transaction runs first; Some(why) refuses it.
pub(crate) fn before_write(c: &Connection) -> rusqlite::Result<Option<String>> {
    for table in ["status_history", "gate_runs"] {
        if let Some(why) = chain::check_tail(c, table)? {
            return Ok(Some(why));
        }
    }
    Ok(None)
}

/// A problem `audit` found, about one row or item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// What it concerns: `history row 12`, `gate run 3`, `test 2618 TestNRGSimple`.
    pub subject: String,
    pub message: String,
}

fn finding(subject: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding { subject: subject.into(), message: message.into() }
}

fn legacy_bound(c: &Connection, key: &str) -> rusqlite::Result<i64> {
    Ok(chain::meta(c, key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn has_table(c: &Connection, name: &str) -> rusqlite::Result<bool> {
    c.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)", [name], |r| r.get(0))
}

/// What the full chain walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChainReport {
    pub rows: u64,
    /// Rows from before the chain existed (no hash, not checkable).
    pub legacy_rows: u64,
    pub problems: Vec<Finding>,
}

impl Database {
    /// SQLite's `PRAGMA quick_check`: every page, record and constraint.
    pub fn quick_check(&self) -> Result<Vec<String>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare("PRAGMA quick_check")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows.into_iter().filter(|r| r != "ok").collect())
        })
    }

    /// The schema in `porting.db.schema`'s format.
    pub fn schema_dump(&self) -> Result<String, Error> {
        self.read(super::schema::dump)
    }

    /// How the schema differs from `porting.db.schema`.
    pub fn schema_differences(&self) -> Result<Vec<String>, Error> {
        self.read(super::schema::differences)
    }

    /// Walk the history chain from its first row.
    pub fn history_chain(&self) -> Result<ChainReport, Error> {
        self.read(|c| {
            let mut report = ChainReport::default();
            if !has_table(c, "status_history")? || !has_table(c, "overrides")? {
                return Ok(report);
            }
            let legacy = legacy_bound(c, HISTORY_LEGACY)?;
            let uid_legacy = legacy_bound(c, chain::HISTORY_UID_LEGACY)?;
            let mut stmt = c.prepare(&format!("{} ORDER BY h.id", chain::HISTORY_SELECT))?;
            let mut rows = stmt.query([])?;
            let mut prev = String::new();
            while let Some(r) = rows.next()? {
                let (entry, stored) = history_row(r, uid_legacy)?;
                report.rows += 1;
                let subject = format!("history row {} ({} {} {} → {})", entry.id, entry.item_kind, entry.item_id, entry.from_status, entry.to_status);
                if let Some(why) = chain::legacy_history_uid_problem(&entry, stored.as_deref()) {
                    report.problems.push(finding(subject.clone(), why));
                }
                match &stored {
                    None if entry.id <= legacy => report.legacy_rows += 1,
                    None => report.problems.push(finding(subject, "has no chain hash: written outside porttrack")),
                    Some(h) if *h != link(&prev, &entry.content()) => {
                        report.problems.push(finding(subject, "does not match its chain hash: edited outside porttrack, or a row before it was deleted"))
                    }
                    Some(_) => {}
                }
                prev = stored.unwrap_or_default();
            }
            let head = chain::meta(c, chain::HISTORY_HEAD)?.unwrap_or_default();
            if head != prev {
                report.problems.push(finding("history", "the last row is not the head porttrack recorded: rows were deleted or added at the end outside porttrack"));
            }
            Ok(report)
        })
    }

    /// Walk the gate-run chain from its first run (results and file hashes
    /// included in each run's hash).
    pub fn run_chain(&self) -> Result<ChainReport, Error> {
        self.read(|c| {
            let mut report = ChainReport::default();
            for t in ["gate_runs", "gate_results", "gate_file_hashes"] {
                if !has_table(c, t)? {
                    return Ok(report);
                }
            }
            let legacy = legacy_bound(c, RUNS_LEGACY)?;
            let ids: Vec<i64> = c.prepare("SELECT id FROM gate_runs ORDER BY id")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            let mut prev = String::new();
            for id in ids {
                let Some((entry, stored)) = chain::run_entry(c, id)? else { continue };
                report.rows += 1;
                let subject = format!("gate run {id}");
                if let Some(why) = chain::legacy_run_uid_problem(&entry, stored.as_deref()) {
                    report.problems.push(finding(subject.clone(), why));
                }
                match &stored {
                    None if id <= legacy => report.legacy_rows += 1,
                    None => report.problems.push(finding(subject, "has no chain hash: recorded outside porttrack")),
                    Some(h) if *h != link(&prev, &entry.content()) => report.problems.push(finding(
                        subject,
                        "does not match its chain hash: the run, its per-test results or its file hashes were changed outside porttrack (or a run before it was deleted)",
                    )),
                    Some(_) => {}
                }
                prev = stored.unwrap_or_default();
            }
            // Results or hashes of runs that no longer exist.
            let orphans: i64 = c.query_row(
                "SELECT (SELECT count(*) FROM gate_results WHERE run_id NOT IN (SELECT id FROM gate_runs)) + (SELECT count(*) FROM gate_file_hashes WHERE run_id NOT IN (SELECT id FROM gate_runs))",
                [],
                |r| r.get(0),
            )?;
            if orphans > 0 {
                report.problems.push(finding("gate runs", format!("{orphans} result or file-hash row(s) belong to no recorded run")));
            }
            let head = chain::meta(c, chain::RUNS_HEAD)?.unwrap_or_default();
            if head != prev {
                report.problems.push(finding("gate runs", "the last run is not the head porttrack recorded: runs were deleted or added at the end outside porttrack"));
            }
            Ok(report)
        })
    }

    /// Items whose status or evidence is not what their history replays
    /// to, and history rows that do not follow on from the row before.
    pub fn replay_problems(&self) -> Result<Vec<Finding>, Error> {
        self.read(|c| {
            let mut out = Vec::new();
            if !has_table(c, "status_history")? {
                return Ok(out);
            }
            // Last history row per item, checking each row follows the last.
            let mut last: HashMap<(String, i64), (String, Option<i64>)> = HashMap::new();
            let mut stmt = c.prepare("SELECT id, item_kind, item_id, from_status, to_status, evidence_run FROM status_history ORDER BY item_kind, item_id, id")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let (id, kind, item, from, to, ev): (i64, String, i64, String, String, Option<i64>) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
                let before = last.get(&(kind.clone(), item)).map_or("not_started", |(s, _)| s.as_str());
                if from != before {
                    out.push(finding(format!("history row {id}"), format!("moves {kind} {item} from {from}, but its previous status was {before}: a row is missing or was changed")));
                }
                last.insert((kind, item), (to, ev));
            }
            for (kind, table) in [("feature", "features"), ("test", "tests")] {
                let sql = match table {
                    "features" => "SELECT id, status, evidence_run FROM features WHERE status <> 'not_started' OR evidence_run IS NOT NULL",
                    _ => "SELECT id, status, evidence_run FROM tests WHERE status <> 'not_started' OR evidence_run IS NOT NULL",
                };
                let mut stmt = c.prepare(sql)?;
                let mut rows = stmt.query([])?;
                let mut seen = std::collections::HashSet::new();
                while let Some(r) = rows.next()? {
                    let (id, status, ev): (i64, String, Option<i64>) = (r.get(0)?, r.get(1)?, r.get(2)?);
                    seen.insert(id);
                    let (want, want_ev) = match last.get(&(kind.to_string(), id)) {
                        Some((to, e)) => (to.as_str(), if to == "verified" { *e } else { None }),
                        None => ("not_started", None),
                    };
                    if status != want || ev != want_ev {
                        out.push(finding(
                            format!("{kind} {id}"),
                            format!("is {status} (evidence {}) but its history says {want} (evidence {}): changed outside porttrack", show(ev), show(want_ev)),
                        ));
                    }
                }
                for ((k, id), (to, _)) in &last {
                    if k == kind && to != "not_started" && !seen.contains(id) {
                        let exists: bool = c.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)"), [id], |r| r.get(0))?;
                        let why = if exists { format!("is not_started but its history says {to}: changed outside porttrack") } else { "has history but no longer exists".to_string() };
                        out.push(finding(format!("{kind} {id}"), why));
                    }
                }
            }
            out.sort_by(|a, b| a.subject.cmp(&b.subject));
            Ok(out)
        })
    }

    /// Every verified item.
    pub fn verified_items(&self) -> Result<Vec<ItemRow>, Error> {
        let mut out = Vec::new();
        for kind in [ItemKind::Feature, ItemKind::Test] {
            let filter = super::read::ListFilter { status: Some(crate::domain::status::ItemStatus::Verified), ..Default::default() };
            out.extend(self.list_items(kind, &filter)?);
        }
        Ok(out)
    }

    /// A recorded run's facts for admitting it as evidence.
    pub fn run_facts(&self, run: i64) -> Result<Option<RunFacts>, Error> {
        self.read(|c| super::update::run_facts(c, run))
    }

    /// Outcomes, in `run`, of the Rust tests exercising `row`.
    pub fn coverage(&self, row: &ItemRow, run: i64) -> Result<Coverage, Error> {
        self.read(|c| super::update::coverage(c, row, run))
    }

    /// The hash `run` recorded for `path`: None when it has no row,
    /// Some(None) when the file was missing.
    pub fn recorded_hash(&self, run: i64, path: &str) -> Result<Option<Option<String>>, Error> {
        self.read(|c| {
            use rusqlite::OptionalExtension;
            c.query_row("SELECT sha256 FROM gate_file_hashes WHERE run_id = ?1 AND path = ?2", params![run, path], |r| r.get(0)).optional()
        })
    }
}

fn show(r: Option<i64>) -> String {
    r.map_or("none".to_string(), |r| r.to_string())
}
