//! The schema a database must have: `porting.db.schema` (the schema after
//! every migration, compiled in), compared object by object with what the
//! file holds, so a dropped table, an added column or a removed trigger is
//! found when the database is opened.

use std::collections::BTreeMap;

use rusqlite::Connection;

const GOLDEN: &str = include_str!("../../porting.db.schema");

/// How many differences a refusal lists.
const SHOWN: usize = 5;

/// `(type name, sql)` by object name, from the golden file.
fn expected() -> BTreeMap<String, (String, String)> {
    let body: String = GOLDEN.lines().filter(|l| !l.starts_with("--") && !l.starts_with("PRAGMA")).collect::<Vec<_>>().join("\n");
    body.split(";\n\n")
        .map(|s| s.trim().trim_end_matches(';').trim().to_string())
        .filter(|s| !s.is_empty())
        .filter_map(|sql| {
            // `CREATE UNIQUE INDEX name` is an index like any other.
            let mut words = sql.split_whitespace().filter(|w| *w != "UNIQUE");
            let (create, kind, name) = (words.next()?, words.next()?, words.next()?);
            (create == "CREATE").then(|| (name.trim_matches('"').to_string(), (kind.to_lowercase(), sql.clone())))
        })
        .collect()
}

/// What the database holds, in the same shape.
fn actual(c: &Connection) -> rusqlite::Result<BTreeMap<String, (String, String)>> {
    let mut stmt = c.prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, (r.get::<_, String>(0)?, r.get::<_, String>(2)?))))?;
    rows.collect()
}

/// Every way the database's schema differs from `porting.db.schema`.
pub(crate) fn differences(c: &Connection) -> rusqlite::Result<Vec<String>> {
    let want = expected();
    let have = actual(c)?;
    let mut out = Vec::new();
    for (name, (kind, sql)) in &want {
        match have.get(name) {
            None => out.push(format!("{kind} {name} is missing")),
            Some((_, got)) if got.trim() != sql.trim() => out.push(format!("{kind} {name} differs from porting.db.schema")),
            Some(_) => {}
        }
    }
    for (name, (kind, _)) in &have {
        if !want.contains_key(name) {
            out.push(format!("{kind} {name} is not part of porttrack's schema"));
        }
    }
    Ok(out)
}

/// The schema as `porting.db.schema` writes it: the version, then every
/// table, index, view and trigger, in that order and by name.
pub(crate) fn dump(c: &Connection) -> rusqlite::Result<String> {
    let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut stmt = c.prepare(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name",
    )?;
    let sqls = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(format!("-- porttrack schema after all migrations (generated; see tests/it/schema.rs).\nPRAGMA user_version = {version};\n\n{};\n", sqls.join(";\n\n")))
}

/// One line for a refusal: the first few differences.
pub(crate) fn summary(diffs: &[String]) -> String {
    let mut s = diffs.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if diffs.len() > SHOWN {
        s.push_str(&format!("; … ({} differences)", diffs.len()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_golden_file_parses_into_every_object() {
        let want = expected();
        for name in ["status_history", "gate_runs", "features", "status_history_by_uid", "status_history_append_only_update", "feature_exercising_tests", "tests_verified_needs_trusted_evidence"] {
            assert!(want.contains_key(name), "{name} not in porting.db.schema: {:?}", want.keys().collect::<Vec<_>>());
        }
        let db = crate::db::Database::in_memory().unwrap();
        assert_eq!(db.read(differences).unwrap(), Vec::<String>::new());
        db.read(|c| c.execute_batch("DROP TRIGGER gate_results_append_only_delete; CREATE TABLE extra (a); ALTER TABLE tests ADD COLUMN x")).unwrap();
        let d = db.read(differences).unwrap();
        assert_eq!(d, ["trigger gate_results_append_only_delete is missing", "table tests differs from porting.db.schema", "table extra is not part of porttrack's schema"]);
    }
}
