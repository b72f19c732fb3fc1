//! Types as the source spells them, as far as the link rule follows them:
//! a named type, the element and key types of slices, arrays, maps and
//! channels, the results of a function type, the fields of a struct; and a
//! file's top-level `type` declarations. Pointers are dropped (a method set
//! question the link rule does not ask) and so are type arguments.

use super::extract::matching;
use super::lexer::{is_keyword, Kind, Token};

/// A named type as the source writes it: `T`, `*T`, `pkg.T`, `T[K]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeExpr {
    /// The package name before the dot, if any.
    pub qualifier: Option<String>,
    pub name: String,
}

/// A type expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    Named(TypeExpr),
    /// `[]T`, `[N]T`, `...T`: the element type.
    Slice(Box<Ty>),
    /// `map[K]V`.
    Map(Box<Ty>, Box<Ty>),
    /// `chan T`, `<-chan T`, `chan<- T`.
    Chan(Box<Ty>),
    /// `func(…) R`: its result types.
    Func(Vec<Ty>),
    Struct(Vec<Field>),
    /// `interface{…}`: the names of its methods and the interfaces it
    /// embeds; a constraint's type terms (`~int | string`) are left out.
    Interface(Vec<String>, Vec<TypeExpr>),
    /// Anything else, or tokens that are no type.
    Other,
}

/// One field of a struct type; an embedded field has its type's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Field {
    pub name: String,
    pub ty: Ty,
    pub embedded: bool,
}

impl Ty {
    pub fn named(&self) -> Option<&TypeExpr> {
        match self {
            Ty::Named(t) => Some(t),
            _ => None,
        }
    }
}

/// A top-level `type` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDecl {
    pub name: String,
    /// `type A = B`.
    pub alias: bool,
    /// It has type parameters.
    pub generic: bool,
    pub ty: Ty,
}

fn ident(src: &[u8], t: &Token) -> bool {
    t.kind == Kind::Ident && !is_keyword(t.text(src))
}

fn text(src: &[u8], t: &Token) -> String {
    super::lexer::owned_text(t.text(src))
}

/// The type `toks` spell, if that is all they spell.
pub fn ty(src: &[u8], toks: &[Token]) -> Ty {
    match parse(src, toks, 0) {
        Some((t, end)) if end == toks.len() => t,
        _ => Ty::Other,
    }
}

