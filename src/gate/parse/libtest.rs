//! libtest's stable text output, as `cargo test` prints it: for each test
//! binary a `running N tests` line, one `test NAME ... OUTCOME` line per test
//! (`ok`, `FAILED`, `ignored` or `ignored, reason`, a benchmark's
//! `bench: … ns/iter`, optionally followed by `--report-time`'s `<0.002s>`),
//! then a `failures:` report and a `test result:` summary. Compiler output,
//! cargo's headers and the tests' own output are interleaved with these
//! lines and skipped. The parser is fed one line at a time.
//!
//! **Identity.** Each result carries its test binary, named as nextest
//! names binaries: `alpha` (a library's unit tests), `alpha::api` (the
//! integration test `tests/api.rs`), `alpha::bin/tool`, `alpha::bench/b`,
//! `alpha::example/e`, and `alpha::doctest` for doc-tests. cargo's
//! `Running unittests src/lib.rs (target/debug/deps/alpha-1a2b…)` header
//! names the target and its source but not its package; with
//! [`CargoTargets`] (from `cargo metadata`) the package is exact, without
//! it the package is the one whose library or main binary ran last (cargo
//! runs a package's binaries together, library first), a library's name
//! stands for its package (`beta_pkg` for the package `beta-pkg`), and
//! before any library the target name stands alone (`api`).
//!
//! Names are the test's path within its binary as libtest prints it, minus
//! the mode libtest appends (` - should panic`, ` - compile`,
//! ` - compile fail`), so they match nextest's names for the same tests.
//! Doc-tests keep their `src/lib.rs - foo (line 3)` form. A benchmark that
//! ran counts as passed, and its binary's `measured` count is added to the
//! reported passes to match.
//!
//! **Terse output** (`cargo test -q`) prints a mark per test (`.`, `F`,
//! `i`) instead of its name. Failures are still named — on a
//! `NAME --- FAILED` line and in the `failures:` list — and become results;
//! the passes and skips the summary counts are kept as unnamed counts, so
//! the totals match the summary, with one warning that passing tests have
//! no names to map.
//!
//! With `--nocapture` and one test thread, libtest prints `test NAME ... `
//! before running the test, and the outcome after the test's own output:
//! on a line of its own, or glued to the end of the last output line when
//! that had no newline (`partial outputok`). Such a test stays open until
//! its outcome shows up. A `test …` line printed while it is open is the
//! test's own output, unless the line before it ends in an outcome (then
//! that was the outcome, and the new line is the next test). A test still
//! open when its binary ends without a summary crashed that binary and is
//! counted as failed; one still open when the output ends is `timeout`
//! after a gate timeout, else `incomplete`. So is a test libtest reported
//! as `has been running for over 60 seconds` that never finished.

use std::collections::HashMap;
use std::sync::Arc;

use crate::gate::parse::StreamEnd;
use crate::gate::results::{Counts, Format, ParseError, Parsed, TestOutcome, TestResult};

/// The test targets of a cargo workspace, from `cargo metadata`: what a
/// `Running SRC (…/deps/NAME-HASH)` header and a `Doc-tests LIB` header
/// stand for.
#[derive(Debug, Clone, Default)]
pub struct CargoTargets {
    /// (source path relative to its package, target name with `-` as `_`)
    /// → (package, binary id) of every target that fits: `tests/api.rs`
    /// can be a test of two packages.
    pub by_source: HashMap<(String, String), Vec<(String, String)>>,
    /// Library target name → package name.
    pub lib_package: HashMap<String, String>,
}

impl CargoTargets {
    /// Read `cargo metadata --format-version 1 --no-deps` output.
    pub fn from_metadata(json: &str) -> Option<CargoTargets> {
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let mut t = CargoTargets::default();
        for pkg in v.get("packages")?.as_array()? {
            let name = pkg.get("name")?.as_str()?;
            let manifest = std::path::Path::new(pkg.get("manifest_path")?.as_str()?);
            let dir = manifest.parent()?;
            for target in pkg.get("targets")?.as_array()? {
                let tname = target.get("name")?.as_str()?;
                let src = std::path::Path::new(target.get("src_path")?.as_str()?);
                let rel = src.strip_prefix(dir).unwrap_or(src).to_string_lossy().into_owned();
                let kinds: Vec<&str> = target.get("kind")?.as_array()?.iter().filter_map(|k| k.as_str()).collect();
                let id = match kinds.first().copied().unwrap_or("lib") {
                    "bin" => format!("{name}::bin/{tname}"),
                    "test" => format!("{name}::{tname}"),
                    "bench" => format!("{name}::bench/{tname}"),
                    "example" => format!("{name}::example/{tname}"),
                    _ => {
                        t.lib_package.insert(tname.replace('-', "_"), name.to_string());
                        name.to_string()
                    }
                };
                t.by_source.entry((rel, tname.replace('-', "_"))).or_default().push((name.to_string(), id));
            }
        }
        Some(t)
    }
}

