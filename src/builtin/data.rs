//! The TSV layout of `data/builtin/`: IDs are 1-based positions, so the
//! files read back into exactly the inventory and plan they came from. An
//! upstream snapshot is the same layout without a plan (batch 0, no
//! batches.tsv).

use std::fmt::Write as _;
use std::path::Path;

use crate::domain::plan::{BatchSpec, Plan};
use crate::inventory::{Feature, Inventory, Module, SourceFile, Test};

/// The text of one set of TSV files; `batches` is empty for a snapshot.
pub struct Tables<'a> {
    pub modules: &'a str,
    pub files: &'a str,
    pub features: &'a str,
    pub tests: &'a str,
    pub links: &'a str,
    pub batches: &'a str,
}

const MODULES: (&str, &str) = ("modules.tsv", "id\tname\tdir\tbatch");
const FILES: (&str, &str) = ("files.tsv", "id\tmodule_id\tpath\tis_test\tlines");
const FEATURES: (&str, &str) = ("features.tsv", "id\tfile_id\tline\treceiver\tname\tloc\tbody_hash\tbatch");
const TESTS: (&str, &str) = ("tests.tsv", "id\tfile_id\tline\tname\tloc\tbody_hash\tbatch");
const LINKS: (&str, &str) = ("links.tsv", "test_id\tfeature_ids");
const BATCHES: (&str, &str) = ("batches.tsv", "number\tname\tdepends_on\tdescription");

/// Write the inventory (and, for the plan's commit, the plan) as TSV files
/// into `dir`.
pub fn write(inv: &Inventory, plan: Option<&Plan>, dir: &Path) -> std::io::Result<()> {
    let batch = |v: Option<&Vec<u32>>, i: usize| v.and_then(|b| b.get(i).copied()).unwrap_or(0);
    let mut modules = header(MODULES);
    for (i, m) in inv.modules.iter().enumerate() {
        let _ = writeln!(modules, "{}\t{}\t{}\t{}", i + 1, m.name, m.dir, batch(plan.map(|p| &p.module_batch), i));
    }
    let mut files = header(FILES);
    for (i, f) in inv.files.iter().enumerate() {
        let _ = writeln!(files, "{}\t{}\t{}\t{}\t{}", i + 1, f.module + 1, f.path, u8::from(f.is_test), f.lines);
    }
    let mut features = header(FEATURES);
    for (i, f) in inv.features.iter().enumerate() {
        let b = batch(plan.map(|p| &p.feature_batch), i);
        let _ = writeln!(features, "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{b}", i + 1, f.file + 1, f.line, f.receiver, f.name, f.loc, f.body_hash);
    }
    let mut tests = header(TESTS);
    for (i, t) in inv.tests.iter().enumerate() {
        let b = batch(plan.map(|p| &p.test_batch), i);
        let _ = writeln!(tests, "{}\t{}\t{}\t{}\t{}\t{}\t{b}", i + 1, t.file + 1, t.line, t.name, t.loc, t.body_hash);
    }
    let mut per_test: Vec<Vec<u32>> = vec![Vec::new(); inv.tests.len()];
    for &(f, t) in &inv.links {
        per_test[t as usize].push(f + 1);
    }
    let mut links = header(LINKS);
    for (t, fs) in per_test.iter().enumerate().filter(|(_, fs)| !fs.is_empty()) {
        let ids: Vec<String> = fs.iter().map(u32::to_string).collect();
        let _ = writeln!(links, "{}\t{}", t + 1, ids.join(","));
    }
    std::fs::create_dir_all(dir)?;
    let mut out = vec![(MODULES.0, modules), (FILES.0, files), (FEATURES.0, features), (TESTS.0, tests), (LINKS.0, links)];
    if let Some(plan) = plan {
        let mut batches = header(BATCHES);
        for b in &plan.batches {
            let deps: Vec<String> = b.depends_on.iter().map(u32::to_string).collect();
            let _ = writeln!(batches, "{}\t{}\t{}\t{}", b.number, b.name, deps.join(","), b.description);
        }
        out.push((BATCHES.0, batches));
    }
    for (name, content) in out {
        std::fs::write(dir.join(name), content)?;
    }
    Ok(())
}

fn header((_, columns): (&str, &str)) -> String {
    format!("{columns}\n")
}