/// The type starting at token `i` and the index after it.
pub fn parse(src: &[u8], toks: &[Token], mut i: usize) -> Option<(Ty, usize)> {
    while toks.get(i).is_some_and(|t| t.is_op(src, b"*")) {
        i += 1;
    }
    let t = toks.get(i)?;
    let boxed = |r: Option<(Ty, usize)>| r.map(|(t, j)| (Box::new(t), j));
    if t.is_op(src, b"[") {
        let close = matching(src, toks, i, b"[", b"]")?;
        let (elem, j) = boxed(parse(src, toks, close + 1))?;
        return Some((Ty::Slice(elem), j));
    }
    if t.is_op(src, b"...") {
        let (elem, j) = boxed(parse(src, toks, i + 1))?;
        return Some((Ty::Slice(elem), j));
    }
    if t.is_op(src, b"(") {
        let close = matching(src, toks, i, b"(", b")")?;
        let inner = ty(src, &toks[i + 1..close]);
        return Some((inner, close + 1));
    }
    if t.is_op(src, b"<-") && toks.get(i + 1).is_some_and(|n| n.is_ident(src, b"chan")) {
        let (elem, j) = boxed(parse(src, toks, i + 2))?;
        return Some((Ty::Chan(elem), j));
    }
    if t.kind != Kind::Ident {
        return None;
    }
    match t.text(src) {
        b"map" => {
            if !toks.get(i + 1).is_some_and(|n| n.is_op(src, b"[")) {
                return None;
            }
            let close = matching(src, toks, i + 1, b"[", b"]")?;
            let key = ty(src, &toks[i + 2..close]);
            let (elem, j) = boxed(parse(src, toks, close + 1))?;
            Some((Ty::Map(Box::new(key), elem), j))
        }
        b"chan" => {
            let start = if toks.get(i + 1).is_some_and(|n| n.is_op(src, b"<-")) { i + 2 } else { i + 1 };
            let (elem, j) = boxed(parse(src, toks, start))?;
            Some((Ty::Chan(elem), j))
        }
        b"func" => {
            let open = i + 1;
            if !toks.get(open).is_some_and(|n| n.is_op(src, b"(")) {
                return None;
            }
            let close = matching(src, toks, open, b"(", b")")?;
            let j = close + 1;
            match toks.get(j) {
                Some(n) if n.is_op(src, b"(") && !n.newline_before => {
                    let end = matching(src, toks, j, b"(", b")")?;
                    Some((Ty::Func(result_list(src, &toks[j + 1..end])), end + 1))
                }
                Some(n) if !n.newline_before && (ident(src, n) || n.is_op(src, b"*") || n.is_op(src, b"[") || n.is_ident(src, b"map") || n.is_ident(src, b"chan") || n.is_ident(src, b"func")) => {
                    let (r, end) = parse(src, toks, j)?;
                    Some((Ty::Func(vec![r]), end))
                }
                _ => Some((Ty::Func(Vec::new()), j)),
            }
        }
        b"struct" => {
            if !toks.get(i + 1).is_some_and(|n| n.is_op(src, b"{")) {
                return None;
            }
            let close = matching(src, toks, i + 1, b"{", b"}")?;
            Some((Ty::Struct(fields(src, &toks[i + 2..close])), close + 1))
        }
        b"interface" => {
            if !toks.get(i + 1).is_some_and(|n| n.is_op(src, b"{")) {
                return None;
            }
            let close = matching(src, toks, i + 1, b"{", b"}")?;
            let (mut methods, mut embedded) = (Vec::new(), Vec::new());
            for line in lines(src, &toks[i + 2..close]) {
                match line {
                    [name, open, ..] if ident(src, name) && open.is_op(src, b"(") => methods.push(text(src, name)),
                    _ => {
                        if let Ty::Named(t) = ty(src, line) {
                            embedded.push(t);
                        }
                    }
                }
            }
            Some((Ty::Interface(methods, embedded), close + 1))
        }
        _ if ident(src, t) => {
            let (qualifier, name, mut j) = match (toks.get(i + 1), toks.get(i + 2)) {
                (Some(dot), Some(n)) if dot.is_op(src, b".") && ident(src, n) => (Some(text(src, t)), text(src, n), i + 3),
                _ => (None, text(src, t), i + 1),
            };
            // Type arguments.
            if toks.get(j).is_some_and(|n| n.is_op(src, b"[") && !n.newline_before) {
                j = matching(src, toks, j, b"[", b"]")? + 1;
            }
            Some((Ty::Named(TypeExpr { qualifier, name }), j))
        }
        _ => None,
    }
}

/// The types of a parenthesised result list's inside (`a, b *T, err error`
/// or `*T, error`).
pub fn result_list(src: &[u8], inner: &[Token]) -> Vec<Ty> {
    let els = split_list(src, inner);
    if els.iter().any(|el| is_named(src, el)) {
        params(src, inner).into_iter().map(|(_, t)| t).collect()
    } else {
        els.into_iter().map(|el| ty(src, el)).collect()
    }
}

/// Split `toks` (a parameter or result list without its parentheses) at
/// its top-level commas.
pub fn split_list<'t>(src: &[u8], toks: &'t [Token]) -> Vec<&'t [Token]> {
    let mut out = Vec::new();
    let mut start = 0;
    for k in top_level_commas(src, toks) {
        out.push(&toks[start..k]);
        start = k + 1;
    }
    // A trailing comma (`f(\n\ta,\n)`) ends the list without an element.
    if start < toks.len() {
        out.push(&toks[start..]);
    }
    out
}

/// The indexes of `toks`' commas outside any bracket: where
/// [`split_list`] splits, for callers that only count the pieces.
pub fn top_level_commas<'a>(src: &'a [u8], toks: &'a [Token]) -> impl Iterator<Item = usize> + 'a {
    let mut depth = 0i32;
    toks.iter().enumerate().filter_map(move |(k, t)| {
        if t.kind != Kind::Op {
            return None;
        }
        match t.text(src) {
            b"(" | b"[" | b"{" => depth += 1,
            b")" | b"]" | b"}" => depth -= 1,
            b"," if depth == 0 => return Some(k),
            _ => {}
        }
        None
    })
}

