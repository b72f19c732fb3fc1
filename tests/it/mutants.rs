//! The mutation gate (issue 11) on a real Cargo package
//! (tests/fixtures/mutants): a feature whose tests kill its mutants becomes
//! verified; with an assertion removed it stays complete and shows the
//! missed mutant; declared equivalent mutants are listed; an unchanged
//! feature is never mutated twice; shards merged with `evidence import`
//! give what one run gives; evidence whose tests changed is stale. Needs cargo-mutants (installed by .ci/run).

use super::util::{connect, fixture, TestDir};

/// The fixture as one committed project with its plan imported and mapped.
fn project(name: &str) -> TestDir {
    let t = TestDir::new(name);
    let copy = |from: &str, to: &str| {
        let status = std::process::Command::new("cp").arg("-r").arg(fixture(from)).arg(t.join(to)).status().unwrap();
        assert!(status.success(), "cp {from}");
    };
    for entry in std::fs::read_dir(fixture("mutants/crate")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        copy(&format!("mutants/crate/{name}"), &name);
    }
    copy("mutants/go", "go");
    copy("mutants/map.tsv", "map.tsv");
    copy("mutants/porttrack.toml", "porttrack.toml");
    copy("mutants/gitignore", ".gitignore");
    // Each test builds in its own scratch directory, next to its project.
    let toml = std::fs::read_to_string(t.join("porttrack.toml")).unwrap();
    std::fs::write(t.join("porttrack.toml"), format!("{toml}\n[mutants]\nscratch_dir = \".porttrack/scratch\"\n")).unwrap();
    t.ok(&["init", "--empty"]);
    t.ok(&["import", "go", "go/p"]);
    t.ok(&["map", "import", "map.tsv"]);
    t.commit_all("the fixture crate, ported");
    t
}

fn status(t: &TestDir, feature: &str) -> String {
    t.json(&["feature", "show", feature])["status"].as_str().unwrap().to_string()
}

fn mutation_runs(t: &TestDir) -> i64 {
    connect(&t.join("porting.db")).query_row("SELECT count(*) FROM mutation_runs", [], |r| r.get(0)).unwrap()
}

/// The feature's mutation evidence as `feature show --json` gives it.
fn evidence(t: &TestDir, feature: &str) -> serde_json::Value {
    t.json(&["feature", "show", feature])["mutation"].clone()
}

/// `gate mutants ARGS --json`: exit 0 (every feature verifiable) or 1.
fn gate(t: &TestDir, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["gate", "mutants"];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, out, err) = t.run(&all);
    assert!(code == 0 || code == 1, "{all:?} exited {code}\n{out}{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{all:?}: not JSON ({e}):\n{out}"))
}

