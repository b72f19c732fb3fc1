//! `report markdown`: GitHub-flavoured Markdown for a pull-request comment.
//! Plain tables and `<details>` for long lists; every piece of data is
//! escaped so a name cannot break the table or inject markup.

use std::fmt::Write as _;

use crate::domain::status::ItemStatus;
use crate::ops::pull_request::{ChangedItem, PullRequestSummary};

/// Lists longer than this fold into a `<details>` block.
const FOLD_AFTER: usize = 10;

pub fn pull_request(s: &PullRequestSummary) -> String {
    let mut out = String::new();
    let scope = s.batch.as_ref().map_or_else(|| "all items".to_string(), |b| format!("batch {} {}", b.number, text(&b.name)));
    let c = &s.counts;
    let _ = writeln!(out, "### porttrack: {scope}\n");
    let mut by_status: Vec<String> = Vec::new();
    for st in ItemStatus::ALL {
        if c.get(st) > 0 {
            by_status.push(format!("{st} {}", c.get(st)));
        }
    }
    let _ = writeln!(
        out,
        "**{}/{} done ({:.1}%)**, {} verified. By status: {}.  ",
        c.done(),
        c.total(),
        c.percent_done(),
        c.get(ItemStatus::Verified),
        if by_status.is_empty() { "none".to_string() } else { by_status.join(", ") }
    );
    let _ = writeln!(out, "<sub>{}</sub>\n", s.rule);

    if let Some(since) = &s.since {
        let _ = writeln!(out, "#### Moved since {} ({}, {})\n", code(&since.reference), text(&since.resolved), when(&since.at));
        if s.moved_total == 0 {
            let _ = writeln!(out, "No item changed status.\n");
        } else {
            let _ = writeln!(out, "**{:+} done, {:+} verified** over {} item(s) that changed status.\n", s.net.done, s.net.verified, s.moved_total);
            items_table(&mut out, &s.moved, s.moved_total, false);
        }
    }

    let _ = writeln!(out, "#### Regressions\n");
    if s.regressions_total == 0 {
        let _ = writeln!(out, "None.\n");
    } else {
        items_table(&mut out, &s.regressions, s.regressions_total, true);
    }

    let _ = writeln!(out, "#### Stale\n");
    if s.stale.is_empty() {
        let _ = writeln!(out, "None: every verified item's Rust file is as its evidence recorded.");
    } else {
        let _ = writeln!(out, "Verified, but the Rust file changed since the evidence run; `porttrack verify` proves them again.\n");
        let mut rows = String::from("| Item | Rust file | Evidence run |\n| --- | --- | ---: |\n");
        for e in &s.stale {
            let run = e.evidence_run.map_or_else(|| "-".to_string(), |r| r.to_string());
            let _ = writeln!(rows, "| {} {} {} | {} | {run} |", e.kind.as_str(), e.id, code(&e.name), code(&e.rust_file));
        }
        fold(&mut out, &rows, s.stale.len(), s.stale.len());
    }
    out
}

fn items_table(out: &mut String, items: &[ChangedItem], total: usize, with_time: bool) {
    let mut rows = String::from(if with_time { "| Item | Batch | From | To | When |\n| --- | ---: | --- | --- | --- |\n" } else { "| Item | Batch | From | To |\n| --- | ---: | --- | --- |\n" });
    for i in items {
        let batch = i.batch.map_or_else(|| "-".to_string(), |b| b.to_string());
        let _ = write!(rows, "| {} {} {} | {batch} | {} | {} |", i.kind.as_str(), i.id, code(&i.name), i.from, i.to);
        if with_time {
            let _ = write!(rows, " {} |", when(&i.at));
        }
        rows.push('\n');
    }
    fold(out, &rows, items.len(), total);
}

/// A table, folded into `<details>` when long, with a line for what the
/// list leaves out.
fn fold(out: &mut String, table: &str, shown: usize, total: usize) {
    let more = if total > shown { format!("\n… and {} more.\n", total - shown) } else { String::new() };
    if shown > FOLD_AFTER {
        let _ = writeln!(out, "<details><summary>{total} item(s)</summary>\n\n{table}{more}\n</details>\n");
    } else {
        let _ = writeln!(out, "{table}{more}");
    }
}

fn when(at: &str) -> String {
    super::utc_minutes(at).unwrap_or_else(|| text(at))
}

/// Control characters as visible escapes; Markdown and HTML punctuation
/// backslash-escaped or as entities, so data stays data.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// A code span; names with backticks fall back to escaped text. Pipes are
/// escaped even inside code, as GitHub's tables require.
fn code(s: &str) -> String {
    if s.contains('`') || s.chars().any(char::is_control) || s.is_empty() {
        return text(s);
    }
    format!("`{}`", s.replace('|', "\\|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_break_tables_or_inject_markup() {
        assert_eq!(text("a|b <script>&x *y*"), "a\\|b &lt;script&gt;&amp;x \\*y\\*");
        assert_eq!(text("bell\u{7}\nline"), "bell\\u{7}\\nline");
        assert_eq!(code("Receiver.name"), "`Receiver.name`");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("tick`s"), "tick\\`s");
        assert_eq!(when("2026-11-17T10:00:00.000Z"), "2026-11-17 10:00 UTC");
    }
}
