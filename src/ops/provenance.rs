//! The facts behind a run's provenance, read from git and the file system:
//! the commit, whether the tree is the committed state (the rules are in
//! `domain::evidence`), and the fresh directory a test command writes its
//! results file into.

use std::path::{Path, PathBuf};

use crate::config::Project;
use crate::domain::evidence::{dirty_reasons, list_paths, target_dirs, Exceptions, TreeState};
use crate::git::Repo;

/// Environment variable naming the fresh results directory of a run.
pub const RESULTS_DIR_ENV: &str = "PORTTRACK_RESULTS_DIR";
/// Written in a configured command, replaced by that directory.
pub const RESULTS_DIR_TOKEN: &str = "{results_dir}";

/// The tree of `project` now: HEAD, and every reason it is not the
/// committed state, including a porttrack.toml that is not the one
/// committed at HEAD. `database` is excepted (users commit it).
pub fn tree_state(project: &Project, database: &Path) -> TreeState {
    let Some(repo) = Repo::at(&project.root) else { return TreeState::default() };
    let Some(commit) = repo.head() else { return TreeState::default() };
    let mut dirty = Vec::new();
    let ex = Exceptions { prefix: repo.relative(&project.root).unwrap_or_default(), target_roots: project.config.target_roots.clone(), database: repo.relative(database) };
    match repo.status() {
        Ok(changes) => {
            let listed: Vec<(String, bool)> = changes.iter().map(|c| (c.path.clone(), c.untracked())).collect();
            dirty.extend(dirty_reasons(&listed, &ex));
        }
        Err(e) => dirty.push(format!("cannot read the tree's state: {e}")),
    }
    // What `status` does not show: ignored files where code lives, and
    // tracked files git was told not to look at.
    match repo.ignored_under(&target_dirs(&ex)) {
        Ok(ignored) if !ignored.is_empty() => dirty.push(format!("ignored files under the target roots: {}", list_paths(&ignored))),
        Ok(_) => {}
        Err(e) => dirty.push(format!("cannot list ignored files: {e}")),
    }
    match repo.hidden_from_status() {
        Ok(hidden) if !hidden.is_empty() => dirty.push(format!("tracked files marked assume-unchanged or skip-worktree, whose changes git status hides: {}", list_paths(&hidden))),
        Ok(_) => {}
        Err(e) => dirty.push(format!("cannot list the index: {e}")),
    }
    if let Some(why) = config_difference(&repo, &commit, project) {
        dirty.push(why);
    }
    TreeState { commit: Some(commit), dirty }
}

/// Why the configuration porttrack read is not porttrack.toml as committed
/// at `commit`, if it is not.
fn config_difference(repo: &Repo, commit: &str, project: &Project) -> Option<String> {
    let file = project.root.join(crate::config::FILE_NAME);
    let rel = repo.relative(&file)?;
    match (repo.committed_sha256(commit, &rel), &project.config_sha256) {
        (None, None) => None,
        (Some(a), Some(b)) if a == *b => None,
        (Some(_), Some(_)) => Some(format!("{rel} differs from the one committed at HEAD")),
        (None, Some(_)) => Some(format!("{rel} is not committed")),
        (Some(_), None) => Some(format!("{rel} is committed but missing from the tree")),
    }
}

/// Make a fresh, empty directory for one run's results files under
/// `.porttrack/runs/` of the project.
pub fn fresh_results_dir(project: &Project, kind: &str) -> std::io::Result<PathBuf> {
    let stamp: String = crate::clock::now_rfc3339().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let parent = project.root.join(".porttrack").join("runs");
    std::fs::create_dir_all(&parent)?;
    let mut n = 0u32;
    loop {
        let dir = parent.join(format!("{stamp}-{kind}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// `argv` with [`RESULTS_DIR_TOKEN`] replaced by `dir`.
pub fn with_results_dir(argv: &[String], dir: &Path) -> Vec<String> {
    let d = dir.to_string_lossy();
    argv.iter().map(|a| a.replace(RESULTS_DIR_TOKEN, &d)).collect()
}
