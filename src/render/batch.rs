//! Human output of `batch show` and `batch list`.

use std::fmt::Write as _;

use comfy_table::Cell;

use super::escape::value;

use super::term::{batch_status_cell, batch_status_text, item_status_cell};
use super::{align_right, or_dash, table};
use crate::domain::status::{ItemStatus, StatusCounts};
use crate::ops::batch::{BatchList, BatchShow, ItemGroup};
use crate::ops::upstream::DriftSummary;

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
    if b.modules.counts.total() > 0 {
        let _ = writeln!(out, "Modules: {} ({})", b.modules.counts.total(), counts_line(&b.modules.counts));
    }
    let _ = writeln!(out, "Features: {} ({})", b.features.counts.total(), counts_line(&b.features.counts));
    let _ = writeln!(out, "Tests: {} ({})", b.tests.counts.total(), counts_line(&b.tests.counts));
    if let Some(u) = &b.upstream {
        let _ = writeln!(
            out,
            "Upstream: plan at {}, port follows {}: Go changed in {} item(s), {} new upstream, {} gone upstream",
            u.plan, u.upstream, u.changed, u.new, u.gone
        );
        if !u.upstream_changed.is_empty() {
            let _ = writeln!(out, "Upstream changed: {} complete or verified item(s) whose Go changed since they were proven; review them", u.upstream_changed.len());
        }
    }
    if b.mutation_marked > 0 {
        let _ = writeln!(out, "Mutation evidence: {} complete or verified feature(s) lack it or miss mutants (marked `mutants:`); run `porttrack gate mutants --batch {}`", b.mutation_marked, b.number);
    }
    if b.stale > 0 {
        let _ = writeln!(out, "Stale: {} verified item(s) changed since their evidence; run `porttrack verify {}`", b.stale, b.number);
    }
    for o in &b.overrides {
        let _ = writeln!(out, "Override #{} by {} at {}: {} (was blocked by: {})", o.id, value(&o.actor), value(&o.at), value(&o.reason), value(&o.blocking));
    }
    items_table(&mut out, "Modules", &b.modules, None);
    items_table(&mut out, "Features", &b.features, b.upstream.as_ref());
    items_table(&mut out, "Tests", &b.tests, b.upstream.as_ref());
    out
}

fn items_table(out: &mut String, title: &str, g: &ItemGroup, upstream: Option<&DriftSummary>) {
    if g.items.is_empty() {
        return;
    }
    let mut header = vec!["ID", if title == "Modules" { "Module" } else { "Go symbol" }, "Status"];
    let drift_title = upstream.map(|u| format!("Go {}→{}", u.plan, u.upstream));
    if let Some(d) = &drift_title {
        header.push(d);
    }
    header.push("Rust target");
    let mut t = table(&header);
    for i in &g.items {
        let mut status = i.status.to_string();
        if i.stale {
            status.push_str(" (stale)");
        }
        if i.upstream_changed {
            status.push_str(" (upstream changed)");
        }
        if let Some(m) = i.mutation {
            status.push_str(&format!(" (mutants: {m})"));
        }
        let mut row = vec![Cell::new(i.id), Cell::new(value(&i.name)), item_status_cell(i.status, status)];
        if drift_title.is_some() {
            row.push(Cell::new(i.upstream.map_or("same", |d| d.as_str())));
        }
        row.push(Cell::new(value(or_dash(i.rust_target.as_deref()))));
        t.add_row(row);
    }
    align_right(&mut t, &[0]);
    let last = header.len() - 1;
    super::wrappable(&mut t, &[1, last]);
    let _ = writeln!(out, "\n{title}:\n{}", super::text(&t));
}

pub fn list(l: &BatchList) -> String {
    // The modules column only when some batch holds modules.
    let with_modules = l.batches.iter().any(|b| b.modules.total() > 0);
    let mut header = vec!["Batch", "Name", "Status"];
    if with_modules {
        header.push("Modules");
    }
    header.extend(["Features", "Tests", "Done", "Depends on", "Ready"]);
    let mut t = table(&header);
    for b in &l.batches {
        let deps: Vec<String> = b.depends_on.iter().map(i64::to_string).collect();
        let mut row = vec![Cell::new(b.number), Cell::new(value(&b.name)), batch_status_cell(b.status)];
        if with_modules {
            row.push(Cell::new(format!("{}/{}", b.modules.done(), b.modules.total())));
        }
        row.extend([
            Cell::new(format!("{}/{}", b.features.done(), b.features.total())),
            Cell::new(format!("{}/{}", b.tests.done(), b.tests.total())),
            Cell::new(format!("{:.1}%", b.percent_done)),
            Cell::new(if deps.is_empty() { "-".to_string() } else { deps.join(",") }),
            Cell::new(if b.ready { "yes" } else { "no" }),
        ]);
        t.add_row(row);
    }
    let numeric: &[usize] = if with_modules { &[0, 3, 4, 5, 6] } else { &[0, 3, 4, 5] };
    align_right(&mut t, numeric);
    super::wrappable(&mut t, &[1]);
    format!("{}\n{} batches\n", super::text(&t), l.batches.len())
}
