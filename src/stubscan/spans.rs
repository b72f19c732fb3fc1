//! Where functions are: name, start and body of every function in a file,
//! found on the code mask so braces in strings and comments do not count.
//! Rust spans link findings to tracked features; all languages' bodies
//! decide whether a comment is "inside a function".

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::source::Source;
use super::Language;

/// One function: `start` is its `fn`/`func`/`def` keyword, `open..end` its
/// body (from `{` or the Python `:` to past the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnSpan {
    pub name: String,
    pub start: usize,
    pub open: usize,
    pub end: usize,
}

fn re(pattern: &str) -> Regex {
    // Every pattern here is a constant checked by the unit tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad built-in pattern {pattern}: {e}"))
}

static RUST_FN: LazyLock<Regex> = LazyLock::new(|| re(r"\bfn\s+(?:r#)?([A-Za-z_][A-Za-z0-9_]*)"));
static GO_FUNC: LazyLock<Regex> = LazyLock::new(|| re(r"\bfunc\b(?:\s*\([^)]*\))?\s*([A-Za-z_]\w*)?"));
static PY_DEF: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)"));

/// Every Rust `fn` with a body, in source order.
pub fn rust_fns(src: &Source) -> Vec<FnSpan> {
    RUST_FN
        .captures_iter(&src.code)
        .filter_map(|c| {
            let (whole, name) = (c.get(0)?, c.get(1)?);
            let open = src.body_open(name.end(), false)?;
            Some(FnSpan { name: String::from_utf8_lossy(name.as_bytes()).into_owned(), start: whole.start(), open, end: src.block_end(open) })
        })
        .collect()
}

/// Every Go `func` with a body: declarations, methods and literals (named
/// ""). A `{` of `interface{}` or `struct{…}` in the signature is skipped.
pub fn go_funcs(src: &Source) -> Vec<FnSpan> {
    GO_FUNC
        .captures_iter(&src.code)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let name = c.get(1).map(|n| String::from_utf8_lossy(n.as_bytes()).into_owned()).unwrap_or_default();
            let mut from = whole.end();
            loop {
                let open = src.body_open(from, true)?;
                let before = src.code[..open].trim_ascii_end();
                if before.ends_with(b"interface") || before.ends_with(b"struct") {
                    from = src.block_end(open);
                    continue;
                }
                return Some(FnSpan { name, start: whole.start(), open, end: src.block_end(open) });
            }
        })
        .collect()
}

/// Every Python `def`: the body runs from the `:` ending the signature to
/// the last line indented deeper than the `def`.
pub fn python_defs(src: &Source) -> Vec<FnSpan> {
    let code = &src.code;
    PY_DEF
        .captures_iter(code)
        .filter_map(|c| {
            let (whole, name) = (c.get(0)?, c.get(1)?);
            let indent = whole.as_bytes().iter().take_while(|b| b.is_ascii_whitespace()).count();
            let colon = signature_colon(code, name.end())?;
            // Lines after the signature's line belong to the body while they
            // are blank or indented deeper than the def.
            let mut end = memchr::memchr(b'\n', &code[colon..]).map_or(code.len(), |p| colon + p);
            let mut at = end;
            while at < code.len() {
                let line_end = memchr::memchr(b'\n', &code[at + 1..]).map_or(code.len(), |p| at + 1 + p);
                let line = &code[at + 1..line_end];
                let width = line.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
                // A line inside a multi-line string continues the body
                // however it is indented.
                if width < line.len() && line[width] != b'\r' && !src.in_long_string(at + 1) {
                    if width <= indent {
                        break;
                    }
                    end = line_end;
                }
                at = line_end;
            }
            Some(FnSpan { name: String::from_utf8_lossy(name.as_bytes()).into_owned(), start: whole.start() + indent, open: colon, end })
        })
        .collect()
}

