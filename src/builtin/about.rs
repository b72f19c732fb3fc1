//! What porttrack says about its built-in data: the upstream commits of
//! the plan and of `ported/` (for `--version`; moving either is a one-line
//! change), and the plan's named batches that reports chart one by one.

use std::sync::LazyLock;

/// The nats-server commit `ported/` is a port of (its README and doc
/// comments name the same commit).
pub const PORT_COMMIT: &str = "8188ea93ae420aff8f9806e1bb887891b576764e";

/// The named batches of the built-in plan (Raft 1–2, JS Cluster 1–4,
/// Stream Lifecycle 1), charted one by one in the HTML report.
pub const PLAN_BATCHES: std::ops::RangeInclusive<i64> = 30..=36;

/// Short form of a commit, as git prints it.
fn short(commit: &str) -> &str {
    commit.get(..9).unwrap_or(commit)
}

/// `porttrack --version`: the package version, then one line per upstream.
pub static LONG_VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}\nbuilt-in plan: {} {} ({}/)\nport (ported/): {} {}",
        env!("CARGO_PKG_VERSION"),
        super::SOURCE_REPO,
        short(super::SOURCE_COMMIT),
        super::SOURCE_DIR,
        super::SOURCE_REPO,
        short(PORT_COMMIT),
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_batches_are_the_named_ones() {
        let (_, plan) = super::super::load().unwrap();
        for n in PLAN_BATCHES {
            let b = plan.batches.iter().find(|b| b.number as i64 == n).unwrap_or_else(|| panic!("batch {n} missing"));
            assert!(!b.name.starts_with("server/"), "batch {n} is a per-file batch: {}", b.name);
        }
    }

    #[test]
    fn names_both_upstream_commits() {
        let v = LONG_VERSION.as_str();
        assert!(v.starts_with(env!("CARGO_PKG_VERSION")), "{v}");
        assert!(v.contains(&format!("built-in plan: github.com/nats-io/nats-server {}", &super::super::SOURCE_COMMIT[..9])), "{v}");
        assert!(v.contains(&format!("port (ported/): github.com/nats-io/nats-server {}", &PORT_COMMIT[..9])), "{v}");
    }
}
