//! Rust symbols: every `fn` with a body outside test code, as its module
//! path (from the file's place under `src/` and inline `mod`s), its `impl`
//! or `trait` owner, and a type's shortest public path (`pub use`
//! re-exports), e.g. `raft::Raft::process_append_entry` for a method of
//! `raft::node::Raft` written in `raft/append.rs`.

use std::collections::HashMap;

use super::lex::{mask, Masked};
use super::tokens::{pairs, ports_above, tokenize, Tok};
use super::{Lang, Symbol};

/// A function before its owner's path is known.
struct RawFn {
    module: Vec<String>,
    owner: Option<Owner>,
    name: String,
    line: usize,
    end_line: usize,
    ports: Vec<String>,
}

#[derive(Clone)]
struct Owner {
    ty: String,
    /// `Display` in `impl fmt::Display for T`, with its path as written.
    trait_path: Option<(String, String)>,
    /// `impl dyn Trait { … }`: inherent methods of the trait object, named
    /// `module::<dyn Trait>::method` (where the impl is, as rustdoc does).
    dyn_object: bool,
}

#[derive(Default)]
struct FileItems {
    fns: Vec<RawFn>,
    /// (module, name) of every struct, enum, union, type alias and trait.
    types: Vec<(Vec<String>, String)>,
    /// (module, name) of every name a module re-exports with `pub use`.
    reexports: Vec<(Vec<String>, String)>,
}

/// The module path of a file under a crate's `src/` (`src/raft/mod.rs` →
/// `raft`); None outside `src/` (tests, benches, examples).
fn module_of(file: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = file.split('/').collect();
    let src = parts.iter().rposition(|p| *p == "src")?;
    let mut module: Vec<String> = parts[src + 1..].iter().map(|p| p.to_string()).collect();
    let last = module.pop()?;
    let stem = last.strip_suffix(".rs")?;
    if module.first().is_some_and(|m| m == "bin") {
        return None;
    }
    if !matches!(stem, "lib" | "main" | "mod") {
        module.push(stem.to_string());
    }
    Some(module)
}

/// Symbols of one file, with types at the path of the module that
/// implements them (no other file is known).
pub fn symbols(file: &str, text: &[u8]) -> Vec<Symbol> {
    symbols_of_tree(&[(file.to_string(), text.to_vec())])
}

/// Symbols of many files, each type at its shortest public path.
pub fn symbols_of_tree(files: &[(String, Vec<u8>)]) -> Vec<Symbol> {
    let parsed: Vec<(&str, FileItems)> = files.iter().filter_map(|(f, t)| Some((f.as_str(), parse_file(module_of(f)?, t)))).collect();
    let mut defs: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
    let mut reexports: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
    for (_, items) in &parsed {
        for (m, n) in &items.types {
            defs.entry(n.as_str()).or_default().push(m);
        }
        for (m, n) in &items.reexports {
            reexports.entry(n.as_str()).or_default().push(m);
        }
    }
    let type_path = |ty: &str, impl_module: &Vec<String>| -> Vec<String> {
        let defined = defs.get(ty).cloned().unwrap_or_default();
        let mut candidates: Vec<&Vec<String>> = defined.clone();
        for r in reexports.get(ty).into_iter().flatten() {
            if defined.is_empty() || defined.iter().any(|d| d.starts_with(r)) {
                candidates.push(r);
            }
        }
        if candidates.is_empty() {
            candidates.push(impl_module);
        }
        candidates.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        candidates[0].clone()
    };
    let join = |path: &[String], last: &str| -> String {
        let mut all: Vec<&str> = path.iter().map(String::as_str).collect();
        all.push(last);
        all.join("::")
    };
    let mut out = Vec::new();
    for (file, items) in &parsed {
        for f in &items.fns {
            let (symbol, owner, trait_name) = match &f.owner {
                None => (join(&f.module, &f.name), String::new(), None),
                Some(o) => {
                    let ty = join(&type_path(&o.ty, &f.module), &o.ty);
                    if o.dyn_object {
                        out.push(Symbol {
                            file: file.to_string(),
                            symbol: join(&f.module, &format!("<dyn {}>::{}", o.ty, f.name)),
                            owner: o.ty.clone(),
                            trait_name: None,
                            name: f.name.clone(),
                            line: f.line,
                            end_line: f.end_line,
                            ports: f.ports.clone(),
                        });
                        continue;
                    }
                    match &o.trait_path {
                        Some((name, path)) => (format!("<{ty} as {path}>::{}", f.name), o.ty.clone(), Some(name.clone())),
                        None => (format!("{ty}::{}", f.name), o.ty.clone(), None),
                    }
                }
            };
            out.push(Symbol { file: file.to_string(), symbol, owner, trait_name, name: f.name.clone(), line: f.line, end_line: f.end_line, ports: f.ports.clone() });
        }
    }
    out
}

