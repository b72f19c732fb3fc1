//! Human output of `map suggest`.

use std::fmt::Write as _;

use super::{align_right, table, text};
use crate::ops::suggest::SuggestReport;

pub fn report(r: &SuggestReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} target(s) scanned in {} ({} functions); {} feature(s) considered, {} unambiguous",
        r.lang.as_str(),
        if r.roots.is_empty() { "-".to_string() } else { r.roots.join(", ") },
        r.symbols,
        r.features,
        r.unambiguous
    );
    if !r.suggestions.is_empty() {
        let mut t = table(&["ID", "Go", "Candidate", "Confidence", "Why", "Now"]);
        for s in &r.suggestions {
            let now = match (&s.current, s.agrees) {
                (Some(_), Some(true)) => "mapped, agrees".to_string(),
                (Some(c), _) => format!("mapped to {c}"),
                (None, _) if s.unambiguous => "unmapped (sure)".to_string(),
                (None, _) => "unmapped".to_string(),
            };
            match s.candidates.first() {
                Some(c) => t.add_row(vec![s.feature_id.to_string(), s.go_name.clone(), c.target.clone(), format!("{:.2}", c.confidence), c.why.clone(), now]),
                None => t.add_row(vec![s.feature_id.to_string(), s.go_name.clone(), "-".into(), "-".into(), "no function by the conventions".into(), now]),
            };
            for c in s.candidates.iter().skip(1) {
                t.add_row(vec![String::new(), String::new(), c.target.clone(), format!("{:.2}", c.confidence), c.why.clone(), String::new()]);
            }
        }
        align_right(&mut t, &[0, 3]);
        let _ = writeln!(out, "\n{}", text(&t));
    }
    if let Some(a) = &r.agreement {
        let _ = writeln!(
            out,
            "\nAgainst the mappings: {} mapped, {} proposed unambiguously, {} agree: precision {:.1}%, recall {:.1}%",
            a.mapped,
            a.proposed,
            a.agreeing,
            a.precision * 100.0,
            a.recall * 100.0
        );
    }
    if !r.applied.is_empty() {
        let _ = writeln!(out, "\nStored {} target(s):", r.applied.len());
        for s in &r.applied {
            let _ = writeln!(out, "  feature {} {} → {}", s.feature_id, s.go_name, s.candidates[0].target);
        }
    }
    if r.remaining > 0 {
        let _ = writeln!(out, "\n{} more unambiguous suggestion(s) can be stored with --apply (at most 15 per call)", r.remaining);
    }
    out
}