/// A test whose start line was printed but whose outcome was not yet.
struct Open {
    name: String,
    line_no: usize,
    /// The last non-blank line printed since (at first, the start line's
    /// text after ` ... `).
    prev: String,
    /// The outcome the most recent output line ended with, if any.
    glued: Option<TestOutcome>,
}

/// Where the parser is inside a binary's `failures:`/`successes:` report,
/// which repeats test output and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    None,
    /// A `    NAME` list after `failures:` (or `successes:`).
    List { failures: bool },
    /// A test's captured output (`---- NAME stdout ----` and after).
    Output,
}

pub struct Parser {
    cargo: Option<Arc<CargoTargets>>,
    results: Vec<TestResult>,
    anonymous: Counts,
    reported: Option<Counts>,
    warnings: Vec<String>,
    open: Option<Open>,
    report: Report,
    saw_libtest: bool,
    warned_terse: bool,
    /// The last line was `running N tests`.
    after_running: bool,
    line_no: usize,
    /// The binary being run (its id) and the package of the last library
    /// or main binary, for ids without cargo metadata.
    binary: String,
    package: Option<String>,
    /// Index in `results` where the current binary's results start, and
    /// the range of the binary that ended last (for cargo's rerun hint).
    binary_start: usize,
    last_binary: std::ops::Range<usize>,
    binary_terse: bool,
    /// Tests libtest said have been running for a long time, by binary.
    long_running: Vec<(String, String)>,
}

impl Parser {
    pub fn new(cargo: Option<Arc<CargoTargets>>) -> Parser {
        Parser {
            cargo,
            results: Vec::new(),
            anonymous: Counts::default(),
            reported: None,
            warnings: Vec::new(),
            open: None,
            report: Report::None,
            saw_libtest: false,
            warned_terse: false,
            after_running: false,
            line_no: 0,
            binary: String::new(),
            package: None,
            binary_start: 0,
            last_binary: 0..0,
            binary_terse: false,
            long_running: Vec::new(),
        }
    }

    pub fn finish(mut self, end: StreamEnd) -> Result<Parsed, ParseError> {
        let unfinished = if end == StreamEnd::TimedOut { TestOutcome::Timeout } else { TestOutcome::Incomplete };
        if let Some(open) = self.open.take() {
            let why = if end == StreamEnd::TimedOut { "before the run timed out" } else { "before the output ended" };
            self.warnings.push(format!("test {} (line {}) printed no outcome {why}; recorded as {}", open.name, open.line_no, unfinished.as_str()));
            self.push(open.name, unfinished, None);
        }
        let long = std::mem::take(&mut self.long_running);
        let mut named = Vec::new();
        for (binary, name) in long {
            if !self.results.iter().any(|r| r.container == binary && r.name == name) {
                named.push(crate::gate::results::qualified(&binary, &name));
                self.results.push(TestResult { container: binary, name, outcome: unfinished, duration_ms: None });
            }
        }
        if !named.is_empty() {
            self.warnings.push(format!("{} test(s) were still running when the output ended, recorded as {}: {}", named.len(), unfinished.as_str(), named.join(", ")));
        }
        if !self.saw_libtest {
            return Err(ParseError {
                format: Format::Libtest,
                message: "no libtest output found: no `running N tests`, `test NAME ... ok` or `test result:` line".into(),
            });
        }
        Ok(Parsed { results: self.results, anonymous: self.anonymous, reported: self.reported, warnings: self.warnings })
    }

