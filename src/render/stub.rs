//! `stub scan` as text: `path:line:col rule message`, grouped by file with a
//! blank line between files, then a count.

use std::fmt::Write;

use super::escape::value;
use crate::stubscan::ScanReport;

pub fn human(r: &ScanReport) -> String {
    let mut out = String::new();
    let mut last: Option<&str> = None;
    for f in &r.findings {
        if last.is_some_and(|p| p != f.path) {
            out.push('\n');
        }
        last = Some(&f.path);
        // A file name may hold a newline; a message quotes source text.
        let _ = write!(out, "{}:{}:{} {} {}", value(&f.path), f.line, f.column, f.rule, value(&f.message));
        if let Some(feature) = &f.feature {
            let _ = write!(out, " [feature {} {}]", feature.id, value(&feature.go_name));
        }
        out.push('\n');
    }
    if !r.findings.is_empty() {
        out.push('\n');
    }
    let files = plural(r.files_scanned, "file");
    let _ = match r.findings.len() {
        0 => write!(out, "no stub findings in {files}"),
        n => write!(out, "{} in {} ({files} scanned)", plural(n, "finding"), plural(r.files_with_findings, "file")),
    };
    let mut extra = Vec::new();
    if r.suppressed > 0 {
        extra.push(format!("{} suppressed", r.suppressed));
    }
    if r.baselined > 0 {
        extra.push(format!("{} in the baseline", r.baselined));
    }
    if !extra.is_empty() {
        let _ = write!(out, "; {}", extra.join(", "));
    }
    out.push('\n');
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
