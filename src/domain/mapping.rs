//! Mapping files: which Rust code ports which Go feature or test, and what
//! is deliberately deferred (format in `ported/mappings.md`).

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Feature,
    /// Only registers Rust tests exercising a feature (no target change).
    FeatureTests,
    Test,
    DeferredFeature,
    DeferredTest,
    /// The item does not apply to the port (recorded as `n_a`).
    NotApplicableFeature,
    NotApplicableTest,
}

impl RowKind {
    /// Whether the row declares a status (deferred or n_a) with a reason.
    pub fn is_declaration(self) -> bool {
        !matches!(self, RowKind::Feature | RowKind::FeatureTests | RowKind::Test)
    }

    pub fn is_feature(self) -> bool {
        matches!(self, RowKind::Feature | RowKind::FeatureTests | RowKind::DeferredFeature | RowKind::NotApplicableFeature)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRow {
    /// 1-based line in its file, for error messages.
    pub line: usize,
    pub kind: RowKind,
    pub go_file: String,
    /// `Receiver.name`, a bare function name, or a test name.
    pub go_name: String,
    pub rust_file: Option<String>,
    /// Rust symbol of a feature; libtest name of a test.
    pub rust_symbol: Option<String>,
    /// Extra Rust tests registered for a feature.
    pub rust_tests: Vec<String>,
    /// Why a deferred item is deferred.
    pub reason: Option<String>,
}

impl MappingRow {
    /// `(receiver, name)` of the Go item.
    pub fn receiver_and_name(&self) -> (&str, &str) {
        match self.go_name.rsplit_once('.') {
            Some((r, n)) => (r, n),
            None => ("", self.go_name.as_str()),
        }
    }
}

/// Parse one mapping file; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> Result<Vec<MappingRow>, Error> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 6 {
            return Err(Error::usage(format!("{source}:{n}: expected 6 tab-separated columns, found {}", cols.len())));
        }
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let kind = match cols[0] {
            "feature" => RowKind::Feature,
            "feature-tests" => RowKind::FeatureTests,
            "test" => RowKind::Test,
            "deferred-feature" => RowKind::DeferredFeature,
            "deferred-test" => RowKind::DeferredTest,
            "n_a-feature" => RowKind::NotApplicableFeature,
            "n_a-test" => RowKind::NotApplicableTest,
            other => {
                return Err(Error::usage(format!(
                    "{source}:{n}: unknown kind '{other}' (feature, feature-tests, test, deferred-feature, deferred-test, n_a-feature, n_a-test)"
                )))
            }
        };
        let row = MappingRow {
            line: n,
            kind,
            go_file: cols[1].trim().to_string(),
            go_name: cols[2].trim().to_string(),
            rust_file: opt(cols[3]),
            rust_symbol: opt(cols[4]),
            rust_tests: match kind {
                RowKind::Feature | RowKind::FeatureTests => cols[5].split(',').filter_map(opt).collect(),
                _ => Vec::new(),
            },
            reason: if kind.is_declaration() { opt(cols[5]) } else { None },
        };
        if row.go_file.is_empty() || row.go_name.is_empty() {
            return Err(Error::usage(format!("{source}:{n}: go_file and go_name are required")));
        }
        match kind {
            RowKind::Feature | RowKind::Test if row.rust_file.is_none() || row.rust_symbol.is_none() => {
                return Err(Error::usage(format!("{source}:{n}: a {} row needs rust_file and rust_symbol", cols[0])));
            }
            RowKind::FeatureTests if row.rust_tests.is_empty() => {
                return Err(Error::usage(format!("{source}:{n}: a feature-tests row needs Rust tests in the last column")));
            }
            k if k.is_declaration() && row.reason.is_none() => {
                return Err(Error::usage(format!("{source}:{n}: a {} row needs its reason in the last column", cols[0])));
            }
            _ => {}
        }
        super::names::check_row(&row).map_err(|why| Error::usage(format!("{source}:{n}: {why}")))?;
        rows.push(row);
    }
    Ok(rows)
}

