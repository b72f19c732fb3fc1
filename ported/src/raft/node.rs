//! The raft node's state (Go: `struct raft`), its construction
//! (`bootstrapRaftNode`, `initRaftNode`, `startRaftNode`), read-only
//! accessors from the `RaftNode` interface, and shutdown.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::peer_state::{ExtensionState, PeerState};
use crate::snapshot_file::{SnapshotCodec, SNAPSHOTS_DIR};

#[cfg(any(test, feature = "testing"))]
use super::config::PlantedBugs;
use super::config::{RaftConfig, RaftTimings};
use super::env::{join, since, ClientId, LogLevel, RaftEnv, Sid, Timestamp};
use super::persist::{read_peer_state, write_peer_state};
use super::wal::{StorageType, Wal, WalError};
use super::wire::{AppendEntry, AppendEntryResponse, Entry, VoteRequest, VoteResponse};
use super::{RaftError, RaftState, ID_LEN, NO_LEADER, NO_VOTE};

/// What upstream's `assert.Unreachable` in setWriteErrLocked says.
pub const WRITE_ERROR_ASSERTION: &str = "Raft encountered write error";

/// A batch of committed entries handed to the upper layer (Go:
/// `CommittedEntry`). The upper layer answers with [`Raft::applied`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedEntry {
    /// Index of the last entry in the batch (0 for the catch-up marker).
    pub index: u64,
    /// Entries to apply.
    pub entries: Vec<Entry>,
}

/// A peer as reported by [`Raft::peers`] (Go: `Peer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Peer id.
    pub id: String,
    /// Whether it is current.
    pub current: bool,
    /// When we last heard from it.
    pub last: Option<Timestamp>,
    /// How far behind it is.
    pub lag: u64,
}

/// Last contact and replicated index of a peer (Go: `lps`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Lps {
    pub(crate) ts: Option<Timestamp>,
    pub(crate) li: u64,
    pub(crate) kp: bool,
}

/// A proposal waiting in the proposal queue (Go: `proposedEntry`).
#[derive(Debug, Clone)]
pub(crate) struct ProposedEntry {
    pub(crate) entry: Entry,
    pub(crate) reply: String,
}

/// Follower-side catch-up bookkeeping (Go: `catchupState`).
#[derive(Debug, Clone)]
pub(crate) struct CatchupState {
    pub(crate) sub: Option<Sid>,
    pub(crate) cterm: u64,
    pub(crate) cindex: u64,
    /// Our last term when the catch-up started. Upstream records it and
    /// never reads it; only the tests' white-box view does.
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    pub(crate) pterm: u64,
    /// Our last index when progress was last seen (first: at the start).
    pub(crate) pindex: u64,
    /// Last progress; `None` is Go's zero time (long ago).
    pub(crate) active: Option<Timestamp>,
    pub(crate) signal: bool,
}

/// What a subscription of ours is for; decides the handler on delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubKind {
    VoteResponse,
    VoteRequest,
    AppendEntryResponse,
    AppendEntry,
    ForwardedProposal,
    ForwardedRemovePeer,
}

/// Which run loop the node is in, with that loop's local state.
#[derive(Debug, Clone)]
pub(crate) enum RunCtx {
    Idle,
    Follower,
    Candidate { votes: BTreeSet<String>, empty_votes: BTreeSet<String> },
    Leader { fsub: Option<Sid>, rpsub: Option<Sid>, hb_next: Timestamp, lq_next: Timestamp },
}

/// A raft node.
pub struct Raft {
    pub(crate) env: Box<dyn RaftEnv>,
    pub(crate) timings: RaftTimings,
    #[cfg(any(test, feature = "testing"))]
    pub(crate) bugs: PlantedBugs,

    pub(crate) created: Timestamp,
    pub(crate) acc_name: String,
    pub(crate) group: String,
    pub(crate) sd: String,
    pub(crate) id: String,

    pub(crate) wal: Box<dyn Wal>,
    pub(crate) wtype: StorageType,
    pub(crate) track: bool,
    pub(crate) bytes: u64,
    pub(crate) werr: Option<RaftError>,

    pub(crate) state: RaftState,
    pub(crate) leader_state: bool,
    pub(crate) leader_since: Option<Timestamp>,
    pub(crate) codec: SnapshotCodec,
    pub(crate) snapfile: String,

    pub(crate) csz: usize,
    pub(crate) qn: usize,
    pub(crate) peers: BTreeMap<String, Lps>,

    pub(crate) removed: BTreeMap<String, Timestamp>,
    pub(crate) acks: BTreeMap<u64, BTreeSet<String>>,
    pub(crate) pae: BTreeMap<u64, AppendEntry>,

    pub(crate) elect: Timestamp,
    pub(crate) etlr: Option<Timestamp>,
    pub(crate) active: Option<Timestamp>,
    pub(crate) llqrt: Option<Timestamp>,
    pub(crate) lsut: Option<Timestamp>,

