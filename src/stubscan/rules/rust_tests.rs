//! The Rust rule for tests that cannot fail: what in a `#[test]` can fail
//! it, and what this file offers other files' tests — its asserting
//! helpers and check macros, its compile-time assertions.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::calls::calls;
use super::rust::{cfg_test_modules, inside, TEST_ATTR};
use super::{asserting_defs, called_names, re, Checked, Matchers, Raw, RUST_TEST};
use crate::stubscan::source::Source;
use crate::stubscan::spans::FnSpan;

/// Judge the file's tests (when `has_tests`) and collect what other files'
/// tests may call: everything asserting when the file is test `support`,
/// else what its #[cfg(test)] modules hold, and its compile-time
/// assertions and check macros wherever they are.
pub fn check(src: &Source, fns: &[FnSpan], streams: &[(usize, usize)], has_tests: bool, support: bool, m: &Matchers, checked: &mut Checked) {
    let macros = macros(src);
    if !has_tests && !support && cfg_test_modules(src).is_empty() {
        offers(src, fns, &macros, m, checked);
        return;
    }
    let defs = definitions(fns, &macros);
    // What other files' tests may call: everything here when the
    // file is test support, else what its #[cfg(test)] modules hold.
    let test_mods = cfg_test_modules(src);
    let test_code = |open: usize| support || test_mods.iter().any(|&(o, e)| o < open && open < e);
    let mut local = asserting_defs(&defs, &src.code, |open, b| helper_asserts(b, m, test_code(open)));
    // A generic function with an empty body is a compile-time
    // assertion (`fn assert_send<T: Send>() {}`): calling it checks
    // a bound, wherever it is defined.
    let static_assertions: Vec<&FnSpan> = fns.iter().filter(|f| is_static_assertion(src, f)).collect();
    local.extend(static_assertions.iter().map(|f| f.name.as_str()));
    let drops = asserting_drops(src, m);
    local.extend(drops.iter().map(String::as_str));
    if has_tests {
        local.extend(expected_to_panic(src, fns));
        tests(src, fns, streams, &local, m, &mut checked.raw);
    }
    let mut names: Vec<String> = defs.iter().filter(|d| local.contains(d.0.as_str()) && test_code(d.1)).map(|d| d.0.clone()).collect();
    names.extend(fns.iter().filter(|f| local.contains(f.name.as_str()) && test_code(f.open)).map(|f| f.name.clone()));
    names.extend(static_assertions.iter().map(|f| f.name.clone()));
    // A macro that asserts is a check macro wherever it is defined.
    names.extend(macros.iter().filter(|mac| local.contains(mac.name.as_str())).map(|mac| mac.name.clone()));
    checked.exported = macros.iter().filter(|mac| mac.exported && local.contains(mac.name.as_str())).map(|mac| format!("macro:{}", mac.name)).collect();
    names.sort_unstable();
    names.dedup();
    checked.asserting = names;
}

/// What a file without tests offers other files' tests: its compile-time
/// assertions and asserting macros (helpers of library code are no checks).
fn offers(src: &Source, fns: &[FnSpan], macros: &[Macro], m: &Matchers, checked: &mut Checked) {
    let defs = definitions(&[], macros);
    let asserting = asserting_defs(&defs, &src.code, |_, b| helper_asserts(b, m, false));
    checked.asserting = fns.iter().filter(|f| is_static_assertion(src, f)).map(|f| f.name.clone()).chain(asserting.iter().map(|s| s.to_string())).collect();
    checked.asserting.sort_unstable();
    checked.asserting.dedup();
    checked.exported = macros.iter().filter(|mac| mac.exported && asserting.contains(mac.name.as_str())).map(|mac| format!("macro:{}", mac.name)).collect();
}