/// Whether a list element is `name Type` rather than a bare type: an
/// identifier followed by something that starts a type.
pub fn is_named(src: &[u8], el: &[Token]) -> bool {
    match el {
        [n, next, ..] => {
            // `pkg.T` and `T[K]` are types; `x []T` is a name and a type.
            let generic = next.is_op(src, b"[") && el.get(2).is_some_and(|t| !t.is_op(src, b"]"));
            ident(src, n) && !next.is_op(src, b".") && !generic
        }
        _ => false,
    }
}

/// The parameters `toks` (inside the parentheses) declare, with their
/// types; unnamed parameters declare nothing.
pub fn params(src: &[u8], toks: &[Token]) -> Vec<(String, Ty)> {
    let els = split_list(src, toks);
    if !els.iter().any(|el| is_named(src, el)) {
        return Vec::new();
    }
    // `a, b int`: a name alone takes the type of the next element that has one.
    let mut out = Vec::new();
    let mut pending = Vec::new();
    for el in els {
        let Some(first) = el.first() else { continue };
        let name = text(src, first);
        if el.len() == 1 {
            pending.push(name);
            continue;
        }
        let t = ty(src, &el[1..]);
        for p in pending.drain(..) {
            out.push((p, t.clone()));
        }
        out.push((name, t));
    }
    out
}

