//! Results captured from the real runners (tests/fixtures/gate/real/, made
//! by tests/fixtures/gate/capture/capture.sh): every test keeps the
//! runner's full identity, and the counts equal the runner's own summary.

use super::util::{fixture, TestDir};

/// `gate parse --json` of a real fixture: (counts, [(container, name, outcome)], warnings).
fn parse(t: &TestDir, file: &str) -> (serde_json::Value, Vec<(String, String, String)>, Vec<String>) {
    let path = fixture(&format!("gate/real/{file}"));
    let v = t.json(&["gate", "parse", path.to_str().unwrap()]);
    let results = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["container"].as_str().unwrap().to_string(), r["name"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
        .collect();
    let warnings = v["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_string()).collect();
    (v["counts"].clone(), results, warnings)
}

fn ids(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter().map(|(c, n, o)| (c.to_string(), n.to_string(), o.to_string())).collect()
}

fn counts(passed: u64, failed: u64, skipped: u64) -> serde_json::Value {
    serde_json::json!({"passed": passed, "failed": failed, "skipped": skipped})
}

/// The summary line a runner printed, found in its captured console output.
fn summary_line(file: &str, starts: &str) -> String {
    let text = std::fs::read_to_string(fixture(&format!("gate/real/{file}"))).unwrap();
    text.lines().find(|l| l.trim_start().starts_with(starts)).unwrap_or_else(|| panic!("no {starts} line in {file}")).to_string()
}

#[test]
fn cargo_test_with_one_name_in_five_binaries() {
    let t = TestDir::new("real-cargo-test");
    let (c, results, warnings) = parse(&t, "cargo-test-two-binaries.txt");
    // libtest's own `test result:` lines: 2+1+1+1+1+1 passed, 1 failed, 1+1 ignored.
    assert_eq!(c, counts(7, 1, 2));
    let test_eq: Vec<&(String, String, String)> = results.iter().filter(|(_, n, _)| n.ends_with("test_eq")).collect();
    assert_eq!(test_eq.len(), 6, "{results:?}");
    assert_eq!(
        results,
        ids(&[
            ("alpha", "tests::network", "skipped"),
            ("alpha", "tests::nested::test_eq", "passed"),
            ("alpha", "tests::test_eq", "passed"),
            ("alpha::bin/tool", "test_eq", "passed"),
            ("alpha::api", "flaky", "passed"),
            ("alpha::api", "test_eq", "failed"),
            ("beta_pkg", "tests::test_eq", "passed"),
            ("beta_pkg::api", "slow", "skipped"),
            ("beta_pkg::api", "test_eq", "passed"),
            ("alpha::doctest", "alpha/src/lib.rs - add (line 3)", "passed"),
        ])
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn cargo_test_q_counts_match_and_the_failure_is_named() {
    let t = TestDir::new("real-cargo-test-q");
    let (c, results, warnings) = parse(&t, "cargo-test-q.txt");
    assert_eq!(c, counts(7, 1, 2));
    assert_eq!(results, ids(&[("alpha::api", "test_eq", "failed")]));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("names only failing tests"), "{warnings:?}");
}

#[test]
fn nextest_junit_with_retries() {
    let t = TestDir::new("real-nextest");
    let (c, results, warnings) = parse(&t, "nextest-retries.xml");
    // nextest: "7 tests run: 6 passed (1 flaky), 1 failed, 2 skipped"; the
    // two skipped tests are not in its JUnit report.
    let summary = summary_line("nextest-retries.txt", "Summary");
    assert!(summary.contains("7 tests run: 6 passed (1 flaky), 1 failed, 2 skipped"), "{summary}");
    assert_eq!(c, counts(6, 1, 0));
    assert_eq!(
        results,
        ids(&[
            ("alpha", "tests::nested::test_eq", "passed"),
            ("alpha", "tests::test_eq", "passed"),
            ("alpha::api", "flaky", "passed"),
            ("alpha::api", "test_eq", "failed"),
            ("alpha::bin/tool", "test_eq", "passed"),
            ("beta-pkg", "tests::test_eq", "passed"),
            ("beta-pkg::api", "test_eq", "passed"),
        ])
    );
    assert_eq!(warnings, vec!["flaky in alpha::api is flaky: it passed after 1 failed attempt(s)".to_string()]);
}

#[test]
fn go_test_json_with_subtests_and_a_timeout() {
    let t = TestDir::new("real-go-test");
    let (c, results, warnings) = parse(&t, "go-test-timeout.json");
    let (calc, hang) = ("example.com/ptgo/calc", "example.com/ptgo/hang");
    // Go prints no totals: 12 tests started (`run` events), each is a result.
    assert_eq!(c, counts(6, 5, 1));
    let mut sorted = results.clone();
    sorted.sort();
    let mut want = ids(&[
        (hang, "TestQuick", "passed"),
        (hang, "TestHangs", "timeout"),
        (hang, "TestHangs/forever", "timeout"),
        (calc, "TestAdd", "passed"),
        (calc, "TestTable", "failed"),
        (calc, "TestTable/zero", "passed"),
        (calc, "TestTable/zero/inner", "passed"),
        (calc, "TestTable/one_plus_one", "passed"),
        (calc, "TestTable/one_plus_one/inner", "passed"),
        (calc, "TestTable/wrong", "failed"),
        (calc, "TestTable/wrong/inner", "failed"),
        (calc, "TestSkipped", "skipped"),
    ]);
    want.sort();
    assert_eq!(sorted, want);
    assert_eq!(
        warnings,
        vec![format!("2 test(s) still running when the run timed out, recorded as timeout: {hang} TestHangs, {hang} TestHangs/forever")]
    );
}

#[test]
fn go_test_json_cut_short_names_what_never_finished() {
    let t = TestDir::new("real-go-truncated");
    // The same real stream, cut off inside the table test: seven tests and
    // subtests have started and not finished.
    let text = std::fs::read_to_string(fixture("gate/real/go-test-timeout.json")).unwrap();
    let cut: String = text.lines().take_while(|l| !l.contains("\"Test\":\"TestTable/zero/inner\",\"Elapsed\"")).map(|l| format!("{l}\n")).collect();
    std::fs::write(t.join("cut.json"), cut).unwrap();
    let v = t.json(&["gate", "parse", "cut.json"]);
    let unfinished: Vec<String> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "incomplete")
        .map(|r| format!("{} {}", r["container"].as_str().unwrap(), r["name"].as_str().unwrap()))
        .collect();
    assert_eq!(unfinished.len(), 7, "{unfinished:?}");
    assert!(unfinished.contains(&"example.com/ptgo/calc TestTable/wrong/inner".to_string()), "{unfinished:?}");
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("7 test(s) started but the output ended before their results, recorded as incomplete"), "{warnings}");
}

#[test]
fn pytest_junit_keeps_classes_apart() {
    let t = TestDir::new("real-pytest");
    let (c, results, warnings) = parse(&t, "pytest-junit.xml");
    let summary = summary_line("pytest.txt", "==================== 1 failed");
    assert!(summary.contains("1 failed, 3 passed, 1 skipped"), "{summary}");
    assert_eq!(c, counts(3, 1, 1));
    assert_eq!(
        results,
        ids(&[
            ("tests.test_a.TestOne", "test_same", "passed"),
            ("tests.test_a.TestTwo", "test_same", "failed"),
            ("tests.test_a", "test_top", "passed"),
            ("tests.test_a", "test_skipped", "skipped"),
            ("tests.test_b", "test_top", "passed"),
        ])
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// TRX cannot be captured here (no dotnet SDK); this file is written in the
/// shape of VSTest's MSTest output (see its comment).
#[test]
fn trx_same_method_in_two_classes_and_vstest_counters() {
    let t = TestDir::new("trx-two-classes");
    let path = fixture("gate/trx-two-classes.trx");
    let v = t.json(&["gate", "parse", path.to_str().unwrap()]);
    assert_eq!(v["counts"], counts(2, 0, 1));
    assert_eq!(v["reported"], counts(2, 0, 1), "skipped = total - executed although notExecuted=0");
    let got: Vec<(String, String, String)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["container"].as_str().unwrap().to_string(), r["name"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
        .collect();
    let (webdav, ftp) = ("VanillaCloudStorageClientTest.CloudStorageProviders.WebdavCloudStorageClientTest", "VanillaCloudStorageClientTest.CloudStorageProviders.FtpCloudStorageClientTest");
    assert_eq!(
        got,
        ids(&[(webdav, "ThrowsWithInvalidUsername", "passed"), (ftp, "ThrowsWithInvalidUsername", "skipped"), (webdav, "DownloadsFile", "passed")])
    );
    assert_eq!(v["warnings"], serde_json::json!([]));
}
