//! Tokens of a masked file (identifiers and punctuation with their byte
//! offsets) and the brace pairs, shared by the Rust and C# symbol finders.

use super::lex::Masked;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok<'a> {
    pub text: &'a str,
    pub at: usize,
}

impl Tok<'_> {
    pub fn is(&self, s: &str) -> bool {
        self.text == s
    }

    pub fn is_ident(&self) -> bool {
        self.text.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
    }
}

/// Identifiers (with `r#` and `@` prefixes dropped), numbers, `::`, `->`,
/// `=>` and single punctuation characters.
pub fn tokenize(m: &Masked) -> Vec<Tok<'_>> {
    let code = &m.code;
    let mut out = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let b = code[i];
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 {
            while i < code.len() && (code[i].is_ascii_alphanumeric() || code[i] == b'_' || code[i] >= 0x80) {
                i += 1;
            }
        } else if matches!(&code[i..code.len().min(i + 2)], b"::" | b"->" | b"=>") {
            i += 2;
        } else {
            i += 1;
        }
        if let Ok(text) = std::str::from_utf8(&code[start..i]) {
            // `r#type` and `@class` name plain identifiers.
            if text == "r" && code.get(i) == Some(&b'#') && code.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') {
                i += 1;
                continue;
            }
            if text == "@" {
                continue;
            }
            out.push(Tok { text, at: start });
        }
    }
    out
}

/// For each token index holding `open`, the index of its matching `close`
/// (None when unbalanced).
pub fn pairs(toks: &[Tok<'_>], open: &str, close: &str) -> Vec<Option<usize>> {
    let mut out = vec![None; toks.len()];
    let mut stack = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.is(open) {
            stack.push(i);
        } else if t.is(close) {
            if let Some(o) = stack.pop() {
                out[o] = Some(i);
            }
        }
    }
    out
}

/// The provenance notes (`Port of X`) in the comments of the lines just
/// above `line` (doc comments and attributes directly before an item), as
/// Go names without `(*…)`: `raft.processAppendEntry`.
pub fn ports_above(m: &Masked, text: &[u8], line: usize) -> Vec<String> {
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let mut out = Vec::new();
    let mut l = line;
    while l > 1 {
        l -= 1;
        let raw = lines.get(l - 1).map_or(&b""[..], |s| s.trim_ascii());
        let is_comment = raw.starts_with(b"//");
        let is_attribute = raw.starts_with(b"#[") || raw.starts_with(b"[");
        if !(is_comment || is_attribute) {
            break;
        }
        if is_comment {
            for (_, c) in m.comments.iter().filter(|(cl, _)| *cl == l) {
                out.extend(ports_in(c));
            }
        }
    }
    out
}

/// Go names after "Port of" in a comment: `(*raft).x`, `raft.x`, `newEntry`.
pub fn ports_in(comment: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = comment;
    while let Some(p) = rest.find("Port of ") {
        rest = &rest[p + "Port of ".len()..];
        let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '(' | ')' | '*')).collect();
        let name = word.replace(['(', ')', '*'], "");
        let name = name.trim_end_matches('.').to_string();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_names() {
        assert_eq!(ports_in("Port of (*raft).processAppendEntry"), ["raft.processAppendEntry"]);
        assert_eq!(ports_in("Port of newEntry."), ["newEntry"]);
        assert_eq!(ports_in("Port of RaftState.String; see also"), ["RaftState.String"]);
        assert!(ports_in("no provenance").is_empty());
    }
}
