//! The JetStream meta layer on the simulated cluster: ported Go tests of
//! `jetstream_cluster_*_test.go` (meta recovery staging, leader failover,
//! expansion, peer offline, leader stepdown), the seeded meta scenario
//! (random assignment proposals with kills, restarts and partitions,
//! checked against a reference model), snapshot/WAL checks and the
//! determinism checks. A failing simulation prints `JS_SIM_SEED=<n>`.

#[path = "jsm/common.rs"]
mod common;
#[path = "jsm/determinism.rs"]
mod determinism;
#[path = "jsm/jetstream_cluster_1.rs"]
mod jetstream_cluster_1;
#[path = "jsm/jetstream_cluster_4.rs"]
mod jetstream_cluster_4;
#[path = "jsm/scenario.rs"]
mod scenario;
#[path = "jsm/snapshots.rs"]
mod snapshots;
