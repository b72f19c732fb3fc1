//! Typed test results, whatever tool produced them. Parsers (in
//! `gate::parse`) turn a tool's output into [`Parsed`]; the gate judges it.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    Passed,
    Failed,
    Skipped,
    /// Started and still running when the run was killed at a timeout (the
    /// gate's, or the runner's own, such as `go test -timeout`).
    Timeout,
    /// Started, but the output ended before its result (truncated output,
    /// a runner that died).
    Incomplete,
}

impl TestOutcome {
    pub const ALL: [TestOutcome; 5] = [TestOutcome::Passed, TestOutcome::Failed, TestOutcome::Skipped, TestOutcome::Timeout, TestOutcome::Incomplete];

    pub fn as_str(self) -> &'static str {
        match self {
            TestOutcome::Passed => "passed",
            TestOutcome::Failed => "failed",
            TestOutcome::Skipped => "skipped",
            TestOutcome::Timeout => "timeout",
            TestOutcome::Incomplete => "incomplete",
        }
    }

    /// Did the test not pass although it ran (failed, or never finished)?
    pub fn is_failure(self) -> bool {
        matches!(self, TestOutcome::Failed | TestOutcome::Timeout | TestOutcome::Incomplete)
    }
}

impl FromStr for TestOutcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TestOutcome::ALL.into_iter().find(|o| o.as_str() == s).ok_or_else(|| format!("unknown test outcome '{s}'"))
    }
}

/// One test's result under the runner's full identity: `container` is what
/// holds the test — the test binary (`alpha`, `alpha::api`,
/// `alpha::bin/tool`, as nextest names binaries), a JUnit `classname`, a TRX
/// class, a Go package — and `name` the test within it, as the runner prints
/// it (`tests::test_eq`, `test_same`, `TestTable/wrong/inner`). `container`
/// is empty only when the runner names none. Two results are never merged:
/// the same name in two binaries is two tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    pub container: String,
    pub name: String,
    pub outcome: TestOutcome,
    pub duration_ms: Option<u64>,
}

impl TestResult {
    /// `CONTAINER NAME` (one space), or `NAME` without a container: the form
    /// a mapping uses to name the binary explicitly.
    pub fn qualified(&self) -> String {
        qualified(&self.container, &self.name)
    }
}

/// `CONTAINER.NAME`: a class-based runner's test as code names it
/// (`Namespace.Class.Method`); None without a container.
pub fn dotted(container: &str, name: &str) -> Option<String> {
    (!container.is_empty()).then(|| format!("{container}.{name}"))
}

/// See [`TestResult::qualified`].
pub fn qualified(container: &str, name: &str) -> String {
    if container.is_empty() {
        name.to_string()
    } else {
        format!("{container} {name}")
    }
}

/// Totals as the tool itself reported them (libtest's `test result:` lines,
/// a JUnit suite's attributes), to cross-check the per-test results.
/// `failed` includes tests that timed out or never finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// What a parser extracted from one output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Parsed {
    pub results: Vec<TestResult>,
    /// Tests the tool counted without naming them (libtest's terse
    /// `cargo test -q` output names only failures).
    pub anonymous: Counts,
    pub reported: Option<Counts>,
    /// Things the parser noticed but could not use (malformed lines, totals
    /// that disagree with the results).
    pub warnings: Vec<String>,
}

impl Counts {
    /// Tally of the given results.
    pub fn of(results: &[TestResult]) -> Counts {
        let mut c = Counts::default();
        for r in results {
            match r.outcome {
                TestOutcome::Passed => c.passed += 1,
                TestOutcome::Failed | TestOutcome::Timeout | TestOutcome::Incomplete => c.failed += 1,
                TestOutcome::Skipped => c.skipped += 1,
            }
        }
        c
    }
}

impl Counts {
    pub fn add(self, o: Counts) -> Counts {
        Counts { passed: self.passed + o.passed, failed: self.failed + o.failed, skipped: self.skipped + o.skipped }
    }

    pub fn total(self) -> u64 {
        self.passed + self.failed + self.skipped
    }
}

impl Parsed {
    /// Named results plus the tests counted without a name.
    pub fn counts(&self) -> Counts {
        Counts::of(&self.results).add(self.anonymous)
    }
}

/// Output formats the gate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// libtest's stable text output (`cargo test`).
    Libtest,
    /// cargo-nextest's JUnit XML.
    NextestJunit,
    /// `go test -json` events.
    GoJson,
    /// dotnet's TRX (Visual Studio test results) XML.
    Trx,
    /// Generic JUnit XML.
    Junit,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Libtest, Format::NextestJunit, Format::GoJson, Format::Trx, Format::Junit];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Libtest => "libtest",
            Format::NextestJunit => "nextest-junit",
            Format::GoJson => "go-json",
            Format::Trx => "trx",
            Format::Junit => "junit",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format '{s}': expected auto or one of {}", Format::ALL.map(Format::as_str).join(", ")))
    }
}

/// Why a parser gave up on its input entirely (as opposed to skipping noise).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format} results: {message}")]
pub struct ParseError {
    pub format: Format,
    pub message: String,
}
