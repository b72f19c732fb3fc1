//! Issue 13: the built-in plan numbers items as our user's `porting.db`
//! does. Every anchor the issue quotes is checked here against the built-in
//! database, by ID and by name, and so is the drift from the plan's commit
//! (66e9bbc7f) to the one the port follows (8188ea93a).

use serde_json::Value;

use super::util::TestDir;

fn builtin(name: &str) -> TestDir {
    let t = TestDir::new(name);
    t.ok(&["init"]);
    t
}

fn show(t: &TestDir, kind: &str, id: &str) -> Value {
    t.json(&[kind, "show", id])
}

/// Batch 33's tests by the plan's IDs, in ID order.
const BATCH33_TESTS: [(i64, &str); 22] = [
    (1118, "TestJetStreamClusterStreamRescaleCatchup"),
    (1214, "TestLongNRGChainOfBlocks"),
    (1402, "TestJetStreamAccountResolverNoFetchIfNotMember"),
    (2144, "TestMonitorJsz"),
    (2504, "TestNoRaceJetStreamClusterLargeMetaSnapshotTiming"),
    (2616, "TestNRGSimple"),
    (2620, "TestNRGRecoverFromFollowingNoLeader"),
    (2622, "TestNRGObserverMode"),
    (2624, "TestNRGSimpleElection"),
    (2627, "TestNRGStepDownOnSameTermDoesntClearVote"),
    (2628, "TestNRGUnsuccessfulVoteRequestDoesntResetElectionTimer"),
    (2630, "TestNRGInvalidTAVDoesntPanic"),
    (2631, "TestNRGAssumeHighTermAfterCandidateIsolation"),
    (2634, "TestNRGSystemClientCleanupFromAccount"),
    (2637, "TestNRGNoResetOnAppendEntryResponse"),
    (2638, "TestNRGCandidateDontStepdownDueToLeaderOfPreviousTerm"),
    (2652, "TestNRGRecoverPindexPtermOnlyIfLogNotEmpty"),
    (2657, "TestNRGForwardProposalResponse"),
    (2670, "TestNRGDontRejectAppendEntryFromReplay"),
    (2671, "TestNRGSimpleCatchup"),
    (2698, "TestNRGChainOfBlocksRunInLockstep"),
    (2699, "TestNRGChainOfBlocksStopAndCatchUp"),
];

