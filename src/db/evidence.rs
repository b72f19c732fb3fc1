//! Gate runs and their per-test results: the evidence behind `verified`.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::Database;
use crate::error::Error;
use crate::gate::results::{Counts, TestResult};

/// Everything recorded about one gate run.
#[derive(Debug, Clone, Serialize)]
pub struct GateRecord {
    pub kind: &'static str,
    pub command: Vec<String>,
    pub cwd: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub exit_code: Option<i32>,
    /// passed, failed, timed_out or could_not_run.
    pub outcome: &'static str,
    pub failure: Option<String>,
    pub format: Option<String>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub log_path: Option<String>,
    pub log_sha256: Option<String>,
    pub batch: Option<i64>,
    /// Every result under the runner's full identity, in the runner's order.
    pub results: Vec<TestResult>,
    /// What the runner counted, named or not (`cargo test -q` names only
    /// failures): the run's totals.
    pub counts: Counts,
    /// SHA-256 of each Rust target file (None: missing) when recorded.
    pub file_hashes: Vec<(String, Option<String>)>,
}

/// A recorded run, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub kind: String,
    pub command: Vec<String>,
    pub cwd: String,
    pub started_at: String,
    pub duration_ms: i64,
    pub exit_code: Option<i64>,
    pub outcome: String,
    pub failure: Option<String>,
    pub format: Option<String>,
    pub tests_passed: i64,
    pub tests_failed: i64,
    pub tests_skipped: i64,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub log_path: Option<String>,
    pub log_sha256: Option<String>,
    pub batch: Option<i64>,
}

/// One recorded result: the test's container (binary id, class or
/// package; empty when the runner names none) and its name within it.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub container: String,
    pub test_name: String,
    pub outcome: String,
    pub duration_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileHashRow {
    pub path: String,
    pub sha256: Option<String>,
}

const RUN_COLUMNS: &str = "id, kind, command, cwd, started_at, duration_ms, exit_code, outcome, failure, format, tests_passed, tests_failed, tests_skipped, git_commit, git_dirty, log_path, log_sha256, batch_id";

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    let command: String = r.get(2)?;
    Ok(RunRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        command: serde_json::from_str(&command).unwrap_or_else(|_| vec![command]),
        cwd: r.get(3)?,
        started_at: r.get(4)?,
        duration_ms: r.get(5)?,
        exit_code: r.get(6)?,
        outcome: r.get(7)?,
        failure: r.get(8)?,
        format: r.get(9)?,
        tests_passed: r.get(10)?,
        tests_failed: r.get(11)?,
        tests_skipped: r.get(12)?,
        git_commit: r.get(13)?,
        git_dirty: r.get(14)?,
        log_path: r.get(15)?,
        log_sha256: r.get(16)?,
        batch: r.get(17)?,
    })
}

impl Database {
    /// Store a gate run with its results and file hashes; returns its ID.
    pub fn record_gate_run(&mut self, g: &GateRecord) -> Result<i64, Error> {
        let command = serde_json::to_string(&g.command).unwrap_or_default();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO gate_runs (kind, command, cwd, started_at, duration_ms, exit_code, outcome, failure, format, tests_passed, tests_failed, tests_skipped, git_commit, git_dirty, log_path, log_sha256, batch_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
                    g.kind, command, g.cwd, g.started_at, g.duration_ms as i64, g.exit_code, g.outcome, g.failure, g.format,
                    g.counts.passed as i64, g.counts.failed as i64, g.counts.skipped as i64, g.git_commit, g.git_dirty, g.log_path, g.log_sha256, g.batch
                ],
            )?;
            let run = tx.last_insert_rowid();
            let mut insert = tx.prepare_cached("INSERT INTO gate_results (run_id, seq, container, test_name, outcome, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            for (seq, r) in g.results.iter().enumerate() {
                insert.execute(params![run, seq as i64, r.container, r.name, r.outcome.as_str(), r.duration_ms.map(|d| d as i64)])?;
            }
            let mut hash = tx.prepare_cached("INSERT INTO gate_file_hashes (run_id, path, sha256) VALUES (?1, ?2, ?3)")?;
            for (path, sha) in &g.file_hashes {
                hash.execute(params![run, path, sha])?;
            }
            Ok(run)
        })
    }

    /// The most recent runs first.
    pub fn gate_runs(&self, limit: i64) -> Result<Vec<RunRow>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM gate_runs ORDER BY id DESC LIMIT ?1"))?;
            let rows = stmt.query_map([limit], run_row)?;
            rows.collect()
        })
    }

    pub fn gate_run(&self, id: i64) -> Result<Option<(RunRow, Vec<ResultRow>, Vec<FileHashRow>)>, Error> {
        self.read(|c| {
            let Some(run) = c.query_row(&format!("SELECT {RUN_COLUMNS} FROM gate_runs WHERE id = ?1"), [id], run_row).optional()? else {
                return Ok(None);
            };
            let mut stmt = c.prepare_cached("SELECT container, test_name, outcome, duration_ms FROM gate_results WHERE run_id = ?1 ORDER BY seq")?;
            let results = stmt
                .query_map([id], |r| Ok(ResultRow { container: r.get(0)?, test_name: r.get(1)?, outcome: r.get(2)?, duration_ms: r.get(3)? }))?
                .collect::<rusqlite::Result<_>>()?;
            let mut stmt = c.prepare_cached("SELECT path, sha256 FROM gate_file_hashes WHERE run_id = ?1 ORDER BY path")?;
            let files = stmt.query_map([id], |r| Ok(FileHashRow { path: r.get(0)?, sha256: r.get(1)? }))?.collect::<rusqlite::Result<_>>()?;
            Ok(Some((run, results, files)))
        })
    }

    /// Every Rust file some feature or test is mapped to.
    pub fn mapped_rust_files(&self) -> Result<Vec<String>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT rust_file FROM features WHERE rust_file IS NOT NULL UNION SELECT rust_file FROM tests WHERE rust_file IS NOT NULL ORDER BY 1",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// `(item kind, id, rust_file, recorded sha256)` of verified items whose
    /// evidence run recorded a hash of their Rust file.
    pub fn verified_file_hashes(&self, batch: Option<i64>) -> Result<Vec<(crate::domain::status::ItemKind, i64, String, Option<String>)>, Error> {
        use crate::domain::status::ItemKind;
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT 'feature', x.id, x.rust_file, h.sha256 FROM features x JOIN gate_file_hashes h ON h.run_id = x.evidence_run AND h.path = x.rust_file
                 WHERE x.evidence_run IS NOT NULL AND x.status = 'verified' AND (?1 IS NULL OR x.batch_id = ?1)
                 UNION ALL
                 SELECT 'test', x.id, x.rust_file, h.sha256 FROM tests x JOIN gate_file_hashes h ON h.run_id = x.evidence_run AND h.path = x.rust_file
                 WHERE x.evidence_run IS NOT NULL AND x.status = 'verified' AND (?1 IS NULL OR x.batch_id = ?1)",
            )?;
            let rows = stmt.query_map([batch], |r| {
                let kind: String = r.get(0)?;
                Ok((if kind == "feature" { ItemKind::Feature } else { ItemKind::Test }, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect()
        })
    }
}
