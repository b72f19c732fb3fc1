//! A stream runtime for the simulator that keeps only what the meta layer
//! can observe: which streams and consumers this server runs, when each was
//! created, and every call the meta layer made. It stands in for the stream
//! layer (the next issue) so the meta layer's dispatch can be checked: a
//! member is told to create, a non-member to remove, a removal deletes.
//! Its state survives restarts like a server's stream directories do.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::value::RawValue;

use crate::jetstream_cluster::assignments::{ConsumerAssignment, StreamAssignment};
use crate::jetstream_cluster::cluster::StreamMap;
use crate::jetstream_cluster::js::JetStreamCtx;
use crate::jetstream_cluster::runtime::{Orphans, RunningAsset, StreamRuntime};
use crate::sim::world::World;

use super::server::EPOCH_UNIX_NANOS;

/// One call the meta layer made into the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeCall {
    CreateStream { acc: String, stream: String },
    UpdateStream { acc: String, stream: String },
    DeleteStream { acc: String, stream: String, is_member: bool, was_leader: bool },
    RemoveStream { acc: String, stream: String },
    StopStream { acc: String, stream: String },
    CreateConsumer { acc: String, stream: String, consumer: String, was_existing: bool },
    DeleteConsumer { acc: String, stream: String, consumer: String, was_leader: bool },
    RemoveConsumer { acc: String, stream: String, consumer: String },
    DeleteOrphanStream { acc: String, stream: String },
    DeleteOrphanConsumer { acc: String, stream: String, consumer: String },
}

/// Streams and consumers a simulated server runs, and the calls made.
#[derive(Debug)]
pub struct RecordingRuntime {
    world: Rc<World>,
    /// (account, stream) → the running stream.
    pub streams: RefCell<BTreeMap<(String, String), RunningAsset>>,
    /// (account, stream, consumer) → the running consumer.
    pub consumers: RefCell<BTreeMap<(String, String, String), RunningAsset>>,
    /// Every call, in order.
    pub calls: RefCell<Vec<RuntimeCall>>,
}

impl RecordingRuntime {
    /// An empty runtime on `world`'s clock.
    pub fn new(world: Rc<World>) -> Rc<Self> {
        Rc::new(RecordingRuntime { world, streams: RefCell::default(), consumers: RefCell::default(), calls: RefCell::default() })
    }

    fn now_unix(&self) -> i64 {
        EPOCH_UNIX_NANOS + self.world.now.get() as i64
    }

    fn record(&self, c: RuntimeCall) {
        self.calls.borrow_mut().push(c);
    }

    // Upstream stamps a stream or consumer with its assignment's creation
    // time (`mset.created = sa.Created`), the clock when there is none.
    fn running(&self, created: &crate::jetstream_cluster::assignments::GoTime) -> RunningAsset {
        RunningAsset { created_unix_nanos: created.unix_nanos().unwrap_or_else(|| self.now_unix()), closed: false }
    }

    fn drop_stream(&self, acc: &str, stream: &str) {
        self.streams.borrow_mut().remove(&(acc.to_string(), stream.to_string()));
        self.consumers.borrow_mut().retain(|(a, s, _), _| !(a == acc && s == stream));
    }

    /// Streams this server runs, as (account, stream).
    pub fn running_streams(&self) -> Vec<(String, String)> {
        self.streams.borrow().keys().cloned().collect()
    }
}

