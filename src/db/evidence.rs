//! Gate runs and their per-test results: the evidence behind `verified`.

use rusqlite::types::Value;
use rusqlite::OptionalExtension;
use serde::Serialize;

use super::Database;
use crate::domain::evidence::{CommandSource, Provenance, ResultsSource};
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
    /// What the run counts for, and why it is not trusted.
    pub provenance: Provenance,
    pub untrusted_because: Vec<String>,
    pub command_source: CommandSource,
    /// SHA-256 of the porttrack.toml the command came from (None: defaults).
    pub config_sha256: Option<String>,
    pub results_source: Option<ResultsSource>,
    /// The fresh directory porttrack made for the run's results files.
    pub results_dir: Option<String>,
    /// The results file read, when not the output.
    pub results_path: Option<String>,
    /// HEAD and dirtiness when the command ended.
    pub git_commit_end: Option<String>,
    pub git_dirty_end: Option<bool>,
    /// `gate` or `verify`.
    pub origin: &'static str,
    /// Who recorded the run (kept with its global ID).
    pub actor: Option<String>,
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
    pub provenance: String,
    pub untrusted_because: Option<String>,
    pub command_source: Option<String>,
    pub config_sha256: Option<String>,
    pub results_source: Option<String>,
    pub results_dir: Option<String>,
    pub results_path: Option<String>,
    pub git_commit_end: Option<String>,
    pub git_dirty_end: Option<bool>,
    pub origin: Option<String>,
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

const RUN_COLUMNS: &str = "id, kind, command, cwd, started_at, duration_ms, exit_code, outcome, failure, format, tests_passed, tests_failed, tests_skipped, git_commit, git_dirty, log_path, log_sha256, batch_id, provenance, untrusted_because, command_source, config_sha256, results_source, results_dir, results_path, git_commit_end, git_dirty_end, origin";

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
        provenance: r.get(18)?,
        untrusted_because: r.get(19)?,
        command_source: r.get(20)?,
        config_sha256: r.get(21)?,
        results_source: r.get(22)?,
        results_dir: r.get(23)?,
        results_path: r.get(24)?,
        git_commit_end: r.get(25)?,
        git_dirty_end: r.get(26)?,
        origin: r.get(27)?,
    })
}

impl Database {
    /// Store a gate run with its results and file hashes, chained to the
    /// run before it; returns its ID.
    pub fn record_gate_run(&mut self, g: &GateRecord) -> Result<i64, Error> {
        let command = serde_json::to_string(&g.command).unwrap_or_default();
        let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::Text(s.to_string()));
        let int = |i: Option<i64>| i.map_or(Value::Null, Value::Integer);
        let untrusted = (!g.untrusted_because.is_empty()).then(|| g.untrusted_because.join("; "));
        // In the order of chain::RUN_HASHED_COLUMNS.
        let columns = vec![
            Value::Text(g.kind.into()),
            Value::Text(command),
            Value::Text(g.cwd.clone()),
            Value::Text(g.started_at.clone()),
            Value::Integer(g.duration_ms as i64),
            int(g.exit_code.map(i64::from)),
            Value::Text(g.outcome.into()),
            text(g.failure.as_deref()),
            text(g.format.as_deref()),
            Value::Integer(g.counts.passed as i64),
            Value::Integer(g.counts.failed as i64),
            Value::Integer(g.counts.skipped as i64),
            text(g.git_commit.as_deref()),
            int(g.git_dirty.map(i64::from)),
            text(g.log_path.as_deref()),
            text(g.log_sha256.as_deref()),
            int(g.batch),
            Value::Text(g.provenance.as_str().into()),
            text(untrusted.as_deref()),
            Value::Text(g.command_source.as_str().into()),
            text(g.config_sha256.as_deref()),
            text(g.results_source.map(|r| r.as_str())),
            text(g.results_dir.as_deref()),
            text(g.results_path.as_deref()),
            text(g.git_commit_end.as_deref()),
            int(g.git_dirty_end.map(i64::from)),
            Value::Text(g.origin.into()),
        ];
        let results: Vec<crate::domain::chain::ResultEntry> = g
            .results
            .iter()
            .enumerate()
            .map(|(seq, r)| (seq as i64, r.container.clone(), r.name.clone(), r.outcome.as_str().to_string(), r.duration_ms.map(|d| d as i64)))
            .collect();
        self.write(|tx| super::chain::append_run(tx, columns, &results, &g.file_hashes, None, g.actor.as_deref()))
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
