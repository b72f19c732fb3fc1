//! Parsers that turn a test tool's output into [`Parsed`] results: libtest
//! text, nextest's JUnit, `go test -json`, dotnet TRX and generic JUnit, plus
//! [`detect`] to tell them apart. Parsers never panic: noise is skipped and
//! noted in `warnings`; only input that is not the claimed format at all is a
//! [`ParseError`]. The line formats parse as the output streams by
//! ([`OutputParser`]), so a gate never holds a command's whole output.

pub mod go_json;
pub mod junit;
pub mod libtest;
pub mod nextest_junit;
pub mod trx;
mod xml;

use std::borrow::Cow;
use std::collections::VecDeque;

use super::results::{Counts, Format, ParseError, Parsed};

/// How the output ended, which decides what a test that started and never
/// finished is: `timeout` when the run was killed at its timeout,
/// `incomplete` when the output just stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    Finished,
    TimedOut,
}

/// Parse `input` as `format` (the whole output or results file at once).
pub fn parse(format: Format, input: &str) -> Result<Parsed, ParseError> {
    parse_ended(format, input, StreamEnd::Finished)
}

/// [`parse`], saying how the output ended.
pub fn parse_ended(format: Format, input: &str, end: StreamEnd) -> Result<Parsed, ParseError> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let parsed = match format {
        Format::Libtest | Format::GoJson => {
            let mut p = LineParser::new(format, None);
            for line in input.lines() {
                p.line(&strip_ansi(line));
            }
            p.finish(end)
        }
        Format::NextestJunit => nextest_junit::parse(input),
        Format::Trx => trx::parse(input),
        Format::Junit => junit::parse(input),
    };
    parsed.map(cross_check)
}

/// When the tool reported totals that disagree with the results found, a
/// warning says so.
fn cross_check(mut parsed: Parsed) -> Parsed {
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
    parsed
}

fn counts_text(c: Counts) -> String {
    format!("{} passed, {} failed, {} skipped", c.passed, c.failed, c.skipped)
}

/// The line-oriented formats, fed one line at a time.
pub enum LineParser {
    Libtest(libtest::Parser),
    GoJson(go_json::Parser),
}

impl LineParser {
    /// A parser for a line format; `None` for the XML formats.
    fn new(format: Format, cargo: Option<std::sync::Arc<libtest::CargoTargets>>) -> LineParser {
        match format {
            Format::GoJson => LineParser::GoJson(go_json::Parser::default()),
            _ => LineParser::Libtest(libtest::Parser::new(cargo)),
        }
    }

    fn line(&mut self, line: &str) {
        match self {
            LineParser::Libtest(p) => p.line(line),
            LineParser::GoJson(p) => p.line(line),
        }
    }

    fn finish(self, end: StreamEnd) -> Result<Parsed, ParseError> {
        match self {
            LineParser::Libtest(p) => p.finish(end),
            LineParser::GoJson(p) => p.finish(end),
        }
    }
}

/// The most XML results printed in a command's output that a gate holds
/// for parsing; larger reports belong in a file (`--results`).
pub const MAX_XML_IN_OUTPUT: usize = 64 << 20;

/// Lines kept from before the format is recognised, so the first lines of
/// the real output (cargo's `Running …` header) reach the parser.
const PENDING_LINES: usize = 256;

/// Parses a command's output as it streams by, holding only what a parser
/// needs: never the whole output. With no fixed format it recognises one
/// on the first line that only that format prints (see [`detect`]).
pub struct OutputParser {
    cargo: Option<std::sync::Arc<libtest::CargoTargets>>,
    state: OutputState,
}

enum OutputState {
    Detecting(VecDeque<String>),
    Lines(Format, LineParser),
    /// An XML document found in the output, collected up to
    /// [`MAX_XML_IN_OUTPUT`] bytes; the format is settled at the end.
    Xml { fixed: Option<Format>, text: String, overflow: bool },
}

impl OutputParser {
    pub fn new(format: Option<Format>, cargo: Option<std::sync::Arc<libtest::CargoTargets>>) -> OutputParser {
        let state = match format {
            None => OutputState::Detecting(VecDeque::new()),
            Some(f @ (Format::Libtest | Format::GoJson)) => OutputState::Lines(f, LineParser::new(f, cargo.clone())),
            Some(f) => OutputState::Xml { fixed: Some(f), text: String::new(), overflow: false },
        };
        OutputParser { cargo, state }
    }

    /// One line of output (without its line end), as bytes: invalid UTF-8
    /// becomes U+FFFD and ANSI escapes are removed before parsing.
    pub fn line_bytes(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        self.line(&text);
    }

