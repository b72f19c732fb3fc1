//! What a test body's tokens say about its calls: every call as the chain of
//! selectors, calls and indexes that reaches it (`c.leader().Stop()`), and
//! the names the body gives values to (`s := RunServer(opts)`, `var n
//! *raft`, a function literal's parameters), so the link rule can tell the
//! type a method is called on where the source spells it out. Also the
//! parameter and result types of a signature.

use std::cell::RefCell;

use super::extract::matching;
use super::lexer::{is_keyword, owned_text, Kind, Token};
pub use super::types::Ty;
use super::types::{params, parse, result_list, split_list, top_level_commas, ty};

/// One step after a chain's first identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// `.name`
    Sel(String),
    /// `(…)` with the number of arguments, or `None` when a call's results
    /// or a `...` may spread into several (`f(g())`, `f(xs...)`).
    Call(Option<u16>),
    /// `[…]`: an index, or a generic function's type arguments.
    Index,
    /// `.(T)`, a type assertion; boxed, as it is rare and would double the
    /// size of every step.
    Assert(Box<Ty>),
}

/// `root.a(…).b[…].c(…)`. An empty root stands for a value the tokens do
/// not name, as in `(x).f()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chain {
    pub root: String,
    pub segs: Vec<Seg>,
}

/// A chain's step as [`Cursor::steps`] reads it: a selector by its name's
/// token, a call by its parentheses' tokens.
enum Step {
    Sel(usize),
    Call(usize, usize),
    Index,
    Assert(Ty),
}

/// The value an expression gives, as far as its tokens tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `f(x)`, `s.leader()`, `pkg.New()`, a plain `name`.
    Chain(Chain),
    /// `T{…}`, `&pkg.T{…}`: the chain names the type.
    Composite(Chain),
    /// `new(T)`, `make(T, …)`, `[]T{…}`, `map[K]V{…}`, a function literal:
    /// a value of the type.
    Typed(Ty),
    Other,
}

/// What a binding gives its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// One expression per name, or one expression giving every name a
    /// result of a call (`a, b := f()`).
    Exprs(Vec<Expr>),
    /// A declared type (`var x T`, a parameter).
    Typed(Ty),
    /// `k, v := range x`: the key and element of what `x` gives.
    Range(Expr),
}

/// Names given a value by `:=`, `=`, `var` or a parameter list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub names: Vec<String>,
    pub value: Value,
    /// `=` rather than `:=`, `var` or a parameter: the names keep the type
    /// they were declared with.
    pub assign: bool,
}

/// A body's bindings in source order and its calls: each chain up to its
/// last [`Seg::Call`] (`c.leader().Stop()` stands for both calls), sorted
/// and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    pub bindings: Vec<Binding>,
    pub calls: Vec<Chain>,
}

struct Cursor<'a> {
    src: &'a [u8],
    toks: &'a [Token],
    /// Index of the last token that belongs to the body.
    last: usize,
    /// The names the body's blocks declare, innermost last, each with the
    /// name it is renamed to (see [`body`]).
    scopes: RefCell<Vec<Vec<(String, String)>>>,
}

impl Cursor<'_> {
    fn new<'a>(src: &'a [u8], toks: &'a [Token], last: usize) -> Cursor<'a> {
        Cursor { src, toks, last, scopes: RefCell::new(vec![Vec::new()]) }
    }

    /// The `{` that opens the block of the statement whose header goes on
    /// at `j`: the first one outside brackets that opens no composite
    /// literal (`[]T{…}`, `map[K]V{…}`, `struct{…}{…}`; Go's grammar wants a
    /// bare `T{…}` in parentheses there).
    fn block_after(&self, mut j: usize) -> Option<usize> {
        while let Some(t) = self.tok(j) {
            if t.is_op(self.src, b"(") || t.is_op(self.src, b"[") {
                j = self.close(j)? + 1;
                continue;
            }
            if t.is_op(self.src, b"{") {
                if !self.opens_composite(j) {
                    return Some(j);
                }
                j = self.close(j)? + 1;
                continue;
            }
            j += 1;
        }
        None
    }

    fn opens_composite(&self, k: usize) -> bool {
        let prev = &self.toks[k - 1];
        if prev.is_op(self.src, b"}") || prev.is_ident(self.src, b"struct") || prev.is_ident(self.src, b"interface") {
            return true;
        }
        if prev.kind != Kind::Ident || is_keyword(prev.text(self.src)) {
            return false;
        }
        let mut m = k - 1;
        if m >= 2 && self.toks[m - 1].is_op(self.src, b".") && self.toks[m - 2].kind == Kind::Ident {
            m -= 2;
        }
        while m >= 1 && self.toks[m - 1].is_op(self.src, b"*") {
            m -= 1;
        }
        m >= 1 && self.toks[m - 1].is_op(self.src, b"]")
    }

    /// The name a use of `name` refers to: the innermost declaration's.
    fn resolve(&self, name: String) -> String {
        let scopes = self.scopes.borrow();
        scopes.iter().rev().find_map(|frame| frame.iter().rev().find(|(n, _)| *n == name).map(|(_, r)| r.clone())).unwrap_or(name)
    }
}

