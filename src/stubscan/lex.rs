//! Lexers that tell code from strings and comments, one small state machine
//! per language. Each produces a *code mask*: the file's bytes with comments
//! and the contents of string and character literals replaced by spaces
//! (newlines and quote characters kept), so code rules never match inside
//! text and offsets stay those of the file; and the list of comments, for the
//! comment and suppression rules. Jumps between interesting bytes use memchr.

use memchr::{memchr, memchr2, memchr3};

use super::Language;

/// One comment: `start..end` in the file, markers included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
    /// A documentation comment (`///`, `//!`, `/** */` and `/*! */` in Rust,
    /// `///` in C#, `/** */` in TypeScript).
    pub doc: bool,
    /// `//` or `#`, as opposed to a block comment.
    pub line: bool,
}

pub struct Lexed {
    pub code: Vec<u8>,
    pub comments: Vec<Comment>,
    /// Python's triple-quoted strings, `start..end` with their quotes, in
    /// order: lines inside them are no code lines, whatever their indent.
    pub long_strings: Vec<(usize, usize)>,
}

pub fn lex(lang: Language, src: &[u8]) -> Lexed {
    let mut m = Masker { src, code: src.to_vec(), comments: Vec::new(), long_strings: Vec::new() };
    match lang {
        Language::Rust => m.c_family(Flavor::Rust),
        Language::CSharp => m.c_family(Flavor::CSharp),
        Language::Go => m.c_family(Flavor::Go),
        Language::TypeScript => m.c_family(Flavor::TypeScript),
        Language::Python => m.python(),
    }
    Lexed { code: m.code, comments: m.comments, long_strings: m.long_strings }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Rust,
    CSharp,
    Go,
    TypeScript,
}

struct Masker<'a> {
    src: &'a [u8],
    code: Vec<u8>,
    comments: Vec<Comment>,
    long_strings: Vec<(usize, usize)>,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Length of the UTF-8 sequence starting with `b` (1 for stray bytes).
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

