//! `map suggest`: for each unmapped feature, the Rust or C# function the
//! naming conventions (and `Port of …` doc comments) point at, found by
//! scanning the target tree; `--apply` stores the unambiguous ones, at most
//! 15 per call in one transaction, as updates are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::db::{Database, ItemKind, ItemRow, ListFilter, MAX_ITEMS};
use crate::domain::naming::expected;
use crate::error::Error;
use crate::targets::{last_segment, scan_tree, Lang, Symbol};

/// Below this a candidate is only shown, never stored.
pub const SURE: f64 = 0.8;
/// Candidates listed per feature.
const SHOWN: usize = 3;

#[derive(Debug, Clone)]
pub struct SuggestOptions {
    pub batch: Option<i64>,
    pub lang: Lang,
    /// Directories to scan, relative to the project root (default: the
    /// configured target roots).
    pub roots: Vec<PathBuf>,
    /// Also features that already have a target (to check the conventions
    /// against what is mapped); never overwritten.
    pub all: bool,
    /// Ignore `Port of …` doc comments.
    pub names_only: bool,
    pub apply: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub target: String,
    pub file: String,
    pub symbol: String,
    pub line: usize,
    pub confidence: f64,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub feature_id: i64,
    pub go_name: String,
    pub batch: Option<i64>,
    /// Its target now, if mapped.
    pub current: Option<String>,
    pub candidates: Vec<Candidate>,
    /// One candidate is sure (confidence ≥ 0.8) and ahead of the rest.
    pub unambiguous: bool,
    /// Mapped: whether the first candidate is the mapped function.
    pub agrees: Option<bool>,
}

/// How the suggestions compare with what is mapped (`--all`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Agreement {
    /// Features mapped to a target in this language.
    pub mapped: usize,
    /// Of those, how many got an unambiguous suggestion.
    pub proposed: usize,
    /// Of those, how many name the mapped function.
    pub agreeing: usize,
    pub precision: f64,
    pub recall: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuggestReport {
    pub lang: Lang,
    pub roots: Vec<String>,
    pub symbols: usize,
    pub features: usize,
    pub suggestions: Vec<Suggestion>,
    pub unambiguous: usize,
    pub applied: Vec<Suggestion>,
    /// Unambiguous suggestions for unmapped features left for a later call.
    pub remaining: usize,
    pub agreement: Option<Agreement>,
}

pub fn suggest(db: &mut Database, project_root: &Path, o: &SuggestOptions) -> Result<SuggestReport, Error> {
    if let Some(b) = o.batch {
        db.batch(b)?.ok_or_else(|| super::batch::no_batch(b))?;
    }
    for r in &o.roots {
        if !project_root.join(r).is_dir() {
            return Err(Error::usage(format!("--root {}: no such directory under {}", r.display(), project_root.display())));
        }
    }
    let mut symbols: Vec<Symbol> = o.roots.iter().flat_map(|r| scan_tree(project_root, r, o.lang)).collect();
    symbols.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    symbols.dedup();
    let index = Index::new(&symbols);

    let features = db.list_items(ItemKind::Feature, &ListFilter { batch: o.batch, ..ListFilter::default() })?;
    let considered: Vec<&ItemRow> = features
        .iter()
        .filter(|f| match &f.rust_file {
            None => true,
            Some(file) => o.all && Lang::of_path(file) == Some(o.lang),
        })
        .collect();
    let mut report = SuggestReport {
        lang: o.lang,
        roots: o.roots.iter().map(|r| r.display().to_string()).collect(),
        symbols: symbols.len(),
        features: considered.len(),
        suggestions: Vec::new(),
        unambiguous: 0,
        applied: Vec::new(),
        remaining: 0,
        agreement: None,
    };
    let mut agreement = Agreement::default();
    for f in considered {
        let candidates = index.candidates(o.lang, &f.receiver, &f.name, &f.file, o.names_only);
        let unambiguous = candidates.first().is_some_and(|c| c.confidence >= SURE) && candidates.get(1).is_none_or(|c| c.confidence < candidates[0].confidence);
        let current = f.rust_target();
        let agrees = match (&f.rust_file, candidates.first()) {
            (Some(file), Some(c)) => Some(same_function(file, f.rust_symbol.as_deref().unwrap_or(""), c)),
            (Some(_), None) => Some(false),
            (None, _) => None,
        };
        if f.rust_file.is_some() {
            agreement.mapped += 1;
            if unambiguous {
                agreement.proposed += 1;
                if agrees == Some(true) {
                    agreement.agreeing += 1;
                }
            }
        }
        report.unambiguous += usize::from(unambiguous);
        if candidates.is_empty() && f.rust_file.is_none() {
            continue;
        }
        let mut shown = candidates;
        shown.truncate(SHOWN);
        report.suggestions.push(Suggestion { feature_id: f.id, go_name: f.qualified_name(), batch: f.batch, current, candidates: shown, unambiguous, agrees });
    }
    if o.all {
        agreement.precision = ratio(agreement.agreeing, agreement.proposed);
        agreement.recall = ratio(agreement.agreeing, agreement.mapped);
        report.agreement = Some(agreement);
    }

    let storable: Vec<&Suggestion> = report.suggestions.iter().filter(|s| s.unambiguous && s.current.is_none()).collect();
    if o.apply {
        let chosen: Vec<Suggestion> = storable.iter().take(MAX_ITEMS).map(|s| (*s).clone()).collect();
        let rows: Vec<(i64, String, String)> = chosen.iter().map(|s| (s.feature_id, s.candidates[0].file.clone(), s.candidates[0].symbol.clone())).collect();
        let stored = db.map_targets(&rows)?;
        report.applied = chosen.into_iter().filter(|s| stored.contains(&s.feature_id)).collect();
        report.remaining = storable.len() - report.applied.len();
    } else {
        report.remaining = storable.len();
    }
    Ok(report)
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 1000.0
    }
}

