//! Reading the project files the database names (Rust targets, test
//! files): only regular files inside the project root, after symlinks, and
//! never more than [`MAX_BYTES`]. A FIFO, a device, a path that leaves the
//! root or a huge file is a typed problem, never a hang or an unbounded read.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Largest file porttrack reads for hashing or scanning.
pub const MAX_BYTES: u64 = 64 << 20;

/// Why a named file cannot be read.
#[derive(Debug)]
pub enum FileProblem {
    /// The stored name itself is not a valid relative path.
    Invalid(String),
    Missing,
    /// It resolves (through symlinks) to a place outside the root.
    OutsideRoot(PathBuf),
    /// A directory, FIFO, socket or device.
    NotRegular(&'static str),
    TooLarge(u64),
    Io(std::io::Error),
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::Invalid(why) => write!(f, "not a valid project path: it {why}"),
            FileProblem::Missing => f.write_str("does not exist"),
            FileProblem::OutsideRoot(p) => write!(f, "resolves to {}, outside the project root", p.display()),
            FileProblem::NotRegular(what) => write!(f, "is a {what}, not a regular file"),
            FileProblem::TooLarge(n) => write!(f, "is {n} bytes, more than the {MAX_BYTES} porttrack reads"),
            FileProblem::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

/// What kind of file system object `meta` describes, for messages.
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() || t.is_char_device() {
        "device"
    } else if t.is_symlink() {
        "symlink"
    } else {
        "regular file"
    }
}

/// The canonical path of `rel` under `root`, when it is a regular file
/// inside the root.
pub fn resolve(root: &Path, rel: &str) -> Result<PathBuf, FileProblem> {
    crate::domain::names::target_path(rel).map_err(FileProblem::Invalid)?;
    let root = root.canonicalize().map_err(FileProblem::Io)?;
    let full = match root.join(rel).canonicalize() {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileProblem::Missing),
        Err(e) => return Err(FileProblem::Io(e)),
    };
    if !full.starts_with(&root) {
        return Err(FileProblem::OutsideRoot(full));
    }
    let meta = std::fs::metadata(&full).map_err(FileProblem::Io)?;
    if !meta.is_file() {
        return Err(FileProblem::NotRegular(kind_of(&meta)));
    }
    Ok(full)
}

/// Read `rel` under `root` into `buf` (cleared first).
pub fn read_into(root: &Path, rel: &str, buf: &mut Vec<u8>) -> Result<(), FileProblem> {
    let full = resolve(root, rel)?;
    // The canonical path holds no symlink: O_NOFOLLOW refuses one swapped
    // in since, and O_NONBLOCK keeps a FIFO swapped in from blocking open.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&full)
        .map_err(FileProblem::Io)?;
    let meta = file.metadata().map_err(FileProblem::Io)?;
    if !meta.is_file() {
        return Err(FileProblem::NotRegular(kind_of(&meta)));
    }
    if meta.len() > MAX_BYTES {
        return Err(FileProblem::TooLarge(meta.len()));
    }
    buf.clear();
    file.take(MAX_BYTES + 1).read_to_end(buf).map_err(FileProblem::Io)?;
    if buf.len() as u64 > MAX_BYTES {
        return Err(FileProblem::TooLarge(buf.len() as u64));
    }
    Ok(())
}

/// Read a file named on the command line (a mapping file): a regular
/// file, at most [`MAX_BYTES`], never blocking on a FIFO.
pub fn read_named(path: &Path) -> Result<String, FileProblem> {
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileProblem::Missing),
        Err(e) => return Err(FileProblem::Io(e)),
    };
    let meta = file.metadata().map_err(FileProblem::Io)?;
    if !meta.is_file() {
        return Err(FileProblem::NotRegular(kind_of(&meta)));
    }
    let mut buf = Vec::new();
    file.take(MAX_BYTES + 1).read_to_end(&mut buf).map_err(FileProblem::Io)?;
    if buf.len() as u64 > MAX_BYTES {
        return Err(FileProblem::TooLarge(buf.len() as u64));
    }
    String::from_utf8(buf).map_err(|_| FileProblem::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text")))
}

/// SHA-256 (hex) of `rel` under `root`, or None when it cannot be read.
pub fn sha256(root: &Path, rel: &str) -> Option<String> {
    let mut buf = Vec::new();
    read_into(root, rel, &mut buf).ok()?;
    Some(crate::gate::run::hex(&Sha256::digest(&buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/a.rs"), "fn a() {}\n").unwrap();
        std::fs::write(dir.path().join("secret.rs"), "secret\n").unwrap();
        std::os::unix::fs::symlink("../../secret.rs", root.join("src/link.rs")).unwrap();
        std::os::unix::fs::symlink("a.rs", root.join("src/inside.rs")).unwrap();
        let fifo = root.join("src/fifo.rs");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo only creates a file at the given NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);

        let mut buf = Vec::new();
        read_into(&root, "src/a.rs", &mut buf).unwrap();
        assert_eq!(buf, b"fn a() {}\n");
        assert!(sha256(&root, "src/inside.rs").is_some(), "a symlink that stays inside is fine");
        assert!(matches!(read_into(&root, "src/link.rs", &mut buf), Err(FileProblem::OutsideRoot(_))));
        assert!(matches!(read_into(&root, "../secret.rs", &mut buf), Err(FileProblem::Invalid(_))));
        assert!(matches!(read_into(&root, "src/fifo.rs", &mut buf), Err(FileProblem::NotRegular("FIFO"))));
        assert!(matches!(read_into(&root, "src", &mut buf), Err(FileProblem::NotRegular("directory"))));
        assert!(matches!(read_into(&root, "src/none.rs", &mut buf), Err(FileProblem::Missing)));
        assert_eq!(sha256(&root, "src/fifo.rs"), None);
    }

    #[test]
    fn reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let f = std::fs::File::create(dir.path().join("big.rs")).unwrap();
        f.set_len(MAX_BYTES + 1).unwrap();
        let mut buf = Vec::new();
        assert!(matches!(read_into(dir.path(), "big.rs", &mut buf), Err(FileProblem::TooLarge(_))));
        assert!(buf.is_empty());
    }
}
