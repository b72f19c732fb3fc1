//! The handlers `applyMetaEntries` runs for each applied stream and consumer
//! op (`processStreamAssignment`, `processUpdateStreamAssignment`,
//! `processStreamRemoval`, `processConsumerAssignment`,
//! `processConsumerRemoval`).
//!
//! Each keeps the meta-level bookkeeping exactly as upstream does (the
//! assignment maps, private state carried over from the assignment it
//! replaces, in-flight proposals, the missing-sync-subject check, the
//! "account not found" result sent to the meta leader) and then hands the
//! stream work to the [`super::runtime::StreamRuntime`], which the stream
//! layer will implement. Two upstream steps are not here: the info
//! responder of an unsupported asset (`setupInfoSub`/`closeInfoSub`, batch
//! 32, deferred) and `newUnsupportedStreamAssignment` for a stream whose
//! consumer is unsupported (also deferred; the consumer's own reason is
//! carried to the stream instead).

use serde::Serialize;

use crate::raft::env::LogLevel;

use super::assignments::{ConsumerAssignment, GoTime, RaftGroup, StreamAssignment, UnsupportedAssignment};
use super::cluster::JetStreamCluster;
use super::errors::ApiError;
use super::js::JetStreamCtx;
use super::stream_api::{JsApiStreamCreateResponse, StreamAssignmentResult};

/// Where members report assignment results to the meta leader.
pub const STREAM_ASSIGNMENT_SUBJ: &str = "$SYS.JSC.STREAM.ASSIGNMENT.RESULT";
/// Where members report consumer assignment results to the meta leader.
pub const CONSUMER_ASSIGNMENT_SUBJ: &str = "$SYS.JSC.CONSUMER.ASSIGNMENT.RESULT";
/// Go: `JSApiStreamCreateResponseType`.
pub const JS_API_STREAM_CREATE_RESPONSE_TYPE: &str = "io.nats.jetstream.api.v1.stream_create_response";
/// Go: `JSApiConsumerCreateResponseType`.
pub const JS_API_CONSUMER_CREATE_RESPONSE_TYPE: &str = "io.nats.jetstream.api.v1.consumer_create_response";

/// A consumer create response carrying only its type and an error (what
/// the consumer handler sends when the account is missing; the consumer
/// runtime, and with it the full `JSApiConsumerCreateResponse`, is batch
/// 34's).
#[derive(Debug, Clone, Serialize)]
struct ErrorResponse {
    #[serde(rename = "type")]
    typ: &'static str,
    error: ApiError,
}

/// Go: `consumerAssignmentResult` as sent on a failed account lookup.
#[derive(Debug, Clone, Serialize)]
struct ConsumerAssignmentResult<'a> {
    account: &'a str,
    stream: &'a str,
    consumer: &'a str,
    response: ErrorResponse,
}

/// Go: `NewJSNoAccountError` (10035).
fn no_account_error() -> ApiError {
    ApiError { code: 503, err_code: 10035, description: "account not found".into() }
}

/// Whether `created` is set and a runtime asset created at `running` is not
/// newer than it (Go: `!created.IsZero()` and `!createdTime().After(created)`).
fn created_not_after(created: &GoTime, running: i64) -> Option<bool> {
    let c = created.unix_nanos()?;
    Some(running <= c)
}

impl JetStreamCtx {
    fn warnf(&self, msg: &str) {
        self.srv.log(LogLevel::Warn, msg);
    }

    fn debugf(&self, msg: &str) {
        self.srv.log(LogLevel::Debug, msg);
    }