    pub(crate) term: u64,
    pub(crate) pterm: u64,
    pub(crate) pindex: u64,
    pub(crate) commit: u64,
    pub(crate) processed: u64,
    pub(crate) applied: u64,
    pub(crate) papplied: u64,

    pub(crate) memb_change_index: u64,
    pub(crate) aflr: u64,

    pub(crate) leader: String,
    pub(crate) vote: String,

    pub(crate) has_leader: bool,
    pub(crate) pleader: bool,
    pub(crate) ext_st: ExtensionState,

    pub(crate) psubj: String,
    pub(crate) rpsubj: String,
    pub(crate) vsubj: String,
    pub(crate) vreply: String,
    pub(crate) asubj: String,
    pub(crate) areply: String,

    pub(crate) client: Option<ClientId>,
    pub(crate) aesub: Option<Sid>,
    pub(crate) subs: BTreeMap<Sid, SubKind>,

    pub(crate) wtv: Vec<u8>,
    pub(crate) wps: Vec<u8>,

    pub(crate) catchup: Option<CatchupState>,
    /// Go's `n.progress`: for each peer being caught up, the index-update
    /// queue (by runner id) that `trackResponse` feeds.
    pub(crate) progress: BTreeMap<String, u64>,
    /// The `runCatchup` goroutines, by runner id. A replaced runner keeps
    /// running after `progress` has moved on to its successor.
    pub(crate) catchups: BTreeMap<u64, super::catchup::CatchupRunner>,
    pub(crate) next_catchup_id: u64,

    pub(crate) hcommit: u64,

    pub(crate) prop: VecDeque<ProposedEntry>,
    pub(crate) entry: VecDeque<AppendEntry>,
    pub(crate) resp: VecDeque<AppendEntryResponse>,
    pub(crate) apply: VecDeque<Option<CommittedEntry>>,
    pub(crate) reqs: VecDeque<VoteRequest>,
    pub(crate) votes: VecDeque<VoteResponse>,
    pub(crate) leadc: VecDeque<bool>,

    pub(crate) lxfer: bool,
    pub(crate) maybe_leader: bool,
    pub(crate) paused: bool,
    pub(crate) observer: bool,
    pub(crate) initializing: bool,
    pub(crate) scale_up: bool,
    pub(crate) deleted: bool,
    pub(crate) snapshotting: bool,
    pub(crate) quorum_paused: bool,

    pub(crate) overrun_count: u64,
    /// A health check warned that we are falling behind (Go: `hcbehind`).
    pub(crate) hcbehind: bool,
    pub(crate) assert_failures: Vec<String>,

    pub(crate) run: RunCtx,
    pub(crate) restart_loop: bool,
    pub(crate) hb_pending: bool,
    pub(crate) torn_down: bool,
    /// Events one tick may handle (see [`super::run::TICK_STEP_BUDGET`]).
    pub(crate) tick_budget: u64,
    /// Test builds: each success response sent, as (index acknowledged,
    /// last index stored at that moment), for the simulation's checker.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) acks_sent: Vec<(u64, u64)>,
    /// Test builds: peers this node, finishing a catch-up, proposed to add
    /// back although they were on its removed list (runCatchup's clean-up
    /// does not look at it), for the simulation's checker.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) removed_readded: Vec<String>,
}

impl std::fmt::Debug for Raft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Raft")
            .field("id", &self.id)
            .field("group", &self.group)
            .field("state", &self.state)
            .field("term", &self.term)
            .field("pterm", &self.pterm)
            .field("pindex", &self.pindex)
            .field("commit", &self.commit)
            .field("applied", &self.applied)
            .finish()
    }
}

/// Port of (*Server).bootstrapRaftNode
///
/// Writes the initial peer state into the store directory. Without routes or
/// gateways to count, an unknown peer set is sized at least two.
pub fn bootstrap_raft_node(
    fs: &mut dyn super::env::Fs,
    store: &str,
    known_peers: &[String],
    all_peers_known: bool,
) -> Result<(), RaftError> {
    for p in known_peers {
        if p.len() != ID_LEN {
            return Err(RaftError::IllegalPeer(p.clone()));
        }
    }
    let mut expected = known_peers.len();
    if !all_peers_known && expected < 2 {
        expected = 2;
    }
    fs.create_dir_all(store)?;
    write_peer_state(
        fs,
        store,
        &PeerState {
            known_peers: known_peers.to_vec(),
            cluster_size: expected as u32,
            domain_ext: ExtensionState::UNDETERMINED,
        },
    )
}

