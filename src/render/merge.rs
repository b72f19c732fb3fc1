//! Human text for `db merge`, `db install-merge-driver` and `conflicts`.

use crate::db::OpenConflict;
use crate::ops::merge::MergeReport;
use crate::ops::merge_driver::InstallReport;

pub fn merge_report(r: &MergeReport) -> String {
    let mut s = String::new();
    for u in &r.upgraded {
        s.push_str(&format!("upgraded {} from schema {} to {} before merging\n", u.copy, u.from_version, u.to_version));
    }
    s.push_str(&format!(
        "merged into {}: {} shared change(s), then {} from ours, {} from theirs, {} held by both; {} gate run(s) from theirs\n",
        r.output, r.shared_changes, r.ours_changes, r.theirs_changes, r.both_changes, r.runs_added
    ));
    if r.mappings_taken > 0 {
        s.push_str(&format!("took {} mapping edit(s) from theirs\n", r.mappings_taken));
    }
    if !r.mapping_conflicts.is_empty() {
        s.push_str(&format!("kept ours for {} mapping(s) both sides changed: {}\n", r.mapping_conflicts.len(), r.mapping_conflicts.join(", ")));
    }
    if r.conflicts.is_empty() {
        s.push_str("no conflicts\n");
        return s;
    }
    s.push_str(&format!("{} conflict(s): both copies moved these items to different statuses\n", r.conflicts.len()));
    let mut t = super::table(&["Item", "Claims", "Set to"]);
    for c in &r.conflicts {
        let claims: Vec<String> = c.claims.iter().map(|k| format!("{} ({})", k.status, k.actor)).collect();
        t.add_row(vec![format!("{} {}", c.item_kind, c.item_id), claims.join(" vs "), c.set_to.clone()]);
    }
    s.push_str(&format!("{t}\n"));
    s.push_str("settle each with `porttrack batch update` (`porttrack conflicts` lists them)\n");
    s
}

pub fn conflicts(list: &[OpenConflict]) -> String {
    if list.is_empty() {
        return "No open conflicts.\n".to_string();
    }
    let mut t = super::table(&["Item", "Name", "Batch", "Now", "Claims", "Merged at"]);
    for c in list {
        let claims: Vec<String> = c.claims.iter().map(|k| format!("{} by {} at {}", k.status, k.actor, k.at)).collect();
        t.add_row(vec![
            format!("{} {}", c.item_kind, c.item_id),
            c.name.clone(),
            c.batch.map_or(String::new(), |b| b.to_string()),
            c.status.clone(),
            claims.join("; "),
            c.at.clone(),
        ]);
    }
    format!("{t}\n{} open conflict(s); settle each with `porttrack batch update BATCH --features/--tests ID --status S`\n", list.len())
}

pub fn install_report(r: &InstallReport) -> String {
    let mut s = format!("git config of {}:\n", r.repository);
    for (k, v) in &r.config {
        s.push_str(&format!("  {k} = {v}\n"));
    }
    if r.attribute_added {
        s.push_str(&format!("added to {}: {}\n", r.gitattributes, r.attribute_line));
    } else {
        s.push_str(&format!("{} already has: {}\n", r.gitattributes, r.attribute_line));
    }
    s.push_str("commit .gitattributes so every clone merges the database the same way\n");
    s
}