#[test]
fn every_anchor_of_the_users_numbering() {
    let t = builtin("anchors");
    // 12 modules + 3673 features + 3257 tests = 6942, all in the plan.
    let out = t.ok(&["report", "summary"]);
    assert!(out.starts_with("Overall progress: 0/6942 (0.0%)\n"), "{out}");
    let v = t.json(&["report", "summary"]);
    assert_eq!((v["modules"]["total"].as_i64(), v["features"]["total"].as_i64(), v["tests"]["total"].as_i64()), (Some(12), Some(3673), Some(3257)));

    // Modules by name, numbered from 1; module 8 is server/ with 3394
    // features from 64 files.
    let modules = t.json(&["module", "list"]);
    let names: Vec<&str> = modules["modules"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ats", "avl", "certidp", "certstore", "elastic", "gsl", "pse", "server", "stree", "sysmem", "thw", "tpm"]);
    let server = show(&t, "module", "8");
    assert_eq!((server["name"].as_str(), server["dir"].as_str(), server["features"]["total"].as_i64()), (Some("server"), Some("server"), Some(3394)));
    let features = t.json(&["feature", "list"]);
    let files: std::collections::BTreeSet<&str> = features["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"].as_i64().unwrap() <= 3673)
        .map(|f| f["file"].as_str().unwrap())
        .filter(|f| f.strip_prefix("server/").is_some_and(|rest| !rest.contains('/')))
        .collect();
    assert_eq!(files.len(), 64, "files holding server's features");
    assert_eq!(features["items"].as_array().unwrap().iter().filter(|f| f["id"].as_i64().unwrap() <= 3673).count(), 3673);

    // Feature anchors: 1578 = monitorCluster, batch 33 ends at 1635
    // consumerAssignment, opts.go starts at 2502, a batch of mqtt.go ends at 2404.
    for (id, name) in [(1578, "jetStream.monitorCluster"), (1635, "jetStream.consumerAssignment"), (2502, "NoErrOnUnknownFields"), (2404, "newMQTTWriter")] {
        assert_eq!(show(&t, "feature", &id.to_string())["qualified_name"], name, "feature {id}");
    }
    assert_eq!(show(&t, "feature", "monitorCluster")["id"], 1578);
    let opts = t.json(&["feature", "list", "--file", "server/opts.go"]);
    assert_eq!(opts["items"][0]["id"], 2502, "opts.go's first feature");
    let mqtt_batch = show(&t, "feature", "2404")["batch"]["number"].as_i64().unwrap();
    let b = t.json(&["batch", "show", &mqtt_batch.to_string()]);
    let last = b["features"]["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["id"].as_i64(), last["file"].as_str()), (Some(2404), Some("server/mqtt.go")), "a batch of mqtt.go ends at 2404");

    // The 22 test anchors, by ID and by name.
    for (id, name) in BATCH33_TESTS {
        let by_id = show(&t, "test", &id.to_string());
        assert_eq!((by_id["name"].as_str(), by_id["batch"]["number"].as_i64()), (Some(name), Some(33)), "test {id}");
        assert_eq!(show(&t, "test", name)["id"], id, "{name}");
    }
}

#[test]
fn batch_33_is_the_plans_ids() {
    let t = builtin("batch33-ids");
    let b = t.json(&["batch", "show", "33"]);
    assert_eq!(b["name"], "JS Cluster Streams");
    let ids = |group: &str| -> Vec<i64> { b[group]["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect() };
    assert_eq!(ids("features"), (1578..=1635).collect::<Vec<_>>());
    assert_eq!(ids("tests"), BATCH33_TESTS.map(|(id, _)| id).to_vec());
    // `batch update` takes the plan's ranges as they are written there.
    t.ok(&["batch", "update", "33", "--features", "1578-1592", "--status", "stub", "--dry-run"]);
    t.ok(&["batch", "update", "33", "--tests", "1118,1214,1402,2144,2504", "--status", "stub", "--dry-run"]);

    // The named batches and their chain.
    let list = t.json(&["batch", "list"]);
    let batches = list["batches"].as_array().unwrap();
    let named: Vec<(i64, &str, Vec<i64>, i64)> = batches
        .iter()
        .filter(|b| (30..=36).contains(&b["number"].as_i64().unwrap()))
        .map(|b| {
            let deps = b["depends_on"].as_array().unwrap().iter().map(|d| d.as_i64().unwrap()).collect();
            (b["number"].as_i64().unwrap(), b["name"].as_str().unwrap(), deps, b["features"]["total"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        named,
        [
            (30, "Raft Part 1", vec![], 99),
            (31, "Raft Part 2", vec![30], 99),
            (32, "JS Cluster Meta", vec![31], 58),
            (33, "JS Cluster Streams", vec![32], 58),
            (34, "JS Cluster Consumers", vec![33], 58),
            (35, "JS Cluster Remaining", vec![34], 57),
            (36, "Stream Lifecycle (part 1/4)", vec![], 49)
        ]
    );
    // Every plan item sits in exactly one batch.
    let total: i64 = batches
        .iter()
        .filter(|b| !b["name"].as_str().unwrap().contains("new upstream"))
        .map(|b| ["modules", "features", "tests"].iter().map(|k| b[k]["total"].as_i64().unwrap()).sum::<i64>())
        .sum();
    assert_eq!(total, 6942);
}

/// The drift from the plan's commit to the port's: the batch-33 functions
/// whose Go changed, items new and gone upstream, and where they went.
#[test]
fn builtin_ships_the_drift_to_the_ports_commit() {
    let t = builtin("drift");
    let d = t.json(&["upstream", "diff", "--batch", "33"]);
    let changed: Vec<(i64, &str)> = d["changed"].as_array().unwrap().iter().map(|i| (i["id"].as_i64().unwrap(), i["name"].as_str().unwrap())).collect();
    assert_eq!(
        changed,
        [
            (1583, "jetStream.decodeMetaSnapshot"),
            (1584, "jetStream.encodeMetaSnapshot"),
            (1585, "jetStream.collectStreamAndConsumerChanges"),
            (1599, "jetStream.applyMetaEntries"),
            (1608, "jetStream.monitorStream"),
            (1610, "stream.resetClusteredState"),
            (1612, "jetStream.applyStreamEntries"),
            (1614, "jetStream.applyStreamMsgOp"),
            (1616, "jetStream.processStreamLeaderChange"),
            (1627, "jetStream.processClusterUpdateStream"),
            (1628, "jetStream.processClusterCreateStream"),
            (1631, "jetStream.processConsumerAssignment"),
            (1633, "jetStream.processClusterCreateConsumer"),
        ]
    );
    assert_eq!((d["new"].as_array().unwrap().len(), d["gone"].as_array().unwrap().len()), (0, 0));
    let b = t.json(&["batch", "show", "33"]);
    assert_eq!((b["upstream"]["plan"].as_str(), b["upstream"]["upstream"].as_str(), b["upstream"]["changed"].as_i64()), (Some("66e9bbc7f"), Some("8188ea93a"), Some(13)));
    let marked = |id: i64| b["features"]["items"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()["upstream"].clone();
    assert_eq!((marked(1583), marked(1578)), (Value::from("changed"), Value::Null));
    let out = t.ok(&["batch", "show", "33"]);
    assert!(out.contains("Upstream: plan at 66e9bbc7f, port follows 8188ea93a: Go changed in 13 item(s)"), "{out}");
    assert!(out.contains("Go 66e9bbc7f→8188ea93a"), "{out}");

    // Server.removeConsumer arrived on 2026-03-02: new upstream, after the
    // plan's last ID, in a batch named for its file, outside the plan's 6942.
    let rc = t.json(&["feature", "show", "Server.removeConsumer"]);
    assert!(rc["id"].as_i64().unwrap() > 3673, "{rc}");
    assert_eq!(rc["batch"]["name"], "server/jetstream_cluster.go (new upstream at 8188ea93a)");
    assert_eq!(rc["upstream"]["drift"], "new");
    let all = t.json(&["upstream", "diff"]);
    let (changed, new, gone) = (all["changed"].as_array().unwrap().len(), all["new"].as_array().unwrap().len(), all["gone"].as_array().unwrap().len());
    assert!(changed > 100 && new > 100 && gone > 0, "{changed} changed, {new} new, {gone} gone");
    let s = t.json(&["report", "summary"]);
    assert_eq!(s["overall"]["total"], 6942);
    assert_eq!(s["upstream"]["new"].as_u64(), Some(new as u64));
    let new_items = s["upstream_new"]["features"]["total"].as_u64().unwrap() + s["upstream_new"]["tests"]["total"].as_u64().unwrap();
    assert_eq!(new_items, new as u64);
}

/// The port's mapping files name Go items by file and name; against the
/// plan's inventory plus the upstream drift, each one still names exactly
/// one item (the built-in database is made only if all do).
#[test]
fn every_ported_mapping_row_still_resolves() {
    let t = TestDir::new("mappings-resolve");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Created from the repository, the database's project root is the
    // repository, so every row's target file must exist there.
    let db = t.join("porting.db");
    let init = t.cmd().current_dir(repo).args(["init", "--db", db.to_str().unwrap()]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let dir = repo.join("ported/mappings");
    let mut files: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path().display().to_string()).filter(|p| p.ends_with(".tsv")).collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let mut args = vec!["map", "import"];
    args.extend(files.iter().map(String::as_str));
    let v = t.json(&args);
    assert!(v["features"].as_u64().unwrap() > 100 && v["tests"].as_u64().unwrap() > 50, "{v}");
    // A row naming an item that exists nowhere fails, with its file and line.
    std::fs::write(t.join("bad.tsv"), "feature\tserver/raft.go\traft.noSuchFunction\tported/src/raft/mod.rs\traft::x\t\n").unwrap();
    let err = t.fails(&["map", "import", "bad.tsv"], 2);
    assert!(err.contains("bad.tsv:1: no feature raft.noSuchFunction in server/raft.go"), "{err}");
}
