//! Installing `porttrack db merge` as git's merge driver for the database
//! file, and `porttrack db dump` as its diff text.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::git::Repo;

#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub db: PathBuf,
    /// The porttrack program git runs.
    pub program: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub repository: String,
    /// `key = value` lines written to the repository's git config.
    pub config: Vec<(String, String)>,
    pub gitattributes: String,
    /// The line assigning the driver (already there: nothing added).
    pub attribute_line: String,
    pub attribute_added: bool,
}

/// The driver's name in git config and .gitattributes.
pub const DRIVER: &str = "porttrack";

/// `program` as one shell word (git runs drivers through the shell).
fn shell_word(program: &str) -> String {
    if !program.is_empty() && program.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@+".contains(c)) {
        program.to_string()
    } else {
        format!("'{}'", program.replace('\'', "'\\''"))
    }
}

/// A path as a .gitattributes pattern: anchored, with pattern characters
/// and spaces escaped.
fn pattern(rel: &str) -> String {
    let mut out = String::from("/");
    for c in rel.chars() {
        if " *?[]\\#!\"".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn install(o: &InstallOptions) -> Result<InstallReport, Error> {
    if o.program.trim().is_empty() || o.program.contains('\n') {
        return Err(Error::usage(format!("--program {:?} is not a program name", o.program)));
    }
    let dir = o.db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let repo = Repo::at(dir).ok_or_else(|| Error::usage(format!("{} is not inside a git work tree; run `git init` first", o.db.display())))?;
    let rel = repo.relative(&o.db).ok_or_else(|| Error::usage(format!("{} is outside the work tree {}", o.db.display(), repo.toplevel.display())))?;
    let program = shell_word(&o.program);
    let config = vec![
        (format!("merge.{DRIVER}.name"), "porttrack: merge porting.db copies by their histories".to_string()),
        (format!("merge.{DRIVER}.driver"), format!("{program} db merge %O %A %B")),
        (format!("diff.{DRIVER}.textconv"), format!("{program} db dump --db")),
    ];
    for (k, v) in &config {
        repo.set_config(k, v).map_err(|e| Error::Refused(format!("cannot write git config: {e}")))?;
    }
    let attributes = repo.toplevel.join(".gitattributes");
    let existing = match std::fs::read_to_string(&attributes) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::Refused(format!("cannot read {}: {e}", attributes.display()))),
    };
    let line = format!("{} merge={DRIVER} diff={DRIVER}", pattern(&rel));
    let added = !existing.lines().any(|l| l.trim() == line);
    if added {
        let mut text = existing;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&line);
        text.push('\n');
        std::fs::write(&attributes, text).map_err(|e| Error::Refused(format!("cannot write {}: {e}", attributes.display())))?;
    }
    Ok(InstallReport { repository: repo.toplevel.display().to_string(), config, gitattributes: attributes.display().to_string(), attribute_line: line, attribute_added: added })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_and_paths_are_quoted_for_git() {
        assert_eq!(shell_word("porttrack"), "porttrack");
        assert_eq!(shell_word("/opt/my tools/porttrack"), "'/opt/my tools/porttrack'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(pattern("porting.db"), "/porting.db");
        assert_eq!(pattern("a b/[x].db"), "/a\\ b/\\[x\\].db");
    }
}
