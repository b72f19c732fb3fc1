//! Checks a mapping must pass before it is stored: every name is data
//! (`domain::names`), and every Rust file it names is a regular file inside
//! the project root, after symlinks.

use std::path::Path;

use crate::domain::mapping::MappingRow;
use crate::domain::names::escape;
use crate::error::Error;

/// `file` must resolve to a regular file inside `root`.
pub fn check_file(root: &Path, file: &str) -> Result<(), Error> {
    crate::project_files::resolve(root, file)
        .map(|_| ())
        .map_err(|problem| Error::usage(format!("target file '{}' {problem} (project root {})", escape(file), root.display())))
}

/// Every row's Rust file must resolve inside `root`; the error names the
/// file and line of the first that does not.
pub fn check_row_files(root: &Path, rows: &[(String, MappingRow)]) -> Result<(), Error> {
    for (source, row) in rows {
        if let Some(file) = &row.rust_file {
            check_file(root, file).map_err(|e| Error::usage(format!("{source}:{}: {e}", row.line)))?;
        }
    }
    Ok(())
}
