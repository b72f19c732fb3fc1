//! Human output of `report summary` and history tables.

use std::fmt::Write as _;

use comfy_table::Cell;

use super::escape::value;

use super::term::{batch_status_cell, item_status_cell};
use super::{align_right, table, SafeRows};
use crate::db::HistoryRow;
use crate::ops::report::Summary;
use crate::render::batch::counts_line;

pub fn summary(s: &Summary) -> String {
    let mut out = String::new();
    let o = &s.overall;
    let _ = writeln!(out, "Overall progress: {}/{} ({:.1}%)", o.done, o.total, o.percent);
    let _ = writeln!(out, "  ({} over the plan's modules, features and tests)", o.rule);
    let _ = writeln!(out, "Modules: {} ({})", s.modules.total(), counts_line(&s.modules));
    let _ = writeln!(out, "Features: {} ({})", s.features.total(), counts_line(&s.features));
    let _ = writeln!(out, "Tests: {} ({})", s.tests.total(), counts_line(&s.tests));
    if let Some(u) = &s.upstream {
        let n = &s.upstream_new;
        let _ = writeln!(
            out,
            "Upstream: plan at {}, port follows {}: {} item(s) changed, {} new, {} gone",
            u.plan, u.upstream, u.changed, u.new, u.gone
        );
        if n.all().total() > 0 {
            let _ = writeln!(
                out,
                "  new upstream, not in the plan's progress: {} modules, {} features, {} tests ({} done)",
                n.modules.total(),
                n.features.total(),
                n.tests.total(),
                n.all().done()
            );
        }
        if !u.upstream_changed.is_empty() {
            let _ = writeln!(out, "  upstream changed: {} complete or verified item(s) whose Go changed since they were proven:", u.upstream_changed.len());
            for i in u.upstream_changed.iter().take(10) {
                let _ = writeln!(out, "    {i}");
            }
            if u.upstream_changed.len() > 10 {
                let _ = writeln!(out, "    … and {} more (`porttrack upstream diff`)", u.upstream_changed.len() - 10);
            }
        }
    }
    let m = &s.mutation;
    if m.features > 0 {
        let score = m.score.map_or("-".to_string(), |s| format!("{s:.1}%"));
        let _ = writeln!(
            out,
            "Mutation: {} verified feature(s) with evidence; mutants {} caught, {} timed out, {} missed of {} viable ({} declared equivalent, {} unviable); score {score}",
            m.features, m.caught, m.timeout, m.missed, m.total, m.suppressed, m.unviable
        );
    }
    if !s.stale.is_empty() {
        let _ = writeln!(out, "Stale: {} verified item(s) changed since their evidence", s.stale.len());
    }
    if s.unbatched > 0 {
        let _ = writeln!(out, "Items in no batch: {}", s.unbatched);
    }
    let mut t = table(&["Batch", "Name", "Status", "Done", "Total", "%"]);
    for b in &s.by_batch {
        t.add_row(vec![Cell::new(b.number), Cell::new(value(&b.name)), batch_status_cell(b.status), Cell::new(b.done), Cell::new(b.total), Cell::new(format!("{:.1}", b.percent))]);
    }
    align_right(&mut t, &[0, 3, 4, 5]);
    super::wrappable(&mut t, &[1]);
    let _ = writeln!(out, "\nBy batch:\n{}", super::text(&t));
    let mut f = table(&["File", "Remaining", "Total"]);
    for w in &s.files_most_work_left {
        f.add_safe_row(vec![w.file.clone(), w.remaining.to_string(), w.total.to_string()]);
    }
    align_right(&mut f, &[1, 2]);
    super::wrappable(&mut f, &[0]);
    let _ = writeln!(out, "\nFiles with most work left:\n{}", super::text(&f));
    out
}

pub fn history_table(rows: &[HistoryRow]) -> String {
    let mut t = table(&["#", "When", "Item", "From", "To", "Reason / override / evidence", "Actor"]);
    for h in rows {
        let mut why = Vec::new();
        if let Some(r) = &h.reason {
            why.push(r.clone());
        }
        if let Some(o) = &h.override_reason {
            why.push(format!("override: {o}"));
        }
        if let Some(e) = h.evidence_run {
            why.push(format!("evidence run {e}"));
        }
        t.add_row(vec![
            Cell::new(h.id),
            Cell::new(value(&h.at)),
            Cell::new(value(&format!("{} {} {}", h.item_kind.as_str(), h.item_id, h.item_name))),
            item_status_cell(h.from_status, h.from_status.to_string()),
            item_status_cell(h.to_status, h.to_status.to_string()),
            Cell::new(value(&why.join("; "))),
            Cell::new(value(&h.actor)),
        ]);
    }
    align_right(&mut t, &[0]);
    super::wrappable(&mut t, &[2, 5]);
    super::text(&t)
}
