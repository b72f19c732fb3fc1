//! Turning operation results into output: human tables (comfy-table) or one
//! JSON object with a `schema_version`. Nothing here touches the database.

pub mod audit;
pub mod batch;
pub mod chart;
pub mod escape;
pub mod gate;
pub mod gate_parse;
pub mod html;
pub mod item;
pub mod markdown;
pub mod merge;
pub mod dump;
pub mod module;
pub mod report;
pub mod sarif;
pub mod stub;
pub mod suggest;
pub mod term;
pub mod trend;
pub mod update;
pub mod upstream;
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
/// On a terminal it fits the terminal's width, wrapping long cells within
/// their column, and colours statuses when colour is on ([`term`]); piped,
/// rows stay whole and plain.
pub fn table(header: &[&str]) -> Table {
    let terminal = term::current();
    table_with(header, terminal.width, terminal.color)
}

/// [`table`] for a given width (None: never wrap), without colour.
pub fn table_for(header: &[&str], width: Option<u16>) -> Table {
    table_with(header, width, false)
}

fn table_with(header: &[&str], width: Option<u16>, color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' '))).force_no_tty().set_header(header.to_vec());
    t.style_text_only();
    // Identifiers, statuses and numbers never break; `wrappable` names the
    // free-text columns that may.
    for c in t.column_iter_mut() {
        c.set_constraint(ColumnConstraint::ContentWidth);
    }
    if color {
        t.enforce_styling();
    }
    match width {
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

/// Adding rows whose cells came from data: every control character is
/// escaped, so a value cannot break a row into forged lines.
pub trait SafeRows {
    fn add_safe_row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>;
}

impl SafeRows for Table {
    fn add_safe_row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let row: Vec<String> = cells.into_iter().map(|c| escape::value(c.as_ref()).into_owned()).collect();
        self.add_row(row)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_text_wraps_to_the_width_and_rows_stay_whole_without_one() {
        let why = "a reason that goes on and on, much wider than any terminal this table could be printed on";
        let mut t = table_for(&["ID", "Why"], Some(40));
        t.add_safe_row(vec!["7".to_string(), why.to_string()]);
        wrappable(&mut t, &[1]);
        let wrapped = text(&t);
        assert!(wrapped.lines().count() > 3, "{wrapped}");
        assert!(wrapped.lines().all(|l| l.chars().count() <= 40), "{wrapped}");
        let mut t = table_for(&["ID", "Why"], None);
        t.add_safe_row(vec!["7".to_string(), why.to_string()]);
        assert_eq!(text(&t).lines().count(), 3);
    }

    #[test]
    fn cells_cannot_forge_rows() {
        let mut t = table_for(&["Reason"], None);
        t.add_safe_row(["ok\nverified by admin\x1b[2K"]);
        assert_eq!(text(&t), " Reason\n----------------------------\n ok\\nverified by admin\\e[2K");
    }
}

/// The table as text, without the trailing spaces of padded last columns.
pub fn text(t: &Table) -> String {
    t.lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n")
}
