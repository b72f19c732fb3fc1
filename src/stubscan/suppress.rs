//! In-source suppressions: `// porttrack: allow(RULE[, RULE…]) reason` (or
//! `#` in Python) on a finding's line or the line before. A suppression
//! without a reason still suppresses but is a finding itself; one that
//! suppresses nothing is reported so stale ones do not pile up.
//!
//! Suppressions are read with the file (`parse`) and applied once its
//! findings are final (`apply`), after tests have been resolved against
//! helpers in other files.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::rules::{self, re, Rule, SUPPRESS_REASON, SUPPRESS_UNUSED};
use super::source::Source;
use super::Finding;

/// The comment's text after its marker must start with `porttrack:`.
static SUPPRESSION: LazyLock<Regex> = LazyLock::new(|| re(r"\A(?://|#)\s*porttrack:"));
static ALLOW: LazyLock<Regex> = LazyLock::new(|| re(r"\A(?://|#)\s*porttrack:\s*allow\s*\(([^)]*)\)(.*)\z"));

/// The mutation gate's suppression rule, which the stub scan leaves alone.
pub const MUTANT_RULE: &str = "mutant";

#[derive(Debug, Clone)]
pub struct Suppression {
    line: usize,
    column: usize,
    /// The trimmed line, for the baseline key of a finding about it.
    key: String,
    rules: Vec<String>,
    has_reason: bool,
    /// Why it can never apply (malformed, unknown rule), if so.
    broken: Option<String>,
    used: bool,
}

pub fn parse(src: &Source) -> Vec<Suppression> {
    src.comments
        .iter()
        .filter(|c| c.line && !c.doc)
        .filter_map(|c| {
            let text = src.text[c.start..c.end].trim_ascii_end();
            if !SUPPRESSION.is_match(text) {
                return None;
            }
            let (line, column) = src.line_col(c.start);
            let key = src.line_text(line).trim().to_string();
            let mut s = Suppression { line, column, key, rules: Vec::new(), has_reason: false, broken: None, used: false };
            match ALLOW.captures(text) {
                None => s.broken = Some("malformed suppression: write `porttrack: allow(RULE) reason`".into()),
                Some(cap) => {
                    let list = cap.get(1).map_or(Vec::new(), |m| m.as_bytes().to_vec());
                    let named: Vec<String> = String::from_utf8_lossy(&list).split(',').map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).collect();
                    // `mutant` declares an equivalent mutant for the mutation
                    // gate (domain::mutation), which judges it; not a stub rule.
                    s.rules = named.iter().filter(|r| *r != MUTANT_RULE).cloned().collect();
                    if s.rules.is_empty() && !named.is_empty() {
                        return None;
                    }
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

/// Drop the file's findings a suppression covers; add findings for
/// suppressions without a reason and for those that covered nothing.
/// Returns how many findings were suppressed.
pub fn apply(path: &str, mut sups: Vec<Suppression>, found: &mut Vec<Finding>) -> usize {
    if sups.is_empty() {
        return 0;
    }
    let before = found.len();
    found.retain(|f| {
        let hit = sups.iter_mut().find(|s| s.broken.is_none() && (s.line == f.line || s.line + 1 == f.line) && s.rules.iter().any(|r| r == f.rule));
        match hit {
            Some(s) => {
                s.used = true;
                false
            }
            None => true,
        }
    });
    let suppressed = before - found.len();
    let finding = |s: &Suppression, rule: Rule, message: String| Finding::new(path, s.line, s.column, rule, message, &s.key);
    for s in &sups {
        let rules = s.rules.join(", ");
        if let Some(why) = &s.broken {
            found.push(finding(s, SUPPRESS_UNUSED, why.clone()));
            continue;
        }
        if !s.used {
            found.push(finding(s, SUPPRESS_UNUSED, format!("suppression of {rules} matches no finding on this line or the next: remove it")));
        }
        if !s.has_reason {
            found.push(finding(s, SUPPRESS_REASON, format!("suppression of {rules} gives no reason: say why after `allow(…)`")));
        }
    }
    suppressed
}