impl Raft {
    /// Port of (*Server).initRaftNode
    ///
    /// Builds the node, subscribes, restores term/vote, snapshot and peer
    /// state, and replays the WAL into the apply queue. The run loop is not
    /// started: see [`Raft::start`].
    pub fn init(
        env: Box<dyn RaftEnv>,
        server_id: &str,
        acc_name: &str,
        cfg: RaftConfig,
        timings: RaftTimings,
    ) -> Result<Raft, RaftError> {
        let now = env.now();
        let id: String = server_id.chars().take(ID_LEN).collect();
        let wtype = cfg.log.storage_type();
        let mut n = Raft {
            env,
            timings,
            #[cfg(any(test, feature = "testing"))]
            bugs: cfg.planted_bugs,
            created: now,
            acc_name: acc_name.to_string(),
            group: cfg.name.clone(),
            sd: cfg.store.clone(),
            id,
            wal: cfg.log,
            wtype,
            track: cfg.track,
            bytes: 0,
            werr: None,
            state: RaftState::Follower,
            leader_state: false,
            leader_since: None,
            codec: SnapshotCodec::new(&cfg.name),
            snapfile: String::new(),
            csz: 0,
            qn: 0,
            peers: BTreeMap::new(),
            removed: BTreeMap::new(),
            acks: BTreeMap::new(),
            pae: BTreeMap::new(),
            elect: now,
            etlr: None,
            active: None,
            llqrt: None,
            lsut: None,
            term: 0,
            pterm: 0,
            pindex: 0,
            commit: 0,
            processed: 0,
            applied: 0,
            papplied: 0,
            memb_change_index: 0,
            aflr: 0,
            leader: NO_LEADER.to_string(),
            vote: NO_VOTE.to_string(),
            has_leader: false,
            pleader: false,
            ext_st: ExtensionState::UNDETERMINED,
            psubj: String::new(),
            rpsubj: String::new(),
            vsubj: String::new(),
            vreply: String::new(),
            asubj: String::new(),
            areply: String::new(),
            client: None,
            aesub: None,
            subs: BTreeMap::new(),
            wtv: Vec::new(),
            wps: Vec::new(),
            catchup: None,
            progress: BTreeMap::new(),
            catchups: BTreeMap::new(),
            next_catchup_id: 0,
            hcommit: 0,
            prop: VecDeque::new(),
            entry: VecDeque::new(),
            resp: VecDeque::new(),
            apply: VecDeque::new(),
            reqs: VecDeque::new(),
            votes: VecDeque::new(),
            leadc: VecDeque::new(),
            lxfer: false,
            maybe_leader: false,
            paused: false,
            observer: cfg.observer,
            initializing: false,
            scale_up: false,
            deleted: false,
            snapshotting: false,
            quorum_paused: false,
            overrun_count: 0,
            hcbehind: false,
            assert_failures: Vec::new(),
            run: RunCtx::Idle,
            restart_loop: false,
            hb_pending: false,
            torn_down: false,
            tick_budget: super::run::TICK_STEP_BUDGET,
            #[cfg(any(test, feature = "testing"))]
            acks_sent: Vec::new(),
            #[cfg(any(test, feature = "testing"))]
            removed_readded: Vec::new(),
        };

        // Without its subscriptions the node would be isolated: fatal.
        if let Err(e) = n.recreate_internal_subs() {
            n.shutdown();
            return Err(e);
        }

        if let Ok((term, vote)) = n.read_term_vote() {
            if term > 0 {
                n.term = term;
                n.vote = vote;
            }
        }

        // A memory WAL starts empty, so its snapshots cannot be trusted.
        n.papplied = 0;
        if n.wtype == StorageType::Memory {
            let dir = join(&n.sd, SNAPSHOTS_DIR);
            let _ = n.env.fs().remove_all(&dir);
        } else if let Err(e) = n.setup_last_snapshot() {
            if e != RaftError::NoSnapAvailable {
                n.shutdown();
                return Err(e);
            }
        }

        if n.peers.is_empty() {
            let sd = n.sd.clone();
            let ps = match read_peer_state(n.env.fs(), &sd) {
                Ok(ps) => ps,
                Err(RaftError::Fs(super::env::FsError::NotFound(_))) => return Err(RaftError::NoPeerState),
                Err(e) => return Err(e),
            };
            n.process_peer_state(&ps);
            n.ext_st = ps.domain_ext;
        }

        let snap_dir = join(&n.sd, SNAPSHOTS_DIR);
        if let Err(e) = n.env.fs().create_dir_all(&snap_dir) {
            n.shutdown();
            return Err(e.into());
        }

        n.replay_wal();

        n.reset_election_timeout();
        n.llqrt = Some(n.env.now());

        if !cfg.recovering && n.pindex == 0 {
            n.initializing = true;
            if !cfg.observer && cfg.scale_up {
                n.scale_up = true;
                n.set_observer_locked(true, ExtensionState::UNDETERMINED);
            }
        }
        n.debug(&format!("Started (cluster size {}, quorum {})", n.csz, n.qn));
        Ok(n)
    }

