//! Walks a Go source tree in the documented order and extracts its features,
//! tests and test→feature links, reading and tokenizing files on all cores.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::extract::{called_names, functions, is_test_name};
use super::lexer::tokenize;
use crate::inventory::{Feature, Inventory, Module, SourceFile, Test};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read directory {path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a directory")]
    NotADir { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Lex { path: PathBuf, source: super::lexer::LexError },
}

/// What one file contributes, before IDs are assigned.
struct FileScan {
    lines: u32,
    features: Vec<Feature>,
    tests: Vec<(Test, Vec<String>)>,
}

/// Import every `*.go` file under `dir` (see README for the exact rules).
pub fn import_dir(dir: &Path) -> Result<Inventory, ImportError> {
    let (modules, files) = go_files(dir)?;
    let scans = scan_all(&files)?;

    let mut inv = Inventory { modules, ..Inventory::default() };
    let mut test_calls = Vec::new();
    for (f, scan) in files.iter().zip(scans) {
        let file = inv.files.len() as u32;
        inv.files.push(SourceFile { module: f.module, path: f.rel.clone(), is_test: f.rel.ends_with("_test.go"), lines: scan.lines });
        for mut feat in scan.features {
            feat.file = file;
            inv.features.push(feat);
        }
        for (mut t, calls) in scan.tests {
            t.file = file;
            inv.tests.push(t);
            test_calls.push(calls);
        }
    }
    inv.links = link_by_name(&inv.features, &test_calls);
    Ok(inv)
}

/// One Go file to scan.
struct GoFile {
    /// Path relative to the imported directory's parent (`server/raft.go`).
    rel: String,
    abs: PathBuf,
    module: u32,
}

/// The modules (directories holding Go files, by name then path) and the
/// files in numbering order: by module, then by file name.
fn go_files(dir: &Path) -> Result<(Vec<Module>, Vec<GoFile>), ImportError> {
    let meta = std::fs::metadata(dir).map_err(|source| ImportError::Dir { path: dir.to_path_buf(), source })?;
    if !meta.is_dir() {
        return Err(ImportError::NotADir { path: dir.to_path_buf() });
    }
    let root = dir.canonicalize().map_err(|source| ImportError::Dir { path: dir.to_path_buf(), source })?;
    let base = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(&root).follow_links(false) {
        let entry = entry.map_err(|e| ImportError::Dir {
            path: e.path().map_or_else(|| root.clone(), Path::to_path_buf),
            source: e.into_io_error().unwrap_or_else(|| std::io::Error::other("filesystem loop")),
        })?;
        if !entry.file_type().is_file() || entry.path().extension().is_none_or(|e| e != "go") {
            continue;
        }
        let rel = entry.path().strip_prefix(&root).unwrap_or(entry.path());
        let rel: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let rel = if base.is_empty() { rel.join("/") } else { format!("{base}/{}", rel.join("/")) };
        found.push((Module::of_path(&rel), rel, entry.into_path()));
    }
    found.sort_by(|a, b| (&a.0.name, &a.0.dir, file_name(&a.1)).cmp(&(&b.0.name, &b.0.dir, file_name(&b.1))));
    let mut modules: Vec<Module> = Vec::new();
    let mut files = Vec::with_capacity(found.len());
    for (module, rel, abs) in found {
        if modules.last() != Some(&module) {
            modules.push(module);
        }
        files.push(GoFile { rel, abs, module: modules.len() as u32 - 1 });
    }
    Ok((modules, files))
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// Scan files on all cores.
fn scan_all(files: &[GoFile]) -> Result<Vec<FileScan>, ImportError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<FileScan, ImportError>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let r = scan_file(&f.rel, &f.abs);
                if let Ok(mut guard) = results.lock() {
                    guard[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    results
        .into_iter()
        .zip(files)
        .map(|(r, f)| r.unwrap_or_else(|| Err(ImportError::Read { path: f.abs.clone(), source: std::io::Error::other("not scanned") })))
        .collect()
}

fn scan_file(rel: &str, path: &Path) -> Result<FileScan, ImportError> {
    let src = std::fs::read(path).map_err(|source| ImportError::Read { path: path.to_path_buf(), source })?;
    let toks = tokenize(&src).map_err(|source| ImportError::Lex { path: path.to_path_buf(), source })?;
    let lines = super::lexer::count_newlines(&src) + u32::from(!src.is_empty() && src.last() != Some(&b'\n'));
    let mut scan = FileScan { lines, features: Vec::new(), tests: Vec::new() };
    let decls = functions(&src, &toks);
    if rel.ends_with("_test.go") {
        for d in decls {
            if !d.receiver.is_empty() || !is_test_name(&d.name) {
                continue;
            }
            let calls = d
                .body
                .map(|b| called_names(&src, &toks, b).into_iter().map(|n| String::from_utf8_lossy(n).into_owned()).collect())
                .unwrap_or_default();
            let loc = d.loc();
            scan.tests.push((Test { file: 0, line: d.line, name: d.name, loc, body_hash: d.body_hash }, calls));
        }
    } else {
        for d in decls {
            let loc = d.loc();
            scan.features.push(Feature { file: 0, line: d.line, receiver: d.receiver, name: d.name, loc, body_hash: d.body_hash });
        }
    }
    Ok(scan)
}

/// Link each test to every feature whose bare name its body calls.
fn link_by_name(features: &[Feature], test_calls: &[Vec<String>]) -> Vec<(u32, u32)> {
    let mut by_name: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, f) in features.iter().enumerate() {
        by_name.entry(f.name.as_str()).or_default().push(i as u32);
    }
    let mut links = Vec::new();
    for (t, calls) in test_calls.iter().enumerate() {
        for name in calls {
            if let Some(ids) = by_name.get(name.as_str()) {
                links.extend(ids.iter().map(|&f| (f, t as u32)));
            }
        }
    }
    links.sort_unstable();
    links.dedup();
    links
}