impl Masker<'_> {
    /// Replace `from..to` by spaces, keeping newlines.
    fn blank(&mut self, from: usize, to: usize) {
        let to = to.min(self.code.len());
        if from >= to {
            return;
        }
        let mut at = from;
        while let Some(nl) = memchr(b'\n', &self.src[at..to]) {
            self.code[at..at + nl].fill(b' ');
            at += nl + 1;
        }
        self.code[at..to].fill(b' ');
    }

    fn comment(&mut self, start: usize, end: usize, doc: bool, line: bool) {
        self.blank(start, end);
        self.comments.push(Comment { start, end, doc, line });
    }

    fn line_end(&self, from: usize) -> usize {
        memchr(b'\n', &self.src[from..]).map_or(self.src.len(), |p| from + p)
    }

    /// End (exclusive, past the closing quote) of a string whose contents
    /// start at `from`, with backslash escapes. Unterminated strings run to
    /// the end of the line when `single_line`, else to the end of the file.
    fn escaped_end(&self, from: usize, quote: u8, single_line: bool) -> usize {
        let s = self.src;
        let mut i = from;
        loop {
            let hit = if single_line { memchr3(quote, b'\\', b'\n', &s[i..]) } else { memchr2(quote, b'\\', &s[i..]) };
            match hit {
                None => return s.len(),
                Some(p) => {
                    let p = i + p;
                    match s[p] {
                        b'\\' => i = p + 2,
                        b'\n' => return p,
                        _ => return p + 1,
                    }
                    if i >= s.len() {
                        return s.len();
                    }
                }
            }
        }
    }

    /// Mask a string whose contents run `from..end`, where `end` is past the
    /// closing delimiter of `close_len` bytes.
    fn string(&mut self, from: usize, end: usize, close_len: usize) -> usize {
        let content_end = if end >= from + close_len && end <= self.src.len() { end - close_len } else { end };
        self.blank(from, content_end.max(from));
        end
    }

    /// A character literal at `p` (the opening quote), or None when the
    /// quote starts a Rust lifetime or label.
    fn char_literal(&self, p: usize) -> Option<usize> {
        let s = self.src;
        let first = *s.get(p + 1)?;
        if first == b'\\' {
            let close = memchr2(b'\'', b'\n', s.get(p + 3..)?)?;
            return (s[p + 3 + close] == b'\'').then_some(p + 3 + close + 1);
        }
        let after = p + 1 + utf8_len(first);
        (s.get(after) == Some(&b'\'') && first != b'\n').then_some(after + 1)
    }

    fn c_family(&mut self, flavor: Flavor) {
        let s = self.src;
        let mut i = 0;
        // Go and TypeScript also have backtick strings; the next backtick is
        // found separately and cached, so the main jump stays memchr3.
        let backticks = matches!(flavor, Flavor::Go | Flavor::TypeScript);
        let mut next_tick = if backticks { memchr(b'`', s) } else { None };
        while i < s.len() {
            if next_tick.is_some_and(|t| t < i) {
                next_tick = memchr(b'`', &s[i..]).map(|t| i + t);
            }
            let hit = memchr3(b'"', b'\'', b'/', &s[i..]).map(|p| i + p);
            let p = match (hit, next_tick) {
                (Some(h), Some(t)) => h.min(t),
                (h, t) => match h.or(t) {
                    Some(p) => p,
                    None => break,
                },
            };
            i = match s[p] {
                b'/' => self.slash(p, flavor),
                b'"' => self.double_quote(p, flavor),
                b'\'' => match self.char_literal(p) {
                    Some(end) => self.string(p + 1, end, 1),
                    None if flavor == Flavor::TypeScript => {
                        let end = self.escaped_end(p + 1, b'\'', true);
                        self.string(p + 1, end, 1)
                    }
                    None => p + 1,
                },
                _ => {
                    // A backtick: Go raw string, or TypeScript template
                    // (its `${}` parts are treated as text too).
                    let end = if flavor == Flavor::Go { memchr(b'`', &s[p + 1..]).map_or(s.len(), |q| p + 1 + q + 1) } else { self.escaped_end(p + 1, b'`', false) };
                    self.string(p + 1, end, 1)
                }
            };
        }
    }

    fn slash(&mut self, p: usize, flavor: Flavor) -> usize {
        let s = self.src;
        match s.get(p + 1) {
            Some(b'/') => {
                let end = self.line_end(p);
                let third = s.get(p + 2).copied();
                let doc = match flavor {
                    Flavor::Rust => (third == Some(b'/') && s.get(p + 3) != Some(&b'/')) || third == Some(b'!'),
                    Flavor::CSharp => third == Some(b'/') && s.get(p + 3) != Some(&b'/'),
                    _ => false,
                };
                self.comment(p, end, doc, true);
                end
            }
            Some(b'*') => {
                let end = self.block_end(p, flavor == Flavor::Rust);
                let third = s.get(p + 2).copied();
                let doc = match flavor {
                    Flavor::Rust => (third == Some(b'*') && !matches!(s.get(p + 3), Some(b'*' | b'/'))) || third == Some(b'!'),
                    Flavor::TypeScript => third == Some(b'*') && s.get(p + 3) != Some(&b'/'),
                    _ => false,
                };
                self.comment(p, end, doc, false);
                end
            }
            _ if flavor == Flavor::TypeScript && self.regex_allowed(p) => match self.regex_end(p) {
                Some(end) => self.string(p + 1, end, 1),
                None => p + 1,
            },
            _ => p + 1,
        }
    }

    /// End of a block comment starting at `p`; Rust's nest.
    fn block_end(&self, p: usize, nested: bool) -> usize {
        let s = self.src;
        let mut depth = 1;
        let mut i = p + 2;
        while let Some(q) = memchr2(b'*', b'/', &s[i..]) {
            let q = i + q;
            if s[q] == b'*' && s.get(q + 1) == Some(&b'/') {
                depth -= 1;
                i = q + 2;
                if depth == 0 || !nested {
                    return i;
                }
            } else if nested && s[q] == b'/' && s.get(q + 1) == Some(&b'*') {
                depth += 1;
                i = q + 2;
            } else {
                i = q + 1;
            }
        }
        s.len()
    }

    fn double_quote(&mut self, p: usize, flavor: Flavor) -> usize {
        let s = self.src;
        match flavor {
            Flavor::Rust => {
                // Raw string: r"…", r#"…"#, br"…", cr"…" — the prefix was
                // passed over as code; look back for it.
                let hashes = s[..p].iter().rev().take_while(|&&b| b == b'#').count();
                let r = p.checked_sub(hashes + 1);
                let is_raw = r.is_some_and(|r| {
                    s[r] == b'r' && {
                        let before = r.checked_sub(1).map(|b| s[b]);
                        match before {
                            Some(b'b' | b'c') => r < 2 || !is_ident(s[r - 2]),
                            Some(b) => !is_ident(b),
                            None => true,
                        }
                    }
                });
                if is_raw {
                    let mut close = vec![b'"'];
                    close.extend(std::iter::repeat_n(b'#', hashes));
                    let end = memchr::memmem::find(&s[p + 1..], &close).map_or(s.len(), |q| p + 1 + q + close.len());
                    return self.string(p + 1, end, close.len());
                }
                let end = self.escaped_end(p + 1, b'"', false);
                self.string(p + 1, end, 1)
            }
            Flavor::CSharp => {
                let quotes = s[p..].iter().take_while(|&&b| b == b'"').count();
                if quotes >= 3 {
                    let close = vec![b'"'; quotes];
                    let end = memchr::memmem::find(&s[p + quotes..], &close).map_or(s.len(), |q| p + quotes + q + quotes);
                    self.blank(p + quotes, end.saturating_sub(quotes).max(p + quotes));
                    return end;
                }
                let verbatim = (p >= 1 && s[p - 1] == b'@') || (p >= 2 && s[p - 1] == b'$' && s[p - 2] == b'@');
                if verbatim {
                    // "" is an escaped quote inside @"…".
                    let mut i = p + 1;
                    let end = loop {
                        match memchr(b'"', &s[i..]) {
                            None => break s.len(),
                            Some(q) if s.get(i + q + 1) == Some(&b'"') => i += q + 2,
                            Some(q) => break i + q + 1,
                        }
                    };
                    return self.string(p + 1, end, 1);
                }
                let end = self.escaped_end(p + 1, b'"', true);
                self.string(p + 1, end, 1)
            }
            Flavor::Go | Flavor::TypeScript => {
                let end = self.escaped_end(p + 1, b'"', true);
                self.string(p + 1, end, 1)
            }
        }
    }

    /// Whether a `/` at `p` can start a regular expression literal: it
    /// follows an operator, an opening bracket, or a keyword, not a value.
    fn regex_allowed(&self, p: usize) -> bool {
        let code = &self.code[..p];
        let Some(last) = code.iter().rposition(|b| !b.is_ascii_whitespace()) else { return true };
        let b = code[last];
        if b"(,=:[!&|?{};+-*%<>~^".contains(&b) {
            return true;
        }
        if is_ident(b) {
            let start = code[..=last].iter().rposition(|&c| !is_ident(c)).map_or(0, |x| x + 1);
            return matches!(&code[start..=last], b"return" | b"typeof" | b"case" | b"do" | b"else" | b"in" | b"of" | b"new" | b"delete" | b"void" | b"throw" | b"yield" | b"await");
        }
        false
    }

    /// End of a regex literal at `p`, if it closes on the same line.
    fn regex_end(&self, p: usize) -> Option<usize> {
        let s = self.src;
        let mut i = p + 1;
        let mut class = false;
        while let Some(&b) = s.get(i) {
            match b {
                b'\n' => return None,
                b'\\' => i += 1,
                b'[' => class = true,
                b']' => class = false,
                b'/' if !class => return Some(i + 1),
                _ => {}
            }
            i += 1;
        }
        None
    }

    fn python(&mut self) {
        let s = self.src;
        let mut i = 0;
        while let Some(p) = memchr3(b'#', b'"', b'\'', &s[i..]) {
            let p = i + p;
            if s[p] == b'#' {
                let end = self.line_end(p);
                self.comment(p, end, false, true);
                i = end;
                continue;
            }
            let q = s[p];
            let triple = s.get(p + 1) == Some(&q) && s.get(p + 2) == Some(&q);
            i = if triple {
                let close = [q, q, q];
                let mut j = p + 3;
                // Find three quotes not escaped by a backslash.
                let end = loop {
                    match memchr2(q, b'\\', &s[j..]) {
                        None => break s.len(),
                        Some(k) if s[j + k] == b'\\' => j += k + 2,
                        Some(k) if s[j + k..].starts_with(&close) => break j + k + 3,
                        Some(k) => j += k + 1,
                    }
                    if j >= s.len() {
                        break s.len();
                    }
                };
                self.long_strings.push((p, end));
                self.string(p + 3, end, 3)
            } else {
                let end = self.escaped_end(p + 1, q, true);
                self.string(p + 1, end, 1)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(lang: Language, src: &str) -> String {
        String::from_utf8(lex(lang, src.as_bytes()).code).expect("mask keeps UTF-8 outside literals")
    }

    #[test]
    fn rust_strings_chars_and_comments_are_masked() {
        let src = "let a = \"todo!()\"; // todo!()\nlet b = r#\"x\"y\"#; let c = '\"'; let d: &'a str = x; /* a /* b */ c */ e";
        let m = code(Language::Rust, src);
        assert!(!m.contains("todo"), "{m}");
        assert!(m.contains("let b = r#\"   \"#;"), "{m}");
        assert!(m.contains("let c = ' ';"), "{m}");
        assert!(m.contains("&'a str"), "lifetimes stay code: {m}");
        assert!(m.trim_end().ends_with('e') && !m.contains("c */"), "nested block comment: {m}");
        assert_eq!(m.len(), src.len());
    }

    #[test]
    fn rust_doc_comments_are_marked() {
        let l = lex(Language::Rust, b"/// doc\n//// not doc\n//! inner\n// plain\n/** doc */ /*! doc */ /*** no */");
        let docs: Vec<bool> = l.comments.iter().map(|c| c.doc).collect();
        assert_eq!(docs, [true, false, true, false, true, true, false]);
    }

    #[test]
    fn go_raw_strings_and_runes() {
        let m = code(Language::Go, "s := `panic(\"x\")` + \"//\" // c\nr := '\\''; t := '\"'; panic(1)");
        assert!(!m.contains("panic(\"x\")") && !m.contains("//") && m.contains("panic(1)"), "{m}");
    }

    #[test]
    fn csharp_verbatim_raw_and_doc() {
        let l = lex(Language::CSharp, b"var a = @\"x\"\"throw\"; var b = \"\"\"throw \"q\" \"\"\"; /// doc\n// c\nthrow x;");
        let m = String::from_utf8(l.code).expect("utf8");
        assert_eq!(m.matches("throw").count(), 1, "{m}");
        assert_eq!(l.comments.iter().map(|c| c.doc).collect::<Vec<_>>(), [true, false]);
    }

    #[test]
    fn python_triple_quotes_and_hash_in_strings() {
        let m = code(Language::Python, "s = '#x'\nd = \"\"\"raise NotImplementedError\n\"\"\"  # pass\nraise E");
        assert!(m.contains("s = '  '") && !m.contains("NotImplementedError") && !m.contains("# pass") && m.contains("raise E"), "{m}");
    }

    #[test]
    fn typescript_regex_and_templates() {
        let m = code(Language::TypeScript, "const r = /\"[/]/g; const t = `throw ${x}`; const q = a / b; // c\nthrow e");
        assert!(m.contains("const q = a / b;") && !m.contains("throw $") && m.contains("throw e"), "{m}");
    }
}
