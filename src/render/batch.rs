//! Human output of `batch show` and `batch list`.

use std::fmt::Write as _;

use comfy_table::Cell;

use super::escape::value;

use super::term::{batch_status_cell, batch_status_text, item_status_cell};
use super::{align_right, or_dash, table};
use crate::domain::status::{ItemStatus, StatusCounts};
use crate::ops::batch::{BatchList, BatchShow, ItemGroup};

/// `not_started 50, complete 8` — only the statuses present.
pub fn counts_line(c: &StatusCounts) -> String {
    let parts: Vec<String> = ItemStatus::ALL.iter().filter(|&&s| c.get(s) > 0).map(|&s| format!("{s} {}", c.get(s))).collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

pub fn show(b: &BatchShow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Batch {}: {}  [{}]", b.number, value(&b.name), batch_status_text(b.status));
    if !b.description.is_empty() {
        let _ = writeln!(out, "{}", value(&b.description));
    }
    if b.depends_on.is_empty() {
        let _ = writeln!(out, "Depends on: nothing");
    } else {
        let deps: Vec<String> = b
            .depends_on
            .iter()
            .map(|d| format!("{} {} ({}, {})", d.number, d.name, d.status, if d.satisfied { "satisfied" } else { "not satisfied" }))
            .collect();
        let _ = writeln!(out, "Depends on: {}", value(&deps.join("; ")));
    }
    let _ = writeln!(out, "Ready: {}", if b.ready { "yes" } else { "no, dependencies unfinished" });
    let _ = writeln!(out, "Source files: {}", if b.source_files.is_empty() { "-".to_string() } else { value(&b.source_files.join(", ")).into_owned() });
    let _ = writeln!(out, "Features: {} ({})", b.features.counts.total(), counts_line(&b.features.counts));
    let _ = writeln!(out, "Tests: {} ({})", b.tests.counts.total(), counts_line(&b.tests.counts));
    if b.stale > 0 {
        let _ = writeln!(out, "Stale: {} verified item(s) changed since their evidence; run `porttrack verify {}`", b.stale, b.number);
    }
    for o in &b.overrides {
        let _ = writeln!(out, "Override #{} by {} at {}: {} (was blocked by: {})", o.id, value(&o.actor), value(&o.at), value(&o.reason), value(&o.blocking));
    }
    items_table(&mut out, "Features", &b.features);
    items_table(&mut out, "Tests", &b.tests);
    out
}

fn items_table(out: &mut String, title: &str, g: &ItemGroup) {
    if g.items.is_empty() {
        return;
    }
    let mut t = table(&["ID", "Go symbol", "Status", "Rust target"]);
    for i in &g.items {
        let status = if i.stale { format!("{} (stale)", i.status) } else { i.status.to_string() };
        t.add_row(vec![Cell::new(i.id), Cell::new(value(&i.name)), item_status_cell(i.status, status), Cell::new(value(or_dash(i.rust_target.as_deref())))]);
    }
    align_right(&mut t, &[0]);
    super::wrappable(&mut t, &[1, 3]);
    let _ = writeln!(out, "\n{title}:\n{}", super::text(&t));
}

pub fn list(l: &BatchList) -> String {
    let mut t = table(&["Batch", "Name", "Status", "Features", "Tests", "Done", "Depends on", "Ready"]);
    for b in &l.batches {
        let deps: Vec<String> = b.depends_on.iter().map(i64::to_string).collect();
        t.add_row(vec![
            Cell::new(b.number),
            Cell::new(value(&b.name)),
            batch_status_cell(b.status),
            Cell::new(format!("{}/{}", b.features.done(), b.features.total())),
            Cell::new(format!("{}/{}", b.tests.done(), b.tests.total())),
            Cell::new(format!("{:.1}%", b.percent_done)),
            Cell::new(if deps.is_empty() { "-".to_string() } else { deps.join(",") }),
            Cell::new(if b.ready { "yes" } else { "no" }),
        ]);
    }
    align_right(&mut t, &[0, 3, 4, 5]);
    super::wrappable(&mut t, &[1]);
    format!("{}\n{} batches\n", super::text(&t), l.batches.len())
}
