//! The HTML report in a real browser: headless Chromium (Debian's, which
//! `.ci/run` installs) loads the page of the fixture database; the test
//! reads the DOM, every request and every console message through the
//! DevTools protocol, and saves a screenshot as a CI artefact
//! (`target/ci-artifacts/report-html.png`, not committed). Without
//! Chromium the test is skipped with a message, except in CI, where it
//! must run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use super::cdp::{find_chromium, Browser};
use super::fixture::Fixture;
use crate::it::util::TestDir;

struct Loaded {
    session: String,
    requests: Vec<String>,
    errors: Vec<String>,
}

fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "{test}: chromium is not installed, and in CI it must be (.ci/run installs it)");
        eprintln!("skipping {test}: chromium is not installed (apt-get install chromium, or set PORTTRACK_CHROMIUM)");
    }
    found
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().expect("canonical path").display())
}

/// Open `url` in a new page with network, console and log events on, wait
/// for its load event and a moment for late messages.
fn load(b: &mut Browser, url: &str) -> Loaded {
    let session = b.new_page();
    let s = Some(session.as_str());
    for domain in ["Page.enable", "Network.enable", "Runtime.enable", "Log.enable"] {
        b.call(s, domain, json!({}));
    }
    b.call(s, "Emulation.setDeviceMetricsOverride", json!({ "width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": false }));
    b.call(s, "Page.navigate", json!({ "url": url }));
    b.wait_event(&session, "Page.loadEventFired");
    b.drain_for(Duration::from_millis(500));
    let mine = |e: &&Value| e["sessionId"] == session.as_str();
    let requests = b.events.iter().filter(mine).filter(|e| e["method"] == "Network.requestWillBeSent").map(|e| e["params"]["request"]["url"].as_str().unwrap_or("").to_string()).collect();
    let errors = b
        .events
        .iter()
        .filter(mine)
        .filter_map(|e| match e["method"].as_str()? {
            "Runtime.exceptionThrown" => Some(format!("exception: {}", e["params"]["exceptionDetails"])),
            "Runtime.consoleAPICalled" if matches!(e["params"]["type"].as_str(), Some("error" | "assert")) => Some(format!("console.{}: {}", e["params"]["type"], e["params"]["args"])),
            "Log.entryAdded" if e["params"]["entry"]["level"] == "error" => Some(format!("log: {}", e["params"]["entry"]["text"])),
            _ => None,
        })
        .collect();
    Loaded { session, requests, errors }
}

fn evaluate(b: &mut Browser, session: &str, expression: &str) -> Value {
    let r = b.call(Some(session), "Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }));
    assert!(r.get("exceptionDetails").is_none(), "{expression}: {}", r["exceptionDetails"]);
    r["result"]["value"].clone()
}

const DOM_FACTS: &str = r#"(() => {
  const q = (s) => Array.from(document.querySelectorAll(s));
  const burnup = document.querySelector('#burnup svg');
  return {
    burnupCircles: q('#burnup svg circle').length,
    burnupTriangles: q('#burnup svg polygon').length,
    burnupLabel: burnup && burnup.getAttribute('role') + ' ' + document.getElementById(burnup.getAttribute('aria-labelledby').split(' ')[1]).textContent,
    burnupWidth: burnup ? burnup.getBoundingClientRect().width : 0,
    miniCharts: q('#plan svg.chart').map(s => s.closest('article').id + ':' + s.querySelectorAll('circle').length),
    unlabelledCharts: q('svg').filter(s => !s.getAttribute('aria-labelledby')).length,
    batchRows: q('#batch-table tbody tr').map(r => Array.from(r.cells).map(c => c.textContent.trim()).join('|')),
    drillRows: q('#batch-1 tbody tr').length,
    stale: q('#stale-table tbody tr').map(r => r.cells[1].textContent),
    regressed: q('#regressed-table tbody tr').map(r => r.cells[1].textContent),
    mutation: !!document.getElementById('mutation'),
    scripts: document.scripts.length,
    title: document.title,
  };
})()"#;

#[test]
fn html_report_in_a_real_browser() {
    let Some(chromium) = chromium_or_skip("html_report_in_a_real_browser") else { return };
    let t = TestDir::new("browser");
    let f = Fixture::new(&t);
    t.ok(&["report", "html", "--db", f.db_arg(), "--by", "week", "--until", "2026-11-29", "-o", "report.html"]);
    // A page that does what the report must not: proves the checks below
    // can see a request and a console error.
    std::fs::write(t.join("control.html"), "<!DOCTYPE html><img src=\"http://127.0.0.1:9/x.png\" alt=\"\"><script>console.error('planted')</script>").expect("control page");

    let mut b = Browser::launch(&chromium, &t.join("profile"));
    let control = load(&mut b, &file_url(&t.join("control.html")));
    assert!(control.requests.iter().any(|u| u.starts_with("http://127.0.0.1:9/")), "request not seen: {:?}", control.requests);
    assert!(control.errors.iter().any(|e| e.contains("planted")), "console error not seen: {:?}", control.errors);

    let url = file_url(&t.join("report.html"));
    let page = load(&mut b, &url);
    assert_eq!(page.requests, [url], "the report loads nothing but itself");
    assert!(page.errors.is_empty(), "console errors: {:?}", page.errors);

    let dom = evaluate(&mut b, &page.session, DOM_FACTS);
    // Six weeks and the state before them, one point each for done
    // (circles) and verified (triangles).
    assert_eq!(dom["burnupCircles"], 7, "{dom}");
    assert_eq!(dom["burnupTriangles"], 7, "{dom}");
    assert_eq!(dom["burnupLabel"], "img Done and verified items of all items per week from 2026-10-19 to 2026-11-29: done went from 0 to 12 of 24, verified from 0 to 3.", "{dom}");
    assert!(dom["burnupWidth"].as_f64().unwrap() > 600.0, "the chart is laid out: {dom}");
    assert_eq!(dom["miniCharts"], json!(["chart-1:7", "chart-2:7"]), "batches in progress are charted: {dom}");
    assert_eq!(dom["unlabelledCharts"], 0, "{dom}");
    assert_eq!(
        dom["batchRows"],
        json!(["1|Alpha|in_progress|8/10|2/4|71.4|-|yes|0", "2|Beta|in_progress|2/8|0/0|25.0|1|no|0", "3|Gamma|pending|0/2|0/0|0.0|-|yes|0"]),
        "{dom}"
    );
    assert_eq!(dom["drillRows"], 14, "{dom}");
    assert_eq!(dom["stale"], json!(["alpha1"]), "{dom}");
    assert_eq!(dom["regressed"], json!(["alpha3", "alpha2"]), "latest first: {dom}");
    assert_eq!(dom["mutation"], false, "no mutation evidence, no section");
    assert_eq!(dom["scripts"], 0);

    let shot = b.call(Some(&page.session), "Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }));
    let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().expect("screenshot data")).expect("base64");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "screenshot of {} bytes", png.len());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-artifacts");
    std::fs::create_dir_all(&dir).expect("artefact dir");
    std::fs::write(dir.join("report-html.png"), &png).expect("save screenshot");
    eprintln!("screenshot: {}", dir.join("report-html.png").display());
}
