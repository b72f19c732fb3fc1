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

/// Port of analyzeTokens: whether the tokens hold a `*`, a `>`.
pub fn analyze_tokens(tokens: &[&str]) -> (bool, bool) {
    let (mut pwc, mut fwc) = (false, false);
    for t in tokens {
        match *t {
            "*" => pwc = true,
            ">" => fwc = true,
            _ => {}
        }
    }
    (pwc, fwc)
}

/// Port of tokensCanMatch: two non-empty tokens can match when either is
/// a wildcard or they are equal.
pub fn tokens_can_match(t1: &str, t2: &str) -> bool {
    let (Some(c1), Some(c2)) = (t1.bytes().next(), t2.bytes().next()) else { return false };
    if c1 == PWC || c2 == PWC || c1 == FWC || c2 == FWC {
        return true;
    }
    t1 == t2
}

/// Port of SubjectsCollide: whether some literal subject matches both.
pub fn subjects_collide(subj1: &str, subj2: &str) -> bool {
    if subj1 == subj2 {
        return true;
    }
    let (toks1, toks2) = (tokenize_subject_into_slice(subj1), tokenize_subject_into_slice(subj2));
    let ((pwc1, fwc1), (pwc2, fwc2)) = (analyze_tokens(&toks1), analyze_tokens(&toks2));
    let (l1, l2) = (!(pwc1 || fwc1), !(pwc2 || fwc2));
    if l1 && l2 {
        return false;
    }
    // A literal against a wildcard subject: subset matching.
    if l1 && !l2 {
        return is_subset_match_tokenized(&toks1, &toks2);
    } else if l2 && !l1 {
        return is_subset_match_tokenized(&toks2, &toks1);
    }
    // Both have wildcards: with partials only, the lengths must match.
    let (lt1, lt2) = (toks1.len(), toks2.len());
    if !fwc1 && !fwc2 && lt1 != lt2 {
        return false;
    }
    if lt1 != lt2 && ((lt1 < lt2 && !fwc1) || (lt2 < lt1 && !fwc2)) {
        return false;
    }
    toks1.iter().zip(toks2.iter()).all(|(a, b)| tokens_can_match(a, b))
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

    /// Port of TestSublistSubjectCollide, with literal and same-length rows added.
    #[test]
    fn test_sublist_subject_collide() {
        assert!(!subjects_collide("foo.*", "foo.*.bar.>"));
        assert!(!subjects_collide("foo.*.bar.>", "foo.*"));
        assert!(subjects_collide("foo.*", "foo.foo"));
        assert!(subjects_collide("foo.*", "*.foo"));
        assert!(subjects_collide("foo.bar.>", "*.bar.foo"));
        // Added: literals compare as strings, `>` needs a token to match.
        assert!(subjects_collide("foo", "foo"));
        assert!(!subjects_collide("foo", "bar"));
        assert!(!subjects_collide("foo", "foo.>"));
        assert!(subjects_collide("foo.bar", "foo.>"));
        assert!(!subjects_collide("foo.*", "bar.*"));
        assert!(subjects_collide(">", "foo.*.baz"));
    }

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
