//! Human output of the mutation gate and of a feature's mutation evidence.

use std::fmt::Write as _;

use super::escape::value;
use crate::domain::mutation::{Mutant, Tally};
use crate::ops::gate::GateVerdict;
use crate::ops::mutants::{FeatureMutation, ImportReport, MutantsReport};

pub fn tally(t: &Tally) -> String {
    let score = t.score().map_or("-".to_string(), |s| format!("{:.1}%", s * 100.0));
    format!("{} caught, {} timed out, {} missed, {} unviable, {} suppressed (score {score})", t.caught, t.timeout, t.missed, t.unviable, t.suppressed)
}

/// A mutant with its diff, indented under its heading.
pub fn mutant(out: &mut String, label: &str, m: &Mutant) {
    let _ = writeln!(out, "    {label}: {}", value(&m.description));
    if let Some(reason) = &m.suppressed {
        let _ = writeln!(out, "      declared equivalent: {}", value(reason));
    }
    for line in m.diff.lines().filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---")).take(12) {
        let _ = writeln!(out, "      {}", value(line));
    }
}

pub fn feature(out: &mut String, f: &FeatureMutation) {
    let run = match (f.run, f.cached) {
        (Some(r), true) => format!("mutation run {r}, cached"),
        (Some(r), false) => format!("mutation run {r}"),
        (None, _) => "not recorded".to_string(),
    };
    let verdict = if f.problem.is_none() { "ok" } else { "NOT VERIFIABLE" };
    let _ = writeln!(out, "  {} {} [{verdict}] ({run}, {:.1} s)", f.id, value(&f.name), f.duration_ms as f64 / 1000.0);
    if f.run.is_some() {
        let _ = writeln!(out, "    {}", tally(&f.tally));
    }
    if let Some(p) = &f.problem {
        let _ = writeln!(out, "    why: {}", value(p));
    }
    for m in &f.missed {
        mutant(out, "missed", m);
    }
    for m in &f.suppressed {
        mutant(out, "suppressed", m);
    }
    for s in &f.unused_suppressions {
        let _ = writeln!(out, "    unused suppression at line {}: no missed mutant on it or the next line: remove it ({})", s.line, value(&s.reason));
    }
    for s in &f.unreasoned_suppressions {
        let _ = writeln!(out, "    suppression at line {} gives no reason, so it suppresses nothing: say why after `allow(mutant)`", s.line);
    }
}

pub fn report(r: &MutantsReport) -> String {
    let mut out = String::new();
    let verdict = match r.verdict {
        GateVerdict::Passed => "PASSED",
        GateVerdict::Failed => "FAILED",
        GateVerdict::CouldNotRun => "COULD NOT RUN",
    };
    let shard = r.shard.as_ref().map_or(String::new(), |s| format!(", shard {s}"));
    let _ = writeln!(
        out,
        "mutation gate {verdict}: {} feature(s), {} mutated now, {} cached{shard} (cargo-mutants {})",
        r.features.len(),
        r.mutated,
        r.cached,
        r.tool_version.as_deref().unwrap_or("not found")
    );
    if r.mutated > 0 && !r.untrusted_because.is_empty() {
        let _ = writeln!(out, "  not evidence for verified: {}", value(&r.untrusted_because.join("; ")));
    }
    let _ = writeln!(out, "  {}", tally(&r.totals));
    for f in &r.features {
        feature(&mut out, f);
    }
    out
}

pub fn import(r: &ImportReport) -> String {
    let mut out = format!("Imported {} mutation run(s) from {} ({} already recorded)\n", r.imported.len(), value(&r.file), r.already);
    for (feature, run) in &r.imported {
        let _ = writeln!(out, "  feature {feature}: mutation run {run}");
    }
    if let Some(rc) = &r.recheck {
        let _ = writeln!(
            out,
            "Rechecked (seed {}): {} record(s) list exactly cargo-mutants' mutants ({} stale, not checked); {} outcome(s) re-run, all as recorded",
            rc.seed,
            rc.listed,
            rc.stale,
            rc.mutants.len()
        );
        for m in &rc.mutants {
            let _ = writeln!(out, "  feature {}: {} {}", m.feature_id, m.found.as_str(), value(&m.mutant));
        }
    }
    out
}
