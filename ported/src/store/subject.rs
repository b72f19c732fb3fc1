//! Subject matching the stores need (from `server/sublist.go` and
//! `server/filestore.go` at 8188ea93a). Tokens are separated by `.`; a
//! token that is exactly `*` matches one token, `>` the rest.

const PWC: u8 = b'*';
const FWC: u8 = b'>';
const TSEP: u8 = b'.';
/// The filter that matches every subject.
pub const FWCS: &str = ">";

fn wildcard_at(s: &[u8], i: usize) -> bool {
    (s[i] == PWC || s[i] == FWC) && (i == 0 || s[i - 1] == TSEP) && (i + 1 == s.len() || s[i + 1] == TSEP)
}

/// Port of subjectIsLiteral
pub fn subject_is_literal(subject: &str) -> bool {
    !subject_has_wildcard(subject)
}

/// Port of subjectHasWildcard
pub fn subject_has_wildcard(subject: &str) -> bool {
    let s = subject.as_bytes();
    (0..s.len()).any(|i| wildcard_at(s, i))
}

/// Port of tokenizeSubjectIntoSlice
pub fn tokenize_subject_into_slice(subject: &str) -> Vec<&str> {
    subject.split('.').collect()
}

/// Port of isSubsetMatchTokenized: whether every subject `tokens` can
/// stand for is matched by `test`.
pub fn is_subset_match_tokenized(tokens: &[&str], test: &[&str]) -> bool {
    for (i, t2) in test.iter().enumerate() {
        if i >= tokens.len() {
            return false;
        }
        if t2.is_empty() {
            return false;
        }
        if *t2 == ">" {
            return true;
        }
        let t1 = tokens[i];
        if t1.is_empty() || t1 == ">" {
            return false;
        }
        if t1 == "*" {
            if *t2 != "*" {
                return false;
            }
            continue;
        }
        if *t2 != "*" && t1 != *t2 {
            return false;
        }
    }
    tokens.len() == test.len()
}

/// Port of subjectIsSubsetMatch
pub fn subject_is_subset_match(subject: &str, test: &str) -> bool {
    is_subset_match_tokenized(&tokenize_subject_into_slice(subject), &tokenize_subject_into_slice(test))
}

/// Port of matchLiteral: whether the literal subject matches `subject`,
/// which may hold wildcards.
pub fn match_literal(literal: &str, subject: &str) -> bool {
    let (lit, sub) = (literal.as_bytes(), subject.as_bytes());
    let (ll, ls) = (lit.len(), sub.len());
    let mut li = 0usize;
    let mut i = 0usize;
    while i < ls {
        if li >= ll {
            return false;
        }
        match sub[i] {
            PWC if i == 0 || sub[i - 1] == TSEP => {
                if i == ls - 1 {
                    // Last token: the rest of the literal must be one token.
                    return !lit[li..].contains(&TSEP);
                } else if sub[i + 1] == TSEP {
                    while li < ll && lit[li] != TSEP {
                        li += 1;
                    }
                    if li >= ll {
                        return false;
                    }
                    i += 1;
                }
            }
            FWC if (i == 0 || sub[i - 1] == TSEP) && i == ls - 1 => return true,
            _ => {}
        }
        if sub[i] != lit[li] {
            return false;
        }
        li += 1;
        i += 1;
    }
    li >= ll
}

/// Port of compareFn: the comparison `PurgeEx` uses for a filter.
pub fn compare_fn(filter: &str) -> fn(&str, &str) -> bool {
    if filter.is_empty() || filter == FWCS {
        |_, _| true
    } else if subject_has_wildcard(filter) {
        subject_is_subset_match
    } else {
        |a, b| a == b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_whole_tokens() {
        assert!(subject_has_wildcard("foo.*"));
        assert!(subject_has_wildcard(">"));
        assert!(subject_has_wildcard("*.bar.>"));
        assert!(!subject_has_wildcard("foo*.bar"));
        assert!(!subject_has_wildcard("foo.>bar"));
        assert!(subject_is_literal("foo.bar"));
    }

    #[test]
    fn literal_matching_follows_sublist() {
        assert!(match_literal("foo.bar", "foo.*"));
        assert!(match_literal("foo.bar.baz", "foo.>"));
        assert!(!match_literal("foo.bar.baz", "foo.*"));
        assert!(match_literal("foo.bar", "*.bar"));
        assert!(!match_literal("foo", "foo.*"));
        assert!(!match_literal("foo.bar", "foo.baz"));
        assert!(match_literal("foo.bar", "foo.bar"));
        assert!(!match_literal("foo.barx", "foo.bar"));
        assert!(match_literal("a", ">"));
        assert!(!match_literal("a.b", "*"));
    }

    #[test]
    fn subset_matching_follows_sublist() {
        assert!(subject_is_subset_match("foo.bar", "foo.*"));
        assert!(subject_is_subset_match("foo.*", "foo.*"));
        assert!(!subject_is_subset_match("foo.*", "foo.bar"));
        assert!(subject_is_subset_match("foo.bar.baz", ">"));
        assert!(!subject_is_subset_match("foo", "foo.>"));
        assert!(!subject_is_subset_match("foo.bar", "foo"));
        assert!(compare_fn("")("x", "y"));
        assert!(compare_fn("foo.*")("foo.a", "foo.*"));
        assert!(!compare_fn("foo.a")("foo.b", "foo.a"));
    }
}
