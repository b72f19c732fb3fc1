//! Item statuses and the batch status derived from them.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::Error;

/// A tracked item is a feature (function or method), a test, or a module
/// (a directory of the source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Feature,
    Test,
    Module,
}

impl ItemKind {
    pub const ALL: [ItemKind; 3] = [ItemKind::Module, ItemKind::Feature, ItemKind::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Feature => "feature",
            ItemKind::Test => "test",
            ItemKind::Module => "module",
        }
    }

    /// The kind stored as `text` (`feature`, `test`, `module`).
    pub fn from_stored(text: &str) -> Option<ItemKind> {
        ItemKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Status of one feature or test. Stored as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    NotStarted,
    Stub,
    Complete,
    Verified,
    Deferred,
    NA,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 6] = [
        ItemStatus::NotStarted,
        ItemStatus::Stub,
        ItemStatus::Complete,
        ItemStatus::Verified,
        ItemStatus::Deferred,
        ItemStatus::NA,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::NotStarted => "not_started",
            ItemStatus::Stub => "stub",
            ItemStatus::Complete => "complete",
            ItemStatus::Verified => "verified",
            ItemStatus::Deferred => "deferred",
            ItemStatus::NA => "n_a",
        }
    }

    /// The rule for "done", used by progress numbers and dependency checks:
    /// an item is done when it is complete, verified, or not applicable.
    pub fn is_done(self) -> bool {
        matches!(self, ItemStatus::Complete | ItemStatus::Verified | ItemStatus::NA)
    }

    /// Whether work on the item has visibly begun (used to tell a pending
    /// batch from one in progress).
    pub fn is_started(self) -> bool {
        matches!(self, ItemStatus::Stub | ItemStatus::Complete | ItemStatus::Verified)
    }
}

/// Stated wherever progress is printed, so readers know what is counted.
pub const DONE_RULE: &str = "done = complete + verified + n_a";

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ItemStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ItemStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown status '{s}': expected one of {}",
                    ItemStatus::ALL.map(|st| st.as_str()).join(", ")
                ))
            })
    }
}

/// A batch's status is never stored: it follows from its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Pending,
    InProgress,
    Done,
}

impl BatchStatus {
    /// `done` when every item is done (an empty batch blocks nothing);
    /// `pending` when no item has been started or finished; otherwise
    /// `in_progress`.
    pub fn derive(counts: &StatusCounts) -> BatchStatus {
        if counts.done() == counts.total() {
            BatchStatus::Done
        } else if counts.started() == 0 && counts.done() == 0 {
            BatchStatus::Pending
        } else {
            BatchStatus::InProgress
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Pending => "pending",
            BatchStatus::InProgress => "in_progress",
            BatchStatus::Done => "done",
        }
    }
}

impl fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Number of items in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    counts: [u64; 6],
}

impl StatusCounts {
    pub fn add(&mut self, status: ItemStatus, n: u64) {
        self.counts[status as usize] += n;
    }

    pub fn get(&self, status: ItemStatus) -> u64 {
        self.counts[status as usize]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn done(&self) -> u64 {
        ItemStatus::ALL.into_iter().filter(|s| s.is_done()).map(|s| self.get(s)).sum()
    }

    pub fn started(&self) -> u64 {
        ItemStatus::ALL.into_iter().filter(|s| s.is_started()).map(|s| self.get(s)).sum()
    }

    pub fn merged(&self, other: &StatusCounts) -> StatusCounts {
        let mut out = *self;
        for (a, b) in out.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        out
    }

    /// Percentage done, one decimal; an empty set counts as 0%.
    pub fn percent_done(&self) -> f64 {
        percent(self.done(), self.total())
    }
}

/// Counts by status of each kind of item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub modules: StatusCounts,
    pub features: StatusCounts,
    pub tests: StatusCounts,
}

impl KindCounts {
    pub fn add(&mut self, kind: ItemKind, status: ItemStatus, n: u64) {
        self.of_mut(kind).add(status, n);
    }

    pub fn of(&self, kind: ItemKind) -> &StatusCounts {
        match kind {
            ItemKind::Module => &self.modules,
            ItemKind::Feature => &self.features,
            ItemKind::Test => &self.tests,
        }
    }

    fn of_mut(&mut self, kind: ItemKind) -> &mut StatusCounts {
        match kind {
            ItemKind::Module => &mut self.modules,
            ItemKind::Feature => &mut self.features,
            ItemKind::Test => &mut self.tests,
        }
    }

    /// All kinds together: what progress and batch status count.
    pub fn all(&self) -> StatusCounts {
        self.modules.merged(&self.features).merged(&self.tests)
    }
}

pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

impl Serialize for StatusCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(9))?;
        map.serialize_entry("total", &self.total())?;
        map.serialize_entry("done", &self.done())?;
        map.serialize_entry("percent_done", &self.percent_done())?;
        for st in ItemStatus::ALL {
            map.serialize_entry(st.as_str(), &self.get(st))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for st in ItemStatus::ALL {
            assert_eq!(st.as_str().parse::<ItemStatus>().unwrap(), st);
        }
        let err = "finished".parse::<ItemStatus>().unwrap_err().to_string();
        assert!(err.contains("'finished'"), "{err}");
    }

    #[test]
    fn batch_status_follows_items() {
        let mut c = StatusCounts::default();
        c.add(ItemStatus::NotStarted, 3);
        c.add(ItemStatus::Deferred, 1);
        assert_eq!(BatchStatus::derive(&c), BatchStatus::Pending);
        c.add(ItemStatus::Stub, 1);
        assert_eq!(BatchStatus::derive(&c), BatchStatus::InProgress);
        let mut d = StatusCounts::default();
        d.add(ItemStatus::Verified, 2);
        d.add(ItemStatus::NA, 1);
        assert_eq!(BatchStatus::derive(&d), BatchStatus::Done);
        assert_eq!(BatchStatus::derive(&StatusCounts::default()), BatchStatus::Done);
        assert_eq!(d.percent_done(), 100.0);
    }
}
