//! Where a port's code lives, in Rust or C#: the languages a target may be
//! written in, and the symbol index of a target tree (every function and
//! method with its file, line span and `Port of …` provenance note) that
//! the stub guard and `map suggest` read.

mod csharp;
mod lex;
mod rust;
mod tokens;

use std::path::Path;

use serde::Serialize;

/// A language a port's targets may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Rust,
    CSharp,
}

impl Lang {
    pub fn of_path(path: &str) -> Option<Lang> {
        match Path::new(path).extension()?.to_str()? {
            "rs" => Some(Lang::Rust),
            "cs" => Some(Lang::CSharp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::CSharp => "csharp",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rust" | "rs" => Ok(Lang::Rust),
            "csharp" | "cs" | "c#" => Ok(Lang::CSharp),
            other => Err(format!("unknown language '{other}': expected rust or csharp")),
        }
    }
}

/// One function or method of a target tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symbol {
    /// Relative to the project root, with `/` separators.
    pub file: String,
    /// How a mapping names it: `raft::Raft::process_append_entry`,
    /// `<raft::RaftState as std::fmt::Display>::fmt`,
    /// `NatsNet.Server.Raft.ProcessAppendEntry`.
    pub symbol: String,
    /// The type (or trait) it belongs to, without path; empty for a free function.
    pub owner: String,
    /// The trait of a Rust trait impl (`Display`).
    pub trait_name: Option<String>,
    pub name: String,
    pub line: usize,
    pub end_line: usize,
    /// Go originals its doc comment names (`Port of (*raft).x` → `raft.x`).
    pub ports: Vec<String>,
}

/// Every function and method of one file's text, by its language; test
/// functions are left out.
pub fn symbols_of(file: &str, text: &[u8]) -> Vec<Symbol> {
    match Lang::of_path(file) {
        Some(Lang::Rust) => rust::symbols(file, text),
        Some(Lang::CSharp) => csharp::symbols(file, text),
        None => Vec::new(),
    }
}

/// Every symbol of the `lang` files under `dir` (relative to `root`),
/// skipping build output and hidden directories. Paths come out relative
/// to `root`. Rust re-exports (`pub use`) across the tree give each type its
/// shortest public path.
pub fn scan_tree(root: &Path, dir: &Path, lang: Lang) -> Vec<Symbol> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let walk = walkdir::WalkDir::new(root.join(dir)).follow_links(false).sort_by_file_name().into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.depth() == 0 || !(name.starts_with('.') || name == "target" || name == "bin" || name == "obj" || name == "node_modules")
    });
    for entry in walk.filter_map(Result::ok) {
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else { continue };
        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
        if Lang::of_path(&rel) != Some(lang) || is_test_file(&rel) {
            continue;
        }
        if let Ok(text) = std::fs::read(entry.path()) {
            files.push((rel, text));
        }
    }
    match lang {
        Lang::Rust => rust::symbols_of_tree(&files),
        Lang::CSharp => files.iter().flat_map(|(f, t)| csharp::symbols(f, t)).collect(),
    }
}

/// Files that hold only tests by their name (`meta_snapshot_tests.rs`,
/// `tests.rs`, `RaftTests.cs`): their functions are never targets.
fn is_test_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    stem == "tests" || stem.ends_with("_tests") || stem.ends_with("_test") || stem.ends_with("Tests") || stem.ends_with("Test")
}

/// The line span of the symbol a target names in its file's text: the
/// function whose symbol is `symbol`, else the one function whose name is
/// its last segment.
pub fn target_span(file: &str, text: &[u8], symbol: &str) -> Option<(usize, usize)> {
    let syms = symbols_of(file, text);
    if let Some(s) = syms.iter().find(|s| s.symbol == symbol) {
        return Some((s.line, s.end_line));
    }
    let last = last_segment(symbol);
    let named: Vec<&Symbol> = syms.iter().filter(|s| s.name == last).collect();
    match named.as_slice() {
        [one] => Some((one.line, one.end_line)),
        _ => None,
    }
}

/// The last name of a symbol: `raft::Raft::x` → `x`, `A.B.C` → `C`,
/// `<T as Display>::fmt` → `fmt`.
pub fn last_segment(symbol: &str) -> &str {
    let tail = symbol.rsplit("::").next().unwrap_or(symbol);
    tail.rsplit('.').next().unwrap_or(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_and_segments() {
        assert_eq!(Lang::of_path("src/a.rs"), Some(Lang::Rust));
        assert_eq!(Lang::of_path("src/Raft/Node.cs"), Some(Lang::CSharp));
        assert_eq!(Lang::of_path("a.go"), None);
        assert_eq!("csharp".parse::<Lang>(), Ok(Lang::CSharp));
        assert!("go".parse::<Lang>().unwrap_err().contains("'go'"));
        assert_eq!(last_segment("raft::Raft::propose"), "propose");
        assert_eq!(last_segment("NatsNet.Server.Raft.Propose"), "Propose");
        assert_eq!(last_segment("<raft::RaftState as std::fmt::Display>::fmt"), "fmt");
    }
}
