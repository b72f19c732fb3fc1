//! What `porttrack --version` says about the built-in data: the upstream
//! commit the built-in plan was taken from and the one `ported/` follows.
//! Both are read from here, so moving either is a one-line change.

use std::sync::LazyLock;

/// The nats-server commit `ported/` is a port of (its README and doc
/// comments name the same commit).
pub const PORT_COMMIT: &str = "8188ea93ae420aff8f9806e1bb887891b576764e";

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
    fn names_both_upstream_commits() {
        let v = LONG_VERSION.as_str();
        assert!(v.starts_with(env!("CARGO_PKG_VERSION")), "{v}");
        assert!(v.contains(&format!("built-in plan: github.com/nats-io/nats-server {}", &super::super::SOURCE_COMMIT[..9])), "{v}");
        assert!(v.contains(&format!("port (ported/): github.com/nats-io/nats-server {}", &PORT_COMMIT[..9])), "{v}");
    }
}
