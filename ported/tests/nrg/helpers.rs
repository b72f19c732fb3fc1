//! Helpers shared by the NRG test modules: cluster construction with the
//! test's seed, and small assertions in the style of the Go `require_*`
//! helpers.

use std::time::Duration;

use ported::sim::{test_seed, Cluster};

/// Port of createJetStreamClusterExplicit, seeded for the named test.
pub fn cluster(test: &str, name: &str, n: usize) -> Cluster {
    Cluster::new(name, n, test_seed(test))
}

/// Go's `time.Second`.
pub const SEC: Duration = Duration::from_secs(1);

/// Milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
