//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A scratch directory named after the test, removed when dropped.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        let dir = tempfile::Builder::new().prefix(&format!("porttrack-{name}-")).tempdir().expect("create temp dir");
        TestDir { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `porttrack` run inside this directory, with no inherited database choice.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("porttrack").expect("porttrack binary");
        c.current_dir(self.path()).env_remove("PORTTRACK_DB").env_remove("PORTTRACK_ACTOR");
        // Output is a pipe here; colour is what a test asks for, never what
        // the environment running the suite happens to force.
        for v in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
            c.env_remove(v);
        }
        c
    }

    /// Run with these arguments; return (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd().args(args).output().expect("run porttrack");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Run, expect exit 0, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "porttrack {args:?} exited {code}\nstdout:\n{out}\nstderr:\n{err}");
        out
    }

    /// Run with `--json`, expect exit 0, parse stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"));
        assert_eq!(v["schema_version"], 1, "{args:?}: {v}");
        v
    }

    /// Run, expect `code`, return stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let (got, out, err) = self.run(args);
        assert_eq!(got, code, "porttrack {args:?}: expected exit {code}, got {got}\nstdout:\n{out}\nstderr:\n{err}");
        err
    }
}

/// Path of a file under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// Bytes of a file, to prove a failing command wrote nothing.
pub fn snapshot(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// Open the test's database directly (to plant evidence, or to prove the
/// database's own guards).
pub fn connect(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open database");
    conn.busy_timeout(std::time::Duration::from_secs(30)).expect("busy timeout");
    conn.execute_batch("PRAGMA foreign_keys = ON").expect("pragma");
    conn
}

/// Record a test-gate run with the given per-test outcomes, as the gate
/// would; returns its ID.
pub fn insert_run(conn: &rusqlite::Connection, outcome: &str, results: &[(&str, &str)]) -> i64 {
    conn.execute(
        "INSERT INTO gate_runs (kind, command, cwd, started_at, duration_ms, exit_code, outcome) VALUES ('test', '[\"cargo\",\"test\"]', '.', '2026-11-26T00:00:00.000Z', 1, 0, ?1)",
        [outcome],
    )
    .expect("insert run");
    let run = conn.last_insert_rowid();
    for (seq, (name, o)) in results.iter().enumerate() {
        // `CONTAINER NAME` records a result of a named binary.
        let (container, name) = name.split_once(' ').unwrap_or(("", name));
        conn.execute("INSERT INTO gate_results (run_id, seq, container, test_name, outcome) VALUES (?1, ?2, ?3, ?4, ?5)", rusqlite::params![run, seq as i64, container, name, o])
            .expect("insert result");
    }
    run
}

/// Status of an item, read directly.
pub fn status_of(conn: &rusqlite::Connection, table: &str, id: i64) -> String {
    conn.query_row(&format!("SELECT status FROM {table} WHERE id = ?1"), [id], |r| r.get(0)).expect("status")
}
