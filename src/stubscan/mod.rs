//! The stub scanner: finds placeholder code and tests that cannot fail in
//! Rust, C#, Go, Python and TypeScript sources, precisely enough for CI.
//!
//! Per file: one pass of the language's trigger set (`rules::triggered`) on
//! the raw bytes; a file with no trigger (and not test support) is done.
//! Otherwise it is lexed into a code mask (`lex`), so code rules never see
//! strings or comments, and only the triggered rules run. A test with no
//! assertion of its own stays pending until the walk has collected every
//! project's asserting helpers and every crate's exported asserting macros
//! (`walk`); then suppressions (`suppress`)
//! apply per file, and the baseline (`baseline`) to the whole result.
//! `spans` finds Rust functions so findings can be tied to tracked features.

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
pub use rules::{Matchers, Rule, StubSettings};
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
    /// Relative to the scan's root, with `/` separators (a name that is not
    /// UTF-8 shows U+FFFD here; `path_bytes` holds its real bytes).
    pub path: String,
    /// The path's bytes, only when it is not valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<Vec<u8>>,
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
    /// For a test without assertion of its own: the names it calls, any of
    /// which may be an asserting helper of another file.
    #[serde(skip)]
    pub calls: Vec<String>,
}

impl Finding {
    pub fn new(path: &str, line: usize, column: usize, rule: Rule, message: String, key: &str) -> Finding {
        Finding { path: path.to_string(), path_bytes: None, line, column, rule: rule.id, message, hash: baseline::hash(key), feature: None, functions: Vec::new(), calls: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureRef {
    pub id: i64,
    pub go_name: String,
}

/// One file, scanned on its own: its findings before suppressions, its
/// suppressions, and what it offers other files' tests.
#[derive(Debug, Default)]
pub struct FileScan {
    pub path: String,
    findings: Vec<Finding>,
    suppressions: Vec<suppress::Suppression>,
    /// Functions and macros defined here that assert, which a test in
    /// another file of the same project may call.
    pub asserting: Vec<String>,
    /// Asserting macros exported to other crates (`macro:name`), which a
    /// Rust test of any project may invoke.
    pub exported: Vec<String>,
}

impl FileScan {
    /// Records the file name's real bytes on every finding (a name that is
    /// not UTF-8 is shown lossily in `path`).
    pub fn set_path_bytes(&mut self, bytes: &[u8]) {
        for f in &mut self.findings {
            f.path_bytes = Some(bytes.to_vec());
        }
    }

    /// Whether nothing in the file matters to the scan's result.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.suppressions.is_empty() && self.asserting.is_empty() && self.exported.is_empty()
    }

    /// The file's final findings (sorted by position) and how many its
    /// suppressions removed: a test calling a name `is_helper` accepts is
    /// no finding.
    pub fn finish(self, is_helper: impl Fn(&str) -> bool) -> (Vec<Finding>, usize) {
        let FileScan { path, mut findings, suppressions, .. } = self;
        findings.retain(|f| !f.calls.iter().any(|c| is_helper(c)));
        let suppressed = suppress::apply(&path, suppressions, &mut findings);
        findings.sort_by(|a, b| (a.line, a.column, a.rule).cmp(&(b.line, b.column, b.rule)));
        findings.dedup_by(|a, b| (a.line, a.column, a.rule) == (b.line, b.column, b.rule));
        (findings, suppressed)
    }
}

/// Scan one file's bytes on its own (see [`FileScan::finish`] for the rest).
pub fn scan_file(path: &str, lang: Language, text: &[u8], m: &Matchers) -> FileScan {
    let mut bits = rules::triggered(lang, text);
    // Test-support files are read for the helpers they define even when no
    // rule is triggered.
    let support = matches!(lang, Language::Rust | Language::Python | Language::TypeScript) && rules::is_test_support(path);
    // What a Rust file without tests offers other files' tests, found with
    // literal searches (a pattern in the trigger set would slow every
    // file's pass): compile-time assertion functions need no lexing, a
    // macro that may assert does.
    let mut statics = Vec::new();
    if lang == Language::Rust && bits & (1 << rules::family::TEST) == 0 && !support {
        if memchr::memmem::find(text, b"() {}").is_some() {
            statics = rules::static_assertions_unlexed(text);
        }
        if memchr::memmem::find(text, b"macro_rules!").is_some() && [&b"assert"[..], b"panic!", b"bail!", b"ensure!", b"snapshot"].iter().any(|w| memchr::memmem::find(text, w).is_some()) {
            bits |= 1 << rules::family::OFFERS;
        }
    }
    if bits == 0 && !support {
        return FileScan { path: path.to_string(), asserting: statics, ..FileScan::default() };
    }
    let src = Source::new(path, lang, text);
    let mut checked = rules::check(&src, bits, support, m);
    if !statics.is_empty() {
        checked.asserting.extend(statics);
        checked.asserting.sort_unstable();
        checked.asserting.dedup();
    }
    let suppressions = suppress::parse(&src);
    let fns = if lang == Language::Rust && !checked.raw.is_empty() { spans::rust_fns(&src) } else { Vec::new() };
    let findings = checked
        .raw
        .into_iter()
        .map(|r| {
            let (line, column) = src.line_col(r.at);
            let mut f = Finding::new(path, line, column, r.rule, r.message, &r.key);
            f.functions = spans::enclosing(&fns, r.at);
            f.calls = r.calls;
            f
        })
        .collect();
    FileScan { path: path.to_string(), findings, suppressions, asserting: checked.asserting, exported: checked.exported }
}

/// What to scan and against which baseline.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Paths in findings are relative to this directory.
    pub root: PathBuf,
    /// Files and directories to walk (absolute, or relative to the process's
    /// working directory).
    pub paths: Vec<PathBuf>,
    /// Baseline paths are relative to this directory (canonical), so the
    /// same tree scanned from anywhere has the same baseline.
    pub scan_root: PathBuf,
    pub settings: rules::StubSettings,
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
    #[serde(skip)]
    root: PathBuf,
    #[serde(skip)]
    scan_root: PathBuf,
}

/// Walk the paths and scan every source file.
pub fn scan(o: &ScanOptions) -> ScanReport {
    let matchers = Matchers::new(&o.settings);
    let walked = walk::walk(&o.root, &o.paths, &matchers);
    let mut findings = walked.findings;
    findings.sort_by(|a, b| (&a.path, a.line, a.column, a.rule).cmp(&(&b.path, b.line, b.column, b.rule)));
    // Overlapping paths (`src src/a.rs`) scan a file twice.
    findings.dedup();
    let mut warnings = walked.errors;
    warnings.sort();
    let mut report = ScanReport {
        files_scanned: walked.files,
        findings,
        files_with_findings: 0,
        suppressed: walked.suppressed,
        baselined: 0,
        warnings,
        root: o.root.clone(),
        scan_root: o.scan_root.clone(),
    };
    if let Some(b) = &o.baseline {
        report.subtract(b);
    }
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
        let (root, scan_root) = (self.root.clone(), self.scan_root.clone());
        self.baselined += baseline::subtract(&mut self.findings, b, |f| baseline_path(&root, &scan_root, f));
        self.recount();
    }

