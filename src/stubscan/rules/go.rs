//! Go rules: placeholder panics, `t.Skip()` without a reason, and Test
//! functions that never report a failure.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{family, re, says_placeholder, Matchers, Raw, GO_PANIC, GO_SKIP, GO_TEST};
use crate::stubscan::source::Source;

static PANIC: LazyLock<Regex> = LazyLock::new(|| re(r"\bpanic\s*(\()"));
/// `t.Skip()`/`b.SkipNow()`/`suite.T().Skip()`: on a test's T (a short
/// name or `T()`), not on a parser's `iter.Skip()`.
static SKIP: LazyLock<Regex> = LazyLock::new(|| re(r"(?:\b(?:t|b|tb|tt|f|T\(\s*\)))\s*\.\s*(?:Skip\s*\(\s*\)|SkipNow\s*\(\s*\))"));
/// A test per `go test`: `Test` then the end of the name or a character
/// that is not a lowercase letter; group 2 names the *testing.T.
static TEST_FUNC: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^func\s+(Test(?:[^a-z(\s]\w*)?)\s*\(\s*(\w+)\s+\*\s*testing\s*\.\s*T\s*\)"));
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\.\s*(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow|Assert|Check)\s*\(|\b(?:require|assert)\s*\.\s*\w+\s*\(|\bpanic\s*\(|\bExpect\s*\(|\bvar\s+_\s+[\w.*\[]")
});

pub fn check(src: &Source, has: impl Fn(usize) -> bool, m: &Matchers, out: &mut Vec<Raw>) {
    let code = &src.code;
    if has(family::PLACEHOLDER) {
        for c in PANIC.captures_iter(code) {
            let (Some(whole), Some(open)) = (c.get(0), c.get(1)) else { continue };
            if says_placeholder(&super::call_args(src, open.start())) {
                out.push(Raw::on_line(src, GO_PANIC, whole.start(), "`panic` says the code is not implemented".into()));
            }
        }
    }
    // `go test` never builds testdata/: its files are inputs, not tests.
    if !src.is_go_test_file() || src.path.split('/').any(|d| d == "testdata") {
        return;
    }
    if has(family::SKIP) {
        for hit in SKIP.find_iter(code) {
            out.push(Raw::on_line(src, GO_SKIP, hit.start() + 1, "test skipped without a reason: pass one to t.Skip".into()));
        }
    }
    if has(family::TEST) {
        for c in TEST_FUNC.captures_iter(code) {
            let (Some(whole), Some(name), Some(t)) = (c.get(0), c.get(1), c.get(2)) else { continue };
            let Some(open) = src.body_open(whole.end(), true) else { continue };
            let body = &code[open..src.block_end(open)];
            let name_text = String::from_utf8_lossy(name.as_bytes());
            // A `Test…Race` reproduces a data race for the race detector,
            // which fails it.
            let race_test = name_text.ends_with("Race");
            if ASSERTION.is_match(body) || m.calls_helper(body) || passes_on(body, t.as_bytes()) || race_test || super::states_no_failure(&name_text, &format!("{}{}", doc_above(src, whole.start()), src.original(open, open + body.len()))) {
                continue;
            }
            let name = String::from_utf8_lossy(name.as_bytes());
            let message = format!("test `{name}` never reports a failure: no t.Error*/t.Fatal*, require/assert, or helper given {}", String::from_utf8_lossy(t.as_bytes()));
            out.push(Raw::new(GO_TEST, whole.start(), message, format!("func {name}")));
        }
    }
}

/// Whether the body hands its *testing.T to a call (`check(t, …)`), which
/// can then fail the test: the usual Go helper style.
fn passes_on(body: &[u8], t: &[u8]) -> bool {
    let mut at = 0;
    while let Some(p) = memchr::memmem::find(&body[at..], t) {
        let p = at + p;
        let before = body[..p].trim_ascii_end().last();
        let after = body[p + t.len()..].trim_ascii_start().first();
        if matches!(before, Some(b'(' | b',')) && matches!(after, Some(b',' | b')')) {
            return true;
        }
        at = p + t.len();
    }
    false
}

/// The comment lines right above a declaration (Go's doc comment).
fn doc_above(src: &Source, decl: usize) -> String {
    let mut line = src.line_of(decl);
    let mut text = Vec::new();
    while line > 1 {
        line -= 1;
        let t = src.line_text(line);
        if !t.trim_start().starts_with("//") {
            break;
        }
        text.push(t.into_owned());
    }
    text.reverse();
    text.join("\n")
}
