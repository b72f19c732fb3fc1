//! Integration tests for the JetStream cluster meta port: snapshot files,
//! S2 interoperability with Go's library, meta snapshots and real
//! nats-server fixtures (meta snapshots, and raft logs recovered with
//! `meta_recover`). Fixtures live in `tests/fixtures/`; how each was
//! produced is described in `ported/tools/README.md`.

#[path = "jsc/common.rs"]
mod common;
#[path = "jsc/snapshot_file.rs"]
mod snapshot_file;
#[path = "jsc/s2.rs"]
mod s2;
#[path = "jsc/meta_snapshot.rs"]
mod meta_snapshot;
#[path = "jsc/meta_recover.rs"]
mod meta_recover;
#[path = "jsc/meta_recover_cli.rs"]
mod meta_recover_cli;
#[path = "jsc/meta_wal_roundtrip.rs"]
mod meta_wal_roundtrip;
#[path = "jsc/stream_recover.rs"]
mod stream_recover;
#[path = "jsc/go_vectors.rs"]
mod go_vectors;
