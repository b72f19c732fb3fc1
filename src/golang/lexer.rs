//! A Go tokenizer that understands comments, interpreted and raw strings,
//! runes and numbers — enough to find declarations and bodies without being
//! fooled by braces inside literals. It keeps byte offsets and lines, never
//! allocates per token, and treats any non-ASCII byte outside literals as part
//! of an identifier (Go identifiers may use Unicode letters).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    /// Interpreted string, raw string or rune literal.
    Literal,
    /// An operator or punctuation mark; `text` tells which.
    Op,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: u32,
    pub end: u32,
    /// Line of the first byte (1-based).
    pub line: u32,
    /// Line of the last byte; differs from `line` only for raw strings.
    pub end_line: u32,
    /// A newline (or a comment holding one) separates this token from the
    /// previous one: Go's automatic semicolon may sit between them.
    pub newline_before: bool,
}

impl Token {
    pub fn text<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        &src[self.start as usize..self.end as usize]
    }

    pub fn is_op(&self, src: &[u8], op: &[u8]) -> bool {
        self.kind == Kind::Op && self.text(src) == op
    }

    pub fn is_ident(&self, src: &[u8], word: &[u8]) -> bool {
        self.kind == Kind::Ident && self.text(src) == word
    }

    /// Go's rule: a line ending in this token gets an implicit semicolon.
    pub fn ends_statement(&self, src: &[u8]) -> bool {
        match self.kind {
            Kind::Number | Kind::Literal => true,
            Kind::Ident => !is_keyword(self.text(src)) || matches!(self.text(src), b"break" | b"continue" | b"fallthrough" | b"return"),
            Kind::Op => matches!(self.text(src), b")" | b"]" | b"}" | b"++" | b"--"),
        }
    }
}

/// A token's text as an owned string; bytes that are not UTF-8 become
/// U+FFFD, as `String::from_utf8_lossy` makes them. Identifiers are almost
/// always ASCII, which the standard check passes word by word where the
/// lossy one goes byte by byte.
pub fn owned_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

