//! `go test -json` (test2json) events, one JSON object per line:
//! `{"Time":…,"Action":"pass","Package":"example.com/p","Test":"TestX","Elapsed":0.12}`.
//! A `pass`, `fail` or `skip` event with a `Test` is one result, under its
//! package, named as Go names it (`TestX`, subtests `TestX/sub_case`), with
//! `Elapsed` seconds as its duration. Other actions (`output`, `pause`,
//! `cont`, `start`, `bench`) and package-level events (no `Test`) are not
//! results.
//!
//! A test that had a `run` event but no result never finished: it hung
//! until the run was killed — the gate's timeout, or `go test -timeout`,
//! whose `panic: test timed out` the package prints — and is recorded as
//! `timeout`, or the output was cut short and it is `incomplete`. Go 1.19's
//! test2json writes no result for such tests at all; each is named in a
//! warning.
//!
//! Lines that are not events (compiler errors and `FAIL pkg [build failed]`
//! when stderr is captured too, or anything else printed around the JSON)
//! are skipped and counted in one warning. A package that failed without
//! any failing test (a build failure, a panic in `init` or `TestMain`) is
//! worth a warning of its own, since no result says so. Go prints no
//! totals, so `reported` stays empty.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::gate::parse::StreamEnd;
use crate::gate::results::{Counts, Format, ParseError, Parsed, TestOutcome, TestResult};

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "Action", borrow)]
    action: Cow<'a, str>,
    #[serde(rename = "Package", borrow, default)]
    package: Option<Cow<'a, str>>,
    #[serde(rename = "Test", borrow, default)]
    test: Option<Cow<'a, str>>,
    #[serde(rename = "Elapsed", default)]
    elapsed: Option<f64>,
    #[serde(rename = "Output", borrow, default)]
    output: Option<Cow<'a, str>>,
}

/// Is `line` a test2json event (for `detect`)?
pub(crate) fn is_event(line: &str) -> bool {
    serde_json::from_str::<Event>(line).is_ok()
}

#[derive(Default)]
pub struct Parser {
    results: Vec<TestResult>,
    warnings: Vec<String>,
    events: usize,
    noise: usize,
    first_noise: Option<(usize, String)>,
    line_no: usize,
    /// Packages in the order their package-level `fail` came, and those
    /// with a failing test.
    failed_packages: Vec<String>,
    packages_with_failed_test: HashSet<String>,
    /// Tests that started and have no result yet, by (package, test), with
    /// the order they started in.
    running: HashMap<(String, String), usize>,
    started: usize,
    /// Packages whose test binary said `panic: test timed out`.
    timed_out_packages: HashSet<String>,
}

impl Parser {
    pub fn line(&mut self, line: &str) {
        self.line_no += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        let event = match serde_json::from_str::<Event>(trimmed) {
            Ok(e) => e,
            Err(_) => {
                self.noise += 1;
                if self.first_noise.is_none() {
                    self.first_noise = Some((self.line_no, super::excerpt(trimmed, 80)));
                }
                return;
            }
        };
        self.events += 1;
        let package = event.package.as_deref().unwrap_or("");
        let test = event.test.as_deref().filter(|t| !t.is_empty());
        let outcome = match event.action.as_ref() {
            "pass" => TestOutcome::Passed,
            "fail" => TestOutcome::Failed,
            "skip" => TestOutcome::Skipped,
            "run" => {
                if let Some(t) = test.filter(|t| !t.contains(char::is_whitespace)) {
                    self.started += 1;
                    self.running.insert((package.to_string(), t.to_string()), self.started);
                }
                return;
            }
            "output" => {
                if event.output.as_deref().is_some_and(|o| o.starts_with("panic: test timed out after")) {
                    self.timed_out_packages.insert(package.to_string());
                }
                return;
            }
            _ => return,
        };
        let Some(test) = test else {
            if outcome == TestOutcome::Failed {
                self.failed_packages.push(package.to_string());
            }
            return;
        };
        // The testing package never prints a test name with whitespace (it
        // rewrites spaces in subtest names to `_`); such a "test" is
        // test2json mistaking a test's own `--- PASS: …` output for a result.
        if test.contains(char::is_whitespace) {
            self.warnings.push(format!(
                "line {}: ignored a {} event for {:?}, which is not a Go test name (a test printed a `--- {}:` line?)",
                self.line_no,
                event.action,
                super::excerpt(test, 60),
                event.action.to_uppercase()
            ));
            return;
        }
        if outcome == TestOutcome::Failed {
            self.packages_with_failed_test.insert(package.to_string());
        }
        self.running.remove(&(package.to_string(), test.to_string()));
        self.results.push(TestResult {
            container: package.to_string(),
            name: test.to_string(),
            outcome,
            duration_ms: event.elapsed.and_then(super::seconds_to_ms),
        });
    }