/// Split `PATH::SYMBOL` at the `::` after the file name: a Rust target
/// (`ported/src/raft/append.rs::raft::Raft::x`) or a C# one
/// (`src/Raft/Raft.cs::NatsNet.Server.Raft.ProcessAppendEntry`).
pub fn split_target(target: &str) -> Result<(String, Option<String>), Error> {
    let at = [".rs::", ".cs::"].iter().filter_map(|ext| target.find(ext)).min();
    match at {
        Some(i) => {
            let (file, sym) = (&target[..i + 3], &target[i + 5..]);
            if sym.trim().is_empty() {
                return Err(Error::usage(format!("'{target}': nothing after '::'")));
            }
            Ok((file.to_string(), Some(sym.to_string())))
        }
        None if target.ends_with(".rs") || target.ends_with(".cs") => Ok((target.to_string(), None)),
        None => Err(Error::usage(format!(
            "'{target}' is not PATH::SYMBOL with a .rs or .cs file (e.g. ported/src/raft/append.rs::raft::Raft::process_append_entry or src/Raft/Raft.cs::NatsNet.Server.Raft.ProcessAppendEntry)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_every_kind() {
        let text = "# comment\nfeature\tserver/raft.go\traft.processAppendEntry\tported/src/raft/append.rs\traft::Raft::process_append_entry\ta::b, c::d\n\
                    test\tserver/raft_test.go\tTestNRGSimple\tported/tests/nrg/batch33.rs\tbatch33::test_nrg_simple\t\n\
                    deferred-test\tserver/raft_test.go\tTestNRGX\t\t\tneeds the full server\n";
        let rows = parse(text, "m.tsv").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].receiver_and_name(), ("raft", "processAppendEntry"));
        assert_eq!(rows[0].rust_tests, ["a::b", "c::d"]);
        assert_eq!(rows[1].rust_symbol.as_deref(), Some("batch33::test_nrg_simple"));
        assert_eq!((rows[2].kind, rows[2].reason.as_deref()), (RowKind::DeferredTest, Some("needs the full server")));
        assert_eq!(rows[2].line, 4);
    }

    #[test]
    fn malformed_rows_name_file_and_line() {
        for (text, msg) in [
            ("feature\ta\tb\n", "m.tsv:1: expected 6"),
            ("thing\ta\tb\tc\td\te\n", "unknown kind 'thing'"),
            ("feature\ta\tb\t\t\t\n", "needs rust_file and rust_symbol"),
            ("\ndeferred-test\ta\tb\t\t\t \n", "m.tsv:2: a deferred-test row needs its reason"),
            ("n_a-feature\ta\tb\t\t\t\n", "a n_a-feature row needs its reason"),
            ("feature-tests\ta\tb\t\t\t\n", "a feature-tests row needs Rust tests"),
            ("test\ta\tb\tx.rs\t--logfile=/tmp/x\t\n", "m.tsv:1: test name '--logfile=/tmp/x' is not valid"),
            ("feature\ta\tb\t../../etc/passwd.rs\troot\t\n", "m.tsv:1: rust_file '../../etc/passwd.rs' is not valid"),
        ] {
            let err = parse(text, "m.tsv").unwrap_err().to_string();
            assert!(err.contains(msg), "{text:?}: {err}");
        }
    }

    #[test]
    fn targets_split_after_the_file() {
        assert_eq!(split_target("ported/src/a.rs::raft::Raft::x").unwrap(), ("ported/src/a.rs".into(), Some("raft::Raft::x".into())));
        assert_eq!(split_target("ported/src/a.rs").unwrap(), ("ported/src/a.rs".into(), None));
        assert!(split_target("raft::Raft::x").is_err());
        assert!(split_target("a.rs::").is_err());
        assert_eq!(split_target("src/Raft/Raft.cs::NatsNet.Raft.Propose").unwrap(), ("src/Raft/Raft.cs".into(), Some("NatsNet.Raft.Propose".into())));
        assert_eq!(split_target("src/Raft/Raft.cs").unwrap(), ("src/Raft/Raft.cs".into(), None));
        assert!(split_target("src/raft.go::x").unwrap_err().to_string().contains(".rs or .cs"));
    }
}
