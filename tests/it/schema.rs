//! `porting.db.schema` is the schema after every migration; this test fails
//! when the two disagree. Regenerate with
//! `PORTTRACK_BLESS=1 cargo test --test tests schema`.

use super::util::TestDir;

fn dump(path: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let mut stmt = conn
        .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name")
        .unwrap();
    let sqls: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    format!(
        "-- porttrack schema after all migrations (generated; see tests/it/schema.rs).\nPRAGMA user_version = {version};\n\n{};\n",
        sqls.join(";\n\n")
    )
}

/// The golden file is compiled into porttrack, which refuses a database
/// whose schema differs, so the migrations are dumped in memory here; a
/// blessed file takes effect after the next build.
#[test]
fn schema_file_matches_migrations() {
    let actual = porttrack::db::Database::in_memory().unwrap().schema_dump().unwrap();
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("porting.db.schema");
    let bless = std::env::var_os("PORTTRACK_BLESS").is_some();
    if bless {
        std::fs::write(&golden, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(expected == actual, "porting.db.schema is out of date; regenerate with PORTTRACK_BLESS=1 cargo test --test tests schema\n--- actual ---\n{actual}");
    if !bless {
        // What `init` writes is the same schema.
        let t = TestDir::new("schema");
        t.ok(&["init", "--empty"]);
        assert_eq!(dump(&t.join("porting.db")), actual);
    }
}

#[test]
fn every_migration_file_is_registered_in_order() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| n.trim_end_matches(".sql").to_string())
        .collect();
    files.sort();
    let known: Vec<String> = porttrack::db::migration_names().map(str::to_string).collect();
    assert_eq!(files, known);
    // Numbers rise strictly; a gap is a number handed to parallel work
    // (0005, merged separately), never reused.
    let numbers: Vec<i64> = known.iter().map(|n| n[..4].parse().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{known:?} out of sequence");
    assert!(known.iter().all(|n| n.as_bytes()[4] == b'_'), "{known:?}");
    assert_eq!(numbers.last().copied(), Some(porttrack::db::schema_version()));
}

#[test]
fn version_is_tracked_and_default_pragmas_hold() {
    let t = TestDir::new("pragmas");
    t.ok(&["init", "--empty"]);
    let conn = rusqlite::Connection::open(t.join("porting.db")).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, porttrack::db::schema_version());
}
