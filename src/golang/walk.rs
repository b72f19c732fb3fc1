//! Walks a Go source tree in the documented order and extracts its features,
//! tests and test→feature links, reading and tokenizing files on all cores.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::extract::{called_names, functions, is_test_name};
use super::lexer::tokenize;
use crate::inventory::{Feature, Inventory, SourceFile, Test};

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
    let files = go_files(dir)?;
    let scans = scan_all(&files)?;

    let mut inv = Inventory::default();
    let mut test_calls = Vec::new();
    for ((rel, _), scan) in files.iter().zip(scans) {
        let Some(scan) = scan else { continue };
        let file = inv.files.len() as u32;
        inv.files.push(SourceFile { path: rel.clone(), is_test: rel.ends_with("_test.go"), lines: scan.lines });
        for mut f in scan.features {
            f.file = file;
            inv.features.push(f);
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

/// `(path relative to dir's parent, absolute path)`, sorted by the relative
/// path so `server/accounts.go` comes before `server/avl/seqset.go`.
fn go_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, ImportError> {
    let meta = std::fs::metadata(dir).map_err(|source| ImportError::Dir { path: dir.to_path_buf(), source })?;
    if !meta.is_dir() {
        return Err(ImportError::NotADir { path: dir.to_path_buf() });
    }
    let root = dir.canonicalize().map_err(|source| ImportError::Dir { path: dir.to_path_buf(), source })?;
    let base = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut out = Vec::new();
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
        out.push((rel, entry.into_path()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Scan files on all cores; `None` marks a build-ignored file.
fn scan_all(files: &[(String, PathBuf)]) -> Result<Vec<Option<FileScan>>, ImportError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Option<FileScan>, ImportError>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((rel, path)) = files.get(i) else { break };
                let r = scan_file(rel, path);
                if let Ok(mut guard) = results.lock() {
                    guard[i] = Some(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    results.into_iter().map(|r| r.unwrap_or(Ok(None))).collect()
}

fn scan_file(rel: &str, path: &Path) -> Result<Option<FileScan>, ImportError> {
    let src = std::fs::read(path).map_err(|source| ImportError::Read { path: path.to_path_buf(), source })?;
    if is_build_ignored(&src) {
        return Ok(None);
    }
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
    Ok(Some(scan))
}

/// A file is skipped when a line before its package clause is exactly
/// `//go:build ignore` or `// +build ignore`.
pub fn is_build_ignored(src: &[u8]) -> bool {
    let mut in_block = false;
    for raw in src.split(|&b| b == b'\n') {
        let line = raw.trim_ascii();
        if in_block {
            if line.windows(2).any(|w| w == b"*/") {
                in_block = false;
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line.starts_with(b"//") {
            if line == b"//go:build ignore" || line == b"// +build ignore" {
                return true;
            }
            continue;
        }
        if line.starts_with(b"/*") {
            in_block = !line[2..].windows(2).any(|w| w == b"*/");
            continue;
        }
        return false;
    }
    false
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_ignore_only_before_package_clause() {
        assert!(is_build_ignored(b"// Copyright\n\n//go:build ignore\n\npackage main\n"));
        assert!(is_build_ignored(b"/* header\n*/\n// +build ignore\npackage main\n"));
        assert!(!is_build_ignored(b"//go:build ignore && linux\npackage main\n"));
        assert!(!is_build_ignored(b"package main\n//go:build ignore\n"));
        assert!(!is_build_ignored(b"//go:build !windows\npackage main\n"));
    }
}