/// The `:` closing a def's signature (at bracket depth 0).
fn signature_colon(code: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, &b) in code.iter().enumerate().skip(from) {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b':' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Function bodies of the file as (open, end), for "is this comment inside a
/// function". C# and TypeScript have no keyword for every function, so a
/// block counts when what precedes its `{` ends a signature: `)`, `=>`, a
/// property accessor, or a TypeScript return type after `)`.
pub fn bodies(src: &Source) -> Vec<(usize, usize)> {
    match src.lang {
        Language::Rust => rust_fns(src).into_iter().map(|f| (f.open, f.end)).collect(),
        Language::Go => go_funcs(src).into_iter().map(|f| (f.open, f.end)).collect(),
        Language::Python => python_defs(src).into_iter().map(|f| (f.open, f.end)).collect(),
        Language::CSharp | Language::TypeScript => src.blocks().iter().copied().filter(|&(open, _)| opens_function(src, open)).collect(),
    }
}

fn opens_function(src: &Source, open: usize) -> bool {
    let before = src.code[..open].trim_ascii_end();
    if before.ends_with(b")") || before.ends_with(b"=>") {
        return true;
    }
    let word_start = before.iter().rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'_')).map_or(0, |p| p + 1);
    if matches!(&before[word_start..], b"get" | b"set" | b"init" | b"add" | b"remove") {
        return src.lang == Language::CSharp;
    }
    // `f(): Promise<void> {` — a return type after the parameter list, on
    // the same line.
    if src.lang == Language::TypeScript {
        let line = &before[before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)..];
        if let Some(close) = line.iter().rposition(|&b| b == b')') {
            return line[close + 1..].trim_ascii_start().starts_with(b":");
        }
    }
    false
}

/// Names of the Rust functions whose span (from `fn` to the closing brace)
/// holds `offset`, outermost first.
pub fn enclosing(spans: &[FnSpan], offset: usize) -> Vec<String> {
    spans.iter().filter(|f| f.start <= offset && offset < f.end).map(|f| f.name.clone()).collect()
}

/// Every Rust function of `text` as (name, first line, last line), 1-based:
/// the `fn` line through the closing brace's line.
pub fn rust_function_lines(text: &str) -> Vec<(String, usize, usize)> {
    let src = Source::new("", Language::Rust, text.as_bytes());
    rust_fns(&src).into_iter().map(|f| (f.name, src.line_of(f.start), src.line_of(f.end.saturating_sub(1)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_spans_skip_braces_in_text_and_declarations() {
        let text = "trait T { fn decl(&self); }\nimpl X {\n    fn a(&self) -> u8 {\n        let s = \"}\"; // }\n        1\n    }\n}\nfn b<F: Fn() -> u8>(f: F) where F: Copy { f(); }\n";
        assert_eq!(rust_function_lines(text), [("a".to_string(), 3, 6), ("b".to_string(), 8, 8)]);
    }

    #[test]
    fn go_funcs_skip_interface_return_types() {
        let src = Source::new("a.go", Language::Go, b"type F func(int) int\nfunc (s *S) f() interface{} {\n\treturn nil\n}\n");
        let spans = go_funcs(&src);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert_eq!((spans[0].name.as_str(), src.line_of(spans[0].open), src.line_of(spans[0].end - 1)), ("f", 2, 4));
    }

    #[test]
    fn python_def_bodies_follow_indentation() {
        let src = Source::new("a.py", Language::Python, b"class A:\n    def f(self,\n          x):\n        y = 1\n\n        return y\n    z = 2\n");
        let spans = python_defs(&src);
        assert_eq!(spans.len(), 1);
        assert_eq!((src.line_of(spans[0].open), src.line_of(spans[0].end)), (3, 6));
        let src = Source::new("t.py", Language::Python, b"class T:\n    def test(self):\n        t = f(\n            \"\"\"\\\nStart\nEnd\"\"\"\n        )\n        assert t\n");
        let spans = python_defs(&src);
        assert_eq!((src.line_of(spans[0].open), src.line_of(spans[0].end)), (2, 8), "a string's lines at column 0 stay in the body");
    }

    #[test]
    fn csharp_and_typescript_function_blocks() {
        let cs = Source::new("a.cs", Language::CSharp, b"class C {\n  int P { get { return 1; } }\n  void M() {\n  }\n}\n");
        assert_eq!(bodies(&cs).len(), 2);
        let ts = Source::new("a.ts", Language::TypeScript, b"class C {\n  m(): Promise<void> {\n  }\n}\nconst o = { a: 1 };\nconst f = () => {\n};\n");
        assert_eq!(bodies(&ts).len(), 2);
    }
}
