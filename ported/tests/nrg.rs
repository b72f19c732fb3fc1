//! Ported TestNRG* tests from nats-server's `server/raft_test.go` (and the
//! NRG long test of `jetstream_cluster_long_test.go`), run on the
//! deterministic simulator. One binary; each batch of ports is a submodule
//! under `tests/nrg/` so libtest names read `batch33::test_nrg_simple`.
//! Every test prints its seed on failure; `NRG_SIM_SEED=<n>` replays it.

#[path = "nrg/batch33.rs"]
mod batch33;
#[path = "nrg/exercise.rs"]
mod exercise;
#[path = "nrg/findings.rs"]
mod findings;
#[path = "nrg/helpers.rs"]
mod helpers;
#[path = "nrg/simulation.rs"]
mod simulation;
#[path = "nrg/part1_catchup.rs"]
mod part1_catchup;
#[path = "nrg/part1_election.rs"]
mod part1_election;
#[path = "nrg/part1_health.rs"]
mod part1_health;
#[path = "nrg/part1_quorum.rs"]
mod part1_quorum;
#[path = "nrg/part1_reject.rs"]
mod part1_reject;
#[path = "nrg/part1_snapshot.rs"]
mod part1_snapshot;
#[path = "nrg/part1_state.rs"]
mod part1_state;
#[path = "nrg/part1_support.rs"]
mod part1_support;
#[path = "nrg/part1_wal.rs"]
mod part1_wal;
#[path = "nrg/part1_wire.rs"]
mod part1_wire;
#[path = "nrg/part2_catchup.rs"]
mod part2_catchup;
#[path = "nrg/part2_snapshot_install.rs"]
mod part2_snapshot_install;
#[path = "nrg/part2_snapshots.rs"]
mod part2_snapshots;
#[path = "nrg/part2_support.rs"]
mod part2_support;
#[path = "nrg/part2_wal_restart.rs"]
mod part2_wal_restart;
#[path = "nrg/part2_add_peers.rs"]
mod part2_add_peers;
#[path = "nrg/part2_elections.rs"]
mod part2_elections;
#[path = "nrg/part2_membership.rs"]
mod part2_membership;
#[path = "nrg/part2_peer_tracking.rs"]
mod part2_peer_tracking;
#[path = "nrg/part2_quorum.rs"]
mod part2_quorum;
