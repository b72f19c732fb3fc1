//! Go ↔ Rust mappings: the built-in plan's, `map` commands, mapping files,
//! and staleness of verified items whose Rust file changed.

use super::util::{trusted_run, TestDir};

#[test]
fn builtin_plan_ships_the_ports_mappings() {
    let t = TestDir::new("map-builtin");
    t.ok(&["init"]);
    let m = t.json(&["feature", "show", "raftGroup.isMember"]);
    let file = m["rust_file"].as_str().expect("isMember is mapped");
    assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file).is_file(), "{file} does not exist");
    assert!(m["rust_symbol"].as_str().unwrap().ends_with("is_member"), "{m}");
    let s = t.json(&["test", "show", "TestNRGSimple"]);
    assert_eq!(s["rust_symbol"], "batch33::test_nrg_simple");
    let mapped = t.json(&["feature", "list", "--batch", "33"])["items"].as_array().unwrap().iter().filter(|i| !i["rust_target"].is_null()).count();
    assert!(mapped >= 20, "only {mapped} of batch 33's features are mapped");
}

#[test]
fn map_feature_and_test_by_name() {
    let t = TestDir::new("map-cmds");
    t.ok(&["init"]);
    for f in ["ported/src/jetstream_cluster/monitor.rs", "ported/tests/jsc/monitor.rs"] {
        std::fs::create_dir_all(t.join(f).parent().unwrap()).unwrap();
        std::fs::write(t.join(f), "").unwrap();
    }
    let v = t.json(&["map", "feature", "jetStream.monitorStream", "--rust", "ported/src/jetstream_cluster/monitor.rs::jetstream_cluster::monitor::JetStream::monitor_stream", "--test", "jsc::monitor::runs", "--test", "jsc::monitor::recovers"]);
    assert_eq!(v["rust_tests"].as_array().unwrap().len(), 2);
    let f = t.json(&["feature", "show", "monitorStream"]);
    assert_eq!(f["rust_file"], "ported/src/jetstream_cluster/monitor.rs");
    assert_eq!(f["rust_symbol"], "jetstream_cluster::monitor::JetStream::monitor_stream");
    assert_eq!(f["rust_tests"].as_array().unwrap().len(), 2);
    t.json(&["map", "test", "TestMonitorJsz", "--rust", "jsc::monitor::jsz", "--file", "ported/tests/jsc/monitor.rs"]);
    let s = t.json(&["test", "show", "TestMonitorJsz"]);
    assert_eq!((s["rust_symbol"].as_str(), s["rust_file"].as_str()), (Some("jsc::monitor::jsz"), Some("ported/tests/jsc/monitor.rs")));
    assert!(t.fails(&["map", "feature", "monitorStream", "--rust", "monitor_stream"], 2).contains("'monitor_stream' is not PATH::SYMBOL with a .rs or .cs file"));
    assert!(t.fails(&["map", "feature", "noSuchThing", "--rust", "ported/tests/jsc/monitor.rs::b"], 3).contains("noSuchThing"));
    assert!(t.fails(&["map", "feature", "monitorStream", "--rust", "a.rs::b"], 2).contains("target file 'a.rs' does not exist"));
    assert!(t.fails(&["map", "test", "TestMonitorJsz", "--rust", " "], 2).contains("--target"));
    // --target takes C# as well as Rust; --rust is the same option.
    std::fs::create_dir_all(t.join("dotnet/src/JetStream")).unwrap();
    std::fs::write(t.join("dotnet/src/JetStream/JetStream.Cluster.cs"), "").unwrap();
    t.json(&["map", "feature", "monitorStream", "--target", "dotnet/src/JetStream/JetStream.Cluster.cs::NatsNet.Server.JetStream.MonitorStream"]);
    let f = t.json(&["feature", "show", "monitorStream"]);
    assert_eq!((f["rust_file"].as_str(), f["rust_symbol"].as_str()), (Some("dotnet/src/JetStream/JetStream.Cluster.cs"), Some("NatsNet.Server.JetStream.MonitorStream")));
    assert!(t.fails(&["map", "feature", "monitorStream", "--target", "server/jetstream_cluster.go::monitorStream"], 2).contains(".rs or .cs"));
}