impl Cursor<'_> {
    fn tok(&self, i: usize) -> Option<&Token> {
        (i <= self.last).then(|| &self.toks[i])
    }

    fn is_op(&self, i: usize, op: &[u8]) -> bool {
        self.tok(i).is_some_and(|t| t.is_op(self.src, op))
    }

    fn is_name(&self, i: usize) -> bool {
        self.tok(i).is_some_and(|t| t.kind == Kind::Ident && !is_keyword(t.text(self.src)))
    }

    fn name_at(&self, i: usize) -> Option<String> {
        self.is_name(i).then(|| owned_text(self.toks[i].text(self.src)))
    }

    fn close(&self, open: usize) -> Option<usize> {
        let (o, c): (&[u8], &[u8]) = match self.toks[open].text(self.src) {
            b"(" => (b"(", b")"),
            b"[" => (b"[", b"]"),
            _ => (b"{", b"}"),
        };
        matching(self.src, &self.toks[..=self.last], open, o, c)
    }

    /// The chain with root `root` whose steps start at `j`, and the index
    /// after it; the indexes of its selector names go to `covered`.
    fn chain_from(&self, root: String, j: usize, covered: &mut Vec<usize>) -> (Chain, usize) {
        let mut steps = Vec::new();
        let end = self.steps(j, &mut steps, covered);
        (Chain { root, segs: steps.into_iter().map(|s| self.seg(s)).collect() }, end)
    }

    /// The steps of the chain that goes on at `j`, appended to `steps`; the
    /// index after them. Names and argument counts are only read by
    /// [`Cursor::seg`], for the chains kept.
    fn steps(&self, mut j: usize, steps: &mut Vec<Step>, covered: &mut Vec<usize>) -> usize {
        while let Some(t) = self.tok(j) {
            if t.is_op(self.src, b".") {
                if self.is_name(j + 1) {
                    steps.push(Step::Sel(j + 1));
                    covered.push(j + 1);
                    j += 2;
                    continue;
                }
                // `.(T)`; `.(type)` ends the chain (a type switch).
                if self.is_op(j + 1, b"(") && !self.tok(j + 2).is_some_and(|n| n.is_ident(self.src, b"type")) {
                    let Some(close) = self.close(j + 1) else { break };
                    steps.push(Step::Assert(ty(self.src, &self.toks[j + 2..close])));
                    j = close + 1;
                    continue;
                }
                break;
            }
            let open = t.is_op(self.src, b"(") || t.is_op(self.src, b"[");
            if !open || t.newline_before {
                break;
            }
            let Some(close) = self.close(j) else { break };
            steps.push(if t.is_op(self.src, b"(") { Step::Call(j, close) } else { Step::Index });
            j = close + 1;
        }
        j
    }

    fn seg(&self, step: Step) -> Seg {
        match step {
            Step::Sel(k) => Seg::Sel(owned_text(self.toks[k].text(self.src))),
            Step::Call(open, close) => Seg::Call(arity(self.src, &self.toks[open + 1..close])),
            Step::Index => Seg::Index,
            Step::Assert(t) => Seg::Assert(Box::new(t)),
        }
    }

    /// The call chain reaching the last call of the chain whose first
    /// identifier is at `at` (a name already read, then `first`), if it
    /// makes one; the steps after that call are dropped unread.
    fn call_chain(&self, at: usize, first: Option<usize>, steps: &mut Vec<Step>, covered: &mut Vec<usize>) -> Option<Chain> {
        steps.clear();
        self.steps(at + 1, steps, covered);
        let last = steps.iter().rposition(|s| matches!(s, Step::Call(..)))?;
        let root = match first {
            None => self.resolve(self.name_at(at)?),
            Some(_) => String::new(),
        };
        let head = first.map(|k| self.seg(Step::Sel(k)));
        Some(Chain { root, segs: head.into_iter().chain(steps.drain(..=last).map(|s| self.seg(s))).collect() })
    }

    fn chain(&self, i: usize) -> Option<(Chain, usize)> {
        let root = self.resolve(self.name_at(i)?);
        Some(self.chain_from(root, i + 1, &mut Vec::new()))
    }

    /// Whether an expression may end before token `j`.
    fn ends_at(&self, j: usize) -> bool {
        match self.tok(j) {
            None => true,
            Some(t) => {
                (t.newline_before && self.toks[j - 1].ends_statement(self.src))
                    || [&b","[..], b";", b")", b"}", b"]", b":"].iter().any(|op| t.is_op(self.src, op))
            }
        }
    }

    /// Past the rest of an expression: to the `,`, `;` or closing bracket
    /// at its depth, or the end of its line.
    fn skip_expr(&self, mut j: usize) -> usize {
        while !self.ends_at(j) {
            let t = &self.toks[j];
            if t.is_op(self.src, b"(") || t.is_op(self.src, b"[") || t.is_op(self.src, b"{") {
                match self.close(j) {
                    Some(c) => j = c + 1,
                    None => return self.last + 1,
                }
            } else {
                j += 1;
            }
        }
        j
    }

    /// The expression at `i`; in a statement's header (`if`, `for`,
    /// `switch`) a `{` after a name opens the block, not a composite
    /// literal, as Go's grammar has it.
    fn expr(&self, i: usize, header: bool) -> (Expr, usize) {
        let amp = self.is_op(i, b"&");
        let start = i + usize::from(amp);
        let (expr, j) = match self.name_at(start) {
            // `new(T)`, `make(T, …)`.
            Some(name) if (name == "new" || name == "make") && !amp && self.is_op(start + 1, b"(") => match self.close(start + 1) {
                Some(c) => {
                    let inner = &self.toks[start + 2..c];
                    let first = split_list(self.src, inner).first().copied().unwrap_or_default();
                    (Expr::Typed(ty(self.src, first)), c + 1)
                }
                None => (Expr::Other, self.last + 1),
            },
            Some(_) => match self.chain(start) {
                Some((chain, j)) if !header && self.is_op(j, b"{") && chain.segs.iter().all(|s| !matches!(s, Seg::Call(_))) => {
                    (Expr::Composite(chain), self.close(j).map_or(self.last + 1, |c| c + 1))
                }
                Some((chain, j)) if !amp => (Expr::Chain(chain), j),
                Some((_, j)) => (Expr::Other, j),
                None => (Expr::Other, start),
            },
            // `[]T{…}`, `map[K]V{…}`, `struct{…}{…}`, `func(…) R {…}`.
            None if self.tok(start).is_some_and(|t| t.is_op(self.src, b"[") || [&b"map"[..], b"struct", b"func"].iter().any(|w| t.is_ident(self.src, w))) => {
                match parse(self.src, &self.toks[..=self.last], start) {
                    Some((t, j)) if self.is_op(j, b"{") => (Expr::Typed(t), self.close(j).map_or(self.last + 1, |c| c + 1)),
                    Some((_, j)) => (Expr::Other, j),
                    None => (Expr::Other, start),
                }
            }
            None => (Expr::Other, start),
        };
        if self.ends_at(j) || (header && self.is_op(j, b"{")) {
            (expr, j)
        } else {
            (Expr::Other, self.skip_expr(j))
        }
    }

    /// A list of expressions and the index after it.
    fn exprs(&self, mut i: usize, header: bool) -> (Vec<Expr>, usize) {
        let mut out = Vec::new();
        loop {
            let (e, j) = self.expr(i, header);
            out.push(e);
            if self.is_op(j, b",") {
                i = j + 1;
            } else {
                return (out, j);
            }
        }
    }

    /// The identifiers `a, b, c` ending just before token `end`, if the
    /// list starts a statement (so `x.f = …` and `a[i] = …` bind nothing).
    fn names_before(&self, end: usize, first: usize) -> Option<Vec<String>> {
        let mut names = Vec::new();
        let mut k = end.checked_sub(1)?;
        loop {
            if k < first {
                return None;
            }
            names.push(self.name_at(k)?);
            if k > first && self.is_op(k - 1, b",") {
                k = k.checked_sub(2)?;
                continue;
            }
            break;
        }
        let starts = k == first || {
            let prev = &self.toks[k - 1];
            self.toks[k].newline_before || [&b";"[..], b"{", b"}", b"("].iter().any(|op| prev.is_op(self.src, op)) || prev.is_ident(self.src, b"if") || prev.is_ident(self.src, b"for") || prev.is_ident(self.src, b"switch")
        };
        names.reverse();
        starts.then_some(names)
    }
}

