//! Ported TestNRG* tests from nats-server's `server/raft_test.go` (and the
//! NRG long test of `jetstream_cluster_long_test.go`), run on the
//! deterministic simulator. One binary; each batch of ports is a submodule
//! under `tests/nrg/` so libtest names read `batch33::test_nrg_simple`.
//! Every test prints its seed on failure; `NRG_SIM_SEED=<n>` replays it.

#[path = "nrg/batch33.rs"]
mod batch33;
#[path = "nrg/helpers.rs"]
mod helpers;
#[path = "nrg/simulation.rs"]
mod simulation;
