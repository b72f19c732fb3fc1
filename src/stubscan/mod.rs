//! The stub scanner: finds placeholder code and tests that cannot fail in
//! Rust, C#, Go, Python and TypeScript sources, precisely enough for CI.
//!
//! Per file: one pass of the language's trigger set (`rules::triggered`) on
//! the raw bytes; a file with no trigger is done. Otherwise it is lexed into
//! a code mask (`lex`), so code rules never see strings or comments, and only
//! the triggered rules run. Suppressions (`suppress`) apply per file; the
//! baseline (`baseline`) applies to the whole result. `spans` finds Rust
//! functions so findings can be tied to tracked features.

pub mod baseline;
mod lex;
pub mod rules;
mod source;
pub mod spans;
mod suppress;
mod walk;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::db::RustTarget;
pub use rules::{Matchers, Rule};
use source::Source;
pub use walk::IGNORE_FILE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust = 0,
    CSharp = 1,
    Go = 2,
    Python = 3,
    TypeScript = 4,
}

impl Language {
    /// Every language, in discriminant order.
    pub const ALL: &'static [Language] = &[Language::Rust, Language::CSharp, Language::Go, Language::Python, Language::TypeScript];

    pub fn of_path(path: &Path) -> Option<Language> {
        match path.extension()?.to_str()? {
            "rs" => Some(Language::Rust),
            "cs" => Some(Language::CSharp),
            "go" => Some(Language::Go),
            "py" => Some(Language::Python),
            "ts" | "tsx" | "mts" | "cts" | "js" | "jsx" | "mjs" | "cjs" => Some(Language::TypeScript),
            _ => None,
        }
    }
}

/// One finding, located and hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Relative to the scan's root, with `/` separators.
    pub path: String,
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub rule: &'static str,
    pub message: String,
    /// Hash of the matched text: the baseline key with rule and path.
    pub hash: String,
    /// The tracked feature whose Rust target holds this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<FeatureRef>,
    /// Rust functions around the finding, outermost first.
    #[serde(skip)]
    pub functions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureRef {
    pub id: i64,
    pub go_name: String,
}

/// Scan one file's bytes; returns its findings (sorted by position) and how
/// many findings its suppressions removed.
pub fn scan_text(path: &str, lang: Language, text: &[u8], m: &Matchers) -> (Vec<Finding>, usize) {
    let bits = rules::triggered(lang, text);
    if bits == 0 {
        return (Vec::new(), 0);
    }
    let src = Source::new(path, lang, text);
    let mut raw = rules::check(&src, bits, m);
    let suppressed = suppress::apply(&src, &mut raw);
    if raw.is_empty() {
        return (Vec::new(), suppressed);
    }
    let fns = if lang == Language::Rust { spans::rust_fns(&src) } else { Vec::new() };
    let mut findings: Vec<Finding> = raw
        .into_iter()
        .map(|r| {
            let (line, column) = src.line_col(r.at);
            Finding {
                path: path.to_string(),
                line,
                column,
                rule: r.rule.id,
                message: r.message,
                hash: baseline::hash(&r.key),
                feature: None,
                functions: spans::enclosing(&fns, r.at),
            }
        })
        .collect();
    findings.sort_by(|a, b| (a.line, a.column, a.rule).cmp(&(b.line, b.column, b.rule)));
    findings.dedup_by(|a, b| (a.line, a.column, a.rule) == (b.line, b.column, b.rule));
    (findings, suppressed)
}

/// What to scan and against which baseline.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Paths in findings are relative to this directory.
    pub root: PathBuf,
    /// Files and directories to walk (absolute, or relative to the process's
    /// working directory).
    pub paths: Vec<PathBuf>,
    pub assertion_helpers: Vec<String>,
    pub baseline: Option<baseline::BaselineFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub files_scanned: usize,
    /// Findings not suppressed in the source nor covered by the baseline,
    /// ordered by path and position.
    pub findings: Vec<Finding>,
    pub files_with_findings: usize,
    pub suppressed: usize,
    pub baselined: usize,
    /// Files that could not be read.
    pub warnings: Vec<String>,
}

/// Walk the paths and scan every source file.
pub fn scan(o: &ScanOptions) -> ScanReport {
    let matchers = Matchers::new(&o.assertion_helpers);
    let walked = walk::walk(&o.root, &o.paths, &matchers);
    let mut findings = walked.findings;
    findings.sort_by(|a, b| (&a.path, a.line, a.column, a.rule).cmp(&(&b.path, b.line, b.column, b.rule)));
    // Overlapping paths (`src src/a.rs`) scan a file twice.
    findings.dedup();
    let baselined = o.baseline.as_ref().map_or(0, |b| baseline::subtract(&mut findings, b));
    let mut warnings = walked.errors;
    warnings.sort();
    let mut report = ScanReport { files_scanned: walked.files, findings, files_with_findings: 0, suppressed: walked.suppressed, baselined, warnings };
    report.recount();
    report
}

impl ScanReport {
    fn recount(&mut self) {
        let mut paths: Vec<&str> = self.findings.iter().map(|f| f.path.as_str()).collect();
        paths.dedup();
        self.files_with_findings = paths.len();
    }

    /// Name the tracked feature of every finding inside a feature's Rust
    /// target (the function its symbol names, in its file).
    pub fn link_features(&mut self, targets: &[RustTarget]) {
        for f in &mut self.findings {
            f.feature = targets.iter().find(|t| t.rust_file == f.path && in_target(t, f)).map(|t| FeatureRef { id: t.feature_id, go_name: t.go_name.clone() });
        }
    }

    /// Remove findings the baseline covers (after the scan, e.g. one just
    /// written).
    pub fn subtract(&mut self, b: &baseline::BaselineFile) {
        self.baselined += baseline::subtract(&mut self.findings, b);
        self.recount();
    }
}

/// Whether a finding in the target's file lies in the function the target's
/// symbol names (its last `::` segment); a target without a symbol is the
/// whole file.
fn in_target(t: &RustTarget, f: &Finding) -> bool {
    match t.rust_symbol.as_deref().and_then(|s| s.rsplit("::").next()) {
        Some(name) => f.functions.iter().any(|n| n == name),
        None => true,
    }
}

/// Scan the given files (paths relative to `root`, as `rust_file` is),
/// with the configuration's assertion helpers and in-source suppressions.
/// Missing or unreadable files have no findings. Keys are the paths given.
pub fn findings_for_files(root: &Path, files: &[String], config: &Config) -> HashMap<String, Vec<Finding>> {
    let m = Matchers::new(&config.stub.assertion_helpers);
    let mut buf = Vec::new();
    let mut out = HashMap::new();
    for file in files {
        let Some(lang) = Language::of_path(Path::new(file)) else { continue };
        // Only regular files inside the root, bounded: the names come from
        // the database.
        if crate::project_files::read_into(root, file, &mut buf).is_err() || memchr::memchr(0, &buf).is_some() {
            continue;
        }
        let (found, _) = scan_text(file, lang, &buf, &m);
        if !found.is_empty() {
            out.insert(file.clone(), found);
        }
    }
    out
}

/// The first finding inside the feature's Rust target, from the findings of
/// its file (as returned by [`findings_for_files`]).
pub fn feature_finding<'a>(target: &RustTarget, findings: &'a HashMap<String, Vec<Finding>>) -> Option<&'a Finding> {
    findings.get(&target.rust_file)?.iter().find(|f| in_target(target, f))
}
