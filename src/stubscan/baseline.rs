//! Baseline files: the findings a legacy tree already had, so CI fails only
//! on new ones. Entries are keyed by rule, path and a hash of the matched
//! text — never line numbers, so edits elsewhere in a file do not disturb
//! them — with a count for identical matches in one file. Paths are
//! relative to the scan root, not to the working directory.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Finding;
use crate::error::Error;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub schema_version: u32,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    pub path: String,
    pub hash: String,
    pub count: usize,
}

type Key = (String, String, String);

/// First 16 hex digits of SHA-256 of the text (as the importer's body hash).
pub fn hash(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn key(f: &Finding, path: String) -> Key {
    (f.rule.to_string(), path, f.hash.clone())
}

/// `path_of`: a finding's path as the baseline records it (relative to the
/// scan root).
pub fn from_findings(findings: &[Finding], path_of: impl Fn(&Finding) -> String) -> BaselineFile {
    let mut counts: BTreeMap<Key, usize> = BTreeMap::new();
    for f in findings {
        *counts.entry(key(f, path_of(f))).or_default() += 1;
    }
    let entries = counts.into_iter().map(|((rule, path, hash), count)| Entry { rule, path, hash, count }).collect();
    BaselineFile { schema_version: VERSION, entries }
}

pub fn write(path: &Path, baseline: &BaselineFile) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(baseline)?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| anyhow::anyhow!("cannot write baseline {}: {e}", path.display()))
}

/// Read a baseline; a missing or malformed file is a usage error.
pub fn read(path: &Path) -> Result<BaselineFile, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::usage(format!("cannot read baseline {}: {e}", path.display())))?;
    let b: BaselineFile = serde_json::from_str(&text).map_err(|e| Error::usage(format!("baseline {} is not a porttrack baseline: {e}", path.display())))?;
    if b.schema_version != VERSION {
        return Err(Error::usage(format!("baseline {} has schema_version {}; this porttrack reads {VERSION}", path.display(), b.schema_version)));
    }
    Ok(b)
}

/// Remove the findings the baseline covers (each entry covers up to
/// `count` of its key); returns how many were removed.
pub fn subtract(findings: &mut Vec<Finding>, baseline: &BaselineFile, path_of: impl Fn(&Finding) -> String) -> usize {
    let mut left: BTreeMap<Key, usize> = baseline.entries.iter().map(|e| ((e.rule.clone(), e.path.clone(), e.hash.clone()), e.count)).collect();
    let before = findings.len();
    findings.retain(|f| match left.get_mut(&key(f, path_of(f))) {
        Some(n) if *n > 0 => {
            *n -= 1;
            false
        }
        _ => true,
    });
    before - findings.len()
}
