//! `batch update`: guarded, all-or-nothing status changes of at most 15
//! items, judged by `domain::transitions`.

use std::collections::BTreeMap;

use super::stub_findings::BatchFiles;
use crate::db::{ChangeInput, ChangeOutcome, Database};
use crate::domain::evidence::EvidenceUse;
use crate::domain::idlist::parse_list;
use crate::domain::status::ItemStatus;
use crate::domain::transitions::{judge, Request};
use crate::error::Error;

/// What the user asked for, before lists are parsed.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    pub batch: i64,
    pub modules: Option<String>,
    pub features: Option<String>,
    pub tests: Option<String>,
    pub status: ItemStatus,
    pub reason: Option<String>,
    pub override_reason: Option<String>,
    pub evidence: Option<i64>,
    pub actor: String,
    pub at: String,
    pub command: String,
    pub dry_run: bool,
}

/// Judge and apply one update. `stub_findings` maps feature IDs to a stub
/// finding in their Rust target (`path:line rule`), which blocks
/// complete/verified, as does a target in `files` that cannot be read;
/// `files` also holds the hashes evidence must match.
pub fn update(db: &mut Database, o: &UpdateOptions, stub_findings: BTreeMap<i64, String>, files: BatchFiles) -> Result<ChangeOutcome, Error> {
    let parse = |text: &Option<String>, what: &str| -> Result<_, Error> {
        match text {
            Some(t) => parse_list(t).map_err(|e| Error::usage(format!("--{what}: {e}"))),
            None => Ok(Vec::new()),
        }
    };
    let input = ChangeInput {
        modules: parse(&o.modules, "modules")?,
        features: parse(&o.features, "features")?,
        tests: parse(&o.tests, "tests")?,
        request: Request {
            batch: o.batch,
            to: Some(o.status),
            reason: o.reason.clone(),
            override_reason: o.override_reason.clone(),
            evidence_run: o.evidence,
        },
        actor: o.actor.clone(),
        at: o.at.clone(),
        command: o.command.clone(),
        dry_run: o.dry_run,
        stub_findings,
        target_problems: files.target_problems,
        current_hashes: files.current_hashes,
        mutation_problems: files.mutation_problems,
        evidence_use: EvidenceUse::Update,
    };
    db.change_status(&input, judge)
}
