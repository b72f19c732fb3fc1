//! The rules: their ids and one-line explanations, the per-language trigger
//! sets that decide which rules a file needs, and what the language checkers
//! share (the placeholder-message test, assertion helpers).

pub mod calls;
pub use rust_tests::static_assertions_unlexed;
mod comments;
mod deliberate;
mod csharp;
mod go;
mod python;
mod rust;
mod rust_tests;
mod typescript;

use std::sync::LazyLock;

use regex::bytes::{Regex, RegexSet};

use super::source::Source;
use super::Language;

/// A rule: its id and the one line that explains a finding of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub summary: &'static str,
}

const fn rule(id: &'static str, summary: &'static str) -> Rule {
    Rule { id, summary }
}

pub const RUST_TODO: Rule = rule("rust/todo-macro", "`todo!()` panics at run time: the code is not written yet");
pub const RUST_UNIMPLEMENTED: Rule = rule("rust/unimplemented-macro", "`unimplemented!()` panics at run time: the code is not written yet");
pub const RUST_PANIC: Rule = rule("rust/panic-placeholder", "a `panic!`/`unreachable!` whose message says not implemented, TODO or stub");
pub const RUST_DEFAULT_BODY: Rule = rule("rust/default-body-todo", "a function that only returns a default value and carries a TODO-like comment");
pub const RUST_IGNORE: Rule = rule("rust/ignore-without-reason", "`#[ignore]` without a reason: say why the test is skipped (`#[ignore = \"why\"]`)");
pub const RUST_TEST: Rule = rule(
    "rust/test-without-assertion",
    "a `#[test]` that cannot fail: no assertion or snapshot macro, no assert*/expect*/check*-named call, unwrap or trybuild harness, no `?` in a Result test, no should_panic, no call of an asserting helper of the project; proptest!/quickcheck properties count as checks",
);
pub const CS_NOT_IMPLEMENTED: Rule = rule("cs/not-implemented", "`throw new NotImplementedException` marks code that is not written yet");
pub const CS_TRIVIAL: Rule = rule("cs/trivial-assert", "a test whose only assertions cannot fail (`Assert.True(true)`, `Assert.Pass()`)");
pub const CS_SKIP: Rule = rule("cs/skip-without-reason", "a skipped test (`Skip =`, `[Ignore]`) without a reason");
pub const CS_TEST: Rule = rule("cs/test-without-assertion", "a [Fact]/[Theory]/[Test]/[TestMethod] method with no assertion");
pub const GO_PANIC: Rule = rule("go/panic-placeholder", "a `panic` whose message says not implemented, TODO or stub");
pub const GO_SKIP: Rule = rule("go/skip-without-reason", "`t.Skip()`/`t.SkipNow()` without a reason");
pub const GO_TEST: Rule = rule("go/test-without-assertion", "a Test function that never reports failure: no t.Error*/t.Fatal*/t.Fail*, require/assert call, or helper given t");
pub const PY_NOT_IMPLEMENTED: Rule = rule("py/not-implemented", "`raise NotImplementedError` outside an @abstractmethod");
pub const PY_PASS: Rule = rule("py/pass-body", "a function whose body is only `pass`");
pub const PY_TEST: Rule = rule("py/test-without-assertion", "a test_* function with no assert, self.assert*/fail, pytest.raises or assertion helper");
pub const TS_THROW: Rule = rule("ts/throw-not-implemented", "`throw new Error(\"not implemented\")` and the like");
pub const TS_TEST: Rule = rule("ts/test-without-assertion", "an it()/test() callback with no expect/assert/should or assertion helper");
pub const COMMENT_TODO: Rule =
    rule("comment/todo", "a TODO, FIXME or XXX comment inside a function body that marks missing behaviour: next to an empty or default body, or saying implement, stub, not yet");
pub const COMMENT_TODO_NOTE: Rule = rule("comment/todo-note", "any other TODO, FIXME or XXX comment inside a function body (opt-in: [stub] enable = [\"comment/todo-note\"])");
pub const COMMENT_PLACEHOLDER: Rule = rule("comment/placeholder", "a comment inside a function body that says it is a stub or placeholder");
pub const SUPPRESS_REASON: Rule = rule("suppress/missing-reason", "a `porttrack: allow(RULE)` suppression without a reason after it");
pub const SUPPRESS_UNUSED: Rule = rule("suppress/unused", "a suppression that suppresses nothing (no such finding on its line or the next, or malformed)");

