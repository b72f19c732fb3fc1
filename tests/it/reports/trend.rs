//! `report trend` of the fixture's six weeks, against values worked out by
//! hand from the timeline in `fixture.rs`.

use serde_json::Value;

use super::fixture::Fixture;
use crate::it::util::TestDir;

/// (week start, done, verified, deferred, stub, velocity) of each period.
fn rows(v: &Value) -> Vec<(String, u64, u64, u64, u64, i64)> {
    v["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .map(|p| {
            let n = |k: &str| p[k].as_u64().unwrap_or_else(|| panic!("{k} in {p}"));
            (p["start"].as_str().expect("start").to_string(), n("done"), n("verified"), n("deferred"), n("stub"), p["velocity"].as_i64().expect("velocity"))
        })
        .collect()
}

fn owned(rows: &[(&str, u64, u64, u64, u64, i64)]) -> Vec<(String, u64, u64, u64, u64, i64)> {
    rows.iter().map(|&(s, a, b, c, d, e)| (s.to_string(), a, b, c, d, e)).collect()
}

#[test]
fn weekly_trend_of_all_items_and_its_projection() {
    let t = TestDir::new("trend-all");
    let f = Fixture::new(&t);
    let v = t.json(&["report", "trend", "--db", f.db_arg(), "--until", "2026-11-29"]);
    assert_eq!(v["command"], "report trend");
    assert_eq!(v["by"], "week");
    assert_eq!(v["total"], 24);
    assert_eq!(v["changes"], 22);
    assert_eq!(v["unexplained"], 0);
    assert_eq!(
        rows(&v),
        owned(&[
            ("2026-10-19", 1, 0, 0, 2, 1),
            ("2026-10-26", 4, 0, 1, 0, 3),
            ("2026-11-02", 7, 4, 1, 0, 3),
            ("2026-11-09", 7, 4, 1, 0, 0),
            ("2026-11-16", 10, 3, 1, 1, 3),
            ("2026-11-23", 12, 3, 1, 2, 2),
        ])
    );
    assert!(v["periods"].as_array().unwrap().iter().all(|p| p["total"] == 24));
    assert_eq!(v["periods"][5]["end"], "2026-11-29");
    // Velocity over the last 4 weeks: (3 + 0 + 3 + 2) / 4 = 2 a week; 12
    // left → 6 more weeks after the week of 11-23, ending Sunday 2027-01-10.
    let p = &v["projection"];
    assert_eq!(p["outcome"], "projected");
    assert_eq!((p["window"].as_u64(), p["velocity"].as_f64(), p["remaining"].as_u64()), (Some(4), Some(2.0), Some(12)));
    assert_eq!((p["periods_left"].as_u64(), p["finish"].as_str()), (Some(6), Some("2027-01-10")));
    assert!(p["method"].as_str().unwrap().contains("last 4 periods"), "{p}");
}

#[test]
fn trend_of_one_batch() {
    let t = TestDir::new("trend-batch");
    let f = Fixture::new(&t);
    let v = t.json(&["report", "trend", "--db", f.db_arg(), "--batch", "1", "--until", "2026-11-29"]);
    assert_eq!((v["batch"]["number"].as_i64(), v["batch"]["name"].as_str(), v["total"].as_u64()), (Some(1), Some("Alpha"), Some(14)));
    assert_eq!(
        rows(&v),
        owned(&[
            ("2026-10-19", 1, 0, 0, 2, 1),
            ("2026-10-26", 4, 0, 1, 0, 3),
            ("2026-11-02", 7, 4, 1, 0, 3),
            ("2026-11-09", 7, 4, 1, 0, 0),
            ("2026-11-16", 9, 3, 1, 0, 2),
            ("2026-11-23", 10, 3, 1, 1, 1),
        ])
    );
    // (3 + 0 + 2 + 1) / 4 = 1.5 a week, 4 left → 3 weeks → 2026-12-20.
    let p = &v["projection"];
    assert_eq!((p["velocity"].as_f64(), p["periods_left"].as_u64(), p["finish"].as_str()), (Some(1.5), Some(3), Some("2026-12-20")));
}

