//! The transition rules of item statuses, in one place. `batch update` and
//! `verify` both judge every item here before anything is written; the
//! database adds its own guard for `verified` (a trigger).
//!
//! | from \ to   | not_started | stub   | complete | verified        | deferred | n_a    |
//! |-------------|-------------|--------|----------|-----------------|----------|--------|
//! | not_started | ·           | ok     | deps     | deps, evidence  | reason   | reason |
//! | stub        | ok          | ·      | deps     | **forbidden**   | reason   | reason |
//! | complete    | ok          | ok     | ·        | deps, evidence  | reason   | reason |
//! | verified    | reason      | reason | reason   | ·               | reason   | reason |
//! | deferred    | ok          | ok     | deps     | deps, evidence  | ·        | reason |
//! | n_a         | ok          | ok     | deps     | **forbidden**   | reason   | ·      |
//!
//! - *deps*: every batch the item's batch depends on is done, unless
//!   `--override "reason"` is given (the override is recorded).
//! - *evidence*: `--evidence RUN` names a recorded test-gate run that covers
//!   the item: for a test, its mapped Rust test passed in that run; for a
//!   feature, at least one test exercising it (a linked source test's Rust
//!   test, or a Rust test registered for it) passed and none failed. A
//!   feature with no such test can never be verified.
//! - *reason*: `--reason TEXT`, not blank.
//! - Moving a feature to complete or verified is also refused while the
//!   stub scan reports a finding in its Rust target, or while that target
//!   cannot be read (missing, outside the project, not a regular file).
//! - *mutation* (a Rust feature, when `[verify] mutants = true`): its tests
//!   must also kill its function's mutants: a trusted mutation run for the
//!   function body and its tests as they are now, with at least one viable mutant and none
//!   missed (`domain::mutation::problem`; a declared equivalent mutant is
//!   listed, not counted).
//! - The evidence run must also be admitted by `domain::evidence` (trusted,
//!   completed, the item's batch) and have recorded the item's Rust file as
//!   it is now.
//! - A module's own work is its features and tests: → complete needs every
//!   one of them done, → verified needs every one verified or n_a (and at
//!   least one verified); a module needs no evidence run of its own.
//! - Setting the status an item already has changes nothing, except on an
//!   item a merge left in conflict (`porttrack conflicts`): there it is the
//!   change that settles the conflict.

use serde::Serialize;

use super::status::{ItemKind, ItemStatus};

/// What a transition needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    pub reason: bool,
    pub evidence: bool,
    pub dependencies: bool,
}

/// The rule for `from → to` (`from != to`), or why it is forbidden.
pub fn rule(from: ItemStatus, to: ItemStatus) -> Result<Needs, &'static str> {
    use ItemStatus::*;
    match (from, to) {
        (Stub, Verified) => Err("a stub cannot be verified; complete the port first (stub → complete → verified)"),
        (NA, Verified) => Err("an item that does not apply has nothing to verify; move it to not_started first"),
        _ => Ok(Needs {
            reason: matches!(to, Deferred | NA) || from == Verified,
            evidence: to == Verified,
            dependencies: matches!(to, Complete | Verified),
        }),
    }
}

/// What the requested change is.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub batch: i64,
    pub to: Option<ItemStatus>,
    pub reason: Option<String>,
    pub override_reason: Option<String>,
    pub evidence_run: Option<i64>,
}

/// Unfinished items of the batches the target batch depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependencies {
    /// Descriptions of the first few unfinished items.
    pub first: Vec<String>,
    pub count: u64,
    /// Dependency batches that are not done.
    pub batches: Vec<i64>,
}

/// How well an evidence run covers one item. For a module it is its own
/// items: `exercising` its features and tests that are not n_a, `passed`
/// those verified, `failed` those not done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Rust tests that exercise the item (for a test: its mapped Rust test).
    pub exercising: Vec<String>,
    pub passed: Vec<String>,
    pub failed: Vec<String>,
    /// Mappings that name tests in several containers of the run (the
    /// same path in two binaries), each with its candidates.
    pub ambiguous: Vec<String>,
}

