//! Status changes: one `BEGIN IMMEDIATE` transaction per call. Items are
//! resolved, every one is judged with the facts read inside the same
//! transaction, and only when all pass are statuses written together with
//! their history rows (and an override row when one was used).

use std::collections::{BTreeMap, HashSet};

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::{read::ItemRow, Database};
use crate::domain::idlist::{format_ids, ListItem};
use crate::domain::status::{ItemKind, ItemStatus};
use crate::domain::test_identity::{self, ambiguity_message, Resolution};
use crate::domain::evidence::{EvidenceUse, Provenance, RunFacts};
use crate::domain::transitions::{Coverage, Dependencies, Facts, Request, Verdict};
use crate::gate::results::TestOutcome;
use crate::error::Error;

/// Most items one call may change.
pub const MAX_ITEMS: usize = 15;
/// Unfinished dependency items listed by name in a refusal.
const SHOWN_UNFINISHED: usize = 10;

/// A status change as the user asked for it.
#[derive(Debug, Clone)]
pub struct ChangeInput {
    pub modules: Vec<ListItem>,
    pub features: Vec<ListItem>,
    pub tests: Vec<ListItem>,
    pub request: Request,
    pub actor: String,
    pub at: String,
    /// The command line, recorded in history.
    pub command: String,
    pub dry_run: bool,
    /// Stub-scan findings by feature ID (`path:line rule`).
    pub stub_findings: BTreeMap<i64, String>,
    /// Features whose Rust target cannot be checked (missing, unreadable,
    /// outside the root), by ID, with why.
    pub target_problems: BTreeMap<i64, String>,
    /// SHA-256 of the batch's Rust files now (None: unreadable), by path,
    /// to compare with what the evidence run recorded.
    pub current_hashes: BTreeMap<String, Option<String>>,
    /// How the evidence run is used (`verify` admits a completed run whose
    /// gate failed; each item's own tests decide).
    pub evidence_use: EvidenceUse,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemOutcome {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub from: ItemStatus,
    pub to: ItemStatus,
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    pub batch: i64,
    pub to: ItemStatus,
    /// Whether anything was written (false on refusal and on --dry-run).
    pub applied: bool,
    pub dry_run: bool,
    /// Groups this call's history rows.
    pub change_id: Option<i64>,
    pub override_id: Option<i64>,
    pub evidence_run: Option<i64>,
    pub items: Vec<ItemOutcome>,
    /// Unfinished items of the batches this batch depends on.
    pub unfinished_dependencies: Vec<String>,
    pub unfinished_dependency_count: u64,
}

impl ChangeOutcome {
    pub fn refused(&self) -> usize {
        self.items.iter().filter(|i| matches!(i.verdict, Verdict::Refused(_))).count()
    }

    pub fn changed(&self) -> usize {
        self.items.iter().filter(|i| matches!(i.verdict, Verdict::Change { .. })).count()
    }
}

impl Database {
    /// Judge and (unless refused or a dry run) apply one status change.
    /// `judge` decides each item from facts read inside the transaction.
    pub fn change_status(&mut self, input: &ChangeInput, judge: impl Fn(&Facts, &Request, &Dependencies) -> Verdict) -> Result<ChangeOutcome, Error> {
        let path = self.path().to_path_buf();
        let to = input.request.to.ok_or_else(|| Error::usage("no target status"))?;
        self.transaction(|tx| {
            let outcome = change_in(tx, input, to, &judge).map_err(|e| lift(e, &path))?;
            let commit = outcome.applied;
            Ok((outcome, commit))
        })
    }
}

/// Errors inside the closure are either ours or SQLite's.
enum TxError {
    Domain(Error),
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for TxError {
    fn from(e: rusqlite::Error) -> Self {
        TxError::Sql(e)
    }
}

impl From<Error> for TxError {
    fn from(e: Error) -> Self {
        TxError::Domain(e)
    }
}

fn lift(e: TxError, path: &std::path::Path) -> Error {
    match e {
        TxError::Domain(d) => d,
        TxError::Sql(s) => super::sql_error(path, s),
    }
}

fn change_in(
    tx: &Transaction<'_>,
    input: &ChangeInput,
    to: ItemStatus,
    judge: &impl Fn(&Facts, &Request, &Dependencies) -> Verdict,
) -> Result<ChangeOutcome, TxError> {
    let req = &input.request;
    let batch_exists: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM batches WHERE id = ?1)", [req.batch], |r| r.get(0))?;
    if !batch_exists {
        return Err(Error::not_found_with_hint("batch", req.batch.to_string(), "; `porttrack batch list` shows the batches").into());
    }
    if input.features.is_empty() && input.tests.is_empty() && input.modules.is_empty() {
        return Err(Error::usage("nothing to update: give --features LIST, --tests LIST and/or --modules LIST").into());
    }

