//! Finds top-level function and method declarations in one tokenized Go
//! file, with their extent and a normalised body hash, and the file's
//! package clause and imports.

use sha2::{Digest, Sha256};

use super::lexer::{Kind, Token};

/// One top-level `func` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncDecl {
    /// Receiver type name without `*` and type parameters; empty for plain
    /// functions.
    pub receiver: String,
    pub name: String,
    pub line: u32,
    pub end_line: u32,
    pub body_hash: String,
    /// Token index range of the body, braces included.
    pub body: Option<(usize, usize)>,
    /// Token index range of the signature after the name, up to the body:
    /// type parameters, parameters, results (end exclusive).
    pub signature: (usize, usize),
}

impl FuncDecl {
    pub fn loc(&self) -> u32 {
        self.end_line - self.line + 1
    }
}

/// Every top-level function and method declaration, in source order.
pub fn functions(src: &[u8], toks: &[Token]) -> Vec<FuncDecl> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if depth == 0 && t.is_ident(src, b"func") && starts_declaration(src, toks, i) {
            if let Some((decl, next)) = parse_func(src, toks, i) {
                out.push(decl);
                i = next;
                continue;
            }
        }
        if t.kind == Kind::Op {
            match t.text(src) {
                b"(" | b"[" | b"{" => depth += 1,
                b")" | b"]" | b"}" => depth -= 1,
                _ => {}
            }
        }
        i += 1;
    }
    out
}

/// A `func` at nesting depth 0 begins a declaration when a statement ended
/// just before it (explicitly or by Go's automatic semicolon); otherwise it
/// is a function literal such as `var f = func() {}`.
fn starts_declaration(src: &[u8], toks: &[Token], i: usize) -> bool {
    match i.checked_sub(1).map(|p| &toks[p]) {
        None => true,
        Some(prev) => prev.is_op(src, b";") || (toks[i].newline_before && prev.ends_statement(src)),
    }
}

/// Parse the declaration whose `func` keyword is at `k`; returns it and the
/// index just past it.
fn parse_func(src: &[u8], toks: &[Token], k: usize) -> Option<(FuncDecl, usize)> {
    let mut j = k + 1;
    let mut receiver = String::new();
    if toks.get(j)?.is_op(src, b"(") {
        let close = matching(src, toks, j, b"(", b")")?;
        receiver = receiver_type(src, &toks[j + 1..close]);
        j = close + 1;
    }
    let name_tok = toks.get(j)?;
    if name_tok.kind != Kind::Ident {
        return None;
    }
    let name = super::lexer::owned_text(name_tok.text(src));
    j += 1;
    let sig_start = j;
    // Walk the signature to the body's `{`, skipping brace-delimited type
    // literals (`interface{}`, `struct{…}`) in the result types.
    let mut nest = 0i32;
    while j < toks.len() {
        let t = &toks[j];
        // A line that ends the signature without `{` declares a function
        // implemented elsewhere (assembly, linkname).
        if nest == 0 && t.newline_before && toks[j - 1].ends_statement(src) {
            return Some((no_body(receiver, name, toks, k, (sig_start, j)), j));
        }
        if t.kind == Kind::Op {
            match t.text(src) {
                b"(" | b"[" => nest += 1,
                b")" | b"]" => nest -= 1,
                b";" if nest == 0 => return Some((no_body(receiver, name, toks, k, (sig_start, j)), j + 1)),
                b"{" if nest == 0 => {
                    let close = matching(src, toks, j, b"{", b"}")?;
                    let prev = &toks[j - 1];
                    if prev.is_ident(src, b"interface") || prev.is_ident(src, b"struct") {
                        j = close + 1;
                        continue;
                    }
                    let decl = FuncDecl {
                        receiver,
                        name,
                        line: toks[k].line,
                        end_line: toks[close].end_line,
                        body_hash: body_hash(src, &toks[j..=close]),
                        body: Some((j, close)),
                        signature: (sig_start, j),
                    };
                    return Some((decl, close + 1));
                }
                _ => {}
            }
        }
        j += 1;
    }
    Some((no_body(receiver, name, toks, k, (sig_start, toks.len())), toks.len()))
}

/// A declaration without body whose signature ends before `sig.1`.
fn no_body(receiver: String, name: String, toks: &[Token], k: usize, sig: (usize, usize)) -> FuncDecl {
    let last = sig.1.saturating_sub(1).max(k);
    FuncDecl { receiver, name, line: toks[k].line, end_line: toks[last].end_line, body_hash: body_hash(&[], &[]), body: None, signature: sig }
}

/// Index of the token closing the bracket opened at `open_at`.
pub(super) fn matching(src: &[u8], toks: &[Token], open_at: usize, open: &[u8], close: &[u8]) -> Option<usize> {
    let mut depth = 0i32;
    for (idx, t) in toks.iter().enumerate().skip(open_at) {
        if t.kind != Kind::Op {
            continue;
        }
        let text = t.text(src);
        if text == open {
            depth += 1;
        } else if text == close {
            depth -= 1;
            if depth == 0 {
                return Some(idx);
            }
        }
    }
    None
}

