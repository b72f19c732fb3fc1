//! The link rule (README, "Go import rules"): which features a test's calls
//! reach, resolved by Go's scopes and by the types the source spells out,
//! without a type checker. A bare call reaches a function of the test's own
//! package; `pkg.F()` a function of the imported package; a method call the
//! methods of that name on the receiver's type when the tokens tell the type
//! (a variable bound to `RunServer(…)`, `&T{…}`, `var x *T`, a typed
//! parameter, a call with declared results), otherwise the methods of that
//! name in the test's directory, or else in the directories the file
//! imports. A function or method a `_test.go` file of the directory declares
//! shadows the same-named ones of its other files; a value whose type lies
//! outside the tree (`*testing.T`, `*nats.Conn`) reaches nothing.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::hash::{BuildHasherDefault, Hasher};

/// The rule's maps, keyed by small integers and short names, hash with
/// [`FxHasher`]: SipHash's protection against chosen keys buys nothing here.
type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;
type HashSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

use super::body::{Binding, Body, Chain, Expr, Seg, Value};
use super::types::{Ty, TypeDecl, TypeExpr};
use super::extract::Import;
use super::resolve::{guessed_package_name, Resolver};
use crate::inventory::Inventory;

/// What the rule needs of one file, by the inventory's file index.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// The file's `package` clause.
    pub package: String,
    pub imports: Vec<Import>,
    /// Every function and method the file declares, in source order; in a
    /// non-test file these are its features.
    pub decls: Vec<DeclFacts>,
    /// Its top-level `var` and `const` specs.
    pub globals: Vec<Binding>,
    /// Its top-level `type` declarations.
    pub types: Vec<TypeDecl>,
}

/// One declaration: its receiver type, name, parameter count (and whether
/// the last is variadic) and result types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclFacts {
    pub receiver: String,
    pub name: String,
    pub params: (u16, bool),
    pub results: Vec<Ty>,
}