    let features = resolve(tx, ItemKind::Feature, &input.features)?;
    let tests = resolve(tx, ItemKind::Test, &input.tests)?;
    let modules = resolve(tx, ItemKind::Module, &input.modules)?;
    let total = features.len() + tests.len() + modules.len();
    if total > MAX_ITEMS {
        let all: Vec<ItemRow> = features.iter().chain(&tests).chain(&modules).cloned().collect();
        return Err(Error::usage(split_message(req.batch, to, &all)).into());
    }

    if let Some(run) = req.evidence_run {
        let Some(facts) = run_facts(tx, run)? else {
            return Err(Error::not_found_with_hint("evidence run", run.to_string(), "; `porttrack evidence list` shows recorded test-gate runs").into());
        };
        crate::domain::evidence::admit(&facts, req.batch, input.evidence_use).map_err(|why| Error::Refused(format!("evidence run {run} cannot prove verified: {why}")))?;
        if let Some(why) = super::chain::check_run(tx, run)? {
            return Err(Error::Refused(format!("evidence run {run} cannot prove verified: {why}; `porttrack audit` shows what else changed")).into());
        }
    }

    for row in features.iter().chain(&tests) {
        if let Some(why) = replay_mismatch(tx, row)? {
            return Err(Error::Database { path: Default::default(), message: format!("{why}; nothing was written (`porttrack audit` shows what else changed)") }.into());
        }
    }

    let deps = unfinished_dependencies(tx, req.batch)?;
    let mut items = Vec::with_capacity(total);
    for row in features.iter().chain(&tests).chain(&modules) {
        let coverage = match (row.kind, req.evidence_run) {
            (ItemKind::Module, _) => Some(module_items(tx, row.id)?),
            (_, Some(run)) => Some(coverage(tx, row, run)?),
            (_, None) => None,
        };
        let evidence_problem = match (req.evidence_run, &row.rust_file) {
            (Some(run), Some(file)) if to == ItemStatus::Verified => {
                let recorded: Option<Option<String>> = tx
                    .prepare_cached("SELECT sha256 FROM gate_file_hashes WHERE run_id = ?1 AND path = ?2")?
                    .query_row(params![run, file], |r| r.get(0))
                    .optional()?;
                let current = input.current_hashes.get(file).cloned().flatten();
                crate::domain::evidence::file_mismatch(run, file, recorded.as_ref().map(|h| h.as_deref()), current.as_deref())
            }
            _ => None,
        };
        let (stub_finding, target_problem) = match row.kind {
            ItemKind::Feature => {
                let unmapped = (to == ItemStatus::Verified && row.rust_file.is_none()).then(|| "has no Rust target (map one with `porttrack map feature`)".to_string());
                (input.stub_findings.get(&row.id).cloned(), input.target_problems.get(&row.id).cloned().or(unmapped))
            }
            ItemKind::Test | ItemKind::Module => (None, None),
        };
        let in_conflict = super::merge::in_conflict(tx, row.kind.as_str(), row.id)?;
        let facts = Facts { kind: row.kind, id: row.id, name: row.qualified_name(), batch: row.batch, status: row.status, coverage, stub_finding, target_problem, evidence_problem, in_conflict };
        let verdict = judge(&facts, req, &deps);
        items.push(ItemOutcome { kind: row.kind, id: row.id, name: facts.name, from: row.status, to, verdict });
    }

