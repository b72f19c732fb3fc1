//! Stub-scan findings inside tracked features' Rust targets, for the rule
//! that a feature with a finding cannot be complete or verified; and the
//! state of a batch's Rust files (readable? their hashes now) for the rule
//! that a target that cannot be read cannot be checked, and evidence must
//! match the files as they are.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::config::Project;
use crate::db::Database;
use crate::error::Error;
use crate::stubscan;

/// Feature ID → `path:line rule` of the first finding inside its Rust
/// target (its function in its file), for the features in `only` (all
/// mapped features when None). Files resolve against the project root.
pub fn feature_findings(db: &Database, project: &Project, only: Option<&HashSet<i64>>) -> Result<BTreeMap<i64, String>, Error> {
    let targets: Vec<_> = db.rust_targets()?.into_iter().filter(|t| only.is_none_or(|ids| ids.contains(&t.feature_id))).collect();
    let files: Vec<String> = targets.iter().map(|t| t.rust_file.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let found = stubscan::findings_for_files(&project.root, &files, &project.config);
    Ok(targets
        .iter()
        .filter_map(|t| stubscan::feature_finding(t, &found).map(|f| (t.feature_id, format!("{}:{} {}", f.path, f.line, f.rule))))
        .collect())
}

/// [`feature_findings`] for the features of one batch (the only ones a
/// status change of that batch can move).
pub fn batch_findings(db: &Database, project: &Project, batch: i64) -> Result<BTreeMap<i64, String>, Error> {
    let in_batch: HashSet<i64> = db.batch_items(batch)?.iter().filter(|i| i.kind == crate::db::ItemKind::Feature).map(|i| i.id).collect();
    feature_findings(db, project, Some(&in_batch))
}

/// What a status change of one batch needs to know about its Rust files.
#[derive(Debug, Clone, Default)]
pub struct BatchFiles {
    /// Feature ID → why its Rust target cannot be read under the root.
    pub target_problems: BTreeMap<i64, String>,
    /// Path → SHA-256 now (None: unreadable), for every Rust file of the
    /// batch's items.
    pub current_hashes: BTreeMap<String, Option<String>>,
}

/// [`BatchFiles`] of one batch, resolved against the project root (only
/// regular files inside it, bounded reads).
pub fn batch_files(db: &Database, project: &Project, batch: i64) -> Result<BatchFiles, Error> {
    let mut out = BatchFiles::default();
    for item in db.batch_items(batch)? {
        let Some(file) = &item.rust_file else { continue };
        if let Err(problem) = crate::project_files::resolve(&project.root, file) {
            if item.kind == crate::db::ItemKind::Feature {
                out.target_problems.insert(item.id, format!("{file} {problem} (project root {})", project.root.display()));
            }
        }
        if !out.current_hashes.contains_key(file) {
            out.current_hashes.insert(file.clone(), crate::project_files::sha256(&project.root, file));
        }
    }
    Ok(out)
}
