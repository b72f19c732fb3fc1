//! Writing and re-reading the hash chains of `status_history` and
//! `gate_runs` (the rule is `domain::chain`). Every appended row gets the
//! next ID, its hash, and the chain's head in `meta`, inside the caller's
//! transaction.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::chain::{link, GlobalIds, HistoryEntry, ResultEntry, RunEntry, GENESIS};
use crate::domain::global_id::{legacy_history_uid, legacy_run_uid, new_uid};

pub(crate) use crate::domain::chain::{HISTORY_HEAD, HISTORY_LEGACY, HISTORY_UID_LEGACY, RUNS_HEAD, RUNS_LEGACY, RUNS_UID_LEGACY, RUN_HASHED_COLUMNS};

/// Global IDs a writer may fix for a row (a merge copies them); what is
/// left None is made here: a fresh UUIDv7 for the row, and for its call
/// the ID the call's previous row got.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewIds {
    pub uid: Option<String>,
    pub change_uid: Option<String>,
    pub merge_claims: Option<String>,
}

/// A history row to append (its ID and hash are assigned here).
#[derive(Default)]
pub(crate) struct NewHistory<'a> {
    pub item_kind: &'a str,
    pub item_id: i64,
    pub batch_id: Option<i64>,
    pub from_status: &'a str,
    pub to_status: &'a str,
    pub reason: Option<&'a str>,
    pub override_id: Option<i64>,
    pub evidence_run: Option<i64>,
    pub actor: &'a str,
    pub at: &'a str,
    pub command: &'a str,
    pub change_id: i64,
    pub ids: NewIds,
}

pub(crate) fn meta(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}

fn set_meta(c: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?.execute(params![key, value]).map(|_| ())
}

/// The last row's ID and hash (a row without one links as the genesis).
fn tail(c: &Connection, table: &str) -> rusqlite::Result<(i64, String)> {
    let sql = match table {
        "status_history" => "SELECT id, chain_hash FROM status_history ORDER BY id DESC LIMIT 1",
        _ => "SELECT id, chain_hash FROM gate_runs ORDER BY id DESC LIMIT 1",
    };
    let last: Option<(i64, Option<String>)> = c.prepare_cached(sql)?.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    Ok(last.map_or((0, GENESIS.to_string()), |(id, h)| (id, h.unwrap_or_default())))
}

