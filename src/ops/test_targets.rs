//! Which of a Cargo package's test targets hold a set of libtest test
//! paths (`raft::tests::votes_are_counted` in the library's unit tests,
//! `batch33::test_nrg_simple` in `tests/nrg.rs`), so `gate mutants` builds
//! and links only those for each mutant (`cargo test --lib --test nrg`)
//! instead of every test binary, example and doc-test of the package.
//!
//! The module tree is followed through `mod` declarations (with their
//! `#[path]` attributes), the way rustc finds module files; a declaration
//! it cannot follow keeps the target. Choosing too few targets can only
//! lose a catch (a test that did not run cannot fail), never make one, so
//! a wrong guess is a missed mutant, not false evidence; and when any test
//! cannot be placed, no selection is made at all (every target builds).

use std::path::{Path, PathBuf};

/// A test target of a package: the library's unit tests or one
/// integration-test binary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TestTarget {
    Lib,
    Test(String),
}

impl TestTarget {
    /// Its `cargo test` argument.
    pub fn cargo_arg(&self) -> String {
        match self {
            TestTarget::Lib => "--lib".into(),
            TestTarget::Test(name) => format!("--test={name}"),
        }
    }
}

/// The targets of the package at `dir` holding `tests` (libtest paths,
/// possibly led by a binary id: `ported::jss name`), in order; None when
/// some test cannot be placed or the package declares its targets itself.
pub fn targets_for(dir: &Path, tests: &[String]) -> Option<Vec<TestTarget>> {
    let manifest = crate::project_files::read_named(&dir.join("Cargo.toml")).ok()?;
    // Targets declared in the manifest (custom paths, autotests off) are
    // not guessed at.
    let custom_lib = manifest.lines().any(|l| {
        let l = l.trim();
        l.starts_with("path") && l.contains('=') && !l.contains("\"src/lib.rs\"") && !l.contains("\"src/main.rs\"")
    });
    if custom_lib || manifest.contains("[[test]]") || manifest.contains("autotests") {
        return None;
    }
    let mut roots: Vec<(TestTarget, PathBuf)> = Vec::new();
    let lib = dir.join("src/lib.rs");
    if lib.is_file() {
        roots.push((TestTarget::Lib, lib));
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("tests")) {
        let mut found: Vec<(TestTarget, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let path = e.path();
                let name = path.file_stem()?.to_str()?.to_string();
                if path.is_file() && path.extension().is_some_and(|x| x == "rs") {
                    Some((TestTarget::Test(name), path))
                } else if path.join("main.rs").is_file() {
                    Some((TestTarget::Test(name), path.join("main.rs")))
                } else {
                    None
                }
            })
            .collect();
        found.sort();
        roots.extend(found);
    }
    let mut out = Vec::new();
    for test in tests {
        let named = match test.split_once(' ') {
            Some((binary, name)) if !binary.contains("::") || binary.split("::").count() == 2 => Some((binary, name)),
            _ => None,
        };
        let (path, only) = match named {
            // `pkg::target name`: the target is given.
            Some((binary, name)) => match binary.split_once("::") {
                Some((_, target)) if !target.contains('/') => (name, Some(TestTarget::Test(target.to_string()))),
                Some(_) => return None,
                None => (name, Some(TestTarget::Lib)),
            },
            None => (test.as_str(), None),
        };
        if path.contains(' ') {
            return None; // a doc-test
        }
        let segments: Vec<&str> = path.split("::").collect();
        let holders: Vec<TestTarget> = roots
            .iter()
            .filter(|(t, _)| only.as_ref().is_none_or(|o| o == t))
            .filter(|(_, root)| may_hold(root, &segments))
            .map(|(t, _)| t.clone())
            .collect();
        if holders.is_empty() {
            return None;
        }
        out.extend(holders);
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// Whether the crate rooted at `root` may define the test `segments`
/// (modules, then the function): false only when a module or the function
/// is certainly not there.
fn may_hold(root: &Path, segments: &[&str]) -> bool {
    let Some((name, modules)) = segments.split_last() else { return false };
    let mut file = root.to_path_buf();
    let mut is_dir_owner = true;
    // Text of the module being searched (a file, or an inline block's
    // file: inline modules are searched in their whole file).
    let Ok(mut text) = crate::project_files::read_named(&file) else { return true };
    for m in modules {
        match find_mod(&text, m) {
            None => return false,
            Some(ModDecl::Inline) => {}
            Some(ModDecl::File(attr)) => {
                let base = if is_dir_owner { file.parent().map(Path::to_path_buf) } else { file.parent().map(|p| p.join(file.file_stem().unwrap_or_default())) };
                let Some(base) = base else { return true };
                let next = match attr {
                    Some(p) => file.parent().map_or_else(|| PathBuf::from(&p), |d| d.join(&p)),
                    None if base.join(format!("{m}.rs")).is_file() => base.join(format!("{m}.rs")),
                    None => base.join(m).join("mod.rs"),
                };
                let Ok(t) = crate::project_files::read_named(&next) else { return true };
                is_dir_owner = next.file_name().is_some_and(|n| n == "mod.rs");
                file = next;
                text = t;
            }
        }
    }
    text.lines().any(|l| declares_fn(l, name))
}

enum ModDecl {
    Inline,
    /// `mod x;`, with its `#[path]` if any.
    File(Option<String>),
}

/// The declaration of module `name` in `text`, if any.
fn find_mod(text: &str, name: &str) -> Option<ModDecl> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = after_mod_keyword(line) else { continue };
        let Some(rest) = rest.strip_prefix(name) else { continue };
        let rest = rest.trim_start();
        if rest.starts_with(';') {
            let attr = lines[..i].iter().rev().take_while(|l| l.trim_start().starts_with("#[")).find_map(|l| path_attr(l));
            return Some(ModDecl::File(attr));
        }
        if rest.starts_with('{') {
            return Some(ModDecl::Inline);
        }
    }
    None
}

