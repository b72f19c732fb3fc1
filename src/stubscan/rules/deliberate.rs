//! When a Rust `todo!()`/`unimplemented!()` is no placeholder: its author
//! declared it deliberate, or the code is never run.
//!
//! - The lint that exists to catch these is silenced on an enclosing item
//!   (`#[allow(clippy::todo)]`, `#![expect(clippy::unimplemented)]`).
//! - A build probe: a file compiled by its build script to test the
//!   toolchain — it declares crate-level `#![feature(…)]` though it is no
//!   crate root, or switches them on under a cfg (`#![cfg_attr(X,
//!   feature(…))]`) that gates the probe's items (`#[cfg(X)]`).
//! - The docs say so: a module whose summary says it documents functions
//!   that are not implemented, or that they are out of scope or not
//!   supported; a function documented as unsupported or always panicking.
//! - Only for `unimplemented!()`, which (unlike `todo!()`, by std's own
//!   contract) makes no promise to be written later: a stand-in on a
//!   configuration the code does not support (a `#[cfg(not(…))]` item or
//!   block); a message or comment beside it saying why it is never needed
//!   ("unnecessary if…", "use X instead", "exists so…").

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::re;
use crate::stubscan::source::Source;

/// Which macro a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Todo,
    Unimplemented,
}

static LINT_ALLOW_TODO: LazyLock<Regex> = LazyLock::new(|| re(r"#!?\[[^\]]*\b(?:allow|expect)\s*\([^\]]*\bclippy::todo\b"));
static LINT_ALLOW_UNIMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| re(r"#!?\[[^\]]*\b(?:allow|expect)\s*\([^\]]*\bclippy::unimplemented\b"));
static INNER_FEATURE: LazyLock<Regex> = LazyLock::new(|| re(r"#!\[\s*feature\s*\("));
/// `#![cfg_attr(NAME, feature(…))]`: group 1 is the probe's cfg.
static PROBE_CFG: LazyLock<Regex> = LazyLock::new(|| re(r"#!\[\s*cfg_attr\s*\(\s*([A-Za-z_]\w*)\s*,\s*feature\s*\("));
static CFG_NOT: LazyLock<Regex> = LazyLock::new(|| re(r"#\[\s*cfg\s*\([^\]]*\bnot\s*\("));
static MOD_HEAD: LazyLock<Regex> = LazyLock::new(|| re(r"\bmod\s+[A-Za-z_]\w*\s*\z"));
/// A module's summary that declares its functions unimplemented on purpose.
static MODULE_DECLARES: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bdocument(?:s|ation|ing)?\b[^.]*\b(?:unimplemented|not\s+(?:yet\s+)?implemented|(?:does|do)\s+not\s+implement)\b|\bout\s+of\s+scope\b|\bnot\s+supported\b|\bunsupported\b"));
/// A function's docs that make the panic its contract.
static FN_DECLARES: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bout\s+of\s+scope\b|\bnot\s+supported\b|\bunsupported\b|\balways\s+panics\b|\bpanics\s+(?:when|if)\s+(?:it\s+is\s+)?(?:called|used|invoked)\b"));
/// Why an `unimplemented!()` is never needed, in its message or a comment
/// beside it.
static EXPLAINS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bunnecessary\b|\bnot\s+(?:needed|necessary|required|used|called|reachable)\b|\bnever\s+(?:called|used|reached|invoked)\b|\bno\s+need\b|\bexists?\s+so\b|\bon\s+purpose\b|\bdeliberately\b|\bintentionally\b|\bby\s+design\b|\bcan(?:no|')?t\s+happen\b|\binstead\b",
    )
});
static TODO_MARKER: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:TODO|FIXME|XXX)\b"));

/// Whether the `todo!()`/`unimplemented!()` at `at` (whose `(` is at
/// `open`) is declared deliberate or never runs.
pub fn is_deliberate(src: &Source, at: usize, open: usize, kind: Kind) -> bool {
    let blocks = enclosing_blocks(src, at);
    let lint = match kind {
        Kind::Todo => &*LINT_ALLOW_TODO,
        Kind::Unimplemented => &*LINT_ALLOW_UNIMPLEMENTED,
    };
    // Outer attributes on an enclosing item, inner ones in an enclosing
    // block or the file.
    if blocks.iter().any(|&(o, _)| lint.is_match(head(src, o).as_bytes())) || inner_attrs(src, lint).any(|a| scope_holds(src, &blocks, a)) {
        return true;
    }
    if is_probe(src, &blocks) || module_declares(src, &blocks) {
        return true;
    }
    if blocks.iter().any(|&(o, _)| fn_docs(src, o).is_some_and(|d| FN_DECLARES.is_match(d.as_bytes()))) {
        return true;
    }
    kind == Kind::Unimplemented && (is_cfg_fallback(src, &blocks, open) || explained(src, at, open))
}

