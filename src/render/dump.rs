//! The canonical text of `porttrack db dump` (one line per gate run,
//! change and moved item; free text JSON-quoted so every line stays one
//! line), and the text of `porttrack db diff`.

use crate::ops::dump::{DbDiff, Dump, ItemLine};

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn opt(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

fn item(i: &ItemLine) -> String {
    match &i.evidence {
        Some(e) => format!("{} {} {} evidence={e}", i.kind, i.id, i.status),
        None => format!("{} {} {}", i.kind, i.id, i.status),
    }
}

pub fn dump(d: &Dump) -> String {
    let mut s = String::new();
    if let Some(rev) = &d.since {
        s.push_str(&format!("# porttrack db dump --since {rev}\n"));
    }
    for r in &d.runs {
        s.push_str(&format!(
            "run {} {} {} {} batch={} provenance={} commit={} tests={}/{}/{} results={} by={}\n",
            r.started_at,
            r.uid,
            r.kind,
            r.outcome,
            r.batch.map_or("-".to_string(), |b| b.to_string()),
            r.provenance,
            opt(r.commit.as_deref()),
            r.passed,
            r.failed,
            r.skipped,
            r.results,
            q(opt(r.actor.as_deref())),
        ));
    }
    for c in &d.changes {
        let mut line = format!("change {} {} {} {} {} -> {} by={} call={}", c.at, c.uid, c.item_kind, c.item_id, c.from_status, c.to_status, q(&c.actor), c.change_uid);
        if let Some(e) = &c.evidence_uid {
            line.push_str(&format!(" evidence={e}"));
        }
        if let Some(o) = &c.override_rec {
            line.push_str(&format!(" override={}", q(&o.reason)));
        }
        if let Some(r) = &c.reason {
            line.push_str(&format!(" reason={}", q(r)));
        }
        if let Some(m) = &c.merge_claims {
            line.push_str(&format!(" conflict={}", q(m)));
        }
        s.push_str(&line);
        s.push('\n');
    }
    for i in &d.items {
        s.push_str(&format!("item {}\n", item(i)));
    }
    s
}

pub fn diff(d: &DbDiff) -> String {
    if d.is_empty() {
        return format!("{} and {} hold the same items, changes and gate runs\n", d.a, d.b);
    }
    let mut s = String::new();
    if !d.items.is_empty() {
        let mut t = super::table(&["Item", "Name", "A", "B"]);
        for x in &d.items {
            let side = |i: &ItemLine| match &i.evidence {
                Some(e) => format!("{} (evidence {e})", i.status),
                None => i.status.clone(),
            };
            t.add_row(vec![format!("{} {}", x.kind, x.id), x.name.clone(), side(&x.a), side(&x.b)]);
        }
        s.push_str(&format!("{t}\n{} item(s) differ (A = {}, B = {})\n", d.items.len(), d.a, d.b));
    }
    for (what, list) in [("items only in A", &d.only_in_a), ("items only in B", &d.only_in_b)] {
        if !list.is_empty() {
            s.push_str(&format!("{} {what}: {}\n", list.len(), list.join(", ")));
        }
    }
    for (what, list) in [
        ("change(s) only in A", &d.changes_only_in_a),
        ("change(s) only in B", &d.changes_only_in_b),
        ("gate run(s) only in A", &d.runs_only_in_a),
        ("gate run(s) only in B", &d.runs_only_in_b),
    ] {
        if !list.is_empty() {
            s.push_str(&format!("{} {what} (--json lists their IDs)\n", list.len()));
        }
    }
    s
}