    pub fn line(&mut self, line: &str) {
        self.line_no += 1;
        let line_no = self.line_no;
        let trimmed = line.trim();
        if let Some(open) = self.open.as_mut() {
            if let Some((outcome, ms)) = outcome_of(trimmed) {
                let name = std::mem::take(&mut open.name);
                self.open = None;
                self.push(name, outcome, ms);
                return;
            }
            if line.starts_with("test result: ") {
                match open.glued {
                    Some(o) => self.finish_glued(o),
                    None => self.close_unfinished("before its binary's summary"),
                }
            } else if is_binary_start(line, trimmed) {
                self.close_unfinished("before the next test binary started");
            } else if split_test_line(line).is_some() && glued_outcome(&open.prev).is_some() {
                if let Some(o) = glued_outcome(&open.prev) {
                    self.finish_glued(o);
                }
            } else {
                // The open test's own output.
                if !trimmed.is_empty() {
                    open.prev = line.chars().take(4096).collect();
                    if let Some(o) = glued_outcome(line) {
                        open.glued = Some(o);
                    }
                }
                return;
            }
        }
        if let Some(rest) = line.strip_prefix("test result: ") {
            self.saw_libtest = true;
            self.report = Report::None;
            match parse_summary(rest) {
                Some(c) => self.end_binary(c),
                None => self.warnings.push(format!(
                    "line {line_no}: a `test result:` line without pass and fail counts: {}",
                    super::excerpt(line, 80)
                )),
            }
            return;
        }
        if let Some(args) = line.strip_prefix("error: test failed, to rerun pass `").and_then(|r| r.strip_suffix('`')) {
            let args = args.to_string();
            self.rerun_hint(&args);
            return;
        }
        if is_binary_start(line, trimmed) {
            if is_running(trimmed) {
                self.saw_libtest = true;
                self.after_running = true;
                self.binary_start = self.results.len();
                self.binary_terse = false;
            } else {
                self.after_running = false;
                self.enter_binary(line);
            }
            self.report = Report::None;
            return;
        }
        if line == "failures:" || line == "successes:" {
            self.report = Report::List { failures: line == "failures:" };
            return;
        }
        match self.report {
            Report::Output => return,
            Report::List { failures } => {
                if line.starts_with("---- ") && line.trim_end().ends_with(" ----") {
                    self.report = Report::Output;
                } else if let Some(name) = line.strip_prefix("    ").filter(|n| !n.is_empty() && !n.starts_with(' ')) {
                    // The list names every failure (or success) of the
                    // binary; with terse output it is the only place a
                    // name appears.
                    let outcome = if failures { TestOutcome::Failed } else { TestOutcome::Passed };
                    if self.binary_terse && !self.results[self.binary_start..].iter().any(|r| r.name == name) {
                        self.push(name.to_string(), outcome, None);
                    }
                }
                return;
            }
            Report::None => {}
        }
        if let Some(name) = long_running(trimmed) {
            let key = (self.binary.clone(), name.to_string());
            if !self.long_running.contains(&key) {
                self.long_running.push(key);
            }
            return;
        }
        // Terse marks come on the line right after `running N tests`.
        let after_running = std::mem::take(&mut self.after_running) && !trimmed.is_empty();
        if after_running && (is_terse_progress(trimmed) || terse_failure(line).is_some()) {
            self.binary_terse = true;
            if let Some(name) = terse_failure(line) {
                self.push(name.to_string(), TestOutcome::Failed, None);
            }
            if !self.warned_terse {
                self.warned_terse = true;
                self.warnings.push(format!(
                    "line {line_no}: libtest's terse format (cargo test -q) names only failing tests; passing tests are counted but have no names to map (run without -q for per-test evidence)"
                ));
            }
            return;
        }
        if self.binary_terse {
            if let Some(name) = terse_failure(line) {
                if !self.results[self.binary_start..].iter().any(|r| r.name == name) {
                    self.push(name.to_string(), TestOutcome::Failed, None);
                }
                return;
            }
            if is_terse_progress(trimmed) {
                return;
            }
        }
        if let Some((name, rest)) = split_test_line(line) {
            self.saw_libtest = true;
            match outcome_of(rest) {
                Some((outcome, ms)) => self.push(name.to_string(), outcome, ms),
                None => {
                    self.open = Some(Open { name: name.to_string(), line_no, prev: rest.to_string(), glued: glued_outcome(rest) })
                }
            }
        }
    }

