//! C# rules: `throw new NotImplementedException`, skipped tests without a
//! reason, and test methods with no assertion or only trivial ones.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{family, literal_text, re, Matchers, Raw, CS_NOT_IMPLEMENTED, CS_SKIP, CS_TEST, CS_TRIVIAL};
use crate::stubscan::source::Source;

static NOT_IMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| re(r"\bthrow\s+new\s+(?:System\s*\.\s*)?NotImplementedException\b"));
/// `Skip = "…"` in a [Fact]/[Theory]; group 1 is the quote.
static SKIP: LazyLock<Regex> = LazyLock::new(|| re(r#"\[\s*(?:Fact|Theory|SkippableFact|SkippableTheory)\s*\([^\]]*?\bSkip\s*=\s*(?:(")|null\b)"#));
/// `[Ignore]`, `[Ignore()]` or `[Ignore("…")]`; group 1 is the quote.
static IGNORE: LazyLock<Regex> = LazyLock::new(|| re(r#"\[\s*Ignore\s*(?:\(\s*(?:(")[^"\n]*")?\s*\))?\s*[\],]"#));
static TEST_ATTR: LazyLock<Regex> = LazyLock::new(|| re(r"\[\s*(?:Fact|Theory|Test|TestMethod|TestCase|SkippableFact|SkippableTheory)\b"));
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| re(r"\b\w*Assert\w*\s*\.\s*\w+\s*(?:<[^>;]*>\s*)?\(|\.\s*Should\w*\s*\(|\.\s*Verify\w*\s*\(|\bthrow\b"));
static TRIVIAL: LazyLock<Regex> =
    LazyLock::new(|| re(r"\bAssert\s*\.\s*(?:(?:True|IsTrue)\s*\(\s*true|(?:False|IsFalse)\s*\(\s*false|Pass\s*\()\s*\)"));

pub fn check(src: &Source, has: impl Fn(usize) -> bool, m: &Matchers, out: &mut Vec<Raw>) {
    let code = &src.code;
    if has(family::PLACEHOLDER) {
        for hit in NOT_IMPLEMENTED.find_iter(code) {
            out.push(Raw::on_line(src, CS_NOT_IMPLEMENTED, hit.start(), "`throw new NotImplementedException` left in code".into()));
        }
    }
    if has(family::SKIP) {
        for re in [&*SKIP, &*IGNORE] {
            for c in re.captures_iter(code) {
                let Some(whole) = c.get(0) else { continue };
                if c.get(1).is_none_or(|q| literal_text(src, q.start()).trim().is_empty()) {
                    out.push(Raw::on_line(src, CS_SKIP, whole.start(), "test skipped without a reason".into()));
                }
            }
        }
    }
    if has(family::TEST) {
        tests(src, m, out);
    }
}

fn tests(src: &Source, m: &Matchers, out: &mut Vec<Raw>) {
    let code = &src.code;
    let mut last_body = None;
    for attr in TEST_ATTR.find_iter(code) {
        let Some((name, body)) = method_after(src, attr.start()) else { continue };
        // [TestCase] repeats on one method: judge each method once.
        if last_body == Some(body.0) {
            continue;
        }
        last_body = Some(body.0);
        let text = &code[body.0..body.1];
        let asserts = ASSERTION.find_iter(text).count();
        let trivial: Vec<usize> = TRIVIAL.find_iter(text).map(|t| body.0 + t.start()).collect();
        if m.calls_helper(text) || (asserts > trivial.len()) {
            continue;
        }
        let key = format!("{name}()");
        if let Some(&first) = trivial.first() {
            out.push(Raw::new(CS_TRIVIAL, first, format!("test `{name}` asserts only what is always true"), key));
        } else {
            out.push(Raw::new(CS_TEST, attr.start(), format!("test `{name}` has no assertion: nothing in it can fail"), key));
        }
    }
}

/// The method declared after the attribute starting at `from` (its `[`, so
/// brackets balance): its name and body (a `{}` block
/// or an `=>` expression up to `;`).
fn method_after(src: &Source, from: usize) -> Option<(String, (usize, usize))> {
    let code = &src.code;
    let mut depth = 0i32;
    let mut last_paren_group = None;
    let mut i = from;
    while i < code.len() {
        match code[i] {
            b'(' if depth == 0 => {
                last_paren_group = Some(i);
                depth += 1;
            }
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b'{' if depth <= 0 => return Some((name_before(code, last_paren_group?), (i, src.block_end(i)))),
            b'=' if depth <= 0 && code.get(i + 1) == Some(&b'>') => {
                let end = code[i..].iter().position(|&b| b == b';').map_or(code.len(), |p| i + p + 1);
                return Some((name_before(code, last_paren_group?), (i, end)));
            }
            b';' if depth <= 0 => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

fn name_before(code: &[u8], paren: usize) -> String {
    let before = code[..paren].trim_ascii_end();
    let start = before.iter().rposition(|&b| !(b.is_ascii_alphanumeric() || b == b'_')).map_or(0, |p| p + 1);
    String::from_utf8_lossy(&before[start..]).into_owned()
}
