//! Which directory of the imported tree an import path names. Inside a Go
//! module (a `go.mod` in the tree or above it) by module path, as the go
//! command resolves it: the longest module path that prefixes the import
//! path (the standard library's `std` module takes bare paths such as
//! `net/http`), then the importing module's `vendor/` directory. In a tree
//! without `go.mod` (a GOPATH layout, an archive of one directory) by path
//! suffix: the directory whose absolute path ends with the import path, else
//! the one whose path in the tree (`server/avl`) ends it. Anything else, and
//! any tie, resolves to nothing: a package outside the tree.

use std::collections::HashMap;
use std::path::Path;

/// A `go.mod` file: the directory holding it and its module path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoMod {
    /// Absolute, `/`-separated, without a trailing `/` (empty for `/`).
    pub dir: String,
    pub path: String,
}

impl GoMod {
    /// Read `dir/go.mod`; `None` when it is missing or names no module.
    pub fn read(dir: &str) -> Option<GoMod> {
        let text = std::fs::read_to_string(Path::new(&format!("{dir}/go.mod"))).ok()?;
        let path = module_directive(&text)?;
        Some(GoMod { dir: dir.to_string(), path })
    }
}

/// The module path a `go.mod` declares.
fn module_directive(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.split("//").next().unwrap_or("").trim();
        let rest = line.strip_prefix("module")?;
        if !rest.starts_with([' ', '\t']) {
            return None;
        }
        let path = rest.trim().trim_matches('"');
        (!path.is_empty()).then(|| path.to_string())
    })
}

/// The nearest `go.mod` in `dir` or above it.
pub fn enclosing_go_mod(dir: &Path) -> Option<GoMod> {
    dir.ancestors().find_map(|d| GoMod::read(&slash_path(d)))
}

/// A path as a `/`-separated string without a trailing `/`.
pub fn slash_path(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.trim_end_matches('/').to_string()
}

/// Resolves import paths to the tree's directories (module indexes of the
/// inventory), remembering every answer.
pub struct Resolver {
    by_abs: HashMap<String, u32>,
    abs: Vec<String>,
    rel: Vec<String>,
    /// Longest module path first.
    mods: Vec<GoMod>,
    /// For each directory, the module (index into `mods`) holding it.
    enclosing: Vec<Option<usize>>,
    by_last: HashMap<String, Vec<u32>>,
    memo: HashMap<(Option<usize>, String), Option<u32>>,
}

impl Resolver {
    /// `abs` and `rel` give each directory's absolute path and its path in
    /// the tree (`server/avl`); `mods` every `go.mod` in or above the tree.
    pub fn new(abs: Vec<String>, rel: Vec<String>, mut mods: Vec<GoMod>) -> Resolver {
        // `std`'s prefix is empty: it is tried last.
        let prefix_len = |m: &GoMod| if m.path == "std" { 0 } else { m.path.len() };
        mods.sort_by(|a, b| prefix_len(b).cmp(&prefix_len(a)).then_with(|| a.dir.cmp(&b.dir)));
        mods.dedup();
        let by_abs = abs.iter().enumerate().map(|(i, a)| (a.clone(), i as u32)).collect();
        let enclosing = abs
            .iter()
            .map(|a| {
                (0..mods.len())
                    .filter(|&m| is_within(a, &mods[m].dir))
                    .max_by_key(|&m| mods[m].dir.len())
            })
            .collect();
        let mut by_last: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, r) in rel.iter().enumerate() {
            by_last.entry(last_component(r).to_string()).or_default().push(i as u32);
        }
        Resolver { by_abs, abs, rel, mods, enclosing, by_last, memo: HashMap::new() }
    }

    /// The directory `path` names when imported from directory `from`.
    pub fn resolve(&mut self, from: u32, path: &str) -> Option<u32> {
        let module = self.enclosing.get(from as usize).copied().flatten();
        let key = (module, path.to_string());
        if let Some(&hit) = self.memo.get(&key) {
            return hit;
        }
        let found = match module {
            Some(m) => self.by_module(m, path),
            None => self.by_suffix(path),
        };
        self.memo.insert(key, found);
        found
    }

    fn by_module(&self, importer: usize, path: &str) -> Option<u32> {
        for m in &self.mods {
            let rest = if m.path == "std" {
                Some(path)
            } else if path == m.path {
                Some("")
            } else {
                path.strip_prefix(m.path.as_str()).and_then(|r| r.strip_prefix('/'))
            };
            if let Some(rest) = rest {
                let dir = if rest.is_empty() { m.dir.clone() } else { format!("{}/{rest}", m.dir) };
                if let Some(&d) = self.by_abs.get(&dir) {
                    return Some(d);
                }
            }
        }
        self.by_abs.get(&format!("{}/vendor/{path}", self.mods[importer].dir)).copied()
    }

    fn by_suffix(&self, path: &str) -> Option<u32> {
        let candidates = self.by_last.get(last_component(path))?;
        let unique = |hits: Vec<u32>| (hits.len() == 1).then(|| hits[0]);
        let whole: Vec<u32> = candidates.iter().copied().filter(|&d| ends_with_components(&self.abs[d as usize], path)).collect();
        if !whole.is_empty() {
            return unique(whole);
        }
        let longest = candidates
            .iter()
            .filter(|&&d| ends_with_components(path, &self.rel[d as usize]))
            .map(|&d| self.rel[d as usize].len())
            .max()?;
        unique(candidates.iter().copied().filter(|&d| self.rel[d as usize].len() == longest && ends_with_components(path, &self.rel[d as usize])).collect())
    }
}

