//! Human output of `audit`.

use std::fmt::Write as _;

use crate::ops::audit::AuditReport;

pub fn report(r: &AuditReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Project root: {}", r.project_root);
    for c in &r.checks {
        let _ = writeln!(out, "{:<4} {:<15} {}", if c.passed { "ok" } else { "FAIL" }, c.name, c.checked);
        for p in &c.problems {
            let _ = writeln!(out, "       {}: {}", p.subject, p.message);
        }
    }
    for x in &r.reruns {
        let state = match (&x.failure, x.agreed) {
            (Some(why), _) => format!("could not be re-run: {why}"),
            (None, true) => format!("agrees ({} recorded result(s) reproduced)", x.compared),
            (None, false) => format!("DISAGREES on {} of {} result(s)", x.disagreements.len(), x.compared),
        };
        let _ = writeln!(out, "{:<4} re-run of run {} at {}: {state} in {:.1} s", if x.agreed { "ok" } else { "FAIL" }, x.run, x.commit.as_deref().unwrap_or("-"), x.duration_ms as f64 / 1000.0);
        for d in x.disagreements.iter().take(20) {
            let _ = writeln!(out, "       {d}");
        }
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {}: {}", w.subject, w.message);
    }
    let failed: usize = r.checks.iter().map(|c| c.problems.len()).sum::<usize>() + r.reruns.iter().filter(|x| !x.agreed).count();
    let _ = writeln!(out, "{}", if r.passed { "Audit passed.".to_string() } else { format!("Audit FAILED: {failed} problem(s).") });
    out
}
