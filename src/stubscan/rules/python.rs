//! Python rules: `raise NotImplementedError`, `pass`-only functions, and
//! test functions with no assertion. Abstract methods and overloads are
//! meant to have no body and are left alone; so are the dummy callbacks
//! tests define, nested functions, registered callbacks, and methods whose
//! `pass` is a no-op by design (no docstring promising behaviour). A
//! `raise NotImplementedError` is a base class's abstract method when it is
//! documented or its class is subclassed in the file. Tests are what
//! pytest and unittest collect: `test*` functions at module level or in a
//! `Test*` class of a `test_*.py`/`*_test.py` file, and `test*` methods of a
//! `TestCase` subclass; a `def` nested in a function is never one.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::calls::calls;
use super::{asserting_defs, called_names, family, is_test_support, re, says_placeholder, states_no_failure, Checked, Matchers, Raw, PY_NOT_IMPLEMENTED, PY_PASS, PY_TEST};
use crate::stubscan::source::Source;
use crate::stubscan::spans::{python_defs, FnSpan};

static NOT_IMPLEMENTED: LazyLock<Regex> = LazyLock::new(|| re(r"\braise\s+NotImplementedError\b"));
/// `assert`, unittest's `self.assert*`/`self.fail`, pytest's context
/// managers and `pytest.fail`, mock's `.assert_*`, and `raise`.
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\bassert\b|\bself\s*\.\s*(?:assert\w*|fail\w*)\s*\(|\bpytest\s*\.\s*(?:raises|fail|warns|deprecated_call)\b|\.\s*assert_\w+\s*\(|\braise\b")
});
static DECORATOR: LazyLock<Regex> = LazyLock::new(|| re(r"@\s*(?:\w+\s*\.\s*)*(abstractmethod|overload)\b"));
static FIXTURE: LazyLock<Regex> = LazyLock::new(|| re(r"@\s*(?:\w+\s*\.\s*)*fixture\b"));
/// A base class named in a class statement (the last part of a dotted
/// name, each base of the list): `class Flask(App)`, `class A(x.Base, M)`.
static SUBCLASS: LazyLock<Regex> = LazyLock::new(|| re(r"\bclass[ \t]+\w+[ \t]*\(([^)]*)\)"));
/// A docstring saying the function raises when its input is wrong: "A
/// validator that raises `ValueError` if …", a `Raises:` section.
static RAISES_DOC: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\braises?\s+(?:an?\s+)?[`:~\w.]*(?:Error|Exception)\b`*[^.]*?\b(?:if|when|unless)\b|(?m)^\s*Raises\s*:?\s*$|:raises\s+\w+")
});
/// pytest-benchmark and CodSpeed benchmarks: they measure, they do not check.
static BENCHMARK_MARK: LazyLock<Regex> = LazyLock::new(|| re(r"\bpytest\s*\.\s*mark\s*\.\s*benchmark\b"));
static PYTESTMARK_BENCHMARK: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^pytestmark\s*=[^\n]*\bbenchmark\b"));
static CLASS: LazyLock<Regex> = LazyLock::new(|| re(r"\A[ \t]*class[ \t]+([A-Za-z_]\w*)[ \t]*(\([^)]*\))?"));