/// Every rule, in the order documented.
pub const ALL: &[Rule] = &[
    RUST_TODO,
    RUST_UNIMPLEMENTED,
    RUST_PANIC,
    RUST_DEFAULT_BODY,
    RUST_IGNORE,
    RUST_TEST,
    CS_NOT_IMPLEMENTED,
    CS_TRIVIAL,
    CS_SKIP,
    CS_TEST,
    GO_PANIC,
    GO_SKIP,
    GO_TEST,
    PY_NOT_IMPLEMENTED,
    PY_PASS,
    PY_TEST,
    TS_THROW,
    TS_TEST,
    COMMENT_TODO,
    COMMENT_TODO_NOTE,
    COMMENT_PLACEHOLDER,
    SUPPRESS_REASON,
    SUPPRESS_UNUSED,
];

/// Rules that report only when `[stub] enable` names them.
pub const OPT_IN: &[Rule] = &[COMMENT_TODO_NOTE];

pub fn by_id(id: &str) -> Option<Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// A finding before it has a line, column and hash.
#[derive(Debug, Clone)]
pub struct Raw {
    pub rule: Rule,
    /// Byte offset the finding points at.
    pub at: usize,
    pub message: String,
    /// The text the baseline hashes: stable under edits elsewhere in the file
    /// (a test's `fn name`, or the matched line).
    pub key: String,
    /// A test without assertion of its own: the names it calls. It is no
    /// finding when one of them is an asserting helper defined in another
    /// file of its project (see `index`).
    pub calls: Vec<String>,
}

impl Raw {
    pub fn new(rule: Rule, at: usize, message: String, key: String) -> Raw {
        Raw { rule, at, message, key, calls: Vec::new() }
    }

    /// A finding whose baseline key is the trimmed line it is on.
    pub fn on_line(src: &Source, rule: Rule, at: usize, message: String) -> Raw {
        let key = src.line_text(src.line_of(at)).trim().to_string();
        Raw::new(rule, at, message, key)
    }
}

/// What checking one file found: its raw findings, and the functions and
/// macros it defines that assert (for other files' tests).
#[derive(Debug, Default)]
pub struct Checked {
    pub raw: Vec<Raw>,
    pub asserting: Vec<String>,
    /// Asserting macros exported to other crates (`#[macro_export]`),
    /// which tests of any project may invoke.
    pub exported: Vec<String>,
}

/// Trigger families: which parts of the rule set a file needs. A file that
/// matches none of its language's triggers is never lexed.
pub mod family {
    pub const PLACEHOLDER: usize = 0;
    pub const SKIP: usize = 1;
    pub const TEST: usize = 2;
    pub const COMMENT: usize = 3;
    pub const SUPPRESSION: usize = 4;
    /// What a Rust file may offer other files' tests (set by `scan_file`,
    /// no trigger pattern): check macros, compile-time assertions.
    pub const OFFERS: usize = 5;
}

const COMMENT_TRIGGER: &str = r"TODO|FIXME|XXX|[Ss]tub|STUB|[Pp]laceholder|PLACEHOLDER|[Nn]ot (?:yet )?implemented|[Uu]nimplemented";

/// The trigger patterns of a language, indexed by `family`. They run on the
/// raw bytes, in one pass per file.
fn triggers(lang: Language) -> [&'static str; 5] {
    let placeholder = match lang {
        // A panic only matters when its message says so; requiring the
        // word here keeps the many ordinary panics from forcing a lex.
        Language::Rust => r"todo!|unimplemented!|(?:panic|unreachable)!\s*[(\[{][^;]*?(?i-u:implemented|todo|stub|fixme|placeholder)",
        Language::CSharp => r"NotImplementedException",
        Language::Go => r"panic\([^\n]*?(?i-u:implemented|todo|stub|fixme|placeholder)",
        // Class statements too: the base classes they name make another
        // file's `raise NotImplementedError` an abstract method.
        Language::Python => r"NotImplementedError|\bpass\b|\bclass[ \t]+\w+[ \t]*\(",
        Language::TypeScript => r"throw\s+new\s+\w*Error\s*\([^)]*?(?i-u:implemented|todo|stub|fixme|placeholder)",
    };
    let skip = match lang {
        Language::Rust => r"#\[ignore",
        Language::CSharp => r"Skip|Ignore",
        Language::Go => r"\.Skip",
        Language::Python | Language::TypeScript => r"\A\b\B",
    };
    let test = match lang {
        Language::Rust => r"#\[(?:\w+::)*test\b",
        Language::CSharp => r"\[(?:Fact|Theory|Test|TestMethod|TestCase|SkippableFact|SkippableTheory)\b",
        Language::Go => r"func Test",
        // Tests, and docstrings that say a function raises on failure.
        Language::Python => r"def test|\b[Rr]aises\b",
        Language::TypeScript => r"\b(?:it|test)\s*\(",
    };
    [placeholder, skip, test, COMMENT_TRIGGER, r"porttrack:"]
}

