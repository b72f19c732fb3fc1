//! dotnet's TRX (Visual Studio test results, `dotnet test --logger trx`).
//! Each `UnitTestResult` (or another `…TestResult` element) directly under
//! `Results` is one result: `testName` as the name, `outcome` mapped below,
//! `duration` (a .NET TimeSpan, `[d.]hh:mm:ss[.fffffff]`) as milliseconds.
//! Data-driven tests nest one result per data row under `InnerResults`; the
//! outer result already aggregates them, so only it is kept. The tool's
//! totals are `ResultSummary/Counters`, mapped the same way as outcomes;
//! VSTest leaves `notExecuted` at 0 for skipped tests, so `total − executed`
//! counts as skipped when it is larger.
//!
//! Identity: a result's `testId` leads to its `TestDefinitions` entry,
//! whose `TestMethod` gives the class (`className`, the container) — the
//! same method in two classes is two tests. The name is `testName` without
//! the class prefix xUnit writes (`Add_Theory(a: 1, b: 2, expected: 3)`
//! keeps its data row; MSTest writes the bare method name).

use quick_xml::events::{BytesStart, Event};

use crate::gate::results::{Counts, Format, ParseError, Parsed, TestOutcome, TestResult};

use super::xml;

const F: Format = Format::Trx;

/// vstest's outcome names. Only a clear pass counts as passed; outcomes
/// that did not run the test are skipped; everything that went wrong, or
/// never finished, is failed.
fn outcome(name: &str) -> Option<TestOutcome> {
    Some(match name {
        "Passed" | "PassedButRunAborted" | "Completed" | "Warning" => TestOutcome::Passed,
        "Failed" | "Error" | "Timeout" | "Aborted" | "Disconnected" | "InProgress" => TestOutcome::Failed,
        "NotExecuted" | "NotRunnable" | "Inconclusive" | "Pending" => TestOutcome::Skipped,
        _ => return None,
    })
}

/// Where an element sits, as far as this parser cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Results,
    /// A result element; its children (output, inner results) are skipped.
    Result,
    ResultSummary,
    Definitions,
    /// One test definition (`UnitTest`), whose `TestMethod` names its class.
    Definition,
    Other,
}

pub fn parse(input: &str) -> Result<Parsed, ParseError> {
    let mut warnings = Vec::new();
    let located = xml::locate(F, input, &["TestRun"], &mut warnings)?;
    let mut r = xml::reader(located.doc);
    let mut stack: Vec<Place> = Vec::new();
    let mut results: Vec<(Option<String>, TestResult)> = Vec::new();
    let mut reported = None;
    let mut unnamed = 0usize;
    // testId → class of the test's method.
    let mut classes: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut definition: Option<String> = None;
    loop {
        let event = r.read_event().map_err(|e| xml::xml_error(F, input, &located, &r, e))?;
        let (e, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                stack.pop();
                if stack.is_empty() {
                    break;
                }
                continue;
            }
            Event::Eof => {
                return Err(xml::error(
                    F,
                    if stack.is_empty() {
                        "the document has no root element"
                    } else {
                        "the document ends before </TestRun> (truncated?)"
                    },
                ));
            }
            _ => continue,
        };
        let parent = stack.last().copied();
        let place = match parent {
            None => {
                if e.local_name().as_ref() != b"TestRun" {
                    return Err(xml::error(F, format!("the root element is <{}>, not <TestRun>", xml::local_name(&e))));
                }
                Place::Other
            }
            Some(Place::Result) => Place::Result,
            Some(p) => match (p, e.local_name().as_ref()) {
                (_, b"Results") if stack.len() == 1 => Place::Results,
                (Place::Results, name) if is_result_element(name) => {
                    match result(&e, &mut warnings)? {
                        Some(res) => results.push(res),
                        None => unnamed += 1,
                    }
                    Place::Result
                }
                (_, b"ResultSummary") if stack.len() == 1 => Place::ResultSummary,
                (Place::ResultSummary, b"Counters") => {
                    reported = Some(counters(&e, &mut warnings)?);
                    Place::Other
                }
                (_, b"TestDefinitions") if stack.len() == 1 => Place::Definitions,
                (Place::Definitions, _) => {
                    definition = xml::attr(F, &e, b"id")?.map(|i| i.into_owned());
                    Place::Definition
                }
                (Place::Definition, b"TestMethod") => {
                    if let (Some(id), Some(class)) = (definition.clone(), xml::attr(F, &e, b"className")?) {
                        classes.insert(id, class.into_owned());
                    }
                    Place::Other
                }
                _ => Place::Other,
            },
        };
        if empty {
            if stack.is_empty() {
                break;
            }
        } else {
            stack.push(place);
        }
    }
    if unnamed > 0 {
        warnings.push(format!("skipped {unnamed} result(s) without a testName"));
    }
    let trailing = xml::trailing_noise(located.doc, &r);
    if trailing > 0 {
        warnings.push(format!("ignored {trailing} byte(s) of text after the XML document"));
    }
    let results = results
        .into_iter()
        .map(|(id, mut r)| {
            if let Some(class) = id.and_then(|id| classes.get(&id)) {
                if let Some(method) = r.name.strip_prefix(class.as_str()).and_then(|m| m.strip_prefix('.')).filter(|m| !m.is_empty()) {
                    r.name = method.to_string();
                }
                r.container = class.clone();
            }
            r
        })
        .collect();
    Ok(Parsed { results, anonymous: Counts::default(), reported, warnings })
}

