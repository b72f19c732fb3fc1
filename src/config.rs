//! `porttrack.toml`, the project's configuration, found at the repository
//! root (the nearest directory upward holding it). Every key is optional;
//! defaults fit this workspace.
//!
//! ```toml
//! # Directories `stub scan` walks when given no paths.
//! target_roots = ["src", "ported", "tests"]
//!
//! [stub]
//! # Functions or macros that assert, so a test calling them is not hollow
//! # (a trailing `*` makes a name a prefix).
//! assertion_helpers = ["check_invariants", "wait_on_*"]
//! # Call names that are assertions by their prefix (this is the default).
//! assertion_prefixes = ["assert", "expect", "should", "check", "verify"]
//! # Opt-in rules to report: "comment/todo-note" (every TODO note).
//! enable = ["comment/todo-note"]
//!
//! [gate]
//! build = ["cargo", "build", "--workspace"]
//! test = ["cargo", "test", "-p", "ported"]
//! format = "libtest"
//! timeout_secs = 1800
//! # The log keeps the first and the last this many MB of a gate's output.
//! log_keep_mb = 64
//! # A results file the test command writes into the fresh directory
//! # porttrack makes for each run ($PORTTRACK_RESULTS_DIR, also written as
//! # {results_dir} in the command); read instead of the output.
//! results = "junit.xml"
//!
//! [mutants]
//! # Features mutated in parallel by `gate mutants` (one scratch tree each).
//! jobs = 1
//! # cargo-mutants' test timeout in seconds [default: its own, from the
//! # unmutated baseline]; a mutant whose tests run longer counts as caught.
//! timeout_secs = 120
//! # Where the scratch trees and their build directories live [default: a
//! # directory per project under the system's temporary directory].
//! scratch_dir = "/var/tmp/porttrack-mutants"
//!
//! [verify]
//! # `verify N` runs the mutation gate for the features it would verify,
//! # and a Rust feature is verified only with mutation evidence.
//! mutants = true
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

pub const FILE_NAME: &str = "porttrack.toml";

/// `meta` key of the project root a database belongs to (absolute, or
/// relative to the database's directory), recorded by `init`.
pub const ROOT_META: &str = "project.root";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub target_roots: Vec<String>,
    pub stub: StubConfig,
    pub gate: GateConfig,
    pub mutants: MutantsConfig,
    pub verify: VerifyConfig,
}

/// `[mutants]`: how `gate mutants` runs cargo-mutants.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MutantsConfig {
    pub jobs: usize,
    pub timeout_secs: Option<u64>,
    pub scratch_dir: Option<String>,
}

impl Default for MutantsConfig {
    fn default() -> Self {
        MutantsConfig { jobs: 1, timeout_secs: None, scratch_dir: None }
    }
}

/// `[verify]`: what `verify N` requires beyond passing tests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyConfig {
    /// Mutation evidence for every Rust feature it verifies (README,
    /// "Mutation evidence").
    pub mutants: bool,
    /// `gate mutants --export` files (relative to the project root) that
    /// verify imports, as `evidence import --recheck` does, before mutating.
    pub evidence: Vec<String>,
    /// How many of an imported file's outcomes are mutated again.
    pub recheck: usize,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig { mutants: false, evidence: Vec::new(), recheck: 6 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StubConfig {
    pub assertion_helpers: Vec<String>,
    /// None: the built-in prefixes.
    pub assertion_prefixes: Option<Vec<String>>,
    pub enable: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    pub build: Vec<String>,
    pub test: Vec<String>,
    pub format: String,
    pub timeout_secs: u64,
    /// MB of the head and of the tail of a gate's output its log keeps.
    pub log_keep_mb: u64,
    /// The results file the test command writes into the run's fresh
    /// results directory (a file name, no directory).
    pub results: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            target_roots: vec!["src".into(), "ported".into(), "tests".into()],
            stub: StubConfig::default(),
            gate: GateConfig::default(),
            mutants: MutantsConfig::default(),
            verify: VerifyConfig::default(),
        }
    }
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            build: ["cargo", "build", "--workspace"].map(String::from).to_vec(),
            test: ["cargo", "test", "-p", "ported"].map(String::from).to_vec(),
            format: "auto".into(),
            timeout_secs: 1800,
            log_keep_mb: 64,
            results: None,
        }
    }
}

/// The loaded configuration and the directory it applies to.
#[derive(Debug, Clone)]
pub struct Project {
    /// Directory holding porttrack.toml, or the starting directory when
    /// there is none.
    pub root: PathBuf,
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// SHA-256 of the text that was parsed (None: defaults, no file), to
    /// compare with the file as committed.
    pub config_sha256: Option<String>,
}

/// Find and load porttrack.toml from `start` upward; defaults when absent.
pub fn load(start: &Path) -> Result<Project, Error> {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    match start.ancestors().find(|d| d.join(FILE_NAME).is_file()) {
        Some(dir) => load_at(dir),
        None => Ok(Project { root: start, config: Config::default(), file: None, config_sha256: None }),
    }
}