pub fn check(src: &Source, has: impl Fn(usize) -> bool, support: bool, m: &Matchers, checked: &mut Checked) {
    if !has(family::PLACEHOLDER) && !has(family::TEST) && !support {
        return;
    }
    let defs = python_defs(src);
    let out = &mut checked.raw;
    if has(family::PLACEHOLDER) {
        for hit in NOT_IMPLEMENTED.find_iter(&src.code) {
            let Some(d) = defs.iter().rev().find(|d| d.open < hit.start() && hit.start() < d.end) else { continue };
            if is_abstract(src, d) || is_interface_method(src, d) {
                continue;
            }
            // With a message that explains a refusal ("unknown load
            // instruction"), or raised on one path of a working function, it
            // refuses a case; unless the message says the case is unfinished.
            let whole_body = body_text(src, d).starts_with("raiseNotImplementedError");
            let message_end = src.code[hit.end()..].iter().position(|&b| b == b'\n').map_or(src.code.len(), |p| hit.end() + p);
            let message = src.original(hit.end(), message_end);
            let explains = message.contains('"') || message.contains('\'');
            if !says_placeholder(&message) && (!whole_body || explains) {
                continue;
            }
            let mut raw = Raw::on_line(src, PY_NOT_IMPLEMENTED, hit.start(), "`raise NotImplementedError` left in code".into());
            // A method of a class subclassed anywhere in the project is a
            // base class's abstract method (resolved after the walk).
            if let Some((class, _)) = enclosing_class(src, d) {
                raw.calls = vec![format!("class:{class}")];
            }
            out.push(raw);
        }
        let test_file = is_test_support(src.path);
        for d in &defs {
            // A test's dummy callbacks, a decorated callback (a command, a
            // route), a no-op dunder, a protocol's or base class's hook
            // have empty bodies on purpose.
            if body_text(src, d) != "pass"
                || is_abstract(src, d)
                || test_file
                || enclosing_defs(&defs, d).any(|e| e.name.starts_with("test"))
                || registered(src, d)
                || (d.name.starts_with("__") && d.name.ends_with("__"))
                || enclosing_defs(&defs, d).next().is_some()
                || enclosing_class(src, d).is_some_and(|(name, bases)| bases.contains("Protocol") || is_subclassed(src, &name) || !promises_behaviour(src, d))
            {
                continue;
            }
            out.push(Raw::new(PY_PASS, d.start, format!("`{}` has only `pass` for a body", d.name), format!("def {}", d.name)));
        }
    }
    if has(family::PLACEHOLDER) {
        for bases in SUBCLASS.captures_iter(&src.code).filter_map(|c| c.get(1)) {
            let bases = String::from_utf8_lossy(bases.as_bytes());
            // `x.Base[T]` names `Base`; `metaclass=M` names no base.
            let names = bases.split(',').filter(|b| !b.contains('=')).filter_map(|b| b.split('[').next()?.trim().rsplit('.').next().map(str::to_string));
            checked.asserting.extend(names.filter(|n| !n.is_empty()).map(|n| format!("class:{n}")));
        }
    }
    if !has(family::TEST) && !support {
        return;
    }
    let spans: Vec<(String, usize, usize)> = defs.iter().map(|d| (d.name.clone(), d.open, d.end)).collect();
    let mut local = asserting_defs(&spans, &src.code, |_, b| body_asserts(b, m));
    if support {
        checked.asserting.extend(local.iter().map(|s| s.to_string()));
    }
    // A module-level function documented to raise on a wrong input (a
    // validator) is a check wherever a test calls it.
    let raising: Vec<&str> = defs.iter().filter(|d| is_module_level(src, d) && docstring(src, d).is_some_and(|t| RAISES_DOC.is_match(t.as_bytes()))).map(|d| d.name.as_str()).collect();
    checked.asserting.extend(raising.iter().map(|s| s.to_string()));
    checked.asserting.sort_unstable();
    checked.asserting.dedup();
    local.extend(raising);
    if !has(family::TEST) {
        return;
    }
    let pytest_file = is_pytest_file(src.path);
    let benchmarks = is_benchmark_file(src);
    for d in defs.iter().filter(|d| d.name.starts_with("test") && is_test(src, &defs, d, pytest_file) && !benchmarks && !is_benchmark(src, d)) {
        let body = &src.code[d.open..d.end];
        if body_asserts(body, m) || calls(body).iter().any(|c| std::str::from_utf8(c.name).is_ok_and(|n| local.contains(n) && n != d.name)) || states_no_failure(&d.name, &src.original(d.open, d.end)) {
            continue;
        }
        let mut raw = Raw::new(PY_TEST, d.start, format!("test `{}` has no assertion: nothing in it can fail", d.name), format!("def {}", d.name));
        raw.calls = called_names(body);
        out.push(raw);
    }
}

