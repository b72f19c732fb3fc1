//! `report html` as a file: self-contained, escaped, and refusing bad
//! arguments before writing anything. (`browser.rs` checks the rendering.)

use super::fixture::Fixture;
use crate::it::util::{connect, TestDir};

fn report(t: &TestDir, f: &Fixture, extra: &[&str]) -> String {
    let mut args = vec!["report", "html", "--db", f.db_arg(), "--by", "week", "--until", "2026-11-29", "-o", "r.html"];
    args.extend_from_slice(extra);
    let (code, _, err) = t.run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote r.html"), "{err}");
    std::fs::read_to_string(t.join("r.html")).expect("report written")
}

#[test]
fn the_page_is_self_contained() {
    let t = TestDir::new("html-offline");
    let f = Fixture::new(&t);
    let html = report(&t, &f, &[]);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{}", &html[..80]);
    assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"));
    assert!(!html.contains("<script"), "no scripts");
    assert!(!html.contains("<link") && !html.contains("<img") && !html.contains("@import"), "nothing fetched");
    // The only URL is the SVG namespace, which is a name, not a request.
    let url = regex::Regex::new(r#"[a-zA-Z][a-zA-Z0-9+.-]*://[^"'\s)<>]*"#).expect("regex");
    let urls: Vec<&str> = url.find_iter(&html).map(|m| m.as_str()).collect();
    assert!(!urls.is_empty() && urls.iter().all(|u| *u == "http://www.w3.org/2000/svg"), "{urls:?}");
    assert_eq!(html.matches("<svg class=\"chart\" role=\"img\"").count(), 3, "the burn-up and batches 1 and 2");
    assert!(html.contains("<title id=\"burnup-chart-title\">Burn-up of all items</title>"));
    assert!(!html.contains("id=\"mutation\""), "no mutation evidence, no section");
}

#[test]
fn drill_down_shows_targets_evidence_and_commit() {
    let t = TestDir::new("html-drill");
    let f = Fixture::new(&t);
    let html = report(&t, &f, &[]);
    let start = html.find("<details id=\"batch-1\">").expect("batch 1 drill-down");
    let drill = &html[start..start + html[start..].find("</details>").expect("end")];
    assert_eq!(drill.matches("<tr><td>").count(), 14, "10 features and 4 tests");
    assert!(drill.contains("<code>src/alpha1.rs::crate::alpha1</code>"), "{drill}");
    assert!(drill.contains(&format!("<code title=\"{0}\">{1}</code>", super::fixture::RUN_COMMIT, &super::fixture::RUN_COMMIT[..9])), "{drill}");
    assert!(drill.contains("<span class=\"st st-verified\">verified</span> <span class=\"st st-stale\">stale</span>"), "feature 1 is stale");
}

#[test]
fn chosen_batches_and_escaped_names() {
    let t = TestDir::new("html-escape");
    let f = Fixture::new(&t);
    connect(&f.db).execute("UPDATE batches SET name = '<script>alert(1)</script> & co' WHERE id = 3", []).expect("rename");
    let html = report(&t, &f, &["--batches", "3,1"]);
    assert!(!html.contains("<script>alert"), "names are escaped");
    assert!(html.contains("Batch 3: &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
    assert!(html.contains("<details id=\"batch-3\">") && html.contains("<details id=\"batch-1\">") && !html.contains("<details id=\"batch-2\">"));
    assert!(html.find("id=\"chart-3\"") < html.find("id=\"chart-1\""), "in the order asked for");
}

#[test]
fn the_built_in_plan_charts_its_named_batches() {
    let t = TestDir::new("html-builtin");
    t.ok(&["init"]);
    t.ok(&["batch", "update", "30", "--features", "startRaftNode", "--status", "stub"]);
    t.ok(&["report", "html", "-o", "r.html"]);
    let html = std::fs::read_to_string(t.join("r.html")).expect("report");
    for n in 30..=36 {
        assert!(html.contains(&format!("<article class=\"mini\" id=\"chart-{n}\"")), "batch {n} charted");
    }
    assert_eq!(html.matches("<article class=\"mini\"").count(), 7);
    assert!(html.contains("the built-in plan&#39;s batches 30–36"));
}

#[test]
fn bad_arguments_write_nothing() {
    let t = TestDir::new("html-bad");
    let f = Fixture::new(&t);
    let err = t.fails(&["report", "html", "--db", f.db_arg(), "--batches", "1,99", "-o", "r.html"], 3);
    assert!(err.contains("99"), "{err}");
    let err = t.fails(&["report", "html", "--db", f.db_arg(), "--batches", "alpha", "-o", "r.html"], 2);
    assert!(err.contains("'alpha' is not a batch number"), "{err}");
    let err = t.fails(&["report", "html", "--db", f.db_arg(), "-o", "no/such/dir/r.html"], 2);
    assert!(err.contains("no/such/dir"), "{err}");
    assert!(!t.join("r.html").exists());
    let leftovers: Vec<_> = std::fs::read_dir(t.path()).expect("list").filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().contains("porttrack-tmp")).collect();
    assert!(leftovers.is_empty());
}

#[test]
fn json_gives_the_report_data() {
    let t = TestDir::new("html-json");
    let f = Fixture::new(&t);
    let v = t.json(&["report", "html", "--db", f.db_arg(), "--by", "week", "--until", "2026-11-29"]);
    assert_eq!(v["command"], "report html");
    assert_eq!(v["overall"]["periods"].as_array().map(Vec::len), Some(6));
    assert_eq!(v["projection"]["finish"], "2027-01-10");
    assert_eq!(v["charted"].as_array().map(Vec::len), Some(2));
    assert_eq!((v["stale_total"].as_u64(), v["regressed_total"].as_u64()), (Some(1), Some(2)));
    assert_eq!(v["batches"][1]["depends_on"], serde_json::json!([1]));
}
