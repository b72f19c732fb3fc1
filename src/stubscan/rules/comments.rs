//! Comment rules, for every language: TODO/FIXME/XXX, and comments that
//! call the code a stub or placeholder — only inside function bodies, never
//! in doc comments (the lexer tells them apart) or string literals (they are
//! not comments at all).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{re, Raw, COMMENT_PLACEHOLDER, COMMENT_TODO};
use crate::stubscan::source::Source;
use crate::stubscan::spans;

static MARKER: LazyLock<Regex> = LazyLock::new(|| re(r"\b(TODO|FIXME|XXX)\b"));
/// A comment that calls the code a stub: "stub"/"placeholder" alone or
/// opening the comment as a label (`stub: …`, `placeholder until …`,
/// `stub implementation`), or "this is a stub", "temporary placeholder".
/// Used as an ordinary word ("stub needs no check", "a stub server", "the
/// placeholder in the format") it describes something else.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\A(?://+|/\*+|#+)[\s!*-]*(?:stub(?:bed)?|placeholder)(?:\s*\z|\s*\*/|\s*[:(.,!;]|\s+-+\s|\s+(?:implementation|impl|body|value|code|version|for\s+now|only|until|so\s+far|to\s+be)\b)|\b(?:this\s+is\s+(?:just\s+|only\s+)?an?\s+|temporary\s+|temp\s+)(?:stub|placeholder)\b")
});

/// `claimed`: indexes of comments another rule already reported.
pub fn check(src: &Source, claimed: &[usize], out: &mut Vec<Raw>) {
    let candidates: Vec<(usize, &'static str, bool)> = src
        .comments
        .iter()
        .enumerate()
        .filter(|(i, c)| !c.doc && !claimed.contains(i))
        .filter_map(|(i, c)| {
            let text = &src.text[c.start..c.end];
            if let Some(m) = MARKER.captures(text).and_then(|m| m.get(1)) {
                let word = if m.as_bytes() == b"TODO" { "TODO" } else if m.as_bytes() == b"FIXME" { "FIXME" } else { "XXX" };
                return Some((i, word, true));
            }
            PLACEHOLDER.is_match(text).then_some((i, "placeholder", false))
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    let bodies = spans::bodies(src);
    for (i, word, todo) in candidates {
        let c = &src.comments[i];
        if !bodies.iter().any(|&(open, end)| c.start > open && c.start < end) {
            continue;
        }
        let (rule, message) = if todo {
            (COMMENT_TODO, format!("{word} comment inside a function: unfinished work"))
        } else {
            (COMMENT_PLACEHOLDER, "comment says this code is a stub or placeholder".to_string())
        };
        // Offset of the marker itself, so the column points at it.
        let at = MARKER.find(&src.text[c.start..c.end]).filter(|_| todo).map_or(c.start, |m| c.start + m.start());
        out.push(Raw::on_line(src, rule, at, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_comments_say_the_code_is_one() {
        for yes in ["// stub", "// Stub: returns zero", "# placeholder until the codec lands", "/* stub implementation */", "// this is just a stub", "// temporary placeholder"] {
            assert!(PLACEHOLDER.is_match(yes.as_bytes()), "{yes}");
        }
        for no in ["// stub needs no dependency check", "// Stub and not_started need no dependencies.", "// a stub server answers", "// the placeholder {} is replaced"] {
            assert!(!PLACEHOLDER.is_match(no.as_bytes()), "{no}");
        }
    }
}
