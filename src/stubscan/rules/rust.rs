//! Rust rules: `todo!`, `unimplemented!`, placeholder panics, default-value
//! bodies marked unfinished, `#[ignore]` without a reason, and tests that
//! cannot fail.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{family, re, says_placeholder, Matchers, Raw, RUST_DEFAULT_BODY, RUST_IGNORE, RUST_PANIC, RUST_TEST, RUST_TODO, RUST_UNIMPLEMENTED};
use crate::stubscan::source::Source;
use crate::stubscan::spans::{rust_fns, FnSpan};

static TODO: LazyLock<Regex> = LazyLock::new(|| re(r"\btodo!\s*[(\[{]"));
static UNIMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| re(r"\bunimplemented!\s*[(\[{]"));
static PANIC: LazyLock<Regex> = LazyLock::new(|| re(r"\b(panic|unreachable)!\s*([(\[{])"));
static IGNORE: LazyLock<Regex> = LazyLock::new(|| re(r#"#\[\s*ignore\s*(?:=\s*(")[^"\n]*")?\s*\]"#));
static TEST_ATTR: LazyLock<Regex> = LazyLock::new(|| re(r"#\[\s*(?:[A-Za-z_]\w*::)*test\s*(?:\([^\]]*\))?\s*\]"));
/// A call of a function (`name(`, `name::<T>(`) or macro (`name!(`).
static CALL: LazyLock<Regex> = LazyLock::new(|| re(r"\b([A-Za-z_]\w*)\s*(?:!\s*[(\[{]|(?:::\s*<[^>]*>\s*)?\()"));
static MACRO_RULES: LazyLock<Regex> = LazyLock::new(|| re(r"\bmacro_rules!\s*([A-Za-z_]\w*)\s*([(\[{])"));
/// Any macro named *assert* (assert_eq!, prop_assert!, insta's
/// assert_snapshot!…), and the macros that fail a test or a Result test.
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| re(r"\b\w*assert\w*!|\b(?:panic|unreachable|bail|ensure)!"));
/// What a placeholder body returns, alone or wrapped in `Ok`/`Some`.
static DEFAULT_BODY: LazyLock<Regex> = LazyLock::new(|| {
    let value = r#"(?:[A-Za-z_][\w:<>]*::)?default\(\)|[A-Za-z_][\w:<>]*::new\(\)|0|0\.0|false|true|None|\(\)|""|vec!\[\]"#;
    re(&format!(r"\A(?:(?:Ok|Some)\(\s*(?:{value})\s*\)|{value})?\z"))
});
/// A comment that says the code around it is unfinished.
static UNFINISHED: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(?:TODO|FIXME|XXX)\b|(?i)\bstub\b|\bplaceholder\b|not\s+(?:yet\s+)?implemented|\bunimplemented\b"));

pub fn check(src: &Source, has: impl Fn(usize) -> bool, m: &Matchers, out: &mut Vec<Raw>, claimed: &mut Vec<usize>) {
    let code = &src.code;
    if has(family::PLACEHOLDER) {
        for hit in TODO.find_iter(code) {
            out.push(Raw::on_line(src, RUST_TODO, hit.start(), "`todo!()` left in code".into()));
        }
        for hit in UNIMPLEMENTED.find_iter(code) {
            out.push(Raw::on_line(src, RUST_UNIMPLEMENTED, hit.start(), "`unimplemented!()` left in code".into()));
        }
        for c in PANIC.captures_iter(code) {
            let (Some(name), Some(open)) = (c.get(1), c.get(2)) else { continue };
            if says_placeholder(&super::call_args(src, open.start())) {
                let text = String::from_utf8_lossy(name.as_bytes());
                out.push(Raw::on_line(src, RUST_PANIC, name.start(), format!("`{text}!` says the code is not implemented")));
            }
        }
    }
    if has(family::SKIP) {
        for c in IGNORE.captures_iter(code) {
            let Some(whole) = c.get(0) else { continue };
            let empty = c.get(1).is_none_or(|q| super::literal_text(src, q.start()).trim().is_empty());
            if empty {
                out.push(Raw::on_line(src, RUST_IGNORE, whole.start(), "`#[ignore]` without a reason: write `#[ignore = \"why\"]`".into()));
            }
        }
    }
    let needs_fns = has(family::TEST) || has(family::COMMENT);
    if !needs_fns {
        return;
    }
    let fns = rust_fns(src);
    if has(family::TEST) {
        tests(src, &fns, m, out);
    }
    if has(family::COMMENT) {
        default_bodies(src, &fns, out, claimed);
    }
}

fn tests(src: &Source, fns: &[FnSpan], m: &Matchers, out: &mut Vec<Raw>) {
    let code = &src.code;
    let mut helpers = None;
    for attr in TEST_ATTR.find_iter(code) {
        // The test is the first function after the attribute, with only
        // attributes and qualifiers between.
        let Some(f) = fns.get(fns.partition_point(|f| f.start < attr.end())) else { continue };
        let between = &code[attr.end()..f.start];
        if between.contains(&b'{') || between.contains(&b';') {
            continue;
        }
        if between.windows(12).any(|w| w == b"should_panic") {
            continue;
        }
        let signature = &code[f.start..f.open];
        let body = &code[f.open..f.end];
        let result_test = signature.windows(2).any(|w| w == b"->") && signature.windows(6).any(|w| w == b"Result");
        if ASSERTION.is_match(body) || (result_test && body.contains(&b'?')) || m.calls_helper(body) || in_proptest(src, attr.start()) {
            continue;
        }
        let local = helpers.get_or_insert_with(|| asserting_fns(src, fns, m));
        if calls_any(body, local) {
            continue;
        }
        out.push(Raw {
            rule: RUST_TEST,
            at: attr.start(),
            message: format!("test `{}` has no assertion: nothing in it can fail", f.name),
            key: format!("fn {}", f.name),
        });
    }
}

/// Functions and `macro_rules!` macros of this file that assert, directly
/// or through each other: a test calling one of them can fail.
fn asserting_fns(src: &Source, fns: &[FnSpan], m: &Matchers) -> HashSet<String> {
    let macros = MACRO_RULES.captures_iter(&src.code).filter_map(|c| {
        let (name, open) = (c.get(1)?, c.get(2)?);
        Some((String::from_utf8_lossy(name.as_bytes()).into_owned(), open.start(), src.group_end(open.start())))
    });
    let defs: Vec<(String, usize, usize)> = fns.iter().map(|f| (f.name.clone(), f.open, f.end)).chain(macros).collect();
    let body = |d: &(String, usize, usize)| &src.code[d.1..d.2];
    let mut set: HashSet<String> = defs.iter().filter(|d| ASSERTION.is_match(body(d)) || m.calls_helper(body(d))).map(|d| d.0.clone()).collect();
    loop {
        let more: Vec<String> = defs.iter().filter(|d| !set.contains(&d.0) && calls_any(body(d), &set)).map(|d| d.0.clone()).collect();
        if more.is_empty() {
            return set;
        }
        set.extend(more);
    }
}

fn calls_any(body: &[u8], names: &HashSet<String>) -> bool {
    !names.is_empty() && CALL.captures_iter(body).any(|c| c.get(1).is_some_and(|n| names.contains(&*String::from_utf8_lossy(n.as_bytes()))))
}

/// Whether `at` is inside a `proptest! { … }` block: its tests assert that
/// the code under test never panics on any generated input.
fn in_proptest(src: &Source, at: usize) -> bool {
    let blocks = src.blocks();
    let innermost = blocks[..blocks.partition_point(|b| b.0 < at)].iter().rev().find(|b| b.1 > at);
    innermost.is_some_and(|b| src.code[..b.0].trim_ascii_end().ends_with(b"proptest!"))
}

fn default_bodies(src: &Source, fns: &[FnSpan], out: &mut Vec<Raw>, claimed: &mut Vec<usize>) {
    let marked: Vec<usize> = (0..src.comments.len())
        .filter(|&i| !src.comments[i].doc && UNFINISHED.is_match(src.comment_text(&src.comments[i]).as_bytes()))
        .collect();
    if marked.is_empty() {
        return;
    }
    for f in fns {
        // Marked comments in the body, or on the line right above the `fn`.
        let line_above = src.line_of(f.start).saturating_sub(1);
        let marks: Vec<usize> = marked
            .iter()
            .copied()
            .filter(|&i| {
                let c = &src.comments[i];
                (c.start > f.open && c.start < f.end) || (c.line && c.start < f.start && src.line_of(c.start) == line_above)
            })
            .collect();
        if marks.is_empty() {
            continue;
        }
        let inner = src.code_str(f.open + 1, f.end.saturating_sub(1));
        let value: String = inner.split_whitespace().collect::<Vec<_>>().join(" ");
        if !DEFAULT_BODY.is_match(value.as_bytes()) {
            continue;
        }
        claimed.extend(&marks);
        let shown = if value.is_empty() { "nothing".to_string() } else { format!("`{value}`") };
        out.push(Raw {
            rule: RUST_DEFAULT_BODY,
            at: f.start,
            message: format!("`{}` only returns {shown} and a comment says it is unfinished", f.name),
            key: format!("fn {}", f.name),
        });
    }
}
