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

    /// Run git in this directory (a fixed identity, no user configuration).
    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    /// Make this directory a git repository (once) and commit everything
    /// in it that is not ignored; returns the commit.
    pub fn commit_all(&self, message: &str) -> String {
        if !self.join(".git").exists() {
            self.git(&["init", "-q"]);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Run, expect `code`, return stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let (got, out, err) = self.run(args);
        assert_eq!(got, code, "porttrack {args:?}: expected exit {code}, got {got}\nstdout:\n{out}\nstderr:\n{err}");
        err
    }
}

/// Run git in `dir` with a fixed identity and no global or system
/// configuration; panics on failure; returns stdout.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "porttrack test")
        .env("GIT_AUTHOR_EMAIL", "test@porttrack.invalid")
        .env("GIT_COMMITTER_NAME", "porttrack test")
        .env("GIT_COMMITTER_EMAIL", "test@porttrack.invalid")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?} in {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// Forge a test-gate run with sqlite3-level access, as an attacker would
/// (`provenance` trusted, a made-up chain hash): porttrack must refuse it
/// as evidence and `audit` must name it. Returns its ID.
pub fn forge_run(conn: &rusqlite::Connection, batch: i64, outcome: &str, results: &[(&str, &str)]) -> i64 {
    conn.execute(
        "INSERT INTO gate_runs (kind, command, cwd, started_at, duration_ms, exit_code, outcome, batch_id, provenance, git_commit, origin, chain_hash, uid)
         VALUES ('test', '[\"cargo\",\"test\"]', '.', '2026-11-26T00:00:00.000Z', 1, 0, ?1, ?2, 'trusted', '0123456789abcdef0123456789abcdef01234567', 'gate', 'forged', 'forged-' || random())",
        rusqlite::params![outcome, batch],
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

/// A script that prints libtest output for each `name outcome` line of
/// `outcomes.txt`, then exits with `exit.txt`'s code (default 0).
pub const FAKE_TESTS: &str = r#"#!/bin/sh
echo "   Compiling fake v0.1.0"
echo "     Running tests/fake.rs (target/debug/deps/fake-0123)"
n=$(grep -c . outcomes.txt 2>/dev/null || echo 0)
echo ""
echo "running $n tests"
passed=0; failed=0; ignored=0
while read -r name outcome; do
  [ -z "$name" ] && continue
  echo "some noise printed by $name"
  case "$outcome" in
    ok) echo "test $name ... ok"; passed=$((passed+1));;
    FAILED) echo "test $name ... FAILED"; failed=$((failed+1));;
    ignored) echo "test $name ... ignored"; ignored=$((ignored+1));;
  esac
done < outcomes.txt
echo ""
if [ "$failed" -gt 0 ]; then r=FAILED; else r=ok; fi
echo "test result: $r. $passed passed; $failed failed; $ignored ignored; 0 measured; 0 filtered out; finished in 0.01s"
[ -f sleep.txt ] && sleep "$(cat sleep.txt)"
exit "$(cat exit.txt 2>/dev/null || echo 0)"
"#;

/// Make `t` a committed project whose test gate is [`FAKE_TESTS`] (build:
/// `true`); `extra` is appended to its porttrack.toml. The script's inputs
/// (outcomes.txt, exit.txt, sleep.txt) are ignored by git, like the
/// database and porttrack's outputs.
pub fn fake_project(t: &TestDir, extra: &str) {
    std::fs::write(t.join("tests.sh"), FAKE_TESTS).unwrap();
    std::fs::write(
        t.join("porttrack.toml"),
        format!("target_roots = [\"src\"]\n[gate]\nbuild = [\"true\"]\ntest = [\"sh\", \"tests.sh\"]\nformat = \"libtest\"\ntimeout_secs = 60\n{extra}"),
    )
    .unwrap();
    std::fs::write(t.join(".gitignore"), "/porting.db*\n/.porttrack/\n/outcomes.txt\n/exit.txt\n/sleep.txt\n").unwrap();
    t.commit_all("fake project");
}