/// Summarise the body whose braces are the tokens `body.0` and `body.1`.
///
/// Go's block scopes are kept by renaming: each name the body declares
/// (`:=`, `var`, `range`, a function literal's parameters) becomes
/// `name#k`, unique in the body, in its bindings and in the chains that use
/// it inside the declaring block, so `for fn := range funcs` and a later
/// `for fn, d := range names` give two variables of their own types.
pub fn body(src: &[u8], toks: &[Token], body: (usize, usize)) -> Body {
    let (first, last) = (body.0 + 1, body.1);
    let c = Cursor::new(src, toks, body.1);
    let mut out = Body::default();
    let mut covered = Vec::new();
    let mut steps = Vec::new();
    let mut declared = 0u32;
    let mut rename = |names: &mut Vec<String>| -> Vec<(String, String)> {
        let mut frame = Vec::new();
        for n in names.iter_mut().filter(|n| *n != "_") {
            declared += 1;
            // `name#k`, built by hand: `format!` took three quarters of
            // the renaming.
            let mut renamed = String::with_capacity(n.len() + 6);
            renamed.push_str(n);
            renamed.push('#');
            push_decimal(&mut renamed, declared);
            frame.push((std::mem::replace(n, renamed.clone()), renamed));
        }
        frame
    };
    // Names a statement declares take effect after it (`x := x.f()`); those
    // of an `if`, `for` or `switch` header and of a function literal's
    // parameters in the block that follows.
    let mut after_statement: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    let mut for_block: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    // A type switch's clauses with one type: (first token, token after the
    // clause, the name bound to that type).
    let mut clauses: Vec<(usize, usize, Vec<(String, String)>)> = Vec::new();
    for i in first..last {
        // A clause ends where the next begins or at the switch's `}`, before
        // that token is read; its nested blocks are closed by then.
        for _ in clauses.iter().filter(|(_, end, _)| *end == i) {
            let mut scopes = c.scopes.borrow_mut();
            if scopes.len() > 1 {
                scopes.pop();
            }
        }
        for (_, _, frame) in clauses.iter().filter(|(start, _, _)| *start == i) {
            c.scopes.borrow_mut().push(frame.clone());
        }
        after_statement.retain(|(at, frame)| {
            if i < *at {
                return true;
            }
            if let Some(top) = c.scopes.borrow_mut().last_mut() {
                top.extend(frame.iter().cloned());
            }
            false
        });
        let t = &toks[i];
        if t.kind == Kind::Op {
            match t.text(src) {
                b"{" => {
                    let mut frame = Vec::new();
                    for_block.retain_mut(|(at, names)| {
                        if *at != i {
                            return true;
                        }
                        frame.append(names);
                        false
                    });
                    c.scopes.borrow_mut().push(frame);
                }
                b"}" => {
                    let mut scopes = c.scopes.borrow_mut();
                    if scopes.len() > 1 {
                        scopes.pop();
                    }
                }
                b":=" | b"=" => {
                    if let Some(mut names) = c.names_before(i, first) {
                        let before = (i + 1).checked_sub(2 * names.len() + 1).map(|k| &toks[k]);
                        let header = before.is_some_and(|b| [&b"if"[..], b"for", b"switch"].iter().any(|w| b.is_ident(src, w)));
                        let (value, mut end) = if c.tok(i + 1).is_some_and(|n| n.is_ident(src, b"range")) {
                            let (e, j) = c.expr(i + 2, true);
                            (Value::Range(e), j)
                        } else {
                            let (es, j) = c.exprs(i + 1, header);
                            (Value::Exprs(es), j)
                        };
                        // `switch v := x.(type) {`: the expression stops at
                        // `.(type)`, and what follows it is the block (read
                        // as the rest of the expression, the block was
                        // skipped and `v` never came into scope).
                        if let Some(open) = header.then(|| type_switch_block(&c, i + 1)).flatten() {
                            end = open;
                        }
                        let assign = t.is_op(src, b"=");
                        let mut cases = Vec::new();
                        if assign {
                            names = names.into_iter().map(|n| c.resolve(n)).collect();
                        } else {
                            let declared_as = names.clone();
                            let frame = rename(&mut names);
                            match header.then(|| c.block_after(end)).flatten() {
                                Some(open) => {
                                    if let [name] = declared_as.as_slice() {
                                        cases = type_switch_cases(&c, open).into_iter().map(|(start, end, ty)| (start, end, name.clone(), ty)).collect();
                                    }
                                    for_block.push((open, frame));
                                }
                                None => after_statement.push((end, frame)),
                            }
                        }
                        out.bindings.push(Binding { names, value, assign });
                        // In a clause of one type the name has that type
                        // (Go's rule); in one listing several, and in
                        // `default`, it keeps the binding above.
                        for (start, end, name, ty) in cases {
                            let mut names = vec![name];
                            let frame = rename(&mut names);
                            out.bindings.push(Binding { names, value: Value::Typed(ty), assign: false });
                            clauses.push((start, end, frame));
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        if t.is_ident(src, b"var") {
            if let Some(mut b) = var_binding(&c, i + 1) {
                let frame = rename(&mut b.names);
                if let Some(top) = c.scopes.borrow_mut().last_mut() {
                    top.extend(frame);
                }
                out.bindings.push(b);
            }
            continue;
        }
        if t.is_ident(src, b"func") && c.is_op(i + 1, b"(") {
            if let Some(close) = c.close(i + 1) {
                let open = c.block_after(close + 1);
                for (name, ty) in params(src, &toks[i + 2..close]) {
                    let mut names = vec![name];
                    let frame = rename(&mut names);
                    match open {
                        Some(open) => for_block.push((open, frame)),
                        None => after_statement.push((close + 1, frame)),
                    }
                    out.bindings.push(Binding { names, value: Value::Typed(ty), assign: false });
                }
            }
            continue;
        }
        if i > first && toks[i - 1].is_op(src, b".") {
            continue;
        }
        if c.is_name(i) {
            out.calls.extend(c.call_chain(i, None, &mut steps, &mut covered));
        }
    }
    // A selector after something that is no chain (`(x).f()`, `T{}.f()`).
    covered.sort_unstable();
    for i in first..last {
        if toks[i - 1].is_op(src, b".") && covered.binary_search(&i).is_err() && c.is_name(i) {
            out.calls.extend(c.call_chain(i, Some(i), &mut steps, &mut covered));
        }
    }
    out.calls.sort_unstable();
    out.calls.dedup();
    out
}

/// Append `n` in decimal.
fn push_decimal(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let (mut n, mut k) = (n, digits.len());
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[k..].iter().map(|&d| char::from(d)));
}

/// The `{` of a type switch whose guard starts at `from` (`x.(type) {` on
/// the header's line), if it is one.
fn type_switch_block(c: &Cursor<'_>, from: usize) -> Option<usize> {
    let src = c.src;
    let mut k = from;
    while let Some(t) = c.tok(k) {
        if k > from && t.newline_before || t.is_op(src, b"{") || t.is_op(src, b";") {
            return None;
        }
        if t.is_op(src, b".") && c.is_op(k + 1, b"(") && c.tok(k + 2).is_some_and(|n| n.is_ident(src, b"type")) && c.is_op(k + 3, b")") && c.is_op(k + 4, b"{") {
            return Some(k + 4);
        }
        k += 1;
    }
    None
}

/// The clauses of the type switch whose block opens at `open` (none when
/// it is not one: its header must end in `.(type)`) that name one type
/// other than `nil`: the clause's first token after its `:`, the token
/// after the clause (the next `case`/`default` or the closing `}`), and
/// the type.
fn type_switch_cases(c: &Cursor<'_>, open: usize) -> Vec<(usize, usize, Ty)> {
    let (src, toks) = (c.src, c.toks);
    let guard = open >= 4 && c.is_op(open - 1, b")") && toks[open - 2].is_ident(src, b"type") && c.is_op(open - 3, b"(") && c.is_op(open - 4, b".");
    let Some(close) = guard.then(|| c.close(open)).flatten() else { return Vec::new() };
    // `case`/`default` at the block's own depth.
    let mut heads = Vec::new();
    let mut depth = 0i32;
    for k in open + 1..close {
        let t = &toks[k];
        if t.kind == Kind::Op {
            match t.text(src) {
                b"(" | b"[" | b"{" => depth += 1,
                b")" | b"]" | b"}" => depth -= 1,
                _ => {}
            }
        } else if depth == 0 && (t.is_ident(src, b"case") || t.is_ident(src, b"default")) {
            heads.push(k);
        }
    }
    let mut out = Vec::new();
    for (n, &head) in heads.iter().enumerate() {
        let end = heads.get(n + 1).copied().unwrap_or(close);
        if !toks[head].is_ident(src, b"case") {
            continue;
        }
        let Some(colon) = (head + 1..end).find(|&k| c.is_op(k, b":")) else { continue };
        let list = &toks[head + 1..colon];
        if let [one] = split_list(src, list).as_slice() {
            if !matches!(one, [t] if t.is_ident(src, b"nil")) {
                out.push((colon + 1, end, ty(src, one)));
            }
        }
    }
    out
}

/// The names a file's top-level `var` and `const` declarations give values
/// to, in source order. In a `const` group a spec with neither type nor
/// value repeats the one before it, as Go's implicit repetition does
/// (`A Kind = iota` then `B`, `C`).
pub fn globals(src: &[u8], toks: &[Token]) -> Vec<Binding> {
    let mut out = globals_as_written(src, toks);
    // Most are constants whose values the tokens do not type (`A = 0x1`):
    // no expressions stand for that as well and take no memory, which the
    // standard library's 180,000 specs need.
    for b in &mut out {
        if matches!(&b.value, Value::Exprs(es) if es.iter().all(|e| matches!(e, Expr::Other))) {
            b.value = Value::Exprs(Vec::new());
        }
    }
    out
}

fn globals_as_written(src: &[u8], toks: &[Token]) -> Vec<Binding> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    for i in 0..toks.len() {
        let t = &toks[i];
        if t.kind == Kind::Op {
            match t.text(src) {
                b"(" | b"[" | b"{" => depth += 1,
                b")" | b"]" | b"}" => depth -= 1,
                _ => {}
            }
            continue;
        }
        let is_const = t.is_ident(src, b"const");
        if depth != 0 || !(is_const || t.is_ident(src, b"var")) || !starts_statement(src, toks, i) {
            continue;
        }
        if !toks.get(i + 1).is_some_and(|n| n.is_op(src, b"(")) {
            let c = Cursor::new(src, toks, toks.len() - 1);
            out.extend(spec(&c, i + 1, is_const, &mut None));
            continue;
        }
        let Some(close) = matching(src, toks, i + 1, b"(", b")") else { break };
        let c = Cursor::new(src, toks, close - 1);
        let mut previous = None;
        let mut inner = 0i32;
        for j in i + 2..close {
            let t = &toks[j];
            if inner == 0 && t.kind == Kind::Ident && (j == i + 2 || starts_statement(src, toks, j)) {
                out.extend(spec(&c, j, is_const, &mut previous));
            }
            if t.kind == Kind::Op {
                match t.text(src) {
                    b"(" | b"[" | b"{" => inner += 1,
                    b")" | b"]" | b"}" => inner -= 1,
                    _ => {}
                }
            }
        }
    }
    out
}

/// Whether token `i` begins a statement: the previous one ended, by `;` or
/// by Go's automatic semicolon at the end of a line.
fn starts_statement(src: &[u8], toks: &[Token], i: usize) -> bool {
    match i.checked_sub(1).map(|p| &toks[p]) {
        None => true,
        Some(prev) => prev.is_op(src, b";") || (toks[i].newline_before && prev.ends_statement(src)),
    }
}

/// One `var` or `const` spec starting at `i`; `previous` is the value of a
/// constant spec before it in the same group.
fn spec(c: &Cursor<'_>, i: usize, is_const: bool, previous: &mut Option<Value>) -> Option<Binding> {
    let mut after = i + 1;
    while c.is_op(after, b",") && c.name_at(after + 1).is_some() {
        after += 2;
    }
    if is_const && c.ends_at(after) {
        let names = (i..after).step_by(2).map(|k| c.name_at(k)).collect::<Option<Vec<_>>>()?;
        return previous.clone().map(|value| Binding { names, value, assign: false });
    }
    let b = var_binding(c, i)?;
    if is_const {
        *previous = Some(b.value.clone());
    }
    Some(b)
}

/// `var a, b T`, `var a = f()`, `var a T = f()` (the type wins).
fn var_binding(c: &Cursor<'_>, mut i: usize) -> Option<Binding> {
    let mut names = vec![c.name_at(i)?];
    while c.is_op(i + 1, b",") {
        names.push(c.name_at(i + 2)?);
        i += 2;
    }
    let after = i + 1;
    if c.is_op(after, b"=") {
        return Some(Binding { names, value: Value::Exprs(c.exprs(after + 1, false).0), assign: false });
    }
    let value = match parse(c.src, &c.toks[..=c.last], after) {
        Some((t, end)) if c.ends_at(end) || c.is_op(end, b"=") => Value::Typed(t),
        _ => Value::Typed(Ty::Other),
    };
    Some(Binding { names, value, assign: false })
}

/// The number of arguments between a call's parentheses; `None` when they
/// may spread (a single call argument, a `...`).
fn arity(src: &[u8], args: &[Token]) -> Option<u16> {
    // The elements `split_list` gives, counted without collecting them
    // (every call step of a test body comes here): one per top-level comma,
    // and one after the last comma if tokens follow it.
    let (mut commas, mut start, mut first_end) = (0usize, 0usize, args.len());
    for k in top_level_commas(src, args) {
        if commas == 0 {
            first_end = k;
        }
        commas += 1;
        start = k + 1;
    }
    let els = commas + usize::from(start < args.len());
    let spread = args.iter().any(|t| t.is_op(src, b"..."));
    if spread || (els == 1 && args[..first_end].last().is_some_and(|t| t.is_op(src, b")"))) {
        return None;
    }
    u16::try_from(els).ok()
}

/// How many parameters a signature (the tokens after the name up to the
/// body) takes, and whether the last is variadic.
pub fn param_count(src: &[u8], sig: &[Token]) -> (u16, bool) {
    let mut i = 0;
    if sig.first().is_some_and(|t| t.is_op(src, b"[")) {
        match matching(src, sig, 0, b"[", b"]") {
            Some(c) => i = c + 1,
            None => return (0, true),
        }
    }
    match sig.get(i).filter(|t| t.is_op(src, b"(")).and_then(|_| matching(src, sig, i, b"(", b")")) {
        Some(c) => {
            let els = split_list(src, &sig[i + 1..c]);
            let variadic = els.last().is_some_and(|el| el.iter().any(|t| t.is_op(src, b"...")));
            (u16::try_from(els.len()).unwrap_or(u16::MAX), variadic)
        }
        None => (0, true),
    }
}

/// The parameters of a signature (the tokens after the name up to the
/// body), with their types.
pub fn signature_params(src: &[u8], sig: &[Token]) -> Vec<(String, Ty)> {
    let mut i = 0;
    if sig.first().is_some_and(|t| t.is_op(src, b"[")) {
        match matching(src, sig, 0, b"[", b"]") {
            Some(c) => i = c + 1,
            None => return Vec::new(),
        }
    }
    if !sig.get(i).is_some_and(|t| t.is_op(src, b"(")) {
        return Vec::new();
    }
    match matching(src, sig, i, b"(", b")") {
        Some(c) => params(src, &sig[i + 1..c]),
        None => Vec::new(),
    }
}

/// The result types of a signature (the tokens after the name up to the
/// body), one per result.
pub fn results(src: &[u8], sig: &[Token]) -> Vec<Ty> {
    let mut i = 0;
    // Type parameters, then the parameter list.
    for open in [&b"["[..], b"("] {
        if sig.get(i).is_some_and(|t| t.is_op(src, open)) {
            match matching(src, sig, i, open, if open == b"[" { b"]" } else { b")" }) {
                Some(c) => i = c + 1,
                None => return Vec::new(),
            }
        }
    }
    let rest = &sig[i..];
    if rest.is_empty() {
        return Vec::new();
    }
    if !rest[0].is_op(src, b"(") {
        return vec![ty(src, rest)];
    }
    let Some(close) = matching(src, rest, 0, b"(", b")") else { return Vec::new() };
    result_list(src, &rest[1..close])
}

#[cfg(test)]
mod tests {
    use super::super::extract::functions;
    use super::super::lexer::tokenize;
    use super::*;

    #[test]
    fn globals_give_types_and_const_groups_repeat_them() {
        let src = b"package p\nimport \"x\"\nconst (\n\tA Kind = iota\n\tB\n\tc, d = 1, 2\n)\nvar s = &Server{}\nvar (\n\tm *Map\n\tf = func() { var inner T }\n)\nfunc g() { var local T }\n";
        let toks = tokenize(src).unwrap();
        let got = globals(src, &toks);
        let ty = |name: &str| Value::Typed(Ty::Named(super::super::types::TypeExpr { qualifier: None, name: name.into() }));
        let names: Vec<Vec<String>> = got.iter().map(|b| b.names.clone()).collect();
        assert_eq!(names, [vec!["A"], vec!["B"], vec!["c", "d"], vec!["s"], vec!["m"], vec!["f"]]);
        assert_eq!(got[0].value, ty("Kind"));
        assert_eq!(got[1].value, ty("Kind"), "B repeats A's spec");
        assert!(matches!(&got[3].value, Value::Exprs(es) if matches!(es.as_slice(), [Expr::Composite(c)] if c.root == "Server")));
        assert_eq!(got[4].value, ty("Map"));
    }

    fn summary(src: &str) -> Body {
        let toks = tokenize(src.as_bytes()).unwrap();
        let d = &functions(src.as_bytes(), &toks)[0];
        body(src.as_bytes(), &toks, d.body.unwrap())
    }

    fn chain(root: &str, segs: &[&str]) -> Chain {
        let segs = segs
            .iter()
            .map(|s| match *s {
                "(?)" => Seg::Call(None),
                call if call.starts_with('(') => Seg::Call(Some(call.trim_matches(['(', ')']).parse().unwrap_or(0))),
                "[]" => Seg::Index,
                name => Seg::Sel(name.to_string()),
            })
            .collect();
        Chain { root: root.to_string(), segs }
    }

    fn ty(q: Option<&str>, n: &str) -> Ty {
        Ty::Named(super::super::types::TypeExpr { qualifier: q.map(str::to_string), name: n.to_string() })
    }

    #[test]
    fn calls_are_chains_ending_in_a_call() {
        let b = summary("package p\nfunc TestX(t *testing.T) {\n\tc := createRaftGroup(\"x\")\n\tc.leader().Stop()\n\tif (a) { go func() {}() }\n\tc.nodes[0].Stop()\n\tos.Getenv(\"A\")\n\t(x).f()\n\tMap[int](m)\n\tv := table[i]\n\t(g)(1)\n\tx.\n\t\tchained()\n}\n");
        let mut want = vec![
            chain("createRaftGroup", &["(1)"]),
            chain("c#1", &["leader", "()", "Stop", "()"]),
            chain("c#1", &["nodes", "[]", "Stop", "()"]),
            chain("os", &["Getenv", "(1)"]),
            chain("", &["f", "()"]),
            chain("Map", &["[]", "(1)"]),
            chain("x", &["chained", "()"]),
        ];
        want.sort();
        assert_eq!(b.calls, want);
    }

    #[test]
    fn a_type_switch_binds_its_variable_per_clause() {
        let b = summary("package p\nfunc TestS(t *testing.T) {\n\tswitch v := m.(type) {\n\tcase *Global:\n\t\t_ = v.String()\n\tcase A, B:\n\t\t_ = v.Name()\n\tcase nil:\n\tdefault:\n\t\tv.Stop()\n\t}\n\tv.After()\n}\n");
        let names: Vec<_> = b.bindings.iter().filter(|b| !b.assign).map(|b| (b.names.clone(), b.value.clone())).collect();
        assert_eq!(names[0].0, ["v#1"], "the switch's own binding");
        assert_eq!(names[1], (vec!["v#2".to_string()], Value::Typed(ty(None, "Global"))), "the one-type clause's");
        assert_eq!(names.len(), 2, "no binding for a clause of two types, nil or default");
        let roots: Vec<_> = b.calls.iter().map(|c| (c.root.clone(), c.segs.clone())).collect();
        assert!(roots.iter().any(|(r, s)| r == "v#2" && s.first() == Some(&Seg::Sel("String".into()))), "{roots:?}");
        assert!(roots.iter().any(|(r, s)| r == "v#1" && s.first() == Some(&Seg::Sel("Name".into()))), "{roots:?}");
        assert!(roots.iter().any(|(r, s)| r == "v#1" && s.first() == Some(&Seg::Sel("Stop".into()))), "{roots:?}");
        assert!(roots.iter().any(|(r, _)| r == "v"), "after the switch v is another name: {roots:?}");
    }

    #[test]
    fn bindings_name_what_values_come_from() {
        let b = summary("package p\nfunc TestY(t *testing.T) {\n\ts := RunServer(opts)\n\tnc, js := jsClientConnect(t, s)\n\tvar n *raft\n\tvar m, k = pkg.New(), 2\n\tsa := &streamAssignment{Group: rg}\n\tfor _, srv := range c.servers {\n\t}\n\tx.field = f()\n\ta[i] = g()\n\tq := new(pkg.Queue)\n\tt.Run(\"a\", func(t *testing.T, v Value) {})\n\tif v, ok := m[k]; ok {\n\t}\n\tw := 1 + f()\n}\n");
        let e = |c: Chain| Expr::Chain(c);
        assert_eq!(
            b.bindings,
            [
                Binding { names: vec!["s#1".into()], value: Value::Exprs(vec![e(chain("RunServer", &["(1)"]))]), assign: false },
                Binding { names: vec!["nc#2".into(), "js#3".into()], value: Value::Exprs(vec![e(chain("jsClientConnect", &["(2)"]))]), assign: false },
                Binding { names: vec!["n#4".into()], value: Value::Typed(ty(None, "raft")), assign: false },
                Binding { names: vec!["m#5".into(), "k#6".into()], value: Value::Exprs(vec![e(chain("pkg", &["New", "()"])), Expr::Other]), assign: false },
                Binding { names: vec!["sa#7".into()], value: Value::Exprs(vec![Expr::Composite(chain("streamAssignment", &[]))]), assign: false },
                Binding { names: vec!["_".into(), "srv#8".into()], value: Value::Range(e(chain("c", &["servers"]))), assign: false },
                Binding { names: vec!["q#9".into()], value: Value::Exprs(vec![Expr::Typed(ty(Some("pkg"), "Queue"))]), assign: false },
                Binding { names: vec!["t#10".into()], value: Value::Typed(ty(Some("testing"), "T")), assign: false },
                Binding { names: vec!["v#11".into()], value: Value::Typed(ty(None, "Value")), assign: false },
                Binding { names: vec!["v#12".into(), "ok#13".into()], value: Value::Exprs(vec![e(chain("m#5", &["[]"]))]), assign: false },
                Binding { names: vec!["w#14".into()], value: Value::Exprs(vec![Expr::Other]), assign: false },
            ]
        );
    }

    /// `arity` counts the elements without collecting them: the count
    /// `split_list` gives, and `None` where that reading spreads.
    #[test]
    fn arity_counts_what_split_list_splits() {
        for args in ["", "a", "a, b", "a,", "f(x)", "f(x), g(y)", "xs...", "a, f(b...)", "(,)", ",", "a,,b", "[]int{1, 2}, m[k]", "a,\n\tf(b),\n"] {
            let (src, toks) = (args.as_bytes(), tokenize(args.as_bytes()).unwrap());
            let els = split_list(src, &toks);
            let spreads = toks.iter().any(|t| t.is_op(src, b"...")) || (els.len() == 1 && els[0].last().is_some_and(|t| t.is_op(src, b")")));
            let want = if spreads { None } else { u16::try_from(els.len()).ok() };
            assert_eq!(arity(src, &toks), want, "{args:?}");
        }
    }

    #[test]
    fn decimals_are_appended() {
        for n in [0, 7, 10, 99, 1234, u32::MAX] {
            let mut s = String::from("x#");
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x#{n}"));
        }
    }

    #[test]
    fn signatures_give_parameter_and_result_types() {
        let sig = |s: &str| {
            let src = format!("package p\nfunc f{s} {{}}\n");
            let toks = tokenize(src.as_bytes()).unwrap();
            let d = &functions(src.as_bytes(), &toks)[0];
            results(src.as_bytes(), &toks[d.signature.0..d.signature.1])
        };
        assert_eq!(sig("()"), []);
        assert_eq!(sig("(x int) *Server"), [ty(None, "Server")]);
        assert_eq!(sig("[K comparable](m map[K]int) (*nats.Conn, nats.JetStreamContext)"), [ty(Some("nats"), "Conn"), ty(Some("nats"), "JetStreamContext")]);
        assert_eq!(sig("() (s *Set[K, V], err error)"), [ty(None, "Set"), ty(None, "error")]);
        assert_eq!(sig("() (a, b *T)"), [ty(None, "T"), ty(None, "T")]);
        assert_eq!(sig("() []*T"), [Ty::Slice(Box::new(ty(None, "T")))]);
        assert_eq!(sig("() func() int"), [Ty::Func(vec![ty(None, "int")])]);
        let toks = tokenize(b"a, b *T, c int, d []byte").unwrap();
        assert_eq!(params(b"a, b *T, c int, d []byte", &toks), [("a".into(), ty(None, "T")), ("b".into(), ty(None, "T")), ("c".into(), ty(None, "int")), ("d".into(), Ty::Slice(Box::new(ty(None, "byte"))))]);
        let toks = tokenize(b"int, string").unwrap();
        assert_eq!(params(b"int, string", &toks), []);
    }
}