fn edit(t: &TestDir, file: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(t.join(file)).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(t.join(file), text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_strong_test_verifies_a_weak_one_shows_its_missed_mutant_and_nothing_is_mutated_twice() {
    let t = project("mutants-strong");
    let v = t.json(&["verify", "1"]);
    assert_eq!(status(&t, "Describe"), "verified", "{v}");
    // clamp's `<` → `<=` and `>` → `>=` cannot change its result: missed.
    assert_eq!(status(&t, "Clamp"), "complete");
    let why = v["kept"].to_string() + &v["decisions"].to_string();
    assert!(why.contains("its tests do not kill its mutants: 2 mutant(s) missed"), "{v}");
    let m = evidence(&t, "Clamp");
    assert_eq!((m["required"].as_bool(), m["tally"]["missed"].as_u64()), (Some(true), Some(2)), "{m}");
    assert!(m["missed"][0]["diff"].as_str().unwrap().contains("if x <= /* ~ changed by cargo-mutants ~ */ lo"), "{m}");
    let human = t.ok(&["feature", "show", "Clamp"]);
    assert!(human.contains("missed: src/lib.rs:5:10: replace < with <= in clamp") && human.contains("+    if x <="), "{human}");
    let d = evidence(&t, "Describe");
    assert!(d["tally"]["caught"].as_u64().unwrap() >= 3 && d["tally"]["missed"] == 0 && d["problem"].is_null(), "{d}");

    // Unchanged: the second run reuses every result and runs no cargo-mutants.
    let runs = mutation_runs(&t);
    let again = gate(&t, &["--batch", "1"]);
    assert_eq!((again["mutated"].as_u64(), again["cached"].as_u64()), (Some(0), Some(2)), "{again}");
    assert_eq!(mutation_runs(&t), runs, "nothing recorded: nothing ran");
    assert!(!t.join(".porttrack/scratch/target-0/debug").read_dir().map(|d| d.count() == 0).unwrap_or(true), "the first run did build in the scratch tree");

    // A test file changed: the key changes, the feature is mutated again.
    edit(&t, "tests/clamp.rs", "assert_eq!(describe(-1)", "assert_eq!(describe(-2), \"-2 is negative\");\n    assert_eq!(describe(-1)");
    t.commit_all("one more describe case");
    let third = gate(&t, &["--features", "Describe"]);
    assert_eq!(third["mutated"], 1, "{third}");

    // The assertion on 0 removed: `<` → `<=` survives, Describe leaves verified.
    edit(&t, "tests/clamp.rs", "    assert_eq!(describe(0), \"0 is non-negative\");\n", "");
    t.commit_all("weaker describe test");
    let (code, out, err) = t.run(&["verify", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("missed: src/lib.rs:16:21: replace < with <= in describe"), "{out}");
    assert_eq!(status(&t, "Describe"), "complete");
    assert!(t.ok(&["feature", "show", "Describe"]).contains("replace < with <= in describe"));
    // And batch update cannot force it with the passing test run.
    let run = t.json(&["evidence", "list"])["runs"][0]["id"].to_string();
    let (code, out, _) = t.run(&["batch", "update", "1", "--features", "Describe", "--status", "verified", "--evidence", &run]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("its tests do not kill its mutants"), "{out}");
}

#[test]
fn declared_equivalent_mutants_are_listed_and_unused_declarations_reported() {
    let t = project("mutants-suppressed");
    edit(&t, "src/lib.rs", "    if x < lo {", "    // porttrack: allow(mutant) at x == lo both branches return lo\n    if x < lo {");
    edit(&t, "src/lib.rs", "    } else if x > hi {", "    } else if x > hi { // porttrack: allow(mutant) at x == hi both branches return hi");
    edit(&t, "src/lib.rs", "        x\n", "        x // porttrack: allow(mutant) nothing is missed here\n");
    t.commit_all("clamp's equivalent mutants declared");
    let v = t.json(&["verify", "1"]);
    assert_eq!(status(&t, "Clamp"), "verified", "{v}");
    let m = evidence(&t, "Clamp");
    assert_eq!(m["tally"]["suppressed"], 2, "{m}");
    let reasons: Vec<&str> = m["suppressed"].as_array().unwrap().iter().map(|x| x["suppressed"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["at x == lo both branches return lo", "at x == hi both branches return hi"]);
    assert_eq!(m["unused_suppressions"][0]["reason"], "nothing is missed here", "{m}");
    let human = t.ok(&["feature", "show", "Clamp"]);
    assert!(human.contains("declared equivalent: at x == lo both branches return lo") && human.contains("unused suppression at line"), "{human}");
    // The stub scan leaves the mutation gate's declarations alone.
    t.ok(&["stub", "scan", "src"]);
    // The report counts them.
    let s = t.json(&["report", "summary"]);
    assert_eq!(s["mutation"]["suppressed"], 2, "{s}");
    assert!(t.ok(&["report", "summary"]).contains("Mutation: 2 verified feature(s) with evidence"));

    // The audit re-checks the mutation chain; a run forged with sqlite3 breaks it.
    assert_eq!(t.json(&["audit"])["passed"], true);
    connect(&t.join("porting.db"))
        .execute(
            "INSERT INTO mutation_runs (feature_id, batch_id, started_at, duration_ms, command, outcome, rust_file, rust_symbol, first_line, last_line, body_hash, cache_key, tests, provenance, origin, chain_hash)
             SELECT feature_id, batch_id, started_at, 1, command, 'completed', rust_file, rust_symbol, first_line, last_line, body_hash, 'forged', tests, 'trusted', 'gate', 'forged' FROM mutation_runs LIMIT 1",
            [],
        )
        .unwrap();
    let (code, out, _) = t.run(&["audit"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("mutation run 3"), "{out}");
}

#[test]
fn the_audit_names_verified_features_without_mutation_evidence_once_it_is_required() {
    let t = project("mutants-audit");
    edit(&t, "porttrack.toml", "mutants = true", "mutants = false");
    t.commit_all("mutation evidence not required yet");
    t.json(&["verify", "1"]);
    assert_eq!((status(&t, "Clamp"), status(&t, "Describe")), ("verified".to_string(), "verified".to_string()));
    let a = t.json(&["audit"]);
    assert_eq!(a["passed"], true, "{a}");
    let check = |a: &serde_json::Value| a["checks"].as_array().unwrap().iter().find(|c| c["name"] == "mutation evidence").cloned().unwrap();
    assert_eq!(check(&a)["checked"], "not required here ([verify] mutants = false)");
    // `audit --json` exits 1 when a check fails; its report is still JSON.
    let audit = || {
        let (code, out, err) = t.run(&["audit", "--json"]);
        assert_eq!(code, 1, "{out}{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };

    // Required now: both were verified without it.
    edit(&t, "porttrack.toml", "mutants = false", "mutants = true");
    t.commit_all("mutation evidence required");
    let (code, out, _) = t.run(&["audit"]);
    assert_eq!(code, 1, "{out}");
    let c = check(&audit());
    assert_eq!((c["passed"].as_bool(), c["checked"].as_str()), (Some(false), Some("2 verified Rust feature(s)")), "{c}");
    let problems = c["problems"].to_string();
    assert!(problems.contains("Clamp") && problems.contains("Describe") && problems.contains("no mutation evidence for its current function body"), "{c}");

    // Mutated: Describe's tests kill its mutants, Clamp's miss two.
    gate(&t, &["--batch", "1"]);
    let c = check(&audit());
    let problems = c["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{c}");
    assert!(problems[0]["subject"].as_str().unwrap().contains("Clamp"), "{c}");
    assert!(problems[0]["message"].as_str().unwrap().contains("2 mutant(s) missed"), "{c}");
    let (code, out, _) = t.run(&["audit"]);
    assert!(code == 1 && out.contains("2 mutant(s) missed"), "{out}");
}

#[test]
fn shards_merged_on_one_machine_give_what_one_run_gives() {
    let t = project("mutants-shards");
    for db in ["a.db", "b.db", "c.db"] {
        t.ok(&["init", "--empty", "--db", db]);
        t.ok(&["import", "go", "go/p", "--db", db]);
        t.ok(&["map", "import", "map.tsv", "--db", db]);
    }
    let one = gate(&t, &["--batch", "1"]);
    assert_eq!(one["mutated"], 2);
    // Each shard on its own "machine" (database), exported, then merged.
    let s0 = gate(&t, &["--batch", "1", "--shard", "0/2", "--export", "s0.json", "--db", "a.db"]);
    let s1 = gate(&t, &["--batch", "1", "--shard", "1/2", "--export", "s1.json", "--db", "b.db"]);
    assert_eq!((s0["features"].as_array().unwrap().len(), s1["features"].as_array().unwrap().len()), (1, 1));
    t.ok(&["evidence", "import", "s0.json", "--db", "c.db"]);
    let again = t.json(&["evidence", "import", "s1.json", "--db", "c.db"]);
    assert_eq!(again["imported"].as_array().unwrap().len(), 1);
    assert_eq!(t.json(&["evidence", "import", "s1.json", "--db", "c.db"])["already"], 1, "importing twice records nothing");
    let merged = gate(&t, &["--batch", "1", "--db", "c.db"]);
    assert_eq!(merged["mutated"], 0, "the merged shards cover every feature: {merged}");
    for key in ["totals", "verdict"] {
        assert_eq!(merged[key], one[key], "{key}");
    }
    // Durations differ from run to run; what was found may not.
    let found = |f: &serde_json::Value| {
        let missed: Vec<String> = f["missed"].as_array().unwrap().iter().map(|m| format!("{} {}", m["description"], m["outcome"])).collect();
        (f["id"].clone(), f["tally"].clone(), missed, f["problem"].is_null())
    };
    let merged_found: Vec<_> = merged["features"].as_array().unwrap().iter().map(found).collect();
    let one_found: Vec<_> = one["features"].as_array().unwrap().iter().map(found).collect();
    assert_eq!(merged_found, one_found);

    // A tampered export is refused whole, naming the record.
    let text = std::fs::read_to_string(t.join("s0.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let body = v["records"][0]["body_hash"].as_str().unwrap().to_string();
    std::fs::write(t.join("forged.json"), text.replace(&body, &"0".repeat(64))).unwrap();
    t.ok(&["init", "--empty", "--db", "d.db"]);
    t.ok(&["import", "go", "go/p", "--db", "d.db"]);
    t.ok(&["map", "import", "map.tsv", "--db", "d.db"]);
    let err = t.fails(&["evidence", "import", "forged.json", "--db", "d.db"], 4);
    assert!(err.contains("record 1") && err.contains("body hash does not match"), "{err}");
    let caught = text.replace("\"missed\"", "\"caught\"");
    std::fs::write(t.join("flipped.json"), caught.replace("\"trusted\"", "\"dirty\"")).unwrap();
    assert!(t.fails(&["evidence", "import", "flipped.json", "--db", "d.db"], 4).contains("marked dirty"));
    let n: i64 = connect(&t.join("d.db")).query_row("SELECT count(*) FROM mutation_runs", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0, "nothing imported");
}

#[test]
fn bad_arguments_are_refused_before_anything_runs() {
    let t = TestDir::new("mutants-args");
    t.ok(&["init", "--empty"]);
    for (args, needle) in [
        (vec!["gate", "mutants", "--shard", "2/2", "--batch", "1"], "2/2"),
        (vec!["gate", "mutants", "--jobs", "0", "--batch", "1"], "--jobs 0"),
        (vec!["gate", "mutants"], "--batch N or --features"),
    ] {
        let err = t.fails(&args, 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(t.fails(&["gate", "mutants", "--batch", "9"], 3).contains("9"));
}

#[test]
fn a_scratch_tree_another_gate_holds_is_refused_and_nothing_is_recorded() {
    let t = project("mutants-locked");
    // Another gate mutating in place in tree-0 holds its lock.
    std::fs::create_dir_all(t.join(".porttrack/scratch")).unwrap();
    let held = std::fs::File::create(t.join(".porttrack/scratch/tree-0.lock")).unwrap();
    held.lock().unwrap();
    let err = t.fails(&["gate", "mutants", "--features", "Clamp"], 7);
    assert!(err.contains("another `porttrack gate mutants` is using the scratch tree") && err.contains("tree-0"), "{err}");
    assert_eq!(mutation_runs(&t), 0, "nothing recorded");
    // Released: the gate runs.
    drop(held);
    let v = gate(&t, &["--features", "Clamp"]);
    assert_eq!(v["mutated"], 1, "{v}");
    assert_eq!(mutation_runs(&t), 1);
}

#[test]
fn evidence_whose_tests_were_weakened_is_stale_until_the_gate_runs_again() {
    let t = project("mutants-weakened");
    t.json(&["verify", "1"]);
    assert_eq!(status(&t, "Describe"), "verified");
    assert!(evidence(&t, "Describe")["problem"].is_null());

    // The body is unchanged, but the test that killed `<` → `<=` lost its
    // assertion: the evidence no longer says anything about these tests.
    edit(&t, "tests/clamp.rs", "    assert_eq!(describe(0), \"0 is non-negative\");\n", "");
    t.commit_all("weaker describe test");
    let m = evidence(&t, "Describe");
    assert!(m["problem"].as_str().unwrap_or_default().contains("its tests changed since mutation run"), "{m}");
    let b = t.json(&["batch", "show", "1"]);
    assert!(b.to_string().contains("\"mutation\":\"stale\""), "batch show marks it: {b}");
    let a = t.json(&["audit"]);
    assert!(a["warnings"].to_string().contains("its tests changed since mutation run"), "a warning, as a changed body is: {a}");

    // Verify runs the gate again for the new tests: the survivor shows.
    let (code, out, err) = t.run(&["verify", "1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("missed: src/lib.rs:16:21: replace < with <= in describe"), "{out}");
    assert_eq!(status(&t, "Describe"), "complete");
}

/// `evidence import --recheck`: an export is a file anyone can edit, so
/// with --recheck a missed mutant relabelled caught, or dropped from its
/// record, is refused, while the honest export imports with its draw shown.
#[test]
fn a_recheck_refuses_relabelled_or_dropped_mutants_and_passes_an_honest_export() {
    let t = project("mutants-recheck");
    let one = gate(&t, &["--batch", "1", "--export", "e.json"]);
    assert_eq!(one["mutated"], 2, "{one}");
    let text = std::fs::read_to_string(t.join("e.json")).unwrap();
    let fresh_db = |db: &str| {
        t.ok(&["init", "--empty", "--db", db]);
        t.ok(&["import", "go", "go/p", "--db", db]);
        t.ok(&["map", "import", "map.tsv", "--db", db]);
    };
    let runs = |db: &str| -> i64 { connect(&t.join(db)).query_row("SELECT count(*) FROM mutation_runs", [], |r| r.get(0)).unwrap() };

    // Clamp's two missed mutants relabelled caught: the plain import's
    // checks (what was mutated, where, by whom) cannot tell; the recheck runs
    // every claim again (20 is more than there are) and finds the survivor.
    std::fs::write(t.join("relabelled.json"), text.replace("\"missed\"", "\"caught\"")).unwrap();
    fresh_db("r.db");
    let err = t.fails(&["evidence", "import", "relabelled.json", "--recheck", "20", "--seed", "1", "--db", "r.db"], 4);
    assert!(err.contains("in clamp is recorded caught, but run again here it is missed") && err.contains("nothing was imported"), "{err}");
    assert_eq!(runs("r.db"), 0, "nothing imported");

    // The missed mutants dropped from Clamp's record: the list no longer
    // matches cargo-mutants' own, which needs no mutant run (--recheck 0).
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for r in v["records"].as_array_mut().unwrap() {
        r["mutants"].as_array_mut().unwrap().retain(|m| m["outcome"] != "missed");
    }
    std::fs::write(t.join("dropped.json"), v.to_string()).unwrap();
    fresh_db("d.db");
    let err = t.fails(&["evidence", "import", "dropped.json", "--recheck", "0", "--db", "d.db"], 4);
    assert!(err.contains("cargo-mutants lists src/lib.rs:5:10: replace < with <= in clamp, which the record does not hold"), "{err}");
    assert_eq!(runs("d.db"), 0, "nothing imported");

    // The honest export: both lists match, the two drawn claims hold.
    fresh_db("h.db");
    let ok = t.json(&["evidence", "import", "e.json", "--recheck", "2", "--seed", "7", "--db", "h.db"]);
    let rc = &ok["recheck"];
    assert_eq!((rc["seed"].as_u64(), rc["listed"].as_u64(), rc["stale"].as_u64()), (Some(7), Some(2), Some(0)), "{ok}");
    let drawn = rc["mutants"].as_array().unwrap();
    assert_eq!(drawn.len(), 2, "{ok}");
    assert!(drawn.iter().all(|m| m["found"] == m["claimed"] || (m["claimed"] == "timeout" && m["found"] == "caught")), "{ok}");
    assert_eq!(ok["imported"].as_array().unwrap().len(), 2);
    let human = t.ok(&["evidence", "import", "e.json", "--recheck", "1", "--seed", "7", "--db", "d.db"]);
    assert!(human.contains("Rechecked (seed 7): 2 record(s) list exactly cargo-mutants' mutants (0 stale, not checked); 1 outcome(s) re-run, all as recorded"), "{human}");

    // Committed and named in [verify] evidence, the export is what verify
    // imports (with its recheck) before it mutates: here nothing is left to mutate.
    edit(&t, "porttrack.toml", "mutants = true\n", "mutants = true\nevidence = [\"e.json\"]\nrecheck = 1\n");
    t.commit_all("the mutation evidence, committed");
    fresh_db("v.db");
    let v = t.json(&["verify", "1", "--db", "v.db"]);
    let imported = &v["evidence_imported"][0];
    assert_eq!((imported["imported"].as_array().map(Vec::len), imported["recheck"]["mutants"].as_array().map(Vec::len)), (Some(2), Some(1)), "{v}");
    assert_eq!(v["mutants"]["mutated"], 0, "{v}");
    assert_eq!(t.json(&["feature", "show", "Describe", "--db", "v.db"])["status"], "verified");
    assert_eq!(t.json(&["feature", "show", "Clamp", "--db", "v.db"])["status"], "complete", "its missed mutants came in too");
    // A second verify finds everything imported: no recheck, nothing mutated.
    let again = t.json(&["verify", "1", "--db", "v.db"]);
    assert!(again["evidence_imported"][0]["recheck"].is_null() && again["evidence_imported"][0]["already"] == 2, "{again}");
}