/// The def's body without whitespace and string quotes (so a docstring
/// leaves nothing).
fn body_text(src: &Source, d: &FnSpan) -> String {
    src.code_str(d.open + 1, d.end).chars().filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'').collect()
}

fn is_module_level(src: &Source, d: &FnSpan) -> bool {
    src.line_start(src.line_of(d.start)) == d.start
}

/// The def's docstring, quotes included, if its body opens with one.
fn docstring<'a>(src: &'a Source, d: &FnSpan) -> Option<std::borrow::Cow<'a, str>> {
    let code = &src.code;
    let first = code[d.open + 1..d.end].iter().position(|b| !b.is_ascii_whitespace()).map(|p| d.open + 1 + p)?;
    // A string prefix (`r"""`, `u'`) may come first.
    let q = first + code[first..].iter().take(2).take_while(|b| matches!(b.to_ascii_lowercase(), b'r' | b'u' | b'b' | b'f')).count();
    let quote = *code.get(q).filter(|&&b| b == b'"' || b == b'\'')?;
    let delim: &[u8] = if code[q..].starts_with(&[quote; 3]) { &code[q..q + 3] } else { &code[q..q + 1] };
    let close = memchr::memmem::find(&code[q + delim.len()..d.end], delim).map_or(d.end, |p| q + delim.len() + p + delim.len());
    Some(src.original(q, close))
}

/// A file of benchmarks: under a `bench`/`benchmarks` directory, or marked
/// as benchmarks throughout (`pytestmark = pytest.mark.benchmark()`).
fn is_benchmark_file(src: &Source) -> bool {
    src.path.split('/').rev().skip(1).any(|d| matches!(d, "bench" | "benches" | "benchmark" | "benchmarks")) || PYTESTMARK_BENCHMARK.is_match(&src.code)
}

/// A benchmark: marked `@pytest.mark.benchmark`, or taking the
/// `benchmark` fixture.
fn is_benchmark(src: &Source, d: &FnSpan) -> bool {
    decorated(src, d, &BENCHMARK_MARK) || src.code_str(d.start, d.open).split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == "benchmark")
}

/// Python's own convention for an abstract method: a method of a base
/// class that only raises NotImplementedError, documented (a docstring
/// says what to implement) or in a class the file subclasses.
fn is_interface_method(src: &Source, d: &FnSpan) -> bool {
    let Some((class, _)) = enclosing_class(src, d) else { return false };
    let has_docstring = src.code[d.open + 1..d.end].iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|&b| b == b'"' || b == b'\'');
    has_docstring || is_subclassed(src, &class) || ["Base", "Abstract", "Interface", "Mixin"].iter().any(|w| class.contains(w))
}

/// Whether a method's docstring says it does something (so a `pass` body
/// leaves it undone). Without one, or saying it does nothing by default or
/// is there to be overridden, a `pass` method is a deliberate no-op: an
/// override, a hook, a file-like stand-in's `flush`.
fn promises_behaviour(src: &Source, d: &FnSpan) -> bool {
    static NO_OP: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bnothing\b|no-?op|overrid|subclass|\bhook\b|by default"));
    let first = src.code[d.open + 1..d.end].iter().position(|b| !b.is_ascii_whitespace()).map(|p| d.open + 1 + p);
    let Some(q) = first.filter(|&q| matches!(src.code[q], b'"' | b'\'')) else { return false };
    let docstring = src.original(q, d.end);
    !NO_OP.is_match(docstring.as_bytes())
}

/// Whether the file defines a class deriving from `class`.
fn is_subclassed(src: &Source, class: &str) -> bool {
    let pattern = format!(r"(?m)^[ \t]*class[ \t]+\w+[ \t]*\([^)]*\b{}\b", regex::escape(class));
    Regex::new(&pattern).is_ok_and(|r| r.is_match(&src.code))
}

