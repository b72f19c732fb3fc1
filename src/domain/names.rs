//! Names that users and mapping files give porttrack are data, never
//! arguments: a Rust test path is handed to the test binary after `--exact`,
//! and a target path is opened and hashed, so both are checked when they
//! are stored, imported or compiled in. Pure syntax here; whether a target
//! resolves to a regular file inside the project is `project_files`' job.

use crate::domain::mapping::{MappingRow, RowKind};
use crate::error::Error;

/// Longest name accepted (far beyond any real test path or file name).
pub const MAX_LEN: usize = 1024;

/// A test as its runner names it, optionally after its container and one
/// space: a Rust path of `::`-separated identifiers as libtest prints it
/// (`batch33::test_nrg_simple`); a class-based runner's `.`-separated name
/// with an optional data row (`Ns.RaftTests.Add(a: 1, b: 2)`); a Go test
/// with its subtest path (`TestTable/wrong_input`). The container is a
/// binary id, class or package (`ported::nrg`, `alpha::bin/tool`,
/// `Ns.RaftTests`, `github.com/nats-io/x`). It can never start with `-`, so
/// it can never become an option of the test binary, and holds no control
/// character.
pub fn rust_test_path(s: &str) -> Result<(), String> {
    check_text(s)?;
    let (container, name) = match s.split_once(' ') {
        Some((c, n)) if !n.contains(' ') || n.contains('(') => (Some(c), n),
        _ => (None, s),
    };
    if let Some(c) = container {
        container_id(c).map_err(|why| format!("container '{}' {why}", escape(c)))?;
        if name.starts_with('-') {
            return Err("has a name that starts with '-', so a program would read it as an option".into());
        }
    }
    test_name(name)
}

/// `crate`, `crate::tests/api`, `Ns.Class`, `github.com/org/repo/pkg`:
/// letters, digits, `_` and `-` between `::`, `.` and `/` separators.
fn container_id(c: &str) -> Result<(), String> {
    let segments = c.split("::").flat_map(|p| p.split(['.', '/']));
    for seg in segments {
        if seg.is_empty() {
            return Err("has an empty segment".into());
        }
        if !seg.chars().all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '-') {
            return Err("holds a character that is not a letter, digit, '_' or '-'".into());
        }
    }
    Ok(())
}

fn test_name(name: &str) -> Result<(), String> {
    let segment_err = |seg: &str, why: String| format!("'{}' in it {why}", escape(seg));
    // A data row: everything from the first '(' to a final ')'.
    let (path, row) = match name.find('(') {
        Some(at) if name.ends_with(')') => (&name[..at], Some(&name[at..])),
        Some(_) => return Err("has a '(' without a final ')'".into()),
        None => (name, None),
    };
    if row.is_none() && path.contains(' ') {
        return Err("holds a space outside a data row; a name with its container is 'CONTAINER NAME', one space".into());
    }
    // A Go subtest path follows the test's own name after '/'.
    let (path, subtests) = match path.split_once('/') {
        Some((p, sub)) => (p, Some(sub)),
        None => (path, None),
    };
    if path.contains("::") {
        path.split("::").try_for_each(|seg| identifier(seg).map_err(|why| segment_err(seg, why)))?;
    } else {
        path.split('.').try_for_each(|seg| identifier(seg).map_err(|why| segment_err(seg, why)))?;
    }
    if let Some(sub) = subtests {
        if sub.split('/').any(|seg| seg.is_empty() || seg.chars().any(char::is_whitespace)) {
            return Err("has an empty or blank subtest segment after '/'".into());
        }
    }
    Ok(())
}

/// `::`-separated identifiers, nothing else.
fn rust_path(s: &str) -> Result<(), String> {
    check_text(s)?;
    s.split("::").try_for_each(|seg| identifier(seg).map_err(|why| format!("'{}' in it {why}", escape(seg))))
}

