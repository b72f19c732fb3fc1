//! Finding the files to scan and scanning them in parallel: the `ignore`
//! walker (gitignore, `.ignore` and `.porttrackignore` files, hidden files
//! skipped, symlinks never followed), one read per file into a reused
//! buffer, binary files (a NUL byte) skipped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::rules::Matchers;
use super::{scan_text, Finding, Language};

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

pub fn walk(root: &Path, paths: &[PathBuf], m: &Matchers) -> Walked {
    let Some((first, rest)) = paths.split_first() else { return Walked::default() };
    let mut builder = WalkBuilder::new(first);
    for p in rest {
        builder.add(p);
    }
    builder.add_custom_ignore_filename(IGNORE_FILE).follow_links(false);
    let files = AtomicUsize::new(0);
    let out = Mutex::new(Walked::default());
    builder.build_parallel().run(|| {
        let (files, out) = (&files, &out);
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
            let (mut found, suppressed) = scan_text(&rel, lang, &buf, m);
            if let Some(bytes) = non_utf8_bytes(root, entry.path()) {
                for f in &mut found {
                    f.path_bytes = Some(bytes.clone());
                }
            }
            if !found.is_empty() || suppressed > 0 {
                push(out, |w| {
                    w.findings.extend(found);
                    w.suppressed += suppressed;
                });
            }
            WalkState::Continue
        })
    });
    let mut walked = out.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    walked.files = files.into_inner();
    walked
}

fn push(out: &Mutex<Walked>, f: impl FnOnce(&mut Walked)) {
    // A panicking scan thread must not hide the others' findings.
    let mut w = out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut w);
}
