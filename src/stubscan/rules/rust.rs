//! Rust rules: `todo!`, `unimplemented!`, placeholder panics, default-value
//! bodies marked unfinished, `#[ignore]` without a reason, and tests that
//! cannot fail. Token streams (`quote!`, `macro_rules!` bodies) are not
//! code and hold no findings.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::calls::calls;
use super::{
    asserting_defs, called_names, family, re, says_placeholder, Checked, Matchers, Raw, RUST_DEFAULT_BODY, RUST_IGNORE, RUST_PANIC, RUST_TEST, RUST_TODO, RUST_UNIMPLEMENTED,
};
use crate::stubscan::source::Source;
use crate::stubscan::spans::{rust_fns, FnSpan};

static TODO: LazyLock<Regex> = LazyLock::new(|| re(r"\btodo!\s*[(\[{]"));
static UNIMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| re(r"\bunimplemented!\s*[(\[{]"));
static PANIC: LazyLock<Regex> = LazyLock::new(|| re(r"\b(panic|unreachable)!\s*([(\[{])"));
static IGNORE: LazyLock<Regex> = LazyLock::new(|| re(r#"#\[\s*ignore\s*(?:=\s*(")[^"\n]*")?\s*\]"#));
static TEST_ATTR: LazyLock<Regex> = LazyLock::new(|| re(r"#\[\s*(?:[A-Za-z_]\w*::)*test\s*(?:\([^\]]*\))?\s*\]"));
/// Macros whose argument is a token stream, not code: `quote!` and its
/// kin build code for a proc macro, `macro_rules!` bodies are templates.
static TOKEN_STREAM: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(?:(?:quote|quote_spanned|parse_quote|parse_quote_spanned)\s*!|macro_rules!\s*[A-Za-z_]\w*)\s*([(\[{])"));
static MACRO_RULES: LazyLock<Regex> = LazyLock::new(|| re(r"\bmacro_rules!\s*([A-Za-z_]\w*)\s*([(\[{])"));
static CFG_TEST_MOD: LazyLock<Regex> = LazyLock::new(|| re(r"#\[\s*cfg\s*\(\s*test\s*\)\s*\](?:\s*#\[[^\]]*\])*\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*(\{)"));
/// Macros that fail a test: any named *assert* or *snapshot* (assert_eq!,
/// prop_assert!, insta's assert_snapshot!, a crate's own snapshot!), and
/// panic!/unreachable!, anyhow's bail!/ensure!. Group 1 is the name.
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\w*(?:assert|snapshot)\w*|panic|unreachable|bail|ensure)!"));
/// Methods that panic when the result under test is not what the test
/// expects (`expect*` is an assertion prefix already).
const PANICKING_METHODS: &[&[u8]] = &[b"unwrap", b"unwrap_err", b"unwrap_none", b"compile_fail"];
/// Property-test runners that panic when a property returns false.
const PROPERTY_RUNNERS: &[&[u8]] = &[b"quickcheck", b"proptest"];
/// A nested `fn` the test defines: named like an assertion, it is a
/// compile-time check (`fn _check(_: &dyn Trait) {}` proves object safety).
static NESTED_FN: LazyLock<Regex> = LazyLock::new(|| re(r"\bfn\s+([A-Za-z_]\w*)"));
/// What a placeholder body returns, alone or wrapped in `Ok`/`Some`.
static DEFAULT_BODY: LazyLock<Regex> = LazyLock::new(|| {
    let value = r#"(?:[A-Za-z_][\w:<>]*::)?default\(\)|[A-Za-z_][\w:<>]*::new\(\)|0|0\.0|false|true|None|\(\)|""|vec!\[\]"#;
    re(&format!(r"\A(?:(?:Ok|Some)\(\s*(?:{value})\s*\)|{value})?\z"))
});
/// A comment that says the code around it is unfinished.
static UNFINISHED: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(?:TODO|FIXME|XXX)\b|(?i)\bstub\b|\bplaceholder\b|not\s+(?:yet\s+)?implemented|\bunimplemented\b"));

pub fn check(src: &Source, has: impl Fn(usize) -> bool, support: bool, m: &Matchers, checked: &mut Checked, claimed: &mut Vec<usize>) {
    let code = &src.code;
    let streams = token_streams(src);
    let out = &mut checked.raw;
    if has(family::PLACEHOLDER) {
        let doubles = TestDoubles::new(src, support);
        for hit in TODO.find_iter(code).filter(|h| !doubles.holds(h.start())) {
            out.push(Raw::on_line(src, RUST_TODO, hit.start(), "`todo!()` left in code".into()));
        }
        for hit in UNIMPLEMENTED.find_iter(code).filter(|h| !doubles.holds(h.start())) {
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
            // A comment on the attribute's line or the line above gives
            // the reason to a reader, if not to the test runner.
            let line = src.line_of(whole.start());
            let commented = src.comments.iter().any(|c| c.line && (src.line_of(c.start) == line || src.line_of(c.start) + 1 == line));
            if empty && !commented {
                out.push(Raw::on_line(src, RUST_IGNORE, whole.start(), "`#[ignore]` without a reason: write `#[ignore = \"why\"]`".into()));
            }
        }
    }
    let needs_fns = has(family::TEST) || has(family::COMMENT) || support;
    if needs_fns {
        let fns = rust_fns(src);
        if has(family::TEST) || support {
            let defs = definitions(src, &fns);
            let mut local = asserting_defs(&defs, code, |b| helper_asserts(b, m));
            // A generic function with an empty body is a compile-time
            // assertion (`fn assert_send<T: Send>() {}`): calling it checks
            // a bound.
            local.extend(fns.iter().filter(|f| is_static_assertion(src, f)).map(|f| f.name.as_str()));
            if has(family::TEST) {
                tests(src, &fns, &streams, &local, m, out);
            }
            // What other files' tests may call: everything here when the
            // file is test support, else what its #[cfg(test)] modules hold.
            let test_mods = cfg_test_modules(src);
            let exported = |open: usize| support || test_mods.iter().any(|&(o, e)| o < open && open < e);
            let mut names: Vec<String> = defs.iter().filter(|d| local.contains(d.0.as_str()) && exported(d.1)).map(|d| d.0.clone()).collect();
            names.extend(fns.iter().filter(|f| local.contains(f.name.as_str()) && exported(f.open)).map(|f| f.name.clone()));
            names.sort_unstable();
            names.dedup();
            checked.asserting = names;
        }
        if has(family::COMMENT) {
            default_bodies(src, &fns, out, claimed);
        }
    }
    // Token streams are not code: nothing in them is a finding.
    out.retain(|r| !inside(&streams, r.at));
}

/// Test code's `todo!()`/`unimplemented!()` inside a test double — a
/// closure or a method the test never calls ("not needed here") — is no
/// placeholder; one directly in a `#[test]` body is.
struct TestDoubles {
    /// Test code: the whole file (test support) or its #[cfg(test)] modules.
    regions: Vec<(usize, usize)>,
    fns: Vec<FnSpan>,
    tests: Vec<usize>,
    code: Vec<u8>,
}

impl TestDoubles {
    fn new(src: &Source, support: bool) -> TestDoubles {
        let regions = if support { vec![(0, src.code.len())] } else { cfg_test_modules(src) };
        if regions.is_empty() {
            return TestDoubles { regions, fns: Vec::new(), tests: Vec::new(), code: Vec::new() };
        }
        let fns = rust_fns(src);
        let tests = TEST_ATTR.find_iter(&src.code).filter_map(|a| fns.get(fns.partition_point(|f| f.start < a.end())).map(|f| f.start)).collect();
        TestDoubles { regions, fns, tests, code: src.code.clone() }
    }

    fn holds(&self, at: usize) -> bool {
        if !inside(&self.regions, at) {
            return false;
        }
        let innermost = self.fns.iter().filter(|f| f.open < at && at < f.end).max_by_key(|f| f.open);
        let Some(f) = innermost else { return true };
        // In a test's own body only a closure (`|_| todo!()`, never
        // called) is a double.
        !self.tests.contains(&f.start) || self.in_closure(at)
    }

    fn in_closure(&self, at: usize) -> bool {
        let line_start = self.code[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        self.code[line_start..at].contains(&b'|')
    }
}

/// `(open, end)` of every token-stream macro argument, ordered.
fn token_streams(src: &Source) -> Vec<(usize, usize)> {
    if !src.text.windows(5).any(|w| w == b"quote" || w == b"macro") {
        return Vec::new();
    }
    TOKEN_STREAM.captures_iter(&src.code).filter_map(|c| c.get(1)).map(|o| (o.start(), src.group_end(o.start()))).collect()
}

fn inside(regions: &[(usize, usize)], at: usize) -> bool {
    regions.iter().any(|&(o, e)| o < at && at < e)
}

/// Bodies of `#[cfg(test)] mod x { … }`.
fn cfg_test_modules(src: &Source) -> Vec<(usize, usize)> {
    CFG_TEST_MOD.captures_iter(&src.code).filter_map(|c| c.get(1)).map(|o| (o.start(), src.block_end(o.start()))).collect()
}

/// Functions and `macro_rules!` macros of the file as (name, body open,
/// body end).
fn definitions(src: &Source, fns: &[FnSpan]) -> Vec<(String, usize, usize)> {
    let macros = MACRO_RULES.captures_iter(&src.code).filter_map(|c| {
        let (name, open) = (c.get(1)?, c.get(2)?);
        Some((String::from_utf8_lossy(name.as_bytes()).into_owned(), open.start(), src.group_end(open.start())))
    });
    fns.iter().map(|f| (f.name.clone(), f.open, f.end)).chain(macros).collect()
}

fn is_static_assertion(src: &Source, f: &FnSpan) -> bool {
    let body = src.code_str(f.open + 1, f.end.saturating_sub(1));
    let signature = &src.code[f.start..f.open];
    body.trim().is_empty() && (signature.windows(5).any(|w| w == b"where") || signature.contains(&b':') && signature.contains(&b'<'))
}

/// Whether a test body can fail by itself: an assertion or snapshot
/// macro, a call named like an assertion, `unwrap`/`unwrap_err` (they
/// panic on the wrong result), a trybuild compile-fail harness, or a
/// configured helper.
fn body_asserts(body: &[u8], m: &Matchers) -> bool {
    ASSERTION.is_match(body)
        || m.calls_helper(body)
        || memchr::memmem::find(body, b"TestCases::new").is_some()
        || calls(body).iter().any(|c| (!c.is_macro && m.is_assertion_call(c.name)) || (c.qualified && PANICKING_METHODS.contains(&c.name)) || PROPERTY_RUNNERS.contains(&c.name))
        || NESTED_FN.captures_iter(body).any(|c| c.get(1).is_some_and(|n| m.is_assertion_call(n.as_bytes())))
}

/// A helper asserts as a test body does, but `debug_assert!`s (library
/// invariants) do not make a function an assertion helper.
fn helper_asserts(body: &[u8], m: &Matchers) -> bool {
    let macro_asserts = ASSERTION.captures_iter(body).any(|c| c.get(1).is_some_and(|n| !n.as_bytes().starts_with(b"debug_")));
    macro_asserts || m.calls_helper(body) || calls(body).iter().any(|c| !c.is_macro && m.is_assertion_call(c.name))
}

fn tests(src: &Source, fns: &[FnSpan], streams: &[(usize, usize)], local: &HashSet<&str>, m: &Matchers, out: &mut Vec<Raw>) {
    let code = &src.code;
    for attr in TEST_ATTR.find_iter(code) {
        if inside(streams, attr.start()) {
            continue;
        }
        // The test is the first function after the attribute, with only
        // attributes and qualifiers between.
        let Some(f) = fns.get(fns.partition_point(|f| f.start < attr.end())) else { continue };
        let between = &code[attr.end()..f.start];
        if between.contains(&b'{') || between.contains(&b';') {
            continue;
        }
        // A #[test] inside another function's body is never run.
        if fns.iter().any(|g| g.open < f.start && f.start < g.end) {
            continue;
        }
        // `#[should_panic]` may come before or after `#[test]`.
        let item_start = code[..attr.start()].iter().rposition(|&b| matches!(b, b'}' | b';' | b'{')).map_or(0, |p| p + 1);
        if code[item_start..f.start].windows(12).any(|w| w == b"should_panic") {
            continue;
        }
        let signature = &code[f.start..f.open];
        let body = &code[f.open..f.end];
        let result_test = signature.windows(2).any(|w| w == b"->") && signature.windows(6).any(|w| w == b"Result");
        if body_asserts(body, m) || (result_test && body.contains(&b'?')) || in_proptest(src, attr.start()) {
            continue;
        }
        if calls(body).iter().any(|c| std::str::from_utf8(c.name).is_ok_and(|n| local.contains(n))) || super::states_no_failure(&f.name, &src.original(f.open, f.end)) {
            continue;
        }
        let mut raw = Raw::new(RUST_TEST, attr.start(), format!("test `{}` has no assertion: nothing in it can fail", f.name), format!("fn {}", f.name));
        raw.calls = called_names(body);
        out.push(raw);
    }
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
        out.push(Raw::new(RUST_DEFAULT_BODY, f.start, format!("`{}` only returns {shown} and a comment says it is unfinished", f.name), format!("fn {}", f.name)));
    }
}