/// The symbol half of a target: `::`-separated identifiers, optionally
/// starting with a qualified self type (`<raft::RaftState as std::fmt::Display>::fmt`)
/// for a `.rs` file; identifiers separated by `.` or `::` for other
/// languages (`Namespace.Class.Method`).
pub fn target_symbol(file: &str, symbol: &str) -> Result<(), String> {
    check_text(symbol)?;
    if !file.ends_with(".rs") {
        return symbol.split("::").flat_map(|s| s.split('.')).try_for_each(|seg| identifier(seg).map_err(|why| format!("'{}' in it {why}", escape(seg))));
    }
    // An inherent impl on a trait object names its methods through the
    // trait (`leader::<dyn ServerEnv>::replicas`): check the trait's path,
    // then treat the segment as one identifier.
    let owned;
    let symbol = if symbol.contains("<dyn ") && !symbol.contains(" as ") {
        let mut out = String::with_capacity(symbol.len());
        let mut rest = symbol;
        while let Some(at) = rest.find("<dyn ") {
            out.push_str(&rest[..at]);
            let inner_start = at + "<dyn ".len();
            let close = rest[inner_start..].find('>').ok_or("a '<dyn Trait>' segment needs its '>'")?;
            rust_path(&rest[inner_start..inner_start + close]).map_err(|why| format!("trait object: {why}"))?;
            out.push_str("dyn_trait");
            rest = &rest[inner_start + close + 1..];
        }
        out.push_str(rest);
        owned = out;
        owned.as_str()
    } else {
        symbol
    };
    let rest = match symbol.strip_prefix('<') {
        Some(inner) => {
            let (qself, rest) = inner.split_once(">::").ok_or("a qualified path '<Type as Trait>::name' needs '>::' after the trait")?;
            let (ty, tr) = qself.split_once(" as ").ok_or("a qualified path '<Type as Trait>::name' needs ' as '")?;
            rust_path(ty).map_err(|why| format!("type: {why}"))?;
            rust_path(tr).map_err(|why| format!("trait: {why}"))?;
            rest
        }
        None => symbol,
    };
    rust_path(rest)
}

/// A target file: a relative path inside the project, `/`-separated, with
/// no `..`, `.` or empty component, not absolute, not starting with `-`.
pub fn target_path(s: &str) -> Result<(), String> {
    check_text(s)?;
    if s.starts_with('/') {
        return Err("is absolute; give a path relative to the project root".into());
    }
    if s.contains('\\') {
        return Err("contains '\\'; separate directories with '/'".into());
    }
    for c in s.split('/') {
        match c {
            "" => return Err("has an empty component ('//' or a trailing '/')".into()),
            "." => return Err("has a '.' component; give the path without it".into()),
            ".." => return Err("has a '..' component; targets stay inside the project root".into()),
            _ => {}
        }
    }
    Ok(())
}

/// [`rust_test_path`] as a usage error naming the value.
pub fn check_rust_test(s: &str) -> Result<(), Error> {
    rust_test_path(s).map_err(|why| Error::usage(format!("test name '{}' is not valid: {why}", escape(s))))
}

/// [`target_path`] and [`target_symbol`] as a usage error naming the value.
pub fn check_target(file: &str, symbol: Option<&str>) -> Result<(), Error> {
    target_path(file).map_err(|why| Error::usage(format!("target path '{}' is not valid: it {why}", escape(file))))?;
    if let Some(sym) = symbol {
        target_symbol(file, sym).map_err(|why| Error::usage(format!("target symbol '{}' is not valid: {why}", escape(sym))))?;
    }
    Ok(())
}

/// Every name a mapping row holds, checked; `Err(why)` names the column
/// and the value.
pub fn check_row(row: &MappingRow) -> Result<(), String> {
    if let Some(file) = &row.rust_file {
        target_path(file).map_err(|why| format!("rust_file '{}' is not valid: it {why}", escape(file)))?;
    }
    match (row.kind, &row.rust_symbol) {
        (RowKind::Test, Some(test)) => rust_test_path(test).map_err(|why| format!("test name '{}' is not valid: {why}", escape(test)))?,
        (_, Some(sym)) => {
            let file = row.rust_file.as_deref().unwrap_or("");
            target_symbol(file, sym).map_err(|why| format!("rust_symbol '{}' is not valid: {why}", escape(sym)))?
        }
        (_, None) => {}
    }
    for t in &row.rust_tests {
        rust_test_path(t).map_err(|why| format!("test name '{}' is not valid: {why}", escape(t)))?;
    }
    Ok(())
}

fn check_text(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    if s.len() > MAX_LEN {
        return Err(format!("is {} bytes long (at most {MAX_LEN})", s.len()));
    }
    if s.starts_with('-') {
        return Err("starts with '-', so a program would read it as an option".into());
    }
    if s.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    Ok(())
}

