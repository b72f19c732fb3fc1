//! The daily read commands on the built-in NATS plan.

use super::util::TestDir;

fn builtin(name: &str) -> TestDir {
    let t = TestDir::new(name);
    t.ok(&["init"]);
    t
}

#[test]
fn batch_show_33() {
    let t = builtin("batch-show-33");
    let out = t.ok(&["batch", "show", "33"]);
    assert!(out.starts_with("Batch 33: JS Cluster Streams  [pending]"), "{out}");
    assert!(out.contains("Depends on: 32 JS Cluster Meta (pending, not satisfied)"), "{out}");
    assert!(out.contains("Features: 58 (not_started 58)"), "{out}");
    assert!(out.contains("Tests: 22 (not_started 22)"), "{out}");
    assert!(out.contains("jetStream.monitorCluster") && out.contains("TestNRGSimple"), "{out}");

    let v = t.json(&["batch", "show", "33"]);
    assert_eq!(v["features"]["total"], 58);
    assert_eq!(v["tests"]["total"], 22);
    assert_eq!(v["features"]["not_started"], 58);
    assert_eq!(v["status"], "pending");
    assert_eq!(v["depends_on"][0]["number"], 32);
    assert_eq!(v["depends_on"][0]["satisfied"], false);
    let features = v["features"]["items"].as_array().unwrap();
    assert_eq!(features.len(), 58);
    assert_eq!(features[0]["name"], "jetStream.monitorCluster");
    assert_eq!(features[57]["name"], "jetStream.consumerAssignment");
    assert!(features.iter().all(|f| f["file"] == "server/jetstream_cluster.go" && f["status"] == "not_started"));
    let tests: Vec<&str> = v["tests"]["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    for name in porttrack::builtin::BATCH33_TESTS {
        assert!(tests.contains(&name), "{name} missing from batch 33");
    }
}

#[test]
fn batch_list_covers_every_item_once() {
    let t = builtin("batch-list");
    let v = t.json(&["batch", "list"]);
    let batches = v["batches"].as_array().unwrap();
    let in_plan: Vec<&serde_json::Value> = batches.iter().filter(|b| !b["name"].as_str().unwrap().contains("(new upstream at 8188ea93a)")).collect();
    assert_eq!(in_plan.len(), 253, "252 per-file and named batches and the modules' batch");
    let total: i64 = in_plan.iter().map(|b| ["modules", "features", "tests"].iter().map(|k| b[k]["total"].as_i64().unwrap()).sum::<i64>()).sum();
    assert_eq!(total, 6942, "every plan item in exactly one batch");
    let named: Vec<(i64, &str)> =
        batches.iter().filter(|b| (30..=36).contains(&b["number"].as_i64().unwrap())).map(|b| (b["number"].as_i64().unwrap(), b["name"].as_str().unwrap())).collect();
    assert_eq!(
        named,
        [
            (30, "Raft Part 1"),
            (31, "Raft Part 2"),
            (32, "JS Cluster Meta"),
            (33, "JS Cluster Streams"),
            (34, "JS Cluster Consumers"),
            (35, "JS Cluster Remaining"),
            (36, "Stream Lifecycle (part 1/4)")
        ]
    );
    assert_eq!(in_plan.last().unwrap()["name"], "Modules");
    let deps = |n: i64| -> Vec<i64> {
        batches.iter().find(|b| b["number"] == n).unwrap()["depends_on"].as_array().unwrap().iter().map(|d| d.as_i64().unwrap()).collect()
    };
    assert_eq!((deps(31), deps(32), deps(33), deps(34), deps(35)), (vec![30], vec![31], vec![32], vec![33], vec![34]));
    let b1 = &batches[0];
    assert_eq!((b1["ready"].as_bool(), b1["status"].as_str()), (Some(true), Some("pending")));
    let out = t.ok(&["batch", "list"]);
    assert!(out.contains("JS Cluster Streams") && out.trim_end().ends_with(&format!("{} batches", batches.len())), "{out}");
}

#[test]
fn feature_show_by_name_and_id() {
    let t = builtin("feature-show");
    let by_name = t.json(&["feature", "show", "monitorCluster"]);
    let id = by_name["id"].as_i64().unwrap();
    for reference in [id.to_string(), "jetStream.monitorCluster".into(), "(*jetStream).monitorCluster".into()] {
        let v = t.json(&["feature", "show", &reference]);
        assert_eq!(v["id"], id, "{reference}");
    }
    assert_eq!(by_name["file"], "server/jetstream_cluster.go");
    assert_eq!(by_name["line"], 1455);
    assert_eq!(by_name["loc"], 371);
    assert_eq!(by_name["receiver"], "jetStream");
    assert_eq!(by_name["batch"]["number"], 33);
    assert_eq!(by_name["status"], "not_started");
    let out = t.ok(&["feature", "show", "monitorCluster"]);
    assert!(out.starts_with(&format!("Feature {id}: jetStream.monitorCluster")), "{out}");
    assert!(out.contains("server/jetstream_cluster.go:1455"), "{out}");
    // The plan's line at 66e9bbc7f; the port's commit has it elsewhere.
    assert!(out.contains("upstream      same Go body at 66e9bbc7f and 8188ea93a (line 1464 there)"), "{out}");
}

