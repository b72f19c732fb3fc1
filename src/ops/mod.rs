//! Operations behind the commands. Each takes an open database and typed
//! options and returns plain data for a renderer; none of them prints.

pub mod audit;
pub mod batch;
pub mod gate;
pub mod item;
pub mod module;
pub mod mapping;
pub mod merge;
pub mod merge_driver;
pub mod dump;
pub mod mutants;
pub mod provenance;
pub mod report;
pub mod stale;
pub mod progress_report;
pub mod pull_request;
pub mod since;
pub mod stub_findings;
pub mod trend;
pub mod suggest;
pub mod test_targets;
pub mod update;
pub mod upstream;
pub mod verify;

use crate::db::{Database, ItemKind, ItemRow};
use crate::domain::item_ref::ItemRef;
use crate::error::Error;

/// How many candidates an "ambiguous name" error lists.
const MAX_CANDIDATES: usize = 10;

/// Find the one item `text` names (ID or Go name).
pub fn resolve(db: &Database, kind: ItemKind, text: &str) -> Result<ItemRow, Error> {
    match ItemRef::parse(text)? {
        ItemRef::Id(id) => db.item(kind, id)?.ok_or_else(|| Error::not_found(kind.as_str(), text.trim())),
        ItemRef::Name { receiver, name } => {
            let mut found = db.items_named(kind, receiver.as_deref(), &name)?;
            match found.len() {
                1 => Ok(found.remove(0)),
                0 => {
                    let similar = db.items_named_nocase(kind, &name, MAX_CANDIDATES as i64)?;
                    let hint = if similar.is_empty() {
                        String::new()
                    } else {
                        let names: Vec<String> = similar.iter().map(|i| format!("{} ({})", i.qualified_name(), i.id)).collect();
                        format!("; did you mean {}?", names.join(", "))
                    };
                    Err(Error::not_found_with_hint(kind.as_str(), text.trim(), hint))
                }
                n => Err(Error::usage(ambiguous(kind, text.trim(), n, &found))),
            }
        }
    }
}

fn ambiguous(kind: ItemKind, text: &str, n: usize, found: &[ItemRow]) -> String {
    let mut msg = format!("'{text}' is ambiguous: it names {n} {}s; use an ID or Receiver.name:", kind.as_str());
    for i in found.iter().take(MAX_CANDIDATES) {
        msg.push_str(&format!("\n  {:>6}  {}  ({}:{})", i.id, i.qualified_name(), i.file, i.line));
    }
    if n > MAX_CANDIDATES {
        msg.push_str(&format!("\n  … and {} more", n - MAX_CANDIDATES));
    }
    msg
}