/// Read tables written by [`write`].
pub fn parse(t: &Tables<'_>) -> Result<(Inventory, Plan), String> {
    let mut inv = Inventory::default();
    let mut plan = Plan::default();
    for row in rows(t.modules, MODULES)? {
        let (n, r) = row?;
        expect_id(r[0], inv.modules.len() + 1, MODULES.0, n)?;
        inv.modules.push(Module { name: r[1].to_string(), dir: r[2].to_string() });
        plan.module_batch.push(num(r[3], MODULES.0, n)?);
    }
    for row in rows(t.files, FILES)? {
        let (n, r) = row?;
        expect_id(r[0], inv.files.len() + 1, FILES.0, n)?;
        let module: u32 = num(r[1], FILES.0, n)?;
        if module == 0 || module as usize > inv.modules.len() {
            return Err(format!("{} line {n}: no module {module}", FILES.0));
        }
        inv.files.push(SourceFile { module: module - 1, path: r[2].to_string(), is_test: r[3] == "1", lines: num(r[4], FILES.0, n)? });
    }
    for row in rows(t.features, FEATURES)? {
        let (n, r) = row?;
        expect_id(r[0], inv.features.len() + 1, FEATURES.0, n)?;
        inv.features.push(Feature {
            file: file_ref(r[1], &inv, FEATURES.0, n)?,
            line: num(r[2], FEATURES.0, n)?,
            receiver: r[3].to_string(),
            name: r[4].to_string(),
            loc: num(r[5], FEATURES.0, n)?,
            body_hash: r[6].to_string(),
        });
        plan.feature_batch.push(num(r[7], FEATURES.0, n)?);
    }
    for row in rows(t.tests, TESTS)? {
        let (n, r) = row?;
        expect_id(r[0], inv.tests.len() + 1, TESTS.0, n)?;
        inv.tests.push(Test {
            file: file_ref(r[1], &inv, TESTS.0, n)?,
            line: num(r[2], TESTS.0, n)?,
            name: r[3].to_string(),
            loc: num(r[4], TESTS.0, n)?,
            body_hash: r[5].to_string(),
        });
        plan.test_batch.push(num(r[6], TESTS.0, n)?);
    }
    for row in rows(t.links, LINKS)? {
        let (n, r) = row?;
        let test: u32 = num(r[0], LINKS.0, n)?;
        if test == 0 || test as usize > inv.tests.len() {
            return Err(format!("{} line {n}: no test {test}", LINKS.0));
        }
        for f in r[1].split(',') {
            let f: u32 = num(f, LINKS.0, n)?;
            if f == 0 || f as usize > inv.features.len() {
                return Err(format!("{} line {n}: no feature {f}", LINKS.0));
            }
            inv.links.push((f - 1, test - 1));
        }
    }
    inv.links.sort_unstable();
    if !t.batches.is_empty() {
        for row in rows(t.batches, BATCHES)? {
            let (n, r) = row?;
            let depends_on =
                if r[2].is_empty() { Vec::new() } else { r[2].split(',').map(|d| num(d, BATCHES.0, n)).collect::<Result<_, _>>()? };
            plan.batches.push(BatchSpec { number: num(r[0], BATCHES.0, n)?, name: r[1].to_string(), description: r[3].to_string(), depends_on });
        }
    }
    Ok((inv, plan))
}

type Rows<'a> = Vec<Result<(usize, Vec<&'a str>), String>>;

fn rows<'a>(text: &'a str, (name, columns): (&str, &str)) -> Result<Rows<'a>, String> {
    let width = columns.split('\t').count();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header == columns => {}
        _ => return Err(format!("{name}: missing or wrong header (expected {columns:?})")),
    }
    Ok(lines
        .map(|(i, line)| {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() == width {
                Ok((i + 1, cols))
            } else {
                Err(format!("{name} line {}: expected {width} columns, found {}", i + 1, cols.len()))
            }
        })
        .collect())
}

fn num<T: std::str::FromStr>(s: &str, file: &str, line: usize) -> Result<T, String> {
    s.parse().map_err(|_| format!("{file} line {line}: '{s}' is not a number"))
}

fn expect_id(s: &str, expected: usize, file: &str, line: usize) -> Result<(), String> {
    let id: usize = num(s, file, line)?;
    if id == expected {
        Ok(())
    } else {
        Err(format!("{file} line {line}: id {id}, expected {expected}"))
    }
}

fn file_ref(s: &str, inv: &Inventory, file: &str, line: usize) -> Result<u32, String> {
    let id: u32 = num(s, file, line)?;
    if id == 0 || id as usize > inv.files.len() {
        return Err(format!("{file} line {line}: no file {id}"));
    }
    Ok(id - 1)
}