    // The WAL replay part of initRaftNode: committed entries go to the apply
    // queue, a misaligned or corrupt WAL is truncated.
    fn replay_wal(&mut self) {
        let state = self.wal.state();
        self.bytes = state.bytes;
        if state.msgs == 0 {
            return;
        }
        const MAX_QSZ: usize = 32 * 1024 * 1024;
        let mut qsz = 0usize;
        let mut index = state.first_seq;
        while index <= state.last_seq {
            let res = self.load_entry(index);
            if index == state.first_seq {
                let aligned = matches!(&res, Ok(ae) if ae.pindex == index - 1 && self.pindex == ae.pindex);
                if !aligned {
                    self.warn("Misaligned WAL, will truncate");
                    let pindex = self.pindex;
                    self.truncate_and_err(pindex);
                    break;
                }
                if let Ok(ae) = &res {
                    self.pterm = ae.pterm;
                    self.pindex = ae.pindex;
                    if ae.commit > 0 && ae.commit > self.commit {
                        self.commit = ae.commit;
                    }
                }
            }
            let ae = match res {
                Ok(ae) => ae,
                Err(e) => {
                    self.warn(&format!("Could not load {index} from WAL: {e}"));
                    self.truncate_and_err(index - 1);
                    break;
                }
            };
            if ae.pindex != index - 1 {
                self.warn("Corrupt WAL, will truncate");
                self.truncate_and_err(index - 1);
                break;
            }
            let sizes: usize = ae.entries.iter().map(|e| e.data.len()).sum();
            self.process_append_entry(ae, None);
            qsz += sizes;
            if qsz > MAX_QSZ && !self.paused {
                let _ = self.pause_apply();
            }
            index += 1;
        }
    }

    fn truncate_and_err(&mut self, index: u64) {
        if let Err(e) = self.wal.truncate(index) {
            self.set_write_err_locked(e.into());
        }
    }

    /// Port of (*Server).startRaftNode
    ///
    /// Initialises the node and performs what the start of Go's `run()` does:
    /// resume paused applies, then queue the end-of-replay marker (`None`).
    pub fn start(
        env: Box<dyn RaftEnv>,
        server_id: &str,
        acc_name: &str,
        cfg: RaftConfig,
        timings: RaftTimings,
    ) -> Result<Raft, RaftError> {
        let mut n = Raft::init(env, server_id, acc_name, cfg, timings)?;
        n.resume_apply();
        n.apply.push_back(None);
        Ok(n)
    }

    /// Port of (*raft).RecreateInternalSubs
    pub fn recreate_internal_subs(&mut self) -> Result<(), RaftError> {
        self.recreate_internal_subs_locked()
    }

    /// Port of (*raft).recreateInternalSubsLocked
    ///
    /// Account NRG is not modelled: traffic always uses the one transport.
    pub(crate) fn recreate_internal_subs_locked(&mut self) -> Result<(), RaftError> {
        if self.aesub.is_some() {
            return Ok(());
        }
        self.cancel_catchup();
        self.close_client();
        let c = self.env.transport().create_client();
        self.client = Some(c);
        self.create_internal_subs()
    }

    fn close_client(&mut self) {
        let sids: Vec<Sid> = self.subs.keys().copied().collect();
        for sid in sids {
            self.unsubscribe(Some(sid));
        }
        if let Some(c) = self.client.take() {
            self.env.transport().close_client(c);
        }
        self.aesub = None;
    }

    /// Port of (*raft).createInternalSubs
    pub(crate) fn create_internal_subs(&mut self) -> Result<(), RaftError> {
        self.vsubj = super::raft_vote_subj(&self.group);
        self.vreply = self.new_inbox();
        self.asubj = super::raft_append_subj(&self.group);
        self.areply = self.new_inbox();
        self.psubj = super::raft_prop_subj(&self.group);
        self.rpsubj = super::raft_remove_peer_subj(&self.group);
        let (vreply, vsubj, areply, asubj) =
            (self.vreply.clone(), self.vsubj.clone(), self.areply.clone(), self.asubj.clone());
        self.subscribe(&vreply, SubKind::VoteResponse)?;
        self.subscribe(&vsubj, SubKind::VoteRequest)?;
        self.subscribe(&areply, SubKind::AppendEntryResponse)?;
        let sid = self.subscribe(&asubj, SubKind::AppendEntry)?;
        self.aesub = Some(sid);
        Ok(())
    }

    /// Port of (*raft).subscribe
    pub(crate) fn subscribe(&mut self, subject: &str, kind: SubKind) -> Result<Sid, RaftError> {
        let c = self.client.ok_or(RaftError::NoInternalClient)?;
        let sid = self.env.transport().subscribe(c, subject).map_err(|_| RaftError::NoInternalClient)?;
        self.subs.insert(sid, kind);
        Ok(sid)
    }

    /// Port of (*raft).unsubscribe
    pub(crate) fn unsubscribe(&mut self, sid: Option<Sid>) {
        if let Some(sid) = sid {
            if self.subs.remove(&sid).is_some() {
                self.env.transport().unsubscribe(sid);
            }
        }
    }

