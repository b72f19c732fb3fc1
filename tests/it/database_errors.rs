//! Files that are not usable porttrack databases are refused with exit 5, a
//! message naming the file, and no write.

use super::util::{snapshot, TestDir};

fn assert_refused(t: &TestDir, file: &str, expect: &str) {
    let before = snapshot(&t.join(file));
    for args in [&["batch", "show", "33", "--db", file][..], &["report", "summary", "--db", file], &["import", "go", ".", "--db", file]] {
        let err = t.fails(args, 5);
        assert!(err.contains(file), "{args:?}: message must name the file: {err}");
        assert!(err.contains(expect), "{args:?}: expected '{expect}' in: {err}");
    }
    assert_eq!(before, snapshot(&t.join(file)), "{file} was modified");
    assert!(!t.join(&format!("{file}-wal")).exists(), "a WAL file was created for {file}");
}

#[test]
fn not_sqlite() {
    let t = TestDir::new("not-sqlite");
    std::fs::write(t.join("text.db"), "this is a text file, not a database\n").unwrap();
    assert_refused(&t, "text.db", "not a SQLite database");
}

#[test]
fn empty_file() {
    let t = TestDir::new("empty-file");
    std::fs::write(t.join("empty.db"), "").unwrap();
    assert_refused(&t, "empty.db", "empty");
}

#[test]
fn sqlite_but_not_porttrack() {
    let t = TestDir::new("foreign-sqlite");
    let conn = rusqlite::Connection::open(t.join("other.db")).unwrap();
    conn.execute_batch("CREATE TABLE x (a); INSERT INTO x VALUES (1);").unwrap();
    drop(conn);
    assert_refused(&t, "other.db", "not a porttrack database");
}

#[test]
fn newer_schema() {
    let t = TestDir::new("newer-schema");
    t.ok(&["init", "--empty", "--db", "new.db"]);
    let conn = rusqlite::Connection::open(t.join("new.db")).unwrap();
    conn.execute_batch("PRAGMA user_version = 999;").unwrap();
    drop(conn);
    assert_refused(&t, "new.db", "schema version 999 is newer");
}

#[test]
fn corrupt_file() {
    let t = TestDir::new("corrupt");
    t.ok(&["init", "--db", "bad.db"]);
    let mut bytes = std::fs::read(t.join("bad.db")).unwrap();
    assert!(bytes.len() > 64 * 1024, "database unexpectedly small");
    // Keep the header (and page 1's schema) but scramble the pages after it.
    for b in bytes[8192..].iter_mut() {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(t.join("bad.db"), &bytes).unwrap();
    let before = snapshot(&t.join("bad.db"));
    let err = t.fails(&["batch", "show", "33", "--db", "bad.db"], 5);
    assert!(err.contains("bad.db"), "{err}");
    assert!(err.contains("corrupt") || err.contains("malformed"), "{err}");
    assert_eq!(before, snapshot(&t.join("bad.db")));
}

#[test]
fn directory_instead_of_file() {
    let t = TestDir::new("dir-db");
    std::fs::create_dir(t.join("adir")).unwrap();
    let err = t.fails(&["batch", "list", "--db", "adir"], 5);
    assert!(err.contains("adir") && err.contains("directory"), "{err}");
}
