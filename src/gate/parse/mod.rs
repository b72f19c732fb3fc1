//! Parsers that turn a test tool's output into [`Parsed`] results: libtest
//! text, nextest's JUnit, `go test -json`, dotnet TRX and generic JUnit, plus
//! [`detect`] to tell them apart. Parsers never panic: noise is skipped and
//! noted in `warnings`; only input that is not the claimed format at all is a
//! [`ParseError`].

pub mod go_json;
pub mod junit;
pub mod libtest;
pub mod nextest_junit;
pub mod trx;
mod xml;

use std::borrow::Cow;
use std::collections::HashMap;

use super::results::{Counts, Format, ParseError, Parsed, TestOutcome, TestResult};

/// Parse `input` as `format`. A byte-order mark is ignored, and when the
/// tool reported totals that disagree with the results found, a warning
/// says so.
pub fn parse(format: Format, input: &str) -> Result<Parsed, ParseError> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut parsed = match format {
        Format::Libtest => libtest::parse(input),
        Format::NextestJunit => nextest_junit::parse(input),
        Format::GoJson => go_json::parse(input),
        Format::Trx => trx::parse(input),
        Format::Junit => junit::parse(input),
    }?;
    if let Some(reported) = parsed.reported {
        let found = parsed.counts();
        if found != reported {
            parsed.warnings.push(format!(
                "the tool reported {} but {} results were found",
                counts_text(reported),
                counts_text(found)
            ));
        }
    }
    Ok(parsed)
}

fn counts_text(c: Counts) -> String {
    format!("{} passed, {} failed, {} skipped", c.passed, c.failed, c.skipped)
}

/// Test output as text. Tools write UTF-8, but a test may print any bytes
/// (invalid sequences become U+FFFD rather than an error), and a TRX file
/// saved by Windows tooling can be UTF-16 with a byte-order mark.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| -> Cow<'_, str> {
        let units = rest.chunks_exact(2).map(|c| from([c[0], c[1]]));
        Cow::Owned(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect())
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8_lossy(bytes),
    }
}

/// Guess the format of `input` from its first recognisable line: a JSON
/// object with an `Action` (go-json), an XML root `TestRun` (TRX) or
/// `testsuites`/`testsuite` (JUnit, nextest's when its shape says so), or a
/// libtest line (`running N tests`, `test … ... ok`, `test result:`).
/// Whichever comes first wins, so noise before the real output does not
/// matter, and an XML snippet printed by a test inside libtest output does
/// not outrank the libtest lines before it.
pub fn detect(input: &str) -> Option<Format> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut offset = 0;
    for line in input.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        // A byte-order mark can start a line where a file was `cat` into a log.
        let body = line.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        let trimmed = body.trim_end();
        if trimmed.starts_with('{') && go_json::is_event(trimmed) {
            return Some(Format::GoJson);
        }
        if trimmed.starts_with('<') {
            let from = start + (line.len() - body.len());
            if let Some(f) = xml::sniff(input.get(from..).unwrap_or("")) {
                return Some(f);
            }
        }
        if libtest::is_marker(line.trim_end_matches(['\n', '\r'])) {
            return Some(Format::Libtest);
        }
    }
    None
}

/// One result per distinct name, in order of first appearance. The same
/// name can appear more than once (a test path in two cargo test binaries,
/// a Go test in two packages, `-count=2`); the merged outcome is failed if
/// any of them failed, else passed if any passed, else skipped, so a name
/// never looks green while one of its runs is red. Durations add up.
pub fn merge_by_name(results: &[TestResult]) -> Vec<TestResult> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(results.len());
    let mut merged: Vec<TestResult> = Vec::with_capacity(results.len());
    for r in results {
        match index.get(r.name.as_str()) {
            Some(&i) => {
                let m = &mut merged[i];
                m.outcome = merge_outcome(m.outcome, r.outcome);
                m.duration_ms = match (m.duration_ms, r.duration_ms) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    (a, b) => a.or(b),
                };
            }
            None => {
                index.insert(&r.name, merged.len());
                merged.push(r.clone());
            }
        }
    }
    merged
}

