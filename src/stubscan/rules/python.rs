//! Python rules: `raise NotImplementedError`, `pass`-only functions, and
//! test functions with no assertion. Abstract methods and overloads are
//! meant to have no body and are left alone.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{family, re, Matchers, Raw, PY_NOT_IMPLEMENTED, PY_PASS, PY_TEST};
use crate::stubscan::source::Source;
use crate::stubscan::spans::{python_defs, FnSpan};

static NOT_IMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| re(r"\braise\s+NotImplementedError\b"));
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\bassert\b|\bself\s*\.\s*(?:assert\w*|fail\w*)\s*\(|\bpytest\s*\.\s*(?:raises|fail|warns)\b|\.\s*assert_\w+\s*\(|\braise\b")
});
static DECORATOR: LazyLock<Regex> = LazyLock::new(|| re(r"@\s*(?:\w+\s*\.\s*)*(abstractmethod|overload)\b"));

pub fn check(src: &Source, has: impl Fn(usize) -> bool, m: &Matchers, out: &mut Vec<Raw>) {
    if !has(family::PLACEHOLDER) && !has(family::TEST) {
        return;
    }
    let defs = python_defs(src);
    if has(family::PLACEHOLDER) {
        for hit in NOT_IMPLEMENTED.find_iter(&src.code) {
            let innermost = defs.iter().rev().find(|d| d.open < hit.start() && hit.start() < d.end);
            if innermost.is_some_and(|d| is_abstract(src, d)) {
                continue;
            }
            out.push(Raw::on_line(src, PY_NOT_IMPLEMENTED, hit.start(), "`raise NotImplementedError` left in code".into()));
        }
        for d in &defs {
            let body: String = src.code_str(d.open + 1, d.end).chars().filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'').collect();
            if body == "pass" && !is_abstract(src, d) {
                out.push(Raw { rule: PY_PASS, at: d.start, message: format!("`{}` has only `pass` for a body", d.name), key: format!("def {}", d.name) });
            }
        }
    }
    if has(family::TEST) {
        for d in defs.iter().filter(|d| d.name.starts_with("test")) {
            let body = &src.code[d.open..d.end];
            if ASSERTION.is_match(body) || m.calls_helper(body) {
                continue;
            }
            out.push(Raw {
                rule: PY_TEST,
                at: d.start,
                message: format!("test `{}` has no assertion: nothing in it can fail", d.name),
                key: format!("def {}", d.name),
            });
        }
    }
}

/// Whether the decorators right above the def say it has no body on
/// purpose (@abstractmethod, @overload).
fn is_abstract(src: &Source, d: &FnSpan) -> bool {
    let mut line = src.line_of(d.start);
    while line > 1 {
        line -= 1;
        let text = src.line_text(line);
        let t = text.trim();
        if !t.starts_with('@') {
            return false;
        }
        if DECORATOR.is_match(t.as_bytes()) {
            return true;
        }
    }
    false
}