fn is_within(dir: &str, root: &str) -> bool {
    dir == root || dir.strip_prefix(root).is_some_and(|r| r.starts_with('/'))
}

fn last_component(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Whether `whole` is `tail` or ends with `/tail`.
fn ends_with_components(whole: &str, tail: &str) -> bool {
    whole == tail || whole.strip_suffix(tail).is_some_and(|head| head.ends_with('/'))
}

/// The name a package is imported by when its directory is not in the tree:
/// the path's last element without a major-version element (`/v2`), a
/// `gopkg.in`-style `.v2` or `.go` ending, or a `go-` prefix.
pub fn guessed_package_name(path: &str) -> &str {
    let mut parts = path.rsplit('/');
    let mut last = parts.next().unwrap_or(path);
    if last.len() > 1 && last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit()) {
        last = parts.next().unwrap_or(last);
    }
    let last = last.split('.').next().unwrap_or(last);
    last.strip_prefix("go-").unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(dirs: &[(&str, &str)], mods: &[(&str, &str)]) -> Resolver {
        Resolver::new(
            dirs.iter().map(|d| d.0.to_string()).collect(),
            dirs.iter().map(|d| d.1.to_string()).collect(),
            mods.iter().map(|m| GoMod { dir: m.0.to_string(), path: m.1.to_string() }).collect(),
        )
    }

    #[test]
    fn module_paths_prefix_and_nested_modules_win_by_length() {
        let mut r = resolver(
            &[("/g/tools/go/ssa", "tools/go/ssa"), ("/g/tools/gopls/lsp", "tools/gopls/lsp"), ("/g/tools", "tools")],
            &[("/g/tools", "golang.org/x/tools"), ("/g/tools/gopls", "golang.org/x/tools/gopls")],
        );
        assert_eq!(r.resolve(0, "golang.org/x/tools/go/ssa"), Some(0));
        assert_eq!(r.resolve(1, "golang.org/x/tools/gopls/lsp"), Some(1));
        assert_eq!(r.resolve(0, "golang.org/x/tools"), Some(2));
        assert_eq!(r.resolve(0, "golang.org/x/toolsx/go/ssa"), None, "a prefix ends at a path element");
        assert_eq!(r.resolve(0, "github.com/other/tools/go/ssa"), None, "inside a module, suffixes do not count");
    }

    #[test]
    fn std_takes_bare_paths_and_each_module_its_vendor() {
        let mut r = resolver(
            &[
                ("/go/src/net/http", "src/net/http"),
                ("/go/src/vendor/golang.org/x/net/dns", "src/vendor/golang.org/x/net/dns"),
                ("/go/src/cmd/go", "src/cmd/go"),
                ("/go/src/cmd/internal/obj", "src/cmd/internal/obj"),
                ("/go/src/cmd/vendor/golang.org/x/mod/semver", "src/cmd/vendor/golang.org/x/mod/semver"),
                ("/go/src/internal/obj", "src/internal/obj"),
            ],
            &[("/go/src", "std"), ("/go/src/cmd", "cmd")],
        );
        assert_eq!(r.resolve(0, "golang.org/x/net/dns"), Some(1));
        assert_eq!(r.resolve(2, "net/http"), Some(0));
        assert_eq!(r.resolve(2, "cmd/internal/obj"), Some(3));
        assert_eq!(r.resolve(2, "internal/obj"), Some(5), "std's internal/obj, not cmd's");
        assert_eq!(r.resolve(2, "golang.org/x/mod/semver"), Some(4));
        assert_eq!(r.resolve(0, "golang.org/x/mod/semver"), None, "std does not see cmd's vendor");
        assert_eq!(r.resolve(0, "fmt"), None);
    }

    #[test]
    fn without_go_mod_the_longest_suffix_decides_and_ties_resolve_to_nothing() {
        let mut r = resolver(&[("/tmp/x/server", "server"), ("/tmp/x/server/avl", "server/avl"), ("/tmp/x/server/a/util", "server/a/util"), ("/tmp/x/server/b/util", "server/b/util")], &[]);
        assert_eq!(r.resolve(0, "github.com/nats-io/nats-server/v2/server/avl"), Some(1));
        assert_eq!(r.resolve(1, "github.com/nats-io/nats-server/v2/server"), Some(0));
        assert_eq!(r.resolve(0, "github.com/klauspost/compress/avl"), None);
        assert_eq!(r.resolve(0, "example.com/util"), None, "two directories named util");
        assert_eq!(r.resolve(0, "example.com/server/a/util"), Some(2));
        let mut gopath = resolver(&[("/gp/src/example.com/p", "src/example.com/p"), ("/gp/src/other.org/p", "src/other.org/p")], &[]);
        assert_eq!(gopath.resolve(0, "other.org/p"), Some(1), "the whole import path ends the directory's path");
    }

    #[test]
    fn go_mod_module_directive() {
        assert_eq!(module_directive("// c\nmodule github.com/nats-io/nats-server/v2 // x\n\ngo 1.22\n").as_deref(), Some("github.com/nats-io/nats-server/v2"));
        assert_eq!(module_directive("module \"std\"\n").as_deref(), Some("std"));
        assert_eq!(module_directive("modulex a\ngo 1.1\n"), None);
    }

    #[test]
    fn guessed_names() {
        for (path, name) in [("github.com/nats-io/nats.go", "nats"), ("gopkg.in/yaml.v2", "yaml"), ("github.com/nats-io/jwt/v2", "jwt"), ("github.com/hashicorp/go-hclog", "hclog"), ("fmt", "fmt"), ("v2", "v2")] {
            assert_eq!(guessed_package_name(path), name, "{path}");
        }
    }
}