struct Parser<'a> {
    m: &'a Masked,
    text: &'a [u8],
    toks: Vec<Tok<'a>>,
    braces: Vec<Option<usize>>,
    brackets: Vec<Option<usize>>,
    items: FileItems,
}

fn parse_file(module: Vec<String>, text: &[u8]) -> FileItems {
    let m = mask(text, Lang::Rust);
    let toks = tokenize(&m);
    let braces = pairs(&toks, "{", "}");
    let brackets = pairs(&toks, "[", "]");
    let mut p = Parser { m: &m, text, braces, brackets, toks: Vec::new(), items: FileItems::default() };
    let n = toks.len();
    p.toks = toks;
    p.items_in(0, n, &module, None);
    p.items
}

const NOT_A_TYPE: &[&str] = &["dyn", "mut", "const", "unsafe", "impl", "for", "where", "crate", "self", "super", "Self"];

impl Parser<'_> {
    fn t(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| t.text)
    }

    fn line(&self, i: usize) -> usize {
        self.toks.get(i).map_or(1, |t| self.m.line_of(t.at))
    }

    /// The token past the block opened at `open` (or the end).
    fn past(&self, open: usize, end: usize) -> usize {
        self.braces[open].map_or(end, |c| c + 1)
    }

    /// Items of the token range `[from, to)` in `module`, inside `owner`'s
    /// impl or trait block when given.
    fn items_in(&mut self, from: usize, to: usize, module: &Vec<String>, owner: Option<&Owner>) {
        let mut k = from;
        let mut test_attr = false;
        while k < to {
            match self.t(k) {
                "#" => {
                    let open = if self.t(k + 1) == "!" { k + 2 } else { k + 1 };
                    let Some(close) = self.brackets.get(open).copied().flatten().filter(|_| self.t(open) == "[") else {
                        k += 1;
                        continue;
                    };
                    let attr: Vec<&str> = self.toks[open + 1..close].iter().map(|t| t.text).collect();
                    if attr == ["test"] || attr.windows(4).any(|w| w == ["cfg", "(", "test", ")"]) || attr.first() == Some(&"bench") {
                        test_attr = true;
                    }
                    k = close + 1;
                }
                "mod" if self.toks.get(k + 1).is_some_and(Tok::is_ident) => {
                    let name = self.t(k + 1).to_string();
                    if self.t(k + 2) == "{" {
                        let end = self.past(k + 2, to);
                        if !test_attr && name != "tests" {
                            let mut inner = module.clone();
                            inner.push(name);
                            self.items_in(k + 3, end - 1, &inner, None);
                        }
                        k = end;
                    } else {
                        k += 2;
                    }
                    test_attr = false;
                }
                "impl" => {
                    let (owner, open) = self.impl_header(k, to);
                    match open {
                        Some(open) => {
                            let end = self.past(open, to);
                            if !test_attr {
                                if let Some(o) = owner {
                                    self.items_in(open + 1, end - 1, module, Some(&o));
                                }
                            }
                            k = end;
                        }
                        None => k += 1,
                    }
                    test_attr = false;
                }
                "trait" if self.toks.get(k + 1).is_some_and(Tok::is_ident) => {
                    let name = self.t(k + 1).to_string();
                    self.items.types.push((module.clone(), name.clone()));
                    match (k + 2..to).find(|&i| matches!(self.t(i), "{" | ";")) {
                        Some(open) if self.t(open) == "{" => {
                            let end = self.past(open, to);
                            let o = Owner { ty: name, trait_path: None, dyn_object: false };
                            self.items_in(open + 1, end - 1, module, Some(&o));
                            k = end;
                        }
                        Some(semi) => k = semi + 1,
                        None => k += 2,
                    }
                    test_attr = false;
                }
                "struct" | "enum" | "union" | "type" if self.toks.get(k + 1).is_some_and(Tok::is_ident) && owner.is_none() => {
                    self.items.types.push((module.clone(), self.t(k + 1).to_string()));
                    k += 2;
                    test_attr = false;
                }
                "use" => {
                    let public = k > from && (self.t(k - 1) == "pub" || self.t(k - 1) == ")");
                    let semi = (k..to).find(|&i| self.t(i) == ";").unwrap_or(to);
                    if public {
                        for name in use_leaves(&self.toks[k + 1..semi]) {
                            self.items.reexports.push((module.clone(), name));
                        }
                    }
                    k = semi + 1;
                }
                "fn" if self.toks.get(k + 1).is_some_and(Tok::is_ident) => {
                    let name = self.t(k + 1).to_string();
                    let mut depth = 0i32;
                    let mut j = k + 2;
                    while j < to {
                        match self.t(j) {
                            "(" | "[" => depth += 1,
                            ")" | "]" => depth -= 1,
                            "{" | ";" if depth == 0 => break,
                            _ => {}
                        }
                        j += 1;
                    }
                    if self.t(j) == "{" {
                        let end = self.past(j, to);
                        if !test_attr {
                            let line = self.line(k);
                            self.items.fns.push(RawFn {
                                module: module.clone(),
                                owner: owner.cloned(),
                                name,
                                line,
                                end_line: self.line(end - 1),
                                ports: ports_above(self.m, self.text, line),
                            });
                        }
                        k = end;
                    } else {
                        k = j + 1;
                    }
                    test_attr = false;
                }
                "{" => k = self.past(k, to),
                ";" => {
                    test_attr = false;
                    k += 1;
                }
                _ => k += 1,
            }
        }
    }

    /// The owner an `impl` at `k` gives its methods, and its `{`.
    fn impl_header(&self, k: usize, to: usize) -> (Option<Owner>, Option<usize>) {
        let mut j = k + 1;
        if self.t(j) == "<" {
            j = self.angle_end(j, to);
        }
        let open = (j..to).find(|&i| self.t(i) == "{");
        let Some(open) = open else { return (None, None) };
        let header = &self.toks[j..open];
        let header: Vec<&Tok<'_>> = header.iter().take_while(|t| !t.is("where")).collect();
        let split = header.iter().position(|t| t.is("for"));
        let (first, second) = match split {
            Some(p) => (&header[..p], Some(&header[p + 1..])),
            None => (&header[..], None),
        };
        let owner = match second {
            Some(ty) => last_type(ty).map(|t| Owner { ty: t, trait_path: last_type(first).map(|name| (name.clone(), trait_path(first, &name))), dyn_object: false }),
            None => last_type(first).map(|t| Owner { ty: t, trait_path: None, dyn_object: first.first().is_some_and(|t| t.is("dyn")) }),
        };
        (owner, Some(open))
    }

    /// Past the `>` matching the `<` at `j`.
    fn angle_end(&self, j: usize, to: usize) -> usize {
        let mut depth = 0i32;
        for i in j..to {
            match self.t(i) {
                "<" => depth += 1,
                ">" => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        }
        to
    }
}

