//! Rust rules: `todo!`, `unimplemented!` (unless `deliberate`), placeholder
//! panics, default-value bodies marked unfinished, `#[ignore]` without a
//! reason, and tests that cannot fail (`rust_tests`). Token streams
//! (`quote!`, `macro_rules!` bodies) are not code and hold no findings.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::deliberate::{is_deliberate, Kind};
use super::rust_tests;
use super::{family, re, says_placeholder, Checked, Matchers, Raw, RUST_DEFAULT_BODY, RUST_IGNORE, RUST_PANIC, RUST_TODO, RUST_UNIMPLEMENTED};
use crate::stubscan::source::Source;
use crate::stubscan::spans::{rust_fns, FnSpan};

static TODO: LazyLock<Regex> = LazyLock::new(|| re(r"\btodo!\s*[(\[{]"));
static UNIMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| re(r"\bunimplemented!\s*[(\[{]"));
static PANIC: LazyLock<Regex> = LazyLock::new(|| re(r"\b(panic|unreachable)!\s*([(\[{])"));
static IGNORE: LazyLock<Regex> = LazyLock::new(|| re(r#"#\[\s*ignore\s*(?:=\s*(")[^"\n]*")?\s*\]"#));
pub(super) static TEST_ATTR: LazyLock<Regex> = LazyLock::new(|| re(r"#\[\s*(?:[A-Za-z_]\w*::)*test\s*(?:\([^\]]*\))?\s*\]"));
/// Macros whose argument is a token stream, not code: `quote!` and its
/// kin build code for a proc macro, `macro_rules!` bodies are templates.
static TOKEN_STREAM: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(?:(?:quote|quote_spanned|parse_quote|parse_quote_spanned)\s*!|macro_rules!\s*[A-Za-z_]\w*)\s*([(\[{])"));
static CFG_TEST_MOD: LazyLock<Regex> = LazyLock::new(|| re(r"#\[\s*cfg\s*\(\s*test\s*\)\s*\](?:\s*#\[[^\]]*\])*\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*(\{)"));
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
        let doubles = TestDoubles::new(src, support || declares_test_support(src));
        let placeholder = |h: &regex::bytes::Match, kind| !doubles.holds(h.start()) && !is_deliberate(src, h.start(), h.end() - 1, kind);
        for hit in TODO.find_iter(code).filter(|h| placeholder(h, Kind::Todo)) {
            out.push(Raw::on_line(src, RUST_TODO, hit.start(), "`todo!()` left in code".into()));
        }
        for hit in UNIMPLEMENTED.find_iter(code).filter(|h| placeholder(h, Kind::Unimplemented)) {
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
            // A comment on the attribute's line or above the item's
            // attributes gives the reason to a reader, if not to the test
            // runner (doc comments describe the test instead).
            let line = src.line_of(whole.start());
            let item_start = code[..whole.start()].iter().rposition(|&b| matches!(b, b'}' | b';' | b'{')).map_or(0, |p| p + 1);
            let commented = src.comments.iter().any(|c| c.line && !c.doc && (src.line_of(c.start) == line || (c.start >= item_start && c.start < whole.start())));
            if empty && !commented {
                out.push(Raw::on_line(src, RUST_IGNORE, whole.start(), "`#[ignore]` without a reason: write `#[ignore = \"why\"]`".into()));
            }
        }
    }
    let needs_fns = has(family::TEST) || has(family::COMMENT) || has(family::OFFERS) || support;
    if needs_fns {
        let fns = rust_fns(src);
        if has(family::TEST) || has(family::OFFERS) || support {
            rust_tests::check(src, &fns, &streams, has(family::TEST), support, m, checked);
        }
        if has(family::COMMENT) {
            default_bodies(src, &fns, &mut checked.raw, claimed);
        }
    }
    // Token streams are not code: nothing in them is a finding.
    checked.raw.retain(|r| !inside(&streams, r.at));
}

/// Test code's `todo!()`/`unimplemented!()` inside a test double — a
/// closure or a method the test never calls ("not needed here") — is no
/// placeholder, nor one in a match arm of a test, which fails the test when
/// reached; one that is a statement of a `#[test]` body is.
struct TestDoubles<'s, 'a> {
    src: &'s Source<'a>,
    /// Test code: the whole file (test support) or its #[cfg(test)] modules.
    regions: Vec<(usize, usize)>,
    fns: Vec<FnSpan>,
    tests: Vec<usize>,
}

impl<'s, 'a> TestDoubles<'s, 'a> {
    fn new(src: &'s Source<'a>, support: bool) -> TestDoubles<'s, 'a> {
        let regions = if support { vec![(0, src.code.len())] } else { cfg_test_modules(src) };
        if regions.is_empty() {
            return TestDoubles { src, regions, fns: Vec::new(), tests: Vec::new() };
        }
        let fns = rust_fns(src);
        let tests = TEST_ATTR.find_iter(&src.code).filter_map(|a| fns.get(fns.partition_point(|f| f.start < a.end())).map(|f| f.start)).collect();
        TestDoubles { src, regions, fns, tests }
    }

    fn holds(&self, at: usize) -> bool {
        if !inside(&self.regions, at) {
            return false;
        }
        let innermost = self.fns.iter().filter(|f| f.open < at && at < f.end).max_by_key(|f| f.open);
        let Some(f) = innermost else { return true };
        if !self.tests.contains(&f.start) {
            return true;
        }
        // In the test's own body: a closure (`|_| todo!()`, never called),
        // a match arm or a nested block is no statement of the test.
        let code = &self.src.code;
        let line_start = code[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let before = &code[line_start..at];
        let blocks = self.src.blocks();
        let block = blocks[..blocks.partition_point(|b| b.0 < at)].iter().rev().find(|b| b.1 > at).map(|b| b.0);
        before.contains(&b'|') || before.trim_ascii_end().ends_with(b"=>") || block != Some(f.open)
    }
}

/// Whether the file's opening comment says it exists for tests ("Used only
/// by doc tests", "test support"): its code is test code.
fn declares_test_support(src: &Source) -> bool {
    static TEST_ONLY: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b(?:used\s+)?only\s+(?:by|for|in)\s+(?:\w+\s+){0,2}?(?:doc\s*)?tests?\b|\bfor\s+(?:doc\s*)?tests?\s+only\b|\btest\s+support\b"));
    let first_code = src.code.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(src.code.len());
    src.comments.iter().take_while(|c| c.start < first_code).any(|c| !c.doc && TEST_ONLY.is_match(src.comment_text(c).as_bytes()))
}

/// `(open, end)` of every token-stream macro argument, ordered.
fn token_streams(src: &Source) -> Vec<(usize, usize)> {
    if !src.text.windows(5).any(|w| w == b"quote" || w == b"macro") {
        return Vec::new();
    }
    TOKEN_STREAM.captures_iter(&src.code).filter_map(|c| c.get(1)).map(|o| (o.start(), src.group_end(o.start()))).collect()
}

pub(super) fn inside(regions: &[(usize, usize)], at: usize) -> bool {
    regions.iter().any(|&(o, e)| o < at && at < e)
}

/// Bodies of `#[cfg(test)] mod x { … }`.
pub(super) fn cfg_test_modules(src: &Source) -> Vec<(usize, usize)> {
    CFG_TEST_MOD.captures_iter(&src.code).filter_map(|c| c.get(1)).map(|o| (o.start(), src.block_end(o.start()))).collect()
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
