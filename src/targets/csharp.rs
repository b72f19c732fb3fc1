//! C# symbols: every method, constructor and local-free member function
//! with a body (block or `=>`), named `Namespace.Type.Method` (nested types
//! joined by `.`), in block-scoped and file-scoped namespaces. Test methods
//! (`[Fact]`, `[Theory]`, `[Test]`, `[TestCase]`, `[TestMethod]`,
//! `[DataTestMethod]`) are left out.

use super::lex::{mask, Masked};
use super::tokens::{pairs, ports_above, tokenize, Tok};
use super::{Lang, Symbol};

const TEST_ATTRIBUTES: &[&str] = &["Fact", "Theory", "Test", "TestCase", "TestCaseSource", "TestMethod", "DataTestMethod"];
/// Words that may precede `(` without naming a method.
const NOT_METHODS: &[&str] = &[
    "if", "while", "for", "foreach", "switch", "catch", "using", "lock", "return", "new", "nameof", "typeof", "sizeof", "default", "when",
    "base", "this", "checked", "unchecked", "fixed", "stackalloc", "await", "throw", "in", "is", "and", "or", "not", "get", "set", "init",
];
const TYPE_KEYWORDS: &[&str] = &["class", "struct", "interface", "record"];

pub fn symbols(file: &str, text: &[u8]) -> Vec<Symbol> {
    let m = mask(text, Lang::CSharp);
    let toks = tokenize(&m);
    let braces = pairs(&toks, "{", "}");
    let parens = pairs(&toks, "(", ")");
    let brackets = pairs(&toks, "[", "]");
    let mut p = Parser { file, m: &m, text, toks: &toks, braces, parens, brackets, out: Vec::new() };
    // A file-scoped namespace (`namespace A.B;`) names everything after it.
    let mut base = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.is("namespace") {
            let (name, end) = p.dotted(i + 1);
            if p.t(end) == ";" {
                base = name;
            }
            break;
        }
    }
    p.scope(0, toks.len(), &base, false);
    p.out
}

struct Parser<'a> {
    file: &'a str,
    m: &'a Masked,
    text: &'a [u8],
    toks: &'a [Tok<'a>],
    braces: Vec<Option<usize>>,
    parens: Vec<Option<usize>>,
    brackets: Vec<Option<usize>>,
    out: Vec<Symbol>,
}