/// The lines of a `{…}` block's inside at its top level: split at `;` and
/// at line ends where Go inserts a semicolon.
fn lines<'t>(src: &[u8], toks: &'t [Token]) -> Vec<&'t [Token]> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (k, t) in toks.iter().enumerate() {
        if depth == 0 && k > start && t.newline_before && toks[k - 1].ends_statement(src) {
            out.push(&toks[start..k]);
            start = k;
        }
        if t.kind != Kind::Op {
            continue;
        }
        match t.text(src) {
            b"(" | b"[" | b"{" => depth += 1,
            b")" | b"]" | b"}" => depth -= 1,
            b";" if depth == 0 => {
                out.push(&toks[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    if start < toks.len() {
        out.push(&toks[start..]);
    }
    out.retain(|l| !l.is_empty());
    out
}

/// How many tokens the first of [`lines`] has.
fn line_len(src: &[u8], toks: &[Token]) -> usize {
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate() {
        if depth == 0 && k > 0 && t.newline_before && toks[k - 1].ends_statement(src) {
            return k;
        }
        if t.kind != Kind::Op {
            continue;
        }
        match t.text(src) {
            b"(" | b"[" | b"{" => depth += 1,
            b")" | b"]" | b"}" => depth -= 1,
            b";" if depth == 0 => return k,
            _ => {}
        }
    }
    toks.len()
}

/// The fields of a struct type's inside.
fn fields(src: &[u8], toks: &[Token]) -> Vec<Field> {
    let mut out = Vec::new();
    for mut line in lines(src, toks) {
        // A tag.
        if line.len() > 1 && line.last().is_some_and(|t| t.kind == Kind::Literal) {
            line = &line[..line.len() - 1];
        }
        let els = split_list(src, line);
        let embedded = els.len() == 1 && !is_named(src, line);
        if embedded {
            let t = ty(src, line);
            if let Some(n) = t.named() {
                out.push(Field { name: n.name.clone(), ty: t.clone(), embedded: true });
            }
            continue;
        }
        // `a, b T`: every element but the last is a name.
        let Some((last, names)) = els.split_last() else { continue };
        let Some(first) = last.first() else { continue };
        let t = ty(src, &last[1..]);
        for n in names {
            if let [name] = n {
                out.push(Field { name: text(src, name), ty: t.clone(), embedded: false });
            }
        }
        out.push(Field { name: text(src, first), ty: t, embedded: false });
    }
    out
}

/// A file's top-level `type` declarations, grouped ones included.
pub fn type_decls(src: &[u8], toks: &[Token]) -> Vec<TypeDecl> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.kind == Kind::Op {
            match t.text(src) {
                b"(" | b"[" | b"{" => depth += 1,
                b")" | b"]" | b"}" => depth -= 1,
                _ => {}
            }
            i += 1;
            continue;
        }
        if depth != 0 || !t.is_ident(src, b"type") || !starts_statement(src, toks, i) {
            i += 1;
            continue;
        }
        if toks.get(i + 1).is_some_and(|n| n.is_op(src, b"(")) {
            let Some(close) = matching(src, toks, i + 1, b"(", b")") else { break };
            for line in lines(src, &toks[i + 2..close]) {
                out.extend(spec(src, line));
            }
            i = close + 1;
            continue;
        }
        // One spec: to the end of its line, brackets included.
        let rest = &toks[i + 1..];
        let end = line_len(src, rest);
        out.extend(spec(src, &rest[..end]));
        i += 1 + end.max(1);
    }
    out
}

/// `Name [type parameters] [=] Type`.
fn spec(src: &[u8], line: &[Token]) -> Option<TypeDecl> {
    let first = line.first().filter(|t| ident(src, t))?;
    let mut j = 1;
    let mut generic = false;
    // Type parameters, as opposed to an array type: `[` then a name that is
    // not followed by `]`.
    if line.get(1).is_some_and(|t| t.is_op(src, b"[")) && line.get(2).is_some_and(|t| ident(src, t)) && !line.get(3).is_some_and(|t| t.is_op(src, b"]")) {
        j = matching(src, line, 1, b"[", b"]")? + 1;
        generic = true;
    }
    let alias = line.get(j).is_some_and(|t| t.is_op(src, b"="));
    if alias {
        j += 1;
    }
    Some(TypeDecl { name: text(src, first), alias, generic, ty: ty(src, &line[j..]) })
}

fn starts_statement(src: &[u8], toks: &[Token], i: usize) -> bool {
    match i.checked_sub(1).map(|p| &toks[p]) {
        None => true,
        Some(prev) => prev.is_op(src, b";") || (toks[i].newline_before && prev.ends_statement(src)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn named(q: Option<&str>, n: &str) -> Ty {
        Ty::Named(TypeExpr { qualifier: q.map(str::to_string), name: n.to_string() })
    }

    fn of(s: &str) -> Ty {
        let toks = tokenize(s.as_bytes()).unwrap();
        ty(s.as_bytes(), &toks)
    }

    #[test]
    fn composite_types_keep_their_elements() {
        assert_eq!(of("*ssa.Function"), named(Some("ssa"), "Function"));
        assert_eq!(of("map[*ssa.Function]bool"), Ty::Map(Box::new(named(Some("ssa"), "Function")), Box::new(named(None, "bool"))));
        assert_eq!(of("[]*T"), Ty::Slice(Box::new(named(None, "T"))));
        assert_eq!(of("[4]Set[K, V]"), Ty::Slice(Box::new(named(None, "Set"))));
        assert_eq!(of("<-chan *Msg"), Ty::Chan(Box::new(named(None, "Msg"))));
        assert_eq!(of("func(int) (*T, error)"), Ty::Func(vec![named(None, "T"), named(None, "error")]));
        assert_eq!(of("func()"), Ty::Func(vec![]));
        assert_eq!(of("interface{\n\tM() int\n\tio.Reader\n\tfmt.Stringer; N(x int)\n}"), Ty::Interface(vec!["M".into(), "N".into()], vec![TypeExpr { qualifier: Some("io".into()), name: "Reader".into() }, TypeExpr { qualifier: Some("fmt".into()), name: "Stringer".into() }]));
        assert_eq!(of("1 + 2"), Ty::Other);
    }

    #[test]
    fn type_declarations_with_fields_embedding_and_groups() {
        let src = b"package p\ntype S struct {\n\t*Base\n\tpkg.Mixin\n\ta, b *T `json:\"a\"`\n\tfn func() *U\n}\ntype (\n\tL []*S\n\tA = S\n\tG[K comparable] map[K]*S\n\tArr [4]int\n)\nfunc f() { type Local struct{} }\n";
        let toks = tokenize(src).unwrap();
        let got = type_decls(src, &toks);
        let names: Vec<&str> = got.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["S", "L", "A", "G", "Arr"]);
        let Ty::Struct(fs) = &got[0].ty else { panic!("{:?}", got[0]) };
        let shape: Vec<(&str, bool)> = fs.iter().map(|f| (f.name.as_str(), f.embedded)).collect();
        assert_eq!(shape, [("Base", true), ("Mixin", true), ("a", false), ("b", false), ("fn", false)]);
        assert_eq!(fs[3].ty, named(None, "T"));
        assert_eq!(fs[4].ty, Ty::Func(vec![named(None, "U")]));
        assert_eq!(got[1].ty, Ty::Slice(Box::new(named(None, "S"))));
        assert!(got[2].alias);
        assert_eq!(got[3].ty, Ty::Map(Box::new(named(None, "K")), Box::new(named(None, "S"))));
        assert_eq!(got[4].ty, Ty::Slice(Box::new(named(None, "int"))));
    }
}