/// ASCII word classes and boundaries (`(?-u)`): Unicode ones keep the
/// lazy DFA from running, and every trigger is ASCII anyway.
static SETS: LazyLock<Vec<RegexSet>> = LazyLock::new(|| {
    Language::ALL
        .iter()
        .map(|&l| RegexSet::new(triggers(l).map(|p| format!("(?-u){p}"))).unwrap_or_else(|e| panic!("bad built-in trigger for {l:?}: {e}")))
        .collect()
});

/// Which trigger families match `text` (bit `1 << family`).
pub fn triggered(lang: Language, text: &[u8]) -> u32 {
    SETS[lang as usize].matches(text).iter().fold(0, |bits, i| bits | 1 << i)
}

/// Compiled, configuration-dependent matchers, shared by the scan threads.
pub struct Matchers {
    /// A call of a configured assertion helper: `name(`, `.name(`, `name!(`.
    helpers: Option<Regex>,
    /// Call-name prefixes that make a call an assertion (`assert*`, …).
    pub prefixes: Vec<String>,
    /// Opt-in rules switched on.
    enabled: Vec<&'static str>,
}

/// The scan's configuration, as `[stub]` of porttrack.toml gives it.
#[derive(Debug, Clone, Default)]
pub struct StubSettings {
    pub assertion_helpers: Vec<String>,
    /// None: [`calls::DEFAULT_PREFIXES`].
    pub assertion_prefixes: Option<Vec<String>>,
    /// Opt-in rule ids to report.
    pub enable: Vec<String>,
}

impl StubSettings {
    pub fn from_config(c: &crate::config::StubConfig) -> StubSettings {
        StubSettings { assertion_helpers: c.assertion_helpers.clone(), assertion_prefixes: c.assertion_prefixes.clone(), enable: c.enable.clone() }
    }
}

impl Matchers {
    pub fn new(settings: &StubSettings) -> Matchers {
        let prefixes = match &settings.assertion_prefixes {
            Some(p) => p.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            None => calls::DEFAULT_PREFIXES.iter().map(|s| s.to_string()).collect(),
        };
        let enabled = OPT_IN.iter().filter(|r| settings.enable.iter().any(|e| e == r.id)).map(|r| r.id).collect();
        Matchers { helpers: Self::helper_regex(&settings.assertion_helpers), prefixes, enabled }
    }

    /// Whether an opt-in rule is switched on (always true for the others).
    pub fn reports(&self, rule: Rule) -> bool {
        !OPT_IN.contains(&rule) || self.enabled.contains(&rule.id)
    }

    /// Whether the call's name makes it an assertion.
    pub fn is_assertion_call(&self, name: &[u8]) -> bool {
        calls::has_assertion_prefix(name, &self.prefixes)
    }

    fn helper_regex(assertion_helpers: &[String]) -> Option<Regex> {
        // A trailing `*` makes a name a prefix (`assert_*`).
        let names: Vec<String> = assertion_helpers
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
            .map(|h| match h.strip_suffix('*') {
                Some(prefix) => format!(r"{}\w*", regex::escape(prefix)),
                None => regex::escape(h),
            })
            .collect();
        // Escaped names can always be compiled.
        (!names.is_empty()).then(|| re(&format!(r"\b(?:{})\s*(?:!\s*)?[(\[{{]", names.join("|"))))
    }

    /// Whether `body` (code mask) calls a configured assertion helper.
    pub fn calls_helper(&self, body: &[u8]) -> bool {
        self.helpers.as_ref().is_some_and(|h| h.is_match(body))
    }
}

pub(crate) fn re(pattern: &str) -> Regex {
    // Built-in patterns are constants exercised by the tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad built-in pattern {pattern}: {e}"))
}