/// `UnitTestResult`, and the schema's other result kinds (`WebTestResult`,
/// `ManualTestResult`, `GenericTestResult`, `TestResultAggregation`).
fn is_result_element(name: &[u8]) -> bool {
    name.ends_with(b"TestResult") || name == b"TestResultAggregation"
}

/// A result element as (its `testId`, the result with `testName` as name).
fn result(e: &BytesStart, warnings: &mut Vec<String>) -> Result<Option<(Option<String>, TestResult)>, ParseError> {
    let [name, outcome_attr, duration, test_id] = xml::attrs(F, e, [b"testName", b"outcome", b"duration", b"testId"])?;
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let outcome = match outcome_attr {
        Some(o) => outcome(&o).unwrap_or_else(|| {
            // An outcome this parser does not know cannot count as a pass.
            warnings.push(format!("{name}: unknown outcome \"{}\", counted as failed", super::excerpt(&o, 40)));
            TestOutcome::Failed
        }),
        None => {
            warnings.push(format!("{name}: no outcome, counted as failed"));
            TestOutcome::Failed
        }
    };
    let duration_ms = match duration {
        None => None,
        Some(d) => {
            let ms = timespan_ms(&d);
            if ms.is_none() {
                warnings.push(format!("{name}: duration \"{}\" is not a TimeSpan; ignored", super::excerpt(&d, 40)));
            }
            ms
        }
    };
    Ok(Some((test_id.map(|i| i.into_owned()), TestResult { container: String::new(), name: name.into_owned(), outcome, duration_ms })))
}

/// `<Counters total="…" passed="…" failed="…" …/>` as counts, each
/// counter added where its outcome maps.
fn counters(e: &BytesStart, warnings: &mut Vec<String>) -> Result<Counts, ParseError> {
    let mut c = Counts::default();
    for (attr, outcome_name) in [
        (&b"passed"[..], "Passed"),
        (b"passedButRunAborted", "PassedButRunAborted"),
        (b"completed", "Completed"),
        (b"warning", "Warning"),
        (b"failed", "Failed"),
        (b"error", "Error"),
        (b"timeout", "Timeout"),
        (b"aborted", "Aborted"),
        (b"disconnected", "Disconnected"),
        (b"inProgress", "InProgress"),
        (b"notExecuted", "NotExecuted"),
        (b"notRunnable", "NotRunnable"),
        (b"inconclusive", "Inconclusive"),
        (b"pending", "Pending"),
    ] {
        let n = xml::count_attr(F, e, attr, warnings)?.unwrap_or(0);
        match outcome(outcome_name) {
            Some(TestOutcome::Passed) => c.passed += n,
            Some(o) if o.is_failure() => c.failed += n,
            Some(_) => c.skipped += n,
            None => {}
        }
    }
    let total = xml::count_attr(F, e, b"total", warnings)?;
    let executed = xml::count_attr(F, e, b"executed", warnings)?;
    if let (Some(total), Some(executed)) = (total, executed) {
        c.skipped = c.skipped.max(total.saturating_sub(executed));
    }
    Ok(c)
}