/// Everything about one item that its judgement depends on.
#[derive(Debug, Clone)]
pub struct Facts {
    pub kind: ItemKind,
    pub id: i64,
    pub name: String,
    pub batch: Option<i64>,
    pub status: ItemStatus,
    /// Coverage by the requested evidence run (None when none was given).
    pub coverage: Option<Coverage>,
    /// A stub-scan finding in the item's Rust target (`path:line rule`).
    pub stub_finding: Option<String>,
    /// Why the feature's Rust target cannot be checked (missing, not a
    /// regular file inside the project, unmapped for `verified`).
    pub target_problem: Option<String>,
    /// Why the evidence run does not match the item's current mapping
    /// (its Rust file changed, or was mapped after the run).
    pub evidence_problem: Option<String>,
    /// The item's last change is a merge's unsettled conflict: setting the
    /// status it already has settles it (a change, not a no-op).
    pub in_conflict: bool,
    /// Why a feature's mutation evidence does not allow verified (no
    /// trusted run for its current function body, a missed mutant, no
    /// viable mutant); None when it does or when none is required.
    pub mutation_problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "why", rename_all = "snake_case")]
pub enum Verdict {
    /// Moves to the requested status; `override_used` when the dependency
    /// rule was waived by `--override`.
    Change { override_used: bool },
    Unchanged,
    Refused(String),
}

/// Judge one item against the request. Pure: all facts come in.
pub fn judge(item: &Facts, req: &Request, deps: &Dependencies) -> Verdict {
    let Some(to) = req.to else {
        return Verdict::Refused("no target status".into());
    };
    if item.batch != Some(req.batch) {
        let actual = item.batch.map_or("no batch".to_string(), |b| format!("batch {b}"));
        return Verdict::Refused(format!("belongs to {actual}, not batch {}", req.batch));
    }
    if item.status == to && !item.in_conflict {
        return Verdict::Unchanged;
    }
    if item.status == to {
        return Verdict::Change { override_used: false };
    }
    let needs = match rule(item.status, to) {
        Ok(n) => n,
        Err(why) => return Verdict::Refused(format!("{} → {to} is forbidden: {why}", item.status)),
    };
    if needs.reason && req.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        let why = if item.status == ItemStatus::Verified { format!("leaving verified (→ {to})") } else { format!("→ {to}") };
        return Verdict::Refused(format!("{why} needs --reason"));
    }
    let mut override_used = false;
    if needs.dependencies && deps.count > 0 {
        if req.override_reason.as_deref().is_some_and(|r| !r.trim().is_empty()) {
            override_used = true;
        } else {
            return Verdict::Refused(format!(
                "→ {to} needs the batches it depends on to be done; {} dependency item(s) unfinished (pass --override \"reason\" to proceed anyway)",
                deps.count
            ));
        }
    }
    if item.kind == ItemKind::Module {
        if let Some(why) = module_gap(to, item.coverage.as_ref()) {
            return Verdict::Refused(why);
        }
    } else if needs.evidence {
        match (&item.coverage, req.evidence_run) {
            (_, None) | (None, _) => return Verdict::Refused("→ verified needs --evidence RUN".into()),
            (Some(c), Some(run)) => {
                if let Some(why) = coverage_gap(item.kind, c, run) {
                    return Verdict::Refused(why);
                }
                if let Some(why) = &item.evidence_problem {
                    return Verdict::Refused(why.clone());
                }
                if let Some(why) = item.mutation_problem.as_ref().filter(|_| item.kind == ItemKind::Feature) {
                    return Verdict::Refused(format!("its tests do not kill its mutants: {why}"));
                }
            }
        }
    }
    if matches!(to, ItemStatus::Complete | ItemStatus::Verified) {
        if let Some(why) = &item.target_problem {
            return Verdict::Refused(format!("its Rust target cannot be checked for stubs: {why}"));
        }
        if let Some(f) = &item.stub_finding {
            return Verdict::Refused(format!("stub finding at {f}"));
        }
    }
    Verdict::Change { override_used }
}

/// Why a module cannot be `to` yet, given its items.
fn module_gap(to: ItemStatus, items: Option<&Coverage>) -> Option<String> {
    let first = |names: &[String]| names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    match (to, items) {
        (ItemStatus::Complete | ItemStatus::Verified, None) => Some("its features and tests could not be read".into()),
        (ItemStatus::Complete, Some(c)) if !c.failed.is_empty() => {
            Some(format!("{} of its features and tests are not done (first: {})", c.failed.len(), first(&c.failed)))
        }
        (ItemStatus::Verified, Some(c)) if c.exercising.is_empty() => Some("has no feature or test that could be verified".into()),
        (ItemStatus::Verified, Some(c)) if c.passed.len() < c.exercising.len() => {
            let open: Vec<String> = c.exercising.iter().filter(|n| !c.passed.contains(n)).cloned().collect();
            Some(format!("{} of its {} features and tests are not verified (first: {})", open.len(), c.exercising.len(), first(&open)))
        }
        _ => None,
    }
}

