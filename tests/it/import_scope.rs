//! Issue 14, the importer: what `import go` leaves out as `go build` does
//! (testdata/, `_` and `.` directories), `--exclude`, files that do not
//! tokenize (reported and skipped, exit 8), and links scoped to the calling
//! test's package and its imports, with `_test.go` helpers shadowing.
//! The fixture tree tests/fixtures/go/scoped type-checks; tools/golinks
//! gives it the same 9 links these tests expect.

use serde_json::Value;

use super::util::{fixture, snapshot, TestDir};

fn imported(name: &str, extra: &[&str]) -> (TestDir, Value) {
    let t = TestDir::new(name);
    t.ok(&["init", "--empty"]);
    let dir = fixture("go/scoped");
    let mut args = vec!["import", "go", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let v = t.json(&args);
    (t, v)
}

/// The file:name of every feature, via `feature list --json`.
fn features(t: &TestDir) -> Vec<String> {
    let v = t.json(&["feature", "list"]);
    v["items"].as_array().unwrap().iter().map(|i| format!("{}:{}", i["file"].as_str().unwrap(), i["name"].as_str().unwrap())).collect()
}

/// The file:name of every feature a test is linked to.
fn links(t: &TestDir, test: &str) -> Vec<String> {
    let v = t.json(&["test", "show", test]);
    let mut out: Vec<String> = v["links"].as_array().unwrap().iter().map(|l| format!("{}:{}", l["file"].as_str().unwrap(), l["name"].as_str().unwrap())).collect();
    out.sort();
    out
}

#[test]
fn links_stay_in_the_tests_package_and_its_imports() {
    let (t, v) = imported("scope-links", &[]);
    assert_eq!(v["links"], 9, "{v}");
    // TestNRGSimple: a test helper's createRaftGroup, *testing.T's Errorf and
    // *nats.Conn's Close reach nothing; util.Format is example.com/scoped/util's,
    // not other/util's; Shutdown is the one of each receiver's type; a
    // Propose on a value of unknown type is the test double's (shadowed), on
    // *raft raft's; err.Error() takes no argument, so not (*client).Error.
    assert_eq!(
        links(&t, "TestNRGSimple"),
        [
            "scoped/server/jetstream_cluster.go:ApiError.Error",
            "scoped/server/jetstream_cluster.go:RunServer",
            "scoped/server/jetstream_cluster.go:Server.Shutdown",
            "scoped/server/raft.go:newRaft",
            "scoped/server/raft.go:raft.Propose",
            "scoped/server/raft.go:raft.Stop",
            "scoped/util/util.go:Client.Shutdown",
            "scoped/util/util.go:Format",
        ]
    );
    // An external test package (util_test) reaches its package through the
    // import; its own helperShared is not util's.
    assert_eq!(links(&t, "TestFormat"), ["scoped/util/util.go:Format"]);
}

#[test]
fn a_test_helper_shadows_the_same_named_feature() {
    let (t, _) = imported("scope-shadow", &[]);
    let v = t.json(&["feature", "show", "jetStream.createRaftGroup"]);
    assert_eq!(v["links"].as_array().map(Vec::len), Some(0), "c.createRaftGroup(…) calls (*cluster).createRaftGroup of raft_helpers_test.go: {v}");
    let propose = t.json(&["feature", "show", "raft.Propose"]);
    let by: Vec<&str> = propose["links"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(by, ["TestNRGSimple"], "a receiver of known type is not shadowed by a test double's method");
}

#[test]
fn testdata_underscore_and_dot_directories_are_left_out_unless_asked() {
    let (t, v) = imported("scope-testdata", &[]);
    assert_eq!(v["dirs_skipped"], 3, "server/testdata, _tools, .hidden: {v}");
    let all = features(&t);
    for gone in ["FromTestdata", "main", "Hidden"] {
        assert!(!all.iter().any(|f| f.ends_with(&format!(":{gone}"))), "{gone} imported: {all:?}");
    }
    let out = t.ok(&["import", "go", fixture("go/scoped").to_str().unwrap()]);
    assert!(out.contains("Left out 3 testdata/, _ or . directories"), "{out}");

    let (t, v) = imported("scope-testdata-kept", &["--include-testdata"]);
    assert_eq!(v["dirs_skipped"], 2, "{v}");
    assert!(features(&t).contains(&"scoped/server/testdata/fixture.go:FromTestdata".to_string()));
    let m = t.json(&["module", "show", "testdata"]);
    assert_eq!(m["dir"], "scoped/server/testdata");
}

#[test]
fn exclude_globs_match_names_anywhere_and_paths_from_the_directory() {
    let (t, v) = imported("scope-exclude", &["--exclude", "*_gen.go", "--exclude", "other"]);
    assert_eq!(v["excluded"], 2, "{v}");
    let all = features(&t);
    assert!(!all.iter().any(|f| f.contains("zz_gen.go") || f.contains("/other/")), "{all:?}");
    assert!(all.contains(&"scoped/util/util.go:Format".to_string()));

    // With a slash, the glob is a path relative to DIR: util/* is scoped/util's
    // files, not scoped/other/util's.
    let (t, v) = imported("scope-exclude-path", &["--exclude", "util/*"]);
    assert_eq!(v["excluded"], 3, "{v}");
    let all = features(&t);
    assert!(all.contains(&"scoped/other/util/util.go:Format".to_string()), "{all:?}");
    assert!(!all.iter().any(|f| f.starts_with("scoped/util/")), "{all:?}");

    let t = TestDir::new("scope-exclude-bad");
    t.ok(&["init", "--empty"]);
    let before = snapshot(&t.join("porting.db"));
    let err = t.fails(&["import", "go", fixture("go/scoped").to_str().unwrap(), "--exclude", "src/[x"], 2);
    assert!(err.contains("--exclude \"src/[x\""), "{err}");
    assert_eq!(before, snapshot(&t.join("porting.db")));
}

#[test]
fn a_file_that_does_not_tokenize_is_reported_and_the_rest_imported() {
    let t = TestDir::new("scope-broken");
    t.ok(&["init", "--empty"]);
    std::fs::create_dir(t.join("src")).unwrap();
    std::fs::write(t.join("src/a.go"), "package x\n\nfunc A() {}\n").unwrap();
    std::fs::write(t.join("src/bad.go"), "package x\n\nvar tmpl = `never closed\n\nfunc B() {}\n").unwrap();
    std::fs::write(t.join("src/c_test.go"), "package x\n\nimport \"testing\"\n\nfunc TestC(t *testing.T) {\n\tA()\n}\n").unwrap();

    let (code, out, _) = t.run(&["import", "go", "src"]);
    assert_eq!(code, 8, "partial: {out}");
    assert!(out.contains("Skipped 1 file that could not be read or tokenized") && out.contains("  src/bad.go:3: unterminated raw string\n"), "{out}");
    let (code, out, _) = t.run(&["import", "go", "src", "--json"]);
    assert_eq!(code, 8);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["skipped"], serde_json::json!([{"path": "src/bad.go", "line": 3, "reason": "unterminated raw string"}]));
    assert_eq!(v["features_unchanged"], 1, "A was imported by the first run: {v}");
    assert_eq!(features(&t), ["src/a.go:A"]);
    assert_eq!(links(&t, "TestC"), ["src/a.go:A"]);
    let files = t.json(&["module", "show", "src"]);
    assert_eq!(files["files"], 2, "bad.go is not recorded: {files}");
}

#[test]
fn calls_whose_candidates_agree_on_their_result_and_globals_give_types() {
    // pick() returns an interface, so Node() reaches (*A).Node and (*B).Node;
    // both return *Node, so Stop() is (*Node).Stop and not (*A).Stop.
    // tools/golinks gives the same links for both tests.
    let t = TestDir::new("scope-results");
    t.ok(&["init", "--empty"]);
    t.ok(&["import", "go", fixture("go/results").to_str().unwrap()]);
    assert_eq!(links(&t, "TestStop"), ["results/nodes.go:A.Node", "results/nodes.go:B.Node", "results/nodes.go:Node.Stop", "results/nodes.go:pick"]);
    // Package-level constants and variables have the type their spec gives
    // (a const group's later names repeat the one before): Kind.String, not
    // (*A).String; (*Node).Stop, not (*A).Stop.
    assert_eq!(links(&t, "TestGlobals"), ["results/nodes.go:Kind.String", "results/nodes.go:Node.Stop"]);
}

#[test]
fn links_follow_fields_elements_assertions_interfaces_and_scopes() {
    // tests/fixtures/go/shapes type-checks; tools/golinks/compare.sh gives it
    // precision and recall 100 % (every static link and every link through an interface).
    let t = TestDir::new("scope-shapes");
    t.ok(&["init", "--empty"]);
    t.ok(&["import", "go", fixture("go/shapes").to_str().unwrap()]);
    // A map's keys and a slice's elements have their element types, and each
    // `for fn := range` declares a variable of its own: Function.String then
    // Block.String; a *strings.Builder's String reaches nothing, nor does
    // Global.String (a same-named method of another type).
    assert_eq!(links(&t, "TestRangeAndScopes"), ["shapes/prog.go:AllFunctions", "shapes/prog.go:Block.String", "shapes/prog.go:Function.String", "shapes/prog.go:NewPackage"]);
    // pkg.Prog is a *Program, so MethodValue gives a *Function; Wrapper
    // promotes Function's String and Blocks, not strings.Builder's String;
    // Run is promoted from the embedded *other.Thing; a named slice type
    // indexes to its element.
    assert_eq!(
        links(&t, "TestFieldsAndEmbedding"),
        [
            "shapes/other/other.go:New",
            "shapes/other/other.go:Thing.Run",
            "shapes/other/other.go:Thing.String",
            "shapes/prog.go:Block.String",
            "shapes/prog.go:Function.Name",
            "shapes/prog.go:Function.String",
            "shapes/prog.go:NewPackage",
            "shapes/prog.go:Package.Hook",
            "shapes/prog.go:Program.MethodValue",
            "shapes/prog.go:Sorted",
        ]
    );
    // Member's Name reaches its implementers (Function and Global), not
    // Block; `.(*Global)` makes String Global's; []*Block{…} ranges to
    // *Block; a map[string]*Global indexes to *Global.
    assert_eq!(
        links(&t, "TestAssertionsAndInterfaces"),
        ["shapes/prog.go:Block.String", "shapes/prog.go:Function.Name", "shapes/prog.go:Global.Name", "shapes/prog.go:Global.String", "shapes/prog.go:Lookup", "shapes/prog.go:NewPackage"]
    );
    // err.Error() reaches every Error method that makes a type an error.
    assert_eq!(links(&t, "TestErrors"), ["shapes/prog.go:OtherError.Error", "shapes/prog.go:Parse", "shapes/prog.go:ParseError.Error"]);
    // In `case *Global:` v is a *Global, so String is Global's alone (not
    // Block's or Function's); in `default` it is the Member interface, so
    // Name reaches both implementers.
    assert_eq!(
        links(&t, "TestTypeSwitch"),
        ["shapes/prog.go:Function.Name", "shapes/prog.go:Global.Name", "shapes/prog.go:Global.String", "shapes/prog.go:Lookup", "shapes/prog.go:NewPackage"]
    );
}