/// What follows `mod ` on a declaration line (`pub(crate) mod x;` → `x;`).
fn after_mod_keyword(line: &str) -> Option<&str> {
    let mut l = line.trim_start();
    if let Some(r) = l.strip_prefix("pub") {
        l = r.trim_start();
        if let Some(r) = l.strip_prefix('(') {
            l = r.split_once(')')?.1.trim_start();
        }
    }
    l.strip_prefix("mod ").map(str::trim_start)
}

/// The path of a `#[path = "…"]` attribute line.
fn path_attr(line: &str) -> Option<String> {
    let l = line.trim().strip_prefix("#[path")?.trim_start().strip_prefix('=')?.trim_start();
    let l = l.strip_prefix('"')?;
    Some(l.split_once('"')?.0.to_string())
}

/// Whether `line` declares a function called `name`.
fn declares_fn(line: &str, name: &str) -> bool {
    let mut rest = line;
    while let Some(at) = rest.find("fn ") {
        let before_ok = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric() && rest.as_bytes()[at - 1] != b'_';
        let after = rest[at + 3..].trim_start();
        if before_ok && after.strip_prefix(name).is_some_and(|r| r.starts_with(['(', '<', ' '])) {
            return true;
        }
        rest = &rest[at + 3..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn package() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        write(p, "Cargo.toml", "[package]\nname = \"x\"\n");
        write(p, "src/lib.rs", "pub mod raft;\nmod s2;\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn at_root() {}\n}\n");
        write(p, "src/raft/mod.rs", "mod wire;\n#[cfg(test)]\nmod tests;\n");
        write(p, "src/raft/wire.rs", "pub fn f() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn round_trip() {}\n}\n");
        write(p, "src/raft/tests.rs", "#[test]\nfn votes() {}\n");
        write(p, "src/s2.rs", "pub fn g() {}\n");
        write(p, "tests/nrg.rs", "#[path = \"nrg/batch33.rs\"]\nmod batch33;\n#[test]\nfn bare() {}\n");
        write(p, "tests/nrg/batch33.rs", "#[test]\nfn test_nrg_simple() {}\n");
        write(p, "tests/jsc.rs", "#[path = \"jsc/s2.rs\"]\nmod s2;\n");
        write(p, "tests/jsc/s2.rs", "#[test]\nfn decodes() {}\n");
        write(p, "tests/jss/main.rs", "mod s2;\n");
        write(p, "tests/jss/s2.rs", "#[test]\nfn other() {}\n");
        d
    }

    fn t(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unit_and_integration_tests_are_placed_in_their_targets() {
        let d = package();
        let got = targets_for(d.path(), &t(&["raft::wire::tests::round_trip", "raft::tests::votes", "batch33::test_nrg_simple"])).unwrap();
        assert_eq!(got, vec![TestTarget::Lib, TestTarget::Test("nrg".into())]);
        assert_eq!(targets_for(d.path(), &t(&["bare"])).unwrap(), vec![TestTarget::Test("nrg".into())]);
        assert_eq!(targets_for(d.path(), &t(&["tests::at_root"])).unwrap(), vec![TestTarget::Lib]);
        // `s2` is a module of the library and of two test binaries; only
        // the binary whose s2 defines the test holds it.
        assert_eq!(targets_for(d.path(), &t(&["s2::decodes"])).unwrap(), vec![TestTarget::Test("jsc".into())]);
        assert_eq!(targets_for(d.path(), &t(&["s2::other"])).unwrap(), vec![TestTarget::Test("jss".into())]);
        assert_eq!(targets_for(d.path(), &t(&["x::jsc s2::decodes"])).unwrap(), vec![TestTarget::Test("jsc".into())]);
        let args: Vec<String> = got.iter().map(TestTarget::cargo_arg).collect();
        assert_eq!(args, t(&["--lib", "--test=nrg"]));
    }

    #[test]
    fn a_test_that_cannot_be_placed_selects_nothing() {
        let d = package();
        assert_eq!(targets_for(d.path(), &t(&["raft::tests::gone"])), None);
        assert_eq!(targets_for(d.path(), &t(&["batch33::test_nrg_simple", "nowhere::x"])), None);
        assert_eq!(targets_for(d.path(), &t(&["src/lib.rs - f (line 3)"])), None);
        write(d.path(), "Cargo.toml", "[package]\nname = \"x\"\n[[test]]\nname = \"nrg\"\npath = \"tests/nrg.rs\"\n");
        assert_eq!(targets_for(d.path(), &t(&["batch33::test_nrg_simple"])), None);
    }
}
