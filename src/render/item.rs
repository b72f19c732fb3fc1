//! Human output of `feature|test show` and `feature|test list`.

use std::fmt::Write as _;

use comfy_table::Cell;

use super::escape::value;

use super::term::item_status_cell;
use super::{align_right, or_dash, table};
use crate::db::ItemKind;
use crate::domain::upstream::Drift;
use crate::ops::item::{ItemDetail, ItemList};

pub fn show(d: &ItemDetail) -> String {
    let i = &d.item;
    let mut out = String::new();
    let title = match i.kind {
        ItemKind::Feature => "Feature",
        ItemKind::Test => "Test",
        ItemKind::Module => "Module",
    };
    let _ = writeln!(out, "{title} {}: {}", i.id, super::escape::value(&d.qualified_name));
    let mut field = |k: &str, v: String| {
        let _ = writeln!(out, "  {k:<13} {}", super::escape::value(&v));
    };
    field("source", format!("{}:{}", i.file, i.line));
    if i.kind == ItemKind::Feature {
        field("receiver", if i.receiver.is_empty() { "-".into() } else { i.receiver.clone() });
    }
    field("name", i.name.clone());
    field("loc", i.loc.to_string());
    field("body hash", i.body_hash.clone());
    field(
        "batch",
        d.batch.as_ref().map_or_else(|| or_dash(None).to_string(), |b| format!("{} {}", b.number, b.name)),
    );
    field("status", if d.stale { format!("{} (stale: its Rust file changed since evidence run {})", i.status, i.evidence_run.unwrap_or_default()) } else { i.status.to_string() });
    if let Some(u) = &d.upstream {
        let at = match (u.drift, u.line) {
            (Some(Drift::Gone), _) | (_, None) => format!("gone at {}", u.upstream),
            (Some(Drift::New), Some(l)) => format!("new at {} (line {l}), not in the plan at {}", u.upstream, u.plan),
            (Some(Drift::Changed), Some(l)) => format!("Go body changed from {} to {} (line {l} there)", u.plan, u.upstream),
            (None, Some(l)) => format!("same Go body at {} and {} (line {l} there)", u.plan, u.upstream),
        };
        field("upstream", at);
        if u.upstream_changed {
            field("", "upstream changed: its Go changed since it was proven; review the port".to_string());
        }
    }
    field("rust file", or_dash(i.rust_file.as_deref()).to_string());
    let sym_label = if i.kind == ItemKind::Feature { "rust symbol" } else { "rust test" };
    field(sym_label, or_dash(i.rust_symbol.as_deref()).to_string());
    field("evidence run", i.evidence_run.map_or_else(|| "-".to_string(), |r| r.to_string()));
    if !i.notes.is_empty() {
        field("notes", i.notes.clone());
    }
    if i.kind == ItemKind::Feature {
        field("rust tests", if d.rust_tests.is_empty() { "-".into() } else { d.rust_tests.join(", ") });
    }
    if let Some(m) = &d.mutation {
        let _ = writeln!(out, "\nMutation evidence{}:", if m.required { " (required for verified)" } else { "" });
        match m.run {
            Some(r) => {
                let current = if m.body_current { "its current function body" } else { "an older function body (stale)" };
                let _ = writeln!(out, "  mutation run {r}, for {current}: {}", super::mutants::tally(&m.tally));
            }
            None => {
                let _ = writeln!(out, "  none (run `porttrack gate mutants --features {}`)", i.id);
            }
        }
        if let Some(p) = &m.problem {
            let _ = writeln!(out, "  not enough for verified: {}", value(p));
        }
        for x in &m.missed {
            super::mutants::mutant(&mut out, "missed", x);
        }
        for x in &m.suppressed {
            super::mutants::mutant(&mut out, "suppressed", x);
        }
        for s in &m.unused_suppressions {
            let _ = writeln!(out, "    unused suppression at line {}: no missed mutant on it or the next line ({})", s.line, value(&s.reason));
        }
    }
    let link_title = if i.kind == ItemKind::Feature { "Tests that call it" } else { "Features it calls" };
    if d.links.is_empty() {
        let _ = writeln!(out, "\n{link_title}: none");
    } else {
        let mut t = table(&["ID", "Name", "Status", "Source"]);
        for l in &d.links {
            t.add_row(vec![Cell::new(l.id), Cell::new(value(&l.name)), item_status_cell(l.status, l.status.to_string()), Cell::new(value(&format!("{}:{}", l.file, l.line)))]);
        }
        align_right(&mut t, &[0]);
        let _ = writeln!(out, "\n{link_title} ({}):\n{}", d.links.len(), super::text(&t));
    }
    if d.history.is_empty() {
        let _ = writeln!(out, "\nHistory: none");
    } else {
        let _ = writeln!(out, "\nHistory:\n{}", super::report::history_table(&d.history));
    }
    out
}

pub fn list(l: &ItemList) -> String {
    let mut t = table(&["ID", "Name", "Status", "Source", "Rust target"]);
    for i in &l.items {
        t.add_row(vec![
            Cell::new(i.id),
            Cell::new(value(&i.name)),
            item_status_cell(i.status, i.status.to_string()),
            Cell::new(value(&format!("{}:{}", i.file, i.line))),
            Cell::new(value(or_dash(i.rust_target.as_deref()))),
        ]);
    }
    align_right(&mut t, &[0]);
    super::wrappable(&mut t, &[1, 4]);
    format!("{}\n{} {}s\n", super::text(&t), l.count, l.kind.as_str())
}