#[test]
fn since_widens_the_window_and_too_few_periods_give_no_projection() {
    let t = TestDir::new("trend-since");
    let f = Fixture::new(&t);
    // Batch 2 first changed in the week of 11-16: two weeks, no projection.
    let short = t.json(&["report", "trend", "--db", f.db_arg(), "--batch", "2", "--until", "2026-11-29"]);
    assert_eq!(rows(&short), owned(&[("2026-11-16", 1, 0, 0, 1, 1), ("2026-11-23", 2, 0, 0, 1, 1)]));
    assert_eq!(short["projection"]["outcome"], "too_few_periods");
    assert!(short["projection"]["finish"].is_null());
    let human = t.ok(&["report", "trend", "--db", f.db_arg(), "--batch", "2", "--until", "2026-11-29"]);
    assert!(human.contains("No projection: 2 week(s) of history, at least 3 needed."), "{human}");
    // From 10-19 the quiet weeks count: (0 + 0 + 1 + 1) / 4 = 0.5 a week, 6
    // left → 12 weeks → Sunday 2027-02-21.
    let long = t.json(&["report", "trend", "--db", f.db_arg(), "--batch", "2", "--since", "2026-10-21", "--until", "2026-11-29"]);
    assert_eq!(long["periods"].as_array().unwrap().len(), 6);
    assert_eq!(long["periods"][0]["start"], "2026-10-19");
    let p = &long["projection"];
    assert_eq!((p["velocity"].as_f64(), p["periods_left"].as_u64(), p["finish"].as_str()), (Some(0.5), Some(12), Some("2027-02-21")));
    // Changes before --since set the starting state.
    let late = t.json(&["report", "trend", "--db", f.db_arg(), "--since", "2026-11-09", "--until", "2026-11-29"]);
    assert_eq!(rows(&late)[0], ("2026-11-09".to_string(), 7, 4, 1, 0, 0));
}

#[test]
fn daily_trend_and_a_past_until() {
    let t = TestDir::new("trend-day");
    let f = Fixture::new(&t);
    let v = t.json(&["report", "trend", "--db", f.db_arg(), "--by", "day", "--since", "2026-11-16", "--until", "2026-11-19"]);
    assert_eq!(
        rows(&v),
        owned(&[
            ("2026-11-16", 7, 4, 1, 0, 0),
            ("2026-11-17", 8, 4, 1, 1, 1),
            ("2026-11-18", 8, 3, 1, 1, 0),
            ("2026-11-19", 10, 3, 1, 1, 2),
        ])
    );
    // (0 + 1 + 0 + 2) / 4 = 0.75 a day; 14 left → 19 days after 11-19.
    assert_eq!(v["projection"]["finish"], "2026-12-08");
    assert_eq!(v["unexplained"], 0, "later changes still count for the table check");
}

#[test]
fn human_trend_states_rule_method_and_projection() {
    let t = TestDir::new("trend-human");
    let f = Fixture::new(&t);
    let out = t.ok(&["report", "trend", "--db", f.db_arg(), "--until", "2026-11-29"]);
    assert!(out.starts_with("Trend of all items, by week, through 2026-11-29 (done = complete + verified + n_a)\n"), "{out}");
    assert!(out.contains(" 2026-11-23     12          3          1      2      24         +2"), "{out}");
    assert!(out.contains("Velocity: 2.0 done per week over the last 4 weeks. Projected finish: 2027-01-10, after 6 more week(s) at that pace (12 item(s) left)."), "{out}");
    assert!(out.contains("(method: recent velocity = mean change of done"), "{out}");
}

#[test]
fn bad_trend_arguments_are_usage_errors() {
    let t = TestDir::new("trend-bad");
    let f = Fixture::new(&t);
    let err = t.fails(&["report", "trend", "--db", f.db_arg(), "--since", "2026-02-30"], 2);
    assert!(err.contains("'2026-02-30' is not a date"), "{err}");
    let err = t.fails(&["report", "trend", "--db", f.db_arg(), "--since", "2026-11-20", "--until", "2026-11-01"], 2);
    assert!(err.contains("--since 2026-11-20 is after --until 2026-11-01"), "{err}");
    let err = t.fails(&["report", "trend", "--db", f.db_arg(), "--by", "month"], 2);
    assert!(err.contains("month"), "{err}");
    let err = t.fails(&["report", "trend", "--db", f.db_arg(), "--batch", "99"], 3);
    assert!(err.contains("99"), "{err}");
}

#[test]
fn empty_history_has_no_periods() {
    let t = TestDir::new("trend-empty");
    t.ok(&["init"]);
    let v = t.json(&["report", "trend", "--batch", "33"]);
    assert_eq!(v["periods"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["projection"]["outcome"], "too_few_periods");
    let out = t.ok(&["report", "trend"]);
    assert!(out.contains("No status changes recorded."), "{out}");
}

#[test]
fn statuses_changed_outside_porttrack_are_noted() {
    let t = TestDir::new("trend-unexplained");
    let f = Fixture::new(&t);
    let conn = crate::it::util::connect(&f.db);
    conn.execute("UPDATE features SET status = 'complete' WHERE id IN (19, 20)", []).expect("raw update");
    let v = t.json(&["report", "trend", "--db", f.db_arg(), "--until", "2026-11-29"]);
    assert_eq!(v["unexplained"], 2);
    assert_eq!(v["periods"][5]["done"], 12, "only recorded changes count");
    let out = t.ok(&["report", "trend", "--db", f.db_arg(), "--until", "2026-11-29"]);
    assert!(out.contains("Note: 2 item(s) have a status the history does not explain"), "{out}");
}
