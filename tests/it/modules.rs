//! Modules as items (issue 13): one per directory, listed and shown,
//! moved by `batch update --modules` only as far as their features and tests
//! allow, with history, and counted in progress.

use super::util::{fixture, snapshot, TestDir};

/// The fixture tree: modules alpha (1 feature), pkg (8 features, 6 tests)
/// and sub (4 features), in batch 7 "Modules".
fn imported(name: &str) -> TestDir {
    let t = TestDir::new(name);
    t.ok(&["init", "--empty"]);
    t.ok(&["import", "go", fixture("go/tree/pkg").to_str().unwrap()]);
    t
}

#[test]
fn module_list_and_show() {
    let t = imported("modules-list");
    let v = t.json(&["module", "list"]);
    let got: Vec<(i64, &str, &str, i64, i64, i64)> = v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (m["id"].as_i64().unwrap(), m["name"].as_str().unwrap(), m["dir"].as_str().unwrap(), m["files"].as_i64().unwrap(), m["features"]["total"].as_i64().unwrap(), m["tests"]["total"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(got, [(1, "alpha", "pkg/alpha", 1, 1, 0), (2, "pkg", "pkg", 4, 8, 6), (3, "sub", "pkg/sub", 1, 4, 0)]);
    let out = t.ok(&["module", "list"]);
    assert!(out.contains("pkg/alpha") && out.trim_end().ends_with("3 modules"), "{out}");

    let by_name = t.json(&["module", "show", "pkg"]);
    assert_eq!(by_name, t.json(&["module", "show", "2"]));
    let files: Vec<&str> = by_name["source_files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(files, ["pkg/gen.go", "pkg/set.go", "pkg/set_test.go", "pkg/zz.go"]);
    assert_eq!((by_name["batch"].as_i64(), by_name["status"].as_str()), (Some(7), Some("not_started")));
    let out = t.ok(&["module", "show", "sub"]);
    assert!(out.starts_with("Module 3: sub\n") && out.contains("pkg/sub/extra.go") && out.contains("History: none"), "{out}");

    let err = t.fails(&["module", "show", "nosuch"], 3);
    assert!(err.contains("nosuch"), "{err}");
    t.fails(&["module", "show", "99"], 3);
}

#[test]
fn modules_count_in_progress_and_batches() {
    let t = imported("modules-progress");
    let v = t.json(&["report", "summary"]);
    assert_eq!((v["overall"]["total"].as_i64(), v["modules"]["total"].as_i64()), (Some(3 + 13 + 6), Some(3)));
    let b = t.json(&["batch", "show", "7"]);
    assert_eq!(b["name"], "Modules");
    let names: Vec<&str> = b["modules"]["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alpha", "pkg", "sub"]);
    let out = t.ok(&["batch", "list"]);
    assert!(out.contains("Modules") && out.contains("0/3"), "{out}");
}

#[test]
fn a_module_moves_only_as_far_as_its_items() {
    let t = imported("modules-update");
    let db = t.join("porting.db");
    let before = snapshot(&db);
    // alpha's one feature (First, batch 1) is not done yet.
    let err = t.fails(&["batch", "update", "7", "--modules", "alpha", "--status", "complete"], 4);
    assert!(err.contains("Refused") || err.contains("refused"), "{err}");
    let out = t.run(&["batch", "update", "7", "--modules", "alpha", "--status", "complete"]).1;
    assert!(out.contains("1 of its features and tests are not done (first: feature 1 First)"), "{out}");
    assert_eq!(before, snapshot(&db), "a refused module update wrote something");

    t.ok(&["batch", "update", "1", "--features", "First", "--status", "complete"]);
    t.ok(&["batch", "update", "7", "--modules", "alpha", "--status", "complete"]);
    let v = t.json(&["module", "show", "alpha"]);
    assert_eq!(v["status"], "complete");
    assert_eq!(v["history"][0]["to_status"], "complete");
    assert_eq!(v["history"][0]["item_kind"], "module");
    // Complete is not verified: First has no verified evidence.
    let out = t.run(&["batch", "update", "7", "--modules", "1", "--status", "verified"]);
    assert_eq!(out.0, 4, "{out:?}");
    assert!(out.1.contains("1 of its 1 features and tests are not verified"), "{out:?}");

    let h = t.json(&["history", "--module", "alpha"]);
    assert_eq!(h["count"], 1);
    assert_eq!(h["changes"][0]["item_name"], "alpha");
    let v = t.json(&["report", "summary"]);
    assert_eq!(v["overall"]["done"], 2, "First and alpha are done: {v}");
    // A module is not a feature of its batch: naming it as one is refused.
    t.fails(&["batch", "update", "7", "--features", "alpha", "--status", "stub"], 3);
}

/// The database refuses `verified` for a module whose items are not all
/// verified, whatever writes it.
#[test]
fn the_database_guards_verified_modules() {
    let t = imported("modules-trigger");
    let conn = rusqlite::Connection::open(t.join("porting.db")).unwrap();
    let err = conn.execute("UPDATE modules SET status = 'verified' WHERE name = 'alpha'", []).unwrap_err();
    assert!(err.to_string().contains("a module is verified only when every feature and test in it is verified or n_a"), "{err}");
    conn.execute("UPDATE features SET status = 'n_a' WHERE name = 'First'", []).unwrap();
    let err = conn.execute("UPDATE modules SET status = 'verified' WHERE name = 'alpha'", []).unwrap_err();
    assert!(err.to_string().contains("verified only when"), "all n_a is nothing verified: {err}");
}

#[test]
fn reimport_keeps_modules_and_adds_new_ones() {
    let t = TestDir::new("modules-reimport");
    t.ok(&["init", "--empty"]);
    std::fs::create_dir_all(t.join("src/b")).unwrap();
    std::fs::write(t.join("src/a.go"), "package src\n\nfunc A() {}\n").unwrap();
    t.ok(&["import", "go", "src"]);
    std::fs::write(t.join("src/b/b.go"), "package b\n\nfunc B() {}\n").unwrap();
    let v = t.json(&["import", "go", "src"]);
    assert_eq!((v["modules_added"].as_i64(), v["features_added"].as_i64()), (Some(1), Some(1)), "{v}");
    let v = t.json(&["module", "list"]);
    let got: Vec<(i64, &str)> = v["modules"].as_array().unwrap().iter().map(|m| (m["id"].as_i64().unwrap(), m["name"].as_str().unwrap())).collect();
    // IDs stay: src keeps 1 although b sorts before it.
    assert_eq!(got, [(1, "src"), (2, "b")]);
    std::fs::remove_dir_all(t.join("src/b")).unwrap();
    let v = t.json(&["import", "go", "src"]);
    assert_eq!(v["modules_missing"], 1, "{v}");
}