/// A Rust identifier: a letter or `_`, then letters, digits and `_`.
fn identifier(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    match chars.next() {
        None => Err("is empty (a '::' with nothing on one side)".into()),
        Some(c) if !(c.is_alphabetic() || c == '_') => Err("does not start with a letter or '_'".into()),
        Some('_') if s.len() == 1 => Err("is '_', which is not an identifier".into()),
        Some(_) if chars.all(|c| c.is_alphanumeric() || c == '_') => Ok(()),
        Some(_) => Err("holds a character that is not a letter, digit or '_'".into()),
    }
}

/// The value as shown in messages: control characters escaped.
pub fn escape(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_paths_are_identifiers_joined_by_double_colons() {
        for ok in [
            "batch33::test_nrg_simple",
            "t",
            "jetstream_cluster::meta_snapshot::tests::apply_rejects_invalid_snapshot",
            "_x::ü1",
            "ported::nrg batch33::test_nrg_simple",
            "alpha::bin/tool tests::it_works",
            "NatsNet.Server.Tests.RaftTests.Term_StartsAtZero",
            "Ns.CalculatorTests Add_Theory(a: 1, b: 2, expected: 3)",
            "github.com/nats-io/x TestTable/wrong_input/inner",
        ] {
            assert_eq!(rust_test_path(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("--logfile=/tmp/x", "starts with '-'"),
            ("-q", "starts with '-'"),
            ("", "is empty"),
            ("a::", "is empty"),
            ("::a", "is empty"),
            ("a:b", "not a letter"),
            ("a b c", "space outside a data row"),
            ("a -q", "starts with '-'"),
            ("a.(x", "without a final ')'"),
            ("TestX//y", "empty or blank subtest"),
            ("1a", "does not start"),
            ("_", "not an identifier"),
            ("a\nb", "control character"),
            ("a::b; rm -rf /", "space outside a data row"),
            ("a;b x", "container 'a;b'"),
        ] {
            let err = rust_test_path(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(rust_test_path(&"a".repeat(MAX_LEN + 1)).unwrap_err().contains("at most"));
    }

    #[test]
    fn target_paths_stay_relative_and_inside() {
        for ok in ["ported/src/raft/append.rs", "a.rs", "src/Foo/Bar.cs", "x-y/z.rs"] {
            assert_eq!(target_path(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("../../../../etc/passwd.rs", "'..'"),
            ("ported/../../x.rs", "'..'"),
            ("/etc/passwd.rs", "absolute"),
            ("./a.rs", "'.'"),
            ("a//b.rs", "empty component"),
            ("a/", "empty component"),
            ("a\\b.rs", "'\\'"),
            ("-rf.rs", "starts with '-'"),
            ("a\u{1b}[2K.rs", "control"),
        ] {
            let err = target_path(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn symbols_allow_qualified_self_types_in_rust_only() {
        assert_eq!(target_symbol("a.rs", "raft::Raft::process_append_entry"), Ok(()));
        assert_eq!(target_symbol("a.rs", "<raft::RaftState as std::fmt::Display>::fmt"), Ok(()));
        assert!(target_symbol("a.rs", "<raft::RaftState>::fmt").is_err());
        assert!(target_symbol("a.rs", "raft::Raft::x()").is_err());
        assert_eq!(target_symbol("a.rs", "jetstream_cluster::leader::<dyn ServerEnv>::replicas"), Ok(()));
        assert!(target_symbol("a.rs", "m::<dyn Server Env>::replicas").is_err());
        assert!(target_symbol("a.rs", "m::<dyn ServerEnv::replicas").is_err());
        assert_eq!(target_symbol("src/Foo/Bar.cs", "Namespace.Class.Method"), Ok(()));
        assert!(target_symbol("src/Foo/Bar.cs", "Namespace.Class.").is_err());
    }

    #[test]
    fn messages_name_the_value_with_controls_escaped() {
        let err = check_rust_test("--logfile=/tmp/x").unwrap_err().to_string();
        assert!(err.contains("'--logfile=/tmp/x'"), "{err}");
        let err = check_target("../x\n.rs", None).unwrap_err().to_string();
        assert!(err.contains("'../x\\n.rs'"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