#[test]
fn test_show_by_name_and_id() {
    let t = builtin("test-show");
    let v = t.json(&["test", "show", "TestNRGSimple"]);
    let id = v["id"].as_i64().unwrap();
    assert_eq!(t.json(&["test", "show", &id.to_string()])["name"], "TestNRGSimple");
    assert_eq!(v["file"], "server/raft_test.go");
    assert_eq!(v["batch"]["number"], 33);
    // Its body calls only raft_helpers_test.go's helpers ((*cluster).createRaftGroup,
    // not (*jetStream).createRaftGroup), so it exercises no feature directly.
    assert_eq!(v["links"], serde_json::json!([]), "{v}");
    let parallel = t.json(&["test", "show", "TestJetStreamClusterParallelCreateRaftGroup"]);
    let linked: Vec<&str> = parallel["links"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert!(linked.contains(&"jetStream.createRaftGroup"), "sjs.createRaftGroup(…) on a *jetStream: {linked:?}");
    let out = t.ok(&["test", "show", "TestNRGSimple"]);
    assert!(out.starts_with(&format!("Test {id}: TestNRGSimple")), "{out}");
}

#[test]
fn ambiguous_names_list_candidates() {
    let t = builtin("ambiguous");
    let err = t.fails(&["feature", "show", "String"], 2);
    assert!(err.contains("'String' is ambiguous") && err.contains("Account.String") && err.contains("more"), "{err}");
}

#[test]
fn unknown_things_name_the_bad_value() {
    let t = builtin("unknown");
    let before = super::util::snapshot(&t.join("porting.db"));
    assert!(t.fails(&["batch", "show", "999"], 3).contains("batch not found: 999"));
    assert!(t.fails(&["feature", "show", "99999"], 3).contains("feature not found: 99999"));
    assert!(t.fails(&["feature", "show", "noSuchFunction"], 3).contains("noSuchFunction"));
    assert!(t.fails(&["test", "show", "TestNoSuchThing"], 3).contains("TestNoSuchThing"));
    let err = t.fails(&["feature", "show", "monitorcluster"], 3);
    assert!(err.contains("did you mean jetStream.monitorCluster"), "{err}");
    assert!(t.fails(&["feature", "show", "not a name"], 2).contains("'not a name'"));
    assert!(t.fails(&["feature", "list", "--status", "finished"], 2).contains("finished"));
    assert!(t.fails(&["feature", "list", "--batch", "999"], 3).contains("999"));
    assert!(t.fails(&["batch", "show", "x"], 2).contains("'x'"));
    assert_eq!(before, super::util::snapshot(&t.join("porting.db")));
}

#[test]
fn lists_filter_by_batch_status_and_file() {
    let t = builtin("lists");
    assert_eq!(t.json(&["feature", "list", "--batch", "33"])["count"], 58);
    assert_eq!(t.json(&["feature", "list", "--batch", "33", "--status", "not_started"])["count"], 58);
    assert_eq!(t.json(&["feature", "list", "--batch", "33", "--status", "verified"])["count"], 0);
    assert_eq!(t.json(&["test", "list", "--batch", "33"])["count"], 22);
    // raft.go is batches 30 and 31, and the functions new upstream since the plan.
    let raft = t.json(&["feature", "list", "--file", "server/raft.go"]);
    let n = raft["count"].as_i64().unwrap();
    let parts = t.json(&["feature", "list", "--batch", "30"])["count"].as_i64().unwrap() + t.json(&["feature", "list", "--batch", "31"])["count"].as_i64().unwrap();
    let new_upstream = raft["items"].as_array().unwrap().iter().filter(|i| i["id"].as_i64().unwrap() > 3673).count() as i64;
    assert_eq!((parts, n), (198, 198 + new_upstream), "{raft}");
    let out = t.ok(&["test", "list", "--batch", "33"]);
    assert!(out.trim_end().ends_with("22 tests"), "{out}");
}

#[test]
fn report_summary() {
    let t = builtin("report");
    let out = t.ok(&["report", "summary"]);
    assert!(out.starts_with("Overall progress: 0/6942 (0.0%)\n"), "{out}");
    assert!(out.contains("over the plan's modules, features and tests)\nModules: 12 (not_started 12)\n"), "{out}");
    assert!(out.contains("Upstream: plan at 66e9bbc7f, port follows 8188ea93a:"), "{out}");
    assert!(out.contains("done = complete + verified + n_a"), "{out}");
    assert!(out.contains("By batch:") && out.contains("Files with most work left:"), "{out}");
    let v = t.json(&["report", "summary"]);
    assert_eq!(v["modules"]["total"], 12);
    assert_eq!(v["features"]["total"], 3673);
    assert_eq!(v["tests"]["total"], 3257);
    assert_eq!(v["overall"]["done"], 0);
    assert_eq!(v["features"]["done"], 0);
    assert_eq!(v["by_batch"].as_array().unwrap().len(), t.json(&["batch", "list"])["batches"].as_array().unwrap().len());
    assert_eq!(v["files_most_work_left"].as_array().unwrap().len(), 10);
    assert_eq!(v["files_most_work_left"][0]["file"], "server/jetstream_test.go");
}
