//! An inventory of a codebase: its source files, features (functions and
//! methods), tests, and which features each test calls. Produced by the Go
//! importer, stored in the built-in data, and written into `porting.db`.

/// One source file, by its path relative to the imported directory's parent
/// (`server/raft.go`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub is_test: bool,
    pub lines: u32,
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
    pub files: Vec<SourceFile>,
    pub features: Vec<Feature>,
    pub tests: Vec<Test>,
    /// `(feature index, test index)`: the test's body calls a function with
    /// the feature's bare name. Sorted and without duplicates.
    pub links: Vec<(u32, u32)>,
}