/// The type a symbol belongs to, from its spelling: `a::b::Raft::x` →
/// `Raft`, `<a::T as D>::fmt` → `T`, `Ns.Type.M` → `Type`; "" for a free
/// function.
fn owner_of(symbol: &str) -> String {
    if let Some(rest) = symbol.strip_prefix('<') {
        let ty = rest.split(" as ").next().unwrap_or("");
        return ty.rsplit("::").next().unwrap_or(ty).to_string();
    }
    let parts: Vec<&str> = if symbol.contains("::") { symbol.split("::").collect() } else { symbol.split('.').collect() };
    match parts.len() {
        0 | 1 => String::new(),
        n => {
            let owner = parts[n - 2];
            // Rust modules are lower case; types are not.
            if symbol.contains("::") && !owner.starts_with(char::is_uppercase) {
                String::new()
            } else {
                owner.to_string()
            }
        }
    }
}

/// Whether a candidate is the function a mapping names: same file, same
/// type, same name (the module path may be spelled through a re-export).
fn same_function(file: &str, symbol: &str, c: &Candidate) -> bool {
    c.file == file && last_segment(&c.symbol) == last_segment(symbol) && owner_of(&c.symbol) == owner_of(symbol)
}

/// `server/jetstream_cluster.go` → `jetstream_cluster`.
fn go_stem(go_file: &str) -> &str {
    let name = go_file.rsplit('/').next().unwrap_or(go_file);
    name.strip_suffix(".go").unwrap_or(name)
}

/// Whether a symbol's path names the Go file (`jetstream_cluster` in
/// `jetstream_cluster::stream::gen_peer_info` or `NatsNet.JetStreamCluster`)
/// or the Go package's directory (`avl`), ignoring case and underscores.
fn related(symbol: &str, go_file: &str) -> bool {
    let norm = |s: &str| s.to_lowercase().replace('_', "");
    let path = norm(symbol);
    let mut words = vec![norm(go_stem(go_file))];
    if let Some(dir) = go_file.rsplit('/').nth(1) {
        words.push(norm(dir));
    }
    words.iter().any(|w| !w.is_empty() && w != "server" && path.contains(w.as_str()))
}

/// Symbols by name, for lookups by the conventions.
struct Index<'a> {
    by_name: BTreeMap<&'a str, Vec<&'a Symbol>>,
    by_port: BTreeMap<&'a str, Vec<&'a Symbol>>,
}

impl<'a> Index<'a> {
    fn new(symbols: &'a [Symbol]) -> Index<'a> {
        let mut by_name: BTreeMap<&str, Vec<&Symbol>> = BTreeMap::new();
        let mut by_port: BTreeMap<&str, Vec<&Symbol>> = BTreeMap::new();
        for s in symbols {
            by_name.entry(s.name.as_str()).or_default().push(s);
            for p in &s.ports {
                by_port.entry(p.as_str()).or_default().push(s);
            }
        }
        Index { by_name, by_port }
    }

    /// Candidates for the Go feature of `go_file`, best first (ties by file
    /// and line).
    fn candidates(&self, lang: Lang, receiver: &str, name: &str, go_file: &str, names_only: bool) -> Vec<Candidate> {
        let mut best: BTreeMap<(String, String), Candidate> = BTreeMap::new();
        let mut offer = |s: &Symbol, confidence: f64, why: String| {
            let key = (s.file.clone(), s.symbol.clone());
            let c = Candidate { target: format!("{}::{}", s.file, s.symbol), file: s.file.clone(), symbol: s.symbol.clone(), line: s.line, confidence, why };
            match best.get_mut(&key) {
                Some(old) if old.confidence >= confidence => {
                    if !old.why.contains(&c.why) {
                        old.why = format!("{}; {}", old.why, c.why);
                    }
                }
                _ => {
                    best.insert(key, c);
                }
            }
        };
        let go = crate::inventory::qualified_name(receiver, name);
        if !names_only {
            for s in self.by_port.get(go.as_str()).into_iter().flatten() {
                offer(s, 1.0, format!("doc comment: Port of {go}"));
            }
        }
        for e in expected(lang, receiver, name) {
            for s in self.by_name.get(e.name.as_str()).into_iter().flatten() {
                let owner_ok = match (&e.owner, lang) {
                    (Some(o), _) => s.owner == *o,
                    (None, Lang::Rust) => s.owner.is_empty(),
                    (None, Lang::CSharp) => true,
                };
                let trait_ok = e.trait_name.is_none_or(|t| s.trait_name.as_deref() == Some(t));
                if owner_ok && trait_ok {
                    match &e.owner {
                        Some(o) => offer(s, e.confidence, format!("named {} on {o}", e.name)),
                        // A free function's name alone says little: it must
                        // also live where the Go file's code went.
                        None if related(&s.symbol, go_file) => offer(s, e.confidence, format!("named {} in a module of {}", e.name, go_stem(go_file))),
                        None => offer(s, 0.6, format!("named {}, in a module unrelated to {}", e.name, go_stem(go_file))),
                    }
                } else if let (Some(o), true) = (&e.owner, trait_ok) {
                    // A port often puts a Go type's methods on a type named
                    // after it (`jetStream` → `JetStreamCtx`, `Server` → `dyn
                    // ServerEnv`): the name is right, the owner nearly so.
                    if named_after(&s.owner, o) {
                        offer(s, (e.confidence - 0.1).max(0.8), format!("named {} on {}, a type named after {o}", e.name, s.owner));
                    } else if e.trait_name.is_none() && s.trait_name.is_none() {
                        offer(s, 0.4, format!("named {}, but on {}", e.name, if s.owner.is_empty() { "no type" } else { &s.owner }));
                    }
                } else if e.trait_name.is_none() && s.trait_name.is_none() {
                    offer(s, 0.4, format!("named {}, but on {}", e.name, if s.owner.is_empty() { "no type" } else { &s.owner }));
                }
            }
        }
        let mut out: Vec<Candidate> = best.into_values().collect();
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| (&a.file, a.line).cmp(&(&b.file, b.line))));
        out
    }
}

