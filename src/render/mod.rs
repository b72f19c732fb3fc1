//! Turning operation results into output: human tables (comfy-table) or one
//! JSON object with a `schema_version`. Nothing here touches the database.

pub mod batch;
pub mod chart;
pub mod gate;
pub mod gate_parse;
pub mod html;
pub mod item;
pub mod markdown;
pub mod report;
pub mod sarif;
pub mod stub;
pub mod term;
pub mod trend;
pub mod update;
pub mod verify;

use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle};
use serde::Serialize;

/// Version of every JSON document porttrack prints; bumped when a field
/// changes meaning or disappears (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

/// `data` as one JSON object whose first field is `schema_version`.
pub fn json<T: Serialize>(command: &str, data: &T) -> String {
    let mut obj = serde_json::Map::new();
    obj.insert("schema_version".into(), SCHEMA_VERSION.into());
    obj.insert("command".into(), command.into());
    match serde_json::to_value(data) {
        Ok(serde_json::Value::Object(fields)) => obj.extend(fields),
        Ok(other) => {
            obj.insert("data".into(), other);
        }
        Err(e) => {
            obj.insert("error".into(), e.to_string().into());
        }
    }
    let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(obj)).unwrap_or_default();
    text.push('\n');
    text
}

/// A table in the house style: a rule under the header, no vertical lines.
/// On a terminal it fits the terminal's width, wrapping long cells, and
/// colours statuses when colour is on ([`term`]); piped, rows stay whole
/// and plain.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    let terminal = term::current();
    t.load_style(TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' '))).force_no_tty().set_header(header.to_vec());
    t.style_text_only();
    // Identifiers, statuses and numbers never break; `wrappable` names the
    // free-text columns that may.
    for c in t.column_iter_mut() {
        c.set_constraint(ColumnConstraint::ContentWidth);
    }
    if terminal.color {
        t.enforce_styling();
    }
    match terminal.width {
        Some(w) => t.set_content_arrangement(ContentArrangement::Dynamic).set_width(w),
        None => t.set_content_arrangement(ContentArrangement::Disabled),
    };
    t
}

/// Let the given columns (names, paths, reasons) wrap to fit a terminal.
pub fn wrappable(t: &mut Table, columns: &[usize]) {
    for &c in columns {
        if let Some(col) = t.column_mut(c) {
            col.remove_constraint();
        }
    }
}

/// Right-align the given columns (numbers).
pub fn align_right(t: &mut Table, columns: &[usize]) {
    for &c in columns {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// `2026-11-17 10:00 UTC` from an RFC 3339 UTC time.
pub fn utc_minutes(at: &str) -> Option<String> {
    match (at.get(..10), at.get(11..16)) {
        (Some(d), Some(t)) if at.ends_with('Z') && at.as_bytes().get(10) == Some(&b'T') => Some(format!("{d} {t} UTC")),
        _ => None,
    }
}

pub fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

/// The table as text, without the trailing spaces of padded last columns.
pub fn text(t: &Table) -> String {
    t.lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n")
}
