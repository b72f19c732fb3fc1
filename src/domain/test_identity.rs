//! Which recorded result a mapping's Rust test means. A mapping names a test
//! as the runner does — `tests::test_eq` — or with its container first,
//! `alpha::api test_eq` (binary id, class or package, one space, the name),
//! or for a class-based runner as code names it, `Namespace.Class.Method`.
//! Without a container the name must be unique across containers in the
//! run: the same path in two test binaries is two tests, and picking one
//! silently would let the other's failure pass unseen, so that is an error
//! listing the candidates.

use std::collections::HashMap;

use crate::gate::results::{dotted, qualified, TestOutcome, TestResult};

/// What a mapping found in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// No result has that name.
    Missing,
    /// One test: its container and outcome. When the runner reported the
    /// same test more than once (`go test -count=2`, a binary run twice), a
    /// failure in any report wins, then a pass.
    Found { container: String, outcome: TestOutcome },
    /// The bare name is a test in several containers; `candidates` are their
    /// `CONTAINER NAME` forms.
    Ambiguous { candidates: Vec<String> },
}

impl Resolution {
    pub fn outcome(&self) -> Option<TestOutcome> {
        match self {
            Resolution::Found { outcome, .. } => Some(*outcome),
            _ => None,
        }
    }

    /// Why `wanted` cannot be judged, for an ambiguous name.
    pub fn ambiguity(&self, wanted: &str) -> Option<String> {
        match self {
            Resolution::Ambiguous { candidates } => Some(ambiguity_message(wanted, candidates)),
            _ => None,
        }
    }
}

pub fn ambiguity_message(wanted: &str, candidates: &[String]) -> String {
    format!(
        "{wanted} is ambiguous: it names {} tests ({}); name the binary in the mapping, e.g. `{}`",
        candidates.len(),
        candidates.join(", "),
        candidates.first().map_or(wanted, String::as_str)
    )
}

/// Resolve `wanted` against `(container, name, outcome)` rows that match it
/// by bare name or by `CONTAINER NAME`.
pub fn resolve<'a>(wanted: &str, rows: impl IntoIterator<Item = (&'a str, &'a str, TestOutcome)>) -> Resolution {
    // Container → combined outcome, in order of first appearance.
    let mut found: Vec<(&str, &str, TestOutcome)> = Vec::new();
    for (container, name, outcome) in rows {
        if name != wanted && qualified(container, name) != wanted && dotted(container, name).as_deref() != Some(wanted) {
            continue;
        }
        match found.iter_mut().find(|(c, _, _)| *c == container) {
            Some(entry) => entry.2 = worse(entry.2, outcome),
            None => found.push((container, name, outcome)),
        }
    }
    match found.as_slice() {
        [] => Resolution::Missing,
        [(container, _, outcome)] => Resolution::Found { container: container.to_string(), outcome: *outcome },
        many => Resolution::Ambiguous { candidates: many.iter().map(|(c, n, _)| qualified(c, n)).collect() },
    }
}