pub fn is_keyword(word: &[u8]) -> bool {
    matches!(
        word,
        b"break" | b"case" | b"chan" | b"const" | b"continue" | b"default" | b"defer" | b"else" | b"fallthrough"
            | b"for" | b"func" | b"go" | b"goto" | b"if" | b"import" | b"interface" | b"map" | b"package"
            | b"range" | b"return" | b"select" | b"struct" | b"switch" | b"type" | b"var"
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub line: u32,
    pub message: &'static str,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LexError {}

/// Length of the operator starting `rest`: Go's two- and three-byte
/// operators are taken whole (longest match), anything else is one byte.
fn op_len(rest: &[u8]) -> usize {
    let b1 = rest.get(1).copied().unwrap_or(0);
    let b2 = rest.get(2).copied().unwrap_or(0);
    match (rest[0], b1, b2) {
        (b'<', b'<', b'=') | (b'>', b'>', b'=') | (b'&', b'^', b'=') | (b'.', b'.', b'.') => 3,
        (b'&', b'&', _) | (b'|', b'|', _) | (b'<', b'-', _) | (b'+', b'+', _) | (b'-', b'-', _) => 2,
        (b'<', b'<', _) | (b'>', b'>', _) | (b'&', b'^', _) | (b':', b'=', _) => 2,
        (b'=' | b'!' | b'<' | b'>' | b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^', b'=', _) => 2,
        _ => 1,
    }
}

/// Bytes that continue an identifier, as a lookup table (the lexer's
/// hottest test).
static IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
        i += 1;
    }
    t
};

fn is_ident_byte(b: u8) -> bool {
    IDENT[b as usize]
}

/// Split Go source into tokens; comments and whitespace are dropped.
pub fn tokenize(src: &[u8]) -> Result<Vec<Token>, LexError> {
    let mut tokens = Vec::new();
    tokenize_into(src, &mut tokens)?;
    Ok(tokens)
}

/// [`tokenize`] into `tokens`, which is cleared first: a caller tokenizing
/// many files reuses one buffer instead of faulting in fresh pages for each
/// (about a fifth of the standard library's import time went there).
pub fn tokenize_into(src: &[u8], tokens: &mut Vec<Token>) -> Result<(), LexError> {
    tokens.clear();
    tokens.reserve(src.len() / 5);
    let mut i = 0usize;
    let mut line = 1u32;
    let mut newline_before = true;
    let n = src.len();
    while i < n {
        let b = src[i];
        match b {
            b'\n' => {
                line += 1;
                newline_before = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | 0x0c => i += 1,
            b'/' if i + 1 < n && src[i + 1] == b'/' => {
                // Line comment: runs to the newline, which the loop then sees.
                i = memchr(b'\n', &src[i..]).map_or(n, |p| i + p);
            }
            b'/' if i + 1 < n && src[i + 1] == b'*' => {
                let start_line = line;
                let body = &src[i + 2..];
                let close = find_pair(body, b'*', b'/').ok_or(LexError { line: start_line, message: "unterminated block comment" })?;
                let newlines = count_newlines(&body[..close]);
                if newlines > 0 {
                    newline_before = true;
                    line += newlines;
                }
                i += 2 + close + 2;
            }
            _ => {
                let start = i;
                let start_line = line;
                let kind = if is_ident_byte(b) && !b.is_ascii_digit() {
                    while i < n && is_ident_byte(src[i]) {
                        i += 1;
                    }
                    Kind::Ident
                } else if b.is_ascii_digit() || (b == b'.' && i + 1 < n && src[i + 1].is_ascii_digit()) {
                    i = scan_number(src, i);
                    Kind::Number
                } else if b == b'"' || b == b'\'' {
                    i = scan_quoted(src, i, b).ok_or(LexError {
                        line,
                        message: if b == b'"' { "unterminated string" } else { "unterminated rune" },
                    })?;
                    Kind::Literal
                } else if b == b'`' {
                    let close = memchr(b'`', &src[i + 1..]).ok_or(LexError { line, message: "unterminated raw string" })?;
                    line += count_newlines(&src[i + 1..i + 1 + close]);
                    i += close + 2;
                    Kind::Literal
                } else {
                    i += op_len(&src[i..]);
                    Kind::Op
                };
                tokens.push(Token { kind, start: start as u32, end: i as u32, line: start_line, end_line: line, newline_before });
                newline_before = false;
            }
        }
    }
    Ok(())
}

fn scan_number(src: &[u8], mut i: usize) -> usize {
    let n = src.len();
    let hex = src[i] == b'0' && i + 1 < n && matches!(src[i + 1], b'x' | b'X');
    while i < n {
        let c = src[i];
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
            let exponent = if hex { matches!(c, b'p' | b'P') } else { matches!(c, b'e' | b'E') };
            i += 1;
            if exponent && i < n && matches!(src[i], b'+' | b'-') {
                i += 1;
            }
        } else {
            break;
        }
    }
    i
}

/// End offset (exclusive) of a `"…"` or `'…'` literal starting at `i`.
fn scan_quoted(src: &[u8], mut i: usize, quote: u8) -> Option<usize> {
    i += 1;
    while i < src.len() {
        match src[i] {
            b'\\' => i += 2,
            b'\n' => return None,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

use memchr::memchr;

fn find_pair(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    memchr::memmem::find(hay, &[a, b])
}

pub(crate) fn count_newlines(bytes: &[u8]) -> u32 {
    memchr::memchr_iter(b'\n', bytes).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        tokenize(src.as_bytes())
            .unwrap()
            .iter()
            .map(|t| String::from_utf8_lossy(t.text(src.as_bytes())).into_owned())
            .collect()
    }

    #[test]
    fn owned_text_is_the_lossy_text() {
        for bytes in [&b"name"[..], b"", "\u{e9}t\u{e9}".as_bytes(), b"a\xffb", b"\xc3"] {
            assert_eq!(owned_text(bytes), String::from_utf8_lossy(bytes), "{bytes:?}");
        }
    }

    #[test]
    fn literals_hide_braces_and_comment_markers() {
        let src = "x := \"{ // }\" + `a\n}{` + '}' // c {\n/* } */ y";
        assert_eq!(texts(src), ["x", ":=", "\"{ // }\"", "+", "`a\n}{`", "+", "'}'", "y"]);
    }

    #[test]
    fn lines_count_raw_strings_and_block_comments() {
        let src = "a `1\n2\n3` b /* x\ny */ c\nd";
        let toks = tokenize(src.as_bytes()).unwrap();
        let lines: Vec<_> = toks.iter().map(|t| (t.line, t.newline_before)).collect();
        assert_eq!(lines, [(1, true), (1, false), (3, false), (4, true), (5, true)]);
    }

    #[test]
    fn escaped_quotes_stay_inside_literals() {
        assert_eq!(texts(r#"a("\"}", '\'')"#), ["a", "(", r#""\"}""#, ",", r"'\''", ")"]);
    }

    #[test]
    fn numbers_and_long_operators() {
        assert_eq!(texts("x<<=1e+10;y&^=0x1p-2;z..."), ["x", "<<=", "1e+10", ";", "y", "&^=", "0x1p-2", ";", "z", "..."]);
    }

    #[test]
    fn unterminated_literals_are_errors() {
        assert_eq!(tokenize(b"a \"open\nb").unwrap_err().message, "unterminated string");
        assert_eq!(tokenize(b"`never closed").unwrap_err().message, "unterminated raw string");
        assert_eq!(tokenize(b"/* never").unwrap_err().message, "unterminated block comment");
    }
}