/// Whether the macro is the whole of a block or function gated on a
/// `cfg(not(…))`: the stand-in for a configuration the code does not
/// support, beside the real one.
fn is_cfg_fallback(src: &Source, blocks: &[(usize, usize)], open: usize) -> bool {
    let Some(&(o, e)) = blocks.first() else {
        return false;
    };
    let after = src.group_end(open);
    let alone = src.code[o + 1..open]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .is_none_or(|p| src.code[o + 1 + p] == b'!' && src.code[o + 1..o + 1 + p].iter().all(|b| b.is_ascii_alphanumeric() || b.is_ascii_whitespace() || *b == b'_'))
        && src.code[after..e.saturating_sub(1)].iter().all(|b| b.is_ascii_whitespace() || *b == b';');
    alone && CFG_NOT.is_match(head(src, o).as_bytes())
}

/// Brace blocks holding `at`, innermost first.
fn enclosing_blocks(src: &Source, at: usize) -> Vec<(usize, usize)> {
    let blocks = src.blocks();
    let mut out: Vec<(usize, usize)> = blocks[..blocks.partition_point(|b| b.0 < at)].iter().copied().filter(|b| b.1 > at).collect();
    out.reverse();
    out
}

/// Start of the item or statement whose block opens at `open`: just past
/// the previous `;`, `{` or `}` of the code.
fn head_start(src: &Source, open: usize) -> usize {
    src.code[..open].iter().rposition(|&b| matches!(b, b';' | b'{' | b'}')).map_or(0, |p| p + 1)
}

/// The original text before a block: its attributes, docs and signature.
fn head<'a>(src: &Source<'a>, open: usize) -> std::borrow::Cow<'a, str> {
    src.original(head_start(src, open), open)
}

/// Inner attributes (`#![…]`) matching `lint`, by offset.
fn inner_attrs<'a>(src: &'a Source, lint: &'a Regex) -> impl Iterator<Item = usize> + 'a {
    lint.find_iter(&src.code).filter(|m| m.as_bytes().starts_with(b"#!")).map(|m| m.start())
}

/// Whether the inner attribute at `attr` applies at `at`: its innermost
/// block (or the file) is one of `at`'s.
fn scope_holds(src: &Source, at_blocks: &[(usize, usize)], attr: usize) -> bool {
    match enclosing_blocks(src, attr).first() {
        Some(b) => at_blocks.contains(b),
        None => true,
    }
}

/// A build probe: crate-level features in a file that is no crate root,
/// or items gated on the cfg that switches them on.
fn is_probe(src: &Source, blocks: &[(usize, usize)]) -> bool {
    let file_level = |p: usize| enclosing_blocks(src, p).is_empty();
    if INNER_FEATURE.find_iter(&src.code).any(|m| file_level(m.start())) && !is_crate_root(src.path) {
        return true;
    }
    PROBE_CFG.captures_iter(&src.code).filter_map(|c| c.get(1)).any(|name| {
        let gate = re(&format!(r"#\[\s*cfg\s*\(\s*{}\s*\)\s*\]", regex::escape(&String::from_utf8_lossy(name.as_bytes()))));
        blocks.iter().any(|&(o, _)| gate.is_match(src.code_str(head_start(src, o), o).as_bytes()))
    })
}

/// Files Cargo compiles as crates of their own: the library and binary
/// roots, and every top-level file of tests/, benches/, examples/.
fn is_crate_root(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let file = parts.last().copied().unwrap_or("");
    let parent = parts.len().checked_sub(2).map(|i| parts[i]).unwrap_or("");
    matches!(file, "lib.rs" | "main.rs" | "build.rs") || matches!(parent, "tests" | "benches" | "examples" | "bin")
}

/// Whether an enclosing module's summary — the file's inner docs, an
/// inline `mod`'s docs — declares its functions unimplemented on purpose.
fn module_declares(src: &Source, blocks: &[(usize, usize)]) -> bool {
    let declares = |text: &str| MODULE_DECLARES.is_match(summary(text).as_bytes());
    if declares(&inner_docs(src, 0)) {
        return true;
    }
    blocks.iter().any(|&(o, _)| {
        let start = head_start(src, o);
        MOD_HEAD.is_match(src.code[start..o].trim_ascii_end()) && (declares(&outer_docs(src, start, o)) || declares(&inner_docs(src, o + 1)))
    })
}

/// The first paragraph of doc text (comment markers stripped).
fn summary(docs: &str) -> String {
    docs.split("\n\n").next().unwrap_or("").to_string()
}

/// Text of the `//!`/`/*! */` comments that open the file or the block
/// starting at `from`, markers stripped, one line each.
fn inner_docs(src: &Source, from: usize) -> String {
    let mut text = String::new();
    let mut at = from;
    // Plain comments (a licence header) and attributes may come first.
    for c in src.comments.iter().filter(|c| c.start >= from) {
        if !only_attrs(src, at, c.start) {
            break;
        }
        let t = src.comment_text(c);
        if t.starts_with("//!") || t.starts_with("/*!") {
            text.push_str(strip_markers(&t).trim());
            text.push('\n');
        } else if c.doc {
            break;
        }
        at = c.end;
    }
    text
}

/// Whether `from..to` of the code holds only whitespace and attributes.
fn only_attrs(src: &Source, from: usize, to: usize) -> bool {
    let mut rest = src.code[from..to].trim_ascii();
    while rest.starts_with(b"#") {
        let Some(close) = rest.iter().position(|&b| b == b']') else {
            return false;
        };
        rest = rest[close + 1..].trim_ascii_start();
    }
    rest.is_empty()
}