    /// A cargo header (`Running …`, `Doc-tests …`): which binary runs next.
    fn enter_binary(&mut self, line: &str) {
        if let Some(lib) = line.strip_prefix("   Doc-tests ").map(str::trim) {
            let package = self.cargo.as_ref().and_then(|c| c.lib_package.get(lib).cloned()).unwrap_or_else(|| lib.to_string());
            self.binary = format!("{package}::doctest");
            return;
        }
        let Some(rest) = line.trim().strip_prefix("Running ") else { return };
        let (unit, rest) = match rest.strip_prefix("unittests ") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let Some((src, binary_path)) = rest.trim_end().strip_suffix(')').and_then(|r| r.rsplit_once(" (")) else { return };
        let file = binary_path.rsplit(['/', '\\']).next().unwrap_or(binary_path);
        let file = file.strip_suffix(".exe").unwrap_or(file);
        // `NAME-0123456789abcdef`: the target name, then cargo's hash.
        let target = match file.rsplit_once('-') {
            Some((name, hash)) if !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()) => name,
            _ => file,
        };
        let src_norm = src.replace('\\', "/");
        let candidates = self.cargo.as_ref().and_then(|c| c.by_source.get(&(src_norm.clone(), target.to_string())));
        // Two packages with the same target: the one whose library ran last.
        let exact = candidates.and_then(|c| match c.as_slice() {
            [(_, id)] => Some(id.clone()),
            many => many.iter().find(|(p, _)| Some(p) == self.package.as_ref()).map(|(_, id)| id.clone()),
        });
        if let Some(id) = exact {
            if !id.contains("::") || id.contains("::bin/") {
                self.package = id.split("::").next().map(str::to_string);
            }
            self.binary = id;
            return;
        }
        // Without a known package, the target alone.
        let package = self.package.as_ref().map_or(String::new(), |p| format!("{p}::"));
        self.binary = if unit && src_norm == "src/lib.rs" {
            self.package = Some(target.to_string());
            target.to_string()
        } else if unit && src_norm == "src/main.rs" {
            self.package = Some(target.to_string());
            format!("{target}::bin/{target}")
        } else if unit {
            format!("{package}bin/{target}")
        } else if src_norm.starts_with("benches/") {
            format!("{package}bench/{target}")
        } else if src_norm.starts_with("examples/") {
            format!("{package}example/{target}")
        } else {
            format!("{package}{target}")
        };
    }

    /// A binary's `test result:` summary: add it to the totals, and for
    /// terse output count what it names no result for.
    fn end_binary(&mut self, c: Counts) {
        let r = self.reported.get_or_insert_with(Counts::default);
        r.passed += c.passed;
        r.failed += c.failed;
        r.skipped += c.skipped;
        if self.binary_terse {
            let named = Counts::of(&self.results[self.binary_start.min(self.results.len())..]);
            self.anonymous.passed += c.passed.saturating_sub(named.passed);
            self.anonymous.skipped += c.skipped.saturating_sub(named.skipped);
            self.anonymous.failed += c.failed.saturating_sub(named.failed);
        }
        self.binary_terse = false;
        self.last_binary = self.binary_start.min(self.results.len())..self.results.len();
        self.binary_start = self.results.len();
    }

    /// `error: test failed, to rerun pass `-p alpha --test api``: cargo
    /// names the binary that just failed, which quiet output (`-q`, no
    /// `Running` headers) names nowhere else.
    fn rerun_hint(&mut self, args: &str) {
        let mut words = args.split_whitespace();
        let (mut package, mut target) = (None, None);
        while let Some(w) = words.next() {
            match w {
                "-p" | "--package" => package = words.next(),
                "--lib" => target = Some(String::new()),
                "--doc" => target = Some("doctest".to_string()),
                "--test" => target = words.next().map(str::to_string),
                "--bin" | "--bench" | "--example" => {
                    let kind = w.trim_start_matches("--");
                    target = words.next().map(|t| format!("{kind}/{t}"));
                }
                _ => {}
            }
        }
        let Some(target) = target else { return };
        let id = match (package.or(self.package.as_deref()), target.is_empty()) {
            (Some(p), true) => p.to_string(),
            (Some(p), false) => format!("{p}::{target}"),
            (None, true) => return,
            (None, false) => target,
        };
        for r in &mut self.results[self.last_binary.clone()] {
            if r.container.is_empty() {
                r.container = id.clone();
            }
        }
    }

    fn push(&mut self, name: String, outcome: TestOutcome, duration_ms: Option<u64>) {
        self.results.push(TestResult { container: self.binary.clone(), name, outcome, duration_ms });
    }

    /// The open test's outcome was glued to the end of its last output line.
    fn finish_glued(&mut self, outcome: TestOutcome) {
        if let Some(open) = self.open.take() {
            self.push(open.name, outcome, None);
        }
    }

    /// The open test never printed an outcome: its binary died under it
    /// (abort, signal, `process::exit`), which is a failure.
    fn close_unfinished(&mut self, when: &str) {
        if let Some(open) = self.open.take() {
            self.warnings.push(format!(
                "test {} (line {}) printed no outcome {when}; counted as failed (did its test binary crash?)",
                open.name, open.line_no
            ));
            self.push(open.name, TestOutcome::Failed, None);
        }
    }
}

/// Terse output's `NAME --- FAILED` → NAME.
fn terse_failure(line: &str) -> Option<&str> {
    line.strip_suffix(" --- FAILED").filter(|n| !n.is_empty() && !n.starts_with(' ') && !n.starts_with("test "))
}

/// `test NAME has been running for over 60 seconds` → NAME.
fn long_running(trimmed: &str) -> Option<&str> {
    trimmed.strip_prefix("test ")?.strip_suffix(" has been running for over 60 seconds").filter(|n| !n.is_empty())
}

/// Is this one of libtest's own lines, enough to say the input is libtest
/// output (for `detect`)?
pub(crate) fn is_marker(line: &str) -> bool {
    is_running(line.trim()) || line.starts_with("test result: ") || split_test_line(line).is_some_and(|(_, rest)| outcome_of(rest).is_some())
}