/// A failure outranks a pass, which outranks a skip.
fn worse(a: TestOutcome, b: TestOutcome) -> TestOutcome {
    let rank = |o: TestOutcome| match o {
        TestOutcome::Failed => 4,
        TestOutcome::Timeout => 3,
        TestOutcome::Incomplete => 2,
        TestOutcome::Passed => 1,
        TestOutcome::Skipped => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// Results indexed by bare and qualified name, so resolving many mappings
/// against a large run does not scan it once per mapping.
pub struct ResultIndex<'a> {
    results: &'a [TestResult],
    by_name: HashMap<&'a str, Vec<usize>>,
    by_qualified: HashMap<String, Vec<usize>>,
}

impl<'a> ResultIndex<'a> {
    pub fn new(results: &'a [TestResult]) -> Self {
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::with_capacity(results.len());
        let mut by_qualified: HashMap<String, Vec<usize>> = HashMap::with_capacity(results.len());
        for (i, r) in results.iter().enumerate() {
            by_name.entry(r.name.as_str()).or_default().push(i);
            if !r.container.is_empty() {
                by_qualified.entry(r.qualified()).or_default().push(i);
                if let Some(d) = dotted(&r.container, &r.name) {
                    by_qualified.entry(d).or_default().push(i);
                }
            }
        }
        ResultIndex { results, by_name, by_qualified }
    }

    pub fn resolve(&self, wanted: &str) -> Resolution {
        let mut hits: Vec<usize> = self.by_name.get(wanted).cloned().unwrap_or_default();
        hits.extend(self.by_qualified.get(wanted).into_iter().flatten().copied());
        hits.sort_unstable();
        hits.dedup();
        resolve(wanted, hits.into_iter().map(|i| {
            let r = &self.results[i];
            (r.container.as_str(), r.name.as_str(), r.outcome)
        }))
    }
}

/// The test path to give libtest's `--exact` filter for a mapping: the
/// name after a leading Rust binary id (`alpha::api test_eq` → `test_eq`),
/// else the mapping itself (a doc-test's `src/lib.rs - add (line 3)` keeps
/// its spaces).
pub fn libtest_filter(wanted: &str) -> &str {
    match wanted.split_once(' ') {
        Some((binary, name)) if is_rust_binary_id(binary) && !name.is_empty() => name,
        _ => wanted,
    }
}

/// `crate`, `crate::target`, `crate::bin/x`, `crate::doctest`: a package
/// name, then optionally `::`, a kind prefix and a target name.
fn is_rust_binary_id(s: &str) -> bool {
    let ident = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match s.split_once("::") {
        None => ident(s),
        Some((krate, target)) => {
            let target = ["bin/", "bench/", "example/"].iter().find_map(|k| target.strip_prefix(k)).unwrap_or(target);
            ident(krate) && ident(target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TestOutcome::*;

    fn r(container: &str, name: &str, outcome: TestOutcome) -> TestResult {
        TestResult { container: container.into(), name: name.into(), outcome, duration_ms: None }
    }

    #[test]
    fn a_unique_bare_name_or_a_qualified_name_resolves() {
        let results = vec![r("alpha", "tests::test_eq", Passed), r("alpha::api", "test_eq", Failed), r("beta-pkg::api", "test_eq", Passed)];
        let idx = ResultIndex::new(&results);
        assert_eq!(idx.resolve("tests::test_eq"), Resolution::Found { container: "alpha".into(), outcome: Passed });
        assert_eq!(idx.resolve("alpha::api test_eq"), Resolution::Found { container: "alpha::api".into(), outcome: Failed });
        assert_eq!(idx.resolve("beta-pkg::api test_eq").outcome(), Some(Passed));
        assert_eq!(idx.resolve("nope"), Resolution::Missing);
        assert_eq!(idx.resolve("alpha test_eq"), Resolution::Missing);
    }

    #[test]
    fn a_class_qualified_dotted_name_resolves_to_its_class_only() {
        let results = [r("Ns.RaftTests", "Term", Passed), r("Ns.OtherTests", "Term", Failed)];
        let index = ResultIndex::new(&results);
        assert_eq!(index.resolve("Ns.RaftTests.Term"), Resolution::Found { container: "Ns.RaftTests".into(), outcome: Passed });
        assert_eq!(index.resolve("Ns.OtherTests.Term").outcome(), Some(Failed));
        assert_eq!(index.resolve("Ns.Term"), Resolution::Missing);
        assert!(matches!(index.resolve("Term"), Resolution::Ambiguous { .. }));
    }

    #[test]
    fn a_bare_name_in_two_containers_is_ambiguous_listing_both() {
        let results = vec![r("alpha::api", "test_eq", Failed), r("beta-pkg::api", "test_eq", Passed)];
        let res = ResultIndex::new(&results).resolve("test_eq");
        assert_eq!(res, Resolution::Ambiguous { candidates: vec!["alpha::api test_eq".into(), "beta-pkg::api test_eq".into()] });
        assert_eq!(
            res.ambiguity("test_eq").as_deref(),
            Some("test_eq is ambiguous: it names 2 tests (alpha::api test_eq, beta-pkg::api test_eq); name the binary in the mapping, e.g. `alpha::api test_eq`")
        );
        assert_eq!(res.outcome(), None);
    }

    #[test]
    fn repeated_reports_of_one_test_judge_by_the_worst() {
        let results = vec![r("p", "TestA", Passed), r("p", "TestA", Failed), r("p", "TestB", Skipped), r("p", "TestB", Passed), r("p", "TestC", Passed), r("p", "TestC", Timeout)];
        let idx = ResultIndex::new(&results);
        assert_eq!(idx.resolve("TestA").outcome(), Some(Failed));
        assert_eq!(idx.resolve("TestB").outcome(), Some(Passed));
        assert_eq!(idx.resolve("p TestC").outcome(), Some(Timeout));
    }

    #[test]
    fn results_without_a_container_match_by_name() {
        let results = vec![r("", "a::b", Passed)];
        assert_eq!(ResultIndex::new(&results).resolve("a::b"), Resolution::Found { container: String::new(), outcome: Passed });
    }

    #[test]
    fn libtest_filters_drop_a_binary_id_only() {
        let cases = [
            ("alpha::api test_eq", "test_eq"),
            ("alpha tests::test_eq", "tests::test_eq"),
            ("alpha::bin/tool test_eq", "test_eq"),
            ("beta-pkg::api test_eq", "test_eq"),
            ("tests::test_eq", "tests::test_eq"),
            ("alpha/src/lib.rs - add (line 3)", "alpha/src/lib.rs - add (line 3)"),
            ("src/lib.rs - add (line 3)", "src/lib.rs - add (line 3)"),
            ("alpha::doctest src/lib.rs - add (line 3)", "src/lib.rs - add (line 3)"),
        ];
        for (i, (wanted, filter)) in cases.iter().enumerate() {
            assert_eq!(libtest_filter(wanted), *filter, "case {i}");
        }
    }
}
