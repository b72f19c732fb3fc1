//! Applying committed meta-group entries (`applyMetaEntries`): catch-up
//! markers, snapshots, peer additions and removals, and the stream and
//! consumer assignment ops, either staged for the end of a replay or run
//! through the `process*` handlers.

use serde::Serialize;

use super::errors::ApiError;
use super::js::JetStreamCtx;
use super::meta_snapshot::{MetaAction, MetaSnapshotError};
use super::node::{Entry, EntryType};
use super::ops::{decode_meta_op, MetaOp, OpError};
use super::recovery::RecoveryUpdates;
use super::JetStream;

/// Go: `JSApiMetaServerRemoveResponseType`.
pub const JS_API_META_SERVER_REMOVE_RESPONSE_TYPE: &str = "io.nats.jetstream.api.v1.meta_server_remove_response";

/// Why a batch of meta entries could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A snapshot entry did not decode.
    #[error("{0}")]
    Snapshot(#[from] MetaSnapshotError),
    /// A normal entry is not a meta op that decodes. Upstream returns the
    /// decode errors and panics on an unknown op type; here both are errors.
    #[error("JetStream cluster failed to decode meta entry: {0}")]
    Op(#[from] OpError),
}

/// Go: `JSApiMetaServerRemoveResponse`.
#[derive(Debug, Serialize)]
struct ServerRemoveResponse {
    #[serde(rename = "type")]
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ApiError>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    success: bool,
}

impl JetStreamCtx {
    /// Port of (*jetStream).applyMetaEntries
    ///
    /// Applies one committed batch. With `ru` (a replay in progress) stream
    /// and consumer ops are staged into it instead of run; a catch-up entry
    /// switches to recovering and ends the batch. Returns (recovering after
    /// this batch, whether a snapshot was applied, the first error). Peer
    /// entries are skipped while the meta layer recovers; the meta leader
    /// answers a pending peer-removal request once the removal applies.
    pub fn apply_meta_entries(&self, entries: &[Entry], mut ru: Option<&mut RecoveryUpdates>) -> (bool, bool, Result<(), ApplyError>) {
        let mut did_snap = false;
        let mut is_recovering = ru.is_some();

        for e in entries {
            match e.typ {
                EntryType::Catchup => {
                    // A catch-up entry is alone in its batch; the staging
                    // starts with the next one.
                    is_recovering = true;
                    return (is_recovering, did_snap, Ok(()));
                }
                EntryType::Snapshot => {
                    if let Err(err) = self.apply_meta_snapshot_entry(&e.data, ru.as_deref_mut(), is_recovering) {
                        return (is_recovering, did_snap, Err(err.into()));
                    }
                    did_snap = true;
                }
                EntryType::RemovePeer => {
                    if !self.is_meta_recovering() {
                        let peer = String::from_utf8_lossy(&e.data).into_owned();
                        self.process_remove_peer(&peer);
                        // A quorum has the removal in its log: answer the request.
                        if self.srv.jet_stream_is_leader() {
                            self.reply_peer_removed(&peer);
                        }
                    }
                }
                EntryType::AddPeer => {
                    if !self.is_meta_recovering() {
                        self.process_add_peer(&String::from_utf8_lossy(&e.data));
                    }
                }
                _ => {
                    let op = match decode_meta_op(&e.data) {
                        Ok(op) => op,
                        Err(err) => {
                            self.srv.log(
                                crate::raft::env::LogLevel::Error,
                                &format!("JetStream cluster failed to decode meta entry: {:?}", String::from_utf8_lossy(e.data.get(1..).unwrap_or(&[]))),
                            );
                            return (is_recovering, did_snap, Err(err.into()));
                        }
                    };
                    match (op, ru.as_deref_mut().filter(|_| is_recovering)) {
                        (MetaOp::AssignStream(mut sa), Some(ru)) => {
                            JetStream::set_stream_assignment_recovering(&mut sa);
                            ru.add_stream(sa);
                        }
                        (MetaOp::AssignStream(sa), None) => self.process_stream_assignment(sa),
                        (MetaOp::RemoveStream(mut sa), Some(ru)) => {
                            JetStream::set_stream_assignment_recovering(&mut sa);
                            ru.remove_stream(sa);
                        }
                        (MetaOp::RemoveStream(sa), None) => self.process_stream_removal(sa),
                        (MetaOp::AssignConsumer(mut ca) | MetaOp::AssignCompressedConsumer(mut ca), Some(ru)) => {
                            JetStream::set_consumer_assignment_recovering(&mut ca);
                            ru.add_or_update_consumer(ca);
                        }
                        (MetaOp::AssignConsumer(ca) | MetaOp::AssignCompressedConsumer(ca), None) => self.process_consumer_assignment(ca),
                        (MetaOp::RemoveConsumer(mut ca), Some(ru)) => {
                            JetStream::set_consumer_assignment_recovering(&mut ca);
                            ru.remove_consumer(ca);
                        }
                        (MetaOp::RemoveConsumer(ca), None) => self.process_consumer_removal(ca),
                        (MetaOp::UpdateStream(mut sa), Some(ru)) => {
                            JetStream::set_stream_assignment_recovering(&mut sa);
                            ru.update_stream(sa);
                        }
                        (MetaOp::UpdateStream(sa), None) => self.process_update_stream_assignment(sa),
                    }
                }
            }
        }
        (is_recovering, did_snap, Ok(()))
    }

    /// The staged changes of a replay, applied at its end as
    /// `monitorCluster` does: consumer removals, stream removals, stream
    /// adds, stream updates, then consumer adds and updates. Within each
    /// group the order is by recovery key where upstream ranges over a map.
    pub fn process_recovery_updates(&self, ru: RecoveryUpdates) {
        for ca in ru.remove_consumers.into_values().flat_map(|m| m.into_values()) {
            self.process_consumer_removal(ca);
        }
        for sa in ru.remove_streams.into_values() {
            self.process_stream_removal(sa);
        }
        for sa in ru.add_streams.into_values() {
            self.process_stream_assignment(sa);
        }
        for sa in ru.update_streams.into_values() {
            self.process_update_stream_assignment(sa);
        }
        for ca in ru.update_consumers.into_values().flat_map(|m| m.into_values()) {
            self.process_consumer_assignment(ca);
        }
    }

    // The snapshot arm: diff against our assignments, then stage (recovering)
    // or run the handlers in upstream's order. Recovering with no staging
    // area (upstream would dereference a nil one) stages into a scratch set.
    fn apply_meta_snapshot_entry(&self, buf: &[u8], ru: Option<&mut RecoveryUpdates>, is_recovering: bool) -> Result<(), MetaSnapshotError> {
        let mut scratch = RecoveryUpdates::new();
        let ru = ru.unwrap_or(&mut scratch);
        let actions = self.st.borrow().apply_meta_snapshot(buf, ru, is_recovering)?;
        for a in actions {
            match a {
                MetaAction::RemoveStream(sa) => self.process_stream_removal(sa),
                MetaAction::AddStream(sa) => self.process_stream_assignment(sa),
                MetaAction::UpdateStream(sa) => self.process_update_stream_assignment(sa),
                MetaAction::RemoveConsumer(ca) => self.process_consumer_removal(ca),
                MetaAction::AddConsumer(ca) => self.process_consumer_assignment(ca),
            }
        }
        Ok(())
    }

    // The meta leader's answer to a peer-removal request once it applied.
    fn reply_peer_removed(&self, peer: &str) {
        let info = {
            let mut st = self.st.borrow_mut();
            let Some(cc) = st.cluster.as_mut() else { return };
            cc.peer_remove_reply.remove(peer)
        };
        let Some(info) = info.filter(|i| !i.reply.is_empty()) else { return };
        let Some(sys) = self.srv.system_account() else { return };
        let resp = ServerRemoveResponse { typ: JS_API_META_SERVER_REMOVE_RESPONSE_TYPE, error: None, success: true };
        match crate::go_json::to_string(&resp) {
            Ok(json) => self.send_api_response(info.ci.as_ref(), &sys, &info.subject, &info.reply, &info.request, &json),
            Err(e) => self.srv.log(crate::raft::env::LogLevel::Warn, &format!("peer-remove response: {e}")),
        }
    }

    /// Port of (*Server).sendAPIResponse
    ///
    /// Sends `response` to `reply`. Upstream sends from the system client
    /// and the service import's reply mapping carries it back to the
    /// requester's account; the simulated bus has no service imports, so
    /// the answer is published in `acc`, the requester's account (the
    /// system account for system requests). The API audit advisory
    /// upstream also publishes is not ported.
    pub fn send_api_response(&self, _ci: Option<&super::ClientInfo>, acc: &str, _subject: &str, reply: &str, _request: &str, response: &str) {
        if !reply.is_empty() {
            self.srv.send_internal_account_msg(acc, reply, "", &[], response.as_bytes());
        }
    }

    /// Port of (*Server).sendAPIErrResponse
    ///
    /// As [`JetStreamCtx::send_api_response`]; upstream also counts the error
    /// for the account, which has no API statistics here.
    pub fn send_api_err_response(&self, ci: Option<&super::ClientInfo>, acc: &str, subject: &str, reply: &str, request: &str, response: &str) {
        self.send_api_response(ci, acc, subject, reply, request, response);
    }
}


#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
