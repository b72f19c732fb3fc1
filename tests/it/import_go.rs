//! `porttrack import go`: the documented rules on small fixtures, re-import
//! behaviour, errors, and a real codebase checked against Go's own parser.

use serde_json::Value;

use super::util::{fixture, snapshot, TestDir};

fn fresh(t: &TestDir) {
    t.ok(&["init", "--empty"]);
}

/// (id, file, line, name, loc) of every feature or test, via `list --json`.
fn rows(t: &TestDir, kind: &str) -> Vec<(i64, String, i64, String)> {
    let v = t.json(&[kind, "list"]);
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_i64().unwrap(), i["file"].as_str().unwrap().to_string(), i["line"].as_i64().unwrap(), i["name"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn fixture_tree_follows_the_rules() {
    let t = TestDir::new("import-fixture");
    fresh(&t);
    let dir = fixture("go/tree/pkg");
    let v = t.json(&["import", "go", dir.to_str().unwrap()]);
    assert_eq!(v["features_added"], 13, "{v}");
    assert_eq!(v["tests_added"], 6, "{v}");
    // TestSetAdd calls Add and Has on a *Set (sub's Has is another
    // package's); Testing and TestÜber call Template; Test calls Describe;
    // BenchmarkSetAdd calls Add.
    assert_eq!(v["links"], 6, "{v}");

    // Modules by name (alpha < pkg < sub), files by file name within a
    // module, build-ignored files (gen.go, zz.go) included.
    let features = rows(&t, "feature");
    let expect = [
        (1, "pkg/alpha/first.go", 5, "First"),
        (2, "pkg/gen.go", 6, "main"),
        (3, "pkg/gen.go", 8, "generate"),
        (4, "pkg/set.go", 11, "Set.Add"),
        (5, "pkg/set.go", 15, "Set.Len"),
        (6, "pkg/set.go", 18, "Template"),
        (7, "pkg/set.go", 28, "Describe"),
        (8, "pkg/set.go", 35, "Set.Has"),
        (9, "pkg/zz.go", 5, "ignoredToo"),
        (10, "pkg/sub/extra.go", 3, "init"),
        (11, "pkg/sub/extra.go", 5, "init"),
        (12, "pkg/sub/extra.go", 8, "linked"),
        (13, "pkg/sub/extra.go", 10, "Has"),
    ];
    let got: Vec<_> = features.iter().map(|(i, f, l, n)| (*i, f.as_str(), *l, n.as_str())).collect();
    assert_eq!(got, expect);

    // Every top-level Test*/Benchmark* function, TestMain and Testing
    // included; examples, fuzz targets and methods are not tests.
    let tests = rows(&t, "test");
    let got: Vec<_> = tests.iter().map(|(i, f, l, n)| (*i, f.as_str(), *l, n.as_str())).collect();
    assert_eq!(
        got,
        [
            (1, "pkg/set_test.go", 8, "TestMain"),
            (2, "pkg/set_test.go", 12, "TestSetAdd"),
            (3, "pkg/set_test.go", 22, "Testing"),
            (4, "pkg/set_test.go", 26, "Test"),
            (5, "pkg/set_test.go", 30, "TestÜber"),
            (6, "pkg/set_test.go", 34, "BenchmarkSetAdd"),
        ]
    );

    // Every field of one generic method.
    let add = t.json(&["feature", "show", "Set.Add"]);
    assert_eq!(add["receiver"], "Set");
    assert_eq!(add["loc"], 3);
    assert_eq!(add["body_hash"].as_str().unwrap().len(), 16);
    let template = t.json(&["feature", "show", "Template"]);
    assert_eq!(template["loc"], 5, "raw string with braces spans the body");
    let links = t.json(&["test", "show", "TestSetAdd"]);
    let linked: Vec<&str> = links["links"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(linked, ["Set.Add", "Set.Has"]);
}

#[test]
fn import_creates_per_file_batches() {
    let t = TestDir::new("import-batches");
    fresh(&t);
    t.ok(&["import", "go", fixture("go/tree/pkg").to_str().unwrap()]);
    let v = t.json(&["batch", "list"]);
    let names: Vec<(i64, &str, Vec<i64>)> = v["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let deps = b["depends_on"].as_array().unwrap().iter().map(|d| d.as_i64().unwrap()).collect();
            (b["number"].as_i64().unwrap(), b["name"].as_str().unwrap(), deps)
        })
        .collect();
    assert_eq!(
        names,
        [
            (1, "pkg/alpha/first.go", vec![]),
            (2, "pkg/gen.go", vec![]),
            (3, "pkg/set.go", vec![]),
            (4, "pkg/set_test.go", vec![3]),
            (5, "pkg/zz.go", vec![]),
            (6, "pkg/sub/extra.go", vec![]),
            (7, "Modules", vec![])
        ]
    );
}

#[test]
fn reimport_is_idempotent() {
    let t = TestDir::new("import-idem");
    fresh(&t);
    let dir = fixture("go/tree/pkg");
    t.ok(&["import", "go", dir.to_str().unwrap()]);
    let before = (rows(&t, "feature"), rows(&t, "test"), t.json(&["batch", "list"]));
    let v = t.json(&["import", "go", dir.to_str().unwrap()]);
    assert_eq!((v["features_added"].as_i64(), v["features_unchanged"].as_i64()), (Some(0), Some(13)), "{v}");
    assert_eq!((v["tests_added"].as_i64(), v["tests_unchanged"].as_i64()), (Some(0), Some(6)), "{v}");
    assert_eq!(v["batches_added"], 0);
    let after = (rows(&t, "feature"), rows(&t, "test"), t.json(&["batch", "list"]));
    assert_eq!(before, after);
}

#[test]
fn reimport_of_a_changed_tree_keeps_ids() {
    let t = TestDir::new("import-changed");
    fresh(&t);
    let src = t.join("pkg");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.go"), "package pkg\n\nfunc One() int { return 1 }\n\nfunc Two() int { return 2 }\n").unwrap();
    t.ok(&["import", "go", "pkg"]);
    std::fs::write(src.join("a.go"), "package pkg\n\n// Zero is new.\nfunc Zero() int { return 0 }\n\nfunc One() int { return 1 }\n\nfunc Two() int {\n\treturn 22\n}\n").unwrap();
    let v = t.json(&["import", "go", "pkg"]);
    assert_eq!((v["features_added"].as_i64(), v["features_updated"].as_i64()), (Some(1), Some(2)), "{v}");
    let got = rows(&t, "feature");
    let got: Vec<_> = got.iter().map(|(i, _, l, n)| (*i, *l, n.as_str())).collect();
    assert_eq!(got, [(1, 6, "One"), (2, 8, "Two"), (3, 4, "Zero")]);
    let zero = t.json(&["feature", "show", "Zero"]);
    assert_eq!(zero["batch"]["number"], 3, "new items get a new batch after pkg/a.go's and the modules': {zero}");
}

#[test]
fn missing_directory_cannot_be_read_and_a_file_is_a_usage_error() {
    let t = TestDir::new("import-bad-dir");
    fresh(&t);
    let before = snapshot(&t.join("porting.db"));
    let err = t.fails(&["import", "go", "no/such/dir"], 7);
    assert!(err.contains("no/such/dir"), "{err}");
    let err = t.fails(&["import", "go", "/nonexistent"], 7);
    assert!(err.contains("/nonexistent") && err.contains("does not exist"), "{err}");
    std::fs::write(t.join("file.go"), "package x\n").unwrap();
    let err = t.fails(&["import", "go", "file.go"], 2);
    assert!(err.contains("file.go") && err.contains("not a directory"), "{err}");
    assert_eq!(before, snapshot(&t.join("porting.db")));
}

/// nats-server 2.9.10 as Debian ships it (installed by .ci/run), against
/// facts established with Go's own parser (tools/gofacts).
#[test]
fn debian_nats_server_matches_go_parser_facts() {
    let dir = std::path::Path::new("/usr/share/gocode/src/github.com/nats-io/nats-server/server");
    assert!(dir.is_dir(), "{} is missing: install Debian's golang-github-nats-io-nats-server-dev (.ci/run does)", dir.display());
    let t = TestDir::new("import-debian-nats");
    fresh(&t);
    let imported = t.json(&["import", "go", dir.to_str().unwrap()]);
    let facts = std::fs::read_to_string(fixture("nats-2.9.10-facts.tsv")).unwrap();
    let features = t.json(&["feature", "list"]);
    let tests = t.json(&["test", "list"]);
    let by_id = |list: &Value, id: i64| -> Value {
        list["items"].as_array().unwrap().iter().find(|i| i["id"] == id).cloned().unwrap_or(Value::Null)
    };
    let modules = t.json(&["module", "list"]);
    let modules = modules["modules"].as_array().unwrap();
    let mut checked = 0;
    for line in facts.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        match c[0] {
            "total" => {
                let n: i64 = c[2].parse().unwrap();
                let got = match c[1] {
                    "modules" => imported["modules_added"].as_i64(),
                    "features" => imported["features_added"].as_i64(),
                    "tests" => imported["tests_added"].as_i64(),
                    other => panic!("unknown total {other}"),
                };
                assert_eq!(got, Some(n), "total {}", c[1]);
            }
            "module" => {
                let id: i64 = c[1].parse().unwrap();
                let m = modules.iter().find(|m| m["id"] == id).unwrap_or_else(|| panic!("no module {id}"));
                assert_eq!((m["dir"].as_str(), m["name"].as_str()), (Some(c[2]), Some(c[5])), "module {id}");
                checked += 1;
            }
            kind @ ("feature" | "test") => {
                let id: i64 = c[1].parse().unwrap();
                let list = if kind == "feature" { &features } else { &tests };
                let row = by_id(list, id);
                let name = if c[4].is_empty() { c[5].to_string() } else { format!("{}.{}", c[4], c[5]) };
                assert_eq!((row["file"].as_str(), row["line"].as_i64(), row["name"].as_str()), (Some(c[2]), c[3].parse().ok(), Some(name.as_str())), "{kind} {id}");
                let detail = t.json(&[kind, "show", c[1]]);
                assert_eq!(detail["loc"].to_string(), c[6], "{kind} {id} loc");
                checked += 1;
            }
            other => panic!("unknown fact kind {other}"),
        }
    }
    assert!(checked > 150, "only {checked} sample rows checked");
}

/// The same tree's links scored against Go's type checker on a sample
/// (tools/golinks/sample.sh): every 10th test, all of its reference links.
/// The whole tree, measured by tools/golinks/compare.sh (which .ci/run runs
/// when Go is installed), gives the figures in README.
#[test]
fn debian_nats_server_links_agree_with_go_types_on_a_sample() {
    use std::collections::HashSet;
    let dir = std::path::Path::new("/usr/share/gocode/src/github.com/nats-io/nats-server/server");
    assert!(dir.is_dir(), "{} is missing: install Debian's golang-github-nats-io-nats-server-dev (.ci/run does)", dir.display());
    let t = TestDir::new("import-debian-nats-links");
    fresh(&t);
    t.ok(&["import", "go", dir.to_str().unwrap()]);
    let sample = std::fs::read_to_string(fixture("nats-2.9.10-golinks.tsv")).unwrap();
    let (mut files, mut tests, mut reference) = (HashSet::new(), HashSet::new(), HashSet::new());
    for line in sample.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        match c[0] {
            "file" => files.insert(c[1].to_string()),
            "test" => tests.insert((c[1].to_string(), c[2].parse::<i64>().unwrap())),
            "link" => reference.insert((c[1].to_string(), c[2].parse::<i64>().unwrap(), c[3].to_string(), c[4].parse::<i64>().unwrap())),
            other => panic!("unknown row kind {other}"),
        };
    }
    let conn = super::util::connect(&t.join("porting.db"));
    let mut stmt = conn
        .prepare(
            "SELECT ts.path, t.line, fs.path, f.line FROM feature_tests l JOIN tests t ON t.id = l.test_id JOIN source_files ts ON ts.id = t.file_id \
             JOIN features f ON f.id = l.feature_id JOIN source_files fs ON fs.id = f.file_id",
        )
        .unwrap();
    let ours: HashSet<(String, i64, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .filter(|l: &(String, i64, String, i64)| tests.contains(&(l.0.clone(), l.1)) && files.contains(&l.2))
        .collect();
    let agree = ours.intersection(&reference).count() as f64;
    let (precision, recall) = (agree / ours.len() as f64, agree / reference.len() as f64);
    eprintln!("sample of {} tests: {} links, {} reference links, precision {:.3}, recall {:.3}", tests.len(), ours.len(), reference.len(), precision, recall);
    assert!(tests.len() > 150 && reference.len() > 400, "sample too small");
    assert!(precision >= 0.92, "precision {precision:.3}: links the type checker does not make: {:?}", ours.difference(&reference).take(10).collect::<Vec<_>>());
    assert!(recall >= 0.92, "recall {recall:.3}: links missed: {:?}", reference.difference(&ours).take(10).collect::<Vec<_>>());
}

#[test]
fn builtin_regeneration_refuses_a_tree_that_is_not_nats_server() {
    let t = TestDir::new("builtin-regen");
    let pkg = fixture("go/tree/pkg");
    let err = t.fails(&["builtin", "regenerate", "--go-dir", pkg.to_str().unwrap(), "--upstream-dir", pkg.to_str().unwrap(), "--out", "out"], 2);
    assert!(err.contains("does not look like nats-server") && err.contains("server/raft.go is missing"), "{err}");
    assert!(!t.join("out").exists());
}
