//! Integration tests for the JetStream cluster meta port: snapshot files,
//! S2 interoperability with Go's library, meta snapshots and real
//! nats-server fixtures. Fixtures live in `tests/fixtures/`; how each was
//! produced is described in `ported/tools/README.md`.

#[path = "jsc/common.rs"]
mod common;
#[path = "jsc/snapshot_file.rs"]
mod snapshot_file;
#[path = "jsc/s2.rs"]
mod s2;
#[path = "jsc/meta_snapshot.rs"]
mod meta_snapshot;
