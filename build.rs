//! Compiles the port's mapping files (`ported/mappings/*.tsv`) into the
//! binary, so the built-in database knows which Rust code ports what.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&manifest).join("ported/mappings");
    println!("cargo:rerun-if-changed=ported/mappings");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "tsv")).collect())
        .unwrap_or_default();
    files.sort();
    let mut code = String::from("/// Mapping files compiled in: (file name, contents).\npub const MAPPINGS: &[(&str, &str)] = &[\n");
    for f in &files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let _ = writeln!(code, "    ({name:?}, include_str!({:?})),", f.display().to_string());
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("builtin_mappings.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
