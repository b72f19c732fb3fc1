//! Human output of `verify`.

use std::fmt::Write as _;

use super::escape::value;

use super::{table, text, SafeRows};
use crate::ops::verify::VerifyReport;

pub fn report(r: &VerifyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Verify batch {}{}", r.batch, if r.dry_run { " (dry run: nothing is recorded or changed)" } else { "" });
    if r.unfinished_dependency_count > 0 {
        let _ = writeln!(out, "Dependencies: {} unfinished item(s), e.g.:", r.unfinished_dependency_count);
        for d in r.unfinished_dependencies.iter().take(5) {
            let _ = writeln!(out, "  {}", value(d));
        }
    }
    if !r.stub_findings.is_empty() {
        let _ = writeln!(out, "Stub findings in the batch's Rust targets:");
        for (id, f) in &r.stub_findings {
            let _ = writeln!(out, "  feature {id}: {}", value(f));
        }
    }
    if !r.untrusted.is_empty() {
        let _ = writeln!(out, "Not a clean, committed tree, so no run now counts as evidence: {}", r.untrusted.join("; "));
    }
    for g in [&r.build, &r.test].into_iter().flatten() {
        out.push_str(&super::gate::report(g));
    }
    for i in &r.evidence_imported {
        out.push_str(&super::mutants::import(i));
    }
    if let Some(m) = &r.mutants {
        out.push_str(&super::mutants::report(m));
    }
    if let Some(why) = &r.stopped {
        let _ = writeln!(out, "Stopped: {}", value(why));
    }
    if !r.decisions.is_empty() {
        let mut t = table(&["Kind", "ID", "Name", "From", "To", "Why"]);
        for d in &r.decisions {
            t.add_safe_row(vec![d.kind.as_str().to_string(), d.id.to_string(), d.name.clone(), d.from.to_string(), d.to.to_string(), d.why.clone()]);
        }
        super::wrappable(&mut t, &[2, 5]);
        let _ = writeln!(out, "\nDecided ({}):\n{}", r.decisions.len(), text(&t));
    }
    for (n, c) in r.chunks.iter().enumerate() {
        let state = if c.applied {
            format!("applied as change {}", c.change_id.unwrap_or_default())
        } else if c.refused.is_empty() {
            "nothing to change".to_string()
        } else {
            format!("refused: {}", c.refused.join("; "))
        };
        let _ = writeln!(out, "Chunk {}: {} item(s) → {} ({state})", n + 1, c.items.len(), c.to);
    }
    if !r.kept.is_empty() {
        let _ = writeln!(out, "Unchanged: {} item(s) (see --json for why each)", r.kept.len());
    }
    if let Some(b) = &r.after {
        let _ = writeln!(out);
        out.push_str(&super::batch::show(b));
    }
    out
}