    pub fn line(&mut self, raw: &str) {
        let line = strip_ansi(raw);
        let line = line.trim_start_matches('\u{feff}');
        match &mut self.state {
            OutputState::Lines(_, p) => p.line(line),
            OutputState::Xml { text, overflow, .. } => {
                if text.len() + line.len() < MAX_XML_IN_OUTPUT {
                    text.push_str(line);
                    text.push('\n');
                } else {
                    *overflow = true;
                }
            }
            OutputState::Detecting(pending) => {
                let body = line.trim();
                if body.starts_with("<?xml") || (body.starts_with('<') && xml::sniff(body).is_some()) {
                    self.state = OutputState::Xml { fixed: None, text: format!("{line}\n"), overflow: false };
                    return;
                }
                let format = if body.starts_with('{') && go_json::is_event(body) {
                    Some(Format::GoJson)
                } else if libtest::is_marker(line) {
                    Some(Format::Libtest)
                } else {
                    None
                };
                match format {
                    Some(f) => {
                        let mut p = LineParser::new(f, self.cargo.clone());
                        for earlier in pending.drain(..) {
                            p.line(&earlier);
                        }
                        p.line(line);
                        self.state = OutputState::Lines(f, p);
                    }
                    None => {
                        // Reuse the oldest line's buffer: noise before the
                        // results (gigabytes of it, possibly) allocates nothing.
                        let mut slot = if pending.len() == PENDING_LINES { pending.pop_front().unwrap_or_default() } else { String::new() };
                        slot.clear();
                        let cut = line.char_indices().nth(4096).map_or(line.len(), |(i, _)| i);
                        slot.push_str(&line[..cut]);
                        pending.push_back(slot);
                    }
                }
            }
        }
    }

    /// The format found (None: nothing recognisable) and the results.
    pub fn finish(self, end: StreamEnd) -> (Option<Format>, Result<Parsed, ParseError>) {
        match self.state {
            OutputState::Detecting(_) => (None, Ok(Parsed::default())),
            OutputState::Lines(f, p) => (Some(f), p.finish(end).map(cross_check)),
            OutputState::Xml { fixed, text, overflow } => {
                let Some(format) = fixed.or_else(|| detect(&text)) else {
                    return (None, Ok(Parsed::default()));
                };
                if overflow {
                    let message = format!(
                        "the XML results in the output are larger than {} MB; write them to a file and pass --results FILE",
                        MAX_XML_IN_OUTPUT >> 20
                    );
                    return (Some(format), Err(ParseError { format, message }));
                }
                (Some(format), parse_ended(format, &text, end))
            }
        }
    }
}

/// `line` without ANSI escape sequences (colours, cursor movement, charset
/// switches), so `test x ... \x1b[32mok\x1b[0m` reads as `ok`.
pub fn strip_ansi(line: &str) -> Cow<'_, str> {
    if !line.contains('\x1b') {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates, then a final byte @..~.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' {
                        break;
                    }
                    if c == '\x1b' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // Charset selection (`ESC ( B`) and the like: one more char.
            Some('(' | ')' | '*' | '+' | '#' | '%') => {
                chars.next();
            }
            // Any other two-character escape.
            Some(_) | None => {}
        }
    }
    Cow::Owned(out)
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
        if libtest::is_marker(&strip_ansi(line.trim_end_matches(['\n', '\r']))) {
            return Some(Format::Libtest);
        }
    }
    None
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

    #[test]
    fn ansi_escapes_are_stripped() {
        let cases = [
            ("test a ... \x1b[32mok\x1b(B\x1b[m", "test a ... ok"),
            ("\x1b[1;31mFAILED\x1b[0m", "FAILED"),
            ("\x1b]0;title\x07text", "text"),
            ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
            ("plain", "plain"),
            ("cut \x1b[", "cut "),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            assert_eq!(strip_ansi(input), *want, "case {i}");
        }
    }

    /// The output parser sees lines one at a time: cargo's `Running`
    /// header before the first libtest line still names the binary, and
    /// nothing before the format is recognised is lost that matters.
    #[test]
    fn the_output_parser_detects_as_it_streams() {
        let mut p = OutputParser::new(None, None);
        for line in ["   Compiling x v0.1.0", "     Running tests/api.rs (target/debug/deps/api-0123abcd)", "", "running 1 test", "test a ... \x1b[32mok\x1b[0m", "test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s"] {
            p.line_bytes(line.as_bytes());
        }
        let (format, parsed) = p.finish(StreamEnd::Finished);
        assert_eq!(format, Some(Format::Libtest));
        let parsed = parsed.expect("parses");
        assert_eq!(parsed.results.iter().map(|r| (r.container.as_str(), r.name.as_str())).collect::<Vec<_>>(), [("api", "a")]);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);

        let mut p = OutputParser::new(None, None);
        for line in ["noise", "<?xml version=\"1.0\"?>", "<testsuites name=\"nextest-run\" tests=\"1\" failures=\"0\">", "<testsuite name=\"b\" tests=\"1\"><testcase name=\"t\" classname=\"b\"/></testsuite>", "</testsuites>"] {
            p.line(line);
        }
        let (format, parsed) = p.finish(StreamEnd::Finished);
        assert_eq!(format, Some(Format::NextestJunit));
        assert_eq!(parsed.expect("parses").results.len(), 1);

        let (format, parsed) = OutputParser::new(None, None).finish(StreamEnd::Finished);
        assert_eq!(format, None);
        assert_eq!(parsed.expect("empty").results.len(), 0);
    }

    #[test]
    fn xml_past_the_cap_is_an_error_naming_the_way_out() {
        let mut p = OutputParser::new(Some(Format::Junit), None);
        let line = "x".repeat(1 << 20);
        for _ in 0..(MAX_XML_IN_OUTPUT >> 20) + 1 {
            p.line(&line);
        }
        let (_, parsed) = p.finish(StreamEnd::Finished);
        assert!(parsed.expect_err("too large").message.contains("pass --results FILE"));
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
