//! One file being scanned: its text, its code mask and comments (from
//! `lex`), and the lookups rules share — line and column of an offset,
//! matching delimiters, the text of a literal.

use std::borrow::Cow;
use std::sync::OnceLock;

use memchr::{memchr2_iter, memchr_iter};

use super::lex::{self, Comment};
use super::Language;

pub struct Source<'a> {
    pub path: &'a str,
    pub lang: Language,
    pub text: &'a [u8],
    /// `text` with comments and literal contents blanked (see `lex`).
    pub code: Vec<u8>,
    pub comments: Vec<Comment>,
    /// Python's triple-quoted strings (see `lex`).
    pub long_strings: Vec<(usize, usize)>,
    line_starts: OnceLock<Vec<usize>>,
    /// Matching `{`…`}` pairs of the code, ordered by the opening brace.
    braces: OnceLock<Vec<(usize, usize)>>,
}

impl<'a> Source<'a> {
    pub fn new(path: &'a str, lang: Language, text: &'a [u8]) -> Source<'a> {
        let lex::Lexed { code, comments, long_strings } = lex::lex(lang, text);
        Source { path, lang, text, code, comments, long_strings, line_starts: OnceLock::new(), braces: OnceLock::new() }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| std::iter::once(0).chain(memchr_iter(b'\n', self.text).map(|p| p + 1)).collect())
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts().partition_point(|&s| s <= offset)
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts().get(line.saturating_sub(1)).copied().unwrap_or(self.text.len())
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_of(offset);
        let start = self.line_starts()[line - 1];
        let col = String::from_utf8_lossy(&self.text[start..offset.min(self.text.len())]).chars().count() + 1;
        (line, col)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> Cow<'a, str> {
        let starts = self.line_starts();
        let start = starts.get(line - 1).copied().unwrap_or(self.text.len());
        let end = starts.get(line).map_or(self.text.len(), |&e| e - 1);
        let text: &'a [u8] = self.text;
        String::from_utf8_lossy(&text[start..end.max(start)])
    }

    /// Original text of `from..to` (string contents included).
    pub fn original(&self, from: usize, to: usize) -> Cow<'a, str> {
        let text: &'a [u8] = self.text;
        String::from_utf8_lossy(&text[from.min(text.len())..to.min(text.len())])
    }

    fn braces(&self) -> &[(usize, usize)] {
        self.braces.get_or_init(|| {
            let mut pairs = Vec::new();
            let mut open = Vec::new();
            for p in memchr2_iter(b'{', b'}', &self.code) {
                if self.code[p] == b'{' {
                    open.push(pairs.len());
                    pairs.push((p, self.code.len()));
                } else if let Some(i) = open.pop() {
                    pairs[i].1 = p + 1;
                }
            }
            pairs
        })
    }

    /// End (exclusive, past the `}`) of the brace block opening at `open`;
    /// the end of the file when it never closes.
    pub fn block_end(&self, open: usize) -> usize {
        let pairs = self.braces();
        match pairs.binary_search_by_key(&open, |p| p.0) {
            Ok(i) => pairs[i].1,
            Err(_) => self.code.len(),
        }
    }

    /// Every brace block as (open, end), ordered by `open`.
    pub fn blocks(&self) -> &[(usize, usize)] {
        self.braces()
    }

    /// End (exclusive) of the bracketed group opening at `open` (one of
    /// `(`, `[`, `{`), counting only that bracket kind in the code mask.
    pub fn group_end(&self, open: usize) -> usize {
        let (o, c) = match self.code.get(open) {
            Some(b'(') => (b'(', b')'),
            Some(b'[') => (b'[', b']'),
            Some(b'{') => return self.block_end(open),
            _ => return open,
        };
        let mut depth = 0usize;
        for p in memchr2_iter(o, c, &self.code[open..]) {
            if self.code[open + p] == o {
                depth += 1;
            } else {
                depth -= 1;
                if depth == 0 {
                    return open + p + 1;
                }
            }
        }
        self.code.len()
    }

    /// Offset of the first `{` after `from` at bracket depth 0 (of `()` and
    /// `[]`), or None when a `;` at depth 0 (or `stop_at_newline` and a line
    /// break) comes first.
    pub fn body_open(&self, from: usize, stop_at_newline: bool) -> Option<usize> {
        let mut depth = 0i32;
        for (i, &b) in self.code.iter().enumerate().skip(from) {
            match b {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b'{' if depth <= 0 => return Some(i),
                b';' if depth <= 0 => return None,
                b'\n' if stop_at_newline && depth <= 0 => return None,
                _ => {}
            }
        }
        None
    }

    /// The code mask of `from..to` as text (literal contents are spaces).
    pub fn code_str(&self, from: usize, to: usize) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.code[from.min(self.code.len())..to.min(self.code.len())])
    }

    pub fn comment_text(&self, c: &Comment) -> Cow<'a, str> {
        self.original(c.start, c.end)
    }

    /// Whether `offset` lies inside a triple-quoted string, past its
    /// opening quotes.
    pub fn in_long_string(&self, offset: usize) -> bool {
        let i = self.long_strings.partition_point(|s| s.0 < offset);
        i > 0 && offset < self.long_strings[i - 1].1
    }

    /// Whether this is a Go test file, the only place Go tests live.
    pub fn is_go_test_file(&self) -> bool {
        self.path.ends_with("_test.go")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_groups() {
        let s = Source::new("a.rs", Language::Rust, "fn a() {\n    let s = \"}\";\n    x(\"(\", (1));\n}\n".as_bytes());
        assert_eq!(s.line_col(13), (2, 5));
        assert_eq!(s.block_end(7), s.text.len() - 1);
        let call = s.text.iter().position(|&b| b == b'x').expect("x") + 1;
        assert_eq!(&s.code_str(call, s.group_end(call)), "(\" \", (1))");
        assert_eq!(s.line_text(3), "    x(\"(\", (1));");
    }
}
