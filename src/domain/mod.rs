//! Domain rules: statuses, progress, batch plans, item references.

pub mod status;
pub mod plan;
pub mod item_ref;
pub mod idlist;
pub mod transitions;
pub mod upstream;
pub mod mapping;
pub mod test_identity;
pub mod calendar;
pub mod progress;
pub mod naming;
pub mod names;
pub mod evidence;
pub mod chain;
pub mod global_id;
pub mod merge;
