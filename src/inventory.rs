//! An inventory of a codebase: its modules (directories), source files,
//! features (functions and methods), tests, and which features each test
//! calls. Produced by the Go importer, stored in the built-in data, and
//! written into `porting.db`.

/// A module: one directory holding source files, named by the directory's
/// last component (`server/avl` → `avl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub name: String,
    /// Relative to the imported directory's parent (`server/avl`).
    pub dir: String,
}

impl Module {
    /// The module a file path belongs to: its directory, named by the
    /// directory's last component.
    pub fn of_path(path: &str) -> Module {
        let dir = path.rsplit_once('/').map_or(".", |(d, _)| d);
        let name = dir.rsplit('/').next().unwrap_or(dir);
        Module { name: name.to_string(), dir: dir.to_string() }
    }
}

/// One source file, by its path relative to the imported directory's parent
/// (`server/raft.go`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Index into [`Inventory::modules`].
    pub module: u32,
    pub path: String,
    pub is_test: bool,
    pub lines: u32,
}

impl SourceFile {
    /// The file name without its directory (`raft.go`).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A function or method declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// Index into [`Inventory::files`].
    pub file: u32,
    pub line: u32,
    /// Receiver type without `*` or type parameters; empty for functions.
    pub receiver: String,
    pub name: String,
    pub loc: u32,
    pub body_hash: String,
}

impl Feature {
    /// `Receiver.name`, or the bare name for a plain function.
    pub fn qualified_name(&self) -> String {
        qualified_name(&self.receiver, &self.name)
    }
}

pub fn qualified_name(receiver: &str, name: &str) -> String {
    if receiver.is_empty() {
        name.to_string()
    } else {
        format!("{receiver}.{name}")
    }
}

/// A test function (`TestXxx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    pub file: u32,
    pub line: u32,
    pub name: String,
    pub loc: u32,
    pub body_hash: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// In numbering order: by name, then by directory.
    pub modules: Vec<Module>,
    /// In numbering order: by module, then by file name.
    pub files: Vec<SourceFile>,
    pub features: Vec<Feature>,
    pub tests: Vec<Test>,
    /// `(feature index, test index)`: the test's body calls a function with
    /// the feature's bare name. Sorted and without duplicates.
    pub links: Vec<(u32, u32)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_directories_named_by_their_last_component() {
        assert_eq!(Module::of_path("server/avl/seqset.go"), Module { name: "avl".into(), dir: "server/avl".into() });
        assert_eq!(Module::of_path("server/raft.go"), Module { name: "server".into(), dir: "server".into() });
        assert_eq!(Module::of_path("x.go"), Module { name: ".".into(), dir: ".".into() });
    }
}
