//! A code mask for Rust and C# target files: the text with every comment
//! and literal blanked (newlines kept), so braces and keywords in strings
//! never count, plus the text of each line comment, where provenance notes
//! (`/// Port of (*raft).processAppendEntry`) live.

use super::Lang;

/// The masked text and the line comments of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// Same length as the input; comments and literal contents are spaces.
    pub code: Vec<u8>,
    /// `(line, text after the slashes)` of every `//` comment, 1-based.
    pub comments: Vec<(usize, String)>,
}

impl Masked {
    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        1 + memchr::memchr_iter(b'\n', &self.code[..offset.min(self.code.len())]).count()
    }
}

/// Blank comments and literals of `text` in `lang`.
pub fn mask(text: &[u8], lang: Lang) -> Masked {
    let mut code = text.to_vec();
    let mut comments = Vec::new();
    let n = text.len();
    let mut line = 1usize;
    let mut i = 0usize;
    let blank = |code: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut code[from..to.min(n)] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    while i < n {
        let b = text[i];
        let next = text.get(i + 1).copied().unwrap_or(0);
        match b {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if next == b'/' => {
                let end = memchr::memchr(b'\n', &text[i..]).map_or(n, |p| i + p);
                let body = text[i + 2..end].strip_prefix(b"/").unwrap_or(&text[i + 2..end]);
                comments.push((line, String::from_utf8_lossy(body).trim().to_string()));
                blank(&mut code, i, end);
                i = end;
            }
            b'/' if next == b'*' => {
                let end = block_comment_end(text, i, lang == Lang::Rust);
                line += count(&text[i..end]);
                blank(&mut code, i, end);
                i = end;
            }
            b'"' => {
                let end = if lang == Lang::CSharp && text[i..].starts_with(b"\"\"\"") { csharp_raw_end(text, i) } else { quoted_end(text, i, b'"') };
                line += count(&text[i..end]);
                blank(&mut code, i + 1, end.saturating_sub(1));
                i = end;
            }
            b'\'' => match char_end(text, i, lang) {
                Some(end) => {
                    blank(&mut code, i + 1, end - 1);
                    i = end;
                }
                // A Rust lifetime or label: `'a`.
                None => i += 1,
            },
            b'r' | b'b' if lang == Lang::Rust && starts_ident(text, i) => match rust_raw_end(text, i) {
                Some(end) => {
                    line += count(&text[i..end]);
                    blank(&mut code, i, end);
                    i = end;
                }
                None => i = ident_end(text, i),
            },
            b'@' | b'$' if lang == Lang::CSharp && text[i..].iter().take(3).any(|&c| c == b'"') => {
                let quote = i + text[i..].iter().position(|&c| c == b'"').unwrap_or(0);
                let verbatim = text[i..quote].contains(&b'@');
                let end = if text[quote..].starts_with(b"\"\"\"") {
                    csharp_raw_end(text, quote)
                } else if verbatim {
                    verbatim_end(text, quote)
                } else {
                    quoted_end(text, quote, b'"')
                };
                line += count(&text[i..end]);
                blank(&mut code, i, end);
                i = end;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => i = ident_end(text, i),
            _ => i += 1,
        }
    }
    Masked { code, comments }
}

fn count(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

fn starts_ident(text: &[u8], i: usize) -> bool {
    i == 0 || !(text[i - 1].is_ascii_alphanumeric() || text[i - 1] == b'_')
}

fn ident_end(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'_' || text[i] >= 0x80) {
        i += 1;
    }
    i
}

/// Past the `*/` closing the comment at `i`; Rust block comments nest.
fn block_comment_end(text: &[u8], i: usize, nests: bool) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j + 1 < text.len() {
        if text[j] == b'/' && text[j + 1] == b'*' && (nests || depth == 0) {
            depth += 1;
            j += 2;
        } else if text[j] == b'*' && text[j + 1] == b'/' {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    text.len()
}

/// Past the closing quote of a literal with backslash escapes at `i`.
fn quoted_end(text: &[u8], i: usize, quote: u8) -> usize {
    let mut j = i + 1;
    while j < text.len() {
        match text[j] {
            b'\\' => j += 2,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    text.len()
}

/// C# `@"…"`: `""` is a quote, no escapes.
fn verbatim_end(text: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < text.len() {
        if text[j] == b'"' {
            if text.get(j + 1) == Some(&b'"') {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    text.len()
}

/// C# 11 raw strings: `"""…"""` with at least as many closing quotes.
fn csharp_raw_end(text: &[u8], i: usize) -> usize {
    let quotes = text[i..].iter().take_while(|&&c| c == b'"').count();
    let fence = vec![b'"'; quotes];
    memchr::memmem::find(&text[i + quotes..], &fence).map_or(text.len(), |p| i + quotes + p + quotes)
}

/// A char literal at `i` (`'x'`, `'\n'`, `'\u{1F600}'`), or None for a Rust
/// lifetime or label.
fn char_end(text: &[u8], i: usize, lang: Lang) -> Option<usize> {
    let rest = &text[i + 1..];
    if rest.first() == Some(&b'\\') {
        return rest.iter().skip(2).position(|&c| c == b'\'').map(|p| i + 1 + 2 + p + 1);
    }
    // One character (possibly multi-byte UTF-8) and a closing quote.
    let width = match rest.first()? {
        c if *c < 0x80 => 1,
        c if *c >= 0xF0 => 4,
        c if *c >= 0xE0 => 3,
        _ => 2,
    };
    if rest.get(width) == Some(&b'\'') {
        return Some(i + 1 + width + 1);
    }
    if lang == Lang::CSharp {
        return Some(quoted_end(text, i, b'\''));
    }
    None
}

/// Rust raw and byte strings at `i`: `r"…"`, `r#"…"#`, `b"…"`, `br#"…"#`,
/// `b'x'`; None when `i` starts an ordinary identifier.
fn rust_raw_end(text: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    if text[j] == b'b' {
        j += 1;
        match text.get(j) {
            Some(b'\'') => return char_end(text, j, Lang::Rust),
            Some(b'"') => return Some(quoted_end(text, j, b'"')),
            Some(b'r') => {}
            _ => return None,
        }
    }
    if text.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = text[j..].iter().take_while(|&&c| c == b'#').count();
    if text.get(j + hashes) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    let body = j + hashes + 1;
    Some(memchr::memmem::find(&text[body..], &close).map_or(text.len(), |p| body + p + close.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str, lang: Lang) -> String {
        String::from_utf8(mask(text.as_bytes(), lang).code).unwrap()
    }

    #[test]
    fn rust_literals_comments_and_lifetimes() {
        let src = "fn a<'a>(x: &'a str) -> char { let s = \"}{\"; let r = r#\"}\"#; 'x' } // }\n/* { /* } */ */ fn b() {}";
        let out = code(src, Lang::Rust);
        assert_eq!(out.matches('{').count(), 2, "{out}");
        assert_eq!(out.matches('}').count(), 2, "{out}");
        assert!(out.contains("fn a<'a>(x: &'a str)") && out.contains("fn b()"), "{out}");
        let m = mask(b"/// Port of (*raft).processAppendEntry\nfn x() {}\n", Lang::Rust);
        assert_eq!(m.comments, [(1, "Port of (*raft).processAppendEntry".to_string())]);
    }

    #[test]
    fn csharp_verbatim_interpolated_and_raw_strings() {
        let src = "class C { string a = @\"x\"\"}\"; string b = $\"{a}}\"; string c = \"\"\"\n}\n\"\"\"; char d = '}'; }";
        let out = code(src, Lang::CSharp);
        assert_eq!((out.matches('{').count(), out.matches('}').count()), (1, 1), "{out}");
        assert_eq!(mask(src.as_bytes(), Lang::CSharp).line_of(src.len() - 1), 3);
    }
}
