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
//! # A results file the test command writes (JUnit XML, TRX), read instead
//! # of its output: `dotnet test --logger "trx;LogFileName=…"`.
//! results = "TestResults/porttrack.trx"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

pub const FILE_NAME: &str = "porttrack.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub target_roots: Vec<String>,
    pub stub: StubConfig,
    pub gate: GateConfig,
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
    /// The results file the test command writes, relative to the root.
    pub results: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config { target_roots: vec!["src".into(), "ported".into(), "tests".into()], stub: StubConfig::default(), gate: GateConfig::default() }
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
}

/// Find and load porttrack.toml from `start` upward; defaults when absent.
pub fn load(start: &Path) -> Result<Project, Error> {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    for dir in start.ancestors() {
        let file = dir.join(FILE_NAME);
        if file.is_file() {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::usage(format!("cannot read {}: {e}", file.display())))?;
            let config = parse(&text).map_err(|e| Error::usage(format!("{}: {e}", file.display())))?;
            return Ok(Project { root: dir.to_path_buf(), config, file: Some(file) });
        }
    }
    Ok(Project { root: start, config: Config::default(), file: None })
}

/// The project root: the nearest directory from `start` upward holding
/// porttrack.toml, else `start` itself. Reads no configuration.
pub fn find_root(start: &Path) -> PathBuf {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    start.ancestors().find(|d| d.join(FILE_NAME).is_file()).map_or(start.clone(), Path::to_path_buf)
}

pub fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|e| e.to_string())
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
        let c = parse("target_roots = [\"lib\"]\n[stub]\nassertion_helpers = [\"check\"]\nassertion_prefixes = [\"ensure\"]\nenable = [\"comment/todo-note\"]\n[gate]\ntimeout_secs = 5\nresults = \"out/r.trx\"\n").unwrap();
        assert_eq!(c.gate.results.as_deref(), Some("out/r.trx"));
        assert_eq!(c.target_roots, ["lib"]);
        assert_eq!(c.stub.assertion_helpers, ["check"]);
        assert_eq!((c.stub.assertion_prefixes, c.stub.enable), (Some(vec!["ensure".to_string()]), vec!["comment/todo-note".to_string()]));
        assert_eq!(c.gate.timeout_secs, 5);
        assert_eq!(c.gate.build, ["cargo", "build", "--workspace"]);
        let err = parse("[stub]\nassertion_helper = []\n").unwrap_err();
        assert!(err.contains("assertion_helper"), "{err}");
    }
}
