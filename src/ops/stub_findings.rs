//! Stub-scan findings inside tracked features' Rust targets, for the rule
//! that a feature with a finding cannot be complete or verified.

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
