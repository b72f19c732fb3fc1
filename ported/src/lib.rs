//! A Rust port of nats-server's raft (`server/raft.go`) and of batch 33 of
//! `server/jetstream_cluster.go`, at nats-server commit 8188ea93a.

pub mod filestore;
pub mod go_json;
pub mod peer_state;
pub mod raft;
pub mod raft_log;
pub mod stream_recover;
pub mod sim;
pub mod snapshot_file;
pub mod store;
pub mod s2;
pub mod jetstream_cluster;
