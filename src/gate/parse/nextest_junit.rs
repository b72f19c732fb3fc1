//! cargo-nextest's JUnit report (`[profile.<name>.junit]` in
//! `.config/nextest.toml`). nextest writes one `testsuite` per test binary,
//! named by its binary id (`ptfix`, `ptfix::api`), repeats that id as each
//! testcase's `classname`, and puts the test's path within the binary in
//! `name`. A result's identity is that binary id and path — the same
//! `container` and `name` the libtest parser gives the same test under
//! `cargo test` — so a mapping matches either runner.
//!
//! Retries: a test that failed and then passed (`flakyFailure` children) is
//! passed, with a warning; one that failed every attempt (`failure` plus
//! `rerunFailure`) is failed. Totals come from the root `testsuites`, which
//! nextest fills in itself.

use crate::gate::results::{Format, ParseError, Parsed, TestResult};

use super::junit;
use super::xml::NEXTEST_RUN_NAME;

pub fn parse(input: &str) -> Result<Parsed, ParseError> {
    let doc = junit::read(Format::NextestJunit, input)?;
    let mut warnings = doc.warnings;
    if doc.root_name.as_deref() != Some(NEXTEST_RUN_NAME) {
        warnings.push(format!(
            "the root is not <testsuites name=\"{NEXTEST_RUN_NAME}\"> (found {}); read as nextest JUnit as asked",
            doc.root_name
                .as_deref()
                .map_or_else(|| "no name".to_string(), |n| format!("name=\"{}\"", super::excerpt(n, 40)))
        ));
    }
    let mut results = Vec::with_capacity(doc.cases.len());
    for c in doc.cases {
        if c.failed_attempts > 0 && c.outcome == crate::gate::results::TestOutcome::Passed {
            warnings.push(format!(
                "{} in {} is flaky: it passed after {} failed attempt(s)",
                c.name,
                c.classname.as_deref().unwrap_or("?"),
                c.failed_attempts
            ));
        }
        if c.classname.is_some() && c.classname != c.suite {
            warnings.push(format!(
                "{}: classname {:?} is not its testsuite's binary id {:?}",
                c.name,
                c.classname.as_deref().unwrap_or(""),
                c.suite.as_deref().unwrap_or("")
            ));
        }
        results.push(TestResult {
            container: c.classname.or(c.suite).unwrap_or_default(),
            name: c.name,
            outcome: c.outcome,
            duration_ms: c.duration_ms,
        });
    }
    Ok(Parsed {
        results,
        anonymous: crate::gate::results::Counts::default(),
        reported: doc.root_totals.or(doc.leaf_totals),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::parse;
    use crate::gate::results::{Counts, TestOutcome};
    use proptest::prelude::*;

    #[test]
    fn fixture_gives_exact_results() {
        let input = include_str!("../../../tests/fixtures/gate/nextest-junit.xml");
        assert_eq!(parse::detect(input), Some(Format::NextestJunit));
        let p = parse::parse(Format::NextestJunit, input).expect("fixture parses");
        let got: Vec<(&str, TestOutcome, Option<u64>)> = p.results.iter().map(|r| (r.name.as_str(), r.outcome, r.duration_ms)).collect();
        assert_eq!(
            got,
            vec![
                ("tests::adds", TestOutcome::Passed, Some(4)),
                ("tests::nested::deep", TestOutcome::Passed, Some(4)),
                ("tests::noisy", TestOutcome::Passed, Some(4)),
                ("tests::panics", TestOutcome::Passed, Some(86)),
                ("tests::prints_without_newline", TestOutcome::Passed, Some(4)),
                ("tests::shared_name", TestOutcome::Passed, Some(4)),
                ("tests::fails", TestOutcome::Failed, Some(88)),
                ("api_ok", TestOutcome::Passed, Some(4)),
                ("tests::shared_name", TestOutcome::Failed, Some(85)),
                ("flaky_once", TestOutcome::Passed, Some(5)),
                ("other_ok", TestOutcome::Passed, Some(4)),
            ]
        );
        assert_eq!(
            p.reported,
            Some(Counts {
                passed: 9,
                failed: 2,
                skipped: 0
            })
        );
        assert_eq!(
            p.warnings,
            vec!["flaky_once in ptfix::flaky is flaky: it passed after 1 failed attempt(s)".to_string()]
        );
        // The same path in two binaries: two tests, told apart by binary id.
        let shared: Vec<(&str, TestOutcome)> = p.results.iter().filter(|r| r.name == "tests::shared_name").map(|r| (r.container.as_str(), r.outcome)).collect();
        assert_eq!(shared, vec![("ptfix", TestOutcome::Passed), ("ptfix::api", TestOutcome::Failed)]);
    }

    #[test]
    fn names_match_what_libtest_prints_for_the_same_run() {
        // Same scratch crate, run by `cargo test` and by `cargo nextest`.
        let nextest = parse::parse(Format::NextestJunit, include_str!("../../../tests/fixtures/gate/nextest-junit.xml")).expect("nextest");
        let libtest = parse::parse(Format::Libtest, include_str!("../../../tests/fixtures/gate/libtest.txt")).expect("libtest");
        let names = |p: &Parsed| {
            let mut v: Vec<String> = p.results.iter().filter(|r| r.outcome != TestOutcome::Skipped).map(|r| r.name.clone()).collect();
            v.sort();
            v
        };
        let mut from_libtest = names(&libtest);
        // nextest does not run doc-tests; the flaky test was added for the nextest run.
        from_libtest.retain(|n| !n.starts_with("src/lib.rs - "));
        from_libtest.push("flaky_once".into());
        from_libtest.sort();
        assert_eq!(names(&nextest), from_libtest);
    }

    #[test]
    fn other_root_names_are_read_with_a_warning() {
        let input = "<testsuites name=\"ci\" tests=\"1\" failures=\"1\"><testsuite name=\"b\"><testcase name=\"m::t\" classname=\"b\"><failure/></testcase></testsuite></testsuites>";
        let p = parse::parse(Format::NextestJunit, input).expect("parses");
        assert_eq!(
            p.results,
            vec![TestResult {
                container: "b".into(),
                name: "m::t".into(),
                outcome: TestOutcome::Failed,
                duration_ms: None
            }]
        );
        assert_eq!(
            p.warnings,
            vec!["the root is not <testsuites name=\"nextest-run\"> (found name=\"ci\"); read as nextest JUnit as asked".to_string()]
        );
    }

    #[test]
    fn not_xml_is_an_error() {
        let e = parse::parse(Format::NextestJunit, "running 1 test\ntest a ... ok\n").expect_err("error");
        assert_eq!(
            e.to_string(),
            "nextest-junit results: no XML document found: no line starts with <?xml or <testsuites> or <testsuite>"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse::parse(Format::NextestJunit, &s);
        }
    }
}