/// Whether `owner` is `expected` with a suffix word (`JetStreamCtx`,
/// `ServerEnv` for `JetStream`, `Server`).
fn named_after(owner: &str, expected: &str) -> bool {
    owner.strip_prefix(expected).and_then(|rest| rest.chars().next()).is_some_and(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_named_after_the_go_type() {
        assert!(named_after("JetStreamCtx", "JetStream"));
        assert!(named_after("ServerEnv", "Server"));
        assert!(!named_after("JetStream", "JetStream"));
        assert!(!named_after("Serverless", "Server"));
        assert!(!named_after("Raft", "JetStream"));
    }

    #[test]
    fn owners_from_symbols() {
        assert_eq!(owner_of("raft::Raft::propose"), "Raft");
        assert_eq!(owner_of("raft::wire::new_entry"), "");
        assert_eq!(owner_of("<raft::RaftState as std::fmt::Display>::fmt"), "RaftState");
        assert_eq!(owner_of("NatsNet.Server.JetStream.MonitorCluster"), "JetStream");
        assert_eq!(owner_of("top"), "");
    }

    fn sym(file: &str, symbol: &str, owner: &str, name: &str, ports: &[&str]) -> Symbol {
        Symbol { file: file.into(), symbol: symbol.into(), owner: owner.into(), trait_name: None, name: name.into(), line: 1, end_line: 2, ports: ports.iter().map(|p| p.to_string()).collect() }
    }

    #[test]
    fn conventions_rank_candidates() {
        let symbols = vec![
            sym("a.rs", "raft::Raft::propose", "Raft", "propose", &[]),
            sym("b.rs", "raft::Client::propose", "Client", "propose", &[]),
            sym("c.rs", "raft::Raft::tick", "Raft", "tick", &["raft.run"]),
        ];
        let index = Index::new(&symbols);
        let c = index.candidates(Lang::Rust, "raft", "Propose", "server/raft.go", false);
        assert_eq!(c.iter().map(|c| (c.symbol.as_str(), c.confidence)).collect::<Vec<_>>(), [("raft::Raft::propose", 0.9), ("raft::Client::propose", 0.4)]);
        // Only the doc comment knows that run became tick.
        assert_eq!(index.candidates(Lang::Rust, "raft", "run", "server/raft.go", false)[0].symbol, "raft::Raft::tick");
        assert!(index.candidates(Lang::Rust, "raft", "run", "server/raft.go", true).is_empty());
    }

    #[test]
    fn free_functions_must_live_near_their_go_file() {
        let symbols = vec![sym("s2.rs", "s2::block_decode::decode", "", "decode", &[]), sym("js.rs", "jetstream_cluster::stream::gen_peer_info", "", "gen_peer_info", &[])];
        let index = Index::new(&symbols);
        assert_eq!(index.candidates(Lang::Rust, "", "Decode", "server/avl/seqset.go", false)[0].confidence, 0.6);
        assert_eq!(index.candidates(Lang::Rust, "", "genPeerInfo", "server/jetstream_cluster.go", false)[0].confidence, 0.85);
        assert!(related("NatsNet.Server.JetStreamCluster.GenPeerInfo", "server/jetstream_cluster.go"));
        assert!(!related("NatsNet.Server.Util.GenPeerInfo", "server/jetstream_cluster.go"), "the server directory names nothing");
    }
}