    fn inbox_suffix(&mut self) -> String {
        const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut l = self.env.rand_u64();
        let mut s = String::with_capacity(8);
        for _ in 0..8 {
            s.push(DIGITS[(l % 62) as usize] as char);
            l /= 62;
        }
        s
    }

    /// Port of (*raft).newInbox
    pub(crate) fn new_inbox(&mut self) -> String {
        let s = self.inbox_suffix();
        super::raft_reply(&s)
    }

    /// Port of (*raft).newCatchupInbox
    pub(crate) fn new_catchup_inbox(&mut self) -> String {
        let s = self.inbox_suffix();
        super::raft_catchup_reply(&s)
    }

    /// Port of (*raft).sendRPC
    pub(crate) fn send_rpc(&mut self, subject: &str, reply: &str, msg: &[u8]) {
        if subject.is_empty() {
            return;
        }
        self.env.transport().publish(subject, reply, msg);
    }

    /// Port of (*raft).sendReply
    pub(crate) fn send_reply(&mut self, subject: &str, msg: &[u8]) {
        if subject.is_empty() {
            return;
        }
        self.env.transport().publish(subject, "", msg);
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.env.now()
    }

    pub(crate) fn rand_duration(&mut self, min: Duration, max: Duration) -> Duration {
        let span = max.saturating_sub(min).as_nanos() as u64;
        if span == 0 {
            return min;
        }
        min + Duration::from_nanos(self.env.rand_u64() % span)
    }

    /// Port of (*raft).debug
    pub(crate) fn debug(&mut self, msg: &str) {
        let line = format!("RAFT [{} - {}] {msg}", self.id, self.group);
        self.env.log(LogLevel::Debug, &line);
    }

    /// Port of (*raft).warn
    pub(crate) fn warn(&mut self, msg: &str) {
        let line = format!("RAFT [{} - {}] {msg}", self.id, self.group);
        self.env.log(LogLevel::Warn, &line);
    }

    /// Port of (*raft).error
    pub(crate) fn error(&mut self, msg: &str) {
        let line = format!("RAFT [{} - {}] {msg}", self.id, self.group);
        self.env.log(LogLevel::Error, &line);
    }

    /// Port of (*raft).setWriteErrLocked
    ///
    /// Records a write error and shuts the node down, ignoring errors that
    /// are not about writing.
    pub(crate) fn set_write_err_locked(&mut self, err: RaftError) {
        if self.state == RaftState::Closed {
            return;
        }
        if self.werr.as_ref() == Some(&err) {
            return;
        }
        match &err {
            RaftError::Wal(WalError::Closed | WalError::Eof | WalError::NotFound) => return,
            RaftError::Fs(super::env::FsError::NotFound(_)) | RaftError::Wal(WalError::Io(super::env::FsError::NotFound(_))) => {
                self.warn(&format!("Resource not found: {err}"));
                return;
            }
            _ => {}
        }
        self.error(&format!("Critical write error: {err}"));
        self.werr = Some(err);
        self.shutdown();
        // Upstream marks every write error unreachable: its Antithesis runs
        // never inject one. The simulator does, so its checker counts this
        // assertion as an injected fault seen, not as a violation. The
        // server-level reactions that follow upstream (disabling JetStream
        // on permission or out-of-space errors) belong to the server, which
        // is not ported.
        self.unreachable(WRITE_ERROR_ASSERTION);
    }

    /// Port of (*raft).setWriteErr
    pub fn set_write_err(&mut self, err: RaftError) {
        self.set_write_err_locked(err);
    }

    /// Port of (*raft).GetWriteErr
    pub fn get_write_err(&self) -> Option<RaftError> {
        self.werr.clone()
    }

    /// Port of (*raft).isClosed
    pub(crate) fn is_closed(&self) -> bool {
        self.state == RaftState::Closed
    }

    /// Port of (*raft).shutdown
    ///
    /// Marks the node closed; the run loop tears subscriptions down on its
    /// next turn (or [`Raft::wait_for_stop`] does it at once).
    pub(crate) fn shutdown(&mut self) {
        if self.state != RaftState::Closed {
            self.state = RaftState::Closed;
            self.leader_state = false;
            self.leader_since = None;
        }
    }

    /// Port of (*raft).Stop
    pub fn stop(&mut self) {
        self.shutdown();
    }

    /// Port of (*raft).WaitForStop
    ///
    /// With no goroutine to wait for, this runs the end-of-`run()` cleanup.
    pub fn wait_for_stop(&mut self) {
        if self.state == RaftState::Closed {
            self.teardown();
        }
    }

    /// Port of (*raft).Delete
    pub fn delete(&mut self) {
        self.shutdown();
        self.teardown();
        self.deleted = true;
        let _ = self.wal.delete();
        let sd = self.sd.clone();
        let _ = self.env.fs().remove_all(&sd);
        self.debug("Deleted");
    }