/// The compile-time assertion functions of a file read without lexing
/// (generic, bounded, empty body), for files that offer nothing else.
pub fn static_assertions_unlexed(text: &[u8]) -> Vec<String> {
    static STATIC_FN: LazyLock<Regex> = LazyLock::new(|| re(r"\bfn\s+([A-Za-z_]\w*)\s*(<[^{;]*)\{\s*\}"));
    let mut names: Vec<String> = STATIC_FN
        .captures_iter(text)
        .filter_map(|c| {
            let (name, signature) = (c.get(1)?, c.get(2)?);
            let s = signature.as_bytes();
            (s.contains(&b':') || s.windows(5).any(|w| w == b"where")).then(|| String::from_utf8_lossy(name.as_bytes()).into_owned())
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

static MACRO_RULES: LazyLock<Regex> = LazyLock::new(|| re(r"\bmacro_rules!\s*([A-Za-z_]\w*)\s*([(\[{])"));
/// Macros that fail a test: any named *assert* or *snapshot* (assert_eq!,
/// prop_assert!, insta's assert_snapshot!, a crate's own snapshot!), and
/// panic!/unreachable!, anyhow's bail!/ensure!. Group 1 is the name.
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\w*(?:assert|snapshot)\w*|panic|unreachable|bail|ensure)!"));
/// Methods that panic when the result under test is not what the test
/// expects (`expect*` is an assertion prefix already).
const PANICKING_METHODS: &[&[u8]] = &[b"unwrap", b"unwrap_err", b"unwrap_none", b"compile_fail"];
/// Harnesses that compare against expectations on disk and fail the test:
/// trybuild's compile-fail suites, macrotest's expansion snapshots.
const HARNESSES: &[&[u8]] = &[b"TestCases::new", b"macrotest::expand"];
/// Property-test runners that panic when a property returns false.
const PROPERTY_RUNNERS: &[&[u8]] = &[b"quickcheck", b"proptest"];
/// A nested `fn` the test defines: named like an assertion, it is a
/// compile-time check (`fn _check(_: &dyn Trait) {}` proves object safety).
static NESTED_FN: LazyLock<Regex> = LazyLock::new(|| re(r"\bfn\s+([A-Za-z_]\w*)"));
/// `let _: Type = expr;` (or without `= expr`): a binding that exists
/// only to state a type, checked at compile time.
static TYPED_DISCARD: LazyLock<Regex> = LazyLock::new(|| re(r"\blet\s+_\s*:"));
/// `while f() != x {}`: the test waits for the code to produce a value
/// and fails by never ending when it cannot.
static AWAITS_VALUE: LazyLock<Regex> = LazyLock::new(|| re(r"\bwhile\b[^{};]*(?:!=|==)[^{};]*\{\s*\}"));
/// `ignore = "reason"`, bare or inside `cfg_attr(…)`.
static IGNORE_REASON: LazyLock<Regex> = LazyLock::new(|| re(r#"\bignore\s*=\s*"[^"]*[^"\s][^"]*""#));
/// `#![deny(…)]`/`#![forbid(…)]` in a test body: the build fails when the
/// code it holds triggers the lint, a compile-time check.
static LINT_LEVEL: LazyLock<Regex> = LazyLock::new(|| re(r"#!\[\s*(?:deny|forbid)\s*\("));
/// Functions and `macro_rules!` macros of the file as (name, body open,
/// body end).
fn definitions(fns: &[FnSpan], macros: &[Macro]) -> Vec<(String, usize, usize)> {
    fns.iter().map(|f| (f.name.clone(), f.open, f.end)).chain(macros.iter().map(|m| (m.name.clone(), m.open, m.end))).collect()
}

/// A `macro_rules!` macro: name, body, and whether `#[macro_export]`
/// makes it callable from other crates.
struct Macro {
    name: String,
    open: usize,
    end: usize,
    exported: bool,
}

fn macros(src: &Source) -> Vec<Macro> {
    MACRO_RULES
        .captures_iter(&src.code)
        .filter_map(|c| {
            let (whole, name, open) = (c.get(0)?, c.get(1)?, c.get(2)?);
            let head_start = src.code[..whole.start()].iter().rposition(|&b| matches!(b, b';' | b'{' | b'}')).map_or(0, |p| p + 1);
            let exported = memchr::memmem::find(&src.code[head_start..whole.start()], b"macro_export").is_some();
            Some(Macro { name: String::from_utf8_lossy(name.as_bytes()).into_owned(), open: open.start(), end: src.group_end(open.start()), exported })
        })
        .collect()
}

/// Types whose `Drop` asserts (a drop-order checker): a test that builds
/// one checks when it goes out of scope.
fn asserting_drops(src: &Source, m: &Matchers) -> Vec<String> {
    static DROP_IMPL: LazyLock<Regex> = LazyLock::new(|| re(r"\bimpl\b[^{;]*?\bDrop\s+for\s+([A-Za-z_]\w*)[^{;]*(\{)"));
    DROP_IMPL
        .captures_iter(&src.code)
        .filter_map(|c| {
            let (name, open) = (c.get(1)?, c.get(2)?);
            helper_asserts(&src.code[open.start()..src.block_end(open.start())], m, false).then(|| String::from_utf8_lossy(name.as_bytes()).into_owned())
        })
        .collect()
}

/// An empty function that only checks types at compile time: generic
/// with bounds (`fn assert_send<T: Send>() {}`), or taking arguments it
/// ignores (`fn is_str(_: &str) {}` proves a coercion at the call).
fn is_static_assertion(src: &Source, f: &FnSpan) -> bool {
    let empty = src.code.get(f.open + 1..f.end.saturating_sub(1)).is_none_or(|b| b.iter().all(u8::is_ascii_whitespace));
    let signature = &src.code[f.start..f.open];
    empty && (signature.windows(5).any(|w| w == b"where") || signature.contains(&b':') && signature.contains(&b'<') || ignores_its_arguments(signature))
}

/// Whether every parameter of the signature is a typed `_` pattern.
fn ignores_its_arguments(signature: &[u8]) -> bool {
    let Some(open) = signature.iter().position(|&b| b == b'(') else { return false };
    let Some(close) = signature.iter().rposition(|&b| b == b')') else { return false };
    let params = String::from_utf8_lossy(&signature[open + 1..close.max(open + 1)]);
    let params: Vec<&str> = params.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    !params.is_empty() && params.iter().all(|p| p.starts_with('_') && p.contains(':'))
}

/// Whether a test body can fail by itself: an assertion or snapshot
/// macro, a call named like an assertion, `unwrap`/`unwrap_err` (they
/// panic on the wrong result), a trybuild compile-fail harness, or a
/// configured helper.
fn body_asserts(body: &[u8], m: &Matchers) -> bool {
    ASSERTION.is_match(body)
        || m.calls_helper(body)
        || HARNESSES.iter().any(|h| memchr::memmem::find(body, h).is_some())
        || calls(body).iter().any(|c| (!c.is_macro && (m.is_assertion_call(c.name) || names_assert(c.name))) || (c.qualified && PANICKING_METHODS.contains(&c.name)) || PROPERTY_RUNNERS.contains(&c.name))
        || NESTED_FN.captures_iter(body).any(|c| c.get(1).is_some_and(|n| m.is_assertion_call(n.as_bytes())))
        || LINT_LEVEL.is_match(body)
        || TYPED_DISCARD.is_match(body)
        || AWAITS_VALUE.is_match(body)
}

/// The identifiers of a code mask.
fn words(code: &[u8]) -> impl Iterator<Item = &[u8]> {
    code.split(|&b| !(b.is_ascii_alphanumeric() || b == b'_')).filter(|w| !w.is_empty())
}

/// A call with `assert` as a word of its name (`cmd.debug_assert()`,
/// `soft_assert(…)`): an assertion, wherever the word sits.
fn names_assert(name: &[u8]) -> bool {
    name.split(|&b| b == b'_').any(|w| w == b"assert")
}

/// A helper asserts as a test body does, but `debug_assert!`s (library
/// invariants) do not make a function an assertion helper, and an
/// `unwrap()` only does in test code (`fn req(s) { parse(s).unwrap() }` in
/// tests/util), where it is there to fail the test.
fn helper_asserts(body: &[u8], m: &Matchers, test_code: bool) -> bool {
    let macro_asserts = ASSERTION.captures_iter(body).any(|c| c.get(1).is_some_and(|n| !n.as_bytes().starts_with(b"debug_")));
    macro_asserts
        || m.calls_helper(body)
        || calls(body).iter().any(|c| (!c.is_macro && m.is_assertion_call(c.name)) || (test_code && c.qualified && PANICKING_METHODS.contains(&c.name)))
}

/// What the file's `#[should_panic]` tests call to panic: the outer call
/// of a one-statement body (`block_in_place(…)` on the wrong runtime), or
/// a function of the file called last. A test making the same call
/// without `should_panic` checks that it does not panic there (`new("_")`
/// beside `new("255")`, which must).
fn expected_to_panic<'f>(src: &'f Source, fns: &'f [FnSpan]) -> Vec<&'f str> {
    let code = &src.code;
    let mut out = Vec::new();
    for attr in TEST_ATTR.find_iter(code) {
        let Some(f) = fns.get(fns.partition_point(|f| f.start < attr.end())) else { continue };
        let item_start = code[..attr.start()].iter().rposition(|&b| matches!(b, b'}' | b';' | b'{')).map_or(0, |p| p + 1);
        if !code[item_start..f.start].windows(12).any(|w| w == b"should_panic") {
            continue;
        }
        let inner = code[f.open + 1..f.end.saturating_sub(1)].trim_ascii_end();
        let inner = inner.strip_suffix(b";").unwrap_or(inner);
        let last = inner.iter().rposition(|&b| b == b';' || b == b'}').map_or(inner, |p| &inner[p + 1..]);
        let statements = code[f.open + 1..f.end.saturating_sub(1)].iter().filter(|&&b| b == b';').count();
        if statements <= 1 {
            if let Some(c) = calls(inner).into_iter().find(|c| !c.is_macro) {
                out.extend(std::str::from_utf8(c.name).ok());
            }
            continue;
        }
        for c in calls(last) {
            if let Some(g) = fns.iter().find(|g| g.name.as_bytes() == c.name && g.start != f.start) {
                out.push(g.name.as_str());
            }
        }
    }
    out
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
        // An empty test ignored with a reason stands in for one that needs
        // another configuration (`ignore = "requires nightly"`).
        if body[1..].iter().all(|b| b.is_ascii_whitespace() || *b == b'}') && IGNORE_REASON.is_match(src.original(item_start, f.start).as_bytes()) {
            continue;
        }
        let result_test = signature.windows(2).any(|w| w == b"->") && signature.windows(6).any(|w| w == b"Result");
        if body_asserts(body, m) || (result_test && body.contains(&b'?')) || in_proptest(src, attr.start()) {
            continue;
        }
        // An asserting function of the file named in the body is called
        // through it (`call_for_all_types!(check_endian, …)`).
        if words(body).any(|w| std::str::from_utf8(w).is_ok_and(|w| local.contains(w))) {
            continue;
        }
        // A nested empty function taking `&dyn Trait` proves at compile
        // time that the trait is object safe.
        if fns.iter().any(|g| g.start > f.open && g.end <= f.end && is_static_assertion(src, g) && code[g.start..g.open].windows(3).any(|w| w == b"dyn")) {
            continue;
        }
        if calls(body).iter().any(|c| std::str::from_utf8(c.name).is_ok_and(|n| local.contains(n))) || super::states_no_failure(&f.name, &src.original(f.open, f.end)) {
            continue;
        }
        let mut raw = Raw::new(RUST_TEST, attr.start(), format!("test `{}` has no assertion: nothing in it can fail", f.name), format!("fn {}", f.name));
        raw.calls = called_names(body);
        // Macros of other crates resolve as `macro:name` (see `offers`).
        raw.calls.extend(calls(body).iter().filter(|c| c.is_macro).filter_map(|c| std::str::from_utf8(c.name).ok()).map(|n| format!("macro:{n}")));
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

