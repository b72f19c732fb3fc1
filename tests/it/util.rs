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
