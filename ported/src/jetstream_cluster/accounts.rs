//! An account's JetStream as the cluster layer reaches it: upstream's
//! `jsAccount` (found through `Account.js`) reduced to the account's name
//! and the JetStream it belongs to, and the account-side accessors of
//! batch 32 (`getJetStreamFromAccount`, `jsAccount.streamAssigned`,
//! `Account.JetStreamIsStreamLeader`, `Account.JetStreamIsConsumerLeader`).
//!
//! Accounts here are names on a server ([`ServerEnv::lookup_account`]), and
//! an account has JetStream when its name is in the server's
//! [`JetStreamCtx::accounts`] (upstream's `js.accounts`, which
//! `Account.EnableJetStream` fills and `a.js` points into). What enabling
//! sets up upstream besides (limits, usage tracking, store directories,
//! the streams it recovers) is not modelled.

use std::rc::{Rc, Weak};

use super::cluster::JetStreamCluster;
use super::js::JetStreamCtx;
use super::server::ServerEnv;

/// One account's JetStream (Go: `jsAccount`, the fields the cluster layer
/// reads).
#[derive(Debug)]
pub struct JsAccount {
    /// The account (Go: `jsa.account`).
    pub account: String,
    /// The JetStream it is enabled in (Go: `jsa.js`); gone once that
    /// JetStream is.
    js: Weak<JetStreamCtx>,
}

impl JetStreamCtx {
    /// Registers JetStream for `account` (upstream: the `js.accounts` entry
    /// `Account.EnableJetStream` adds, which `a.js` then points to), or
    /// returns the registration it already has.
    pub fn enable_account(self: &Rc<Self>, account: &str) -> Rc<JsAccount> {
        let mut accounts = self.accounts.borrow_mut();
        accounts.entry(account.to_string()).or_insert_with(|| Rc::new(JsAccount { account: account.to_string(), js: Rc::downgrade(self) })).clone()
    }
}

impl JsAccount {
    /// The JetStream the account is enabled in, while it exists.
    pub fn js(&self) -> Option<Rc<JetStreamCtx>> {
        self.js.upgrade()
    }

    /// Port of (*jsAccount).streamAssigned
    ///
    /// Whether this server is in the group of the account's stream; false
    /// once the account's JetStream is gone, true when not clustered.
    pub fn stream_assigned(&self, stream: &str) -> bool {
        let Some(js) = self.js() else { return false };
        let st = js.st.borrow();
        JetStreamCluster::is_stream_assigned(st.cluster.as_ref(), &self.account, stream)
    }
}

/// What [`get_jet_stream_from_account`](dyn ServerEnv::get_jet_stream_from_account)
/// returns: the server, its JetStream and the account's registration.
pub type AccountJetStream = (Rc<dyn ServerEnv>, Rc<JetStreamCtx>, Rc<JsAccount>);

impl dyn ServerEnv + '_ {
    /// Port of (*Account).getJetStreamFromAccount
    ///
    /// The account's JetStream registration, the JetStream it points to and
    /// that JetStream's server; `None` when the account does not exist here
    /// (upstream's receiver is the `*Account`), has no JetStream, or its
    /// JetStream is gone.
    pub fn get_jet_stream_from_account(&self, account: &str) -> Option<AccountJetStream> {
        if !self.lookup_account(account) {
            return None;
        }
        let jsa = self.jet_stream()?.accounts.borrow().get(account).cloned()?;
        let js = jsa.js()?;
        Some((js.server(), js, jsa))
    }

    /// Port of (*Account).JetStreamIsStreamLeader
    ///
    /// Unlike the server's `JetStreamIsStreamLeader`, a JetStream that is
    /// not clustered answers true (the cluster predicate's non-clustered
    /// answer).
    pub fn account_jet_stream_is_stream_leader(&self, account: &str, stream: &str) -> bool {
        let Some((_, js, jsa)) = self.get_jet_stream_from_account(account) else { return false };
        let st = js.st.borrow();
        JetStreamCluster::is_stream_leader(st.cluster.as_ref(), &jsa.account, stream)
    }

    /// Port of (*Account).JetStreamIsConsumerLeader
    ///
    /// As [`account_jet_stream_is_stream_leader`](Self::account_jet_stream_is_stream_leader),
    /// for a consumer of the account's stream.
    pub fn account_jet_stream_is_consumer_leader(&self, account: &str, stream: &str, consumer: &str) -> bool {
        let Some((_, js, jsa)) = self.get_jet_stream_from_account(account) else { return false };
        let st = js.st.borrow();
        JetStreamCluster::is_consumer_leader(st.cluster.as_ref(), &jsa.account, stream, consumer)
    }
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
