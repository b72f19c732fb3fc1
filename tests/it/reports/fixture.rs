//! A small database with six weeks of known history, written directly (with
//! porttrack's own hash chain) so every change has the time the tests need
//! (porttrack itself stamps the clock). Hand-computed expectations in the report tests follow the
//! timeline below.
//!
//! Batches: 1 "Alpha" (features 1–10, tests 1–4), 2 "Beta" (features
//! 11–18, depends on 1), 3 "Gamma" (features 19–20). 24 items.
//!
//! | week of    | changes                                                      |
//! |------------|--------------------------------------------------------------|
//! | 2026-10-19 | f1–f3 → stub (10-20); f1 → complete (10-22)                  |
//! | 2026-10-26 | f2, f3, f4 → complete (10-27); t1 → deferred (10-29)         |
//! | 2026-11-02 | f1, f2, t2, t3 → verified by run 1 (11-03); f5 → n_a (11-05) |
//! | 2026-11-09 | nothing                                                      |
//! | 2026-11-16 | f11 → stub, f12 → complete (11-17); f2 verified → complete   |
//! |            | (11-18, its test failed); f6, f7 → complete (11-19)          |
//! | 2026-11-23 | f8, f9, f13 → complete (11-24); f3 complete → stub (11-26)   |

use std::path::PathBuf;

use rusqlite::params;

use super::super::util::{chained_history, chained_run, connect, TestDir};

/// Commit recorded by evidence run 1.
pub const RUN_COMMIT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

pub struct Fixture {
    pub db: PathBuf,
}

fn change(conn: &rusqlite::Connection, change_id: &mut i64, kind: &str, ids: &[i64], to: &str, at: &str, evidence: Option<i64>) {
    *change_id += 1;
    let table = if kind == "feature" { "features" } else { "tests" };
    for &id in ids {
        let (from, batch): (String, Option<i64>) =
            conn.query_row(&format!("SELECT status, batch_id FROM {table} WHERE id = ?1"), [id], |r| Ok((r.get(0)?, r.get(1)?))).expect("item");
        let reason = matches!(to, "deferred" | "n_a") || from == "verified";
        chained_history(conn, kind, id, batch, &from, to, reason.then_some("fixture reason"), evidence, "fixture", at, *change_id);
        conn.execute(&format!("UPDATE {table} SET status = ?1, evidence_run = ?2 WHERE id = ?3"), params![to, evidence, id]).expect("status");
    }
}

impl Fixture {
    pub fn new(t: &TestDir) -> Fixture {
        let db = t.join("fixture.db");
        t.ok(&["init", "--empty", "--db", db.to_str().expect("utf-8 path")]);
        let conn = connect(&db);
        conn.execute_batch(
            "INSERT INTO source_files (id, path, is_test, lines) VALUES (1, 'pkg/alpha.go', 0, 400), (2, 'pkg/alpha_test.go', 1, 200), (3, 'pkg/beta.go', 0, 300);
             INSERT INTO batches (id, name, description) VALUES (1, 'Alpha', 'the alpha package'), (2, 'Beta', 'the beta package'), (3, 'Gamma', '');
             INSERT INTO batch_dependencies (batch_id, depends_on) VALUES (2, 1);",
        )
        .expect("files and batches");
        for id in 1..=20i64 {
            let (file, batch) = match id {
                1..=10 => (1, 1),
                11..=18 => (3, 2),
                _ => (3, 3),
            };
            let name = format!("{}{id}", if id <= 10 { "alpha" } else { "beta" });
            let rust = (id <= 2).then(|| (format!("src/{name}.rs"), format!("crate::{name}")));
            conn.execute(
                "INSERT INTO features (id, file_id, line, receiver, name, loc, body_hash, batch_id, rust_file, rust_symbol) VALUES (?1, ?2, ?3, '', ?4, 10, 'cafe', ?5, ?6, ?7)",
                params![id, file, id * 10, name, batch, rust.as_ref().map(|r| &r.0), rust.as_ref().map(|r| &r.1)],
            )
            .expect("feature");
        }
        for id in 1..=4i64 {
            conn.execute(
                "INSERT INTO tests (id, file_id, line, name, loc, body_hash, batch_id, rust_file, rust_test) VALUES (?1, 2, ?2, ?3, 5, 'beef', 1, 'tests/alpha.rs', ?4)",
                params![id, id * 20, format!("TestAlpha{id}"), format!("alpha::test_alpha_{id}")],
            )
            .expect("test");
        }
        // Features 1 and 2 are exercised by tests 2 and 3.
        conn.execute_batch("INSERT INTO feature_tests (feature_id, test_id) VALUES (1, 2), (2, 3);").expect("links");
        use rusqlite::types::Value::{Integer as I, Text as T};
        let run = chained_run(
            &conn,
            &[
                ("kind", T("test".into())),
                ("command", T("[\"cargo\",\"test\"]".into())),
                ("cwd", T(".".into())),
                ("started_at", T("2026-11-03T09:00:00.000Z".into())),
                ("duration_ms", I(1200)),
                ("exit_code", I(0)),
                ("outcome", T("passed".into())),
                ("tests_passed", I(2)),
                ("tests_failed", I(0)),
                ("tests_skipped", I(0)),
                ("git_commit", T(RUN_COMMIT.into())),
                ("git_dirty", I(0)),
                ("batch_id", I(1)),
                ("provenance", T("trusted".into())),
                ("command_source", T("config".into())),
                ("origin", T("verify".into())),
            ],
            &[("", "alpha::test_alpha_2", "passed"), ("", "alpha::test_alpha_3", "passed")],
            &[("src/alpha1.rs", Some("00ff")), ("tests/alpha.rs", None)],
        );
        assert_eq!(run, 1, "the fixture's evidence run");
        let mut c = 0;
        let ch = &mut c;
        change(&conn, ch, "feature", &[1, 2, 3], "stub", "2026-10-20T10:00:00.000Z", None);
        change(&conn, ch, "feature", &[1], "complete", "2026-10-22T10:00:00.000Z", None);
        change(&conn, ch, "feature", &[2, 3, 4], "complete", "2026-10-27T10:00:00.000Z", None);
        change(&conn, ch, "test", &[1], "deferred", "2026-10-29T10:00:00.000Z", None);
        change(&conn, ch, "feature", &[1, 2], "verified", "2026-11-03T10:00:00.000Z", Some(1));
        change(&conn, ch, "test", &[2, 3], "verified", "2026-11-03T10:00:00.000Z", Some(1));
        change(&conn, ch, "feature", &[5], "n_a", "2026-11-05T10:00:00.000Z", None);
        change(&conn, ch, "feature", &[11], "stub", "2026-11-17T10:00:00.000Z", None);
        change(&conn, ch, "feature", &[12], "complete", "2026-11-17T11:00:00.000Z", None);
        change(&conn, ch, "feature", &[2], "complete", "2026-11-18T10:00:00.000Z", None);
        change(&conn, ch, "feature", &[6, 7], "complete", "2026-11-19T10:00:00.000Z", None);
        change(&conn, ch, "feature", &[8, 9, 13], "complete", "2026-11-24T10:00:00.000Z", None);
        change(&conn, ch, "feature", &[3], "stub", "2026-11-26T10:00:00.000Z", None);
        Fixture { db }
    }

    pub fn db_arg(&self) -> &str {
        self.db.to_str().expect("utf-8 path")
    }
}
