//! Human output of `batch update`.

use std::fmt::Write as _;

use super::escape::value;

use super::{align_right, table, text, SafeRows};
use crate::db::ChangeOutcome;
use crate::domain::transitions::Verdict;

pub fn outcome(o: &ChangeOutcome) -> String {
    let mut out = String::new();
    let state = if o.applied {
        format!("applied as change {}", o.change_id.unwrap_or_default())
    } else if o.refused() > 0 {
        "refused, nothing written".to_string()
    } else if o.dry_run {
        "dry run, nothing written".to_string()
    } else {
        "nothing to change".to_string()
    };
    let _ = writeln!(out, "Batch {}: {} item(s) → {} ({state})", o.batch, o.items.len(), o.to);
    let mut t = table(&["Kind", "ID", "Name", "From", "To", "Result"]);
    for i in &o.items {
        let result = match &i.verdict {
            Verdict::Change { override_used: true } => "changed (dependency override)".to_string(),
            Verdict::Change { .. } if o.applied => "changed".to_string(),
            Verdict::Change { .. } => "would change".to_string(),
            Verdict::Unchanged => "unchanged (already there)".to_string(),
            Verdict::Refused(why) => format!("refused: {why}"),
        };
        t.add_safe_row(vec![i.kind.as_str().to_string(), i.id.to_string(), i.name.clone(), i.from.to_string(), i.to.to_string(), result]);
    }
    align_right(&mut t, &[1]);
    super::wrappable(&mut t, &[2, 5]);
    let _ = writeln!(out, "{}", text(&t));
    let blocked = o.items.iter().any(|i| matches!(&i.verdict, Verdict::Refused(w) if w.contains("dependency")));
    if (blocked || o.override_id.is_some()) && o.unfinished_dependency_count > 0 {
        let _ = writeln!(out, "Unfinished dependency items ({}, first {} shown):", o.unfinished_dependency_count, o.unfinished_dependencies.len());
        for d in &o.unfinished_dependencies {
            let _ = writeln!(out, "  {}", value(d));
        }
    }
    if let Some(id) = o.override_id {
        let _ = writeln!(out, "Dependency override recorded as #{id}.");
    }
    out
}
