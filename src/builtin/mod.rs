//! The built-in default: the NATS server inventory at the commit our first
//! user's plan numbers (66e9bbc7f), the batch plan they work from (batches
//! 30–36 around `jetstream_cluster.go`; every other item in per-file
//! batches), and the upstream snapshot at 8188ea93a that `ported/` follows.
//! All of it is data in `data/builtin/` (no Go code), compiled in.

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
/// The commit whose numbering the plan uses (our user's `porting.db`).
pub const SOURCE_COMMIT: &str = "66e9bbc7f8684dd1b31c54ef686924e0841f9846";
/// The newer commit `ported/` follows, applied as upstream drift.
pub const UPSTREAM_COMMIT: &str = "8188ea93ae420aff8f9806e1bb887891b576764e";
pub const SOURCE_DIR: &str = "server";

const BASE: data::Tables<'static> = data::Tables {
    modules: include_str!("../../data/builtin/modules.tsv"),
    files: include_str!("../../data/builtin/files.tsv"),
    features: include_str!("../../data/builtin/features.tsv"),
    tests: include_str!("../../data/builtin/tests.tsv"),
    links: include_str!("../../data/builtin/links.tsv"),
    batches: include_str!("../../data/builtin/batches.tsv"),
};
const UPSTREAM: data::Tables<'static> = data::Tables {
    modules: include_str!("../../data/builtin/upstream-8188ea93a/modules.tsv"),
    files: include_str!("../../data/builtin/upstream-8188ea93a/files.tsv"),
    features: include_str!("../../data/builtin/upstream-8188ea93a/features.tsv"),
    tests: include_str!("../../data/builtin/upstream-8188ea93a/tests.tsv"),
    links: include_str!("../../data/builtin/upstream-8188ea93a/links.tsv"),
    batches: "",
};

/// Directory of `data/builtin/` holding the upstream snapshot.
pub const UPSTREAM_DATA_DIR: &str = "upstream-8188ea93a";

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
    parse(&BASE)
}

/// The compiled-in upstream snapshot (what `ported/` follows).
pub fn upstream() -> Result<Inventory, String> {
    parse(&UPSTREAM).map(|(inv, _)| inv)
}

/// One line for stderr and `meta`, saying what the built-in data is.
pub fn description() -> String {
    format!("{SOURCE_REPO}@{} {SOURCE_DIR}/, upstream drift to {}", &SOURCE_COMMIT[..9], &UPSTREAM_COMMIT[..9])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The data files are exactly what `write` produces from what `parse`
    /// reads, so a regeneration diff shows only real changes.
    #[test]
    fn data_files_round_trip() {
        let (inv, plan) = load().unwrap();
        assert_eq!((inv.modules.len(), inv.features.len(), inv.tests.len()), (12, 3673, 3257));
        let upstream = upstream().unwrap();
        for (tables, plan) in [(&BASE, Some(&plan)), (&UPSTREAM, None)] {
            let (inv, _) = parse(tables).unwrap();
            let dir = tempfile::tempdir().unwrap();
            write(&inv, plan, dir.path()).unwrap();
            let files = [
                ("modules.tsv", tables.modules),
                ("files.tsv", tables.files),
                ("features.tsv", tables.features),
                ("tests.tsv", tables.tests),
                ("links.tsv", tables.links),
                ("batches.tsv", tables.batches),
            ];
            for (name, text) in files.into_iter().filter(|(_, text)| !text.is_empty()) {
                assert_eq!(std::fs::read_to_string(dir.path().join(name)).unwrap(), text, "{name}");
            }
        }
        assert_eq!((upstream.modules.len(), upstream.features.len(), upstream.tests.len()), (12, 3789, 3413));
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