    let mut outcome = ChangeOutcome {
        batch: req.batch,
        to,
        applied: false,
        dry_run: input.dry_run,
        change_id: None,
        override_id: None,
        evidence_run: req.evidence_run,
        items,
        unfinished_dependencies: deps.first.clone(),
        unfinished_dependency_count: deps.count,
    };
    if outcome.refused() > 0 || input.dry_run || outcome.changed() == 0 {
        return Ok(outcome);
    }

    let override_used = outcome.items.iter().any(|i| matches!(i.verdict, Verdict::Change { override_used: true }));
    if override_used {
        let batches: Vec<String> = deps.batches.iter().map(i64::to_string).collect();
        let blocking = format!("{} unfinished item(s) in batch {}", deps.count, batches.join(", "));
        tx.execute(
            "INSERT INTO overrides (batch_id, reason, blocking, actor, at, command) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![req.batch, req.override_reason.as_deref().unwrap_or_default(), blocking, input.actor, input.at, input.command],
        )?;
        outcome.override_id = Some(tx.last_insert_rowid());
    }
    let change_id: i64 = tx.query_row("SELECT coalesce(max(change_id), 0) + 1 FROM status_history", [], |r| r.get(0))?;
    outcome.change_id = Some(change_id);
    let evidence = if to == ItemStatus::Verified { req.evidence_run } else { None };
    for item in outcome.items.iter().filter(|i| matches!(i.verdict, Verdict::Change { .. })) {
        // Complete and verified remember the Go body the port now follows
        // (the latest upstream snapshot's, else the inventory's), so a later
        // upstream change is flagged.
        match item.kind {
            ItemKind::Feature => tx
                .prepare_cached(
                    "UPDATE features SET status = ?2, evidence_run = ?3,
                         proven_hash = CASE WHEN ?2 IN ('complete', 'verified') THEN coalesce(
                             (SELECT u.body_hash FROM upstream_items u WHERE u.item_kind = 'feature' AND u.item_id = ?1
                              AND u.upstream_id = (SELECT max(id) FROM upstream_commits)), body_hash) ELSE proven_hash END
                     WHERE id = ?1",
                )?
                .execute(params![item.id, to.as_str(), evidence])?,
            ItemKind::Test => tx
                .prepare_cached(
                    "UPDATE tests SET status = ?2, evidence_run = ?3,
                         proven_hash = CASE WHEN ?2 IN ('complete', 'verified') THEN coalesce(
                             (SELECT u.body_hash FROM upstream_items u WHERE u.item_kind = 'test' AND u.item_id = ?1
                              AND u.upstream_id = (SELECT max(id) FROM upstream_commits)), body_hash) ELSE proven_hash END
                     WHERE id = ?1",
                )?
                .execute(params![item.id, to.as_str(), evidence])?,
            // A module's evidence is its items'; the history row keeps the run.
            ItemKind::Module => tx.prepare_cached("UPDATE modules SET status = ?2 WHERE id = ?1")?.execute(params![item.id, to.as_str()])?,
        };
        let used = matches!(item.verdict, Verdict::Change { override_used: true });
        super::chain::append_history(
            tx,
            &super::chain::NewHistory {
                item_kind: item.kind.as_str(),
                item_id: item.id,
                batch_id: Some(req.batch),
                from_status: item.from.as_str(),
                to_status: to.as_str(),
                reason: req.reason.as_deref(),
                override_id: if used { outcome.override_id } else { None },
                evidence_run: req.evidence_run,
                actor: &input.actor,
                at: &input.at,
                command: &input.command,
                change_id,
                ids: Default::default(),
            },
        )?;
    }
    outcome.applied = true;
    Ok(outcome)
}

/// Resolve list pieces to rows, in list order. Unknown IDs and names are
/// collected and reported together; duplicates are refused.
fn resolve(tx: &Transaction<'_>, kind: ItemKind, list: &[ListItem]) -> Result<Vec<ItemRow>, TxError> {
    let mut rows: Vec<ItemRow> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut duplicates: Vec<String> = Vec::new();
    let mut push = |row: ItemRow, rows: &mut Vec<ItemRow>| {
        if seen.insert(row.id) {
            rows.push(row);
        } else {
            duplicates.push(format!("{} ({})", row.id, row.qualified_name()));
        }
    };
    for piece in list {
        match piece {
            ListItem::Id(id) => match super::read::item_in(tx, kind, *id)? {
                Some(row) => push(row, &mut rows),
                None => unknown.push(id.to_string()),
            },
            ListItem::Range(a, b) => {
                let found = super::read::items_in_range(tx, kind, *a, *b)?;
                if found.len() as i64 != b - a + 1 {
                    let have: HashSet<i64> = found.iter().map(|r| r.id).collect();
                    let missing: Vec<i64> = (*a..=*b).filter(|i| !have.contains(i)).collect();
                    unknown.push(format!("{} (in {a}-{b})", format_ids(&missing)));
                }
                for row in found {
                    push(row, &mut rows);
                }
            }
            ListItem::Name { receiver, name } => {
                let found = super::read::items_named_in(tx, kind, receiver.as_deref(), name)?;
                let shown = match receiver {
                    Some(r) => format!("{r}.{name}"),
                    None => name.clone(),
                };
                match found.len() {
                    0 => unknown.push(shown),
                    1 => push(found.into_iter().next().ok_or_else(|| Error::usage("name resolution changed"))?, &mut rows),
                    n => {
                        let ids: Vec<String> = found.iter().take(SHOWN_UNFINISHED).map(|r| format!("{} {}", r.id, r.qualified_name())).collect();
                        return Err(Error::usage(format!("'{shown}' is ambiguous: it names {n} {}s ({}{}); use IDs", kind.as_str(), ids.join(", "), if n > SHOWN_UNFINISHED { ", …" } else { "" })).into());
                    }
                }
            }
        }
    }
    if !unknown.is_empty() {
        return Err(Error::not_found(kind.as_str(), unknown.join(", ")).into());
    }
    if !duplicates.is_empty() {
        return Err(Error::usage(format!("{} listed more than once: {}", kind.as_str(), duplicates.join(", "))).into());
    }
    Ok(rows)
}

/// The refusal for more than 15 items, with a split that would work.
fn split_message(batch: i64, to: ItemStatus, rows: &[ItemRow]) -> String {
    let all: Vec<(ItemKind, i64)> = rows.iter().map(|r| (r.kind, r.id)).collect();
    let count = |k: ItemKind| all.iter().filter(|(kind, _)| *kind == k).count();
    let modules = match count(ItemKind::Module) {
        0 => String::new(),
        n => format!(", {n} module(s)"),
    };
    let mut msg = format!(
        "too many items: {} feature(s) and {} test(s){modules}; an update changes at most {MAX_ITEMS} items, all or nothing. Split it into:",
        count(ItemKind::Feature),
        count(ItemKind::Test)
    );
    for chunk in all.chunks(MAX_ITEMS) {
        let ids = |k: ItemKind| chunk.iter().filter(|(kind, _)| *kind == k).map(|(_, id)| *id).collect::<Vec<_>>();
        let (f, t, m) = (ids(ItemKind::Feature), ids(ItemKind::Test), ids(ItemKind::Module));
        let mut cmd = format!("\n  porttrack batch update {batch}");
        if !f.is_empty() {
            cmd.push_str(&format!(" --features {}", format_ids(&f)));
        }
        if !t.is_empty() {
            cmd.push_str(&format!(" --tests {}", format_ids(&t)));
        }
        if !m.is_empty() {
            cmd.push_str(&format!(" --modules {}", format_ids(&m)));
        }
        cmd.push_str(&format!(" --status {to}"));
        msg.push_str(&cmd);
    }
    msg.push_str("\n(with the same --reason/--override/--evidence options)");
    msg
}

impl Database {
    /// Items of the batches `batch` depends on that are not done.
    pub fn unfinished_dependencies(&self, batch: i64) -> Result<Dependencies, Error> {
        self.read(|c| unfinished_dependencies(c, batch))
    }