    pub fn finish(mut self, end: StreamEnd) -> Result<Parsed, ParseError> {
        if self.events == 0 {
            return Err(ParseError {
                format: Format::GoJson,
                message: if self.noise == 0 {
                    "the input is empty: no `go test -json` events".into()
                } else {
                    format!("no `go test -json` events: none of {} non-blank line(s) is a JSON object with an Action", self.noise)
                },
            });
        }
        let mut warnings = std::mem::take(&mut self.warnings);
        if let Some((line_no, text)) = &self.first_noise {
            warnings.push(format!("skipped {} line(s) that are not go test -json events (first, line {line_no}: {text})", self.noise));
        }
        for p in self.failed_packages.iter().filter(|p| !self.packages_with_failed_test.contains(*p)) {
            // A package that timed out is explained by its unfinished tests.
            if !self.timed_out_packages.contains(p) || !self.running.keys().any(|(pkg, _)| pkg == p) {
                warnings.push(format!("package {p} failed but none of its tests did (build failure, or a panic outside a test?)"));
            }
        }
        let mut unfinished: Vec<((String, String), usize)> = self.running.into_iter().collect();
        unfinished.sort_by_key(|(_, order)| *order);
        for (outcome, why) in [(TestOutcome::Timeout, "still running when the run timed out"), (TestOutcome::Incomplete, "started but the output ended before their results")] {
            let names: Vec<String> = unfinished
                .iter()
                .filter(|((pkg, _), _)| (end == StreamEnd::TimedOut || self.timed_out_packages.contains(pkg)) == (outcome == TestOutcome::Timeout))
                .map(|((pkg, test), _)| {
                    self.results.push(TestResult { container: pkg.clone(), name: test.clone(), outcome, duration_ms: None });
                    crate::gate::results::qualified(pkg, test)
                })
                .collect();
            if !names.is_empty() {
                warnings.push(format!("{} test(s) {why}, recorded as {}: {}", names.len(), outcome.as_str(), names.join(", ")));
            }
        }
        Ok(Parsed { results: self.results, anonymous: Counts::default(), reported: None, warnings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::parse;
    use proptest::prelude::*;
    use TestOutcome::{Failed, Passed, Skipped};

    /// `go test -json -bench . ./...` (Go 1.19) with stderr captured too: a
    /// package that does not build, a failing table test, a skip, parallel
    /// subtests, a test printing a fake `--- PASS:` line.
    #[test]
    fn fixture_gives_exact_results() {
        let input = include_str!("../../../tests/fixtures/gate/go-test.json");
        assert_eq!(parse::detect(input), Some(Format::GoJson));
        let p = parse::parse(Format::GoJson, input).expect("fixture parses");
        let got: Vec<(&str, TestOutcome, Option<u64>)> = p.results.iter().map(|r| (r.name.as_str(), r.outcome, r.duration_ms)).collect();
        assert_eq!(
            got,
            vec![
                ("TestAdd", Passed, Some(0)),
                ("TestDouble", Failed, Some(0)),
                ("TestTable/zero", Passed, Some(0)),
                ("TestTable/one_plus_one", Passed, Some(0)),
                ("TestTable/wrong", Failed, Some(0)),
                ("TestTable", Failed, Some(0)),
                ("TestSlow", Passed, Some(120)),
                ("TestNeedsNetwork", Skipped, Some(0)),
                ("TestParallelParent/a", Passed, Some(0)),
                ("TestParallelParent/b", Passed, Some(0)),
                ("TestParallelParent", Passed, Some(0)),
                ("TestShout", Passed, Some(0)),
                ("TestAdd", Passed, Some(0)),
            ]
        );
        assert_eq!(p.reported, None);
        assert_eq!(
            p.warnings,
            vec![
                "line 54: ignored a pass event for \"fake line printed by a\", which is not a Go test name (a test printed a `--- PASS:` line?)".to_string(),
                "line 58: ignored a pass event for \"fake line printed by b\", which is not a Go test name (a test printed a `--- PASS:` line?)".to_string(),
                "skipped 3 line(s) that are not go test -json events (first, line 1: # example.com/ptgo/broken [example.com/ptgo/broken.test])".to_string(),
            ]
        );
    }

    #[test]
    fn noise_and_odd_events() {
        let input = concat!(
            "{\"Action\":\"start\",\"Package\":\"p\"}\n",
            "{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestA\"}\n",
            "garbage {\"Action\":\"pass\"}\n",
            "{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"TestA\",\"Elapsed\":1.5}\n",
            "{\"Action\":\"fail\",\"Package\":\"p\",\"Test\":\"TestB\",\"Elapsed\":-3}\n",
            "{\"Action\":\"skip\",\"Test\":\"TestC\"}\n",
            "{\"Action\":\"pass\",\"Test\":\"\"}\n",
            "{\"Test\":\"TestD\"}\n",
            "[1,2]\n",
            "{\"Action\":\"fail\",\"Package\":\"p\",\"Elapsed\":2}\n",
            "{\"Action\":\"output\",\"Package\":\"q\",\"Output\":\"panic: init failed\\n\"}\n",
            "{\"Action\":\"fail\",\"Package\":\"q\",\"Elapsed\":0.01}\n",
        );
        let p = parse::parse(Format::GoJson, input).expect("parses");
        let got: Vec<(&str, TestOutcome, Option<u64>)> = p.results.iter().map(|r| (r.name.as_str(), r.outcome, r.duration_ms)).collect();
        assert_eq!(got, vec![("TestA", Passed, Some(1500)), ("TestB", Failed, None), ("TestC", Skipped, None)]);
        assert_eq!(
            p.warnings,
            vec![
                "skipped 3 line(s) that are not go test -json events (first, line 3: garbage {\"Action\":\"pass\"})".to_string(),
                "package q failed but none of its tests did (build failure, or a panic outside a test?)".to_string(),
            ]
        );
    }

    #[test]
    fn started_tests_are_timeout_after_a_gate_timeout_else_incomplete() {
        let input = concat!(
            "{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestA\"}\n",
            "{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"TestA\",\"Elapsed\":0.1}\n",
            "{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestB\"}\n",
            "{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestB/sub\"}\n",
        );
        let outcomes = |end| -> Vec<(String, TestOutcome)> {
            parse::parse_ended(Format::GoJson, input, end).expect("parses").results.iter().map(|r| (r.qualified(), r.outcome)).collect()
        };
        assert_eq!(
            outcomes(parse::StreamEnd::TimedOut),
            vec![("p TestA".into(), Passed), ("p TestB".into(), TestOutcome::Timeout), ("p TestB/sub".into(), TestOutcome::Timeout)]
        );
        assert_eq!(
            outcomes(parse::StreamEnd::Finished),
            vec![("p TestA".into(), Passed), ("p TestB".into(), TestOutcome::Incomplete), ("p TestB/sub".into(), TestOutcome::Incomplete)]
        );
    }

    #[test]
    fn input_without_events_is_an_error() {
        let e = parse::parse(Format::GoJson, "ok  \texample.com/p\t0.01s\n").expect_err("error");
        assert_eq!(
            e.to_string(),
            "go-json results: no `go test -json` events: none of 1 non-blank line(s) is a JSON object with an Action"
        );
        let e = parse::parse(Format::GoJson, "\n\n").expect_err("error");
        assert_eq!(e.message, "the input is empty: no `go test -json` events");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse::parse(Format::GoJson, &s);
        }

        #[test]
        fn never_panics_on_jsonish_lines(s in "(\\{\"Action\":\"(pass|fail|skip|run)\"(,\"Test\":\"[A-Za-z /]{0,5}\")?(,\"Elapsed\":-?[0-9e.]{1,4})?\\}|[{}\":a-z]{0,6}|\n){0,12}") {
            let _ = parse::parse(Format::GoJson, &s);
        }
    }
}
