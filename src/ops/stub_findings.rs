//! Stub-scan findings inside tracked features' targets, for the rule that
//! a feature with a finding cannot be complete or verified (Rust targets
//! name their function through the scanner's own spans, C# targets through
//! the method spans of `crate::targets`); and the state of a batch's target
//! files (readable? their hashes now) for the rule that a target that cannot
//! be read cannot be checked, and evidence must match the files as they are.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use crate::config::Project;
use crate::db::{Database, RustTarget};
use crate::error::Error;
use crate::stubscan::{self, FeatureRef, Finding, ScanReport};
use crate::targets::{target_span, Lang};

/// Feature ID → `path:line rule` of the first finding inside its target
/// (its function in its file), for the features in `only` (all mapped
/// features when None). Files resolve against the project root.
pub fn feature_findings(db: &Database, project: &Project, only: Option<&HashSet<i64>>) -> Result<BTreeMap<i64, String>, Error> {
    let targets: Vec<_> = db.rust_targets()?.into_iter().filter(|t| only.is_none_or(|ids| ids.contains(&t.feature_id))).collect();
    let files: Vec<String> = targets.iter().map(|t| t.rust_file.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let found = stubscan::findings_for_files(&project.root, &files, &project.config);
    let mut spans = Spans::new(&project.root);
    Ok(targets
        .iter()
        .filter_map(|t| {
            let finding = match Lang::of_path(&t.rust_file) {
                Some(Lang::CSharp) => found.get(&t.rust_file).and_then(|fs| fs.iter().find(|f| spans.holds(t, f))),
                _ => stubscan::feature_finding(t, &found),
            };
            finding.map(|f| (t.feature_id, format!("{}:{} {}", f.path, f.line, f.rule)))
        })
        .collect())
}

/// [`feature_findings`] for the features of one batch (the only ones a
/// status change of that batch can move).
pub fn batch_findings(db: &Database, project: &Project, batch: i64) -> Result<BTreeMap<i64, String>, Error> {
    let in_batch: HashSet<i64> = db.batch_items(batch)?.iter().filter(|i| i.kind == crate::db::ItemKind::Feature).map(|i| i.id).collect();
    feature_findings(db, project, Some(&in_batch))
}

/// Name the tracked feature of findings in C# targets, which the scanner
/// (linking Rust functions only) leaves unnamed.
pub fn link_csharp_features(report: &mut ScanReport, targets: &[RustTarget], root: &Path) {
    let mut spans = Spans::new(root);
    for f in report.findings.iter_mut().filter(|f| f.feature.is_none() && Lang::of_path(&f.path) == Some(Lang::CSharp)) {
        if let Some(t) = targets.iter().find(|t| t.rust_file == f.path && spans.holds(t, f)) {
            f.feature = Some(FeatureRef { id: t.feature_id, go_name: t.go_name.clone() });
        }
    }
}

/// Line spans of C# targets, read once per file.
struct Spans<'a> {
    root: &'a Path,
    texts: HashMap<String, Option<Vec<u8>>>,
}

impl<'a> Spans<'a> {
    fn new(root: &'a Path) -> Spans<'a> {
        Spans { root, texts: HashMap::new() }
    }

    /// Whether the finding lies in the target's method. A target without a
    /// symbol is its whole file, and so is one whose method cannot be found:
    /// a stub must never pass for want of a span.
    fn holds(&mut self, t: &RustTarget, f: &Finding) -> bool {
        let Some(symbol) = t.rust_symbol.as_deref() else { return true };
        let root = self.root;
        let text = self.texts.entry(t.rust_file.clone()).or_insert_with(|| {
            // Bounded, and only a regular file inside the root.
            let mut buf = Vec::new();
            crate::project_files::read_into(root, &t.rust_file, &mut buf).ok().map(|_| buf)
        });
        match text.as_deref().and_then(|text| target_span(&t.rust_file, text, symbol)) {
            Some((first, last)) => (first..=last).contains(&f.line),
            None => true,
        }
    }
}

/// What a status change of one batch needs to know about its Rust files.
#[derive(Debug, Clone, Default)]
pub struct BatchFiles {
    /// Feature ID → why its Rust target cannot be read under the root.
    pub target_problems: BTreeMap<i64, String>,
    /// Path → SHA-256 now (None: unreadable), for every Rust file of the
    /// batch's items.
    pub current_hashes: BTreeMap<String, Option<String>>,
    /// Feature ID → why its mutation evidence does not allow verified
    /// (only when `[verify] mutants = true`).
    pub mutation_problems: BTreeMap<i64, String>,
}

/// [`BatchFiles`] of one batch, resolved against the project root (only
/// regular files inside it, bounded reads).
pub fn batch_files(db: &Database, project: &Project, batch: i64) -> Result<BatchFiles, Error> {
    let mut out = BatchFiles::default();
    let items = db.batch_items(batch)?;
    if project.config.verify.mutants {
        out.mutation_problems = super::mutants::problems(db, project, &items)?;
    }
    for item in items {
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