    /// Rust tests that exercise each feature of a batch (linked source
    /// tests' Rust tests and Rust tests registered for the feature).
    pub fn exercising_tests(&self, batch: i64) -> Result<BTreeMap<i64, Vec<String>>, Error> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT x.feature_id, x.rust_test FROM feature_exercising_tests x JOIN features f ON f.id = x.feature_id
                 WHERE f.batch_id = ?1 ORDER BY x.feature_id, x.rust_test",
            )?;
            let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            let mut rows = stmt.query([batch])?;
            while let Some(r) = rows.next()? {
                out.entry(r.get(0)?).or_default().push(r.get(1)?);
            }
            Ok(out)
        })
    }
}

/// Items of the batches `batch` depends on that are not done.
fn unfinished_dependencies(tx: &rusqlite::Connection, batch: i64) -> rusqlite::Result<Dependencies> {
    let mut deps = Dependencies::default();
    let mut stmt = tx.prepare_cached(
        "SELECT 'feature', f.id, CASE WHEN f.receiver = '' THEN f.name ELSE f.receiver || '.' || f.name END, f.batch_id, f.status
         FROM features f JOIN batch_dependencies d ON d.depends_on = f.batch_id
         WHERE d.batch_id = ?1 AND f.status NOT IN ('complete', 'verified', 'n_a')
         UNION ALL
         SELECT 'test', t.id, t.name, t.batch_id, t.status
         FROM tests t JOIN batch_dependencies d ON d.depends_on = t.batch_id
         WHERE d.batch_id = ?1 AND t.status NOT IN ('complete', 'verified', 'n_a')
         UNION ALL
         SELECT 'module', m.id, m.name, m.batch_id, m.status
         FROM modules m JOIN batch_dependencies d ON d.depends_on = m.batch_id
         WHERE d.batch_id = ?1 AND m.status NOT IN ('complete', 'verified', 'n_a')
         ORDER BY 4, 1, 2",
    )?;
    let mut rows = stmt.query([batch])?;
    while let Some(r) = rows.next()? {
        deps.count += 1;
        let b: i64 = r.get(3)?;
        if deps.batches.last() != Some(&b) {
            deps.batches.push(b);
        }
        if deps.first.len() < SHOWN_UNFINISHED {
            let (kind, id, name, status): (String, i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(4)?);
            deps.first.push(format!("batch {b} {kind} {id} {name} ({status})"));
        }
    }
    Ok(deps)
}

