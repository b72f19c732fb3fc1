//! TypeScript and JavaScript rules: `throw new Error("not implemented")`
//! and it()/test() callbacks with no assertion.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::calls::calls;
use super::{asserting_defs, called_names, family, re, says_placeholder, Checked, Matchers, Raw, TS_TEST, TS_THROW};
use crate::stubscan::source::Source;

static THROW: LazyLock<Regex> = LazyLock::new(|| re(r"\bthrow\s+new\s+\w*Error\s*(\()"));
/// `it("…", …)` / `test('…', …)`, with .only/.concurrent; group 1 is the
/// call's `(`.
static TEST_CALL: LazyLock<Regex> = LazyLock::new(|| re(r#"\b(?:it|test)(?:\s*\.\s*(?:only|concurrent))?\s*(\()\s*["'`]"#));
static CALLBACK: LazyLock<Regex> = LazyLock::new(|| re(r"=>|\bfunction\b"));
/// chai's `.should`, ava/tap's `t.is(…)`, `throw`, and `.parse(…)` or
/// `.parseAsync(…)`, which throw (reject) when the input does not match
/// (zod, JSON).
/// Type-level checks count too: `satisfies`, and a typed binding named
/// `_…` (`const _s: Schema = z.string()`) that fails to compile when the
/// types disagree.
static ASSERTION: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\.\s*should\b|\bt\s*\.\s*\w+\s*\(|\bthrow\b|\.\s*parse(?:Async)?\s*\(|\bsatisfies\b|\b(?:const|let|var)\s+_\w*\s*!?:")
});
/// `function name(` and `const name = (…) =>` / `= function`; group 1 is
/// the name.
static FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\bfunction\s*\*?\s*([A-Za-z_$][\w$]*)|\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=;\n]+)?=\s*(?:async\s+)?(?:function\b|\([^;]*?\)\s*(?::[^=;\n]+)?=>|[A-Za-z_$][\w$]*\s*=>)")
});

pub fn check(src: &Source, has: impl Fn(usize) -> bool, support: bool, m: &Matchers, checked: &mut Checked) {
    let code = &src.code;
    if has(family::PLACEHOLDER) {
        for c in THROW.captures_iter(code) {
            let (Some(whole), Some(open)) = (c.get(0), c.get(1)) else { continue };
            if says_placeholder(&super::call_args(src, open.start())) {
                checked.raw.push(Raw::on_line(src, TS_THROW, whole.start(), "`throw new Error` says the code is not implemented".into()));
            }
        }
    }
    if !has(family::TEST) && !support {
        return;
    }
    let defs = functions(src);
    let local = asserting_defs(&defs, code, |_, b| body_asserts(b, m));
    if support {
        checked.asserting = local.iter().map(|s| s.to_string()).collect();
        checked.asserting.sort_unstable();
    }
    if !has(family::TEST) {
        return;
    }
    for c in TEST_CALL.captures_iter(code) {
        let (Some(whole), Some(open)) = (c.get(0), c.get(1)) else { continue };
        let call_end = src.group_end(open.start());
        let args = &code[open.start()..call_end];
        // No callback (`it.todo`-style declarations): nothing to judge.
        let Some(cb) = CALLBACK.find(args) else { continue };
        let from = open.start() + cb.end();
        let body = match src.body_open(from, false) {
            Some(b) if b < call_end => &code[b..src.block_end(b)],
            _ => &code[from..call_end],
        };
        let name = super::literal_text(src, whole.end() - 1);
        let text = src.original(open.start(), call_end);
        // `// @ts-expect-error` fails the type check when the line compiles.
        if body_asserts(body, m) || text.contains("@ts-expect-error") || calls(body).iter().any(|c| std::str::from_utf8(c.name).is_ok_and(|n| local.contains(n))) || super::states_no_failure(&name, &text) {
            continue;
        }
        let mut raw = Raw::new(TS_TEST, whole.start(), format!("test \"{name}\" has no assertion: nothing in it can fail"), format!("test {name}"));
        raw.calls = called_names(body);
        checked.raw.push(raw);
    }
}

/// Whether a body can fail a test: a call named like an assertion
/// (`expect`, `expectTypeOf<T>()`, `util.assertEqual`) or made on one
/// (`assert.equal`), one of [`ASSERTION`], or a configured helper.
fn body_asserts(body: &[u8], m: &Matchers) -> bool {
    ASSERTION.is_match(body) || m.calls_helper(body) || calls(body).iter().any(|c| m.is_assertion_call(c.name) || c.receiver.is_some_and(|r| m.is_assertion_call(r)))
}

/// Named functions of the file as (name, body open, body end): a block
/// body, or an arrow function's expression up to the end of its line.
fn functions(src: &Source) -> Vec<(String, usize, usize)> {
    let code = &src.code;
    FUNCTION
        .captures_iter(code)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let name = c.get(1).or(c.get(2))?;
            let name = String::from_utf8_lossy(name.as_bytes()).into_owned();
            let rest = code[whole.end()..].iter().position(|b| !b.is_ascii_whitespace()).map_or(code.len(), |p| whole.end() + p);
            if code.get(rest) == Some(&b'{') {
                return Some((name, rest, src.block_end(rest)));
            }
            // `function f(…) {`: the body follows the parameters.
            if c.get(1).is_some() {
                let open = src.body_open(whole.end(), false)?;
                return Some((name, open, src.block_end(open)));
            }
            let end = memchr::memchr(b'\n', &code[rest..]).map_or(code.len(), |p| rest + p);
            Some((name, rest, end))
        })
        .collect()
}
