//! TypeScript and JavaScript rules: `throw new Error("not implemented")`
//! and it()/test() callbacks with no assertion.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{family, re, says_placeholder, Matchers, Raw, TS_TEST, TS_THROW};
use crate::stubscan::source::Source;

static THROW: LazyLock<Regex> = LazyLock::new(|| re(r"\bthrow\s+new\s+\w*Error\s*(\()"));
/// `it("…", …)` / `test('…', …)`, with .only/.concurrent; group 1 is the
/// call's `(`.
static TEST_CALL: LazyLock<Regex> = LazyLock::new(|| re(r#"\b(?:it|test)(?:\s*\.\s*(?:only|concurrent))?\s*(\()\s*["'`]"#));
static CALLBACK: LazyLock<Regex> = LazyLock::new(|| re(r"=>|\bfunction\b"));
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| re(r"\bexpect\w*\s*[(.]|\bassert\w*\s*[(.]|\.\s*should\b|\bt\s*\.\s*\w+\s*\(|\bthrow\b"));

pub fn check(src: &Source, has: impl Fn(usize) -> bool, m: &Matchers, out: &mut Vec<Raw>) {
    let code = &src.code;
    if has(family::PLACEHOLDER) {
        for c in THROW.captures_iter(code) {
            let (Some(whole), Some(open)) = (c.get(0), c.get(1)) else { continue };
            if says_placeholder(&super::call_args(src, open.start())) {
                out.push(Raw::on_line(src, TS_THROW, whole.start(), "`throw new Error` says the code is not implemented".into()));
            }
        }
    }
    if has(family::TEST) {
        for c in TEST_CALL.captures_iter(code) {
            let (Some(whole), Some(open)) = (c.get(0), c.get(1)) else { continue };
            let call_end = src.group_end(open.start());
            let args = &code[open.start()..call_end];
            // No callback (`it.todo`-style declarations): nothing to judge.
            let Some(cb) = CALLBACK.find(args) else { continue };
            let from = open.start() + cb.end();
            let body = match src.body_open(from, false) {
                Some(b) if b < call_end => &code[b..src.block_end(b)],
                _ => &code[from..call_end],
            };
            if ASSERTION.is_match(body) || m.calls_helper(body) {
                continue;
            }
            let name = super::literal_text(src, whole.end() - 1);
            out.push(Raw {
                rule: TS_TEST,
                at: whole.start(),
                message: format!("test \"{name}\" has no assertion: nothing in it can fail"),
                key: format!("test {name}"),
            });
        }
    }
}