/// A message that says the code is unfinished.
static PLACEHOLDER_MESSAGE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)not\s+(?:yet\s+)?(?:implemented|ported)|unimplemented|\btodo\b|\bfixme\b|\bstub(?:bed)?\b|\bplaceholder\b|\byet\b"));

pub fn says_placeholder(text: &str) -> bool {
    PLACEHOLDER_MESSAGE.is_match(text.as_bytes())
}

/// Run every rule the file's triggers call for; `support`: the file is
/// test-support code whose asserting functions other files' tests may call.
pub fn check(src: &Source, bits: u32, support: bool, m: &Matchers) -> Checked {
    let mut out = Checked::default();
    let has = |f: usize| bits & (1 << f) != 0;
    // Comments the default-body rule already reported, so comment/todo does
    // not report them again.
    let mut claimed = Vec::new();
    match src.lang {
        Language::Rust => rust::check(src, has, support, m, &mut out, &mut claimed),
        Language::CSharp => csharp::check(src, has, m, &mut out.raw),
        Language::Go => go::check(src, has, m, &mut out.raw),
        Language::Python => python::check(src, has, support, m, &mut out),
        Language::TypeScript => typescript::check(src, has, support, m, &mut out),
    }
    if has(family::COMMENT) {
        comments::check(src, &claimed, m, &mut out.raw);
    }
    out.raw.retain(|r| m.reports(r.rule));
    out
}

/// Whether a path (relative, `/`-separated) is test code or test support
/// that tests elsewhere may call into: under a `tests`, `test`, `testing`,
/// `__tests__`, `spec` or `testutil`-like directory, or a file named like a
/// test or helper (`test_*.py`, `*_test.go`, `*.test.ts`, `conftest.py`).
pub fn is_test_support(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let file = parts.next().unwrap_or("");
    let stem = file.split('.').next().unwrap_or("");
    let dir_is_test = parts.any(|d| {
        matches!(d, "tests" | "test" | "testing" | "__tests__" | "spec" | "specs" | "testutil" | "testutils" | "test_util" | "test_utils" | "test_helpers" | "test-utils" | "test-helpers")
    });
    dir_is_test
        || stem.starts_with("test")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem == "conftest"
        || stem.contains("test_util")
        || stem.contains("testutil")
        || stem.contains("test_helper")
        || file.contains(".test.")
        || file.contains(".spec.")
}

/// Names of the definitions (name, body open, body end) that assert,
/// directly or through each other (a fixpoint within the file); `asserts`
/// is given a body's offset and code.
pub fn asserting_defs<'d>(defs: &'d [(String, usize, usize)], code: &[u8], asserts: impl Fn(usize, &[u8]) -> bool) -> std::collections::HashSet<&'d str> {
    let body = |d: &(String, usize, usize)| &code[d.1..d.2.min(code.len())];
    let mut set: std::collections::HashSet<&str> = defs.iter().filter(|d| asserts(d.1, body(d))).map(|d| d.0.as_str()).collect();
    // Each def's callees, computed once.
    let callees: Vec<Vec<&[u8]>> = defs.iter().map(|d| calls::calls(body(d)).into_iter().map(|c| c.name).collect()).collect();
    loop {
        let more: Vec<&str> = defs
            .iter()
            .zip(&callees)
            .filter(|(d, cs)| !set.contains(d.0.as_str()) && cs.iter().any(|c| std::str::from_utf8(c).is_ok_and(|c| set.contains(c))))
            .map(|(d, _)| d.0.as_str())
            .collect();
        if more.is_empty() {
            return set;
        }
        set.extend(more);
    }
}

