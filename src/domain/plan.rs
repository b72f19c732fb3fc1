//! Batch plans: which batch each item belongs to, and batch dependencies.
//! The generic plan groups items per source file (large files split into
//! even chunks); the built-in NATS plan (`crate::builtin`) builds on it.

use std::collections::{BTreeMap, BTreeSet};

use crate::inventory::Inventory;

/// Largest batch the per-file plan creates; bigger files are split evenly.
pub const MAX_BATCH_ITEMS: usize = 60;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSpec {
    pub number: u32,
    pub name: String,
    pub description: String,
    pub depends_on: Vec<u32>,
}

/// Batch of every module, feature and test, by index into the inventory
/// (0 = none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub batches: Vec<BatchSpec>,
    pub module_batch: Vec<u32>,
    pub feature_batch: Vec<u32>,
    pub test_batch: Vec<u32>,
}

/// A batch being planned: its spec and member items (inventory indices).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedBatch {
    pub spec: BatchSpec,
    pub modules: Vec<usize>,
    pub features: Vec<usize>,
    pub tests: Vec<usize>,
}

/// Name of the batch holding the modules: a module is done when its
/// features and tests are, so it waits at the end of the plan.
pub const MODULES_BATCH: &str = "Modules";

/// The batch of the given modules, numbered `number`.
pub fn modules_batch(inv: &Inventory, modules: Vec<usize>, number: u32) -> PlannedBatch {
    let names: Vec<&str> = modules.iter().map(|&m| inv.modules[m].name.as_str()).collect();
    let description = format!("{} module(s), each done when its features and tests are: {}", modules.len(), names.join(", "));
    PlannedBatch { spec: BatchSpec { number, name: MODULES_BATCH.to_string(), description, depends_on: Vec::new() }, modules, ..PlannedBatch::default() }
}

/// Split `n` items into the fewest chunks of at most `max`, as even as
/// possible; returns the chunk sizes.
pub fn even_chunks(n: usize, max: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let k = n.div_ceil(max);
    (0..k).map(|i| n / k + usize::from(i < n % k)).collect()
}

/// A run of consecutive items of one file that becomes one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChunk {
    pub file: u32,
    pub is_test: bool,
    pub items: Vec<usize>,
    pub part: usize,
    pub parts: usize,
}

/// Chunks of every file, in file order, leaving out skipped items; a file
/// holds either features or tests, so each chunk holds one kind.
pub fn file_chunks(inv: &Inventory, skip_feature: impl Fn(usize) -> bool, skip_test: impl Fn(usize) -> bool) -> Vec<FileChunk> {
    let mut per_file: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, f) in inv.features.iter().enumerate() {
        if !skip_feature(i) {
            per_file.entry(f.file).or_default().push(i);
        }
    }
    for (i, t) in inv.tests.iter().enumerate() {
        if !skip_test(i) {
            per_file.entry(t.file).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (file, items) in per_file {
        out.extend(split_file(inv, file, &items, MAX_BATCH_ITEMS));
    }
    out
}

/// Split one file's items into even chunks of at most `max`.
pub fn split_file(inv: &Inventory, file: u32, items: &[usize], max: usize) -> Vec<FileChunk> {
    let is_test = inv.files[file as usize].is_test;
    let sizes = even_chunks(items.len(), max);
    let parts = sizes.len();
    let mut start = 0;
    let mut out = Vec::new();
    for (part, size) in sizes.into_iter().enumerate() {
        out.push(FileChunk { file, is_test, items: items[start..start + size].to_vec(), part: part + 1, parts });
        start += size;
    }
    out
}

/// Default name of a chunk: the file path, with `(part k/n)` when split.
pub fn chunk_name(inv: &Inventory, c: &FileChunk) -> String {
    let path = &inv.files[c.file as usize].path;
    if c.parts > 1 {
        format!("{path} (part {}/{})", c.part, c.parts)
    } else {
        path.clone()
    }
}

/// A planned batch made of one chunk.
pub fn chunk_batch(inv: &Inventory, c: &FileChunk, number: u32, name: String) -> PlannedBatch {
    let path = &inv.files[c.file as usize].path;
    let kind = if c.is_test { "tests" } else { "features" };
    let spec = BatchSpec { number, name, description: format!("{} {kind} of {path}", c.items.len()), depends_on: Vec::new() };
    if c.is_test {
        PlannedBatch { spec, tests: c.items.clone(), ..PlannedBatch::default() }
    } else {
        PlannedBatch { spec, features: c.items.clone(), ..PlannedBatch::default() }
    }
}

/// Batches holding only tests depend on the batches holding the features
/// of the matching source file (`dir/x_test.go` → `dir/x.go`).
pub fn add_test_file_dependencies(inv: &Inventory, batches: &mut [PlannedBatch]) {
    let mut by_source: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for b in batches.iter() {
        for &f in &b.features {
            by_source.entry(inv.files[inv.features[f].file as usize].path.as_str()).or_default().insert(b.spec.number);
        }
    }
    for b in batches.iter_mut() {
        if !b.features.is_empty() {
            continue;
        }
        let mut deps: BTreeSet<u32> = b.spec.depends_on.iter().copied().collect();
        for &t in &b.tests {
            let path = &inv.files[inv.tests[t].file as usize].path;
            let source = format!("{}.go", path.trim_end_matches("_test.go"));
            if let Some(nums) = by_source.get(source.as_str()) {
                deps.extend(nums.iter().copied().filter(|&n| n != b.spec.number));
            }
        }
        b.spec.depends_on = deps.into_iter().collect();
    }
}

/// Flatten planned batches into a [`Plan`].
pub fn build_plan(inv: &Inventory, mut batches: Vec<PlannedBatch>) -> Plan {
    batches.sort_by_key(|b| b.spec.number);
    let mut plan = Plan {
        batches: Vec::new(),
        module_batch: vec![0; inv.modules.len()],
        feature_batch: vec![0; inv.features.len()],
        test_batch: vec![0; inv.tests.len()],
    };
    for b in batches {
        for &m in &b.modules {
            plan.module_batch[m] = b.spec.number;
        }
        for &f in &b.features {
            plan.feature_batch[f] = b.spec.number;
        }
        for &t in &b.tests {
            plan.test_batch[t] = b.spec.number;
        }
        plan.batches.push(b.spec);
    }
    plan
}

/// Which inventory items a plan leaves out (already placed elsewhere).
pub struct Skip<'a> {
    pub module: &'a dyn Fn(usize) -> bool,
    pub feature: &'a dyn Fn(usize) -> bool,
    pub test: &'a dyn Fn(usize) -> bool,
}

