//! The JetStream meta layer on the simulated cluster. Determinism checks so
//! far; the ported Go tests and the seeded scenario follow.

#[path = "jsm/determinism.rs"]
mod determinism;
