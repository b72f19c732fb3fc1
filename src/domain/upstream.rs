//! Upstream drift rules: how an item's Go source moved between two commits,
//! and when a finished item must be flagged because the Go it was proven
//! against has changed since. Flags never demote: the status stays.

use serde::Serialize;

use super::status::ItemStatus;

/// How an item's Go source differs between two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Drift {
    /// Present on both sides with different bodies.
    Changed,
    /// Only on the newer side.
    New,
    /// Only on the older side.
    Gone,
}

impl Drift {
    pub fn as_str(self) -> &'static str {
        match self {
            Drift::Changed => "changed",
            Drift::New => "new",
            Drift::Gone => "gone",
        }
    }
}

/// Compare an item's body hash on the older and newer side (None: absent).
pub fn classify(from: Option<&str>, to: Option<&str>) -> Option<Drift> {
    match (from, to) {
        (Some(a), Some(b)) if a != b => Some(Drift::Changed),
        (None, Some(_)) => Some(Drift::New),
        (Some(_), None) => Some(Drift::Gone),
        _ => None,
    }
}

/// A complete or verified item is flagged "upstream changed" when the Go
/// body at the latest upstream commit is not the one it was proven against
/// (including when it is gone upstream).
pub fn upstream_changed(status: ItemStatus, proven: Option<&str>, latest: Option<&str>) -> bool {
    matches!(status, ItemStatus::Complete | ItemStatus::Verified)
        && match (proven, latest) {
            (Some(p), Some(l)) => p != l,
            (Some(_), None) => true,
            (None, _) => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_between_two_sides() {
        assert_eq!(classify(Some("a"), Some("b")), Some(Drift::Changed));
        assert_eq!(classify(Some("a"), Some("a")), None);
        assert_eq!(classify(None, Some("a")), Some(Drift::New));
        assert_eq!(classify(Some("a"), None), Some(Drift::Gone));
        assert_eq!(classify(None, None), None);
    }

    #[test]
    fn only_finished_items_whose_go_moved_are_flagged() {
        use ItemStatus::*;
        assert!(upstream_changed(Verified, Some("a"), Some("b")));
        assert!(upstream_changed(Complete, Some("a"), None), "gone upstream");
        assert!(!upstream_changed(Verified, Some("a"), Some("a")));
        for s in [NotStarted, Stub, Deferred, NA] {
            assert!(!upstream_changed(s, Some("a"), Some("b")), "{s}");
        }
        assert!(!upstream_changed(Verified, None, Some("b")), "nothing recorded to compare with");
    }
}
