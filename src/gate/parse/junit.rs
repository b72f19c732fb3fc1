//! Generic JUnit XML (Surefire, pytest, go-junit-report, Jest, …). A
//! `testcase` with a `failure` or `error` child failed, one with `skipped`
//! was skipped, any other ran and passed. A result's identity is its
//! `classname` (the container; for pytest `tests.test_a.TestOne`) and its
//! `name`: the same method in two classes is two tests. The tool's own
//! totals are the sum of the innermost `testsuite` elements' attributes.
//!
//! [`read`] walks the document for both this parser and nextest's, which
//! differs only in naming and in which totals it trusts.

use std::borrow::Cow;

use crate::gate::results::{Counts, Format, ParseError, Parsed, TestOutcome, TestResult};

use super::xml;
use quick_xml::events::{BytesStart, Event};

/// One `testcase` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Case {
    pub suite: Option<String>,
    pub classname: Option<String>,
    pub name: String,
    pub duration_ms: Option<u64>,
    pub outcome: TestOutcome,
    /// Failed attempts before the final one (`flakyFailure`/`flakyError`
    /// on a pass, `rerunFailure`/`rerunError` on a failure): Surefire and
    /// nextest write these for retried tests.
    pub failed_attempts: u32,
}

/// The JUnit document, read.
#[derive(Debug, Default)]
pub(crate) struct Doc {
    /// The root's `name` (when the root is `testsuites`).
    pub root_name: Option<String>,
    /// Totals on the root element.
    pub root_totals: Option<Counts>,
    /// Totals summed over the innermost `testsuite` elements (a suite that
    /// contains suites repeats its children's counts).
    pub leaf_totals: Option<Counts>,
    pub cases: Vec<Case>,
    pub warnings: Vec<String>,
}

pub fn parse(input: &str) -> Result<Parsed, ParseError> {
    let doc = read(Format::Junit, input)?;
    let results = doc
        .cases
        .into_iter()
        .map(|c| TestResult { container: c.classname.unwrap_or_default(), name: c.name, outcome: c.outcome, duration_ms: c.duration_ms })
        .collect();
    Ok(Parsed {
        results,
        anonymous: Counts::default(),
        reported: doc.leaf_totals.or(doc.root_totals),
        warnings: doc.warnings,
    })
}

struct Suite {
    name: Option<String>,
    totals: Option<Counts>,
    has_child_suite: bool,
}

