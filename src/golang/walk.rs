//! Walks a Go source tree in the documented order, leaving out what `go
//! build` leaves out (`testdata/`, `_`- and `.`-prefixed directories) and
//! what `--exclude` names, and extracts its features, tests and
//! test→feature links, reading and tokenizing files on all cores. A file that
//! cannot be read or tokenized is left out and reported; the rest is
//! imported.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use super::body::{body, globals, param_count, results, signature_params, Binding, Body, Value};
use super::extract::{functions, imports, is_test_name, package_clause};
use super::lexer::{tokenize_into, Token};
use super::link::{links, DeclFacts, FileFacts};
use super::resolve::{enclosing_go_mod, slash_path, GoMod, Resolver};
use super::types::type_decls;
use crate::inventory::{Feature, Inventory, Module, SourceFile, Test};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read directory {path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a directory")]
    NotADir { path: PathBuf },
    #[error("--exclude {glob:?}: {message}")]
    BadExclude { glob: String, message: String },
}

/// What to import of a tree besides its Go files.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Keep `testdata/` directories (`_`- and `.`-prefixed ones stay out).
    pub include_testdata: bool,
    /// Globs of paths relative to the imported directory to leave out.
    pub exclude: Vec<String>,
}

/// An imported tree.
#[derive(Debug, Default)]
pub struct Imported {
    pub inventory: Inventory,
    /// Files left out because they could not be read or tokenized.
    pub skipped: Vec<SkippedFile>,
    /// Directories left out as `go build` leaves them out.
    pub dirs_skipped: usize,
    /// Files and directories `--exclude` left out.
    pub excluded: usize,
    /// What the link rule read: the files' facts and the test bodies.
    pub scan: ScanData,
}

/// The scan's working data, kept past the link rule so the caller decides
/// when it is freed: a command that exits next can skip freeing it with
/// [`ScanData::leave_for_exit`].
#[derive(Default)]
pub struct ScanData {
    facts: Vec<FileFacts>,
    bodies: Vec<Body>,
}

impl std::fmt::Debug for ScanData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScanData {{ {} files, {} test bodies }}", self.facts.len(), self.bodies.len())
    }
}

impl ScanData {
    /// Leave the data unfreed, for a process that ends next: its hundreds
    /// of thousands of small allocations were made on the scan threads, and
    /// freeing them from another thread took a twentieth of the CPU of
    /// importing nats-server (benchmark P3), for memory the exit returns anyway.
    pub fn leave_for_exit(self) {
        std::mem::forget(self);
    }
}

/// A file the import left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    /// As the inventory would record it (`server/raft.go`).
    pub path: String,
    /// Where tokenizing stopped; none when the file could not be read.
    pub line: Option<u32>,
    pub reason: String,
}

/// What one file contributes, before IDs are assigned.
struct FileScan {
    lines: u32,
    facts: FileFacts,
    features: Vec<Feature>,
    tests: Vec<(Test, Body)>,
}

/// Import every `*.go` file under `dir` (see README for the exact rules).
pub fn import_dir(dir: &Path, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    import_with(dir, opts, workers)
}

/// [`import_dir`] scanning on `workers` threads; the result does not
/// depend on how many.
fn import_with(dir: &Path, opts: &ImportOptions, workers: usize) -> Result<Imported, ImportError> {
    let exclude = Exclude::new(&opts.exclude)?;
    let walk = go_files(dir, opts, &exclude)?;
    let scans = scan_all(&walk.files, workers);

    let mut out = Imported { dirs_skipped: walk.dirs_skipped, excluded: walk.excluded, ..Imported::default() };
    let inv = &mut out.inventory;
    let (mut facts, mut bodies, mut abs_dirs) = (Vec::new(), Vec::new(), Vec::new());
    for (f, scan) in walk.files.iter().zip(scans) {
        let scan = match scan {
            Ok(scan) => scan,
            Err(skipped) => {
                out.skipped.push(skipped);
                continue;
            }
        };
        let module = Module::of_path(&f.rel);
        if inv.modules.last() != Some(&module) {
            inv.modules.push(module);
            abs_dirs.push(f.abs_dir.clone());
        }
        let file = inv.files.len() as u32;
        let is_test = f.rel.ends_with("_test.go");
        inv.files.push(SourceFile { module: inv.modules.len() as u32 - 1, path: f.rel.clone(), is_test, lines: scan.lines });
        facts.push(scan.facts);
        for mut feat in scan.features {
            feat.file = file;
            inv.features.push(feat);
        }
        for (mut t, b) in scan.tests {
            t.file = file;
            inv.tests.push(t);
            bodies.push(b);
        }
    }
    let rel_dirs = inv.modules.iter().map(|m| m.dir.clone()).collect();
    let mut resolver = Resolver::new(abs_dirs, rel_dirs, walk.go_mods);
    inv.links = links(inv, &facts, &bodies, &mut resolver);
    out.scan = ScanData { facts, bodies };
    Ok(out)
}

