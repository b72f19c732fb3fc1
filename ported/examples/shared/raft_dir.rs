//! What the recovery examples share: reading a node directory as a server
//! left it, and showing paths without raw control characters.

use std::fs;
use std::path::Path;

/// Paths and messages may carry bytes from the directory; never print raw
/// control characters.
pub fn clean(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

pub fn shown(p: &Path) -> String {
    clean(&p.display().to_string())
}

pub fn io_err(p: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", shown(p))
}

/// Files directly in `dir` and one level below, in its `msgs/` and
/// `snapshots/`, named relative to `dir`.
pub fn read_node_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut entries = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let e = e.map_err(|e| io_err(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let ft = e.file_type().map_err(|x| io_err(&e.path(), x))?;
        if ft.is_file() {
            entries.push((name, fs::read(e.path()).map_err(|x| io_err(&e.path(), x))?));
        } else if ft.is_dir() && (name == "msgs" || name == "snapshots") {
            for f in fs::read_dir(e.path()).map_err(|x| io_err(&e.path(), x))? {
                let f = f.map_err(|x| io_err(&e.path(), x))?;
                if f.file_type().is_ok_and(|t| t.is_file()) {
                    let sub = f.file_name().to_string_lossy().into_owned();
                    entries.push((format!("{name}/{sub}"), fs::read(f.path()).map_err(|x| io_err(&f.path(), x))?));
                }
            }
        }
    }
    Ok(entries)
}
