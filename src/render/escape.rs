//! Human output never passes control characters through from data: a
//! reason holding `\n` or `\x1b[2K` would forge lines or erase the screen,
//! a file name with a newline would split `stub scan` output. Values that
//! came from the database, a file or a command are escaped with [`value`]
//! (every control character, newline included, as `\n`, `\e`, `\x07`,
//! `\u{202e}`); whole rendered texts go through [`text`] on their way out,
//! which keeps the renderer's own newlines and escapes everything else.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character escaped, newlines included.
pub fn value(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// `s` with every control character but `\n` escaped: for a rendered text
/// whose line breaks are the renderer's own.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// [`text`] that also keeps the colour (SGR) sequences the renderer wrote
/// itself when colour is on; every value in it was escaped with [`value`]
/// already, so any other escape sequence is still shown, not obeyed.
pub fn coloured_text(s: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&escape(&rest[..at], true));
        let seq = &rest[at..];
        let params = seq[1..].strip_prefix('[').map(|p| p.bytes().take_while(|b| b.is_ascii_digit() || *b == b';').count());
        match params {
            Some(n) if seq.as_bytes().get(2 + n) == Some(&b'm') => {
                out.push_str(&seq[..3 + n]);
                rest = &seq[3 + n..];
            }
            _ => {
                out.push_str("\\e");
                rest = &seq[1..];
            }
        }
    }
    out.push_str(&escape(rest, true));
    Cow::Owned(out)
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c) && !(keep_newlines && c == '\n')) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c) || (keep_newlines && c == '\n') {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x1b' => out.push_str("\\e"),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// C0 and C1 controls, DEL, and the invisible characters that reorder or
/// hide text on a terminal (bidirectional overrides and isolates,
/// zero-width spaces and joiners, the line and paragraph separators).
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_sequences_survive_only_in_coloured_text() {
        let s = "\x1b[38;5;11mstub\x1b[39m \x1b[2K\nnext\x1b";
        assert_eq!(coloured_text(s), "\x1b[38;5;11mstub\x1b[39m \\e[2K\nnext\\e");
        assert_eq!(text(s), "\\e[38;5;11mstub\\e[39m \\e[2K\nnext\\e");
    }

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(value("plain text — ünïcode"), Cow::Borrowed(_)));
        assert_eq!(value("a\nb\r\tc\x1b[2Kd\x07\x7f\u{9b}"), "a\\nb\\r\\tc\\e[2Kd\\x07\\x7f\\x9b");
        assert_eq!(value("evil\u{202e}txt.exe\u{200b}"), "evil\\u{202e}txt.exe\\u{200b}");
        assert_eq!(text("line one\nline \x1b[31mtwo\n"), "line one\nline \\e[31mtwo\n");
        assert!(matches!(text("a\nb\n"), Cow::Borrowed(_)));
    }
}