/// One Go file to scan.
struct GoFile {
    /// Path relative to the imported directory's parent (`server/raft.go`).
    rel: String,
    abs: PathBuf,
    /// Its directory's absolute path, `/`-separated.
    abs_dir: String,
}

/// The files to scan in numbering order (by module name, module path, file
/// name), what was left out, and the `go.mod` files in and above the tree.
struct Walk {
    files: Vec<GoFile>,
    go_mods: Vec<GoMod>,
    dirs_skipped: usize,
    excluded: usize,
}

fn go_files(dir: &Path, opts: &ImportOptions, exclude: &Exclude) -> Result<Walk, ImportError> {
    let meta = std::fs::metadata(dir).map_err(|source| ImportError::Dir { path: dir.to_path_buf(), source })?;
    if !meta.is_dir() {
        return Err(ImportError::NotADir { path: dir.to_path_buf() });
    }
    let root = dir.canonicalize().map_err(|source| ImportError::Dir { path: dir.to_path_buf(), source })?;
    let base = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut walk = Walk { files: Vec::new(), go_mods: enclosing_go_mod(&root).into_iter().collect(), dirs_skipped: 0, excluded: 0 };
    let mut found = Vec::new();
    let mut entries = walkdir::WalkDir::new(&root).follow_links(false).into_iter();
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(|e| ImportError::Dir {
            path: e.path().map_or_else(|| root.clone(), Path::to_path_buf),
            source: e.into_io_error().unwrap_or_else(|| std::io::Error::other("filesystem loop")),
        })?;
        if entry.depth() == 0 {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        let in_root: Vec<_> = entry.path().strip_prefix(&root).unwrap_or(entry.path()).components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let in_root = in_root.join("/");
        if entry.file_type().is_dir() {
            if go_build_skips(&name, opts) {
                walk.dirs_skipped += 1;
                entries.skip_current_dir();
            } else if exclude.matches(&in_root, &name) {
                walk.excluded += 1;
                entries.skip_current_dir();
            } else if let Some(m) = GoMod::read(&slash_path(entry.path())) {
                walk.go_mods.push(m);
            }
            continue;
        }
        if !entry.file_type().is_file() || entry.path().extension().is_none_or(|e| e != "go") {
            continue;
        }
        if exclude.matches(&in_root, &name) {
            walk.excluded += 1;
            continue;
        }
        let rel = if base.is_empty() { in_root } else { format!("{base}/{in_root}") };
        let abs_dir = entry.path().parent().map(slash_path).unwrap_or_default();
        found.push((Module::of_path(&rel), GoFile { rel, abs: entry.into_path(), abs_dir }));
    }
    found.sort_by(|a, b| (&a.0.name, &a.0.dir, file_name(&a.1.rel)).cmp(&(&b.0.name, &b.0.dir, file_name(&b.1.rel))));
    walk.files = found.into_iter().map(|(_, f)| f).collect();
    Ok(walk)
}

