//! What a test body calls, and which calls can fail a test: the names of
//! functions, methods and macros called in a code mask (generic arguments
//! of any depth skipped, so `check_err::<Vec<u8>>(…)` is a call of
//! `check_err`), and the assertion prefixes (`assert*`, `expect*`, …) that
//! make a call an assertion by its name alone.

use memchr::memchr3_iter;

/// Assertion prefixes used when `[stub] assertion_prefixes` is not set.
pub const DEFAULT_PREFIXES: &[&str] = &["assert", "expect", "should", "check", "verify"];

const KEYWORDS: &[&[u8]] = &[b"fn", b"if", b"elif", b"while", b"for", b"match", b"return", b"in", b"not", b"and", b"or", b"switch", b"catch", b"function", b"typeof", b"await", b"yield"];

/// One call found in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call<'a> {
    pub name: &'a [u8],
    /// Offset of the name in the code given.
    pub at: usize,
    /// A Rust macro invocation (`name!(…)`).
    pub is_macro: bool,
    /// Called as a method or through a path (`x.name(`, `a::name(`).
    pub qualified: bool,
    /// The identifier before the `.` of a method call (`assert` in
    /// `assert.equal(`).
    pub receiver: Option<&'a [u8]>,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Index of the last non-whitespace byte before `end`.
fn skip_ws_back(code: &[u8], end: usize) -> Option<usize> {
    code[..end].iter().rposition(|b| !b.is_ascii_whitespace())
}

/// Start of the identifier ending at `last` (inclusive), if there is one.
fn ident_back(code: &[u8], last: usize) -> Option<usize> {
    if !is_ident(code[last]) {
        return None;
    }
    let start = code[..=last].iter().rposition(|&b| !is_ident(b)).map_or(0, |p| p + 1);
    (!code[start].is_ascii_digit()).then_some(start)
}

/// The `<` matching the `>` at `close`, within a short distance; None when
/// what precedes is not a generic argument list (a comparison, a `->`).
fn generics_open(code: &[u8], close: usize) -> Option<usize> {
    if close > 0 && matches!(code[close - 1], b'-' | b'=') {
        return None;
    }
    let mut depth = 0usize;
    // Type literals (`Promise<{ a: string; b: number }>`) hold braces and
    // semicolons; outside them either ends the search.
    let mut braces = 0usize;
    let floor = close.saturating_sub(600);
    for i in (floor..=close).rev() {
        match code[i] {
            b'}' => braces += 1,
            b'{' if braces > 0 => braces -= 1,
            _ if braces > 0 => {}
            b'>' if i > 0 && matches!(code[i - 1], b'-' | b'=') => {}
            b'>' => depth += 1,
            b'<' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b';' | b'{' => return None,
            // Operators of a condition, not of a type (`a < b && c > (d)`).
            b'&' | b'|' if i > 0 && code[i - 1] == code[i] => return None,
            _ => {}
        }
    }
    None
}

/// The identifier before `at` (skipping spaces), if any.
fn word_before(code: &[u8], at: usize) -> &[u8] {
    let Some(last) = skip_ws_back(code, at) else { return b"" };
    match ident_back(code, last) {
        Some(start) => &code[start..=last],
        None => b"",
    }
}

