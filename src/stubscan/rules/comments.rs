//! Comment rules, for every language: TODO/FIXME/XXX, and comments that
//! call the code a stub or placeholder — only inside function bodies, never
//! in doc comments (the lexer tells them apart) or string literals (they are
//! not comments at all). A TODO is `comment/todo` when it marks missing
//! behaviour — its words say so (implement, stub, not yet…), or the block
//! it sits in is otherwise empty or only returns a default value — and the
//! opt-in `comment/todo-note` otherwise (a note about code that works).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::{re, Matchers, Raw, COMMENT_PLACEHOLDER, COMMENT_TODO, COMMENT_TODO_NOTE};
use crate::stubscan::source::Source;
use crate::stubscan::spans;

static MARKER: LazyLock<Regex> = LazyLock::new(|| re(r"\b(TODO|FIXME|XXX)\b"));
/// A marker used as one: opening the comment (or a line of a block
/// comment), or labelling what follows (`TODO:`, `TODO(ben)`); "not marked
/// as TODO" mentions the word.
static MARKER_AS_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^[ \t]*(?://+|/\*+|#+|\*+)?[ \t!*-]*(?:TODO|FIXME|XXX)\b|\b(?:TODO|FIXME|XXX)[ \t]*[:(]"));
/// A TODO about how working code could be better — faster, elsewhere,
/// cleaner — is a note, even beside a default return.
static IMPROVEMENT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:optimi[sz]\w*|faster|fast\s+path|slow(?:er)?|perf(?:ormance)?|efficient(?:ly)?|rather\s+than|refactor\w*|clean\s*up)\b"));
/// Words of a TODO that says behaviour is missing ("implementation" is
/// left out: it mostly names another one, "once we have the new
/// implementation").
static MISSING: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:implement(?:ed)?|unimplemented|stub(?:bed|s)?|placeholder|fill\s+(?:in|out))\b|\bwrite\s+(?:this|me|the\s+code)\s*(?:[.!:;]|\z)|\bnot\s+(?:yet\s+)?(?:implemented|supported|ported)\b|\bnot\s+(?:handled|done)\s+yet\b|\bnot\s+yet\s*(?:[.:;,!)]|\z)")
});
/// A TODO that says the case cannot arise is a note on an invariant, not
/// missing behaviour: "This should not happen", "can't happen".
static INVARIANT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:should\s*(?:n[o']?t|never)|must\s*(?:n[o']?t|never)|can\s*(?:no|')?t|cannot|will\s+never|never)\s+(?:happen|occur|be\s+reached)\b|\bimpossible\b"));
/// What an unfinished block holds besides comments: nothing, `pass`, `...`,
/// or a bare default return.
static DEFAULT_STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    let value = r#"nil|null|undefined|None|0|0\.0|false|False|true|True|""|''|\[\]|\{\}|\(\)|Ok\(\(\)\)|Default::default\(\)|default\(\)|nil,\s*nil"#;
    re(&format!(r"\A\s*(?:(?:pass|\.\.\.|continue|break|return(?:\s+(?:{value}))?|{value})\s*;?)?\s*\z"))
});
/// A comment that calls the code a stub: "stub"/"placeholder" alone or
/// opening the comment as a label (`stub: …`, `placeholder until …`,
/// `stub implementation`), or "this is a stub", "temporary placeholder".
/// Used as an ordinary word ("stub needs no check", "a stub server", "the
/// placeholder in the format") it describes something else.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\A(?://+|/\*+|#+)[\s!*-]*(?:stub(?:bed)?|placeholder)(?:\s*\z|\s*\*/|\s*[:(.,!;]|\s+-+\s|\s+(?:implementation|impl|body|value|code|version|for\s+now|only|until|so\s+far|to\s+be)\b)|\b(?:this\s+is\s+(?:just\s+|only\s+)?an?\s+|temporary\s+|temp\s+)(?:stub|placeholder)\b")
});

static DESCRIBES: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bplaceholders?\s+(?:that|which|we|for\s+the|so)\b"));

