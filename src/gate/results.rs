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
}

impl TestOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TestOutcome::Passed => "passed",
            TestOutcome::Failed => "failed",
            TestOutcome::Skipped => "skipped",
        }
    }
}

/// One test's result. `name` is how the tool names the test: the libtest
/// path (`batch33::test_nrg_simple`), Go's `TestX` or `TestX/sub`, the TRX
/// `testName`, or JUnit's `classname.name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    pub name: String,
    pub outcome: TestOutcome,
    pub duration_ms: Option<u64>,
}

/// Totals as the tool itself reported them (libtest's `test result:` lines,
/// a JUnit suite's attributes), to cross-check the per-test results.
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
                TestOutcome::Failed => c.failed += 1,
                TestOutcome::Skipped => c.skipped += 1,
            }
        }
        c
    }
}

impl Parsed {
    pub fn counts(&self) -> Counts {
        Counts::of(&self.results)
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