/// Every call in `code`, in order of its opening bracket.
pub fn calls(code: &[u8]) -> Vec<Call<'_>> {
    let mut out = Vec::new();
    for p in memchr3_iter(b'(', b'[', b'{', code) {
        let Some(mut j) = skip_ws_back(code, p) else { continue };
        let mut is_macro = false;
        if code[j] == b'!' {
            is_macro = true;
            let Some(k) = skip_ws_back(code, j) else { continue };
            j = k;
        } else if code[p] != b'(' {
            continue;
        } else if code[j] == b'>' {
            let Some(open) = generics_open(code, j) else { continue };
            let Some(k) = skip_ws_back(code, open) else { continue };
            j = k;
            if j >= 1 && code[j] == b':' && code[j - 1] == b':' {
                let Some(k) = skip_ws_back(code, j - 1) else { continue };
                j = k;
            }
        }
        let Some(start) = ident_back(code, j) else { continue };
        // A definition names itself; it calls nothing. Keywords before a
        // parenthesis are no calls either.
        let name = &code[start..=j];
        if matches!(word_before(code, start), b"fn" | b"def" | b"function") || (!is_macro && KEYWORDS.contains(&name)) {
            continue;
        }
        let before = skip_ws_back(code, start).map(|b| code[b]);
        let qualified = matches!(before, Some(b'.' | b':'));
        let receiver = match skip_ws_back(code, start) {
            Some(dot) if code[dot] == b'.' => skip_ws_back(code, dot).and_then(|last| Some(&code[ident_back(code, last)?..=last])),
            _ => None,
        };
        out.push(Call { name, at: start, is_macro, qualified, receiver });
    }
    out
}

/// Whether `name` starts with one of the prefixes as a word of its own:
/// the prefix is the whole name, or `_`, a capital letter or a digit
/// follows (`assert_eq`, `expectTypeOf`, `check2`; not `checksum`).
/// Leading underscores are ignored (`_assert_ok`).
pub fn has_assertion_prefix(name: &[u8], prefixes: &[String]) -> bool {
    let name = &name[name.iter().take_while(|&&b| b == b'_').count()..];
    prefixes.iter().any(|p| {
        name.starts_with(p.as_bytes()) && name.get(p.len()).is_none_or(|&b| b == b'_' || b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(code: &str) -> Vec<String> {
        calls(code.as_bytes()).iter().map(|c| format!("{}{}", String::from_utf8_lossy(c.name), if c.is_macro { "!" } else { "" })).collect()
    }

    #[test]
    fn nested_generics_and_macros_do_not_hide_calls() {
        assert_eq!(names("check_err::<Vec<u8>>(x); check_err::<String>(y)"), ["check_err", "check_err"]);
        assert_eq!(names("assert_is_object_safe::<&dyn Stream<Item = ()>>();"), ["assert_is_object_safe"]);
        assert_eq!(names("expectTypeOf<Record<string, never>>().toEqualTypeOf<X>()"), ["expectTypeOf", "toEqualTypeOf"]);
        assert_eq!(names("util.assertEqual<P, Promise<{ name: string; age: number }>>(true);"), ["assertEqual"]);
        assert_eq!(names("snapshot!(x as T, @\"\"); v![1]; if a { b }"), ["snapshot!", "v!"]);
        assert_eq!(names("if a < b && c > (d) { } let f: fn() -> u8 = g(1);"), ["g"]);
        assert_eq!(names("fn assert_traits<T: Send>() {} def check(x): function verify() {}"), Vec::<String>::new());
    }

    #[test]
    fn qualified_calls_are_marked() {
        let c = calls(b"x.unwrap(); a::b(); f()");
        assert_eq!(c.iter().map(|c| c.qualified).collect::<Vec<_>>(), [true, true, false]);
        assert_eq!(c.iter().map(|c| c.receiver).collect::<Vec<_>>(), [Some(&b"x"[..]), None, None]);
    }

    #[test]
    fn prefixes_match_whole_words() {
        let p: Vec<String> = DEFAULT_PREFIXES.iter().map(|s| s.to_string()).collect();
        for yes in ["assert", "assert_eq", "assertEqual", "expectTypeOf", "check", "check_err", "verify2", "_assert_ok", "should"] {
            assert!(has_assertion_prefix(yes.as_bytes(), &p), "{yes}");
        }
        for no in ["checksum", "asserted", "expected", "shoulder", "verifying", "recheck"] {
            assert!(!has_assertion_prefix(no.as_bytes(), &p), "{no}");
        }
    }
}