/// The (feature, test) index pairs of the inventory's links, sorted.
/// `bodies[t]` summarises test `t`, its parameters included.
pub fn links(inv: &Inventory, facts: &[FileFacts], bodies: &[Body], resolver: &mut Resolver) -> Vec<(u32, u32)> {
    let rule = Rule::new(inv, facts, resolver);
    let mut out = Vec::new();
    for (t, test) in inv.tests.iter().enumerate() {
        let vars = rule.bind(test.file, &bodies[t]);
        for call in &bodies[t].calls {
            let reached = rule.eval(test.file, call, &vars);
            out.extend(reached.features.into_iter().map(|f| (f, t as u32)));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A value's type, as far as the rule can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val<'a> {
    Unknown,
    /// Of a type declared outside the tree, or one without methods.
    Outside,
    /// Of the type with this name in this directory, declared there or
    /// with methods there.
    Typed(u32, &'a str),
    /// Of a slice, map, channel, function or struct type `file` spells.
    Lazy(u32, &'a Ty),
    /// Of the interface type with this name in this directory.
    Iface(u32, &'a str),
    /// Of the predeclared interface `error`.
    Error,
}

/// Whether a type has a method or field, as far as its declaration tells.
enum Lookup<T> {
    Found(T),
    Absent,
    /// The declaration is not in the tree, or it embeds an interface.
    CantTell,
}

/// A variable's type over the whole body: bindings of different types
/// make it unknown.
#[derive(Debug, Clone, Copy)]
enum Slot<'a> {
    Known(Val<'a>),
    Conflict,
}

/// Where a chain has got to.
#[derive(Debug, Clone, Copy)]
enum State<'a> {
    Value(Val<'a>),
    /// A name not bound in the body and not an import: a function, a type.
    Name(&'a str),
    /// An import name: its directory, or `None` outside the tree.
    Package(Option<u32>),
    PkgMember(u32, &'a str),
    /// `value.name`, a method or a field; or `Type.name`, a method
    /// expression (its receiver comes first among the arguments).
    Member(Val<'a>, &'a str),
    MethodExpr(Val<'a>, &'a str),
}

/// What a call reaches and the types of its results.
struct Reached<'a> {
    features: Vec<u32>,
    results: Vec<Val<'a>>,
    /// The type of results the signature does not list.
    rest: Val<'a>,
}

impl<'a> Reached<'a> {
    fn nothing(rest: Val<'a>) -> Reached<'a> {
        Reached { features: Vec::new(), results: Vec::new(), rest }
    }

    fn first(&self) -> Val<'a> {
        self.results.first().copied().unwrap_or(self.rest)
    }
}

/// (test file, interface directory, interface, method).
type DynamicKey<'a> = (u32, u32, &'a str, &'a str);

/// Types implementing an interface: (directory, type name).
type Implementers<'a> = Vec<(u32, &'a str)>;

/// A declaration found by name: a feature, or a `_test.go` file's
/// declaration (file, position).
type DeclRef = (u32, u32);

/// The types that may implement an interface naming a method: those
/// declaring a method of that name, and those whose struct embeds a field
/// (a promoted method may be it).
#[derive(Default)]
struct Candidates<'a> {
    by_method: HashMap<&'a str, Vec<(u32, &'a str)>>,
    embedding: Vec<(u32, &'a str)>,
}

struct Rule<'a> {
    inv: &'a Inventory,
    facts: &'a [FileFacts],
    /// (directory, package clause, name) → features that are functions.
    functions: HashMap<(u32, &'a str, &'a str), Vec<u32>>,
    /// (directory, name) and (directory, receiver, name) → methods.
    methods: HashMap<(u32, &'a str), Vec<u32>>,
    methods_of: HashMap<(u32, &'a str, &'a str), Vec<u32>>,
    /// What the directories' `_test.go` files declare.
    test_functions: HashMap<(u32, &'a str, &'a str), DeclRef>,
    test_methods: HashSet<(u32, &'a str)>,
    test_methods_of: HashMap<(u32, &'a str, &'a str), DeclRef>,
    /// Types with methods, by directory.
    typed: HashSet<(u32, &'a str)>,
    /// (directory, name) → a `type` declaration and the file holding it.
    type_decls: HashMap<(u32, &'a str), (u32, &'a TypeDecl)>,
    /// How deep the following of type declarations has gone (aliases and
    /// embedded fields; a cycle needs two files of other build constraints).
    type_depth: Cell<u8>,
    /// (directory, type) → the names of its methods (non-test files).
    method_names: HashMap<(u32, &'a str), Vec<&'a str>>,
    /// Per directory: its non-test files' types that can implement an
    /// interface (not interfaces, aliases or generic types), and the
    /// directories of the tree its non-test files import.
    dir_types: Vec<Vec<&'a str>>,
    /// [`Rule::dir_types`] by the methods they declare, and those that embed
    /// a field, built at the first interface method call.
    candidates: OnceCell<Candidates<'a>>,
    dir_imports: Vec<Vec<u32>>,
    /// (test file, interface directory, interface, method) → the methods an
    /// interface method call reaches.
    dynamic: RefCell<HashMap<DynamicKey<'a>, Vec<u32>>>,
    /// (interface directory, interface) → the tree's types implementing it.
    implementers: RefCell<HashMap<(u32, &'a str), Rc<Implementers<'a>>>>,
    /// Test file → which directories its package sees (see
    /// [`Rule::package_closure`]).
    closures: RefCell<HashMap<u32, Rc<Vec<bool>>>>,
    /// (directory, package clause, name) → the top-level `var` or `const`
    /// spec that declares it: file, spec, position of the name.
    globals: HashMap<(u32, &'a str, &'a str), (u32, &'a Binding, usize)>,
    /// How deep the evaluation of globals' initialisers has gone: a cycle
    /// (two files of other build constraints) stops at [`GLOBAL_DEPTH`].
    global_depth: Cell<u8>,
    /// Each feature's declaration (file, position).
    feature_decl: Vec<DeclRef>,
    /// Each directory's package: the clause most of its non-test files have.
    package_of: Vec<&'a str>,
    scopes: Vec<Scope>,
}

/// What one file's imports put in scope.
#[derive(Default)]
struct Scope {
    /// Import name → the directory it resolves to (`None`: outside the tree).
    names: HashMap<String, Option<u32>>,
    /// Directories imported with `.`.
    dot: Vec<u32>,
    /// Every imported directory inside the tree but the file's own.
    imported: Vec<u32>,
}

impl<'a> Rule<'a> {
    fn new(inv: &'a Inventory, facts: &'a [FileFacts], resolver: &mut Resolver) -> Rule<'a> {
        // Sized up front: growing these maps took a twentieth of the
        // standard library's import.
        let methods = inv.features.iter().filter(|f| !f.receiver.is_empty()).count();
        let test_decls: usize = inv.files.iter().zip(facts).filter(|(f, _)| f.is_test).map(|(_, fact)| fact.decls.len()).sum();
        let types: usize = facts.iter().map(|f| f.types.len()).sum();
        let globals: usize = facts.iter().flat_map(|f| &f.globals).map(|b| b.names.len()).sum();
        let mut rule = Rule {
            inv,
            facts,
            functions: sized(inv.features.len() - methods),
            methods: sized(methods),
            methods_of: sized(methods),
            test_functions: sized(test_decls),
            test_methods: HashSet::default(),
            test_methods_of: sized(test_decls),
            typed: HashSet::with_capacity_and_hasher(methods, BuildHasherDefault::default()),
            type_decls: sized(types),
            type_depth: Cell::new(0),
            method_names: sized(methods),
            dir_types: vec![Vec::new(); inv.modules.len()],
            candidates: OnceCell::new(),
            dir_imports: vec![Vec::new(); inv.modules.len()],
            dynamic: RefCell::new(HashMap::default()),
            implementers: RefCell::new(HashMap::default()),
            closures: RefCell::new(HashMap::default()),
            globals: sized(globals),
            global_depth: Cell::new(0),
            feature_decl: Vec::with_capacity(inv.features.len()),
            package_of: Vec::new(),
            scopes: Vec::new(),
        };
        let mut seen_in_file = vec![0u32; inv.files.len()];
        for (i, f) in inv.features.iter().enumerate() {
            let dir = inv.files[f.file as usize].module;
            let k = &mut seen_in_file[f.file as usize];
            rule.feature_decl.push((f.file, *k));
            *k += 1;
            let i = i as u32;
            if f.receiver.is_empty() {
                rule.functions.entry((dir, facts[f.file as usize].package.as_str(), f.name.as_str())).or_default().push(i);
            } else {
                rule.methods.entry((dir, f.name.as_str())).or_default().push(i);
                rule.methods_of.entry((dir, f.receiver.as_str(), f.name.as_str())).or_default().push(i);
                rule.method_names.entry((dir, f.receiver.as_str())).or_default().push(f.name.as_str());
                rule.typed.insert((dir, f.receiver.as_str()));
            }
        }
        let mut clauses: Vec<Vec<(&str, usize)>> = vec![Vec::new(); inv.modules.len()];
        for (file, (src, fact)) in inv.files.iter().zip(facts).enumerate() {
            let dir = src.module;
            for d in &fact.types {
                rule.type_decls.entry((dir, d.name.as_str())).or_insert((file as u32, d));
                if !src.is_test && !d.alias && !d.generic && !matches!(d.ty, Ty::Interface(..)) {
                    rule.dir_types[dir as usize].push(d.name.as_str());
                }
            }
            for b in &fact.globals {
                for (k, name) in b.names.iter().enumerate() {
                    if name != "_" {
                        rule.globals.entry((dir, fact.package.as_str(), name.as_str())).or_insert((file as u32, b, k));
                    }
                }
            }
            if !src.is_test {
                let counts = &mut clauses[dir as usize];
                match counts.iter_mut().find(|(c, _)| *c == fact.package) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((fact.package.as_str(), 1)),
                }
                continue;
            }
            for (k, d) in fact.decls.iter().enumerate() {
                let at = (file as u32, k as u32);
                if d.receiver.is_empty() {
                    rule.test_functions.insert((dir, fact.package.as_str(), d.name.as_str()), at);
                } else {
                    rule.test_methods.insert((dir, d.name.as_str()));
                    rule.test_methods_of.insert((dir, d.receiver.as_str(), d.name.as_str()), at);
                    rule.typed.insert((dir, d.receiver.as_str()));
                }
            }
        }
        // Ties go to the clause seen first, in file order.
        rule.package_of = clauses
            .iter()
            .map(|counts| {
                let mut best: Option<(&str, usize)> = None;
                for &(clause, n) in counts {
                    if best.is_none_or(|(_, most)| n > most) {
                        best = Some((clause, n));
                    }
                }
                best.map_or("", |(clause, _)| clause)
            })
            .collect();
        rule.scopes = (0..inv.files.len()).map(|f| rule.scope_of(f as u32, resolver)).collect();
        for (file, src) in inv.files.iter().enumerate() {
            if !src.is_test {
                let imports = &mut rule.dir_imports[src.module as usize];
                for &d in &rule.scopes[file].imported {
                    if !imports.contains(&d) {
                        imports.push(d);
                    }
                }
            }
        }
        rule
    }

    fn scope_of(&self, file: u32, resolver: &mut Resolver) -> Scope {
        let dir = self.inv.files[file as usize].module;
        let mut s = Scope::default();
        for imp in &self.facts[file as usize].imports {
            let target = resolver.resolve(dir, &imp.path);
            match imp.alias.as_deref() {
                Some("_") => {}
                Some(".") => s.dot.extend(target),
                Some(alias) => {
                    s.names.insert(alias.to_string(), target);
                }
                None => {
                    let name = target.map(|d| self.package_of[d as usize]).filter(|n| !n.is_empty()).unwrap_or_else(|| guessed_package_name(&imp.path));
                    s.names.insert(name.to_string(), target);
                }
            }
            if let Some(d) = target.filter(|&d| d != dir) {
                if !s.imported.contains(&d) {
                    s.imported.push(d);
                }
            }
        }
        s
    }

    fn dir_of(&self, file: u32) -> u32 {
        self.inv.files[file as usize].module
    }

    /// The type `name` of `dir`: declared there (not as an interface: any
    /// type of the tree may stand behind one) or with methods there.
    fn named(&self, dir: u32, name: &'a str) -> Val<'a> {
        match self.type_decls.get(&(dir, name)) {
            Some(&(file, d)) if d.alias => self.deeper(|| self.type_val_of(file, &d.ty)).unwrap_or(Val::Unknown),
            Some((_, d)) if matches!(d.ty, Ty::Interface(..)) => Val::Iface(dir, name),
            Some(_) => Val::Typed(dir, name),
            None if self.typed.contains(&(dir, name)) => Val::Typed(dir, name),
            None => Val::Unknown,
        }
    }

    /// `f` one level deeper into type declarations; `None` past
    /// [`GLOBAL_DEPTH`] levels.
    fn deeper<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
        let depth = self.type_depth.get();
        if depth >= GLOBAL_DEPTH {
            return None;
        }
        self.type_depth.set(depth + 1);
        let out = f();
        self.type_depth.set(depth);
        Some(out)
    }

    /// The type literal behind a value's type (`type L []*T` gives `[]*T`),
    /// with the file that spells it.
    fn underlying(&self, v: Val<'a>) -> Option<(u32, &'a Ty)> {
        match v {
            Val::Lazy(file, ty) => Some((file, ty)),
            Val::Typed(dir, name) => {
                let &(file, d) = self.type_decls.get(&(dir, name))?;
                match &d.ty {
                    Ty::Named(_) => self.deeper(|| self.underlying(self.type_val_of(file, &d.ty))).flatten(),
                    ty => Some((file, ty)),
                }
            }
            Val::Unknown | Val::Outside | Val::Iface(..) | Val::Error => None,
        }
    }

    /// The type of field `name` of a value, promoted fields included.
    fn field(&self, v: Val<'a>, name: &str) -> Lookup<Val<'a>> {
        match v {
            Val::Outside => return Lookup::Found(Val::Outside),
            Val::Unknown | Val::Iface(..) | Val::Error => return Lookup::CantTell,
            _ => {}
        }
        let Some((file, ty)) = self.underlying(v) else { return Lookup::CantTell };
        let Ty::Struct(fields) = ty else { return Lookup::Absent };
        if let Some(f) = fields.iter().find(|f| f.name == name) {
            return Lookup::Found(self.type_val_of(file, &f.ty));
        }
        let mut outside = false;
        for f in fields.iter().filter(|f| f.embedded) {
            match self.type_val_of(file, &f.ty) {
                Val::Outside => outside = true,
                e => {
                    if let Some(Lookup::Found(v)) = self.deeper(|| self.field(e, name)) {
                        return Lookup::Found(v);
                    }
                }
            }
        }
        if outside {
            Lookup::Found(Val::Outside)
        } else {
            Lookup::Absent
        }
    }

    fn field_val(&self, v: Val<'a>, name: &str) -> Val<'a> {
        match self.field(v, name) {
            Lookup::Found(v) => v,
            Lookup::Absent | Lookup::CantTell => Val::Unknown,
        }
    }

    /// What indexing a value gives: a slice's, array's or map's element.
    fn elem(&self, v: Val<'a>) -> Val<'a> {
        if v == Val::Outside {
            return Val::Outside;
        }
        match self.underlying(v) {
            Some((file, Ty::Slice(e) | Ty::Map(_, e) | Ty::Chan(e))) => self.type_val_of(file, e),
            _ => Val::Unknown,
        }
    }

    /// What `for k, v := range x` gives `k` and `v`.
    fn range(&self, v: Val<'a>) -> [Val<'a>; 2] {
        if v == Val::Outside {
            return [Val::Outside; 2];
        }
        match self.underlying(v) {
            Some((file, Ty::Slice(e))) => [Val::Outside, self.type_val_of(file, e)],
            Some((file, Ty::Map(k, e))) => [self.type_val_of(file, k), self.type_val_of(file, e)],
            Some((file, Ty::Chan(e))) => [self.type_val_of(file, e), Val::Unknown],
            _ => [Val::Unknown; 2],
        }
    }

    fn results(&self, decl: DeclRef) -> Vec<Val<'a>> {
        let (file, k) = decl;
        self.facts[file as usize].decls.get(k as usize).map_or_else(Vec::new, |d| d.results.iter().map(|r| self.type_val_of(file, r)).collect())
    }

    /// Reaching those of `features` that take `args` arguments; the
    /// results are known when every declaration reached declares the same
    /// ones (`v.Type()` on a value of unknown type, where each `Type`
    /// method of the directory returns `types.Type`, gives a `types.Type`).
    fn reach(&self, features: &[u32], args: Option<u16>) -> Reached<'a> {
        let features: Vec<u32> = features.iter().copied().filter(|&f| self.takes(f, args)).collect();
        let results = match features.split_first() {
            Some((&first, others)) => {
                let results = self.results(self.feature_decl[first as usize]);
                if others.iter().all(|&f| self.results(self.feature_decl[f as usize]) == results) {
                    results
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        };
        Reached { features, results, rest: Val::Unknown }
    }

    /// Whether feature `f` can be called with `args` arguments.
    fn takes(&self, f: u32, args: Option<u16>) -> bool {
        let (file, k) = self.feature_decl[f as usize];
        let Some(n) = args else { return true };
        let Some(d) = self.facts[file as usize].decls.get(k as usize) else { return true };
        let (params, variadic) = d.params;
        n == params || (variadic && n + 1 >= params)
    }

    /// The variables of a test body and their types.
    fn bind(&self, file: u32, body: &'a Body) -> HashMap<&'a str, Slot<'a>> {
        let mut vars: HashMap<&'a str, Slot<'a>> = HashMap::default();
        for b in &body.bindings {
            // `x = …` leaves `x` the type it was declared with.
            if b.assign && b.names.iter().all(|n| n == "_" || vars.contains_key(n.as_str())) {
                continue;
            }
            let n = b.names.len();
            let vals: Vec<Val<'a>> = match &b.value {
                Value::Typed(ty) => vec![self.type_val_of(file, ty); n],
                Value::Range(e) => {
                    let kv = self.range(self.expr(file, e, &vars).first());
                    (0..n).map(|i| kv.get(i).copied().unwrap_or(Val::Unknown)).collect()
                }
                Value::Exprs(es) if es.len() == n => es.iter().map(|e| self.expr(file, e, &vars).first()).collect(),
                Value::Exprs(es) if es.len() == 1 => {
                    let r = self.expr(file, &es[0], &vars);
                    (0..n).map(|i| r.results.get(i).copied().unwrap_or(r.rest)).collect()
                }
                Value::Exprs(_) => vec![Val::Unknown; n],
            };
            for (name, val) in b.names.iter().zip(vals) {
                if name == "_" || (b.assign && vars.contains_key(name.as_str())) {
                    continue;
                }
                // Go's convention: `err` holds an `error`, whatever a
                // package outside the tree returns it as.
                let val = match val {
                    Val::Outside | Val::Unknown if name.split('#').next() == Some("err") => Val::Error,
                    v => v,
                };
                let slot = vars.entry(name.as_str()).or_insert(Slot::Known(val));
                if let Slot::Known(v) = *slot {
                    if v != val {
                        *slot = Slot::Conflict;
                    }
                }
            }
        }
        vars
    }

    fn expr(&self, file: u32, e: &'a Expr, vars: &HashMap<&'a str, Slot<'a>>) -> Reached<'a> {
        let one = |v| Reached { features: Vec::new(), results: vec![v], rest: Val::Unknown };
        match e {
            Expr::Chain(chain) => self.eval(file, chain, vars),
            Expr::Typed(ty) => one(self.type_val_of(file, ty)),
            Expr::Composite(chain) => one(match (self.root(file, &chain.root, vars), chain.segs.as_slice()) {
                (State::Name(n), [] | [Seg::Index]) => self.type_val_name(file, n),
                (State::Package(Some(d)), [Seg::Sel(n)] | [Seg::Sel(n), Seg::Index]) => self.named(d, n),
                (State::Package(None), _) => Val::Outside,
                _ => Val::Unknown,
            }),
            Expr::Other => one(Val::Unknown),
        }
    }

    /// The type a type expression names, read where `file` writes it.
    fn type_val_of(&self, file: u32, ty: &'a Ty) -> Val<'a> {
        match ty {
            Ty::Named(t) => self.named_val(file, t),
            Ty::Interface(..) | Ty::Other => Val::Unknown,
            Ty::Slice(_) | Ty::Map(..) | Ty::Chan(_) | Ty::Func(_) | Ty::Struct(_) => Val::Lazy(file, ty),
        }
    }

    fn named_val(&self, file: u32, ty: &'a TypeExpr) -> Val<'a> {
        match &ty.qualifier {
            None => match ty.name.as_str() {
                // Interfaces: any type of the tree may stand behind them.
                "error" => Val::Error,
                "any" => Val::Unknown,
                name if is_basic(name) => Val::Outside,
                name => self.type_val_name(file, name),
            },
            Some(q) => match self.scopes[file as usize].names.get(q) {
                Some(Some(d)) => self.named(*d, &ty.name),
                Some(None) => Val::Outside,
                None => Val::Unknown,
            },
        }
    }

    fn type_val_name(&self, file: u32, name: &'a str) -> Val<'a> {
        self.named(self.dir_of(file), name)
    }

    fn root(&self, file: u32, root: &'a str, vars: &HashMap<&'a str, Slot<'a>>) -> State<'a> {
        if root.is_empty() {
            return State::Value(Val::Unknown);
        }
        match vars.get(root) {
            Some(Slot::Known(v)) => State::Value(*v),
            Some(Slot::Conflict) => State::Value(Val::Unknown),
            None => match self.scopes[file as usize].names.get(root) {
                Some(target) => State::Package(*target),
                None => match self.globals.get(&(self.dir_of(file), self.facts[file as usize].package.as_str(), root)) {
                    Some(&(at, b, k)) => State::Value(self.global(at, b, k)),
                    None => State::Name(root),
                },
            },
        }
    }

    /// The type of the `k`th name a top-level spec of `file` declares.
    fn global(&self, file: u32, b: &'a Binding, k: usize) -> Val<'a> {
        let depth = self.global_depth.get();
        if depth >= GLOBAL_DEPTH {
            return Val::Unknown;
        }
        self.global_depth.set(depth + 1);
        let none = HashMap::default();
        let val = match &b.value {
            Value::Typed(ty) => self.type_val_of(file, ty),
            Value::Exprs(es) if es.len() == b.names.len() => self.expr(file, &es[k], &none).first(),
            Value::Exprs(es) if es.len() == 1 => {
                let r = self.expr(file, &es[0], &none);
                r.results.get(k).copied().unwrap_or(r.rest)
            }
            Value::Exprs(_) | Value::Range(_) => Val::Unknown,
        };
        self.global_depth.set(depth);
        val
    }

    /// Follow `chain` from its root: what its calls reach, with the types
    /// of the last one's results.
    fn eval(&self, file: u32, chain: &'a Chain, vars: &HashMap<&'a str, Slot<'a>>) -> Reached<'a> {
        let dir = self.dir_of(file);
        let mut state = self.root(file, &chain.root, vars);
        let mut last = Reached::nothing(Val::Unknown);
        let mut all = Vec::new();
        for seg in &chain.segs {
            if let Seg::Call(args) = *seg {
                all.append(&mut last.features);
                last = match state {
                    State::Name(n) => self.bare(file, n, args),
                    State::PkgMember(d, n) => match self.functions_of(d, n) {
                        [] => self.conversion(self.named(d, n)),
                        found => self.reach(found, args),
                    },
                    State::Member(v, m) => self.method(file, v, m, args),
                    State::MethodExpr(v, m) => self.method(file, v, m, args.and_then(|n| n.checked_sub(1))),
                    State::Value(v) => self.call_value(v),
                    State::Package(None) => Reached::nothing(Val::Outside),
                    State::Package(Some(_)) => Reached::nothing(Val::Unknown),
                };
                state = State::Value(last.first());
                continue;
            }
            state = match (state, seg) {
                (_, Seg::Assert(ty)) => State::Value(self.type_val_of(file, ty)),
                // A type: a method expression; else a package-level variable.
                (State::Name(n), Seg::Sel(s)) => match self.named(dir, n) {
                    t @ Val::Typed(..) => State::MethodExpr(t, s),
                    _ => State::Member(Val::Unknown, s),
                },
                (State::Package(Some(d)), Seg::Sel(s)) => State::PkgMember(d, s),
                (State::PkgMember(d, n), Seg::Sel(s)) => match self.named(d, n) {
                    t @ Val::Typed(..) => State::MethodExpr(t, s),
                    _ => State::Member(self.pkg_global(d, n), s),
                },
                (State::Value(v), Seg::Sel(s)) => State::Member(v, s),
                (State::Member(Val::Outside, _), _) | (State::Package(None), _) => State::Value(Val::Outside),
                (State::Member(v, f), Seg::Sel(s)) => State::Member(self.field_val(v, f), s),
                (State::MethodExpr(_, _), Seg::Sel(s)) => State::Member(Val::Unknown, s),
                (State::Member(v, f), Seg::Index) => State::Value(self.elem(self.field_val(v, f))),
                (State::Value(v), Seg::Index) => State::Value(self.elem(v)),
                // Type arguments of a generic function.
                (s @ (State::Name(_) | State::PkgMember(..)), Seg::Index) => s,
                _ => State::Value(Val::Unknown),
            };
        }
        // A chain that ends in no call is a value: `srv := s`, `n := s.node`.
        let value = |v| Reached { features: Vec::new(), results: vec![v], rest: Val::Unknown };
        if all.is_empty() {
            all = std::mem::take(&mut last.features);
        } else {
            all.append(&mut last.features);
        }
        last.features = all;
        match state {
            _ if matches!(chain.segs.last(), Some(Seg::Call(_))) => last,
            State::Value(v) => value(v),
            State::Member(v, f) => value(self.field_val(v, f)),
            State::PkgMember(d, n) => value(self.pkg_global(d, n)),
            _ => last,
        }
    }

    /// The package-level variable or constant `name` of directory `dir`.
    fn pkg_global(&self, dir: u32, name: &'a str) -> Val<'a> {
        match self.globals.get(&(dir, self.package_of[dir as usize], name)) {
            Some(&(at, b, k)) => self.global(at, b, k),
            None => Val::Unknown,
        }
    }

    /// Calling a value: a function value's results.
    fn call_value(&self, v: Val<'a>) -> Reached<'a> {
        match v {
            Val::Outside => Reached::nothing(Val::Outside),
            Val::Lazy(file, Ty::Func(results)) => Reached { features: Vec::new(), results: results.iter().map(|r| self.type_val_of(file, r)).collect(), rest: Val::Unknown },
            _ => Reached::nothing(Val::Unknown),
        }
    }

    /// `T(x)` where `T` names a type: a value of it.
    fn conversion(&self, ty: Val<'a>) -> Reached<'a> {
        Reached { features: Vec::new(), results: vec![ty], rest: Val::Unknown }
    }

    fn functions_of(&self, dir: u32, name: &'a str) -> &[u32] {
        self.functions.get(&(dir, self.package_of[dir as usize], name)).map_or(&[], Vec::as_slice)
    }

    /// `name(…)`: a function of the file's own package (a `_test.go`
    /// declaration shadows), else of a package imported with `.`.
    fn bare(&self, file: u32, name: &'a str, args: Option<u16>) -> Reached<'a> {
        let dir = self.dir_of(file);
        let package = self.facts[file as usize].package.as_str();
        if let Some(&decl) = self.test_functions.get(&(dir, package, name)) {
            return Reached { features: Vec::new(), results: self.results(decl), rest: Val::Unknown };
        }
        if let Some(found) = self.functions.get(&(dir, package, name)) {
            return self.reach(found, args);
        }
        let found: Vec<u32> = if exported(name) { self.scopes[file as usize].dot.iter().flat_map(|&d| self.functions_of(d, name).iter().copied()).collect() } else { Vec::new() };
        if !found.is_empty() {
            return self.reach(&found, args);
        }
        match self.named(dir, name) {
            t @ Val::Typed(..) => self.conversion(t),
            _ if is_basic(name) || matches!(name, "len" | "cap" | "copy") => self.conversion(Val::Outside),
            _ => Reached::nothing(Val::Unknown),
        }
    }

    /// `value.name(…)`: the method of the value's type, its own or promoted
    /// from an embedded field, or the function a field of that name holds;
    /// by name (see [`Rule::method_by_name`]) when the type is unknown or
    /// its declaration cannot tell.
    fn method(&self, file: u32, recv: Val<'a>, name: &'a str, args: Option<u16>) -> Reached<'a> {
        match recv {
            Val::Outside => Reached::nothing(Val::Outside),
            Val::Unknown => self.method_by_name(file, name, args),
            Val::Iface(d, iface) => self.dynamic_call(file, Some((d, iface)), name, args),
            Val::Error => self.dynamic_call(file, None, name, args),
            _ => match self.method_of(recv, name, args) {
                Lookup::Found(r) => r,
                Lookup::Absent => match self.field(recv, name) {
                    Lookup::Found(v) => self.call_value(v),
                    Lookup::Absent | Lookup::CantTell => Reached::nothing(Val::Unknown),
                },
                Lookup::CantTell => self.method_by_name(file, name, args),
            },
        }
    }

    /// A call of method `name` of the interface `iface` of directory `dir`:
    /// the methods of that name of every type that implements the interface
    /// (its method set, promoted methods included, holds every method the
    /// interface names) among the non-test types of the test's package and
    /// of the packages it imports inside the tree, directly or not.
    /// `None` stands for `error`.
    fn dynamic_call(&self, file: u32, iface: Option<(u32, &'a str)>, name: &'a str, args: Option<u16>) -> Reached<'a> {
        let (dir, iface_name) = iface.unwrap_or((u32::MAX, "error"));
        let key = (file, dir, iface_name, name);
        if let Some(found) = self.dynamic.borrow().get(&key) {
            return self.reach(found, args);
        }
        let impls = self.implementers.borrow().get(&(dir, iface_name)).cloned();
        let impls = impls.unwrap_or_else(|| {
            let mut required = Vec::new();
            match iface {
                Some((dir, iface)) => self.iface_methods(dir, iface, &mut required),
                None => required.push("Error"),
            }
            let implements = |&(d, ty): &(u32, &'a str)| required.iter().all(|m| self.has_method(Val::Typed(d, ty), m));
            let all: Vec<(u32, &'a str)> = match required.first() {
                // Only a type with the first method, its own or promoted
                // from an embedded field, can implement it.
                Some(first) => {
                    let c = self.candidates();
                    let mut all: Vec<_> = c.by_method.get(first).into_iter().flatten().chain(&c.embedding).copied().filter(implements).collect();
                    all.sort_unstable();
                    all.dedup();
                    all
                }
                None => (0..self.dir_types.len() as u32).flat_map(|d| self.dir_types[d as usize].iter().map(move |&ty| (d, ty))).filter(implements).collect(),
            };
            let all = Rc::new(all);
            self.implementers.borrow_mut().insert((dir, iface_name), all.clone());
            all
        });
        let seen = self.package_closure(file);
        let mut found = Vec::new();
        for &(d, ty) in impls.iter().filter(|(d, _)| seen[*d as usize]) {
            if let Lookup::Found(r) = self.method_of(Val::Typed(d, ty), name, None) {
                found.extend(r.features);
            }
        }
        found.sort_unstable();
        found.dedup();
        let out = self.reach(&found, args);
        self.dynamic.borrow_mut().insert(key, found);
        out
    }

    fn candidates(&self) -> &Candidates<'a> {
        self.candidates.get_or_init(|| {
            // Read at depth 0, as `has_method` starts.
            let depth = self.type_depth.replace(0);
            let mut c = Candidates::default();
            for (d, types) in self.dir_types.iter().enumerate() {
                for &ty in types {
                    let at = (d as u32, ty);
                    for &m in self.method_names.get(&at).into_iter().flatten() {
                        c.by_method.entry(m).or_default().push(at);
                    }
                    if matches!(self.underlying(Val::Typed(at.0, ty)), Some((_, Ty::Struct(fields))) if fields.iter().any(|f| f.embedded)) {
                        c.embedding.push(at);
                    }
                }
            }
            self.type_depth.set(depth);
            c
        })
    }

    /// The methods an interface names, with those of the interfaces it
    /// embeds (`error` names `Error`; others outside the tree are not known).
    fn iface_methods(&self, dir: u32, name: &'a str, out: &mut Vec<&'a str>) {
        let Some(&(file, d)) = self.type_decls.get(&(dir, name)) else { return };
        let Ty::Interface(methods, embedded) = &d.ty else { return };
        out.extend(methods.iter().map(String::as_str));
        for e in embedded {
            if e.qualifier.is_none() && e.name == "error" {
                out.push("Error");
            } else if let Val::Iface(d2, n2) = self.named_val(file, e) {
                self.deeper(|| self.iface_methods(d2, n2, out));
            }
        }
    }

    /// Whether a type has a method of that name, its own or promoted.
    fn has_method(&self, v: Val<'a>, name: &str) -> bool {
        if let Val::Typed(d, ty) = v {
            if self.method_names.get(&(d, ty)).is_some_and(|ms| ms.contains(&name)) {
                return true;
            }
        }
        let Some((file, Ty::Struct(fields))) = self.underlying(v) else { return false };
        fields.iter().filter(|f| f.embedded).any(|f| match self.type_val_of(file, &f.ty) {
            e @ Val::Typed(..) => self.deeper(|| self.has_method(e, name)).unwrap_or(false),
            _ => false,
        })
    }

    /// The test file's directory and every directory of the tree it
    /// imports, directly or through the packages it imports.
    fn package_closure(&self, file: u32) -> Rc<Vec<bool>> {
        if let Some(seen) = self.closures.borrow().get(&file) {
            return seen.clone();
        }
        let mut seen = vec![false; self.dir_types.len()];
        let mut todo = vec![self.dir_of(file)];
        todo.extend(self.scopes[file as usize].imported.iter().copied());
        while let Some(d) = todo.pop() {
            if std::mem::replace(&mut seen[d as usize], true) {
                continue;
            }
            todo.extend(self.dir_imports[d as usize].iter().copied().filter(|&i| !seen[i as usize]));
        }
        let seen = Rc::new(seen);
        self.closures.borrow_mut().insert(file, seen.clone());
        seen
    }

    fn method_of(&self, recv: Val<'a>, name: &'a str, args: Option<u16>) -> Lookup<Reached<'a>> {
        if let Val::Typed(d, ty) = recv {
            if let Some(&decl) = self.test_methods_of.get(&(d, ty, name)) {
                return Lookup::Found(Reached { features: Vec::new(), results: self.results(decl), rest: Val::Unknown });
            }
            if let Some(found) = self.methods_of.get(&(d, ty, name)) {
                return Lookup::Found(self.reach(found, args));
            }
        }
        let Some((file, ty)) = self.underlying(recv) else {
            return if matches!(recv, Val::Typed(..)) && !self.type_decls.contains_key(&typed_key(recv)) { Lookup::CantTell } else { Lookup::Absent };
        };
        let Ty::Struct(fields) = ty else { return Lookup::Absent };
        if fields.iter().any(|f| f.name == name && !f.embedded) {
            return Lookup::Absent;
        }
        let mut outside = false;
        for f in fields.iter().filter(|f| f.embedded) {
            match self.type_val_of(file, &f.ty) {
                Val::Outside => outside = true,
                Val::Unknown => return Lookup::CantTell,
                e => match self.deeper(|| self.method_of(e, name, args)) {
                    Some(Lookup::Found(r)) => return Lookup::Found(r),
                    Some(Lookup::CantTell) | None => return Lookup::CantTell,
                    Some(Lookup::Absent) => {}
                },
            }
        }
        if outside {
            Lookup::Found(Reached::nothing(Val::Outside))
        } else {
            Lookup::Absent
        }
    }

    /// The methods named `name` of the file's directory, unless one of its
    /// `_test.go` files declares such a method; if the directory has none,
    /// the exported ones of the directories the file imports.
    fn method_by_name(&self, file: u32, name: &'a str, args: Option<u16>) -> Reached<'a> {
        let dir = self.dir_of(file);
        if self.test_methods.contains(&(dir, name)) {
            return Reached::nothing(Val::Unknown);
        }
        if let Some(found) = self.methods.get(&(dir, name)) {
            return self.reach(found, args);
        }
        if !exported(name) {
            return Reached::nothing(Val::Unknown);
        }
        let found: Vec<u32> = self.scopes[file as usize].imported.iter().flat_map(|&d| self.methods.get(&(d, name)).into_iter().flatten().copied()).collect();
        self.reach(&found, args)
    }
}

fn typed_key<'a>(v: Val<'a>) -> (u32, &'a str) {
    match v {
        Val::Typed(d, n) => (d, n),
        _ => (u32::MAX, ""),
    }
}

/// Go's predeclared types that are not interfaces.
fn is_basic(name: &str) -> bool {
    matches!(
        name,
        "bool" | "string" | "byte" | "rune" | "int" | "int8" | "int16" | "int32" | "int64" | "uint" | "uint8" | "uint16" | "uint32" | "uint64" | "uintptr" | "float32" | "float64" | "complex64" | "complex128"
    )
}

/// The multiply-rotate hash of rustc's `FxHasher`: fast for short keys.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

fn sized<K, V>(n: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default())
}

/// How many globals' initialisers one evaluation may pass through.
const GLOBAL_DEPTH: u8 = 8;

/// Whether another package can use the name (it starts with an upper-case
/// letter).
fn exported(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
}