/// A test that says, in its name, comments or docstring, that its check is
/// the absence of an exception or panic ("does not panic", "nothing
/// happens", "no exception is raised", "is accepted", "works", "it's
/// legal to", "can be None", "would raise if…"): it fails when the code
/// under test raises, and means to; or that its check is that it compiles
/// ("this should compile", "compilation is enough").
static STATES_NO_FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:nothing\s+(?:happens|is\s+raised|gets\s+raised|bad\s+happens)|(?:does\s*n[o']?t|do\s*n[o']?t|should\s*n[o']?t|must\s*n[o']?t|never|won'?t|will\s+not)\s+(?:cause\s+an?\s+)?(?:raise|crash|fail|throw|panic|error|blow\s+up|overflow|underflow|race|starve|deadlock|hang)s?\b|no\s+(?:exception|error|panic)s?\b|without\s+(?:raising|errors?\b|crash|panic|an?\s+(?:exception|error))|(?:is|are)\s+accepted\b|\b(?:succeeds?|works)\b|\bwork\s*(?:[.!;:]|\z)|\bthat\b[^.?]{0,60}\bwork\b|\b(?:catch|detect)(?:es)?\b[^.]{0,40}\b(?:breaking\s+changes?|regressions?)\b|(?:it'?s|is|are)\s+(?:legal|allowed|possible|fine)\b|\bcan\s+be\s+(?:none|null|used|called|passed|given|created)\b|\bnon-?(?:panic|crash)|\bno-panic\b|\bwould\s+(?:raise|panic|throw|fail|crash|error|hang)\b|\b(?:should|will)\s+(?:fail|panic|crash|hang)(?:\s+\w+){0,2}\s+if\b|\brace\s+detector\b|\binfinite[- ]?loop|\bneither\b[^.]{0,60}\braises?\b|\bsegfaults?\b|\bused\s+to\s+(?:trigger|cause|crash|panic|raise|fail|hang|deadlock)\b|\btimes?\s+out\s+if\b|\bif\b[^.]{0,80}\b(?:this|it)\s+(?:panics|raises|throws|crashes|fails)\b|\b(?:racy|data\s+races?)\b|\b(?:indicates|means)\s+success\b|\b(?:should|must|will)\s+(?:still\s+)?compile\b|\bcompil(?:ation|ing)\s+(?:is|alone)\b|\bif\s+(?:it|this|the\s+\w+)\s+compiles?\b|\bcheck\s+(?:that\s+)?it\s+compiles\b|\bcompile[- ]time\s+(?:checks?|tests?)\b)")
});

/// A test named for the passing case of a check (`test_x_pass`, "valid
/// function run"): its check is that the valid input is accepted.
static NAMED_PASSING_CASE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(?:pass|passes|valid)\b"));

/// Whether the test named `name` with original text `text` says its check
/// is that nothing raises (see [`STATES_NO_FAILURE`]).
pub fn states_no_failure(name: &str, text: &str) -> bool {
    // `does_not_panic`, `DoesntStarve`: words split at `_` and capitals.
    let mut words = String::with_capacity(name.len() + 8);
    for (i, ch) in name.char_indices() {
        if ch == '_' {
            words.push(' ');
        } else {
            if ch.is_ascii_uppercase() && i > 0 && name[..i].chars().next_back().is_some_and(|p| p.is_ascii_lowercase()) {
                words.push(' ');
            }
            words.push(ch);
        }
    }
    STATES_NO_FAILURE.is_match(words.as_bytes()) || NAMED_PASSING_CASE.is_match(words.as_bytes()) || STATES_NO_FAILURE.is_match(text.as_bytes())
}

/// The distinct names called in `body`, for resolving against other files.
pub fn called_names(body: &[u8]) -> Vec<String> {
    let mut names: Vec<String> = calls::calls(body).into_iter().filter_map(|c| std::str::from_utf8(c.name).ok().map(str::to_string)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The argument text of the call whose `(` is at `open`, from the original
/// (string contents included).
pub fn call_args<'a>(src: &'a Source, open: usize) -> std::borrow::Cow<'a, str> {
    src.original(open, src.group_end(open))
}