/// Whether a decorator registers the function (`@app.route(…)`,
/// `@click.command()`, `@cli.command`): a call or a dotted name, other than
/// a property's setter or deleter.
fn registered(src: &Source, d: &FnSpan) -> bool {
    let mut line = src.line_of(d.start);
    while line > 1 {
        line -= 1;
        let text = src.line_text(line);
        let t = text.trim();
        if !t.starts_with('@') {
            return false;
        }
        let name = t[1..].split('(').next().unwrap_or("").trim();
        if t.contains('(') || (name.contains('.') && !name.ends_with(".setter") && !name.ends_with(".deleter") && !name.ends_with(".getter")) {
            return true;
        }
    }
    false
}

/// Whether a body can fail a test: an assertion statement or method, a
/// pytest check, `raise`, a call named like an assertion (`assert_*`,
/// `check_*`, … — `subprocess.check_call` raises too), or a configured
/// helper.
fn body_asserts(body: &[u8], m: &Matchers) -> bool {
    ASSERTION.is_match(body) || m.calls_helper(body) || calls(body).iter().any(|c| m.is_assertion_call(c.name))
}

/// `test_*.py` or `*_test.py`: the files pytest collects by default.
fn is_pytest_file(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.strip_suffix(".py").unwrap_or(file);
    stem.starts_with("test_") || stem.ends_with("_test")
}

/// The defs enclosing `d`, innermost first.
fn enclosing_defs<'a>(defs: &'a [FnSpan], d: &'a FnSpan) -> impl Iterator<Item = &'a FnSpan> {
    defs.iter().rev().filter(move |e| e.open < d.start && d.start < e.end)
}

/// Whether pytest or unittest would collect the def as a test.
fn is_test(src: &Source, defs: &[FnSpan], d: &FnSpan, pytest_file: bool) -> bool {
    if enclosing_defs(defs, d).next().is_some() || decorated(src, d, &FIXTURE) {
        return false;
    }
    match enclosing_class(src, d) {
        None => pytest_file,
        Some((name, bases)) => (pytest_file && name.starts_with("Test")) || bases.contains("TestCase"),
    }
}

/// The class a def is a method of (its name and base list), if any: the
/// nearest line above indented less than the def that opens a class.
fn enclosing_class(src: &Source, d: &FnSpan) -> Option<(String, String)> {
    let line = src.line_of(d.start);
    let indent = src.line_text(line).chars().take_while(|c| *c == ' ' || *c == '\t').count();
    if indent == 0 {
        return None;
    }
    for l in (1..line).rev() {
        let text = src.line_text(l);
        let code = src.code_str(src.line_start(l), src.line_start(l) + text.len());
        let trimmed = code.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('@') {
            continue;
        }
        let width = code.len() - trimmed.len();
        if width >= indent {
            continue;
        }
        let c = CLASS.captures(code.as_bytes())?;
        let name = c.get(1).map(|n| String::from_utf8_lossy(n.as_bytes()).into_owned()).unwrap_or_default();
        let bases = c.get(2).map(|b| String::from_utf8_lossy(b.as_bytes()).into_owned()).unwrap_or_default();
        return Some((name, bases));
    }
    None
}

/// Whether one of the decorators right above the def matches.
fn decorated(src: &Source, d: &FnSpan, pattern: &Regex) -> bool {
    let mut line = src.line_of(d.start);
    while line > 1 {
        line -= 1;
        let text = src.line_text(line);
        let t = text.trim();
        if !t.starts_with('@') {
            return false;
        }
        if pattern.is_match(t.as_bytes()) {
            return true;
        }
    }
    false
}

/// Whether the decorators right above the def say it has no body on
/// purpose (@abstractmethod, @overload).
fn is_abstract(src: &Source, d: &FnSpan) -> bool {
    decorated(src, d, &DECORATOR)
}
