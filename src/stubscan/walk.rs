//! Finding the files to scan and scanning them in parallel: the `ignore`
//! walker (gitignore, `.ignore` and `.porttrackignore` files, hidden files
//! skipped, symlinks never followed), one read per file into a reused
//! buffer, binary files (a NUL byte) skipped. Then the index of asserting
//! helpers: each file's are pooled per project (the nearest directory with
//! a `Cargo.toml`, `pyproject.toml`, `setup.py`, `package.json` or
//! `go.mod`), and each file's pending tests are resolved against its own
//! project's pool and the asserting macros any crate exports.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::rules::Matchers;
use super::{scan_file, FileScan, Finding, Language};

/// Files that mark a project's root directory.
const PROJECT_MARKERS: &[&str] = &["Cargo.toml", "pyproject.toml", "setup.py", "setup.cfg", "package.json", "go.mod"];

/// Extra ignore files, in gitignore syntax, for what only the scan should
/// skip (fixtures full of deliberate stubs).
pub const IGNORE_FILE: &str = ".porttrackignore";

#[derive(Default)]
pub struct Walked {
    pub files: usize,
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    /// Files that could not be read, with the reason.
    pub errors: Vec<String>,
}

/// The bytes of `path` as `display_path` shows it, when they are not UTF-8
/// (so JSON can carry the real name beside the lossy one).
pub fn non_utf8_bytes(root: &Path, path: &Path) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let rel = path.strip_prefix(root).unwrap_or(path);
    let bytes = rel.as_os_str().as_bytes();
    std::str::from_utf8(bytes).is_err().then(|| bytes.to_vec())
}

/// `path` relative to `root` with `/` separators, or as given when outside.
pub fn display_path(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) => rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
        Err(_) => path.to_string_lossy().into_owned(),
    }
}

/// Read a whole file into `buf`.
pub fn read_into(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    std::fs::File::open(path)?.read_to_end(buf).map(|_| ())
}

/// The project a file belongs to: the nearest ancestor directory holding a
/// project marker, memoised per directory.
struct Projects {
    by_dir: Mutex<HashMap<PathBuf, usize>>,
    roots: Mutex<Vec<PathBuf>>,
}

impl Projects {
    fn of(&self, file: &Path) -> usize {
        let dir = file.parent().unwrap_or(Path::new(""));
        if let Some(&id) = lock(&self.by_dir).get(dir) {
            return id;
        }
        let root = dir.ancestors().find(|d| PROJECT_MARKERS.iter().any(|m| d.join(m).is_file())).unwrap_or(Path::new(""));
        let mut roots = lock(&self.roots);
        let id = roots.iter().position(|r| r == root).unwrap_or_else(|| {
            roots.push(root.to_path_buf());
            roots.len() - 1
        });
        lock(&self.by_dir).insert(dir.to_path_buf(), id);
        id
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking scan thread must not hide the others' findings.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn walk(root: &Path, paths: &[PathBuf], m: &Matchers) -> Walked {
    let Some((first, rest)) = paths.split_first() else { return Walked::default() };
    let mut builder = WalkBuilder::new(first);
    for p in rest {
        builder.add(p);
    }
    builder.add_custom_ignore_filename(IGNORE_FILE).follow_links(false);
    let files = AtomicUsize::new(0);
    let out = Mutex::new(Walked::default());
    let scans: Mutex<Vec<(usize, FileScan)>> = Mutex::new(Vec::new());
    let projects = Projects { by_dir: Mutex::new(HashMap::new()), roots: Mutex::new(Vec::new()) };
    builder.build_parallel().run(|| {
        let (files, out, scans, projects) = (&files, &out, &scans, &projects);
        let mut buf = Vec::new();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    push(out, |w| w.errors.push(e.to_string()));
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let Some(lang) = Language::of_path(entry.path()) else { return WalkState::Continue };
            if let Err(e) = read_into(entry.path(), &mut buf) {
                push(out, |w| w.errors.push(format!("{}: {e}", entry.path().display())));
                return WalkState::Continue;
            }
            if memchr::memchr(0, &buf).is_some() {
                return WalkState::Continue;
            }
            files.fetch_add(1, Ordering::Relaxed);
            let rel = display_path(root, entry.path());
            let mut scanned = scan_file(&rel, lang, &buf, m);
            if let Some(bytes) = non_utf8_bytes(root, entry.path()) {
                scanned.set_path_bytes(&bytes);
            }
            if !scanned.is_empty() {
                let project = projects.of(entry.path());
                lock(scans).push((project, scanned));
            }
            WalkState::Continue
        })
    });
    let scans = scans.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut helpers: HashMap<usize, HashSet<String>> = HashMap::new();
    // `#[macro_export]` macros are invoked from other crates by name.
    let mut everywhere: HashSet<String> = HashSet::new();
    for (project, s) in &scans {
        helpers.entry(*project).or_default().extend(s.asserting.iter().cloned());
        everywhere.extend(s.exported.iter().cloned());
    }
    let mut walked = out.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    for (project, s) in scans {
        let pool = helpers.get(&project);
        let (found, suppressed) = s.finish(|name| pool.is_some_and(|p| p.contains(name)) || everywhere.contains(name));
        walked.findings.extend(found);
        walked.suppressed += suppressed;
    }
    walked.files = files.into_inner();
    walked
}

fn push(out: &Mutex<Walked>, f: impl FnOnce(&mut Walked)) {
    f(&mut lock(out));
}
