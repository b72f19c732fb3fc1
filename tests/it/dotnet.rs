//! A C# port tracked end to end (issue 13): targets in C#, suggested by the
//! naming conventions, a .NET test gate read from the TRX file the test
//! command writes during the run (xUnit, MSTest and NUnit), `verify` moving
//! the C#-mapped items, the stub guard on a C# method, and staleness of a
//! changed C# file. The fixture project is `tests/fixtures/dotnet/`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::util::{fixture, TestDir};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git").current_dir(dir).args(args).output().expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The fixture project in a fresh git repository, its test gate running
/// `framework`'s tests, committed.
fn project(framework: &str) -> TestDir {
    let t = TestDir::new(&format!("dotnet-{framework}"));
    copy_dir(&fixture("dotnet"), t.path());
    let toml = std::fs::read_to_string(t.join("porttrack.toml")).unwrap().replace("\"xunit\",", &format!("\"{framework}\","));
    std::fs::write(t.join("porttrack.toml"), toml).unwrap();
    std::fs::write(t.join(".gitignore"), "/porting.db*\n/.porttrack/\n").unwrap();
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A"]);
    git(t.path(), &["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "fixture"]);
    t
}

fn status(t: &TestDir, kind: &str, name: &str) -> String {
    t.json(&[kind, "show", name])["status"].as_str().unwrap().to_string()
}

/// How each framework's TRX names the three tests.
fn trx_name(framework: &str, method: &str) -> String {
    if framework == "xunit" {
        format!("NatsNet.Server.Tests.RaftTests.{method}")
    } else {
        method.to_string()
    }
}

#[test]
fn map_suggest_finds_pascal_case_methods() {
    let t = project("xunit");
    t.ok(&["init", "--empty"]);
    t.ok(&["import", "go", "go/server"]);
    let v = t.json(&["map", "suggest", "--lang", "csharp", "--root", "src"]);
    let got: Vec<(String, String, f64)> = v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["go_name"].as_str().unwrap().to_string(), s["candidates"][0]["target"].as_str().unwrap().to_string(), s["candidates"][0]["confidence"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("newRaft".to_string(), "src/NatsNet.Server/RaftFactory.cs::NatsNet.Server.RaftFactory.NewRaft".to_string(), 0.85),
            ("raft.Term".to_string(), "src/NatsNet.Server/Raft.cs::NatsNet.Server.Raft.Term".to_string(), 0.9),
            ("raft.stepDown".to_string(), "src/NatsNet.Server/Raft.cs::NatsNet.Server.Raft.StepDown".to_string(), 0.9),
            ("raft.campaign".to_string(), "src/NatsNet.Server/Raft.cs::NatsNet.Server.Raft.Campaign".to_string(), 0.9),
        ]
    );
    // Nothing is stored without --apply; the test projects hold no targets.
    assert_eq!(t.json(&["feature", "show", "raft.Term"])["rust_file"], Value::Null);
    let applied = t.json(&["map", "suggest", "--lang", "csharp", "--root", "src", "--root", "tests", "--apply"]);
    assert_eq!((applied["applied"].as_array().unwrap().len(), applied["remaining"].as_i64()), (4, Some(0)), "{applied}");
    assert_eq!(t.json(&["feature", "show", "raft.stepDown"])["rust_symbol"], "NatsNet.Server.Raft.StepDown");
    // A second call finds nothing left to store.
    assert_eq!(t.json(&["map", "suggest", "--lang", "csharp", "--root", "src", "--apply"])["applied"].as_array().unwrap().len(), 0);
    let err = t.fails(&["map", "suggest", "--lang", "go"], 2);
    assert!(err.contains("'go'"), "{err}");
    let err = t.fails(&["map", "suggest", "--root", "nowhere"], 2);
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn verify_moves_csharp_mapped_items_from_trx_results() {
    for framework in ["xunit", "mstest", "nunit"] {
        let t = project(framework);
        t.ok(&["init", "--empty"]);
        t.ok(&["import", "go", "go/server"]);
        t.ok(&["map", "suggest", "--lang", "csharp", "--root", "src", "--apply"]);
        for (go, method) in [("TestNRGTerm", "Term_StartsAtZero"), ("TestNRGStepDown", "StepDown_AdoptsTerm"), ("TestNRGCampaign", "Campaign_VotesForItself")] {
            let file = format!("tests/NatsNet.Server.Tests.{}/RaftTests.cs", match framework {
                "xunit" => "XUnit",
                "mstest" => "MSTest",
                _ => "NUnit",
            });
            t.ok(&["map", "test", go, "--target", &trx_name(framework, method), "--file", &file]);
        }
        // The C# stub guard: Campaign throws NotImplementedException.
        let out = t.run(&["batch", "update", "1", "--features", "raft.campaign", "--status", "complete"]);
        assert_eq!(out.0, 4, "{framework}: {out:?}");
        assert!(out.1.contains("stub finding at src/NatsNet.Server/Raft.cs:20 cs/not-implemented"), "{framework}: {}", out.1);
        let scan = t.run(&["stub", "scan", "src", "--json"]);
        let v: Value = serde_json::from_str(&scan.1).unwrap();
        assert_eq!(v["findings"][0]["feature"]["go_name"], "raft.campaign", "{framework}: the finding names its feature");

        // Campaign's test fails (it hits the stub), so the gate fails (exit
        // 1), but what the passing tests prove moves.
        let (code, out, err) = t.run(&["verify", "1", "--json"]);
        assert_eq!(code, 1, "{framework}: {out}\n{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["test"]["format"], "trx", "{framework}");
        assert_eq!((v["test"]["counts"]["passed"].as_i64(), v["test"]["counts"]["failed"].as_i64()), (Some(2), Some(1)), "{framework}: {}", v["test"]);
        for f in ["raft.Term", "raft.stepDown"] {
            assert_eq!(status(&t, "feature", f), "verified", "{framework} {f}");
        }
        // newRaft is also exercised by the failing test: never verified then.
        assert_eq!(status(&t, "feature", "newRaft"), "not_started", "{framework}");
        assert_eq!(status(&t, "feature", "raft.campaign"), "not_started", "{framework}: a stub with a failing test stays");
        let kept: Vec<String> = v["kept"].as_array().unwrap().iter().map(|k| format!("{} {}", k["name"].as_str().unwrap(), k["why"].as_str().unwrap())).collect();
        assert!(kept.iter().any(|k| k.starts_with("raft.campaign") && k.contains("failed")), "{framework}: {kept:?}");
        let run = v["test"]["run_id"].as_i64().unwrap();
        let evidence = t.json(&["evidence", "show", &run.to_string()]);
        // Recorded as class + method; the mapping's `Namespace.Class.Method`
        // (xUnit) or bare method (MSTest, NUnit) names that identity.
        let names: Vec<(String, String)> = evidence["results"].as_array().unwrap().iter().map(|r| (r["container"].as_str().unwrap_or("").to_string(), r["test_name"].as_str().unwrap().to_string())).collect();
        let wanted = trx_name(framework, "Term_StartsAtZero");
        assert!(names.iter().any(|(c, n)| *n == wanted || format!("{c}.{n}") == wanted), "{framework}: {names:?}");
        assert!(names.iter().all(|(c, _)| c == "NatsNet.Server.Tests.RaftTests"), "{framework}: each result keeps its class: {names:?}");

        // The tests' batch depends on the features' batch, unfinished while
        // campaign is not ported.
        t.run(&["verify", "2", "--override", "campaign is ported next"]);
        assert_eq!((status(&t, "test", "TestNRGTerm"), status(&t, "test", "TestNRGCampaign")), ("verified".into(), "not_started".into()), "{framework}");

        // Staleness follows the C# file.
        let raft_cs = t.join("src/NatsNet.Server/Raft.cs");
        let text = std::fs::read_to_string(&raft_cs).unwrap().replace("public ulong Term() => _term;", "public ulong Term() => _term + 0;");
        std::fs::write(&raft_cs, text).unwrap();
        let b = t.json(&["batch", "show", "1"]);
        let stale: Vec<&str> = b["features"]["items"].as_array().unwrap().iter().filter(|i| i["stale"] == true).map(|i| i["name"].as_str().unwrap()).collect();
        assert_eq!(stale, ["raft.Term", "raft.stepDown"], "{framework}");
    }
}
