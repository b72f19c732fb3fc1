//! `report html`: one self-contained page — inline CSS, inline SVG charts
//! (`chart`), no scripts and no network (a Content-Security-Policy says so
//! to the browser too). Native `<details>` gives the drill-downs, so the
//! page works with JavaScript off; every chart has a text description and
//! its numbers in a table. All data is escaped.

use std::fmt::Write as _;

use super::chart::{self, LARGE, SMALL};
use crate::domain::calendar::Granularity;
use crate::domain::progress::Projection;
use crate::domain::status::{BatchStatus, ItemStatus};
use crate::ops::progress_report::{ChartedBatch, ListedItem, MutationScore, ProgressReport};
use crate::ops::trend::Series;

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1a1a1a; --muted: #595959; --line: #d0d0d0; --band: #f4f6f8; --link: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: #fff; }
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 28px 0 8px; }
h3 { font-size: 1rem; margin: 0 0 4px; }
a { color: var(--link); }
code { font: 0.9em ui-monospace, "DejaVu Sans Mono", monospace; }
.meta, .note, figcaption, caption { color: var(--muted); }
caption { text-align: left; padding: 4px 0; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; padding: 0; }
.kpis div { background: var(--band); border-radius: 6px; padding: 10px 14px; min-width: 130px; }
.kpis dt { font-size: 0.85rem; color: var(--muted); }
.kpis dd { margin: 0; font-size: 1.35rem; font-weight: 600; }
svg.chart { display: block; width: 100%; height: auto; max-width: 880px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 16px; }
.mini { border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
.mini p { margin: 2px 0; font-size: 0.9rem; }
.key { white-space: nowrap; margin-right: 12px; }
.key-done { color: #0072b2; } .key-verified { color: #b34700; } .key-total { color: #595959; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 0.9rem; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--band); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.st { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 0.85rem; border: 1px solid currentColor; white-space: nowrap; }
.st-not_started, .st-pending { color: #595959; }
.st-stub { color: #8a5a00; }
.st-complete { color: #005a8c; }
.st-verified, .st-done { color: #1e6b35; }
.st-deferred { color: #7a3e9d; }
.st-n_a { color: #4d4d4d; }
.st-in_progress { color: #8a5a00; }
.st-stale { color: #a30000; }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
footer { color: var(--muted); font-size: 0.85rem; padding: 24px 20px; }
@media print { details { border: none; } }
"#;

/// HTML text or attribute value: markup characters as entities, control
/// characters as visible escapes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

pub fn report(r: &ProgressReport) -> Result<String, String> {
    let mut h = String::with_capacity(64 * 1024 + r.charted.iter().map(|b| b.items.len() * 300).sum::<usize>());
    let title = r.inventory.as_deref().map_or_else(|| "Port progress".to_string(), |i| format!("Port progress: {i}"));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(
        h,
        "<header><h1>{}</h1><p class=\"meta\">Database <code>{}</code> · generated {} · {}</p></header>\n<main>",
        escape(&title),
        escape(&r.database),
        escape(&when(&r.generated_at)),
        escape(r.rule)
    );
    overview(&mut h, r);
    burnup(&mut h, r)?;
    plan_batches(&mut h, r)?;
    batch_table(&mut h, r);
    attention(&mut h, r);
    mutation(&mut h, &r.mutation);
    drilldown(&mut h, r);
    let _ = writeln!(h, "</main>\n<footer>Generated by porttrack {}. This page runs no scripts and loads nothing from the network.</footer>\n</body>\n</html>", env!("CARGO_PKG_VERSION"));
    Ok(h)
}

fn overview(h: &mut String, r: &ProgressReport) {
    let c = &r.counts;
    let _ = writeln!(h, "<section id=\"overview\" aria-label=\"Totals\">\n<dl class=\"kpis\">");
    let _ = writeln!(h, "<div><dt>Done</dt><dd>{} / {} ({:.1}%)</dd></div>", c.done(), c.total(), c.percent_done());
    for st in ItemStatus::ALL {
        let _ = writeln!(h, "<div><dt>{}</dt><dd>{}</dd></div>", label(st), c.get(st));
    }
    let _ = writeln!(h, "</dl>\n<p>{}</p>\n</section>", escape(&projection_sentence(&r.projection, r.by)));
}

fn burnup(h: &mut String, r: &ProgressReport) -> Result<(), String> {
    let _ = writeln!(h, "<section id=\"burnup\">\n<h2>Burn-up, all items</h2>");
    if r.overall.periods.is_empty() {
        let _ = writeln!(h, "<p class=\"note\">No status changes recorded yet: the chart starts with the first change.</p>\n</section>");
        return Ok(());
    }
    let description = describe(&r.overall, r.by, "all items");
    let svg = chart::burnup(&r.overall, LARGE, "burnup-chart", "Burn-up of all items", &description)?;
    let _ = writeln!(h, "<figure>\n{svg}\n<figcaption>{} {}</figcaption>\n</figure>", legend(), escape(&description));
    data_table(h, &r.overall, r.by, "the burn-up of all items");
    let _ = writeln!(h, "</section>");
    Ok(())
}

fn plan_batches(h: &mut String, r: &ProgressReport) -> Result<(), String> {
    let _ = writeln!(h, "<section id=\"plan\">\n<h2>Plan batches</h2>\n<p class=\"note\">Charted: {}. Each chart shares the time axis of the burn-up above. {}</p>", escape(&r.charted_rule), legend());
    if r.charted.is_empty() {
        let _ = writeln!(h, "<p>No batch to chart.</p>\n</section>");
        return Ok(());
    }
    let _ = writeln!(h, "<div class=\"grid\">");
    for b in &r.charted {
        let _ = writeln!(
            h,
            "<article class=\"mini\" id=\"chart-{n}\" aria-labelledby=\"chart-{n}-h\">\n<h3 id=\"chart-{n}-h\"><a href=\"#batch-{n}\">Batch {n}: {}</a></h3>\n<p>{} · {} / {} done ({:.1}%) · {} verified</p>",
            escape(&b.name),
            batch_badge(b.status),
            b.counts.done(),
            b.counts.total(),
            b.counts.percent_done(),
            b.counts.get(ItemStatus::Verified),
            n = b.number
        );
        if b.series.periods.is_empty() {
            let _ = writeln!(h, "<p class=\"note\">No status changes recorded.</p>");
        } else {
            let scope = format!("batch {} {}", b.number, b.name);
            let description = describe(&b.series, r.by, &scope);
            let _ = writeln!(h, "{}", chart::burnup(&b.series, SMALL, &format!("chart-{}-svg", b.number), &format!("Burn-up of {scope}"), &description)?);
        }
        let _ = writeln!(h, "<p class=\"note\">{}</p>\n</article>", escape(&super::trend::projection_line(&b.projection, r.by.as_str())));
    }
    let _ = writeln!(h, "</div>\n</section>");
    Ok(())
}

fn batch_table(h: &mut String, r: &ProgressReport) {
    let charted: std::collections::BTreeSet<i64> = r.charted.iter().map(|b| b.number).collect();
    let _ = writeln!(
        h,
        "<section id=\"batches\">\n<h2>All batches</h2>\n<table id=\"batch-table\">\n<caption>{} batches; a batch is ready when every batch it depends on is done.</caption>\n\
         <thead><tr><th scope=\"col\" class=\"num\">Batch</th><th scope=\"col\">Name</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Features done</th>\
         <th scope=\"col\" class=\"num\">Tests done</th><th scope=\"col\" class=\"num\">% done</th><th scope=\"col\">Depends on</th><th scope=\"col\">Ready</th><th scope=\"col\" class=\"num\">Overrides</th></tr></thead>\n<tbody>",
        r.batches.len()
    );
    for row in &r.batches {
        let b = &row.batch;
        let number = if charted.contains(&b.number) { format!("<a href=\"#batch-{0}\">{0}</a>", b.number) } else { b.number.to_string() };
        let deps: Vec<String> = b.depends_on.iter().map(i64::to_string).collect();
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{number}</td><td>{}</td><td>{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{:.1}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&b.name),
            batch_badge(b.status),
            b.features.done(),
            b.features.total(),
            b.tests.done(),
            b.tests.total(),
            b.percent_done,
            if deps.is_empty() { "-".to_string() } else { deps.join(", ") },
            if b.ready { "yes" } else { "no" },
            row.overrides
        );
    }
    let _ = writeln!(h, "</tbody>\n</table>\n</section>");
}

fn attention(h: &mut String, r: &ProgressReport) {
    let _ = writeln!(h, "<section id=\"attention\">\n<h2>Stale and regressed</h2>");
    let _ = writeln!(h, "<h3 id=\"stale\">Stale ({})</h3>", r.stale_total);
    if r.stale.is_empty() {
        let _ = writeln!(h, "<p>None: every verified item's Rust file is as its evidence run recorded.</p>");
    } else {
        let _ = writeln!(h, "<p class=\"note\">Verified, but the Rust file changed since the evidence run; <code>porttrack verify</code> proves them again.</p>");
        listed_table(h, "stale-table", &r.stale, r.stale_total, false);
    }
    let _ = writeln!(h, "<h3 id=\"regressed\">Regressed ({})</h3>", r.regressed_total);
    if r.regressed.is_empty() {
        let _ = writeln!(h, "<p>None: no item's latest change undid progress.</p>");
    } else {
        let _ = writeln!(h, "<p class=\"note\">Items whose latest change undid progress (a done item no longer done, or a verified one back to complete), latest first.</p>");
        listed_table(h, "regressed-table", &r.regressed, r.regressed_total, true);
    }
    let _ = writeln!(h, "</section>");
}

fn listed_table(h: &mut String, id: &str, items: &[ListedItem], total: usize, change: bool) {
    let _ = write!(h, "<table id=\"{id}\">\n<thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Go name</th><th scope=\"col\" class=\"num\">Batch</th>");
    if change {
        let _ = write!(h, "<th scope=\"col\">Change</th><th scope=\"col\">When</th>");
    } else {
        let _ = write!(h, "<th scope=\"col\">Rust file</th><th scope=\"col\" class=\"num\">Evidence run</th>");
    }
    let _ = writeln!(h, "</tr></thead>\n<tbody>");
    for i in items {
        let batch = i.batch.map_or_else(|| "-".to_string(), |b| b.to_string());
        let _ = write!(h, "<tr><td>{} {}</td><td><code>{}</code></td><td class=\"num\">{batch}</td>", i.kind.as_str(), i.id, escape(&i.name));
        if change {
            let from = i.from.map_or_else(String::new, |f| format!("{} → ", status_badge(f)));
            let _ = write!(h, "<td>{from}{}</td><td>{}</td>", status_badge(i.to), escape(&i.at.as_deref().map(when).unwrap_or_default()));
        } else {
            let run = i.evidence_run.map_or_else(|| "-".to_string(), |r| r.to_string());
            let _ = write!(h, "<td><code>{}</code></td><td class=\"num\">{run}</td>", escape(i.rust_file.as_deref().unwrap_or("-")));
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = writeln!(h, "</tbody>\n</table>");
    if total > items.len() {
        let _ = writeln!(h, "<p class=\"note\">… and {} more.</p>", total - items.len());
    }
}

/// Shown only when mutation evidence was recorded.
fn mutation(h: &mut String, scores: &[MutationScore]) {
    if scores.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<section id=\"mutation\">\n<h2>Mutation score</h2>\n<p class=\"note\">Mutants of verified features: a caught or timed-out mutant shows a test checks the behaviour it changed.</p>\n\
         <table id=\"mutation-table\"><thead><tr><th scope=\"col\" class=\"num\">Batch</th><th scope=\"col\" class=\"num\">Caught</th><th scope=\"col\" class=\"num\">Missed</th>\
         <th scope=\"col\" class=\"num\">Timed out</th><th scope=\"col\" class=\"num\">Unviable</th><th scope=\"col\" class=\"num\">Score</th></tr></thead>\n<tbody>"
    );
    for m in scores {
        let score = m.score().map_or_else(|| "-".to_string(), |s| format!("{s:.1}%"));
        let _ = writeln!(
            h,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{score}</td></tr>",
            m.batch, m.caught, m.missed, m.timed_out, m.unviable
        );
    }
    let _ = writeln!(h, "</tbody>\n</table>\n</section>");
}

fn drilldown(h: &mut String, r: &ProgressReport) {
    if r.charted.is_empty() {
        return;
    }
    let _ = writeln!(h, "<section id=\"items\">\n<h2>Items of the charted batches</h2>");
    for b in &r.charted {
        drill_batch(h, b);
    }
    let _ = writeln!(h, "</section>");
}

fn drill_batch(h: &mut String, b: &ChartedBatch) {
    let _ = writeln!(
        h,
        "<details id=\"batch-{n}\">\n<summary>Batch {n}: {} — {} items, {} done</summary>\n<table class=\"items\">\n\
         <thead><tr><th scope=\"col\">Kind</th><th scope=\"col\" class=\"num\">ID</th><th scope=\"col\">Go name</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Rust target</th><th scope=\"col\" class=\"num\">Evidence run</th><th scope=\"col\">Commit</th></tr></thead>\n<tbody>",
        escape(&b.name),
        b.items.len(),
        b.counts.done(),
        n = b.number
    );
    for i in &b.items {
        let stale = if i.stale { " <span class=\"st st-stale\">stale</span>" } else { "" };
        let run = i.evidence_run.map_or_else(|| "-".to_string(), |r| r.to_string());
        let commit = i.commit.as_deref().map_or_else(|| "-".to_string(), |c| format!("<code title=\"{}\">{}</code>", escape(c), escape(c.get(..9).unwrap_or(c))));
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td><td>{}{stale}</td><td>{}</td><td class=\"num\">{run}</td><td>{commit}</td></tr>",
            i.kind.as_str(),
            i.id,
            escape(&i.name),
            status_badge(i.status),
            i.rust_target.as_deref().map_or_else(|| "-".to_string(), |t| format!("<code>{}</code>", escape(t)))
        );
    }
    let _ = writeln!(h, "</tbody>\n</table>\n</details>");
}

fn data_table(h: &mut String, s: &Series, by: Granularity, what: &str) {
    let first = if by == Granularity::Week { "Week of" } else { "Day" };
    let _ = writeln!(
        h,
        "<details><summary>The numbers behind the chart</summary>\n<table class=\"data\"><caption>Counts at the end of each {} for {}</caption>\n\
         <thead><tr><th scope=\"col\">{first}</th><th scope=\"col\" class=\"num\">Done</th><th scope=\"col\" class=\"num\">Verified</th><th scope=\"col\" class=\"num\">Deferred</th>\
         <th scope=\"col\" class=\"num\">Stub</th><th scope=\"col\" class=\"num\">Total</th><th scope=\"col\" class=\"num\">Velocity</th></tr></thead>\n<tbody>",
        by.as_str(),
        escape(what)
    );
    for p in &s.periods {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:+}</td></tr>",
            p.start, p.done, p.verified, p.deferred, p.stub, p.total, p.velocity
        );
    }
    let _ = writeln!(h, "</tbody>\n</table>\n</details>");
}

/// The chart in words, for its `<desc>` and caption.
fn describe(s: &Series, by: Granularity, scope: &str) -> String {
    match (s.periods.first(), s.periods.last()) {
        (Some(first), Some(last)) => format!(
            "Done and verified items of {scope} per {} from {} to {}: done went from {} to {} of {}, verified from {} to {}.",
            by.as_str(),
            first.start,
            last.end,
            s.before.done,
            last.done,
            s.total,
            s.before.verified,
            last.verified
        ),
        _ => format!("No status changes recorded for {scope}."),
    }
}

fn legend() -> &'static str {
    "<span class=\"key key-done\">● done</span><span class=\"key key-verified\">▲ verified</span><span class=\"key key-total\">- - total</span>"
}

fn projection_sentence(p: &Projection, by: Granularity) -> String {
    let line = super::trend::projection_line(p, by.as_str());
    if matches!(p.outcome, crate::domain::progress::Outcome::Finished) {
        line
    } else {
        format!("{line} Method: {}.", p.method)
    }
}

fn label(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::NotStarted => "Not started",
        ItemStatus::Stub => "Stub",
        ItemStatus::Complete => "Complete",
        ItemStatus::Verified => "Verified",
        ItemStatus::Deferred => "Deferred",
        ItemStatus::NA => "Not applicable",
    }
}

fn status_badge(s: ItemStatus) -> String {
    format!("<span class=\"st st-{s}\">{s}</span>")
}

fn batch_badge(s: BatchStatus) -> String {
    format!("<span class=\"st st-{s}\">{s}</span>")
}

fn when(at: &str) -> String {
    super::utc_minutes(at).unwrap_or_else(|| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(escape("<a href=\"x\">Tom's & co</a>"), "&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; co&lt;/a&gt;");
        assert_eq!(escape("bell\u{7}"), "bell\\u{7}");
    }

    #[test]
    fn mutation_section_only_with_recorded_scores() {
        let mut empty = String::new();
        mutation(&mut empty, &[]);
        assert_eq!(empty, "");
        let mut h = String::new();
        mutation(&mut h, &[MutationScore { batch: 33, caught: 8, missed: 1, timed_out: 1, unviable: 2 }, MutationScore { batch: 34, caught: 0, missed: 0, timed_out: 0, unviable: 3 }]);
        assert!(h.contains("<section id=\"mutation\">"), "{h}");
        assert!(h.contains("<td class=\"num\">33</td><td class=\"num\">8</td><td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">2</td><td class=\"num\">90.0%</td>"), "{h}");
        assert!(h.contains("<td class=\"num\">3</td><td class=\"num\">-</td>"), "no viable mutant, no score: {h}");
    }
}