/// A .NET TimeSpan in its constant format, `[-][d.]hh:mm:ss[.fffffff]`,
/// as whole milliseconds; `None` for anything else or negative.
fn timespan_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let mut parts = s.split(':');
    let (first, minutes, seconds) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (days, hours) = match first.split_once('.') {
        Some((d, h)) => (digits(d)?, digits(h)?),
        None => (0, digits(first)?),
    };
    let minutes = digits(minutes)?;
    let (whole, frac) = match seconds.split_once('.') {
        Some((w, f)) => (digits(w)?, f),
        None => (digits(seconds)?, ""),
    };
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Milliseconds from the fraction, rounded on its fourth digit.
    let mut frac_ms = 0u64;
    for (i, b) in frac.bytes().take(3).enumerate() {
        frac_ms += u64::from(b - b'0') * [100, 10, 1][i];
    }
    if frac.as_bytes().get(3).is_some_and(|&b| b >= b'5') {
        frac_ms += 1;
    }
    let secs = days
        .checked_mul(86_400)?
        .checked_add(hours.checked_mul(3_600)?)?
        .checked_add(minutes.checked_mul(60)?)?
        .checked_add(whole)?;
    secs.checked_mul(1000)?.checked_add(frac_ms)
}

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::parse;
    use proptest::prelude::*;
    use TestOutcome::{Failed, Passed, Skipped};

    #[test]
    fn fixture_gives_exact_results() {
        let input = include_str!("../../../tests/fixtures/gate/results.trx");
        assert_eq!(parse::detect(input), Some(Format::Trx));
        let p = parse::parse(Format::Trx, input).expect("fixture parses");
        let got: Vec<(String, TestOutcome, Option<u64>)> = p.results.iter().map(|r| (r.qualified(), r.outcome, r.duration_ms)).collect();
        assert_eq!(
            got,
            vec![
                ("Porttrack.Sample.Tests.CalculatorTests Add_SmallNumbers".to_string(), Passed, Some(2)),
                ("Porttrack.Sample.Tests.CalculatorTests Double_IsWrong".to_string(), Failed, Some(15)),
                ("Porttrack.Sample.Tests.CalculatorTests Add_Theory(a: 1, b: 2, expected: 3)".to_string(), Passed, Some(0)),
                ("Porttrack.Sample.Tests.CalculatorTests Add_Theory(a: 2, b: 2, expected: 5)".to_string(), Failed, Some(1)),
                ("Porttrack.Sample.Tests.NetworkTests Fetch_Remote".to_string(), Skipped, Some(0)),
                ("Porttrack.Sample.Tests.SlowTests Sleeps_Past_Timeout".to_string(), Failed, Some(2001)),
                ("Porttrack.Sample.Tests.DataDriven Rows".to_string(), Passed, Some(4)),
                ("Porttrack.Sample.Tests.IoTests Reads_File".to_string(), Passed, Some(125)),
            ]
        );
        assert_eq!(
            p.reported,
            Some(Counts {
                passed: 4,
                failed: 3,
                skipped: 1
            })
        );
        assert_eq!(p.warnings, vec!["skipped 3 line(s) of output before the XML document".to_string()]);
    }

    #[test]
    fn timespans() {
        let cases = [
            ("00:00:00.0012345", Some(1)),
            ("00:00:00.0015000", Some(2)),
            ("00:00:02.0010000", Some(2001)),
            ("00:01:00", Some(60_000)),
            ("1.02:03:04.5", Some(93_784_500)),
            ("00:00:00.9996", Some(1000)),
            ("-00:00:01", None),
            ("00:00", None),
            ("00:00:00:00", None),
            ("aa:00:00", None),
            ("00:00:00.x", None),
            ("99999999999999999999:00:00", None),
            ("", None),
        ];
        for (i, (s, want)) in cases.iter().enumerate() {
            assert_eq!(timespan_ms(s), *want, "case {i}: {s}");
        }
    }

    #[test]
    fn unknown_and_missing_outcomes_fail_with_warnings() {
        let input = r#"<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>
  <UnitTestResult testName="A" outcome="Exploded" duration="nonsense"/>
  <UnitTestResult testName="B"/>
  <UnitTestResult outcome="Passed"/>
</Results></TestRun>"#;
        let p = parse::parse(Format::Trx, input).expect("parses");
        assert_eq!(
            p.results,
            vec![
                TestResult {
                    container: String::new(),
                    name: "A".into(),
                    outcome: Failed,
                    duration_ms: None
                },
                TestResult {
                    container: String::new(),
                    name: "B".into(),
                    outcome: Failed,
                    duration_ms: None
                }
            ]
        );
        assert_eq!(
            p.warnings,
            vec![
                "A: unknown outcome \"Exploded\", counted as failed".to_string(),
                "A: duration \"nonsense\" is not a TimeSpan; ignored".to_string(),
                "B: no outcome, counted as failed".to_string(),
                "skipped 1 result(s) without a testName".to_string(),
            ]
        );
        assert_eq!(p.reported, None);
    }

    #[test]
    fn malformed_documents_are_errors() {
        let cases = [
            (
                "<TestRun><Results><UnitTestResult testName=\"a\" outcome=\"Passed\"></Results></TestRun>",
                "XML does not parse (line 1)",
            ),
            ("<TestRun><Results>", "the document ends before </TestRun> (truncated?)"),
            ("<testsuites/>", "no XML document found: no line starts with <?xml or <TestRun>"),
            ("<?xml version=\"1.0\"?>\n<testsuites/>", "the root element is <testsuites>, not <TestRun>"),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            let e = parse::parse(Format::Trx, input).err().unwrap_or_else(|| panic!("case {i}: parsed"));
            assert!(e.message.contains(want), "case {i}: {e}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse::parse(Format::Trx, &s);
        }

        #[test]
        fn never_panics_on_trxish(s in "(<TestRun>|</TestRun>|<Results>|</Results>|<UnitTestResult( testName=\"[a-z]{0,3}\")?( outcome=\"(Passed|Failed|x)\")?( duration=\"[0-9:.-]{0,12}\")?/?>|</UnitTestResult>|<InnerResults>|<ResultSummary><Counters passed=\"[0-9a]{0,2}\"/>|[a-z<>/]{0,4}|\n){0,14}") {
            let _ = parse::parse(Format::Trx, &s);
        }
    }
}