impl Parser<'_> {
    fn t(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| t.text)
    }

    fn line(&self, i: usize) -> usize {
        self.toks.get(i).map_or(1, |t| self.m.line_of(t.at))
    }

    /// `A.B.C` starting at `i`: the names and the index after them.
    fn dotted(&self, mut i: usize) -> (Vec<String>, usize) {
        let mut names = Vec::new();
        while self.toks.get(i).is_some_and(Tok::is_ident) {
            names.push(self.t(i).to_string());
            if self.t(i + 1) == "." {
                i += 2;
            } else {
                return (names, i + 1);
            }
        }
        (names, i)
    }

    fn past(&self, open: usize, to: usize) -> usize {
        self.braces.get(open).copied().flatten().map_or(to, |c| c + 1)
    }

    /// Declarations of `[from, to)` under `path` (namespaces and types);
    /// `in_type` when directly inside a class, struct, interface or record.
    fn scope(&mut self, from: usize, to: usize, path: &[String], in_type: bool) {
        let mut k = from;
        let mut test_attr = false;
        let mut member_start = from;
        while k < to {
            let t = self.t(k);
            match t {
                "[" => {
                    let close = self.brackets.get(k).copied().flatten().unwrap_or(k);
                    if self.toks[k + 1..close].iter().any(|a| TEST_ATTRIBUTES.contains(&a.text)) {
                        test_attr = true;
                    }
                    k = close + 1;
                }
                "namespace" => {
                    let (name, end) = self.dotted(k + 1);
                    if self.t(end) == "{" {
                        let close = self.past(end, to);
                        let mut inner = path.to_vec();
                        inner.extend(name);
                        self.scope(end + 1, close - 1, &inner, false);
                        k = close;
                    } else {
                        k = end + 1;
                    }
                    member_start = k;
                }
                _ if TYPE_KEYWORDS.contains(&t) && self.toks.get(k + 1).is_some_and(Tok::is_ident) => {
                    // `record struct X`, `record class X`.
                    let name_at = if t == "record" && matches!(self.t(k + 1), "struct" | "class") { k + 2 } else { k + 1 };
                    let name = self.t(name_at).to_string();
                    match (name_at..to).find(|&i| matches!(self.t(i), "{" | ";")) {
                        Some(open) if self.t(open) == "{" => {
                            let close = self.past(open, to);
                            let mut inner = path.to_vec();
                            inner.push(name);
                            self.scope(open + 1, close - 1, &inner, true);
                            k = close;
                        }
                        Some(semi) => k = semi + 1,
                        None => k = to,
                    }
                    test_attr = false;
                    member_start = k;
                }
                "enum" | "delegate" | "event" => {
                    k = (k..to).find(|&i| matches!(self.t(i), "{" | ";")).map_or(to, |i| if self.t(i) == "{" { self.past(i, to) } else { i + 1 });
                    test_attr = false;
                    member_start = k;
                }
                "(" if in_type && k > member_start => {
                    let close = self.parens.get(k).copied().flatten().unwrap_or(k);
                    // The name before `(`, skipping generic parameters `M<T>(`.
                    let mut name_at = k - 1;
                    if self.t(name_at) == ">" {
                        let mut depth = 0i32;
                        while name_at > member_start {
                            match self.t(name_at) {
                                ">" => depth += 1,
                                "<" => {
                                    depth -= 1;
                                    if depth == 0 {
                                        name_at -= 1;
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            name_at -= 1;
                        }
                    }
                    let name = self.t(name_at);
                    let body = (close + 1..to).find(|&i| matches!(self.t(i), "{" | ";" | "=>" | "="));
                    match body {
                        Some(b) if self.toks[name_at].is_ident() && !NOT_METHODS.contains(&name) && self.t(b) != "=" => {
                            let end = match self.t(b) {
                                "{" => self.past(b, to),
                                "=>" => (b..to).find(|&i| self.t(i) == ";").map_or(to, |i| i + 1),
                                _ => b + 1,
                            };
                            if self.t(b) != ";" && !test_attr {
                                let line = self.line(name_at);
                                let mut symbol = path.to_vec();
                                symbol.push(name.to_string());
                                self.out.push(Symbol {
                                    file: self.file.to_string(),
                                    symbol: symbol.join("."),
                                    owner: path.last().cloned().unwrap_or_default(),
                                    trait_name: None,
                                    name: name.to_string(),
                                    line,
                                    end_line: self.line(end - 1),
                                    ports: ports_above(self.m, self.text, self.line(member_start)),
                                });
                            }
                            k = end;
                        }
                        _ => k = close + 1,
                    }
                    test_attr = false;
                    member_start = k;
                }
                "{" => {
                    // A property, indexer, initializer or other block.
                    k = self.past(k, to);
                    if self.t(k) != "=" {
                        test_attr = false;
                        member_start = k;
                    }
                }
                ";" => {
                    k += 1;
                    test_attr = false;
                    member_start = k;
                }
                _ => k += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syms(text: &str) -> Vec<(String, usize, usize)> {
        symbols("src/A.cs", text.as_bytes()).into_iter().map(|s| (s.symbol, s.line, s.end_line)).collect()
    }

    #[test]
    fn namespaces_nested_types_and_members() {
        let text = "using System;\nnamespace NatsNet.Server\n{\n    public sealed partial class JetStream : IDisposable\n    {\n        private int _x = Compute(1);\n        public int Count { get { return _x; } }\n        /// Port of (*jetStream).monitorCluster\n        public void MonitorCluster(CancellationToken ct)\n        {\n            if (ct.IsCancellationRequested) { return; }\n            var s = \"}\";\n        }\n        internal static T Pick<T>(T a) where T : class => a;\n        public JetStream(int x) : base() { }\n        private class Inner { void Run() { } }\n        public abstract void Decl();\n    }\n    enum Kind { A, B }\n}\n";
        assert_eq!(
            syms(text),
            [
                ("NatsNet.Server.JetStream.MonitorCluster".to_string(), 9, 13),
                ("NatsNet.Server.JetStream.Pick".to_string(), 14, 14),
                ("NatsNet.Server.JetStream.JetStream".to_string(), 15, 15),
                ("NatsNet.Server.JetStream.Inner.Run".to_string(), 16, 16),
            ]
        );
        let s = symbols("src/A.cs", text.as_bytes());
        assert_eq!(s[0].ports, ["jetStream.monitorCluster"]);
        assert_eq!(s[0].owner, "JetStream");
    }

    #[test]
    fn file_scoped_namespace_and_test_methods() {
        let text = "namespace NatsNet.Tests;\npublic class RaftTests\n{\n    [Fact]\n    public void NRGSimple() { Assert.True(Run()); }\n    private static bool Run() => true;\n}\n";
        assert_eq!(syms(text), [("NatsNet.Tests.RaftTests.Run".to_string(), 6, 6)]);
    }
}
