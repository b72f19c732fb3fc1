//! Mutation runs and their mutants (migration 0009): one row per feature
//! per run of cargo-mutants, chained like gate runs.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::Database;
use crate::domain::chain::link;
use crate::domain::evidence::Provenance;
use crate::domain::mutation::{tally, EvidenceFacts, Mutant, MutantOutcome, MutationRecord};
use crate::error::Error;

/// `meta` key of the mutation chain's head.
pub const MUTANTS_HEAD: &str = "chain.mutants_head";

/// A recorded mutation run, as listed and shown.
#[derive(Debug, Clone, Serialize)]
pub struct MutationRunRow {
    pub id: i64,
    #[serde(flatten)]
    pub record: MutationRecord,
}

/// A mutant as shown with its run.
#[derive(Debug, Clone, Serialize)]
pub struct MutantRow {
    pub run: i64,
    #[serde(flatten)]
    pub mutant: Mutant,
}

const COLUMNS: &str = "id, feature_id, batch_id, started_at, duration_ms, command, outcome, failure, rust_file, rust_symbol, first_line, last_line, body_hash, cache_key, tests, git_commit, provenance, untrusted_because, config_sha256, tool_version, shard, origin, tests_key";

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MutationRunRow> {
    let json_list = |i: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = r.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    let untrusted: Option<String> = r.get(17)?;
    let provenance: String = r.get(16)?;
    Ok(MutationRunRow {
        id: r.get(0)?,
        record: MutationRecord {
            feature_id: r.get(1)?,
            batch: r.get(2)?,
            started_at: r.get(3)?,
            duration_ms: r.get(4)?,
            command: json_list(5)?,
            outcome: r.get(6)?,
            failure: r.get(7)?,
            rust_file: r.get(8)?,
            rust_symbol: r.get(9)?,
            first_line: r.get(10)?,
            last_line: r.get(11)?,
            body_hash: r.get(12)?,
            cache_key: r.get(13)?,
            tests: json_list(14)?,
            git_commit: r.get(15)?,
            provenance: Provenance::parse(&provenance),
            untrusted_because: untrusted.map(|u| u.split("; ").map(str::to_string).collect()).unwrap_or_default(),
            config_sha256: r.get(18)?,
            tool_version: r.get(19)?,
            shard: r.get(20)?,
            origin: r.get(21)?,
            tests_key: r.get(22)?,
            mutants: Vec::new(),
        },
    })
}

fn mutants_of(c: &rusqlite::Connection, run: i64) -> rusqlite::Result<Vec<Mutant>> {
    let mut stmt = c.prepare_cached("SELECT file, line, description, diff, outcome, duration_ms, suppressed FROM mutation_mutants WHERE run_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([run], |r| {
        let outcome: String = r.get(4)?;
        Ok(Mutant {
            file: r.get(0)?,
            line: r.get(1)?,
            description: r.get(2)?,
            diff: r.get(3)?,
            outcome: MutantOutcome::parse(&outcome).unwrap_or(MutantOutcome::Unviable),
            duration_ms: r.get(5)?,
            suppressed: r.get(6)?,
        })
    })?;
    rows.collect()
}

fn full_run(c: &rusqlite::Connection, id: i64) -> rusqlite::Result<Option<MutationRunRow>> {
    let Some(mut row) = c.prepare_cached(&format!("SELECT {COLUMNS} FROM mutation_runs WHERE id = ?1"))?.query_row([id], run_row).optional()? else {
        return Ok(None);
    };
    row.record.mutants = mutants_of(c, id)?;
    Ok(Some(row))
}