/// The last type name of a path outside generic arguments:
/// `&'a mut Foo<T>` → `Foo`, `fmt::Display` → `Display`.
fn last_type(toks: &[&Tok<'_>]) -> Option<String> {
    let mut depth = 0i32;
    let mut last = None;
    for (i, t) in toks.iter().enumerate() {
        match t.text {
            "<" => depth += 1,
            ">" => depth -= 1,
            _ if depth == 0 && t.is_ident() && !NOT_A_TYPE.contains(&t.text) && !(i > 0 && toks[i - 1].is("'")) => last = Some(t.text.to_string()),
            _ => {}
        }
    }
    last
}

/// How a trait is named in a trait-impl symbol: `std::fmt::Display` for
/// the formatting traits (as rustdoc and the port's mappings write them),
/// else the path as written.
fn trait_path(toks: &[&Tok<'_>], name: &str) -> String {
    if matches!(name, "Display" | "Debug") {
        return format!("std::fmt::{name}");
    }
    let mut depth = 0i32;
    let mut out = String::new();
    for t in toks {
        match t.text {
            "<" => depth += 1,
            ">" => depth -= 1,
            s if depth == 0 && (s == "::" || t.is_ident()) => out.push_str(s),
            _ => {}
        }
    }
    out
}

/// The names a `use` brings in: the last segment of each leaf, or its `as`
/// alias (`node::{Raft, Peer as P}` → Raft, P); `self` and globs are skipped.
fn use_leaves(toks: &[Tok<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    let mut last: Option<&str> = None;
    let mut alias = false;
    let flush = |last: &mut Option<&str>, out: &mut Vec<String>| {
        if let Some(l) = last.take() {
            if l != "self" && l != "super" && l != "crate" {
                out.push(l.to_string());
            }
        }
    };
    for t in toks {
        match t.text {
            "as" => alias = true,
            "," | "{" | "}" => {
                flush(&mut last, &mut out);
                alias = false;
            }
            "::" => {
                if !alias {
                    last = None;
                }
            }
            "*" => last = None,
            s if t.is_ident() => last = Some(s),
            _ => {}
        }
    }
    flush(&mut last, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syms(files: &[(&str, &str)]) -> Vec<(String, String, usize, usize, Vec<String>)> {
        let files: Vec<(String, Vec<u8>)> = files.iter().map(|(f, t)| (f.to_string(), t.as_bytes().to_vec())).collect();
        symbols_of_tree(&files).into_iter().map(|s| (s.file, s.symbol, s.line, s.end_line, s.ports)).collect()
    }

    #[test]
    fn modules_impls_traits_and_reexports() {
        let files = [
            ("p/src/lib.rs", "pub mod raft;\npub fn top() {}\n"),
            ("p/src/raft/mod.rs", "mod node;\nmod append;\npub use node::{Raft, Peer as P};\nimpl fmt::Display for RaftState {\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { Ok(()) }\n}\npub enum RaftState { A }\n"),
            ("p/src/raft/node.rs", "pub struct Raft { x: u8 }\nimpl<'a, T: Into<u8>> Raft {\n    /// Port of (*raft).isLeader\n    #[inline]\n    pub fn is_leader(&self) -> bool {\n        let s = \"}\";\n        true\n    }\n}\n"),
            ("p/src/raft/append.rs", "impl Raft {\n    fn process_append_entry(&mut self) where Self: Sized {\n    }\n}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn hidden() {}\n}\n"),
            ("p/tests/it.rs", "fn not_a_target() {}\n"),
        ];
        let got = syms(&files);
        let names: Vec<(&str, &str)> = got.iter().map(|(f, s, ..)| (f.as_str(), s.as_str())).collect();
        assert_eq!(
            names,
            [
                ("p/src/lib.rs", "top"),
                ("p/src/raft/mod.rs", "<raft::RaftState as std::fmt::Display>::fmt"),
                ("p/src/raft/node.rs", "raft::Raft::is_leader"),
                ("p/src/raft/append.rs", "raft::Raft::process_append_entry"),
            ]
        );
        assert_eq!((got[2].2, got[2].3), (5, 8), "lines of is_leader");
        assert_eq!(got[2].4, ["raft.isLeader"]);
    }

    #[test]
    fn single_file_types_stay_in_their_module() {
        let got = syms(&[("src/a/b.rs", "pub struct S;\nimpl S { pub fn new() -> S { S } }\ntrait T { fn d(&self) { } fn decl(&self); }\nmacro_rules! m { () => { fn inside() {} } }\n")]);
        let names: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(names, ["a::b::S::new", "a::b::T::d"]);
    }

    #[test]
    fn inherent_methods_of_a_trait_object_are_named_where_the_impl_is() {
        let got = syms(&[
            ("src/js/server.rs", "pub trait Env { fn id(&self) -> u8; }\nimpl dyn Env {\n    pub fn name(&self) -> u8 { 1 }\n}\n"),
            ("src/js/leader.rs", "impl dyn super::server::Env {\n    pub fn replicas(&self) -> u8 { 2 }\n}\n"),
        ]);
        let names: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(names, ["js::server::<dyn Env>::name", "js::leader::<dyn Env>::replicas"]);
    }
}