/// `running 3 tests` / `running 1 test`: a test binary starts.
fn is_running(trimmed: &str) -> bool {
    trimmed
        .strip_prefix("running ")
        .and_then(|r| r.strip_suffix(" tests").or_else(|| r.strip_suffix(" test")))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A line that starts a new test binary: `running N tests`, or cargo's
/// right-aligned `     Running … (target/…)` and `   Doc-tests crate`
/// headers (matched with their exact indent, so a test's own "Running"
/// output is not taken for one).
fn is_binary_start(line: &str, trimmed: &str) -> bool {
    is_running(trimmed) || (line.starts_with("     Running ") && line.trim_end().ends_with(')')) || line.starts_with("   Doc-tests ")
}

/// A line of terse progress: one character per test (`.` passed, `F`
/// failed, `i` ignored), with ` 88/100` after every 88 tests.
fn is_terse_progress(trimmed: &str) -> bool {
    let (marks, counter) = match trimmed.split_once(' ') {
        Some((m, c)) => (m, Some(c)),
        None => (trimmed, None),
    };
    let count = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    !marks.is_empty()
        && marks.bytes().all(|b| matches!(b, b'.' | b'F' | b'i'))
        && counter.is_none_or(|c| c.split_once('/').is_some_and(|(a, b)| count(a) && count(b)))
}

/// `test NAME ... REST` → (NAME without libtest's mode suffix, REST). A
/// start line whose trailing space was lost (`test NAME ...`) has an empty
/// REST.
fn split_test_line(line: &str) -> Option<(&str, &str)> {
    let body = line.strip_prefix("test ")?;
    let (name, rest) = match body.split_once(" ... ") {
        Some(split) => split,
        None => (body.strip_suffix(" ...")?, ""),
    };
    let mut name = name.trim_end();
    for mode in [" - should panic", " - compile fail", " - compile"] {
        if let Some(stripped) = name.strip_suffix(mode) {
            name = stripped;
            break;
        }
    }
    if name.is_empty() || name.starts_with(char::is_whitespace) {
        None
    } else {
        Some((name, rest))
    }
}

/// The outcome text libtest prints after ` ... `, with an optional
/// `--report-time` suffix (`ok <0.002s>`).
fn outcome_of(rest: &str) -> Option<(TestOutcome, Option<u64>)> {
    let rest = rest.trim();
    let (rest, ms) = match rest.strip_suffix("s>").and_then(|r| r.rsplit_once(" <")) {
        Some((before, secs)) => match secs.parse::<f64>() {
            Ok(secs) => (before.trim_end(), super::seconds_to_ms(secs)),
            Err(_) => (rest, None),
        },
        None => (rest, None),
    };
    let outcome = if rest == "ok" {
        TestOutcome::Passed
    } else if rest == "FAILED" || (rest.starts_with("FAILED (") && rest.ends_with(')')) {
        // `FAILED (time limit exceeded)` under `--ensure-time`.
        TestOutcome::Failed
    } else if rest == "ignored" || rest.starts_with("ignored, ") {
        TestOutcome::Skipped
    } else if rest.starts_with("bench:") && rest.contains("/iter") {
        TestOutcome::Passed
    } else {
        return None;
    };
    Some((outcome, ms))
}

/// The outcome a line ends with, for output printed without a final
/// newline (`partial outputok`). Only `ok` and `FAILED`: ignored tests do
/// not run, so never print output.
fn glued_outcome(line: &str) -> Option<TestOutcome> {
    let line = line.trim_end();
    if line.ends_with("FAILED") {
        Some(TestOutcome::Failed)
    } else if line.ends_with("ok") {
        Some(TestOutcome::Passed)
    } else {
        None
    }
}

/// `ok. 6 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.08s`
fn parse_summary(rest: &str) -> Option<Counts> {
    let (_, counts) = rest.split_once(". ")?;
    let (mut passed, mut failed, mut ignored, mut measured) = (None, None, 0u64, 0u64);
    for part in counts.split(';') {
        let Some((n, word)) = part.trim().split_once(' ') else { continue };
        let Ok(n) = n.parse::<u64>() else { continue };
        match word {
            "passed" => passed = Some(n),
            "failed" => failed = Some(n),
            "ignored" => ignored = n,
            "measured" => measured = n,
            _ => {}
        }
    }
    Some(Counts {
        passed: passed?.saturating_add(measured),
        failed: failed?,
        skipped: ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::parse;
    use proptest::prelude::*;
    use TestOutcome::{Failed, Passed, Skipped};

    fn got(p: &Parsed) -> Vec<(&str, TestOutcome, Option<u64>)> {
        p.results.iter().map(|r| (r.name.as_str(), r.outcome, r.duration_ms)).collect()
    }

    /// (container, name, outcome) of every result.
    fn ids(p: &Parsed) -> Vec<(&str, &str, TestOutcome)> {
        p.results.iter().map(|r| (r.container.as_str(), r.name.as_str(), r.outcome)).collect()
    }

    /// `cargo test` on the scratch crate: three binaries and doc-tests,
    /// captured output, a failure report per binary.
    #[test]
    fn fixture_gives_exact_results() {
        let input = include_str!("../../../tests/fixtures/gate/libtest.txt");
        assert_eq!(parse::detect(input), Some(Format::Libtest));
        let p = parse::parse(Format::Libtest, input).expect("fixture parses");
        assert_eq!(
            got(&p),
            vec![
                ("tests::adds", Passed, None),
                ("tests::nested::deep", Passed, None),
                ("tests::network", Skipped, None),
                ("tests::noisy", Passed, None),
                ("tests::panics", Passed, None),
                ("tests::fails", Failed, None),
                ("tests::shared_name", Passed, None),
                ("tests::slow", Skipped, None),
                ("tests::prints_without_newline", Passed, None),
                ("api_ok", Passed, None),
                ("tests::shared_name", Failed, None),
                ("other_ok", Passed, None),
                ("src/lib.rs - double (line 14)", Failed, None),
                ("src/lib.rs - add_one (line 5)", Passed, None),
                ("src/lib.rs - double (line 18)", Passed, None),
                ("src/lib.rs - double (line 22)", Passed, None),
            ]
        );
        assert_eq!(
            p.reported,
            Some(Counts {
                passed: 11,
                failed: 3,
                skipped: 2
            })
        );
        assert_eq!(p.warnings, Vec::<String>::new());
        // The same path in two binaries is two tests, never merged.
        let shared: Vec<(&str, &str, TestOutcome)> = ids(&p).into_iter().filter(|(_, n, _)| *n == "tests::shared_name").collect();
        assert_eq!(shared, vec![("ptfix", "tests::shared_name", Passed), ("ptfix::api", "tests::shared_name", Failed)]);
        let containers: Vec<&str> = ids(&p).iter().map(|(c, _, _)| *c).collect();
        assert_eq!(containers.iter().filter(|c| **c == "ptfix").count(), 9);
        assert_eq!(containers[9..12], ["ptfix::api", "ptfix::api", "ptfix::other"]);
        assert!(containers[12..].iter().all(|c| *c == "ptfix::doctest"), "{containers:?}");
    }

    /// The same crate with `--nocapture --test-threads=1`: outcomes split
    /// from their start lines by the tests' output, a fake result line
    /// printed by a test, output glued to `ok`, compiler errors of a
    /// compile_fail doc-test.
    #[test]
    fn nocapture_fixture_gives_the_same_results() {
        let input = include_str!("../../../tests/fixtures/gate/libtest-nocapture.txt");
        let p = parse::parse(Format::Libtest, input).expect("fixture parses");
        assert_eq!(
            got(&p),
            vec![
                ("tests::adds", Passed, None),
                ("tests::fails", Failed, None),
                ("tests::nested::deep", Passed, None),
                ("tests::network", Skipped, None),
                ("tests::noisy", Passed, None),
                ("tests::panics", Passed, None),
                ("tests::prints_without_newline", Passed, None),
                ("tests::shared_name", Passed, None),
                ("tests::slow", Skipped, None),
                ("api_ok", Passed, None),
                ("tests::shared_name", Failed, None),
                ("other_ok", Passed, None),
                ("src/lib.rs - add_one (line 5)", Passed, None),
                ("src/lib.rs - double (line 14)", Failed, None),
                ("src/lib.rs - double (line 18)", Passed, None),
                ("src/lib.rs - double (line 22)", Passed, None),
            ]
        );
        assert_eq!(
            p.reported,
            Some(Counts {
                passed: 11,
                failed: 3,
                skipped: 2
            })
        );
        assert_eq!(p.warnings, Vec::<String>::new());
        let mut a = ids(&p);
        let other = parse::parse(Format::Libtest, include_str!("../../../tests/fixtures/gate/libtest.txt")).expect("parses");
        let mut b = ids(&other);
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    /// Nightly `cargo bench` (bench lines, plain tests ignored) then
    /// `cargo test -- -Zunstable-options --report-time` (durations).
    #[test]
    fn bench_and_report_time_fixture() {
        let input = include_str!("../../../tests/fixtures/gate/libtest-bench.txt");
        let p = parse::parse(Format::Libtest, input).expect("fixture parses");
        assert_eq!(
            got(&p),
            vec![
                ("tests::fib_slow", Skipped, None),
                ("tests::fib_small", Skipped, None),
                ("tests::bench_fib_10", Passed, None),
                ("tests::bench_fib_15", Passed, None),
                ("tests::bench_fib_10", Passed, Some(0)),
                ("tests::bench_fib_15", Passed, Some(0)),
                ("tests::fib_slow", Passed, Some(2)),
                ("tests::fib_small", Passed, Some(0)),
            ]
        );
        assert_eq!(
            p.reported,
            Some(Counts {
                passed: 6,
                failed: 0,
                skipped: 2
            })
        );
        assert_eq!(p.warnings, Vec::<String>::new());
    }

    /// Real `cargo test --workspace --no-fail-fast` on a workspace where
    /// `test_eq` is a test in five binaries (one fails), run with libtest's
    /// colours on (`-- --color always`).
    #[test]
    fn real_cargo_test_names_every_binary_and_strips_colours() {
        let input = include_str!("../../../tests/fixtures/gate/real/cargo-test-two-binaries.txt");
        assert!(input.contains("\x1b[32mok"), "the fixture is coloured");
        let p = parse::parse(Format::Libtest, input).expect("fixture parses");
        assert_eq!(
            ids(&p),
            vec![
                ("alpha", "tests::network", Skipped),
                ("alpha", "tests::nested::test_eq", Passed),
                ("alpha", "tests::test_eq", Passed),
                ("alpha::bin/tool", "test_eq", Passed),
                ("alpha::api", "flaky", Passed),
                ("alpha::api", "test_eq", Failed),
                ("beta_pkg", "tests::test_eq", Passed),
                ("beta_pkg::api", "slow", Skipped),
                ("beta_pkg::api", "test_eq", Passed),
                ("alpha::doctest", "alpha/src/lib.rs - add (line 3)", Passed),
            ]
        );
        // The runner's own summary lines add up to 7 passed, 1 failed, 2 ignored.
        assert_eq!(p.reported, Some(Counts { passed: 7, failed: 1, skipped: 2 }));
        assert_eq!(p.counts(), Counts { passed: 7, failed: 1, skipped: 2 });
        assert_eq!(p.warnings, Vec::<String>::new());
    }

    /// With `cargo metadata` for the same workspace, binaries are named
    /// exactly as nextest names them (`beta-pkg`, not `beta_pkg`).
    #[test]
    fn cargo_metadata_gives_nextest_binary_ids() {
        let targets = CargoTargets::from_metadata(include_str!("../../../tests/fixtures/gate/real/cargo-metadata.json")).expect("metadata");
        let mut p = Parser::new(Some(Arc::new(targets)));
        for line in include_str!("../../../tests/fixtures/gate/real/cargo-test-two-binaries.txt").lines() {
            p.line(&parse::strip_ansi(line));
        }
        let p = p.finish(StreamEnd::Finished).expect("parses");
        let nextest = parse::parse(Format::NextestJunit, include_str!("../../../tests/fixtures/gate/real/nextest-retries.xml")).expect("nextest");
        let mut from_nextest: Vec<(&str, &str)> = nextest.results.iter().map(|r| (r.container.as_str(), r.name.as_str())).collect();
        let mut from_cargo: Vec<(&str, &str)> =
            p.results.iter().filter(|r| r.outcome != Skipped && !r.container.ends_with("::doctest")).map(|r| (r.container.as_str(), r.name.as_str())).collect();
        from_nextest.sort();
        from_cargo.sort();
        assert_eq!(from_cargo, from_nextest);
        assert_eq!(p.results.last().map(|r| r.container.as_str()), Some("alpha::doctest"));
    }

    /// Real `cargo test -q` on the same workspace: no headers, a mark per
    /// test, the failure named on a `--- FAILED` line and in `failures:`,
    /// and cargo's rerun hint naming its binary.
    #[test]
    fn real_cargo_test_q_names_the_failure_and_counts_the_rest() {
        let input = include_str!("../../../tests/fixtures/gate/real/cargo-test-q.txt");
        let p = parse::parse(Format::Libtest, input).expect("fixture parses");
        assert_eq!(ids(&p), vec![("alpha::api", "test_eq", Failed)]);
        assert_eq!(p.reported, Some(Counts { passed: 7, failed: 1, skipped: 2 }));
        assert_eq!(p.counts(), Counts { passed: 7, failed: 1, skipped: 2 });
        assert_eq!(p.anonymous, Counts { passed: 7, failed: 0, skipped: 2 });
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    }

    #[test]
    fn a_test_that_crashes_its_binary_is_failed() {
        let input = "running 2 tests\ntest a ... ok\ntest b ... \nthread 'b' has overflowed its stack\nfatal runtime error: stack overflow\nerror: test failed, to rerun pass `--lib`\n\nCaused by:\n  process didn't exit successfully: `target/debug/deps/x-1` (signal: 6, SIGABRT: process abort signal)\n     Running tests/api.rs (target/debug/deps/api-2)\n\nrunning 1 test\ntest c ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        let p = parse::parse(Format::Libtest, input).expect("parses");
        assert_eq!(got(&p), vec![("a", Passed, None), ("b", Failed, None), ("c", Passed, None)]);
        assert_eq!(
            p.warnings,
            vec![
                "test b (line 3) printed no outcome before the next test binary started; counted as failed (did its test binary crash?)".to_string(),
                "the tool reported 1 passed, 0 failed, 0 skipped but 2 passed, 1 failed, 0 skipped results were found".to_string(),
            ]
        );
        let cut = parse::parse(Format::Libtest, "running 1 test\ntest x ... ").expect("parses");
        assert_eq!(got(&cut), vec![("x", TestOutcome::Incomplete, None)]);
        assert_eq!(cut.warnings, vec!["test x (line 2) printed no outcome before the output ended; recorded as incomplete".to_string()]);
        let timed_out = parse::parse_ended(Format::Libtest, "running 2 tests\ntest y has been running for over 60 seconds\ntest x ... \n", parse::StreamEnd::TimedOut).expect("parses");
        assert_eq!(got(&timed_out), vec![("x", TestOutcome::Timeout, None), ("y", TestOutcome::Timeout, None)]);
    }

    #[test]
    fn glued_outcomes_and_fake_lines_while_open() {
        // Glued `ok` then the next test; a fake `test` line mid-output; a
        // glued FAILED just before the summary.
        let input = "running 3 tests\ntest a ... no newlineok\ntest b ... starting\ntest fake ... ok\nmore\nok\ntest c ... boomFAILED\n\nfailures:\n    c\n\ntest result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        let p = parse::parse(Format::Libtest, input).expect("parses");
        assert_eq!(got(&p), vec![("a", Passed, None), ("b", Passed, None), ("c", Failed, None)]);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn outcome_forms() {
        let cases = [
            ("ok", Some((Passed, None))),
            ("ok <0.125s>", Some((Passed, Some(125)))),
            ("FAILED", Some((Failed, None))),
            ("FAILED (time limit exceeded)", Some((Failed, None))),
            ("FAILED to connect", None),
            ("ignored", Some((Skipped, None))),
            ("ignored, needs network", Some((Skipped, None))),
            ("bench:       2,027.24 ns/iter (+/- 192.37)", Some((Passed, None))),
            ("bench: nothing", None),
            ("okay", None),
            ("", None),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            assert_eq!(outcome_of(text), *want, "case {i}: {text:?}");
        }
    }

    #[test]
    fn test_line_names() {
        let cases = [
            ("test tests::panics - should panic ... ok", Some(("tests::panics", "ok"))),
            (
                "test src/lib.rs - double (line 22) - compile fail ... ok",
                Some(("src/lib.rs - double (line 22)", "ok")),
            ),
            (
                "test src/lib.rs - double (line 18) - compile ... ok",
                Some(("src/lib.rs - double (line 18)", "ok")),
            ),
            (
                "test tests::bench_x    ... bench: 1 ns/iter (+/- 0)",
                Some(("tests::bench_x", "bench: 1 ns/iter (+/- 0)")),
            ),
            ("test a ...", Some(("a", ""))),
            ("test result: ok. 1 passed; 0 failed", None),
            ("test  ... ok", None),
            ("testing ... ok", None),
            ("    test a ... ok", None),
            ("test tests::slow has been running for over 60 seconds", None),
        ];
        for (i, (line, want)) in cases.iter().enumerate() {
            assert_eq!(split_test_line(line), *want, "case {i}: {line:?}");
        }
    }

    #[test]
    fn output_that_is_not_libtest_is_an_error() {
        let e = parse::parse(Format::Libtest, "error[E0425]: cannot find value `x`\nerror: could not compile `ptfix`\n").expect_err("error");
        assert_eq!(
            e.to_string(),
            "libtest results: no libtest output found: no `running N tests`, `test NAME ... ok` or `test result:` line"
        );
    }

    #[test]
    fn terse_output_names_failures_and_counts_the_rest() {
        let input = "\nrunning 3 tests\n.F.\nfailures:\n\n---- b stdout ----\nboom\n    not_a_name\n\nfailures:\n    b\n\ntest result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        let p = parse::parse(Format::Libtest, input).expect("parses");
        assert_eq!(got(&p), vec![("b", Failed, None)]);
        assert_eq!(p.anonymous, Counts { passed: 2, failed: 0, skipped: 0 });
        assert_eq!(p.counts(), Counts { passed: 2, failed: 1, skipped: 0 });
        assert_eq!(
            p.warnings,
            vec!["line 3: libtest's terse format (cargo test -q) names only failing tests; passing tests are counted but have no names to map (run without -q for per-test evidence)".to_string()]
        );
        for (i, (line, want)) in [
            ("....i 88/100", true),
            ("F", true),
            (".", true),
            ("... 1/x", false),
            ("Fix", false),
            ("", false),
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(is_terse_progress(line), *want, "case {i}: {line:?}");
        }
    }

    #[test]
    fn a_mangled_summary_is_a_warning() {
        let p = parse::parse(Format::Libtest, "running 1 test\ntest a ... ok\ntest result: ok. lots passed\n").expect("parses");
        assert_eq!(p.reported, None);
        assert_eq!(
            p.warnings,
            vec!["line 3: a `test result:` line without pass and fail counts: test result: ok. lots passed".to_string()]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse::parse(Format::Libtest, &s);
            let _ = parse::detect(&s);
        }

        #[test]
        fn never_panics_on_libtest_like_lines(s in "(test [a-z:]{0,4}( - should panic)? \\.\\.\\. ?(ok|FAILED|ignored|bench: 1 ns/iter|x|<1s>)?|running [0-9] tests?|test result: ok\\. [0-9] passed; [0-9] failed|failures:|     Running x \\(y\\)|[a-z ]{0,6}|\n){0,20}") {
            let _ = parse::parse(Format::Libtest, &s);
        }
    }
}
