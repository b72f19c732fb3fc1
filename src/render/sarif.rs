//! `stub scan` as SARIF 2.1.0, the format code-scanning UIs import: every
//! rule in `tool.driver.rules`, one result per finding with its location
//! relative to the source root (`%SRCROOT%`).

use serde_json::{json, Value};

use crate::stubscan::{rules, ScanReport};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn sarif(r: &ScanReport) -> String {
    let rules: Vec<Value> = rules::ALL
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.id,
                "shortDescription": { "text": rule.summary },
                "fullDescription": { "text": rule.summary },
                "defaultConfiguration": { "level": "error" },
                "help": { "text": format!("{} Suppress with `// porttrack: allow({}) reason`.", rule.summary, rule.id) },
            })
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let mut message = f.message.clone();
            if let Some(feature) = &f.feature {
                message.push_str(&format!(" (feature {} {})", feature.id, feature.go_name));
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": rules::ALL.iter().position(|rule| rule.id == f.rule),
                "level": "error",
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact(&f.path),
                        "region": { "startLine": f.line, "startColumn": f.column },
                    }
                }],
                "partialFingerprints": { "porttrackHash/v1": f.hash },
            })
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "porttrack",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// A relative path becomes a URI reference against `%SRCROOT%`; a path
/// outside the root becomes a `file://` URI.
fn artifact(path: &str) -> Value {
    if path.starts_with('/') {
        json!({ "uri": format!("file://{}", encode(path)) })
    } else {
        json!({ "uri": encode(path), "uriBaseId": "%SRCROOT%" })
    }
}

/// Percent-encode everything but unreserved characters and `/`.
fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(artifact("src/a b.rs")["uri"], "src/a%20b.rs");
        assert_eq!(artifact("/tmp/x.rs")["uri"], "file:///tmp/x.rs");
        assert!(artifact("/tmp/x.rs").get("uriBaseId").is_none());
    }
}