impl StreamRuntime for RecordingRuntime {
    fn process_cluster_create_stream(&self, _: &JetStreamCtx, acc: &str, sa: &StreamAssignment) {
        self.record(RuntimeCall::CreateStream { acc: acc.into(), stream: sa.name().into() });
        let key = (acc.to_string(), sa.name().to_string());
        let running = self.running(&sa.created);
        self.streams.borrow_mut().entry(key).or_insert(running);
    }
    fn process_cluster_update_stream(&self, _: &JetStreamCtx, acc: &str, _osa: &StreamAssignment, sa: &StreamAssignment) {
        self.record(RuntimeCall::UpdateStream { acc: acc.into(), stream: sa.name().into() });
        let key = (acc.to_string(), sa.name().to_string());
        let running = self.running(&sa.created);
        self.streams.borrow_mut().entry(key).or_insert(running);
    }
    fn process_cluster_delete_stream(&self, _: &JetStreamCtx, sa: &StreamAssignment, is_member: bool, was_leader: bool) {
        self.record(RuntimeCall::DeleteStream { acc: sa.account().into(), stream: sa.name().into(), is_member, was_leader });
        self.drop_stream(sa.account(), sa.name());
    }
    fn lookup_stream(&self, acc: &str, stream: &str) -> Option<RunningAsset> {
        self.streams.borrow().get(&(acc.to_string(), stream.to_string())).copied()
    }
    fn remove_stream(&self, _: &JetStreamCtx, acc: &str, stream: &str, _nsa: &StreamAssignment) {
        self.record(RuntimeCall::RemoveStream { acc: acc.into(), stream: stream.into() });
        self.drop_stream(acc, stream);
    }
    fn stop_stream(&self, _: &JetStreamCtx, acc: &str, stream: &str) {
        self.record(RuntimeCall::StopStream { acc: acc.into(), stream: stream.into() });
        if let Some(s) = self.streams.borrow_mut().get_mut(&(acc.to_string(), stream.to_string())) {
            s.closed = true;
        }
    }
    fn process_cluster_create_consumer(&self, _: &JetStreamCtx, _oca: Option<&ConsumerAssignment>, ca: &ConsumerAssignment, _: Option<&RawValue>, was_existing: bool) {
        let acc = ca.account().to_string();
        self.record(RuntimeCall::CreateConsumer { acc: acc.clone(), stream: ca.stream.clone(), consumer: ca.name.clone(), was_existing });
        let running = self.running(&ca.created);
        self.consumers.borrow_mut().entry((acc, ca.stream.clone(), ca.name.clone())).or_insert(running);
    }
    fn process_cluster_delete_consumer(&self, _: &JetStreamCtx, ca: &ConsumerAssignment, was_leader: bool) {
        let acc = ca.account().to_string();
        self.record(RuntimeCall::DeleteConsumer { acc: acc.clone(), stream: ca.stream.clone(), consumer: ca.name.clone(), was_leader });
        self.consumers.borrow_mut().remove(&(acc, ca.stream.clone(), ca.name.clone()));
    }
    fn lookup_consumer(&self, acc: &str, stream: &str, consumer: &str) -> Option<RunningAsset> {
        self.consumers.borrow().get(&(acc.to_string(), stream.to_string(), consumer.to_string())).copied()
    }
    fn remove_consumer(&self, _: &JetStreamCtx, acc: &str, stream: &str, consumer: &str, _nca: &ConsumerAssignment) {
        self.record(RuntimeCall::RemoveConsumer { acc: acc.into(), stream: stream.into(), consumer: consumer.into() });
        self.consumers.borrow_mut().remove(&(acc.to_string(), stream.to_string(), consumer.to_string()));
    }
    fn get_orphans(&self, streams: &StreamMap) -> Orphans {
        let mut o = Orphans::default();
        for (acc, stream) in self.streams.borrow().keys() {
            match streams.get(acc).and_then(|a| a.get(stream)) {
                None => o.streams.push((acc.clone(), stream.clone())),
                Some(sa) => {
                    for (a, s, c) in self.consumers.borrow().keys() {
                        if a == acc && s == stream && !sa.consumers.contains_key(c) {
                            // Durability is the consumer's config, which this runtime does not keep.
                            o.consumers.push((a.clone(), s.clone(), c.clone(), false));
                        }
                    }
                }
            }
        }
        o
    }
    fn delete_stream(&self, _: &JetStreamCtx, acc: &str, stream: &str) -> Result<(), String> {
        self.record(RuntimeCall::DeleteOrphanStream { acc: acc.into(), stream: stream.into() });
        self.drop_stream(acc, stream);
        Ok(())
    }
    fn delete_consumer(&self, _: &JetStreamCtx, acc: &str, stream: &str, consumer: &str) -> Result<(), String> {
        self.record(RuntimeCall::DeleteOrphanConsumer { acc: acc.into(), stream: stream.into(), consumer: consumer.into() });
        self.consumers.borrow_mut().remove(&(acc.to_string(), stream.to_string(), consumer.to_string()));
        Ok(())
    }
}
