//! The TSV layout of `data/builtin/`: IDs are 1-based positions, so the
//! files read back into exactly the inventory and plan they came from.

use std::fmt::Write as _;
use std::path::Path;

use crate::domain::plan::{BatchSpec, Plan};
use crate::inventory::{Feature, Inventory, SourceFile, Test};

pub struct Tables<'a> {
    pub files: &'a str,
    pub features: &'a str,
    pub tests: &'a str,
    pub links: &'a str,
    pub batches: &'a str,
}

const HEADERS: [(&str, &str); 5] = [
    ("files.tsv", "id\tpath\tis_test\tlines"),
    ("features.tsv", "id\tfile_id\tline\treceiver\tname\tloc\tbody_hash\tbatch"),
    ("tests.tsv", "id\tfile_id\tline\tname\tloc\tbody_hash\tbatch"),
    ("links.tsv", "test_id\tfeature_ids"),
    ("batches.tsv", "number\tname\tdepends_on\tdescription"),
];

/// Write the inventory and plan as TSV files into `dir`.
pub fn write(inv: &Inventory, plan: &Plan, dir: &Path) -> std::io::Result<()> {
    let mut out: [String; 5] = Default::default();
    for (o, (_, header)) in out.iter_mut().zip(HEADERS) {
        o.push_str(header);
        o.push('\n');
    }
    for (i, f) in inv.files.iter().enumerate() {
        let _ = writeln!(out[0], "{}\t{}\t{}\t{}", i + 1, f.path, u8::from(f.is_test), f.lines);
    }
    for (i, f) in inv.features.iter().enumerate() {
        let _ = writeln!(
            out[1],
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            i + 1,
            f.file + 1,
            f.line,
            f.receiver,
            f.name,
            f.loc,
            f.body_hash,
            plan.feature_batch[i]
        );
    }
    for (i, t) in inv.tests.iter().enumerate() {
        let _ = writeln!(out[2], "{}\t{}\t{}\t{}\t{}\t{}\t{}", i + 1, t.file + 1, t.line, t.name, t.loc, t.body_hash, plan.test_batch[i]);
    }
    let mut per_test: Vec<Vec<u32>> = vec![Vec::new(); inv.tests.len()];
    for &(f, t) in &inv.links {
        per_test[t as usize].push(f + 1);
    }
    for (t, fs) in per_test.iter().enumerate().filter(|(_, fs)| !fs.is_empty()) {
        let ids: Vec<String> = fs.iter().map(u32::to_string).collect();
        let _ = writeln!(out[3], "{}\t{}", t + 1, ids.join(","));
    }
    for b in &plan.batches {
        let deps: Vec<String> = b.depends_on.iter().map(u32::to_string).collect();
        let _ = writeln!(out[4], "{}\t{}\t{}\t{}", b.number, b.name, deps.join(","), b.description);
    }
    std::fs::create_dir_all(dir)?;
    for (content, (name, _)) in out.iter().zip(HEADERS) {
        std::fs::write(dir.join(name), content)?;
    }
    Ok(())
}

/// Read tables written by [`write`].
pub fn parse(t: &Tables<'_>) -> Result<(Inventory, Plan), String> {
    let mut inv = Inventory::default();
    let mut plan = Plan::default();
    for row in rows(t.files, "files.tsv", 4)? {
        let (n, r) = row?;
        expect_id(&r[0], inv.files.len() + 1, "files.tsv", n)?;
        inv.files.push(SourceFile { module: 0, path: r[1].to_string(), is_test: r[2] == "1", lines: num(&r[3], "files.tsv", n)? });
    }
    inv.assign_modules();
    plan.module_batch = vec![0; inv.modules.len()];
    for row in rows(t.features, "features.tsv", 8)? {
        let (n, r) = row?;
        expect_id(&r[0], inv.features.len() + 1, "features.tsv", n)?;
        inv.features.push(Feature {
            file: file_ref(&r[1], &inv, "features.tsv", n)?,
            line: num(&r[2], "features.tsv", n)?,
            receiver: r[3].to_string(),
            name: r[4].to_string(),
            loc: num(&r[5], "features.tsv", n)?,
            body_hash: r[6].to_string(),
        });
        plan.feature_batch.push(num(&r[7], "features.tsv", n)?);
    }
    for row in rows(t.tests, "tests.tsv", 7)? {
        let (n, r) = row?;
        expect_id(&r[0], inv.tests.len() + 1, "tests.tsv", n)?;
        inv.tests.push(Test {
            file: file_ref(&r[1], &inv, "tests.tsv", n)?,
            line: num(&r[2], "tests.tsv", n)?,
            name: r[3].to_string(),
            loc: num(&r[4], "tests.tsv", n)?,
            body_hash: r[5].to_string(),
        });
        plan.test_batch.push(num(&r[6], "tests.tsv", n)?);
    }
    for row in rows(t.links, "links.tsv", 2)? {
        let (n, r) = row?;
        let test: u32 = num(&r[0], "links.tsv", n)?;
        if test == 0 || test as usize > inv.tests.len() {
            return Err(format!("links.tsv line {n}: no test {test}"));
        }
        for f in r[1].split(',') {
            let f: u32 = num(f, "links.tsv", n)?;
            if f == 0 || f as usize > inv.features.len() {
                return Err(format!("links.tsv line {n}: no feature {f}"));
            }
            inv.links.push((f - 1, test - 1));
        }
    }
    inv.links.sort_unstable();
    for row in rows(t.batches, "batches.tsv", 4)? {
        let (n, r) = row?;
        let depends_on = if r[2].is_empty() {
            Vec::new()
        } else {
            r[2].split(',').map(|d| num(d, "batches.tsv", n)).collect::<Result<_, _>>()?
        };
        plan.batches.push(BatchSpec { number: num(&r[0], "batches.tsv", n)?, name: r[1].to_string(), description: r[3].to_string(), depends_on });
    }
    Ok((inv, plan))
}

type Rows<'a> = Vec<Result<(usize, Vec<&'a str>), String>>;

fn rows<'a>(text: &'a str, name: &str, columns: usize) -> Result<Rows<'a>, String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.split('\t').count() == columns => {}
        _ => return Err(format!("{name}: missing or wrong header")),
    }
    Ok(lines
        .map(|(i, line)| {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() == columns {
                Ok((i + 1, cols))
            } else {
                Err(format!("{name} line {}: expected {columns} columns, found {}", i + 1, cols.len()))
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