    /// Port of (*jetStream).processStreamAssignment
    ///
    /// Records the assignment (carrying over the node, consumers, responded
    /// flag and error of the one it replaces), clears its in-flight
    /// proposal, then creates the stream here if we are a member or removes
    /// our copy if we are not. An unsupported assignment stops the stream
    /// instead.
    pub fn process_stream_assignment(&self, mut sa: StreamAssignment) {
        let acc_name = sa.account().to_string();
        let stream = sa.name().to_string();
        let (is_member, has_responded) = {
            let mut st = self.st.borrow_mut();
            let Some(cc) = st.cluster.as_mut() else { return };
            let Some(meta) = cc.meta.as_ref() else { return };
            let our_id = meta.id();
            let is_member = sa.group.is_some() && !our_id.is_empty() && RaftGroup::is_member(sa.group.as_ref(), &our_id);

            cc.remove_inflight_stream_proposal(&acc_name, &stream);
            let acc_streams = cc.streams.entry(acc_name.clone()).or_default();
            if let Some(osa) = acc_streams.get(&stream) {
                if let (Some(g), Some(og)) = (sa.group.as_mut(), osa.group.as_ref()) {
                    g.node = og.node.clone();
                }
                sa.consumers = osa.consumers.clone();
                sa.responded = osa.responded;
                sa.err = osa.err.clone();
                // Unsupported once stays unsupported for this process.
                if osa.unsupported.is_some() && sa.unsupported.is_none() {
                    sa.unsupported = osa.unsupported.clone();
                }
            }
            acc_streams.insert(stream.clone(), sa.clone());
            (is_member, sa.responded)
        };

        if let Some(u) = &sa.unsupported {
            self.warnf(&format!("Detected unsupported stream '{acc_name} > {stream}': {}", u.reason));
            self.stop_unsupported_stream(&acc_name, &stream, is_member);
            return;
        }

        if let Err(err) = self.srv.lookup_or_fetch_account(&acc_name, is_member) {
            let ll = format!("Account [{acc_name}] lookup for stream create failed: {err}");
            if is_member {
                if !has_responded {
                    let result = StreamAssignmentResult {
                        account: acc_name.clone(),
                        stream: stream.clone(),
                        response: Some(JsApiStreamCreateResponse::new(Some(no_account_error()))),
                        update: false,
                    };
                    self.send_json(STREAM_ASSIGNMENT_SUBJ, &result);
                }
                self.warnf(&ll);
            } else {
                self.debugf(&ll);
            }
            return;
        }

        if is_member {
            self.runtime.process_cluster_create_stream(self, &acc_name, &sa);
        } else if self.runtime.lookup_stream(&acc_name, &stream).is_some() {
            self.runtime.remove_stream(self, &acc_name, &stream, &sa);
        }

        // A bug once left assignments without a sync subject; the next meta
        // leader repairs them.
        if sa.sync.is_empty() {
            if let Some(cc) = self.st.borrow_mut().cluster.as_mut() {
                cc.streams_check = true;
            }
        }
    }

    /// Port of (*jetStream).processUpdateStreamAssignment
    ///
    /// Replaces a known assignment (keeping node, consumers and error),
    /// clears its in-flight proposal and forgets the group node when scaled
    /// down to R1 or when we are no longer a member; members update the
    /// stream, non-members drop their copy.
    pub fn process_update_stream_assignment(&self, mut sa: StreamAssignment) {
        let acc_name = sa.account().to_string();
        let stream = sa.name().to_string();
        let (is_member, osa) = {
            let mut st = self.st.borrow_mut();
            let Some(cc) = st.cluster.as_mut() else { return };
            let Some(our_id) = cc.meta.as_ref().map(|m| m.id()) else { return };
            cc.remove_inflight_stream_proposal(&acc_name, &stream);
            let is_member = sa.group.is_some() && RaftGroup::is_member(sa.group.as_ref(), &our_id);
            let Some(acc_streams) = cc.streams.get_mut(&acc_name) else { return };
            let Some(osa) = acc_streams.get(&stream).cloned() else { return };

            if let (Some(g), Some(og)) = (sa.group.as_mut(), osa.group.as_ref()) {
                g.node = og.node.clone();
            }
            sa.consumers = osa.consumers.clone();
            sa.err = osa.err.clone();
            let replicas = sa.config.as_ref().map_or(0, |c| c.replicas);
            if replicas == 1 {
                if let Some(g) = sa.group.as_mut() {
                    g.node = None;
                }
            }
            if is_member {
                sa.responded = false;
            } else if let Some(g) = sa.group.as_mut() {
                // The stream may move back here later; never with this node.
                g.node = None;
            }
            if osa.unsupported.is_some() && sa.unsupported.is_none() {
                sa.unsupported = osa.unsupported.clone();
            }
            acc_streams.insert(stream.clone(), sa.clone());
            (is_member, osa)
        };

        if let Some(u) = &sa.unsupported {
            self.warnf(&format!("Detected unsupported stream '{acc_name} > {stream}': {}", u.reason));
            self.stop_unsupported_stream(&acc_name, &stream, is_member);
            return;
        }

        if let Err(err) = self.srv.lookup_or_fetch_account(&acc_name, is_member) {
            let ll = format!("Update Stream Account {acc_name}, error on lookup: {err}");
            if is_member {
                self.warnf(&ll);
            } else {
                self.debugf(&ll);
            }
            return;
        }

        if is_member {
            self.runtime.process_cluster_update_stream(self, &acc_name, &osa, &sa);
        } else if self.runtime.lookup_stream(&acc_name, &stream).is_some() {
            self.runtime.remove_stream(self, &acc_name, &stream, &sa);
        }
    }