    /// Port of (*raft).IsDeleted
    pub fn is_deleted(&self) -> bool {
        self.deleted
    }

    // The shutdown tail of Go's run(): drop subscriptions and the client,
    // drain queues, stop the WAL.
    pub(crate) fn teardown(&mut self) {
        if self.torn_down {
            return;
        }
        self.torn_down = true;
        self.progress.clear();
        self.catchups.clear();
        self.close_client();
        self.reqs.clear();
        self.votes.clear();
        self.prop.clear();
        self.entry.clear();
        self.resp.clear();
        self.apply.clear();
        self.wal.stop();
        self.debug("Shutdown");
    }

    /// Port of (*raft).State
    pub fn state(&self) -> RaftState {
        self.state
    }

    /// Port of (*raft).Leader
    pub fn leader(&self) -> bool {
        self.leader_state
    }

    /// Port of (*raft).LeaderSince
    pub fn leader_since(&self) -> Option<Timestamp> {
        self.leader_since
    }

    /// Port of (*raft).Term
    pub fn term(&self) -> u64 {
        self.term
    }

    /// Port of (*raft).ID
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Port of (*raft).Group
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Port of (*raft).GetTrafficAccountName
    pub fn get_traffic_account_name(&self) -> &str {
        &self.acc_name
    }

    /// Port of (*raft).Created
    pub fn created(&self) -> Timestamp {
        self.created
    }

    /// Port of (*raft).GroupLeader
    pub fn group_leader(&self) -> &str {
        &self.leader
    }

    /// Port of (*raft).Leaderless
    pub fn leaderless(&self) -> bool {
        !self.has_leader
    }

    /// Port of (*raft).HadPreviousLeader
    pub fn had_previous_leader(&self) -> bool {
        self.pleader
    }

    /// Port of (*raft).Progress
    ///
    /// Returns (index, commit, applied).
    pub fn progress(&self) -> (u64, u64, u64) {
        (self.pindex, self.commit, self.applied)
    }

    /// Port of (*raft).Size
    ///
    /// Returns (entries, bytes) in the WAL.
    pub fn size(&self) -> (u64, u64) {
        (self.pindex.saturating_sub(self.papplied), self.bytes)
    }

    /// Port of (*raft).ClusterSize
    pub fn cluster_size(&self) -> usize {
        self.csz
    }

    /// Port of (*raft).quorumNeeded
    pub(crate) fn quorum_needed(&self) -> usize {
        self.qn
    }

    /// Port of (*raft).IsObserver
    pub fn is_observer(&self) -> bool {
        self.observer
    }

    /// Port of (*raft).isCatchingUp
    pub fn is_catching_up(&self) -> bool {
        self.catchup.is_some()
    }

    /// Port of (*raft).MembershipChangeInProgress
    pub fn membership_change_in_progress(&self) -> bool {
        self.memb_change_index > 0
    }

    /// Port of (*raft).ApplyQ
    ///
    /// Items are committed batches; `None` marks the end of replay (or of a
    /// catch-up).
    pub fn apply_q(&mut self) -> &mut VecDeque<Option<CommittedEntry>> {
        &mut self.apply
    }

    /// Port of (*raft).LeadChangeC
    ///
    /// Pops the oldest pending leadership notification.
    pub fn lead_change_c(&mut self) -> Option<bool> {
        self.leadc.pop_front()
    }

    /// Port of (*raft).updateLeadChange
    ///
    /// Go's buffered channel holds 32 values and drops the oldest when full.
    pub(crate) fn update_lead_change(&mut self, is_leader: bool) {
        if self.leadc.len() >= 32 {
            self.leadc.pop_front();
        }
        self.leadc.push_back(is_leader);
    }

    /// Store directory.
    pub fn store_dir(&self) -> &str {
        &self.sd
    }

    /// Current vote (empty if none).
    pub fn vote(&self) -> &str {
        &self.vote
    }

    /// Index and term of the last log entry (Go fields `pindex`, `pterm`).
    pub fn last_log(&self) -> (u64, u64) {
        (self.pindex, self.pterm)
    }

    /// Commit index.
    pub fn commit_index(&self) -> u64 {
        self.commit
    }

    /// Applied index.
    pub fn applied_index(&self) -> u64 {
        self.applied
    }

    /// Vote request subject (Go field `vsubj`).
    pub fn vsubj(&self) -> &str {
        &self.vsubj
    }

    /// Vote response inbox (Go field `vreply`).
    pub fn vreply(&self) -> &str {
        &self.vreply
    }

    /// Append entry subject (Go field `asubj`).
    pub fn asubj(&self) -> &str {
        &self.asubj
    }

    /// Append entry response inbox (Go field `areply`).
    pub fn areply(&self) -> &str {
        &self.areply
    }