    /// The findings as a baseline, paths relative to the scan root.
    pub fn to_baseline(&self) -> baseline::BaselineFile {
        baseline::from_findings(&self.findings, |f| baseline_path(&self.root, &self.scan_root, f))
    }
}

/// A finding's path relative to the scan root, `/`-separated (as shown
/// when the file is outside it).
fn baseline_path(root: &Path, scan_root: &Path, f: &Finding) -> String {
    walk::display_path(scan_root, &root.join(&f.path))
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
/// Tests resolve helpers among the files given.
pub fn findings_for_files(root: &Path, files: &[String], config: &Config) -> HashMap<String, Vec<Finding>> {
    let m = Matchers::new(&rules::StubSettings::from_config(&config.stub));
    let mut buf = Vec::new();
    let mut scanned = Vec::new();
    for file in files {
        let Some(lang) = Language::of_path(Path::new(file)) else { continue };
        // Only regular files inside the root, bounded: the names come from
        // the database.
        if crate::project_files::read_into(root, file, &mut buf).is_err() || memchr::memchr(0, &buf).is_some() {
            continue;
        }
        scanned.push(scan_file(file, lang, &buf, &m));
    }
    let helpers: std::collections::HashSet<String> = scanned.iter().flat_map(|s| s.asserting.iter().chain(&s.exported).cloned()).collect();
    let mut out = HashMap::new();
    for s in scanned {
        let (found, _) = s.finish(|name| helpers.contains(name));
        if let Some(first) = found.first() {
            out.insert(first.path.clone(), found);
        }
    }
    out
}

/// The first finding inside the feature's Rust target, from the findings of
/// its file (as returned by [`findings_for_files`]).
pub fn feature_finding<'a>(target: &RustTarget, findings: &'a HashMap<String, Vec<Finding>>) -> Option<&'a Finding> {
    findings.get(&target.rust_file)?.iter().find(|f| in_target(target, f))
}