/// The receiver's type name: the last identifier outside type-parameter
/// brackets, so `(s *Set[K, V])` gives `Set` and `(*raft)` gives `raft`.
fn receiver_type(src: &[u8], inner: &[Token]) -> String {
    let mut bracket = 0i32;
    let mut name: &[u8] = b"";
    for t in inner {
        match t.kind {
            Kind::Op if t.text(src) == b"[" => bracket += 1,
            Kind::Op if t.text(src) == b"]" => bracket -= 1,
            Kind::Ident if bracket == 0 => name = t.text(src),
            _ => {}
        }
    }
    String::from_utf8_lossy(name).into_owned()
}

/// SHA-256 of the body's tokens joined by single spaces, so layout and
/// comments do not change it; the first 16 hex digits are kept.
///
/// The text goes to the hasher in blocks gathered on the stack: one
/// `update` per token cost more than the hashing itself.
fn body_hash(src: &[u8], body: &[Token]) -> String {
    const BLOCK: usize = 512;
    let mut h = Sha256::new();
    let mut buf = [0u8; BLOCK];
    let mut len = 0;
    for (n, t) in body.iter().enumerate() {
        let text = t.text(src);
        let need = text.len() + usize::from(n > 0);
        if len + need > BLOCK {
            h.update(&buf[..len]);
            len = 0;
        }
        if need > BLOCK {
            // A literal longer than the block goes on its own.
            if n > 0 {
                h.update(b" ");
            }
            h.update(text);
            continue;
        }
        if n > 0 {
            buf[len] = b' ';
            len += 1;
        }
        buf[len..len + text.len()].copy_from_slice(text);
        len += text.len();
    }
    h.update(&buf[..len]);
    let digest = h.finalize();
    let mut hex = String::with_capacity(16);
    for b in &digest[..8] {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `name` is a test function name: it starts with `Test` (so
/// `TestMain` and helpers like `Testing` count) or `Benchmark`. This is our
/// user's rule, not `go test`'s.
pub fn is_test_name(name: &str) -> bool {
    name.starts_with("Test") || name.starts_with("Benchmark")
}

/// The name of the file's `package` clause (empty when there is none).
pub fn package_clause(src: &[u8], toks: &[Token]) -> String {
    match toks {
        [p, n, ..] if p.is_ident(src, b"package") && n.kind == Kind::Ident => String::from_utf8_lossy(n.text(src)).into_owned(),
        _ => String::new(),
    }
}

/// One import of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The name given before the path: an identifier, `.` or `_`.
    pub alias: Option<String>,
    pub path: String,
}

/// The file's imports: the `import` declarations after its package clause.
pub fn imports(src: &[u8], toks: &[Token]) -> Vec<Import> {
    let mut out = Vec::new();
    let mut i = if package_clause(src, toks).is_empty() { 0 } else { 2 };
    let semicolons = |mut i: usize| {
        while toks.get(i).is_some_and(|t| t.is_op(src, b";")) {
            i += 1;
        }
        i
    };
    loop {
        i = semicolons(i);
        if !toks.get(i).is_some_and(|t| t.is_ident(src, b"import")) {
            return out;
        }
        i += 1;
        if toks.get(i).is_some_and(|t| t.is_op(src, b"(")) {
            i += 1;
            loop {
                i = semicolons(i);
                match toks.get(i) {
                    Some(t) if t.is_op(src, b")") => {
                        i += 1;
                        break;
                    }
                    Some(_) => match import_spec(src, toks, i) {
                        Some((spec, next)) => {
                            out.push(spec);
                            i = next;
                        }
                        None => return out,
                    },
                    None => return out,
                }
            }
        } else {
            match import_spec(src, toks, i) {
                Some((spec, next)) => {
                    out.push(spec);
                    i = next;
                }
                None => return out,
            }
        }
    }
}

/// `[name] "path"` at `i`; the spec and the index after it.
fn import_spec(src: &[u8], toks: &[Token], mut i: usize) -> Option<(Import, usize)> {
    let mut alias = None;
    let t = toks.get(i)?;
    if t.kind == Kind::Ident || t.is_op(src, b".") {
        alias = Some(String::from_utf8_lossy(t.text(src)).into_owned());
        i += 1;
    }
    let lit = toks.get(i)?;
    let text = lit.text(src);
    if lit.kind != Kind::Literal || text.len() < 2 || text[0] == b'\'' {
        return None;
    }
    let inner = &text[1..text.len() - 1];
    // Import paths have no escapes in practice; drop backslashes if any.
    let path: Vec<u8> = if text[0] == b'"' { inner.iter().copied().filter(|&b| b != b'\\').collect() } else { inner.to_vec() };
    Some((Import { alias, path: String::from_utf8_lossy(&path).into_owned() }, i + 1))
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn decls(src: &str) -> Vec<(String, String, u32, u32, bool)> {
        let toks = tokenize(src.as_bytes()).unwrap();
        functions(src.as_bytes(), &toks)
            .into_iter()
            .map(|d| (d.receiver.clone(), d.name.clone(), d.line, d.loc(), d.body.is_some()))
            .collect()
    }

    #[test]
    fn methods_functions_and_generic_receivers() {
        let src = "package p\n\nfunc (s *Set[K, V]) Add(k K) {\n\ts.m[k] = struct{}{}\n}\n\nfunc plain() int { return 1 }\n\nfunc (*raft) vote() {}\n";
        assert_eq!(
            decls(src),
            [
                ("Set".into(), "Add".into(), 3, 3, true),
                ("".into(), "plain".into(), 7, 1, true),
                ("raft".into(), "vote".into(), 9, 1, true)
            ]
        );
    }

    #[test]
    fn function_literals_and_type_literal_results_are_not_confused() {
        let src = "package p\nvar f = func() {\n}\nvar g = \n\tfunc() {}\nfunc h() interface{} {\n\treturn nil\n}\nfunc k() (x struct{ a int }) {\n\treturn\n}\n";
        assert_eq!(decls(src), [("".into(), "h".into(), 6, 3, true), ("".into(), "k".into(), 9, 3, true)]);
    }

    #[test]
    fn braces_in_raw_strings_do_not_end_bodies() {
        let src = "package p\nfunc a() string {\n\treturn `}\n{{`\n}\nfunc b() {}\n";
        assert_eq!(decls(src), [("".into(), "a".into(), 2, 4, true), ("".into(), "b".into(), 6, 1, true)]);
    }

    #[test]
    fn bodyless_declarations_are_features_too() {
        let src = "package p\nfunc asm(x int) int\nfunc next() {}\n";
        assert_eq!(decls(src), [("".into(), "asm".into(), 2, 1, false), ("".into(), "next".into(), 3, 1, true)]);
    }

    #[test]
    fn body_hash_ignores_layout_and_comments() {
        let hash = |s: &str| functions(s.as_bytes(), &tokenize(s.as_bytes()).unwrap())[0].body_hash.clone();
        let a = hash("package p\nfunc f() {\n\tx := 1 // one\n\treturn\n}\n");
        let b = hash("package p\nfunc f() { x :=  1\n\n return /* r */ }");
        let c = hash("package p\nfunc f() {\n\tx := 2\n\treturn\n}\n");
        assert_eq!(a.len(), 16);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// The blocked hashing gives the digest of the tokens joined by spaces,
    /// also across block boundaries and for a literal longer than a block.
    #[test]
    fn body_hash_is_that_of_the_joined_tokens() {
        let long = "x".repeat(5000);
        let many = "a + ".repeat(3000);
        for body in [format!("{{ s := `{long}`; return s }}"), format!("{{ return {many} b }}"), "{}".to_string()] {
            let src = format!("package p\nfunc f() {body}\n");
            let toks = tokenize(src.as_bytes()).unwrap();
            let d = &functions(src.as_bytes(), &toks)[0];
            let (open, close) = d.body.unwrap();
            let joined: Vec<&[u8]> = toks[open..=close].iter().map(|t| t.text(src.as_bytes())).collect();
            let digest = Sha256::digest(joined.join(&b" "[..]));
            let want: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(d.body_hash, want, "{}", &body[..body.len().min(40)]);
        }
    }

    #[test]
    fn test_name_rule() {
        for yes in ["TestNRGSimple", "Test", "Test_underscore", "Test1", "Testing", "TestMain", "BenchmarkX", "Benchmark"] {
            assert!(is_test_name(yes), "{yes}");
        }
        for no in ["test", "ExampleX", "FuzzX", "Bench", "helperTest"] {
            assert!(!is_test_name(no), "{no}");
        }
    }

    #[test]
    fn package_clause_and_imports() {
        let src = "// doc\npackage server_test\n\nimport \"fmt\"\nimport (\n\t\"testing\"\n\n\tnats \"github.com/nats-io/nats.go\"\n\t. \"math\"\n\t_ `embed`\n)\nimport \"late\"\n\nfunc F() {}\nimport \"after\"\n";
        let toks = tokenize(src.as_bytes()).unwrap();
        assert_eq!(package_clause(src.as_bytes(), &toks), "server_test");
        let got: Vec<(Option<String>, String)> = imports(src.as_bytes(), &toks).into_iter().map(|i| (i.alias, i.path)).collect();
        let want: Vec<(Option<String>, String)> = [(None, "fmt"), (None, "testing"), (Some("nats"), "github.com/nats-io/nats.go"), (Some("."), "math"), (Some("_"), "embed"), (None, "late")]
            .into_iter()
            .map(|(a, p)| (a.map(str::to_string), p.to_string()))
            .collect();
        assert_eq!(got, want);
    }
}
