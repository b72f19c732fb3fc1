//! The few git questions evidence needs: which commit, which files differ
//! from it, what a file held at a commit, and a temporary worktree at a
//! commit for `audit --rerun`. git runs from an argument vector with the
//! repository chosen by directory only (GIT_DIR and friends are cleared).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// One entry of `git status --porcelain`: its two status letters and path,
/// relative to the repository's top level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub code: String,
    pub path: String,
}

impl Change {
    pub fn untracked(&self) -> bool {
        self.code == "??"
    }
}

/// A git work tree.
#[derive(Debug, Clone)]
pub struct Repo {
    pub toplevel: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = duct::cmd("git", args)
        .dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_CEILING_DIRECTORIES")
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn line(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

impl Repo {
    /// The work tree holding `dir`, if any.
    pub fn at(dir: &Path) -> Option<Repo> {
        let top = git(dir, &["rev-parse", "--show-toplevel"]).ok().map(line)?;
        let toplevel = PathBuf::from(top);
        Some(Repo { toplevel: toplevel.canonicalize().unwrap_or(toplevel) })
    }

    /// HEAD's commit ID (None before the first commit).
    pub fn head(&self) -> Option<String> {
        git(&self.toplevel, &["rev-parse", "--verify", "-q", "HEAD^{commit}"]).ok().map(line).filter(|s| !s.is_empty())
    }

    /// Whether `commit` names a commit this repository has.
    pub fn has_commit(&self, commit: &str) -> bool {
        !commit.starts_with('-') && git(&self.toplevel, &["cat-file", "-e", &format!("{commit}^{{commit}}")]).is_ok()
    }

    /// Tracked files that differ from HEAD (staged or not) and untracked
    /// files, not those git ignores.
    pub fn status(&self) -> Result<Vec<Change>, String> {
        let out = git(&self.toplevel, &["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules=none"])?;
        let mut changes = Vec::new();
        let mut fields = out.split(|b| *b == 0).filter(|f| !f.is_empty());
        while let Some(f) = fields.next() {
            if f.len() < 4 {
                return Err(format!("unexpected git status entry {:?}", String::from_utf8_lossy(f)));
            }
            let code = String::from_utf8_lossy(&f[..2]).into_owned();
            changes.push(Change { code: code.clone(), path: String::from_utf8_lossy(&f[3..]).into_owned() });
            // A rename or copy is followed by the path it came from.
            if code.contains('R') || code.contains('C') {
                if let Some(from) = fields.next() {
                    changes.push(Change { code, path: String::from_utf8_lossy(from).into_owned() });
                }
            }
        }
        Ok(changes)
    }

    /// Ignored files under `dirs` (relative to the top level): they hide
    /// from `status` like any ignored file, but under a target root they
    /// can be compiled in.
    pub fn ignored_under(&self, dirs: &[String]) -> Result<Vec<String>, String> {
        if dirs.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec!["status", "--porcelain=v1", "-z", "--ignored=traditional", "--untracked-files=normal", "--"];
        args.extend(dirs.iter().map(String::as_str));
        let out = git(&self.toplevel, &args)?;
        Ok(out
            .split(|b| *b == 0)
            .filter(|f| f.starts_with(b"!! "))
            .map(|f| String::from_utf8_lossy(&f[3..]).into_owned())
            .collect())
    }

    /// Tracked files whose index entry tells `status` not to look at them
    /// (`update-index --assume-unchanged` or `--skip-worktree`), so a
    /// change to them would not show.
    pub fn hidden_from_status(&self) -> Result<Vec<String>, String> {
        let out = git(&self.toplevel, &["ls-files", "-v", "-z"])?;
        Ok(out
            .split(|b| *b == 0)
            .filter(|f| f.len() > 2 && (f[0].is_ascii_lowercase() || f[0] == b'S'))
            .map(|f| String::from_utf8_lossy(&f[2..]).into_owned())
            .collect())
    }

    /// SHA-256 of `path` (relative to the top level) as committed at
    /// `commit`, or None when the commit does not hold it.
    pub fn committed_sha256(&self, commit: &str, path: &str) -> Option<String> {
        let bytes = git(&self.toplevel, &["cat-file", "blob", &format!("{commit}:{path}")]).ok()?;
        Some(crate::gate::run::hex(&Sha256::digest(&bytes)))
    }

    /// The text of `path` (relative to the top level) at `commit`.
    pub fn committed_text(&self, commit: &str, path: &str) -> Option<String> {
        if commit.starts_with('-') {
            return None;
        }
        let bytes = git(&self.toplevel, &["cat-file", "blob", &format!("{commit}:{path}")]).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `path` relative to the top level with `/` separators, if inside.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let full = path.canonicalize().ok().or_else(|| {
            // A file that does not exist yet: canonicalize its directory.
            let parent = path.parent()?.canonicalize().ok()?;
            Some(parent.join(path.file_name()?))
        })?;
        let rel = full.strip_prefix(&self.toplevel).ok()?;
        Some(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
    }

    /// The bytes of `path` (relative to the top level) at `commit`.
    pub fn blob(&self, commit: &str, path: &str) -> Result<Vec<u8>, String> {
        if commit.starts_with('-') {
            return Err(format!("'{commit}' is not a commit"));
        }
        git(&self.toplevel, &["cat-file", "blob", &format!("{commit}:{path}")])
    }

    /// Set `key` to `value` in this repository's own configuration.
    pub fn set_config(&self, key: &str, value: &str) -> Result<(), String> {
        git(&self.toplevel, &["config", "--local", key, value]).map(|_| ())
    }

    /// Check out `commit` into a new worktree at `dir` (detached).
    pub fn add_worktree(&self, dir: &Path, commit: &str) -> Result<(), String> {
        if commit.starts_with('-') {
            return Err(format!("'{commit}' is not a commit"));
        }
        let d = dir.to_string_lossy();
        git(&self.toplevel, &["worktree", "add", "--detach", "--quiet", &d, commit]).map(|_| ())
    }

    /// Remove a worktree made by [`Repo::add_worktree`] and forget it.
    pub fn remove_worktree(&self, dir: &Path) {
        let d = dir.to_string_lossy();
        let _ = git(&self.toplevel, &["worktree", "remove", "--force", &d]);
        let _ = git(&self.toplevel, &["worktree", "prune"]);
    }
}

/// Run git in a test's repository, failing the test when it fails; `env`
/// sets variables such as GIT_COMMITTER_DATE.
#[cfg(test)]
pub(crate) fn test_git(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let cmd = env.iter().fold(duct::cmd("git", args), |c, (k, v)| c.env(k, v));
    let ok = cmd.dir(dir).stdout_null().stderr_null().unchecked().run().unwrap().status.success();
    assert!(ok, "git {args:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(dir: &Path, args: &[&str]) {
        test_git(dir, args, &[]);
    }

    #[test]
    fn status_head_and_committed_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        sh(d, &["init", "-q"]);
        assert!(Repo::at(d).unwrap().head().is_none(), "no commit yet");
        std::fs::write(d.join("a.txt"), "one\n").unwrap();
        std::fs::write(d.join("b.txt"), "two\n").unwrap();
        sh(d, &["add", "."]);
        sh(d, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first"]);
        let repo = Repo::at(d).unwrap();
        let head = repo.head().unwrap();
        assert_eq!(head.len(), 40);
        assert!(repo.has_commit(&head));
        assert!(!repo.has_commit("--all"));
        assert_eq!(repo.status().unwrap(), vec![]);
        assert_eq!(repo.committed_sha256(&head, "a.txt"), Some(crate::gate::run::hex(&Sha256::digest(b"one\n"))));
        assert_eq!(repo.committed_sha256(&head, "none.txt"), None);

        std::fs::write(d.join("a.txt"), "changed\n").unwrap();
        std::fs::write(d.join("new file.txt"), "x").unwrap();
        sh(d, &["mv", "b.txt", "c.txt"]);
        let mut st = repo.status().unwrap();
        st.sort_by(|a, b| a.path.cmp(&b.path));
        let paths: Vec<(&str, bool)> = st.iter().map(|c| (c.path.as_str(), c.untracked())).collect();
        assert_eq!(paths, [("a.txt", false), ("b.txt", false), ("c.txt", false), ("new file.txt", true)]);
        assert_eq!(repo.relative(&d.join("sub/x")), None, "a missing directory is not resolved");
        // Changes git status would not show.
        assert_eq!(repo.hidden_from_status().unwrap(), Vec::<String>::new());
        sh(d, &["update-index", "--assume-unchanged", "a.txt"]);
        assert_eq!(repo.hidden_from_status().unwrap(), ["a.txt"]);
        std::fs::create_dir_all(d.join("src")).unwrap();
        std::fs::write(d.join(".gitignore"), "*.gen\n").unwrap();
        std::fs::write(d.join("src/x.gen"), "").unwrap();
        std::fs::write(d.join("top.gen"), "").unwrap();
        // A directory holding only ignored files is named as the directory.
        assert_eq!(repo.ignored_under(&["src".to_string()]).unwrap(), ["src/"]);
        std::fs::write(d.join("src/keep.rs"), "").unwrap();
        sh(d, &["add", "src/keep.rs"]);
        assert_eq!(repo.ignored_under(&["src".to_string()]).unwrap(), ["src/x.gen"]);
        assert_eq!(repo.relative(&d.join("a.txt")).as_deref(), Some("a.txt"));
    }
}
