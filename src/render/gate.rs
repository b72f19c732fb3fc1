//! Human output of gates and evidence.

use std::fmt::Write as _;

use super::escape::value;

use super::{align_right, table, text, SafeRows};
use crate::commands::evidence::{RunDetail, RunList};
use crate::ops::gate::{GateReport, GateVerdict};

pub fn report(r: &GateReport) -> String {
    let mut out = String::new();
    let verdict = match r.verdict {
        GateVerdict::Passed => "PASSED",
        GateVerdict::Failed => "FAILED",
        GateVerdict::CouldNotRun => "COULD NOT RUN",
    };
    let run = r.run_id.map_or(String::new(), |id| format!(" (evidence run {id}, {})", r.provenance.as_str()));
    let _ = writeln!(out, "{} gate {verdict}{run}: {}", r.kind, value(&r.command.join(" ")));
    if !r.untrusted_because.is_empty() {
        let _ = writeln!(out, "  not evidence for verified: {}", value(&r.untrusted_because.join("; ")));
    }
    let _ = writeln!(out, "  duration {:.1} s, exit {}", r.duration_ms as f64 / 1000.0, r.exit_code.map_or("-".to_string(), |c| c.to_string()));
    if r.kind == "test" {
        let format = r.format.map_or("unknown".to_string(), |f| f.to_string());
        let _ = writeln!(out, "  {} passed, {} failed, {} skipped ({format})", r.counts.passed, r.counts.failed, r.counts.skipped);
    }
    for f in &r.failures {
        let _ = writeln!(out, "  - {}", value(f));
    }
    for t in r.failed_tests.iter().take(20) {
        let _ = writeln!(out, "  failed: {}", value(t));
    }
    if r.failed_tests.len() > 20 {
        let _ = writeln!(out, "  … and {} more failed", r.failed_tests.len() - 20);
    }
    for t in r.missing_expected.iter().take(20) {
        let _ = writeln!(out, "  missing: {}", value(t));
    }
    for w in &r.warnings {
        let _ = writeln!(out, "  warning: {}", value(w));
    }
    if let Some(log) = &r.log_path {
        let _ = writeln!(out, "  log: {}", value(log));
    }
    out
}

pub fn run_list(l: &RunList) -> String {
    if l.runs.is_empty() {
        return "No gate runs recorded.\n".to_string();
    }
    let mut t = table(&["Run", "Kind", "Started", "Outcome", "Provenance", "Passed", "Failed", "Skipped", "Batch", "Command"]);
    for r in &l.runs {
        t.add_safe_row(vec![
            r.id.to_string(),
            r.kind.clone(),
            r.started_at.clone(),
            r.outcome.clone(),
            r.provenance.clone(),
            r.tests_passed.to_string(),
            r.tests_failed.to_string(),
            r.tests_skipped.to_string(),
            r.batch.map_or("-".to_string(), |b| b.to_string()),
            r.command.join(" ").chars().take(60).collect(),
        ]);
    }
    align_right(&mut t, &[0, 5, 6, 7]);
    super::wrappable(&mut t, &[9]);
    format!("{}\n", text(&t))
}

pub fn run_detail(d: &RunDetail) -> String {
    let r = &d.run;
    let mut out = String::new();
    let _ = writeln!(out, "Run {}: {} gate, {}, {}", r.id, r.kind, r.outcome, r.provenance);
    let mut field = |k: &str, v: String| {
        let _ = writeln!(out, "  {k:<11} {}", value(&v));
    };
    field("command", r.command.join(" "));
    field("cwd", r.cwd.clone());
    field("started", r.started_at.clone());
    field("duration", format!("{} ms", r.duration_ms));
    field("exit", r.exit_code.map_or("-".into(), |c| c.to_string()));
    if let Some(f) = &r.failure {
        field("failure", f.clone());
    }
    field("tests", format!("{} passed, {} failed, {} skipped ({})", r.tests_passed, r.tests_failed, r.tests_skipped, r.format.as_deref().unwrap_or("-")));
    field("git", match (&r.git_commit, r.git_dirty) {
        (Some(c), Some(true)) => format!("{c} (with uncommitted changes)"),
        (Some(c), _) => c.clone(),
        (None, _) => "-".into(),
    });
    field("batch", r.batch.map_or("-".into(), |b| b.to_string()));
    if let Some(why) = &r.untrusted_because {
        field("untrusted", why.clone());
    }
    field("from", format!(
        "{} command{}",
        r.command_source.as_deref().map_or("-", |s| if s == "config" { "porttrack.toml's" } else { "a command-line" }),
        r.config_sha256.as_deref().map_or(String::new(), |c| format!(" (porttrack.toml sha256 {c})"))
    ));
    if let Some(src) = &r.results_source {
        field("results", format!("{src}{}", r.results_path.as_deref().map_or(String::new(), |p| format!(" {p}"))));
    }
    if let Some(end) = &r.git_commit_end {
        field("git at end", if r.git_dirty_end == Some(true) { format!("{end} (with uncommitted changes)") } else { end.clone() });
    }
    field("log", format!("{} (sha256 {})", r.log_path.as_deref().unwrap_or("-"), r.log_sha256.as_deref().unwrap_or("-")));
    if !d.results.is_empty() {
        let mut t = table(&["Binary / class / package", "Test", "Outcome", "ms"]);
        for x in &d.results {
            t.add_safe_row(vec![
                if x.container.is_empty() { "-".into() } else { x.container.clone() },
                x.test_name.clone(),
                x.outcome.clone(),
                x.duration_ms.map_or("-".into(), |m| m.to_string()),
            ]);
        }
        align_right(&mut t, &[3]);
        super::wrappable(&mut t, &[0, 1]);
        let _ = writeln!(out, "\nResults ({}):\n{}", d.results.len(), text(&t));
    }
    if !d.files.is_empty() {
        let mut t = table(&["Rust file", "SHA-256"]);
        for f in &d.files {
            t.add_safe_row(vec![f.path.clone(), f.sha256.clone().unwrap_or_else(|| "(missing)".into())]);
        }
        super::wrappable(&mut t, &[0]);
        let _ = writeln!(out, "\nRust files when recorded:\n{}", text(&t));
    }
    out
}