/// Why `c` does not prove an item of `kind` in `run`, if it does not.
pub fn coverage_gap(kind: ItemKind, c: &Coverage, run: i64) -> Option<String> {
    if !c.ambiguous.is_empty() {
        return Some(format!("in run {run}: {}", c.ambiguous.join("; ")));
    }
    match kind {
        // Judged by `module_gap` instead: a module has no tests of its own.
        ItemKind::Module => None,
        ItemKind::Test => match c.exercising.first() {
            None => Some("has no mapped Rust test (map it with `porttrack map test`)".into()),
            Some(t) if !c.failed.is_empty() => Some(format!("its Rust test {t} failed in run {run}")),
            Some(t) if c.passed.is_empty() => Some(format!("its Rust test {t} did not pass in run {run}")),
            Some(_) => None,
        },
        ItemKind::Feature => {
            if c.exercising.is_empty() {
                Some("no test exercises it (no linked test has a Rust test, none is registered for it), so it cannot be verified".into())
            } else if !c.failed.is_empty() {
                Some(format!("test(s) exercising it failed in run {run}: {}", c.failed.join(", ")))
            } else if c.passed.is_empty() {
                Some(format!("none of the {} test(s) exercising it passed in run {run}", c.exercising.len()))
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_same_status_settles_a_merge_conflict() {
        let req = Request { batch: 33, to: Some(ItemStatus::Stub), ..Default::default() };
        let deps = Dependencies::default();
        assert_eq!(judge(&facts(ItemStatus::Stub, ItemKind::Feature), &req, &deps), Verdict::Unchanged);
        let conflicted = Facts { in_conflict: true, ..facts(ItemStatus::Stub, ItemKind::Feature) };
        assert_eq!(judge(&conflicted, &req, &deps), Verdict::Change { override_used: false });
    }

    fn facts(status: ItemStatus, kind: ItemKind) -> Facts {
        Facts { kind, id: 1, name: "x".into(), batch: Some(33), status, coverage: None, stub_finding: None, target_problem: None, evidence_problem: None, in_conflict: false, mutation_problem: None }
    }

    fn req(to: ItemStatus) -> Request {
        Request { batch: 33, to: Some(to), ..Request::default() }
    }

    fn refused(v: Verdict) -> String {
        match v {
            Verdict::Refused(why) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn deferred_and_n_a_need_a_reason() {
        for to in [ItemStatus::Deferred, ItemStatus::NA] {
            let why = refused(judge(&facts(ItemStatus::NotStarted, ItemKind::Feature), &req(to), &Dependencies::default()));
            assert!(why.contains("needs --reason"), "{why}");
            let mut r = req(to);
            r.reason = Some("  ".into());
            assert!(refused(judge(&facts(ItemStatus::NotStarted, ItemKind::Feature), &r, &Dependencies::default())).contains("--reason"));
            r.reason = Some("blocked on batch 34".into());
            assert_eq!(judge(&facts(ItemStatus::NotStarted, ItemKind::Feature), &r, &Dependencies::default()), Verdict::Change { override_used: false });
        }
    }

    #[test]
    fn leaving_verified_needs_a_reason() {
        let why = refused(judge(&facts(ItemStatus::Verified, ItemKind::Test), &req(ItemStatus::Complete), &Dependencies::default()));
        assert!(why.contains("leaving verified"), "{why}");
    }

    #[test]
    fn dependencies_block_unless_overridden() {
        let deps = Dependencies { first: vec!["feature 1".into()], count: 3, batches: vec![32] };
        let why = refused(judge(&facts(ItemStatus::NotStarted, ItemKind::Feature), &req(ItemStatus::Complete), &deps));
        assert!(why.contains("3 dependency item(s) unfinished"), "{why}");
        let mut r = req(ItemStatus::Complete);
        r.override_reason = Some("batch 32 is being ported in parallel".into());
        assert_eq!(judge(&facts(ItemStatus::NotStarted, ItemKind::Feature), &r, &deps), Verdict::Change { override_used: true });
        // stub needs no dependency check
        assert_eq!(judge(&facts(ItemStatus::NotStarted, ItemKind::Feature), &req(ItemStatus::Stub), &deps), Verdict::Change { override_used: false });
    }

    #[test]
    fn verified_needs_covering_evidence() {
        let none = Dependencies::default();
        let mut f = facts(ItemStatus::Complete, ItemKind::Feature);
        assert!(refused(judge(&f, &req(ItemStatus::Verified), &none)).contains("--evidence"));
        let mut r = req(ItemStatus::Verified);
        r.evidence_run = Some(7);
        f.coverage = Some(Coverage::default());
        assert!(refused(judge(&f, &r, &none)).contains("no test exercises it"));
        f.coverage = Some(Coverage { exercising: vec!["a".into(), "b".into()], passed: vec!["a".into()], failed: vec!["b".into()], ambiguous: vec![] });
        assert!(refused(judge(&f, &r, &none)).contains("failed in run 7: b"));
        f.coverage = Some(Coverage { exercising: vec!["a".into()], passed: vec![], failed: vec![], ambiguous: vec![] });
        assert!(refused(judge(&f, &r, &none)).contains("none of the 1 test(s)"));
        f.coverage = Some(Coverage { exercising: vec!["a".into()], passed: vec!["a".into()], failed: vec![], ambiguous: vec!["a is ambiguous: it names 2 tests (x a, y a)".into()] });
        let why = refused(judge(&f, &r, &Dependencies::default()));
        assert!(why.contains("a is ambiguous: it names 2 tests (x a, y a)"), "{why}");
        f.coverage = Some(Coverage { exercising: vec!["a".into()], passed: vec!["a".into()], failed: vec![], ambiguous: vec![] });
        assert_eq!(judge(&f, &r, &none), Verdict::Change { override_used: false });
        f.evidence_problem = Some("its Rust file a.rs changed since run 7".into());
        assert_eq!(refused(judge(&f, &r, &none)), "its Rust file a.rs changed since run 7");
        f.evidence_problem = None;
        f.mutation_problem = Some("1 mutant(s) missed in mutation run 2: src/x.rs:3:5: replace < with <=".into());
        assert!(refused(judge(&f, &r, &none)).starts_with("its tests do not kill its mutants: 1 mutant(s) missed"));
        f.mutation_problem = None;
        f.stub_finding = Some("ported/src/x.rs:3 rust/todo".into());
        assert_eq!(refused(judge(&f, &r, &none)), "stub finding at ported/src/x.rs:3 rust/todo");
        f.target_problem = Some("ported/src/x.rs does not exist".into());
        assert!(refused(judge(&f, &r, &none)).contains("cannot be checked for stubs: ported/src/x.rs does not exist"));
        let mut c = facts(ItemStatus::NotStarted, ItemKind::Feature);
        c.target_problem = Some("gone".into());
        assert!(refused(judge(&c, &req(ItemStatus::Complete), &none)).contains("cannot be checked"));
        assert_eq!(judge(&c, &req(ItemStatus::Stub), &none), Verdict::Change { override_used: false }, "stub needs no readable target");
    }

    #[test]
    fn modules_follow_their_items() {
        let none = Dependencies::default();
        let mut m = facts(ItemStatus::NotStarted, ItemKind::Module);
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        m.coverage = Some(Coverage { exercising: names(&["a", "b"]), passed: names(&["a"]), failed: names(&["b"]), ambiguous: vec![] });
        assert!(refused(judge(&m, &req(ItemStatus::Complete), &none)).contains("1 of its features and tests are not done (first: b)"));
        m.coverage = Some(Coverage { exercising: names(&["a", "b"]), passed: names(&["a"]), failed: vec![], ambiguous: vec![] });
        assert_eq!(judge(&m, &req(ItemStatus::Complete), &none), Verdict::Change { override_used: false });
        // No evidence run needed, but every item verified.
        assert!(refused(judge(&m, &req(ItemStatus::Verified), &none)).contains("1 of its 2 features and tests are not verified (first: b)"));
        m.coverage = Some(Coverage { exercising: names(&["a", "b"]), passed: names(&["a", "b"]), failed: vec![], ambiguous: vec![] });
        assert_eq!(judge(&m, &req(ItemStatus::Verified), &none), Verdict::Change { override_used: false });
        m.coverage = Some(Coverage::default());
        assert!(refused(judge(&m, &req(ItemStatus::Verified), &none)).contains("no feature or test"));
        m.coverage = None;
        assert!(refused(judge(&m, &req(ItemStatus::Complete), &none)).contains("could not be read"));
        // Other moves ignore the items.
        assert_eq!(judge(&m, &req(ItemStatus::Stub), &none), Verdict::Change { override_used: false });
    }

    #[test]
    fn other_batches_same_status_and_forbidden_moves() {
        let mut f = facts(ItemStatus::NotStarted, ItemKind::Test);
        f.batch = Some(32);
        assert_eq!(refused(judge(&f, &req(ItemStatus::Stub), &Dependencies::default())), "belongs to batch 32, not batch 33");
        assert_eq!(judge(&facts(ItemStatus::Stub, ItemKind::Test), &req(ItemStatus::Stub), &Dependencies::default()), Verdict::Unchanged);
        let mut r = req(ItemStatus::Verified);
        r.evidence_run = Some(1);
        assert!(refused(judge(&facts(ItemStatus::Stub, ItemKind::Test), &r, &Dependencies::default())).contains("forbidden"));
    }

    fn any_status() -> impl Strategy<Value = ItemStatus> {
        proptest::sample::select(ItemStatus::ALL.to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        /// Whatever the facts and request, judging never panics, and a
        /// change is only granted when every rule of the table holds.
        #[test]
        fn changes_only_when_every_rule_holds(
            from in any_status(),
            to in any_status(),
            test_kind in proptest::bool::ANY,
            in_batch in proptest::bool::ANY,
            reason in proptest::option::of("[ a-z]{0,6}"),
            override_reason in proptest::option::of("[ a-z]{0,6}"),
            evidence in proptest::option::of(1i64..5),
            dep_count in 0u64..3,
            exercising in 0usize..3,
            passed in 0usize..3,
            failed in 0usize..3,
            stub in proptest::bool::ANY,
            target_problem in proptest::bool::ANY,
            evidence_problem in proptest::bool::ANY,
            mutation_problem in proptest::bool::ANY,
        ) {
            let kind = if test_kind { ItemKind::Test } else { ItemKind::Feature };
            let names = |n: usize| (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>();
            let item = Facts {
                kind, id: 1, name: "x".into(),
                batch: Some(if in_batch { 33 } else { 34 }),
                status: from,
                coverage: evidence.map(|_| Coverage { exercising: names(exercising), passed: names(passed.min(exercising)), failed: names(failed.min(exercising)), ambiguous: vec![] }),
                stub_finding: stub.then(|| "f.rs:1 rule".to_string()),
                target_problem: target_problem.then(|| "gone".to_string()),
                evidence_problem: evidence_problem.then(|| "changed".to_string()),
                in_conflict: false,
                mutation_problem: mutation_problem.then(|| "1 mutant(s) missed".to_string()),
            };
            let request = Request { batch: 33, to: Some(to), reason: reason.clone(), override_reason: override_reason.clone(), evidence_run: evidence };
            let deps = Dependencies { first: Vec::new(), count: dep_count, batches: Vec::new() };
            match judge(&item, &request, &deps) {
                Verdict::Change { override_used } => {
                    prop_assert!(in_batch);
                    prop_assert_ne!(from, to);
                    let needs = rule(from, to);
                    prop_assert!(needs.is_ok());
                    let needs = needs.unwrap_or_default();
                    let blank = |s: &Option<String>| s.as_deref().is_none_or(|r| r.trim().is_empty());
                    prop_assert!(!needs.reason || !blank(&reason));
                    prop_assert!(!needs.dependencies || dep_count == 0 || (!blank(&override_reason) && override_used));
                    prop_assert_eq!(override_used, needs.dependencies && dep_count > 0);
                    if needs.evidence {
                        let c = item.coverage.clone().unwrap_or_default();
                        prop_assert!(!c.exercising.is_empty() && !c.passed.is_empty() && c.failed.is_empty());
                        prop_assert!(!evidence_problem);
                        prop_assert!(kind != ItemKind::Feature || !mutation_problem);
                    }
                    prop_assert!(!(matches!(to, ItemStatus::Complete | ItemStatus::Verified) && (stub || target_problem)));
                }
                Verdict::Unchanged => prop_assert!(in_batch && from == to),
                Verdict::Refused(why) => prop_assert!(!why.is_empty()),
            }
        }
    }
}
