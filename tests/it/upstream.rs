//! Upstream drift (issue 13): `import go DIR --as-of COMMIT` keeps every ID,
//! records each item's body at COMMIT, adds items new upstream after the
//! last ID in batches named for their file, reports changed, new and gone
//! items, and flags finished items whose Go changed since they were proven,
//! without demoting them.

use serde_json::Value;

use super::util::{snapshot, TestDir};

fn write(t: &TestDir, path: &str, text: &str) {
    let p = t.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The plan's tree: src/a.go with One and Two, src/a_test.go with TestOne.
fn planned(name: &str) -> TestDir {
    let t = TestDir::new(name);
    t.ok(&["init", "--empty"]);
    write(&t, "src/a.go", "package src\n\nfunc One() int { return 1 }\n\nfunc Two() int { return 2 }\n");
    write(&t, "src/a_test.go", "package src\n\nimport \"testing\"\n\nfunc TestOne(t *testing.T) {\n\tif One() != 1 {\n\t\tt.Fatal(\"one\")\n\t}\n}\n");
    t.ok(&["import", "go", "src"]);
    t
}

/// Upstream v2: One's body changed, Two gone, Three and b.go's Four new,
/// TestThree new.
fn upstream_v2(t: &TestDir) {
    write(&t, "src/a.go", "package src\n\n// One now counts differently.\nfunc One() int { return 1 + 0 }\n\nfunc Three() int { return 3 }\n");
    write(&t, "src/b.go", "package src\n\nfunc Four() int { return 4 }\n");
    write(
        t,
        "src/a_test.go",
        "package src\n\nimport \"testing\"\n\nfunc TestOne(t *testing.T) {\n\tif One() != 1 {\n\t\tt.Fatal(\"one\")\n\t}\n}\n\nfunc TestThree(t *testing.T) {\n\tif Three() != 3 {\n\t\tt.Fatal(\"three\")\n\t}\n}\n",
    );
}

fn names(list: &Value) -> Vec<(i64, String)> {
    list.as_array().unwrap().iter().map(|i| (i["id"].as_i64().unwrap(), i["name"].as_str().unwrap().to_string())).collect()
}

#[test]
fn as_of_keeps_ids_and_reports_changed_new_and_gone() {
    let t = planned("upstream-report");
    upstream_v2(&t);
    let v = t.json(&["import", "go", "src", "--as-of", "v2"]);
    assert_eq!(v["drift"]["from"], "the imported inventory");
    assert_eq!(names(&v["drift"]["changed"]), [(1, "One".to_string())]);
    let new: Vec<(String, i64)> = v["drift"]["new"].as_array().unwrap().iter().map(|i| (i["name"].as_str().unwrap().to_string(), i["id"].as_i64().unwrap())).collect();
    // New items take the IDs after the last: features 3, 4; test 2.
    assert_eq!(new, [("Three".to_string(), 3), ("Four".to_string(), 4), ("TestThree".to_string(), 2)]);
    assert_eq!(names(&v["drift"]["gone"]), [(2, "Two".to_string())]);
    assert_eq!((v["features_added"].as_i64(), v["tests_added"].as_i64()), (Some(2), Some(1)), "{v}");

    // The plan's fields stay as imported; the upstream line is shown apart.
    let one = t.json(&["feature", "show", "One"]);
    assert_eq!((one["id"].as_i64(), one["line"].as_i64()), (Some(1), Some(3)));
    assert_eq!((one["upstream"]["drift"].as_str(), one["upstream"]["line"].as_i64()), (Some("changed"), Some(4)));
    let two = t.json(&["feature", "show", "Two"]);
    assert_eq!((two["upstream"]["drift"].as_str(), two["upstream"]["line"].as_i64()), (Some("gone"), None));
    // Items new upstream: a batch named for their file, outside the plan's progress.
    let three = t.json(&["feature", "show", "Three"]);
    assert_eq!(three["batch"]["name"], "src/a.go (new upstream at v2)");
    let test_three = t.json(&["test", "show", "TestThree"]);
    assert_eq!(test_three["batch"]["name"], "src/a_test.go (new upstream at v2)");
    let linked: Vec<&str> = test_three["links"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(linked, ["Three"], "links of new items come from upstream");
    let s = t.json(&["report", "summary"]);
    assert_eq!(s["overall"]["total"], 1 + 2 + 1, "the plan's module, features and test");
    assert_eq!((s["upstream"]["changed"].as_i64(), s["upstream"]["new"].as_i64(), s["upstream"]["gone"].as_i64()), (Some(1), Some(3), Some(1)));
    let out = t.ok(&["report", "summary"]);
    assert!(out.contains("Upstream: plan at the imported inventory, port follows v2: 1 item(s) changed, 3 new, 1 gone"), "{out}");

    let list = t.json(&["upstream", "list"]);
    assert_eq!(list["commits"][0]["commit"], "v2");
    assert_eq!(list["commits"][0]["items"], 5, "One, Three, Four, TestOne, TestThree");

    // Recording the same commit again changes nothing.
    let again = t.json(&["import", "go", "src", "--as-of", "v2"]);
    assert_eq!((again["features_added"].as_i64(), again["tests_added"].as_i64(), again["batches_added"].as_i64()), (Some(0), Some(0), Some(0)));
    assert_eq!(names(&again["drift"]["changed"]), [(1, "One".to_string())]);
    assert_eq!(t.json(&["upstream", "list"])["commits"].as_array().unwrap().len(), 1);
}

#[test]
fn finished_items_are_flagged_not_demoted() {
    let t = planned("upstream-flag");
    // One is ported (complete) against the plan's body.
    t.ok(&["batch", "update", "1", "--features", "One", "--status", "complete"]);
    upstream_v2(&t);
    t.ok(&["import", "go", "src", "--as-of", "v2"]);
    let one = t.json(&["feature", "show", "One"]);
    assert_eq!((one["status"].as_str(), one["upstream"]["upstream_changed"].as_bool()), (Some("complete"), Some(true)));
    assert!(t.ok(&["feature", "show", "One"]).contains("upstream changed: its Go changed since it was proven"));
    let b = t.json(&["batch", "show", "1"]);
    let row = b["features"]["items"].as_array().unwrap().iter().find(|i| i["name"] == "One").unwrap().clone();
    assert_eq!((row["status"].as_str(), row["upstream"].as_str(), row["upstream_changed"].as_bool()), (Some("complete"), Some("changed"), Some(true)));
    let out = t.ok(&["batch", "show", "1"]);
    assert!(out.contains("complete (upstream changed)") && out.contains("Upstream changed: 1 complete or verified item(s)"), "{out}");
    let s = t.json(&["report", "summary"]);
    assert_eq!(s["upstream"]["upstream_changed"], serde_json::json!(["feature 1 One"]));
    assert_eq!(s["overall"]["done"], 1, "still done: flagged, not demoted");

    // Re-proving it against the new body clears the flag.
    t.ok(&["batch", "update", "1", "--features", "One", "--status", "stub"]);
    t.ok(&["batch", "update", "1", "--features", "One", "--status", "complete"]);
    assert_eq!(t.json(&["feature", "show", "One"])["upstream"]["upstream_changed"], false);

    // A later commit where One is as at v2: compared with v2, nothing moved.
    write(&t, "src/a.go", "package src\n\n// One now counts differently.\nfunc One() int { return 1 + 0 }\n\nfunc Three() int { return 3 }\n\nfunc Five() int { return 5 }\n");
    let v3 = t.json(&["import", "go", "src", "--as-of", "v3"]);
    assert_eq!(v3["drift"]["from"], "v2");
    assert_eq!((v3["drift"]["changed"].as_array().unwrap().len(), names(&v3["drift"]["new"])), (0, vec![(5, "Five".to_string())]));
    let d = t.json(&["upstream", "diff", "v3", "--from", "v2"]);
    assert_eq!(d["new"].as_array().unwrap().len(), 1);
    let from_plan = t.json(&["upstream", "diff"]);
    assert_eq!((from_plan["to"].as_str(), from_plan["changed"].as_array().unwrap().len(), from_plan["new"].as_array().unwrap().len()), (Some("v3"), 1, 4));
    assert_eq!(t.json(&["feature", "show", "One"])["upstream"]["upstream_changed"], false);
}

#[test]
fn bad_upstream_arguments_name_the_value_and_write_nothing() {
    let t = planned("upstream-errors");
    let db = t.join("porting.db");
    let before = snapshot(&db);
    let err = t.fails(&["upstream", "diff"], 3);
    assert!(err.contains("none recorded yet"), "{err}");
    let err = t.fails(&["import", "go", "src", "--as-of", "two words"], 2);
    assert!(err.contains("two words"), "{err}");
    t.fails(&["import", "go", "src", "--as-of", ""], 2);
    assert_eq!(before, snapshot(&db));
    t.ok(&["import", "go", "src", "--as-of", "abc123"]);
    t.ok(&["import", "go", "src", "--as-of", "abd456"]);
    let err = t.fails(&["upstream", "diff", "nosuch"], 3);
    assert!(err.contains("nosuch") && err.contains("abc123"), "{err}");
    let err = t.fails(&["upstream", "diff", "ab"], 2);
    assert!(err.contains("'ab' names 2 recorded upstream commits"), "{err}");
    t.ok(&["upstream", "diff", "abc"]);
    t.fails(&["upstream", "diff", "--batch", "999"], 3);
}