/// Walk a JUnit document (root `testsuites` or `testsuite`) inside `input`.
pub(crate) fn read(format: Format, input: &str) -> Result<Doc, ParseError> {
    let mut doc = Doc::default();
    let located = xml::locate(format, input, &["testsuites", "testsuite"], &mut doc.warnings)?;
    let mut r = xml::reader(located.doc);
    let mut suites: Vec<Suite> = Vec::new();
    let mut case: Option<Case> = None;
    // Elements open inside the current testcase, so its end is found.
    let mut case_depth = 0usize;
    // Elements open in the whole document; 0 again means the root closed.
    let mut depth = 0usize;
    let mut leaf = Counts::default();
    let mut any_leaf = false;
    let mut nameless = 0usize;
    loop {
        let event = r.read_event().map_err(|e| xml::xml_error(format, input, &located, &r, e))?;
        match event {
            Event::Start(e) => {
                if depth == 0 {
                    check_root(format, &e)?;
                }
                depth += 1;
                if let Some(c) = case.as_mut() {
                    case_depth += 1;
                    mark(c, &e);
                } else {
                    match e.local_name().as_ref() {
                        b"testsuites" | b"testsuite" => open_suite(format, &e, &mut suites, &mut doc, depth)?,
                        b"testcase" => {
                            case = start_case(format, &e, &suites, &mut doc.warnings)?;
                            if case.is_none() {
                                nameless += 1;
                                // Still walk its children so its end is found.
                                case = Some(nameless_case());
                            }
                            case_depth = 0;
                        }
                        _ => {}
                    }
                }
            }
            Event::Empty(e) => {
                if depth == 0 {
                    check_root(format, &e)?;
                }
                if let Some(c) = case.as_mut() {
                    mark(c, &e);
                } else {
                    match e.local_name().as_ref() {
                        b"testsuites" | b"testsuite" => {
                            open_suite(format, &e, &mut suites, &mut doc, depth + 1)?;
                            close_suite(&mut suites, &mut leaf, &mut any_leaf);
                        }
                        b"testcase" => match start_case(format, &e, &suites, &mut doc.warnings)? {
                            Some(c) => doc.cases.push(c),
                            None => nameless += 1,
                        },
                        _ => {}
                    }
                }
                if depth == 0 {
                    break;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if case.is_some() {
                    if case_depth == 0 {
                        // The testcase's own end tag (names are checked by quick-xml).
                        if let Some(c) = case.take().filter(|c| !c.name.is_empty()) {
                            doc.cases.push(c);
                        }
                    } else {
                        case_depth -= 1;
                    }
                } else if matches!(e.local_name().as_ref(), b"testsuites" | b"testsuite") {
                    close_suite(&mut suites, &mut leaf, &mut any_leaf);
                }
                if depth == 0 {
                    break;
                }
            }
            Event::Eof => {
                return Err(xml::error(
                    format,
                    if depth == 0 {
                        "the document has no root element".to_string()
                    } else {
                        "the document ends before its root element closes (truncated?)".to_string()
                    },
                ));
            }
            _ => {}
        }
    }
    if nameless > 0 {
        doc.warnings.push(format!("skipped {nameless} testcase(s) without a name"));
    }
    let trailing = xml::trailing_noise(located.doc, &r);
    if trailing > 0 {
        doc.warnings.push(format!("ignored {trailing} byte(s) of text after the XML document"));
    }
    if any_leaf {
        doc.leaf_totals = Some(leaf);
    }
    Ok(doc)
}

fn check_root(format: Format, e: &BytesStart) -> Result<(), ParseError> {
    match e.local_name().as_ref() {
        b"testsuites" | b"testsuite" => Ok(()),
        _ => Err(xml::error(
            format,
            format!("the root element is <{}>, not <testsuites> or <testsuite>", xml::local_name(e)),
        )),
    }
}

fn open_suite(format: Format, e: &BytesStart, suites: &mut Vec<Suite>, doc: &mut Doc, depth: usize) -> Result<(), ParseError> {
    if let Some(parent) = suites.last_mut() {
        parent.has_child_suite = true;
    }
    let totals = totals(format, e, &mut doc.warnings)?;
    let name = xml::attr(format, e, b"name")?.map(|n| n.into_owned());
    if depth == 1 {
        doc.root_totals = totals;
        if e.local_name().as_ref() == b"testsuites" {
            doc.root_name.clone_from(&name);
        }
    }
    suites.push(Suite {
        name,
        totals,
        has_child_suite: false,
    });
    Ok(())
}

/// Add a closing suite's totals when it is innermost; `testsuites` is a
/// container and never a leaf unless it holds no suites at all.
fn close_suite(suites: &mut Vec<Suite>, leaf: &mut Counts, any_leaf: &mut bool) {
    if let Some(s) = suites.pop() {
        if !s.has_child_suite {
            if let Some(t) = s.totals {
                leaf.passed += t.passed;
                leaf.failed += t.failed;
                leaf.skipped += t.skipped;
                *any_leaf = true;
            }
        }
    }
}

/// A suite's `tests`, `failures`, `errors` and `skipped` as counts (passed
/// is what remains); `None` without `tests`.
fn totals(format: Format, e: &BytesStart, warnings: &mut Vec<String>) -> Result<Option<Counts>, ParseError> {
    let Some(tests) = xml::count_attr(format, e, b"tests", warnings)? else {
        return Ok(None);
    };
    let failures = xml::count_attr(format, e, b"failures", warnings)?.unwrap_or(0);
    let errors = xml::count_attr(format, e, b"errors", warnings)?.unwrap_or(0);
    // Some writers say `disabled` for tests they did not run.
    let skipped = xml::count_attr(format, e, b"skipped", warnings)?
        .or(xml::count_attr(format, e, b"disabled", warnings)?)
        .unwrap_or(0);
    let failed = failures.saturating_add(errors);
    Ok(Some(Counts {
        passed: tests.saturating_sub(failed).saturating_sub(skipped),
        failed,
        skipped,
    }))
}

/// A testcase from its start tag; `None` (counted by the caller) when it
/// has no name to record it under.
fn start_case(format: Format, e: &BytesStart, suites: &[Suite], warnings: &mut Vec<String>) -> Result<Option<Case>, ParseError> {
    let [name, classname, time] = xml::attrs(format, e, [b"name", b"classname", b"time"])?;
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let duration_ms = match time {
        None => None,
        Some(t) => {
            // Some writers use a decimal comma or group thousands; only a
            // plain number of seconds is trusted.
            let ms = t.trim().parse::<f64>().ok().and_then(super::seconds_to_ms);
            if ms.is_none() {
                warnings.push(format!(
                    "testcase {name} has time=\"{}\", not a number of seconds; ignored",
                    super::excerpt(&t, 40)
                ));
            }
            ms
        }
    };
    Ok(Some(Case {
        suite: suites.last().and_then(|s| s.name.clone()),
        classname: classname.map(Cow::into_owned),
        name: name.into_owned(),
        duration_ms,
        outcome: TestOutcome::Passed,
        failed_attempts: 0,
    }))
}

/// Stands in for a nameless testcase while its children are walked; its
/// empty name keeps it out of the results.
fn nameless_case() -> Case {
    Case {
        suite: None,
        classname: None,
        name: String::new(),
        duration_ms: None,
        outcome: TestOutcome::Passed,
        failed_attempts: 0,
    }
}

/// Apply a testcase child element to its outcome. Failure outranks skipped,
/// whatever order they come in.
fn mark(c: &mut Case, e: &BytesStart) {
    match e.local_name().as_ref() {
        b"failure" | b"error" => c.outcome = TestOutcome::Failed,
        b"skipped" if c.outcome != TestOutcome::Failed => c.outcome = TestOutcome::Skipped,
        b"flakyFailure" | b"flakyError" | b"rerunFailure" | b"rerunError" => c.failed_attempts = c.failed_attempts.saturating_add(1),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::parse;
    use proptest::prelude::*;

    fn res(name: &str, outcome: TestOutcome, ms: Option<u64>) -> TestResult {
        let (container, name) = name.rsplit_once('.').unwrap_or(("", name));
        TestResult {
            container: container.into(),
            name: name.into(),
            outcome,
            duration_ms: ms,
        }
    }

    #[test]
    fn outcomes_names_and_totals() {
        let input = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="outer" tests="9">
    <testsuite name="a" tests="4" failures="1" errors="1" skipped="1">
      <testcase classname="pkg.A" name="ok" time="0.5"/>
      <testcase classname="pkg.A" name="bad"><failure message="x">boom &amp; more</failure></testcase>
      <testcase classname="pkg.A" name="err"><error/><system-out>&lt;skipped/&gt;</system-out></testcase>
      <testcase classname="pkg.A" name="skip"><skipped/></testcase>
    </testsuite>
    <testsuite name="b" tests="1">
      <testcase name="bare" classname=""><system-err><![CDATA[<failure/>]]></system-err></testcase>
    </testsuite>
  </testsuite>
</testsuites>"#;
        let p = parse::parse(Format::Junit, input).expect("parses");
        assert_eq!(
            p.results,
            vec![
                res("pkg.A.ok", TestOutcome::Passed, Some(500)),
                res("pkg.A.bad", TestOutcome::Failed, None),
                res("pkg.A.err", TestOutcome::Failed, None),
                res("pkg.A.skip", TestOutcome::Skipped, None),
                res("bare", TestOutcome::Passed, None),
            ]
        );
        assert_eq!(
            p.reported,
            Some(Counts {
                passed: 2,
                failed: 2,
                skipped: 1
            })
        );
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn failure_wins_over_skipped_in_any_order() {
        let input = "<testsuite name=\"s\"><testcase name=\"t\"><skipped/><failure/></testcase></testsuite>";
        let p = parse::parse(Format::Junit, input).expect("parses");
        assert_eq!(p.results, vec![res("t", TestOutcome::Failed, None)]);
        assert_eq!(p.reported, None);
    }

    #[test]
    fn root_totals_are_used_without_leaf_totals() {
        let input = "<testsuites tests=\"1\" failures=\"0\"><testsuite name=\"s\"><testcase name=\"t\"/></testsuite></testsuites>";
        let p = parse::parse(Format::Junit, input).expect("parses");
        assert_eq!(
            p.reported,
            Some(Counts {
                passed: 1,
                failed: 0,
                skipped: 0
            })
        );
    }

    #[test]
    fn noise_around_the_document_is_warned_about() {
        let input = "[INFO] Running tests\n<testsuite name=\"s\" tests=\"1\"><testcase name=\"t\" time=\"abc\"/><testcase/></testsuite>\n[INFO] done\n";
        let p = parse::parse(Format::Junit, input).expect("parses");
        assert_eq!(p.results, vec![res("t", TestOutcome::Passed, None)]);
        assert_eq!(
            p.warnings,
            vec![
                "skipped 1 line(s) of output before the XML document".to_string(),
                "testcase t has time=\"abc\", not a number of seconds; ignored".to_string(),
                "skipped 1 testcase(s) without a name".to_string(),
                "ignored 10 byte(s) of text after the XML document".to_string(),
            ]
        );
    }

    #[test]
    fn malformed_documents_are_errors() {
        let cases = [
            ("<testsuite name=\"s\"><testcase name=\"t\"></testsuite>", "XML does not parse (line 1)"),
            (
                "<testsuite name=\"s\">\n<testcase name=\"t\"/>\n",
                "the document ends before its root element closes (truncated?)",
            ),
            ("no xml here", "no XML document found"),
            (
                "<testsuite name=\"s\" tests=\"1\"><testcase name=\"a&bogus;\"/></testsuite>",
                "bad value of attribute name",
            ),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            let e = parse::parse(Format::Junit, input).err().unwrap_or_else(|| panic!("case {i}: parsed"));
            assert!(e.message.contains(want), "case {i}: {e}");
            assert_eq!(e.format, Format::Junit, "case {i}");
        }
    }

    #[test]
    fn fixture_gives_exact_results() {
        let input = include_str!("../../../tests/fixtures/gate/junit.xml");
        let p = parse::parse(Format::Junit, input).expect("fixture parses");
        let got: Vec<(String, TestOutcome, Option<u64>)> = p.results.iter().map(|r| (r.qualified(), r.outcome, r.duration_ms)).collect();
        assert_eq!(
            got,
            vec![
                ("tests.test_calc.TestAdd test_small".to_string(), TestOutcome::Passed, Some(0)),
                ("tests.test_calc.TestAdd test_negative".to_string(), TestOutcome::Passed, Some(0)),
                ("tests.test_calc.TestAdd test_overflow".to_string(), TestOutcome::Failed, Some(0)),
                ("tests.test_calc test_double".to_string(), TestOutcome::Passed, Some(0)),
                ("tests.test_calc test_needs_network".to_string(), TestOutcome::Skipped, Some(0)),
                ("tests.test_calc test_fixture_error".to_string(), TestOutcome::Failed, Some(0)),
                ("tests.test_io test_read".to_string(), TestOutcome::Passed, Some(12)),
                ("tests.test_io test_write".to_string(), TestOutcome::Passed, Some(9)),
            ]
        );
        assert_eq!(
            p.reported,
            Some(Counts {
                passed: 5,
                failed: 2,
                skipped: 1
            })
        );
        assert_eq!(p.warnings, vec!["skipped 29 line(s) of output before the XML document".to_string()]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse::parse(Format::Junit, &s);
        }

        #[test]
        fn never_panics_on_xmlish(s in "(<testsuites?( name=\"[a-z:]*\")?( tests=\"[0-9x]{0,3}\")?/?>|<testcase( name=\"[a-z&;]*\")?( time=\"[0-9.e-]*\")?/?>|</testcase>|</testsuites?>|<failure/>|<skipped>|</skipped>|[a-z <>&]{0,5}|\n){0,16}") {
            let _ = parse::parse(Format::Junit, &s);
        }
    }
}