/// A module's own items as [`Coverage`]: its features and tests of the plan
/// (not those first seen upstream) that are not n_a, those verified, and
/// those not done.
fn module_items(tx: &Transaction<'_>, module: i64) -> rusqlite::Result<Coverage> {
    let mut stmt = tx.prepare_cached(
        "SELECT 'feature ' || f.id || ' ' || CASE WHEN f.receiver = '' THEN f.name ELSE f.receiver || '.' || f.name END, f.status
         FROM features f JOIN source_files s ON s.id = f.file_id WHERE s.module_id = ?1 AND f.first_upstream IS NULL
         UNION ALL
         SELECT 'test ' || t.id || ' ' || t.name, t.status FROM tests t JOIN source_files s ON s.id = t.file_id
         WHERE s.module_id = ?1 AND t.first_upstream IS NULL
         ORDER BY 1",
    )?;
    let mut c = Coverage::default();
    let mut rows = stmt.query([module])?;
    while let Some(r) = rows.next()? {
        let (name, status): (String, String) = (r.get(0)?, r.get(1)?);
        let status: ItemStatus = status.parse().map_err(|e: Error| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?;
        if !status.is_done() {
            c.failed.push(name.clone());
        }
        if status == ItemStatus::Verified {
            c.passed.push(name.clone());
        }
        if status != ItemStatus::NA {
            c.exercising.push(name);
        }
    }
    Ok(c)
}

/// Outcomes, in run `run`, of the Rust tests exercising `row`.
pub(crate) fn coverage(tx: &rusqlite::Connection, row: &ItemRow, run: i64) -> rusqlite::Result<Coverage> {
    let exercising: Vec<String> = match row.kind {
        ItemKind::Test => row.rust_symbol.iter().cloned().collect(),
        ItemKind::Module => Vec::new(),
        ItemKind::Feature => {
            let mut stmt = tx.prepare_cached("SELECT rust_test FROM feature_exercising_tests WHERE feature_id = ?1 ORDER BY rust_test")?;
            let names = stmt.query_map([row.id], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            names
        }
    };
    // Each mapping resolved against the run by identity: bare name,
    // `CONTAINER NAME` or `CONTAINER.NAME`, ambiguous when it matches tests in two containers.
    let mut stmt = tx.prepare_cached("SELECT container, test_name, outcome FROM gate_results WHERE run_id = ?1 AND (test_name = ?2 OR qualified = ?2 OR dotted = ?2) ORDER BY seq")?;
    let (mut passed, mut failed, mut ambiguous) = (Vec::new(), Vec::new(), Vec::new());
    for name in &exercising {
        let rows: Vec<(String, String, String)> = stmt.query_map(params![run, name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
        let resolution = test_identity::resolve(name, rows.iter().filter_map(|(c, n, o)| o.parse::<TestOutcome>().ok().map(|o| (c.as_str(), n.as_str(), o))));
        match resolution {
            Resolution::Found { outcome, .. } if outcome.is_failure() => failed.push(name.clone()),
            Resolution::Found { outcome: TestOutcome::Passed, .. } => passed.push(name.clone()),
            Resolution::Ambiguous { candidates } => ambiguous.push(ambiguity_message(name, &candidates)),
            Resolution::Found { .. } | Resolution::Missing => {}
        }
    }
    Ok(Coverage { passed, failed, ambiguous, exercising })
}

/// A recorded run's facts for admitting it as evidence.
pub(crate) fn run_facts(tx: &rusqlite::Connection, run: i64) -> rusqlite::Result<Option<RunFacts>> {
    tx.query_row(
        "SELECT id, kind, outcome, failure, provenance, untrusted_because, batch_id, git_commit, origin FROM gate_runs WHERE id = ?1",
        [run],
        |r| {
            Ok(RunFacts {
                id: r.get(0)?,
                kind: r.get(1)?,
                outcome: r.get(2)?,
                failure: r.get(3)?,
                provenance: Provenance::parse(&r.get::<_, String>(4)?),
                untrusted_because: r.get(5)?,
                batch: r.get(6)?,
                commit: r.get(7)?,
                origin: r.get(8)?,
            })
        },
    )
    .optional()
}

/// Why an item's stored status is not what its history says, if it is
/// not: the last history row's target (not_started without history), its
/// evidence when verified, and that row's place in the chain.
pub(crate) fn replay_mismatch(c: &rusqlite::Connection, row: &ItemRow) -> rusqlite::Result<Option<String>> {
    let last: Option<(i64, String, Option<i64>)> = c
        .prepare_cached("SELECT id, to_status, evidence_run FROM status_history WHERE item_kind = ?1 AND item_id = ?2 ORDER BY id DESC LIMIT 1")?
        .query_row(params![row.kind.as_str(), row.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let what = format!("{} {} {}", row.kind.as_str(), row.id, row.qualified_name());
    let (expected, evidence) = match &last {
        Some((_, to, ev)) => (to.as_str(), if to == "verified" { *ev } else { None }),
        None => ("not_started", None),
    };
    if row.status.as_str() != expected {
        return Ok(Some(format!("{what} is {} but its history says {expected}: its status was changed outside porttrack", row.status)));
    }
    if row.evidence_run != evidence {
        return Ok(Some(format!("{what} names evidence run {} but its history names {}: changed outside porttrack", fmt_run(row.evidence_run), fmt_run(evidence))));
    }
    match last {
        Some((id, _, _)) => super::chain::check_history_row(c, id),
        None => Ok(None),
    }
}

fn fmt_run(r: Option<i64>) -> String {
    r.map_or("none".to_string(), |r| r.to_string())
}