/// Text of a string literal whose opening quote is at `quote` (the mask
/// keeps quotes, so the closing one is the next quote in the mask).
pub fn literal_text<'a>(src: &'a Source, quote: usize) -> std::borrow::Cow<'a, str> {
    let q = src.code[quote];
    let close = memchr::memchr(q, &src.code[quote + 1..]).map_or(src.code.len(), |p| quote + 1 + p);
    src.original(quote + 1, close)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_triggers_compile() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        for &l in Language::ALL {
            assert_eq!(triggered(l, b"nothing to see"), 0, "{l:?}");
        }
        assert_eq!(triggered(Language::Rust, b"x todo!() // porttrack: allow"), 1 << family::PLACEHOLDER | 1 << family::SUPPRESSION);
    }

    #[test]
    fn placeholder_messages() {
        for yes in ["not implemented", "Not yet implemented: x", "TODO", "stub", "unimplemented"] {
            assert!(says_placeholder(yes), "{yes}");
        }
        for no in ["index out of range", "stubborn peer", "implemented elsewhere"] {
            assert!(!says_placeholder(no), "{no}");
        }
    }

    #[test]
    fn helpers_match_calls_not_mentions() {
        let with = |h: &[&str]| Matchers::new(&StubSettings { assertion_helpers: h.iter().map(|s| s.to_string()).collect(), ..StubSettings::default() });
        let m = with(&["check_invariants", "expect_err"]);
        assert!(m.calls_helper(b"w.check_invariants(); "));
        assert!(m.calls_helper(b"r.expect_err(\"x\")"));
        assert!(!m.calls_helper(b"let check_invariants_ok = 1;"));
        assert!(!with(&[]).calls_helper(b"anything()"));
        let prefix = with(&["assert_*"]);
        assert!(prefix.calls_helper(b"assert_refused(&t)") && !prefix.calls_helper(b"reassert_x()"));
    }

    #[test]
    fn prefixes_and_opt_in_rules_follow_the_settings() {
        let default = Matchers::new(&StubSettings::default());
        assert!(default.is_assertion_call(b"expect_ok") && !default.is_assertion_call(b"ensure_ok"));
        assert!(!default.reports(COMMENT_TODO_NOTE) && default.reports(COMMENT_TODO));
        let custom = Matchers::new(&StubSettings { assertion_prefixes: Some(vec!["ensure".into()]), enable: vec!["comment/todo-note".into()], ..StubSettings::default() });
        assert!(custom.is_assertion_call(b"ensure_ok") && !custom.is_assertion_call(b"expect_ok"));
        assert!(custom.reports(COMMENT_TODO_NOTE));
    }

    #[test]
    fn tests_that_say_they_check_for_no_failure() {
        for (name, text) in [("gregorian_unix_does_not_panic", ""), ("test_success", "\"\"\"Nothing happens if the validator succeeds.\"\"\""), ("t", "// shouldn't raise exceptions"), ("t", "Pre-compiled patterns are accepted."), ("test_success", "Succeeds if all wrapped validators succeed."), ("t", "It's possible to subclass both.")]
            .into_iter()
            .chain([("TestTerminal", "// test for non-panic"), ("t", "# This would raise NotADirectoryError if it were not skipped."), ("t", "Unhashable defaults + subclassing values work.")])
            .chain([("t", "A nullary converter doesn't cause a crash."), ("t", "# so long as neither direction raises an exception"), ("test_composable_with_in_pass", ""), ("valid function run", "")])
            .chain([("dropping_does_not_segfault", ""), ("t", "// This should compile on all combinations of features"), ("t", "// Compilation is enough to verify the fix"), ("t", "// If the derives compile, we are good."), ("t", "// validate we do not underflow"), ("t", "// Verify that it doesn't race."), ("TestLargeAcquireDoesntStarve", "")])
            .chain([("t", "// This used to trigger the log.Fatal in loadFromExportData."), ("t", "// Merely returning from the test function indicates success."), ("t", "// If Reset accidentally cleared the cache, this panics."), ("t", "// Test to validate fix for racy concurrent call access")])
            .chain([("t", "// In race mode this test should fail often if Collect is not safe."), ("t", "// where the race detector is likely to detect issues"), ("t", "// The next line shouldn't infinite-loop.")])
            .chain([("t", "//check that all assign type operators work on references"), ("t", "// This test should catch any inadvertent breaking changes")])
        {
            assert!(states_no_failure(name, text), "{name} {text}");
        }
        for (name, text) in [("test_load", "load()"), ("t", "// errors are logged"), ("t", "# the panic handler"), ("test_invalid_input", ""), ("test_password", ""), ("t", "// work around the cache"), ("t", "# bad input should raise ValueError")] {
            assert!(!states_no_failure(name, text), "{name} {text}");
        }
    }

    #[test]
    fn test_support_paths() {
        for yes in ["tests/common/mod.rs", "src/tests/memchr/mod.rs", "pkg/conftest.py", "a/test_util.rs", "src/x.test.ts", "lib/__tests__/h.ts", "testing.py"] {
            assert!(is_test_support(yes), "{yes}");
        }
        for no in ["src/lib.rs", "src/attest.rs", "src/contest/x.py", "src/latest.ts"] {
            assert!(!is_test_support(no), "{no}");
        }
    }
}