    /// Forwarded proposal subject (Go field `psubj`).
    pub fn psubj(&self) -> &str {
        &self.psubj
    }

    /// When the election timer was last reset (Go field `etlr`).
    pub fn etlr(&self) -> Option<Timestamp> {
        self.etlr
    }

    /// Port of (*raft).electTimer
    ///
    /// When the election timer fires. Upstream hands its `time.Timer` to the
    /// follower and candidate loops; this port keeps only the deadline,
    /// which those loops compare with the injected clock.
    pub fn election_deadline(&self) -> Timestamp {
        self.elect
    }

    /// The WAL, for inspection and fault injection.
    pub fn wal_mut(&mut self) -> &mut dyn Wal {
        self.wal.as_mut()
    }

    /// The stored entry at `index` (for invariant checks).
    pub fn log_entry(&self, index: u64) -> Result<super::wire::AppendEntry, RaftError> {
        self.load_entry(index)
    }

    /// Index covered by the installed snapshot (Go field `papplied`).
    pub fn snapshot_index(&self) -> u64 {
        self.papplied
    }

    /// Number of transport subscriptions this node holds.
    pub fn num_subscriptions(&self) -> usize {
        self.subs.len()
    }

    /// Test hook: overwrite term, pterm and pindex like the Go tests do
    /// with direct field writes under the node lock (test builds only).
    #[cfg(any(test, feature = "testing"))]
    pub fn set_test_state(&mut self, term: Option<u64>, pterm: Option<u64>, pindex: Option<u64>) {
        if let Some(t) = term {
            self.term = t;
        }
        if let Some(t) = pterm {
            self.pterm = t;
        }
        if let Some(i) = pindex {
            self.pindex = i;
        }
    }

    /// Port of (*raft).Peers
    pub fn peers(&self) -> Vec<Peer> {
        let now = self.now();
        let mut out = Vec::new();
        for (id, ps) in &self.peers {
            let (mut current, mut lag) = (false, 0);
            if *id == self.id {
                current = true;
            } else if self.id == self.leader {
                lag = self.commit.saturating_sub(ps.li);
                current = lag == 0;
            } else if *id == self.leader {
                current = since(now, ps.ts) <= self.timings.hb_interval * 2;
            }
            out.push(Peer { id: id.clone(), current, last: ps.ts, lag });
        }
        out
    }

    /// Port of (*raft).isCurrent
    ///
    /// Whether the upper layer has applied everything we committed (and we
    /// lead, or heard from our leader lately, and are not catching up). Go
    /// may then also wait up to 10 ms for forward progress, sleeping with
    /// the lock released; a node here cannot wait inside a call, so with
    /// `include_forward_progress` an answer that depends on that wait comes
    /// back as [`Currentness::Behind`] and [`Raft::check_forward_progress`]
    /// runs the rest of the probe on the injected clock.
    pub(crate) fn is_current(&mut self, include_forward_progress: bool) -> Currentness {
        if self.state == RaftState::Closed {
            self.debug("Not current, node is closed");
            return Currentness::No;
        }
        if self.commit == 0 {
            self.debug("Not current, no commits");
            return Currentness::No;
        }
        if self.state == RaftState::Leader {
            self.clear_behind_state();
            return Currentness::Yes;
        }
        let now = self.now();
        if self.leader != NO_LEADER && self.leader != self.id && self.catchup.is_none() {
            let ok = self.timings.hb_interval * 2;
            let recent = self.peers.get(&self.leader).is_some_and(|ps| since(now, ps.ts) <= ok);
            if !recent {
                self.debug("Not current, no recent leader contact");
                return Currentness::No;
            }
        }
        if let Some(cs) = &self.catchup {
            let msg = format!("Not current, still catching up pindex={}, cindex={}", self.pindex, cs.cindex);
            self.debug(&msg);
            return Currentness::No;
        }
        if self.paused && self.hcommit > self.commit {
            let msg = format!("Not current, waiting to resume applies commit={}, hcommit={}", self.commit, self.hcommit);
            self.debug(&msg);
            return Currentness::No;
        }
        if self.commit == self.applied {
            self.clear_behind_state();
            return Currentness::Yes;
        }
        if !include_forward_progress {
            return Currentness::No;
        }
        let start_delta = self.commit.saturating_sub(self.applied);
        if start_delta > 0 {
            return Currentness::Behind(ForwardProgress { start_delta, polls: 0 });
        }
        self.falling_behind()
    }

    // Upstream's clearBehindState closure: a health check that was warning
    // about falling behind says when that is over.
    fn clear_behind_state(&mut self) {
        if self.hcbehind {
            self.warn("Health check OK, no longer falling behind");
            self.hcbehind = false;
        }
    }

    fn falling_behind(&mut self) -> Currentness {
        self.hcbehind = true;
        let msg = format!("Falling behind in health check, commit {} != applied {}", self.commit, self.applied);
        self.warn(&msg);
        Currentness::No
    }