#[test]
fn mapping_files_import_all_or_nothing() {
    let t = TestDir::new("map-import");
    t.ok(&["init"]);
    for f in ["ported/src/x.rs", "ported/tests/m.rs", "ported/src/y.rs"] {
        std::fs::create_dir_all(t.join(f).parent().unwrap()).unwrap();
        std::fs::write(t.join(f), "").unwrap();
    }
    std::fs::write(
        t.join("good.tsv"),
        "# kind\tgo_file\tgo_name\trust_file\trust_symbol\trust_tests\n\
         feature\tserver/jetstream_cluster.go\tjetStream.createRaftGroup\tported/src/x.rs\tx::create_raft_group\tx::tests::a\n\
         test\tserver/monitor_test.go\tTestMonitorJsz\tported/tests/m.rs\tm::jsz\t\n\
         deferred-test\tserver/norace_2_test.go\tTestNoRaceJetStreamClusterLargeMetaSnapshotTiming\t\t\tneeds a full cluster\n",
    )
    .unwrap();
    std::fs::write(t.join("more.tsv"), "feature-tests\tserver/jetstream_cluster.go\tjetStream.createRaftGroup\t\t\tx::tests::b\n").unwrap();
    let v = t.json(&["map", "import", "good.tsv", "more.tsv"]);
    assert_eq!((v["features"].as_i64(), v["tests"].as_i64(), v["deferrals"].as_i64(), v["rust_tests"].as_i64()), (Some(1), Some(1), Some(1), Some(2)));
    assert_eq!(t.json(&["feature", "show", "createRaftGroup"])["rust_tests"], serde_json::json!(["x::tests::a", "x::tests::b"]));
    // Importing again replaces, it does not accumulate.
    t.json(&["map", "import", "good.tsv"]);
    assert_eq!(t.json(&["feature", "show", "createRaftGroup"])["rust_tests"], serde_json::json!(["x::tests::a"]));

    std::fs::write(t.join("bad.tsv"), "feature\tserver/jetstream_cluster.go\tjetStream.applyStreamEntries\tported/src/y.rs\ty::apply\t\nfeature\tserver/raft.go\traft.noSuchMethod\tported/src/y.rs\ty::z\t\n").unwrap();
    // applyStreamEntries may already be mapped by the built-in plan; the
    // failed import must leave it as it was.
    let before = t.json(&["feature", "show", "applyStreamEntries"])["rust_file"].clone();
    assert_ne!(before, "ported/src/y.rs");
    let err = t.fails(&["map", "import", "bad.tsv"], 2);
    assert!(err.contains("bad.tsv:2: no feature raft.noSuchMethod in server/raft.go"), "{err}");
    assert_eq!(t.json(&["feature", "show", "applyStreamEntries"])["rust_file"], before, "a failed import wrote a row");
    assert!(t.fails(&["map", "import", "missing.tsv"], 2).contains("missing.tsv"));
}

#[test]
fn verified_items_go_stale_when_their_rust_file_changes() {
    let t = TestDir::new("stale");
    t.ok(&["init"]);
    std::fs::write(t.join("port.rs"), "fn ported() {}\n").unwrap();
    t.ok(&["map", "test", "TestNRGSimple", "--rust", "port::ported_test", "--file", "port.rs"]);
    let run = trusted_run(&t, 33, &[("port::ported_test", "ok")]);
    t.ok(&["batch", "update", "33", "--tests", "TestNRGSimple", "--status", "verified", "--evidence", &run.to_string(), "--override", "test"]);
    assert_eq!(t.json(&["batch", "show", "33"])["stale"], 0);

    std::fs::write(t.join("port.rs"), "fn ported() { changed(); }\n").unwrap();
    // A file changed since the run is stale, and no longer proves verified.
    let (code, out, _) = t.run(&["batch", "update", "33", "--tests", "TestMonitorJsz,TestNRGSimple", "--status", "complete", "--reason", "x", "--override", "x", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    let b = t.json(&["batch", "show", "33"]);
    assert_eq!(b["stale"], 1);
    let item = b["tests"]["items"].as_array().unwrap().iter().find(|i| i["name"] == "TestNRGSimple").cloned().unwrap();
    assert_eq!(item["stale"], true);
    assert!(t.ok(&["batch", "show", "33"]).contains("verified (stale)"));
    assert_eq!(t.json(&["report", "summary"])["stale"][0]["rust_file"], "port.rs");
    assert!(t.ok(&["report", "summary"]).contains("Stale: 1 verified item(s)"));
    assert_eq!(t.json(&["test", "show", "TestNRGSimple"])["stale"], true);
    assert!(t.ok(&["test", "show", "TestNRGSimple"]).contains("stale: its Rust file changed since evidence run"));
}

/// `map suggest` on `ported/` proposes what the port's mapping files map
/// (issue 13: at least 90 %), by the naming conventions and the `Port of`
/// doc comments; by the conventions alone it still finds most of them.
#[test]
fn map_suggest_agrees_with_the_ports_mappings() {
    let t = TestDir::new("suggest-ported");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Created from the repository, the database's project root is the
    // repository (it holds porttrack.toml), wherever the file lives.
    let db = t.join("porting.db");
    let init = t.cmd().current_dir(root).args(["init", "--db", db.to_str().unwrap()]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["map", "suggest", "--all", "--root", "ported", "--db"];
        let db = t.join("porting.db");
        let db = db.to_str().unwrap().to_string();
        args.push(&db);
        args.extend_from_slice(extra);
        args.push("--json");
        let out = t.cmd().current_dir(root).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let all = run(&[]);
    let a = &all["agreement"];
    assert!(a["mapped"].as_u64().unwrap() > 200, "{a}");
    assert!(a["precision"].as_f64().unwrap() >= 0.9 && a["recall"].as_f64().unwrap() >= 0.9, "{a}");
    // By the conventions alone: what it proposes is still right, and it
    // finds most (83.2 % at 489 mapped; the rest are named for what they
    // do, which only the `Port of` comments above tell).
    let names = run(&["--names-only"]);
    let n = &names["agreement"];
    assert!(n["precision"].as_f64().unwrap() >= 0.95 && n["recall"].as_f64().unwrap() >= 0.8, "{n}");
    // Nothing was stored: --all without --apply only compares.
    assert_eq!(all["applied"].as_array().unwrap().len(), 0);
}