impl Database {
    /// Append one feature's mutation run with its mutants, chained to the
    /// run before it; returns its ID.
    pub fn record_mutation_run(&mut self, m: &MutationRecord) -> Result<i64, Error> {
        self.write(|tx| {
            let last: Option<(i64, String)> = tx.prepare_cached("SELECT id, chain_hash FROM mutation_runs ORDER BY id DESC LIMIT 1")?.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            let (last, prev) = last.unwrap_or((0, crate::domain::chain::GENESIS.to_string()));
            let id = last + 1;
            let hash = link(&prev, &m.content(id));
            let untrusted = (!m.untrusted_because.is_empty()).then(|| m.untrusted_because.join("; "));
            tx.prepare_cached(&format!("INSERT INTO mutation_runs ({COLUMNS}, chain_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"))?
                .execute(params![
                    id, m.feature_id, m.batch, m.started_at, m.duration_ms, serde_json::to_string(&m.command).unwrap_or_default(), m.outcome, m.failure,
                    m.rust_file, m.rust_symbol, m.first_line, m.last_line, m.body_hash, m.cache_key, serde_json::to_string(&m.tests).unwrap_or_default(),
                    m.git_commit, m.provenance.as_str(), untrusted, m.config_sha256, m.tool_version, m.shard, m.origin, m.tests_key, hash
                ])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO mutation_mutants (run_id, seq, file, line, description, diff, outcome, duration_ms, suppressed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for (seq, x) in m.mutants.iter().enumerate() {
                insert.execute(params![id, seq as i64, x.file, x.line, x.description, x.diff, x.outcome.as_str(), x.duration_ms, x.suppressed])?;
            }
            tx.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?.execute(params![MUTANTS_HEAD, hash])?;
            Ok(id)
        })
    }

    /// The latest trusted, completed run of `feature` under `cache_key`:
    /// the result an unchanged feature reuses.
    pub fn cached_mutation_run(&self, feature: i64, cache_key: &str) -> Result<Option<MutationRunRow>, Error> {
        self.read(|c| {
            let id: Option<i64> = c
                .prepare_cached("SELECT max(id) FROM mutation_runs WHERE feature_id = ?1 AND cache_key = ?2 AND provenance = 'trusted' AND outcome = 'completed'")?
                .query_row(params![feature, cache_key], |r| r.get(0))?;
            match id {
                Some(id) => full_run(c, id),
                None => Ok(None),
            }
        })
    }

    /// One recorded mutation run with its mutants.
    pub fn mutation_run(&self, id: i64) -> Result<Option<MutationRunRow>, Error> {
        self.read(|c| full_run(c, id))
    }

    /// What `verified` sees of each feature's mutation evidence: its latest
    /// trusted run for `body_hash` when there is one, else its latest run.
    pub fn mutation_evidence(&self, feature: i64, body_hash: Option<&str>) -> Result<Option<EvidenceFacts>, Error> {
        self.read(|c| {
            let trusted: Option<i64> = c
                .prepare_cached("SELECT max(id) FROM mutation_runs WHERE feature_id = ?1 AND body_hash IS ?2 AND provenance = 'trusted'")?
                .query_row(params![feature, body_hash], |r| r.get(0))?;
            let id = match trusted {
                Some(id) => Some(id),
                None => c.prepare_cached("SELECT max(id) FROM mutation_runs WHERE feature_id = ?1")?.query_row([feature], |r| r.get(0))?,
            };
            let Some(id) = id else { return Ok(None) };
            let Some(row) = full_run(c, id)? else { return Ok(None) };
            let r = row.record;
            let missed = r.mutants.iter().filter(|m| m.outcome == MutantOutcome::Missed && m.suppressed.is_none()).map(|m| m.description.clone()).collect();
            Ok(Some(EvidenceFacts { run: row.id, body_hash: r.body_hash, tests_key: r.tests_key, outcome: r.outcome, failure: r.failure, provenance: r.provenance, tally: tally(&r.mutants), missed }))
        })
    }

    /// Every mutation run in ID order, for the chain check.
    pub fn mutation_chain(&self) -> Result<Vec<(MutationRunRow, String)>, Error> {
        self.read(|c| {
            let ids: Vec<(i64, String)> = c.prepare_cached("SELECT id, chain_hash FROM mutation_runs ORDER BY id")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for (id, hash) in ids {
                if let Some(row) = full_run(c, id)? {
                    out.push((row, hash));
                }
            }
            Ok(out)
        })
    }

    /// Mutants of the latest trusted, completed mutation run of every
    /// verified feature, and how many verified features have one.
    pub fn verified_mutation_totals(&self) -> Result<(crate::domain::mutation::Tally, u64), Error> {
        self.read(|c| {
            let latest = "SELECT max(r.id) FROM mutation_runs r JOIN features f ON f.id = r.feature_id
                          WHERE f.status = 'verified' AND r.provenance = 'trusted' AND r.outcome = 'completed' GROUP BY r.feature_id";
            let with: i64 = c.prepare_cached(&format!("SELECT count(*) FROM ({latest})"))?.query_row([], |r| r.get(0))?;
            let mut t = crate::domain::mutation::Tally::default();
            let mut stmt = c.prepare_cached(&format!("SELECT outcome, suppressed IS NOT NULL, count(*) FROM mutation_mutants WHERE run_id IN ({latest}) GROUP BY 1, 2"))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let outcome: String = r.get(0)?;
                let suppressed: bool = r.get(1)?;
                let n: i64 = r.get(2)?;
                let n = n as u64;
                match (MutantOutcome::parse(&outcome), suppressed) {
                    (Some(MutantOutcome::Missed), true) => t.suppressed += n,
                    (Some(MutantOutcome::Missed), false) => t.missed += n,
                    (Some(MutantOutcome::Caught), _) => t.caught += n,
                    (Some(MutantOutcome::Timeout), _) => t.timeout += n,
                    _ => t.unviable += n,
                }
            }
            Ok((t, with as u64))
        })
    }

    /// Re-check the mutation chain from its first row: each row's hash
    /// against its content and the row before, and the head in `meta`.
    /// Returns how many rows were checked and every problem.
    pub fn mutation_chain_problems(&self) -> Result<(usize, Vec<super::Finding>), Error> {
        let rows = self.mutation_chain()?;
        let head: Option<String> = self.read(|c| super::chain::meta(c, MUTANTS_HEAD))?;
        let mut problems = Vec::new();
        let mut prev = crate::domain::chain::GENESIS.to_string();
        for (row, stored) in &rows {
            let expected = link(&prev, &row.record.content(row.id));
            if &expected != stored {
                problems.push(super::Finding { subject: format!("mutation run {}", row.id), message: "its hash does not match its content and the run before it: it was edited, inserted or a run before it deleted outside porttrack".into() });
            }
            prev = stored.clone();
        }
        let last = rows.last().map(|(_, h)| h.clone());
        if head != last {
            problems.push(super::Finding { subject: "mutation runs".into(), message: "the chain's head in meta is not the last run's hash: runs were deleted or the head was changed".into() });
        }
        Ok((rows.len(), problems))
    }
}
