//! A deterministic host for the JetStream cluster layer: simulated NATS
//! servers (identity, options, accounts, `nodeToInfo` fed by statsz and
//! shutdown events, the raft-node registry, server-owned subscriptions),
//! an account-aware message fabric with headers and request/reply, and a
//! cluster harness that starts, stops, kills and restarts servers on one
//! world whose disk survives. Everything draws time and randomness from
//! the world; nothing touches a real clock, network or disk.

pub mod bus;
pub mod cluster;
pub mod events;
pub mod runtime;
pub mod scenario;
pub mod server;

pub use bus::{Bus, BusMsg, Owner};
pub use cluster::{js_test_seed, JsCluster, JsServer};
pub use runtime::{RecordingRuntime, RuntimeCall};
pub use server::{ServerCore, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};