/// Failed beats passed beats skipped.
fn merge_outcome(a: TestOutcome, b: TestOutcome) -> TestOutcome {
    let rank = |o| match o {
        TestOutcome::Failed => 2,
        TestOutcome::Passed => 1,
        TestOutcome::Skipped => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// `s` cut to at most `max` characters (on a character boundary), for
/// quoting noise in a warning.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Seconds (as JUnit, nextest and Go write them) to whole milliseconds;
/// `None` for anything negative, not finite, or not a number.
pub(crate) fn seconds_to_ms(secs: f64) -> Option<u64> {
    if secs.is_finite() && secs >= 0.0 {
        // `as` saturates, so an absurd value cannot wrap.
        Some((secs * 1000.0).round() as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, outcome: TestOutcome, ms: Option<u64>) -> TestResult {
        TestResult {
            name: name.into(),
            outcome,
            duration_ms: ms,
        }
    }

    #[test]
    fn merge_keeps_first_order_and_failure_wins() {
        let results = vec![
            r("tests::shared", TestOutcome::Passed, Some(1)),
            r("a", TestOutcome::Skipped, None),
            r("tests::shared", TestOutcome::Failed, Some(2)),
            r("a", TestOutcome::Passed, Some(5)),
            r("b", TestOutcome::Failed, None),
            r("b", TestOutcome::Passed, None),
        ];
        assert_eq!(
            merge_by_name(&results),
            vec![
                r("tests::shared", TestOutcome::Failed, Some(3)),
                r("a", TestOutcome::Passed, Some(5)),
                r("b", TestOutcome::Failed, None)
            ]
        );
    }

    #[test]
    fn reported_totals_that_disagree_are_a_warning() {
        let input = "running 2 tests\ntest a ... ok\ntest result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        let p = parse(Format::Libtest, input).expect("parses");
        assert_eq!(
            p.warnings,
            vec!["the tool reported 2 passed, 0 failed, 0 skipped but 1 passed, 0 failed, 0 skipped results were found".to_string()]
        );
    }

    #[test]
    fn detect_each_format() {
        assert_eq!(detect("   Compiling x\n\nrunning 1 test\ntest a ... ok\n"), Some(Format::Libtest));
        assert_eq!(
            detect("# pkg\n{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestA\"}\n"),
            Some(Format::GoJson)
        );
        assert_eq!(
            detect("\u{feff}<?xml version=\"1.0\"?>\n<TestRun id=\"1\"><Results/></TestRun>"),
            Some(Format::Trx)
        );
        assert_eq!(detect("<testsuite name=\"s\" tests=\"0\"></testsuite>"), Some(Format::Junit));
        assert_eq!(
            detect("log line\n<testsuites name=\"nextest-run\" tests=\"0\"></testsuites>"),
            Some(Format::NextestJunit)
        );
        assert_eq!(detect("log line\n\u{feff}<?xml version=\"1.0\"?><TestRun/>"), Some(Format::Trx));
        assert_eq!(detect("just some text\n"), None);
        assert_eq!(detect(""), None);
    }

    #[test]
    fn detect_prefers_the_earliest_marker() {
        // A test printing XML inside libtest output is still libtest.
        assert_eq!(
            detect("running 1 test\n<testsuite name=\"x\"></testsuite>\ntest a ... ok\n"),
            Some(Format::Libtest)
        );
        // A stray `<` line that is not a known root is skipped.
        assert_eq!(detect("<html>\nrunning 0 tests\n"), Some(Format::Libtest));
    }

    #[test]
    fn decode_handles_utf8_noise_and_utf16() {
        assert_eq!(decode(b"test a ... ok\xff\n"), "test a ... ok\u{fffd}\n");
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<TestRun/>é".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&le), "<TestRun/>é");
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("<a/>".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(decode(&be), "<a/>");
        // An odd trailing byte is dropped, not a panic.
        assert_eq!(decode(&[0xFF, 0xFE, b'a', 0, b'b']), "a");
    }

    #[test]
    fn excerpt_cuts_on_char_boundaries() {
        assert_eq!(excerpt("ééééé", 3), "ééé…");
        assert_eq!(excerpt("  ab  ", 3), "ab");
    }

    #[test]
    fn seconds_to_ms_rounds_and_rejects_nonsense() {
        assert_eq!(seconds_to_ms(0.0125), Some(13));
        assert_eq!(seconds_to_ms(0.12), Some(120));
        assert_eq!(seconds_to_ms(-1.0), None);
        assert_eq!(seconds_to_ms(f64::NAN), None);
        assert_eq!(seconds_to_ms(1e300), Some(u64::MAX));
    }
}
