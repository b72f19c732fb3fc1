//! `--since REF` of `report markdown`: the moment a branch or an evidence
//! run started, as the RFC 3339 time history rows are compared with.

use std::path::Path;

use serde::Serialize;

use crate::db::Database;
use crate::error::Error;

/// A resolved `--since`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Since {
    /// As given.
    pub reference: String,
    /// What it named: `commit 0a1b2c3d4` or `evidence run 12`.
    pub resolved: String,
    /// Changes recorded after this time count as moved.
    pub at: String,
}

/// `run:N` names evidence run N (its start); anything else is a git
/// revision in the project at `root` (its committer time).
pub fn resolve(db: &Database, root: &Path, reference: &str) -> Result<Since, Error> {
    if let Some(n) = reference.strip_prefix("run:") {
        let id: i64 = n.parse().map_err(|_| Error::usage(format!("--since {reference}: expected run:N with N an evidence run number")))?;
        let (run, _, _) = db.gate_run(id)?.ok_or_else(|| Error::not_found_with_hint("evidence run", id.to_string(), "; `porttrack evidence list` shows the runs"))?;
        return Ok(Since { reference: reference.to_string(), resolved: format!("evidence run {id}"), at: run.started_at });
    }
    if reference.is_empty() || reference.starts_with('-') {
        return Err(Error::usage(format!("--since '{reference}' is not a git revision or run:N")));
    }
    let out = duct::cmd("git", ["show", "-s", "--format=%H %ct", &format!("{reference}^{{commit}}")])
        .dir(root)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| Error::CouldNotRun(format!("cannot run git to resolve --since {reference}: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let parsed = text.trim().split_once(' ').and_then(|(commit, secs)| Some((commit.to_string(), secs.parse::<i64>().ok()?)));
    match parsed {
        Some((commit, secs)) if out.status.success() => Ok(Since {
            reference: reference.to_string(),
            resolved: format!("commit {}", commit.get(..9).unwrap_or(&commit)),
            at: crate::clock::rfc3339(secs, 0),
        }),
        _ => {
            let said = String::from_utf8_lossy(&out.stderr);
            let said = said.lines().next().unwrap_or("no output").trim();
            Err(Error::usage(format!("--since {reference}: not a git revision in {} (git: {said}) nor run:N", root.display())))
        }
    }
}