    /// Port of (*raft).Current
    pub fn current(&mut self) -> bool {
        self.is_current(false) == Currentness::Yes
    }

    /// Port of (*raft).Healthy
    ///
    /// Current, or else applying what was committed. When commits are
    /// waiting to be applied the answer depends on the next 10 ms: this
    /// returns [`HealthCheck::Probing`], and the host calls
    /// [`Raft::check_forward_progress`] after each millisecond while the
    /// upper layer keeps applying (the simulator's `Cluster::healthy` does).
    pub fn healthy(&mut self) -> HealthCheck {
        match self.is_current(true) {
            Currentness::Yes => HealthCheck::Done(true),
            Currentness::No => HealthCheck::Done(false),
            Currentness::Behind(p) => HealthCheck::Probing(p),
        }
    }

    /// One millisecond of Healthy's forward-progress probe (the body of
    /// upstream's 1 ms sleep loop in `isCurrent`): `Some(true)` once the
    /// commits still to apply are fewer than when the probe started,
    /// `Some(false)` when closed meanwhile or after the tenth millisecond
    /// without progress, `None` to be called again a millisecond later.
    pub fn check_forward_progress(&mut self, probe: &mut ForwardProgress) -> Option<bool> {
        if self.state == RaftState::Closed {
            self.debug("Node closed during health check, returning not current");
            return Some(false);
        }
        if self.commit.saturating_sub(self.applied) < probe.start_delta {
            self.clear_behind_state();
            return Some(true);
        }
        probe.polls += 1;
        if probe.polls < FORWARD_PROGRESS_POLLS {
            return None;
        }
        self.falling_behind();
        Some(false)
    }
}

/// How often Healthy's forward-progress probe looks, a millisecond apart.
pub const FORWARD_PROGRESS_POLLS: u32 = 10;

/// The answer of [`Raft::healthy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthCheck {
    /// Decided at once.
    Done(bool),
    /// Commits wait to be applied: run the forward-progress probe.
    Probing(ForwardProgress),
}

/// State of one forward-progress probe (see [`Raft::check_forward_progress`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardProgress {
    start_delta: u64,
    polls: u32,
}

/// What [`Raft::is_current`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Currentness {
    Yes,
    No,
    /// Not applied up to commit; `Healthy` waits for forward progress.
    Behind(ForwardProgress),
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{HealthCheck, FORWARD_PROGRESS_POLLS};
    use crate::sim::{test_seed, Cluster};

    // A frozen single node with commits the upper layer has not applied.
    fn lagging_node(test: &str) -> (Cluster, usize) {
        let mut c = Cluster::new("R3S", 3, test_seed(test));
        let slot = c.init_single_mem_raft_node();
        c.freeze(&[slot]);
        let n = c.node(slot);
        n.commit = 5;
        n.processed = 2;
        n.applied = 2;
        (c, slot)
    }

    #[test]
    fn healthy_waits_for_forward_progress_on_the_injected_clock() {
        let (mut c, slot) = lagging_node("healthy_waits_for_forward_progress_on_the_injected_clock");
        assert!(!c.node(slot).current(), "three commits are not applied");
        let HealthCheck::Probing(mut probe) = c.node(slot).healthy() else { panic!("Healthy has to watch for progress") };
        assert_eq!(c.node(slot).check_forward_progress(&mut probe), None, "no progress in the first millisecond");
        c.node(slot).applied(3);
        assert_eq!(c.node(slot).check_forward_progress(&mut probe), Some(true), "the gap shrank: healthy");

        // The simulator's Healthy runs the probe a millisecond at a time.
        let t0 = c.now();
        assert!(!c.healthy(slot), "frozen, nobody applies");
        assert_eq!(c.now() - t0, Duration::from_millis(FORWARD_PROGRESS_POLLS as u64));
        assert!(c.node(slot).hcbehind, "the warning state is kept");
        c.node(slot).applied(5);
        assert!(c.healthy(slot));
        assert!(!c.node(slot).hcbehind, "and cleared once current");
    }

    #[test]
    fn forward_progress_probe_gives_up_after_ten_milliseconds_or_when_closed() {
        let (mut c, slot) = lagging_node("forward_progress_probe_gives_up_after_ten_milliseconds_or_when_closed");
        let n = c.node(slot);
        let HealthCheck::Probing(mut probe) = n.healthy() else { panic!("probing") };
        for _ in 1..FORWARD_PROGRESS_POLLS {
            assert_eq!(n.check_forward_progress(&mut probe), None);
        }
        assert_eq!(n.check_forward_progress(&mut probe), Some(false));

        let HealthCheck::Probing(mut probe) = n.healthy() else { panic!("probing") };
        n.stop();
        assert_eq!(n.check_forward_progress(&mut probe), Some(false), "closed meanwhile");
        assert_eq!(n.healthy(), HealthCheck::Done(false));
    }
}
