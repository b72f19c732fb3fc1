//! Human output of upstream drift: `upstream diff`, `upstream list` and the
//! report of `import go --as-of`.

use std::fmt::Write as _;

use super::{align_right, or_dash, table, text};
use crate::ops::upstream::{CommitList, DiffReport, DriftItem};

/// The drift report; each list shows at most `limit` rows (0: all).
pub fn diff(d: &DiffReport, limit: usize) -> String {
    let mut out = String::new();
    let scope = d.batch.map_or(String::new(), |b| format!(" in batch {b}"));
    let _ = writeln!(
        out,
        "Upstream {} → {}{scope}: Go body changed in {} item(s), {} new upstream, {} gone upstream",
        d.from,
        d.to,
        d.changed.len(),
        d.new.len(),
        d.gone.len()
    );
    for (title, items) in [("Changed", &d.changed), ("New upstream", &d.new), ("Gone upstream", &d.gone)] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} ({}):\n{}", items.len(), items_table(items, limit));
        if limit > 0 && items.len() > limit {
            let _ = writeln!(out, "… and {} more (`porttrack upstream diff {}` lists all)", items.len() - limit, d.to);
        }
    }
    out
}

fn items_table(items: &[DriftItem], limit: usize) -> String {
    let mut t = table(&["Kind", "ID", "Name", "Source", "Batch", "Status"]);
    let shown = if limit == 0 { items.len() } else { limit.min(items.len()) };
    for i in &items[..shown] {
        let status = if i.upstream_changed { format!("{} (upstream changed)", i.status) } else { i.status.to_string() };
        t.add_row(vec![
            i.kind.as_str().to_string(),
            i.id.to_string(),
            i.name.clone(),
            format!("{}:{}", i.file, i.line),
            or_dash(i.batch.map(|b| b.to_string()).as_deref()).to_string(),
            status,
        ]);
    }
    align_right(&mut t, &[1, 4]);
    text(&t)
}

pub fn list(l: &CommitList) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Plan's inventory: {}", l.plan.as_deref().unwrap_or("imported (commit not recorded)"));
    if l.commits.is_empty() {
        let _ = writeln!(out, "No upstream commits recorded; record one with `porttrack import go DIR --as-of COMMIT`.");
        return out;
    }
    let mut t = table(&["#", "Commit", "Root", "Items", "Recorded"]);
    for c in &l.commits {
        t.add_row(vec![c.id.to_string(), c.commit.clone(), c.root.clone(), c.items.to_string(), c.imported_at.clone()]);
    }
    align_right(&mut t, &[0, 3]);
    let _ = writeln!(out, "{}\nThe port follows the latest: {}", text(&t), l.commits.last().map_or("", |c| c.commit.as_str()));
    out
}
