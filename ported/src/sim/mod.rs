//! Deterministic simulation harness for the raft port: one simulated clock,
//! one seeded RNG, a simulated subject bus with faults, a simulated disk
//! with power loss, and the group helpers of Go's raft test files.
//!
//! Always compiled (not `cfg(test)`) because integration tests in
//! `tests/` link against the library as an ordinary dependency and could
//! not see test-only items; it pulls in no extra dependencies.

pub mod cluster;
pub mod disk;
mod drive;
pub mod invariants;
pub mod js;
pub mod net;
pub mod rng;
pub mod schedule;
pub mod seeds;
pub mod shapes;
pub mod state_machines;
pub mod world;

pub use cluster::{server_hash, Cluster, NodeSlot, ProbeId, RaftGroup, Server, SmKind, SyncPolicy, GLOBAL_ACCOUNT};
pub use net::Msg;
pub use seeds::{sweep, test_seed};
pub use rng::SimRng;
pub use state_machines::{encode_delta, ChainOfBlocks, StateAdder, StateMachine};
pub use world::World;