/// `go build` ignores directories named `testdata` and those whose name
/// starts with `_` or `.`.
fn go_build_skips(name: &str, opts: &ImportOptions) -> bool {
    (name == "testdata" && !opts.include_testdata) || name.starts_with('_') || name.starts_with('.')
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// `--exclude` globs: one with a `/` matches the path relative to the
/// imported directory, one without matches a file or directory name at any
/// depth. `*` stays within one path element; `**` crosses them.
struct Exclude {
    by_path: GlobSet,
    by_name: GlobSet,
}

impl Exclude {
    fn new(globs: &[String]) -> Result<Exclude, ImportError> {
        let mut by_path = GlobSetBuilder::new();
        let mut by_name = GlobSetBuilder::new();
        for g in globs {
            let pattern = g.trim_start_matches("./").trim_end_matches('/');
            if pattern.is_empty() {
                return Err(ImportError::BadExclude { glob: g.clone(), message: "give a glob such as 'internal/**' or '*_gen.go'".into() });
            }
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| ImportError::BadExclude { glob: g.clone(), message: e.kind().to_string() })?;
            if pattern.contains('/') {
                by_path.add(glob);
            } else {
                by_name.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| ImportError::BadExclude { glob: globs.join(" "), message: e.to_string() });
        Ok(Exclude { by_path: build(by_path)?, by_name: build(by_name)? })
    }

    fn matches(&self, in_root: &str, name: &str) -> bool {
        self.by_name.is_match(name) || self.by_path.is_match(in_root)
    }
}

/// Scan files on `workers` threads, each result at its file's position.
fn scan_all(files: &[GoFile], workers: usize) -> Vec<Result<FileScan, SkippedFile>> {
    let workers = workers.clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<Result<FileScan, SkippedFile>>> = (0..files.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    let mut scratch = Scratch::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break done };
                        done.push((i, scan_file(&f.rel, &f.abs, &mut scratch)));
                    }
                })
            })
            .collect();
        for h in handles {
            // A worker that panicked is a bug: let it end the command (exit 101).
            let done = h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (i, r) in done {
                results[i] = Some(r);
            }
        }
    });
    results
        .into_iter()
        .zip(files)
        .map(|(r, f)| r.unwrap_or_else(|| Err(SkippedFile { path: f.rel.clone(), line: None, reason: "not scanned (internal error)".into() })))
        .collect()
}

/// One worker's buffers for a file's bytes and tokens, kept from file to
/// file: allocating them afresh per file cost more than tokenizing.
#[derive(Default)]
struct Scratch {
    src: Vec<u8>,
    toks: Vec<Token>,
}

fn read_into(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    buf.clear();
    if let Ok(meta) = file.metadata() {
        buf.reserve(usize::try_from(meta.len()).unwrap_or(0));
    }
    file.read_to_end(buf)?;
    Ok(())
}

fn scan_file(rel: &str, path: &Path, scratch: &mut Scratch) -> Result<FileScan, SkippedFile> {
    let skipped = |line, reason: String| SkippedFile { path: rel.to_string(), line, reason };
    read_into(path, &mut scratch.src).map_err(|e| skipped(None, format!("cannot read: {e}")))?;
    tokenize_into(&scratch.src, &mut scratch.toks).map_err(|e| skipped(Some(e.line), e.message.to_string()))?;
    let (src, toks) = (&scratch.src[..], &scratch.toks[..]);
    let lines = super::lexer::count_newlines(src) + u32::from(!src.is_empty() && src.last() != Some(&b'\n'));
    let is_test = rel.ends_with("_test.go");
    let facts = FileFacts { package: package_clause(src, toks), imports: imports(src, toks), decls: Vec::new(), globals: globals(src, toks), types: type_decls(src, toks) };
    let mut scan = FileScan { lines, facts, features: Vec::new(), tests: Vec::new() };
    for d in functions(src, toks) {
        let sig = &toks[d.signature.0..d.signature.1];
        scan.facts.decls.push(DeclFacts { receiver: d.receiver.clone(), name: d.name.clone(), params: param_count(src, sig), results: results(src, sig) });
        let loc = d.loc();
        if !is_test {
            scan.features.push(Feature { file: 0, line: d.line, receiver: d.receiver, name: d.name, loc, body_hash: d.body_hash });
        } else if d.receiver.is_empty() && is_test_name(&d.name) {
            let mut summary = d.body.map(|b| body(src, toks, b)).unwrap_or_default();
            let params = signature_params(src, sig).into_iter().map(|(name, ty)| Binding { names: vec![name], value: Value::Typed(ty), assign: false });
            summary.bindings.splice(0..0, params);
            scan.tests.push((Test { file: 0, line: d.line, name: d.name, loc, body_hash: d.body_hash }, summary));
        }
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files are handed to threads in whatever order they ask; the
    /// inventory, links and skipped files must be those of a serial scan.
    #[test]
    fn parallel_scan_is_the_serial_one() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go");
        let opts = ImportOptions { include_testdata: true, exclude: Vec::new() };
        let serial = import_with(&dir, &opts, 1).expect("fixtures import");
        assert!(serial.inventory.files.len() > 10 && !serial.inventory.links.is_empty(), "the fixtures give files and links");
        for workers in [2, 3, 8] {
            let parallel = import_with(&dir, &opts, workers).expect("fixtures import");
            assert_eq!(parallel.inventory, serial.inventory, "{workers} workers");
            assert_eq!(parallel.skipped, serial.skipped, "{workers} workers");
        }
    }
}