    // The unsupported branch shared by the stream handlers: stop the running
    // stream, which cannot keep going with a config it does not understand.
    fn stop_unsupported_stream(&self, acc_name: &str, stream: &str, is_member: bool) {
        if self.srv.lookup_or_fetch_account(acc_name, is_member).is_err() {
            return;
        }
        match self.runtime.lookup_stream(acc_name, stream) {
            Some(mset) if !mset.closed => {
                self.warnf(&format!("Stopping unsupported stream '{acc_name} > {stream}'"));
                self.runtime.stop_stream(self, acc_name, stream);
            }
            _ => {}
        }
    }

    /// Port of (*jetStream).processStreamRemoval
    ///
    /// Forgets the assignment and its in-flight proposal, then deletes the
    /// stream. During start-up recovery the assignment may never have been
    /// registered while the stream was recovered from disk: then it is
    /// deleted only if it was not created after this removal.
    pub fn process_stream_removal(&self, mut sa: StreamAssignment) {
        let acc_name = sa.account().to_string();
        let stream = sa.name().to_string();
        let (is_member, was_leader, mut need_delete) = {
            let mut st = self.st.borrow_mut();
            let Some(cc) = st.cluster.as_mut() else { return };
            let Some(meta) = cc.meta.as_ref() else { return };
            let is_member = sa.group.is_some() && RaftGroup::is_member(sa.group.as_ref(), &meta.id());
            let was_leader = JetStreamCluster::is_stream_leader(Some(cc), &acc_name, &stream);
            let mut need_delete = false;
            if let Some(acc_streams) = cc.streams.get_mut(&acc_name) {
                if let Some(osa) = acc_streams.remove(&stream) {
                    need_delete = true;
                    // Remembered so a delete of an unsupported stream succeeds.
                    if osa.unsupported.is_some() && sa.unsupported.is_none() { // porttrack: allow(mutant) `||` differs only when both carry a reason, and a removal reads only whether there is one (upstream too)
                        sa.unsupported = osa.unsupported;
                    }
                }
                if acc_streams.is_empty() {
                    cc.streams.remove(&acc_name);
                }
            }
            cc.remove_inflight_stream_proposal(&acc_name, &stream);
            (is_member, was_leader, need_delete)
        };

        if !need_delete && !sa.created.is_zero() {
            if self.srv.lookup_or_fetch_account(&acc_name, is_member).is_ok() {
                if let Some(mset) = self.runtime.lookup_stream(&acc_name, &stream) {
                    need_delete = created_not_after(&sa.created, mset.created_unix_nanos).unwrap_or(false);
                }
            }
        }

        if need_delete {
            self.runtime.process_cluster_delete_stream(self, &sa, is_member, was_leader);
        }
    }

