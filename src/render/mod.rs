//! Turning operation results into output: human tables (comfy-table) or one
//! JSON object with a `schema_version`. Nothing here touches the database.

pub mod audit;
pub mod batch;
pub mod gate;
pub mod gate_parse;
pub mod item;
pub mod report;
pub mod sarif;
pub mod stub;
pub mod update;
pub mod verify;

use comfy_table::{CellAlignment, ContentArrangement, LineStyle, Table, TableStyle};
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

/// A table in the house style: a rule under the header, no vertical lines,
/// never wrapped (pipes and wide terminals alike get whole rows).
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' ')))
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

/// Right-align the given columns (numbers).
pub fn align_right(t: &mut Table, columns: &[usize]) {
    for &c in columns {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

pub fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

/// The table as text, without the trailing spaces of padded last columns.
pub fn text(t: &Table) -> String {
    t.lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n")
}
