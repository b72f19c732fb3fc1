//! Human output of `gate parse`: what a results file holds, per test.

use std::fmt::Write as _;

use super::{align_right, table, SafeRows};
use crate::gate::results::Counts;

/// What `gate parse` found in one file (also its JSON shape).
#[derive(Debug, serde::Serialize)]
pub struct ParsedFile {
    pub file: String,
    pub format: crate::gate::results::Format,
    /// Whether the format was sniffed (`--format auto`) rather than given.
    pub detected: bool,
    pub counts: Counts,
    #[serde(flatten)]
    pub parsed: crate::gate::results::Parsed,
}

pub fn parsed_file(p: &ParsedFile) -> String {
    let mut out = String::new();
    let how = if p.detected { "detected" } else { "as given" };
    let _ = writeln!(out, "{}: {} ({how})", p.file, p.format);
    let c = p.counts;
    let _ = writeln!(
        out,
        "{} results: {} passed, {} failed, {} skipped",
        p.parsed.results.len(),
        c.passed,
        c.failed,
        c.skipped
    );
    let a = p.parsed.anonymous;
    if a.total() > 0 {
        let _ = writeln!(out, "  of which unnamed: {} passed, {} failed, {} skipped", a.passed, a.failed, a.skipped);
    }
    match p.parsed.reported {
        Some(r) => {
            let _ = writeln!(out, "Tool reported: {} passed, {} failed, {} skipped", r.passed, r.failed, r.skipped);
        }
        None => out.push_str("Tool reported: no totals\n"),
    }
    if !p.parsed.warnings.is_empty() {
        out.push_str("Warnings:\n");
        for w in &p.parsed.warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    if !p.parsed.results.is_empty() {
        let mut t = table(&["Binary / class / package", "Test", "Outcome", "ms"]);
        for r in &p.parsed.results {
            t.add_safe_row(vec![
                if r.container.is_empty() { "-".to_string() } else { r.container.clone() },
                r.name.clone(),
                r.outcome.as_str().to_string(),
                r.duration_ms.map_or_else(|| "-".to_string(), |ms| ms.to_string()),
            ]);
        }
        align_right(&mut t, &[3]);
        super::wrappable(&mut t, &[0, 1]);
        let _ = writeln!(out, "\n{}", super::text(&t));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::results::{Format, Parsed, TestOutcome, TestResult};

    #[test]
    fn human_output_lists_counts_warnings_and_results() {
        let parsed = Parsed {
            results: vec![
                TestResult {
                    container: "alpha".into(),
                    name: "tests::a".into(),
                    outcome: TestOutcome::Passed,
                    duration_ms: Some(12),
                },
                TestResult {
                    container: String::new(),
                    name: "tests::b".into(),
                    outcome: TestOutcome::Failed,
                    duration_ms: None,
                },
            ],
            anonymous: Default::default(),
            reported: None,
            warnings: vec!["skipped 2 line(s)".into()],
        };
        let p = ParsedFile {
            file: "out.txt".into(),
            format: Format::Libtest,
            detected: true,
            counts: parsed.counts(),
            parsed,
        };
        assert_eq!(
            parsed_file(&p),
            "out.txt: libtest (detected)\n2 results: 1 passed, 1 failed, 0 skipped\nTool reported: no totals\nWarnings:\n  skipped 2 line(s)\n\n Binary / class / package   Test       Outcome   ms\n-------------------------- ---------- --------- ----\n alpha                      tests::a   passed    12\n -                          tests::b   failed     -\n"
        );
    }
}