    /// Port of (*jetStream).processConsumerAssignment
    ///
    /// Records the consumer under its stream's assignment (carrying over
    /// node, responded flag and error), takes the optional restore state
    /// out of it, clears its in-flight proposal, then creates the consumer
    /// if we are a member or removes our copy if not. A consumer whose stream
    /// is unknown is ignored; an unsupported one stops its whole stream.
    pub fn process_consumer_assignment(&self, mut ca: ConsumerAssignment) {
        if self.is_shutting_down() {
            return;
        }
        let acc_name = ca.account().to_string();
        let stream = ca.stream.clone();
        let consumer = ca.name.clone();
        let (is_member, oca, state, stream_name) = {
            let mut st = self.st.borrow_mut();
            let Some(cc) = st.cluster.as_mut() else { return };
            let Some(meta) = cc.meta.as_ref() else { return };
            let our_id = meta.id();
            let is_member = ca.group.is_some() && !our_id.is_empty() && RaftGroup::is_member(ca.group.as_ref(), &our_id);

            let Some(sa) = cc.streams.get_mut(&acc_name).and_then(|a| a.get_mut(&stream)) else {
                drop(st);
                self.debugf(&format!("Consumer create failed, could not locate stream '{acc_name} > {stream}'"));
                return;
            };
            let oca = sa.consumers.get(&ca.name).cloned();
            if let Some(oca) = &oca {
                if let (Some(g), Some(og)) = (ca.group.as_mut(), oca.group.as_ref()) {
                    g.node = og.node.clone();
                }
                ca.responded = oca.responded;
                ca.err = oca.err.clone();
                if oca.unsupported.is_some() && ca.unsupported.is_none() {
                    ca.unsupported = oca.unsupported.clone();
                }
            }
            // Only a member applies it, when restoring a stream with consumers.
            let state = ca.state.take();
            sa.consumers.insert(ca.name.clone(), ca.clone());
            if let Some(u) = &ca.unsupported {
                // Upstream builds a full unsupported-stream record here
                // (newUnsupportedStreamAssignment, deferred); the reason is kept.
                if sa.unsupported.is_none() {
                    sa.unsupported = Some(UnsupportedAssignment { reason: format!("unsupported consumer {:?}: {}", ca.name, u.reason) });
                }
            }
            let stream_name = sa.name().to_string();
            cc.remove_inflight_consumer_proposal(&acc_name, &stream, &consumer);
            (is_member, oca, state, stream_name)
        };

        if let Some(u) = &ca.unsupported {
            self.warnf(&format!("Detected unsupported consumer '{acc_name} > {stream} > {}': {}", ca.name, u.reason));
            // The whole stream is protected, even if only one consumer is unsupported.
            self.stop_unsupported_stream(&acc_name, &stream, is_member);
            return;
        }

        if let Err(err) = self.srv.lookup_or_fetch_account(&acc_name, is_member) {
            let ll = format!("Account [{acc_name}] lookup for consumer create failed: {err}");
            if is_member {
                if !self.is_meta_recovering() {
                    let result = ConsumerAssignmentResult {
                        account: &acc_name,
                        stream: &stream,
                        consumer: &consumer,
                        response: ErrorResponse { typ: JS_API_CONSUMER_CREATE_RESPONSE_TYPE, error: no_account_error() },
                    };
                    self.send_json(CONSUMER_ASSIGNMENT_SUBJ, &result);
                }
                self.warnf(&ll);
            } else {
                self.debugf(&ll);
            }
            return;
        }

        if is_member {
            let was_existing = oca.is_some();
            self.runtime.process_cluster_create_consumer(self, oca.as_ref(), &ca, state.as_deref(), was_existing);
        } else if self.runtime.lookup_stream(&acc_name, &stream_name).is_some()
            && self.runtime.lookup_consumer(&acc_name, &stream_name, &ca.name).is_some()
        {
            self.runtime.remove_consumer(self, &acc_name, &stream_name, &ca.name, &ca);
        }
    }

    /// Port of (*jetStream).processConsumerRemoval
    ///
    /// Forgets the consumer if the removal is for the raft group we have
    /// (a recreated consumer in a new group is kept), clears its in-flight
    /// proposal and deletes it; during start-up recovery, a consumer
    /// recovered from disk is deleted only if not created after this removal.
    pub fn process_consumer_removal(&self, mut ca: ConsumerAssignment) {
        let acc_name = ca.account().to_string();
        let stream = ca.stream.clone();
        let name = ca.name.clone();
        let (was_leader, mut need_delete) = {
            let mut st = self.st.borrow_mut();
            let Some(cc) = st.cluster.as_mut() else { return };
            if cc.meta.is_none() {
                return;
            }
            let was_leader = JetStreamCluster::is_consumer_leader(Some(cc), &acc_name, &stream, &name);
            let mut need_delete = false;
            if let Some(sa) = cc.streams.get_mut(&acc_name).and_then(|a| a.get_mut(&stream)) {
                let same_group = match (sa.consumers.get(&name), ca.group.as_ref()) {
                    (Some(oca), Some(g)) => oca.group.as_ref().is_some_and(|og| og.name == g.name),
                    _ => false,
                };
                if same_group {
                    need_delete = true;
                    if let Some(oca) = sa.consumers.remove(&name) {
                        if ca.unsupported.is_none() {
                            ca.unsupported = oca.unsupported;
                        }
                    }
                }
            }
            cc.remove_inflight_consumer_proposal(&acc_name, &stream, &name);
            (was_leader, need_delete)
        };

        if !need_delete && !ca.created.is_zero() {
            if self.srv.lookup_account(&acc_name) {
                if let Some(o) = self.runtime.lookup_stream(&acc_name, &stream).and(self.runtime.lookup_consumer(&acc_name, &stream, &name)) {
                    need_delete = created_not_after(&ca.created, o.created_unix_nanos).unwrap_or(false);
                }
            }
        }

        if need_delete {
            self.runtime.process_cluster_delete_consumer(self, &ca, was_leader);
        }
    }

    fn send_json(&self, subject: &str, v: &impl Serialize) {
        match crate::go_json::to_vec(v) {
            Ok(b) => self.srv.send_internal_msg(subject, "", &[], &b),
            Err(e) => self.warnf(&format!("Could not encode message for {subject}: {e}")),
        }
    }
}


#[cfg(test)]
#[path = "handlers_tests.rs"]
mod tests;
