//! Naming conventions of a port: the Rust or C# name a Go function or
//! method is expected to get. `(*jetStream).monitorCluster` becomes
//! `JetStream::monitor_cluster` in Rust and `JetStream.MonitorCluster` in
//! C#; a Go constructor `newEntry` may become `Entry::new`; a Go `String()`
//! method becomes `Display::fmt` (Rust) or `ToString` (C#).

use crate::targets::Lang;

/// One place the conventions predict: a function `name` on `owner` (None:
/// a free function in Rust, any class in C#), optionally in an impl of
/// `trait_name`, with how much the prediction is worth.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub owner: Option<String>,
    pub name: String,
    pub trait_name: Option<&'static str>,
    pub confidence: f64,
}

/// Go's `camelCase`/`PascalCase` words, acronyms kept whole:
/// `processAppendEntry` → process, Append, Entry; `HTTPHandler` → HTTP, Handler.
fn words(go: &str) -> Vec<String> {
    let chars: Vec<char> = go.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit() || (p.is_uppercase() && next.is_some_and(char::is_lowercase)));
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `processAppendEntry` → `process_append_entry`, `GetWriteErr` → `get_write_err`.
pub fn snake_case(go: &str) -> String {
    words(go).iter().map(|w| w.to_lowercase()).collect::<Vec<_>>().join("_")
}

/// `processAppendEntry` → `ProcessAppendEntry`; `jetStream` → `JetStream`.
pub fn pascal_case(go: &str) -> String {
    let mut c = go.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Where the conventions of `lang` put the Go feature `receiver.name`
/// (receiver empty for a function), most likely first.
pub fn expected(lang: Lang, receiver: &str, name: &str) -> Vec<Expected> {
    let e = |owner: Option<String>, name: String, trait_name, confidence| Expected { owner, name, trait_name, confidence };
    let mut out = Vec::new();
    let constructed = ["new", "New"].iter().find_map(|p| name.strip_prefix(p)).filter(|rest| rest.starts_with(char::is_uppercase));
    match lang {
        Lang::Rust => {
            if !receiver.is_empty() {
                let owner = pascal_case(receiver);
                if name == "String" {
                    out.push(e(Some(owner.clone()), "fmt".into(), Some("Display"), 0.9));
                }
                out.push(e(Some(owner), snake_case(name), None, 0.9));
            } else {
                out.push(e(None, snake_case(name), None, 0.85));
                if let Some(ty) = constructed {
                    out.push(e(Some(pascal_case(ty)), "new".into(), None, 0.85));
                }
            }
        }
        Lang::CSharp => {
            if !receiver.is_empty() {
                let owner = pascal_case(receiver);
                if name == "String" {
                    out.push(e(Some(owner.clone()), "ToString".into(), None, 0.9));
                }
                out.push(e(Some(owner), pascal_case(name), None, 0.9));
            } else {
                out.push(e(None, pascal_case(name), None, 0.85));
                if let Some(ty) = constructed {
                    let ty = pascal_case(ty);
                    out.push(e(Some(ty.clone()), ty, None, 0.8));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        for (go, snake, pascal) in [
            ("processAppendEntry", "process_append_entry", "ProcessAppendEntry"),
            ("GetWriteErr", "get_write_err", "GetWriteErr"),
            ("HTTPHandler", "http_handler", "HTTPHandler"),
            ("isLeaderOverrun", "is_leader_overrun", "IsLeaderOverrun"),
            ("ID", "id", "ID"),
            ("sendHBs", "send_h_bs", "SendHBs"),
            ("newRaftGroupID", "new_raft_group_id", "NewRaftGroupID"),
            ("s2Compress", "s2_compress", "S2Compress"),
            ("Test_underscore", "test_underscore", "Test_underscore"),
        ] {
            assert_eq!((snake_case(go), pascal_case(go)), (snake.to_string(), pascal.to_string()), "{go}");
        }
    }

    #[test]
    fn methods_functions_constructors_and_string() {
        let names = |v: Vec<Expected>| v.into_iter().map(|e| (e.owner, e.name)).collect::<Vec<_>>();
        assert_eq!(names(expected(Lang::Rust, "jetStream", "monitorCluster")), [(Some("JetStream".into()), "monitor_cluster".into())]);
        assert_eq!(names(expected(Lang::CSharp, "jetStream", "monitorCluster")), [(Some("JetStream".into()), "MonitorCluster".into())]);
        assert_eq!(names(expected(Lang::Rust, "", "newEntry")), [(None, "new_entry".into()), (Some("Entry".into()), "new".into())]);
        assert_eq!(expected(Lang::Rust, "RaftState", "String")[0].trait_name, Some("Display"));
        assert_eq!(names(expected(Lang::CSharp, "RaftState", "String"))[0], (Some("RaftState".into()), "ToString".into()));
        assert_eq!(names(expected(Lang::Rust, "", "newline")), [(None, "newline".into())], "not a constructor");
    }
}
