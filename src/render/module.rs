//! Human output of `module show` and `module list`.

use std::fmt::Write as _;

use super::{align_right, table};
use crate::domain::status::StatusCounts;
use crate::ops::module::{ModuleDetail, ModuleList};
use crate::render::batch::counts_line;

fn done_of(c: &StatusCounts) -> String {
    format!("{}/{}", c.done(), c.total())
}

pub fn show(d: &ModuleDetail) -> String {
    let m = &d.module;
    let mut out = String::new();
    let _ = writeln!(out, "Module {}: {}", m.id, m.name);
    let mut field = |k: &str, v: String| {
        let _ = writeln!(out, "  {k:<13} {v}");
    };
    field("directory", m.dir.clone());
    field("batch", m.batch.map_or_else(|| "-".to_string(), |b| format!("{b} {}", d.batch_name.as_deref().unwrap_or(""))));
    field("status", m.status.to_string());
    field("files", format!("{} ({} lines)", m.files, d.lines));
    field("features", format!("{} ({})", m.features.total(), counts_line(&m.features)));
    field("tests", format!("{} ({})", m.tests.total(), counts_line(&m.tests)));
    let n = &d.upstream_new;
    if n.all().total() > 0 {
        field("new upstream", format!("{} features, {} tests, not in the plan ({} done)", n.features.total(), n.tests.total(), n.all().done()));
    }
    let mut t = table(&["File", "Kind", "Lines"]);
    for f in &d.source_files {
        t.add_row(vec![f.path.clone(), if f.is_test { "test" } else { "source" }.to_string(), f.lines.to_string()]);
    }
    align_right(&mut t, &[2]);
    let _ = writeln!(out, "\nSource files:\n{}", super::text(&t));
    if d.history.is_empty() {
        let _ = writeln!(out, "\nHistory: none");
    } else {
        let _ = writeln!(out, "\nHistory:\n{}", super::report::history_table(&d.history));
    }
    out
}

pub fn list(l: &ModuleList) -> String {
    let mut t = table(&["ID", "Module", "Directory", "Files", "Features done", "Tests done", "Status", "Batch"]);
    for m in &l.modules {
        t.add_row(vec![
            m.id.to_string(),
            m.name.clone(),
            m.dir.clone(),
            m.files.to_string(),
            done_of(&m.features),
            done_of(&m.tests),
            m.status.to_string(),
            m.batch.map_or_else(|| "-".to_string(), |b| b.to_string()),
        ]);
    }
    align_right(&mut t, &[0, 3, 4, 5, 7]);
    format!("{}\n{} modules\n", super::text(&t), l.count)
}
