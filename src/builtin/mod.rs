//! The built-in default: the NATS server inventory at commit 8188ea93a,
//! stored as data in `data/builtin/` (no Go code) and compiled in, plus the
//! batch plan our first user works from (batches 30–36 around
//! `jetstream_cluster.go`; every other item in per-file batches).

mod about;
mod data;
mod nats_plan;

pub use about::{LONG_VERSION, PLAN_BATCHES, PORT_COMMIT};
pub use data::{parse, write};
pub use nats_plan::{nats_plan, BATCH33_TESTS};

use crate::domain::mapping::{self, MappingRow};
use crate::domain::plan::Plan;
use crate::error::Error;
use crate::inventory::Inventory;

/// Where the built-in inventory comes from.
pub const SOURCE_REPO: &str = "github.com/nats-io/nats-server";
pub const SOURCE_COMMIT: &str = "8188ea93ae420aff8f9806e1bb887891b576764e";
pub const SOURCE_DIR: &str = "server";

const FILES: &str = include_str!("../../data/builtin/files.tsv");
const FEATURES: &str = include_str!("../../data/builtin/features.tsv");
const TESTS: &str = include_str!("../../data/builtin/tests.tsv");
const LINKS: &str = include_str!("../../data/builtin/links.tsv");
const BATCHES: &str = include_str!("../../data/builtin/batches.tsv");

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/builtin_mappings.rs"));
}

/// The port's mapping files, compiled in from `ported/mappings/*.tsv`:
/// rows tagged with the file they came from.
pub fn mappings() -> Result<Vec<(String, MappingRow)>, Error> {
    let mut rows = Vec::new();
    for (name, text) in compiled::MAPPINGS {
        let source = format!("ported/mappings/{name}");
        rows.extend(mapping::parse(text, &source)?.into_iter().map(|r| (source.clone(), r)));
    }
    Ok(rows)
}

/// The compiled-in inventory and plan.
pub fn load() -> Result<(Inventory, Plan), String> {
    parse(&data::Tables { files: FILES, features: FEATURES, tests: TESTS, links: LINKS, batches: BATCHES })
}

/// One line for stderr and `meta`, saying what the built-in data is.
pub fn description() -> String {
    format!("{SOURCE_REPO}@{} {SOURCE_DIR}/", &SOURCE_COMMIT[..9])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The data files are exactly what `write` produces from what `parse`
    /// reads, so a regeneration diff shows only real changes.
    #[test]
    fn data_files_round_trip() {
        let (inv, plan) = load().unwrap();
        assert_eq!((inv.features.len(), inv.tests.len(), plan.batches.len()), (3783, 3198, 249));
        let dir = tempfile::tempdir().unwrap();
        write(&inv, &plan, dir.path()).unwrap();
        for (name, text) in [("files.tsv", FILES), ("features.tsv", FEATURES), ("tests.tsv", TESTS), ("links.tsv", LINKS), ("batches.tsv", BATCHES)] {
            assert_eq!(std::fs::read_to_string(dir.path().join(name)).unwrap(), text, "{name}");
        }
    }

    /// The plan rules applied to the stored inventory give the stored plan.
    #[test]
    fn stored_plan_follows_the_nats_rules() {
        let (inv, plan) = load().unwrap();
        assert_eq!(nats_plan(&inv).unwrap(), plan);
    }

    #[test]
    fn every_compiled_mapping_parses() {
        let rows = mappings().unwrap();
        assert!(rows.len() > 100, "only {} mapping rows", rows.len());
    }
}