/// `claimed`: indexes of comments another rule already reported.
pub fn check(src: &Source, claimed: &[usize], m: &Matchers, out: &mut Vec<Raw>) {
    let candidates: Vec<(usize, &'static str, bool)> = src
        .comments
        .iter()
        .enumerate()
        .filter(|(i, c)| !c.doc && !claimed.contains(i))
        .filter_map(|(i, c)| {
            let text = &src.text[c.start..c.end];
            if let Some(m) = MARKER.captures(text).and_then(|m| m.get(1)).filter(|_| MARKER_AS_LABEL.is_match(text)) {
                let word = if m.as_bytes() == b"TODO" { "TODO" } else if m.as_bytes() == b"FIXME" { "FIXME" } else { "XXX" };
                return Some((i, word, true));
            }
            // A trailing `// placeholder` names the value on its line; "a
            // placeholder that we use to…" describes a thing, not the code.
            let own_line = src.code[..c.start].iter().rev().take_while(|&&b| b != b'\n').all(|b| b.is_ascii_whitespace());
            (own_line && PLACEHOLDER.is_match(text) && !DESCRIBES.is_match(text)).then_some((i, "placeholder", false))
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
            let text = paragraph(src, i);
            // A TODO that asks a question, says the case cannot arise or
            // how working code could be better is a design note.
            if text.contains('?') || INVARIANT.is_match(text.as_bytes()) || IMPROVEMENT.is_match(text.as_bytes()) {
                if m.reports(COMMENT_TODO_NOTE) {
                    (COMMENT_TODO_NOTE, format!("{word} note inside a function"))
                } else {
                    continue;
                }
            } else if MISSING.is_match(text.as_bytes()) {
                (COMMENT_TODO, format!("{word} comment says behaviour is missing"))
            } else if block_is_empty(src, c.start, c.end) {
                (COMMENT_TODO, format!("{word} comment next to an empty or default body: unfinished work"))
            } else if m.reports(COMMENT_TODO_NOTE) {
                (COMMENT_TODO_NOTE, format!("{word} note inside a function"))
            } else {
                continue;
            }
        } else {
            (COMMENT_PLACEHOLDER, "comment says this code is a stub or placeholder".to_string())
        };
        // Offset of the marker itself, so the column points at it.
        let at = MARKER.find(&src.text[c.start..c.end]).filter(|_| todo).map_or(c.start, |m| c.start + m.start());
        out.push(Raw::on_line(src, rule, at, message));
    }
}

/// The text of a TODO with the line comments that continue it, one per
/// line below, up to the next marker.
fn paragraph(src: &Source, i: usize) -> String {
    let mut text = src.comment_text(&src.comments[i]).into_owned();
    let first = src.line_of(src.comments[i].start);
    for (line, c) in (first + 1..).zip(&src.comments[i + 1..]) {
        let own_line = src.code[src.line_start(src.line_of(c.start))..c.start].iter().all(|b| b.is_ascii_whitespace());
        let t = src.comment_text(c);
        if !c.line || !own_line || src.line_of(c.start) != line || MARKER_AS_LABEL.is_match(t.as_bytes()) {
            break;
        }
        text.push('\n');
        text.push_str(&t);
    }
    text
}

/// Whether the innermost block holding the comment has, besides comments,
/// no code or only a default statement (`return nil`, `pass`, `Ok(())`).
/// Python's blocks are its indented lines: those after the comment at its
/// indentation or deeper, up to the next line indented less.
fn block_is_empty(src: &Source, start: usize, end: usize) -> bool {
    let code = if src.lang == crate::stubscan::Language::Python {
        python_block_after(src, start, end)
    } else {
        let blocks = src.blocks();
        let Some(&(open, close)) = blocks[..blocks.partition_point(|b| b.0 < start)].iter().rev().find(|b| b.1 > start) else { return false };
        src.code_str(open + 1, close.saturating_sub(1)).into_owned()
    };
    DEFAULT_STATEMENT.is_match(code.as_bytes())
}

fn python_block_after(src: &Source, start: usize, end: usize) -> String {
    let line = src.line_of(start);
    let text = src.line_text(line);
    let own_line = src.code_str(src.line_start(line), start).trim().is_empty();
    // A trailing comment belongs to the statement before it.
    if !own_line {
        return src.code_str(src.line_start(line), start).into_owned();
    }
    let indent = text.len() - text.trim_start().len();
    let mut block = String::new();
    let mut l = src.line_of(end) + 1;
    loop {
        let from = src.line_start(l);
        if from >= src.code.len() {
            break;
        }
        let code = src.code_str(from, src.line_start(l + 1));
        let trimmed = code.trim_start();
        if !trimmed.is_empty() {
            if code.len() - trimmed.len() < indent {
                break;
            }
            block.push_str(&code);
        }
        l += 1;
    }
    block
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

    #[test]
    fn todo_words_that_mark_missing_behaviour() {
        for yes in ["// TODO: implement retries", "// TODO not yet supported", "// TODO: not yet", "// XXX not implemented yet", "# TODO: stub", "// FIXME: fill in the limits", "// TODO: write this."] {
            assert!(MISSING.is_match(yes.as_bytes()), "{yes}");
        }
        for no in ["// TODO: this could be faster", "// TODO(ben): reimplementation would be cleaner", "// XXX: why does this work?", "// FIXME: if the connection is not yet closed, retry", "// TODO: further distinguish once we have the new implementation.", "// TODO: We should write this in terms of the scanner."] {
            assert!(!MISSING.is_match(no.as_bytes()), "{no}");
        }
        for note in ["// TODO(dlc) - This should not happen.", "// XXX: can't happen", "// TODO: impossible, the caller checked"] {
            assert!(INVARIANT.is_match(note.as_bytes()), "{note}");
        }
        for no in ["// TODO: implement", "// TODO: handle what should happen on close"] {
            assert!(!INVARIANT.is_match(no.as_bytes()), "{no}");
        }
        for note in ["// TODO: implement optimized version that does not use a pattern.", "// TODO: this should be implemented in the formatter rather than the generator", "// TODO: fast path"] {
            assert!(IMPROVEMENT.is_match(note.as_bytes()), "{note}");
        }
        for yes in ["// TODO: x", "// TODO(ben) x", "/* x\n * TODO y */", "# FIXME later", "// Note, XXX: y"] {
            assert!(MARKER_AS_LABEL.is_match(yes.as_bytes()), "{yes}");
        }
        for no in ["// implementation issues, and thus are not marked as TODO.", "// the TODO list"] {
            assert!(!MARKER_AS_LABEL.is_match(no.as_bytes()), "{no}");
        }
        for yes in ["", "  return nil\n", "pass", "return;", "Ok(())", "..."] {
            assert!(DEFAULT_STATEMENT.is_match(yes.as_bytes()), "{yes:?}");
        }
        for no in ["x += 1", "return compute()", "return nil, fmt.Errorf(\"x\")"] {
            assert!(!DEFAULT_STATEMENT.is_match(no.as_bytes()), "{no:?}");
        }
    }
}