impl Skip<'_> {
    pub const NONE: Skip<'static> = Skip { module: &|_| false, feature: &|_| false, test: &|_| false };
}

/// The generic plan for the items not skipped: one batch per file chunk,
/// numbered from `first` in file order, with test-file dependencies, then
/// one batch of the modules.
pub fn per_file_plan(inv: &Inventory, first: u32, skip: &Skip<'_>) -> Plan {
    let chunks = file_chunks(inv, skip.feature, skip.test);
    let mut batches: Vec<PlannedBatch> =
        chunks.iter().zip(first..).map(|(c, n)| chunk_batch(inv, c, n, chunk_name(inv, c))).collect();
    add_test_file_dependencies(inv, &mut batches);
    let modules: Vec<usize> = (0..inv.modules.len()).filter(|&m| !(skip.module)(m)).collect();
    if !modules.is_empty() {
        batches.push(modules_batch(inv, modules, first + chunks.len() as u32));
    }
    build_plan(inv, batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Feature, SourceFile, Test};

    #[test]
    fn chunks_are_even_and_bounded() {
        assert_eq!(even_chunks(0, 60), Vec::<usize>::new());
        assert_eq!(even_chunks(60, 60), [60]);
        assert_eq!(even_chunks(61, 60), [31, 30]);
        assert_eq!(even_chunks(232, 60), [58, 58, 58, 58]);
    }

    #[test]
    fn per_file_plan_places_every_item_and_links_test_files() {
        let file = |path: &str, is_test| SourceFile { module: 0, path: path.into(), is_test, lines: 1 };
        let modules = vec![crate::inventory::Module { name: "p".into(), dir: "p".into() }];
        let feat = |file, name: &str| Feature { file, line: 1, receiver: String::new(), name: name.into(), loc: 1, body_hash: String::new() };
        let test = |file, name: &str| Test { file, line: 1, name: name.into(), loc: 1, body_hash: String::new() };
        let mut inv = Inventory { modules, files: vec![file("p/a.go", false), file("p/a_test.go", true), file("p/b_test.go", true)], ..Default::default() };
        inv.features = (0..61).map(|i| feat(0, &format!("f{i}"))).collect();
        inv.tests = vec![test(1, "TestA"), test(2, "TestB")];
        let plan = per_file_plan(&inv, 5, &Skip::NONE);
        let numbers: Vec<_> = plan.batches.iter().map(|b| (b.number, b.name.as_str(), b.depends_on.clone())).collect();
        assert_eq!(
            numbers,
            [
                (5, "p/a.go (part 1/2)", vec![]),
                (6, "p/a.go (part 2/2)", vec![]),
                (7, "p/a_test.go", vec![5, 6]),
                (8, "p/b_test.go", vec![]),
                (9, MODULES_BATCH, vec![])
            ]
        );
        assert_eq!(plan.feature_batch.iter().filter(|&&b| b == 5).count(), 31);
        assert_eq!(plan.test_batch, [7, 8]);
        assert_eq!(plan.module_batch, [9]);
    }
}