/// Outer doc comments (`///`, `/** */`) in `from..to`, markers stripped.
fn outer_docs(src: &Source, from: usize, to: usize) -> String {
    let mut text = String::new();
    for c in src.comments.iter().filter(|c| c.doc && c.start >= from && c.end <= to) {
        let t = src.comment_text(c);
        if t.starts_with("//!") || t.starts_with("/*!") {
            continue;
        }
        text.push_str(strip_markers(&t).trim());
        text.push('\n');
    }
    text
}

fn strip_markers(t: &str) -> &str {
    let t = t.trim_start_matches('/').trim_start_matches('*').trim_start_matches('!');
    t.strip_suffix("*/").unwrap_or(t)
}

/// The doc comments of the function whose body opens at `open`, if it is
/// one.
fn fn_docs(src: &Source, open: usize) -> Option<String> {
    let start = head_start(src, open);
    let head = &src.code[start..open];
    head.windows(3).any(|w| w == b"fn ").then(|| outer_docs(src, start, open))
}

/// Whether the macro's message, or a comment on its line or the two lines
/// above, says why it is never needed.
fn explained(src: &Source, at: usize, open: usize) -> bool {
    if EXPLAINS.is_match(super::call_args(src, open).as_bytes()) {
        return true;
    }
    let line = src.line_of(at);
    src.comments.iter().filter(|c| !c.doc).any(|c| {
        let l = src.line_of(c.start);
        let text = src.comment_text(c);
        l <= line && l + 2 >= line && c.start < at && EXPLAINS.is_match(text.as_bytes()) && !TODO_MARKER.is_match(text.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stubscan::Language;

    fn deliberate(path: &str, text: &str) -> Vec<bool> {
        let src = Source::new(path, Language::Rust, text.as_bytes());
        let hits: Vec<(usize, usize, Kind)> = re(r"\b(todo|unimplemented)!\s*(\()")
            .captures_iter(&src.code)
            .filter_map(|c| {
                let (name, open) = (c.get(1)?, c.get(2)?);
                Some((name.start(), open.start(), if name.as_bytes() == b"todo" { Kind::Todo } else { Kind::Unimplemented }))
            })
            .collect();
        hits.into_iter().map(|(at, open, kind)| is_deliberate(&src, at, open, kind)).collect()
    }

    #[test]
    fn silenced_lints_declare_the_macro_deliberate() {
        let text = "#[allow(clippy::todo)]\nimpl A {\n    fn a() { todo!() }\n}\nfn b() {\n    #![allow(clippy::todo)]\n    f(|| todo!())\n}\nfn c() { todo!() }\n#[allow(clippy::todo)]\nfn d() { unimplemented!() }\n";
        assert_eq!(deliberate("src/a.rs", text), [true, true, false, false]);
    }

    #[test]
    fn build_probes_never_run() {
        assert_eq!(deliberate("build/probe.rs", "#![feature(x)]\nfn f() { unimplemented!() }\n"), [true]);
        assert_eq!(deliberate("src/lib.rs", "#![feature(x)]\nfn f() { unimplemented!() }\n"), [false], "a nightly crate's root is no probe");
        let gated = "#![cfg_attr(my_probe, feature(x))]\n#[cfg(my_probe)]\nconst _: () = {\n    fn f() { unimplemented!() }\n};\nfn g() { unimplemented!() }\n";
        assert_eq!(deliberate("src/nightly.rs", gated), [true, false]);
    }

    #[test]
    fn docs_that_declare_it() {
        let text = "//! Documentation about unimplemented functions.\n\npub fn malloc() {\n    unimplemented!()\n}\n";
        assert_eq!(deliberate("src/n.rs", text), [true]);
        let inline = "/// Memory allocation is out of scope for this crate.\npub mod alloc {\n    pub fn free() { unimplemented!() }\n}\n/// Not yet implemented.\npub fn later() { todo!() }\n";
        assert_eq!(deliberate("src/n.rs", inline), [true, false], "a doc that admits a placeholder does not excuse it");
    }

    #[test]
    fn unimplemented_fallbacks_and_explanations() {
        let text = "fn from_thread() {\n    #[cfg(windows)]\n    { get() }\n    #[cfg(not(windows))]\n    { unimplemented!() }\n}\n#[cfg(not(feature = \"x\"))]\nmod inner {\n    fn f(v: u8) -> u8 { if v > 1 { unimplemented!() } else { v } }\n}\nfn register() {\n    // This default exists so implementers of the new method compile.\n    unimplemented!(\"use register_borrowed instead\")\n}\nfn shuffle() { unimplemented!() }\n#[cfg(not(unix))]\nfn later() { todo!() }\n";
        assert_eq!(deliberate("src/a.rs", text), [true, false, true, false, false], "only the whole stand-in body is a fallback");
        assert_eq!(deliberate("src/a.rs", "fn f() {\n    // TODO: not needed yet, implement\n    unimplemented!()\n}\n"), [false]);
    }
}