fn bound(c: &Connection, key: &str) -> rusqlite::Result<i64> {
    Ok(meta(c, key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

pub(crate) fn append_history(c: &Connection, h: &NewHistory<'_>) -> rusqlite::Result<i64> {
    let (last, prev) = tail(c, "status_history")?;
    let uid = h.ids.uid.clone().unwrap_or_else(new_uid);
    let change_uid = match &h.ids.change_uid {
        Some(u) => u.clone(),
        // A call's rows are appended one after another in its
        // transaction: the call's ID is the last row's when it is the
        // same call (a lookup by change_id would scan the table).
        None => c
            .prepare_cached("SELECT change_uid FROM status_history WHERE id = ?1 AND change_id = ?2")?
            .query_row(params![last, h.change_id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten()
            .unwrap_or_else(new_uid),
    };
    let covered = last + 1 > bound(c, HISTORY_UID_LEGACY)?;
    let override_reason: Option<String> = match h.override_id {
        Some(o) => c.prepare_cached("SELECT reason FROM overrides WHERE id = ?1")?.query_row([o], |r| r.get(0)).optional()?,
        None => None,
    };
    let entry = HistoryEntry {
        id: last + 1,
        item_kind: h.item_kind.into(),
        item_id: h.item_id,
        batch_id: h.batch_id,
        from_status: h.from_status.into(),
        to_status: h.to_status.into(),
        reason: h.reason.map(str::to_string),
        override_id: h.override_id,
        override_reason,
        evidence_run: h.evidence_run,
        actor: h.actor.into(),
        at: h.at.into(),
        command: h.command.into(),
        change_id: h.change_id,
        ids: GlobalIds { uid, group_uid: change_uid, extra: h.ids.merge_claims.clone(), covered },
    };
    let hash = link(&prev, &entry.content());
    c.prepare_cached(
        "INSERT INTO status_history (id, item_kind, item_id, batch_id, from_status, to_status, reason, override_id, evidence_run, actor, at, command, change_id, chain_hash, uid, change_uid, merge_claims)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        entry.id, h.item_kind, h.item_id, h.batch_id, h.from_status, h.to_status, h.reason, h.override_id, h.evidence_run, h.actor, h.at,
        h.command, h.change_id, hash, entry.ids.uid, entry.ids.group_uid, entry.ids.extra
    ])?;
    set_meta(c, HISTORY_HEAD, &hash)?;
    Ok(entry.id)
}

/// Append a gate run (columns in [`RUN_HASHED_COLUMNS`] order) with its
/// results and file hashes, recorded by `actor`; `uid` is fixed by a merge
/// that copies the run, else made here. Returns the run's ID.
pub(crate) fn append_run(
    c: &Connection,
    columns: Vec<Value>,
    results: &[ResultEntry],
    files: &[(String, Option<String>)],
    uid: Option<String>,
    actor: Option<&str>,
) -> rusqlite::Result<i64> {
    let (last, prev) = tail(c, "gate_runs")?;
    let covered = last + 1 > bound(c, RUNS_UID_LEGACY)?;
    let ids = GlobalIds { uid: uid.unwrap_or_else(new_uid), group_uid: String::new(), extra: actor.map(str::to_string), covered };
    let entry = RunEntry { id: last + 1, columns: columns.iter().map(json_of).collect(), results: results.to_vec(), files: files.to_vec(), ids };
    let hash = link(&prev, &entry.content());
    let names = RUN_HASHED_COLUMNS.join(", ");
    let marks: Vec<String> = (1..=RUN_HASHED_COLUMNS.len() + 4).map(|i| format!("?{i}")).collect();
    let sql = format!("INSERT INTO gate_runs (id, {names}, chain_hash, uid, actor) VALUES ({})", marks.join(", "));
    let mut values = vec![Value::Integer(entry.id)];
    values.extend(columns);
    values.push(Value::Text(hash.clone()));
    values.push(Value::Text(entry.ids.uid.clone()));
    values.push(actor.map_or(Value::Null, |a| Value::Text(a.to_string())));
    c.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values))?;
    let mut insert = c.prepare_cached("INSERT INTO gate_results (run_id, seq, container, test_name, outcome, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    for (seq, container, name, outcome, ms) in results {
        insert.execute(params![entry.id, seq, container, name, outcome, ms])?;
    }
    let mut insert = c.prepare_cached("INSERT INTO gate_file_hashes (run_id, path, sha256) VALUES (?1, ?2, ?3)")?;
    for (path, sha) in files {
        insert.execute(params![entry.id, path, sha])?;
    }
    set_meta(c, RUNS_HEAD, &hash)?;
    Ok(entry.id)
}

/// A stored value as the chain sees it.
fn json_of(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Text(s) => s.clone().into(),
        Value::Blob(b) => format!("blob:{}", crate::gate::run::hex(b)).into(),
    }
}

/// A history row as stored, with its recorded hash.
pub(crate) fn history_entry(c: &Connection, id: i64) -> rusqlite::Result<Option<(HistoryEntry, Option<String>)>> {
    let legacy = bound(c, HISTORY_UID_LEGACY)?;
    c.prepare_cached(&format!("{HISTORY_SELECT} WHERE h.id = ?1"))?.query_row([id], |r| history_row(r, legacy)).optional()
}

/// The columns [`history_row`] reads, in order.
pub(crate) const HISTORY_SELECT: &str = "SELECT h.id, h.item_kind, h.item_id, h.batch_id, h.from_status, h.to_status, h.reason, h.override_id, o.reason, h.evidence_run, h.actor, h.at, h.command, h.change_id, h.chain_hash, h.uid, h.change_uid, h.merge_claims
         FROM status_history h LEFT JOIN overrides o ON o.id = h.override_id";

/// One row of [`HISTORY_SELECT`]; rows up to `uid_legacy` have derived
/// global IDs their hash does not cover.
pub(crate) fn history_row(r: &rusqlite::Row<'_>, uid_legacy: i64) -> rusqlite::Result<(HistoryEntry, Option<String>)> {
    let id: i64 = r.get(0)?;
    let ids = GlobalIds {
        uid: r.get::<_, Option<String>>(15)?.unwrap_or_default(),
        group_uid: r.get::<_, Option<String>>(16)?.unwrap_or_default(),
        extra: r.get(17)?,
        covered: id > uid_legacy,
    };
    Ok((
        HistoryEntry {
            id: r.get(0)?,
            item_kind: r.get(1)?,
            item_id: r.get(2)?,
            batch_id: r.get(3)?,
            from_status: r.get(4)?,
            to_status: r.get(5)?,
            reason: r.get(6)?,
            override_id: r.get(7)?,
            override_reason: r.get(8)?,
            evidence_run: r.get(9)?,
            actor: r.get(10)?,
            at: r.get(11)?,
            command: r.get(12)?,
            change_id: r.get(13)?,
            ids,
        },
        r.get(14)?,
    ))
}

/// Why a row's global ID is not the one migration 0008 derived, when the
/// row is older than the IDs and its hash cannot vouch for it.
pub(crate) fn legacy_history_uid_problem(e: &HistoryEntry, stored_hash: Option<&str>) -> Option<String> {
    if e.ids.covered {
        return None;
    }
    let want = legacy_history_uid(stored_hash, &e.item_kind, e.item_id, &e.to_status, &e.at, e.id);
    (e.ids.uid != want).then(|| format!("history row {} has global ID {} but was given {want}: changed outside porttrack", e.id, e.ids.uid))
}

pub(crate) fn legacy_run_uid_problem(e: &RunEntry, stored_hash: Option<&str>) -> Option<String> {
    if e.ids.covered {
        return None;
    }
    let text = |i: usize| e.columns.get(i).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let want = legacy_run_uid(stored_hash, &text(0), &text(3), &text(1), e.id);
    (e.ids.uid != want).then(|| format!("gate run {} has global ID {} but was given {want}: changed outside porttrack", e.id, e.ids.uid))
}

/// A gate run as stored, with its recorded hash.
pub(crate) fn run_entry(c: &Connection, id: i64) -> rusqlite::Result<Option<(RunEntry, Option<String>)>> {
    let names = RUN_HASHED_COLUMNS.join(", ");
    let n = RUN_HASHED_COLUMNS.len();
    let covered = id > bound(c, RUNS_UID_LEGACY)?;
    let row: Option<(Vec<serde_json::Value>, Option<String>, GlobalIds)> = c
        .prepare_cached(&format!("SELECT {names}, chain_hash, uid, actor FROM gate_runs WHERE id = ?1"))?
        .query_row([id], |r| {
            let mut cols = Vec::with_capacity(n);
            for i in 0..n {
                cols.push(json_of(&r.get::<_, Value>(i)?));
            }
            let ids = GlobalIds { uid: r.get::<_, Option<String>>(n + 1)?.unwrap_or_default(), group_uid: String::new(), extra: r.get(n + 2)?, covered };
            Ok((cols, r.get(n)?, ids))
        })
        .optional()?;
    let Some((columns, hash, ids)) = row else { return Ok(None) };
    let results = c
        .prepare_cached("SELECT seq, container, test_name, outcome, duration_ms FROM gate_results WHERE run_id = ?1")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let files = c.prepare_cached("SELECT path, sha256 FROM gate_file_hashes WHERE run_id = ?1")?.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(Some((RunEntry { id, columns, results, files, ids }, hash)))
}

/// The hash the previous row of `table` stored (genesis for the first, or
/// after a row without a hash).
fn prev_hash(c: &Connection, table: &str, id: i64) -> rusqlite::Result<String> {
    let sql = match table {
        "status_history" => "SELECT chain_hash FROM status_history WHERE id < ?1 ORDER BY id DESC LIMIT 1",
        _ => "SELECT chain_hash FROM gate_runs WHERE id < ?1 ORDER BY id DESC LIMIT 1",
    };
    let h: Option<Option<String>> = c.prepare_cached(sql)?.query_row([id], |r| r.get(0)).optional()?;
    Ok(h.flatten().unwrap_or_default())
}

/// Why one history row does not hold its place in the chain, if it does not.
pub(crate) fn check_history_row(c: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    let Some((entry, stored)) = history_entry(c, id)? else { return Ok(Some(format!("history row {id} is missing"))) };
    let expected = link(&prev_hash(c, "status_history", id)?, &entry.content());
    let legacy: i64 = meta(c, HISTORY_LEGACY)?.and_then(|v| v.parse().ok()).unwrap_or(0);
    if let Some(why) = legacy_history_uid_problem(&entry, stored.as_deref()) {
        return Ok(Some(why));
    }
    Ok(match stored {
        Some(h) if h == expected => None,
        Some(_) => Some(format!("history row {id} does not match its chain hash: it, or a row before it, was changed outside porttrack")),
        // Written before the chain existed (an upgraded database).
        None if id <= legacy => None,
        None => Some(format!("history row {id} has no chain hash: it was written outside porttrack")),
    })
}

/// Why one gate run does not hold its place in the chain, if it does not.
pub(crate) fn check_run(c: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    let Some((entry, stored)) = run_entry(c, id)? else { return Ok(Some(format!("gate run {id} is missing"))) };
    let expected = link(&prev_hash(c, "gate_runs", id)?, &entry.content());
    let legacy: i64 = meta(c, RUNS_LEGACY)?.and_then(|v| v.parse().ok()).unwrap_or(0);
    if let Some(why) = legacy_run_uid_problem(&entry, stored.as_deref()) {
        return Ok(Some(why));
    }
    Ok(match stored {
        Some(h) if h == expected => None,
        None if id <= legacy => None,
        Some(_) => Some(format!("gate run {id} does not match its chain hash: it, its results or file hashes, or a run before it, were changed outside porttrack")),
        None => Some(format!("gate run {id} has no chain hash: it was recorded outside porttrack")),
    })
}

/// Why the end of a chain is not what porttrack last wrote, if it is not:
/// the last row must link correctly and be the head `meta` recorded.
pub(crate) fn check_tail(c: &Connection, table: &str) -> rusqlite::Result<Option<String>> {
    let (last, hash) = tail(c, table)?;
    let (head_key, legacy_key, what) = match table {
        "status_history" => (HISTORY_HEAD, HISTORY_LEGACY, "history"),
        _ => (RUNS_HEAD, RUNS_LEGACY, "gate runs"),
    };
    let legacy: i64 = meta(c, legacy_key)?.and_then(|v| v.parse().ok()).unwrap_or(0);
    let head = meta(c, head_key)?.unwrap_or_default();
    if last <= legacy {
        return Ok((!head.is_empty()).then(|| format!("the {what} chain ends before its recorded head: rows were deleted")));
    }
    let broken = match table {
        "status_history" => check_history_row(c, last)?,
        _ => check_run(c, last)?,
    };
    if broken.is_some() {
        return Ok(broken);
    }
    Ok((head != hash).then(|| format!("the last {what} row is not the head porttrack recorded: rows were deleted or added outside porttrack")))
}