/// Load the project whose root is exactly `root`: its porttrack.toml, or
/// defaults when it has none.
pub fn load_at(root: &Path) -> Result<Project, Error> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let file = root.join(FILE_NAME);
    if !file.is_file() {
        return Ok(Project { root, config: Config::default(), file: None, config_sha256: None });
    }
    let text = crate::project_files::read_named(&file).map_err(|e| Error::usage(format!("{} {e}", file.display())))?;
    let config = parse(&text).map_err(|e| Error::usage(format!("{}: {e}", file.display())))?;
    let sha = crate::gate::run::hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
    Ok(Project { root, config, file: Some(file), config_sha256: Some(sha) })
}

/// The project a database belongs to, never found from the working
/// directory: the root recorded in the database (`recorded`, absolute or
/// relative to the database's directory) when it exists, else the nearest
/// directory holding porttrack.toml from the database's directory upward,
/// else the database's directory.
pub fn for_database(db_path: &Path, recorded: Option<&str>) -> Result<Project, Error> {
    load_at(&root_for_database(db_path, recorded))
}

/// The root [`for_database`] loads, without reading the configuration.
pub fn root_for_database(db_path: &Path, recorded: Option<&str>) -> PathBuf {
    let db_dir = database_dir(db_path);
    if let Some(r) = recorded.filter(|r| !r.is_empty()) {
        let root = db_dir.join(r);
        if root.is_dir() {
            return root.canonicalize().unwrap_or(root);
        }
    }
    db_dir.ancestors().find(|d| d.join(FILE_NAME).is_file()).map_or(db_dir.clone(), Path::to_path_buf)
}

/// The canonical directory holding the database file.
pub fn database_dir(db_path: &Path) -> PathBuf {
    let dir = match db_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    dir.canonicalize().unwrap_or(dir)
}

/// The nearest directory from `start` upward holding porttrack.toml.
pub fn find_config_dir(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start.ancestors().find(|d| d.join(FILE_NAME).is_file()).map(Path::to_path_buf)
}

pub fn parse(text: &str) -> Result<Config, String> {
    let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
    if let Some(r) = &config.gate.results {
        if r.is_empty() || r.contains('/') || r == "." || r == ".." || r.starts_with('-') {
            return Err(format!("gate.results = {r:?}: give a file name (no directory); the command writes it into $PORTTRACK_RESULTS_DIR"));
        }
    }
    if config.mutants.jobs == 0 {
        return Err("mutants.jobs = 0: give at least 1".into());
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fit_this_workspace() {
        let c = parse("").unwrap();
        assert_eq!(c.target_roots, ["src", "ported", "tests"]);
        assert_eq!(c.gate.test, ["cargo", "test", "-p", "ported"]);
    }

    #[test]
    fn keys_are_read_and_unknown_keys_rejected() {
        let c = parse("target_roots = [\"lib\"]\n[stub]\nassertion_helpers = [\"check\"]\nassertion_prefixes = [\"ensure\"]\nenable = [\"comment/todo-note\"]\n[gate]\ntimeout_secs = 5\nresults = \"r.trx\"\n").unwrap();
        assert_eq!(c.gate.results.as_deref(), Some("r.trx"));
        assert_eq!(c.target_roots, ["lib"]);
        assert_eq!(c.stub.assertion_helpers, ["check"]);
        assert_eq!((c.stub.assertion_prefixes, c.stub.enable), (Some(vec!["ensure".to_string()]), vec!["comment/todo-note".to_string()]));
        assert_eq!(c.gate.timeout_secs, 5);
        assert_eq!(c.gate.build, ["cargo", "build", "--workspace"]);
        let err = parse("[stub]\nassertion_helper = []\n").unwrap_err();
        assert!(err.contains("assertion_helper"), "{err}");
        assert_eq!(parse("[gate]\nresults = \"junit.xml\"\n").unwrap().gate.results.as_deref(), Some("junit.xml"));
        assert!(parse("[gate]\nresults = \"../old.xml\"\n").unwrap_err().contains("no directory"));
    }

    #[test]
    fn a_database_finds_its_project_wherever_the_command_runs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::write(root.join(FILE_NAME), "[gate]\ntimeout_secs = 7\n").unwrap();
        let db = root.join("data/porting.db");
        let p = for_database(&db, None).unwrap();
        assert_eq!((p.root, p.config.gate.timeout_secs), (root.canonicalize().unwrap(), 7));
        assert!(p.config_sha256.is_some());
        // A recorded root wins, relative to the database's directory.
        let other = dir.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        assert_eq!(for_database(&db, Some("../../other")).unwrap().root, other.canonicalize().unwrap());
        // Without porttrack.toml anywhere: the database's directory.
        let lone = dir.path().join("lone.db");
        assert_eq!(for_database(&lone, None).unwrap().root, dir.path().canonicalize().unwrap());
    }
}
