//! In-source suppressions: `// porttrack: allow(RULE[, RULE…]) reason` (or
//! `#` in Python) on a finding's line or the line before. A suppression
//! without a reason still suppresses but is a finding itself; one that
//! suppresses nothing is reported so stale ones do not pile up.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::rules::{self, re, Raw, SUPPRESS_REASON, SUPPRESS_UNUSED};
use super::source::Source;

/// The comment's text after its marker must start with `porttrack:`.
static SUPPRESSION: LazyLock<Regex> = LazyLock::new(|| re(r"\A(?://|#)\s*porttrack:"));
static ALLOW: LazyLock<Regex> = LazyLock::new(|| re(r"\A(?://|#)\s*porttrack:\s*allow\s*\(([^)]*)\)(.*)\z"));

struct Suppression {
    at: usize,
    line: usize,
    rules: Vec<String>,
    has_reason: bool,
    /// Why it can never apply (malformed, unknown rule), if so.
    broken: Option<String>,
    used: bool,
}

fn parse(src: &Source) -> Vec<Suppression> {
    src.comments
        .iter()
        .filter(|c| c.line && !c.doc)
        .filter_map(|c| {
            let text = src.text[c.start..c.end].trim_ascii_end();
            if !SUPPRESSION.is_match(text) {
                return None;
            }
            let line = src.line_of(c.start);
            let mut s = Suppression { at: c.start, line, rules: Vec::new(), has_reason: false, broken: None, used: false };
            match ALLOW.captures(text) {
                None => s.broken = Some("malformed suppression: write `porttrack: allow(RULE) reason`".into()),
                Some(cap) => {
                    let list = cap.get(1).map_or(Vec::new(), |m| m.as_bytes().to_vec());
                    s.rules = String::from_utf8_lossy(&list).split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
                    s.has_reason = cap.get(2).is_some_and(|m| !m.as_bytes().trim_ascii().is_empty());
                    if s.rules.is_empty() {
                        s.broken = Some("suppression names no rule".into());
                    } else if let Some(unknown) = s.rules.iter().find(|r| rules::by_id(r).is_none()) {
                        s.broken = Some(format!("suppression names unknown rule `{unknown}`"));
                    }
                }
            }
            Some(s)
        })
        .collect()
}

/// Drop the findings a suppression covers; add findings for suppressions
/// without a reason and for those that covered nothing. Returns how many
/// findings were suppressed.
pub fn apply(src: &Source, found: &mut Vec<Raw>) -> usize {
    let mut sups = parse(src);
    if sups.is_empty() {
        return 0;
    }
    let before = found.len();
    found.retain(|f| {
        let line = src.line_of(f.at);
        let hit = sups.iter_mut().find(|s| s.broken.is_none() && (s.line == line || s.line + 1 == line) && s.rules.iter().any(|r| r == f.rule.id));
        match hit {
            Some(s) => {
                s.used = true;
                false
            }
            None => true,
        }
    });
    let suppressed = before - found.len();
    for s in &sups {
        let rules = s.rules.join(", ");
        if let Some(why) = &s.broken {
            found.push(Raw::on_line(src, SUPPRESS_UNUSED, s.at, why.clone()));
            continue;
        }
        if !s.used {
            found.push(Raw::on_line(src, SUPPRESS_UNUSED, s.at, format!("suppression of {rules} matches no finding on this line or the next: remove it")));
        }
        if !s.has_reason {
            found.push(Raw::on_line(src, SUPPRESS_REASON, s.at, format!("suppression of {rules} gives no reason: say why after `allow(…)`")));
        }
    }
    suppressed
}