/// The results [`FAKE_TESTS`] prints next: `(libtest name, ok|FAILED|ignored)`.
pub fn outcomes(t: &TestDir, lines: &[(&str, &str)]) {
    let text: String = lines.iter().map(|(n, o)| format!("{n} {o}\n")).collect();
    std::fs::write(t.join("outcomes.txt"), text).unwrap();
    let failed = lines.iter().any(|(_, o)| *o == "FAILED");
    std::fs::write(t.join("exit.txt"), if failed { "101" } else { "0" }).unwrap();
}

/// Record a trusted run of the committed test gate for `batch`, whose
/// results are `lines` (see [`outcomes`]): the way real evidence is made.
/// Makes `t` a fake project first if it is not one. Returns the run's ID.
pub fn trusted_run(t: &TestDir, batch: i64, lines: &[(&str, &str)]) -> i64 {
    if !t.join("tests.sh").exists() {
        fake_project(t, "");
    }
    outcomes(t, lines);
    let (_, out, err) = t.run(&["gate", "test", "--batch", &batch.to_string(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("gate test: {e}: {out}{err}"));
    assert_eq!(v["provenance"], "trusted", "the run is not trusted: {v}");
    v["run_id"].as_i64().unwrap()
}

/// Run `sql` past porttrack's triggers, then put them back exactly as they
/// were, as someone with sqlite3 would to leave the schema unchanged.
pub fn tamper(conn: &rusqlite::Connection, sql: &str) {
    let triggers: Vec<(String, String)> =
        conn.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
    }
    conn.execute_batch(sql).unwrap();
    for (_, sql) in &triggers {
        conn.execute_batch(sql).unwrap();
    }
}

/// Append a history row as porttrack would, chain hash included, for
/// fixtures that need changes at chosen times (porttrack itself stamps the
/// clock). The chain is porttrack's own rule (`domain::chain`), so the
/// database stays one that opens and audits clean.
#[allow(clippy::too_many_arguments)]
pub fn chained_history(
    conn: &rusqlite::Connection,
    kind: &str,
    id: i64,
    batch: Option<i64>,
    from: &str,
    to: &str,
    reason: Option<&str>,
    evidence: Option<i64>,
    actor: &str,
    at: &str,
    change_id: i64,
) -> i64 {
    use porttrack::domain::chain::{link, GlobalIds, HistoryEntry, GENESIS, HISTORY_HEAD, HISTORY_UID_LEGACY};
    let (last, prev): (i64, String) = conn
        .query_row("SELECT id, coalesce(chain_hash, '') FROM status_history ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap_or((0, GENESIS.to_string()));
    let uid = porttrack::domain::global_id::new_uid();
    let change_uid: String = conn
        .query_row("SELECT change_uid FROM status_history WHERE change_id = ?1 ORDER BY id LIMIT 1", [change_id], |r| r.get(0))
        .unwrap_or_else(|_| porttrack::domain::global_id::new_uid());
    let ids = GlobalIds { uid: uid.clone(), group_uid: change_uid.clone(), extra: None, covered: last + 1 > meta_bound(conn, HISTORY_UID_LEGACY) };
    let entry = HistoryEntry {
        id: last + 1,
        item_kind: kind.into(),
        item_id: id,
        batch_id: batch,
        from_status: from.into(),
        to_status: to.into(),
        reason: reason.map(str::to_string),
        override_id: None,
        override_reason: None,
        evidence_run: evidence,
        actor: actor.into(),
        at: at.into(),
        command: actor.into(),
        change_id,
        ids,
    };
    let hash = link(&prev, &entry.content());
    conn.execute(
        "INSERT INTO status_history (id, item_kind, item_id, batch_id, from_status, to_status, reason, evidence_run, actor, at, command, change_id, chain_hash, uid, change_uid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9, ?11, ?12, ?13, ?14)",
        rusqlite::params![entry.id, kind, id, batch, from, to, reason, evidence, actor, at, change_id, hash, uid, change_uid],
    )
    .expect("history row");
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", rusqlite::params![HISTORY_HEAD, hash]).expect("history head");
    entry.id
}

/// Append a gate run as porttrack would, chain hash included: `columns`
/// names any of `domain::chain::RUN_HASHED_COLUMNS` (the rest are NULL),
/// `results` are `(container, name, outcome)`, `files` `(path, sha256)`.
pub fn chained_run(
    conn: &rusqlite::Connection,
    columns: &[(&str, rusqlite::types::Value)],
    results: &[(&str, &str, &str)],
    files: &[(&str, Option<&str>)],
) -> i64 {
    use porttrack::domain::chain::{link, GlobalIds, RunEntry, GENESIS, RUNS_HEAD, RUNS_UID_LEGACY, RUN_HASHED_COLUMNS};
    use rusqlite::types::Value;
    let (last, prev): (i64, String) = conn
        .query_row("SELECT id, coalesce(chain_hash, '') FROM gate_runs ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap_or((0, GENESIS.to_string()));
    let values: Vec<Value> = RUN_HASHED_COLUMNS.iter().map(|c| columns.iter().find(|(k, _)| k == c).map_or(Value::Null, |(_, v)| v.clone())).collect();
    assert!(columns.iter().all(|(k, _)| RUN_HASHED_COLUMNS.contains(k)), "unknown gate_runs column in {:?}", columns.iter().map(|c| c.0).collect::<Vec<_>>());
    let json = |v: &Value| match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Text(s) => s.clone().into(),
        other => panic!("fixture column value {other:?}"),
    };
    let entry = RunEntry {
        id: last + 1,
        columns: values.iter().map(json).collect(),
        results: results.iter().enumerate().map(|(seq, (c, n, o))| (seq as i64, c.to_string(), n.to_string(), o.to_string(), None)).collect(),
        files: files.iter().map(|(p, h)| (p.to_string(), h.map(str::to_string))).collect(),
        ids: GlobalIds { uid: porttrack::domain::global_id::new_uid(), group_uid: String::new(), extra: None, covered: last + 1 > meta_bound(conn, RUNS_UID_LEGACY) },
    };
    let hash = link(&prev, &entry.content());
    let marks: Vec<String> = (1..=RUN_HASHED_COLUMNS.len() + 3).map(|i| format!("?{i}")).collect();
    let sql = format!("INSERT INTO gate_runs (id, {}, chain_hash, uid) VALUES ({})", RUN_HASHED_COLUMNS.join(", "), marks.join(", "));
    let mut all = vec![Value::Integer(entry.id)];
    all.extend(values);
    all.push(Value::Text(hash.clone()));
    all.push(Value::Text(entry.ids.uid.clone()));
    conn.execute(&sql, rusqlite::params_from_iter(all)).expect("gate run");
    for (seq, (c, n, o)) in results.iter().enumerate() {
        conn.execute("INSERT INTO gate_results (run_id, seq, container, test_name, outcome) VALUES (?1, ?2, ?3, ?4, ?5)", rusqlite::params![entry.id, seq as i64, c, n, o])
            .expect("gate result");
    }
    for (p, h) in files {
        conn.execute("INSERT INTO gate_file_hashes (run_id, path, sha256) VALUES (?1, ?2, ?3)", rusqlite::params![entry.id, p, h]).expect("file hash");
    }
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", rusqlite::params![RUNS_HEAD, hash]).expect("runs head");
    entry.id
}

/// A numeric `meta` value (0 when absent).
fn meta_bound(conn: &rusqlite::Connection, key: &str) -> i64 {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get::<_, String>(0)).ok().and_then(|v| v.parse().ok()).unwrap_or(0)
}
