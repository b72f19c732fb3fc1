//! Replicated state machines used by the tests, mirroring the Go helpers:
//! the adder (`stateAdder`, raft_helpers_test.go) and the chain of blocks
//! with a running CRC-32 hash (`RCOBStateMachine`,
//! raft_chain_of_blocks_helpers_test.go).

use std::any::Any;

use crate::raft::file_wal::crc32_ieee;
use crate::raft::wire::{put_varint, varint};
use crate::raft::{CommittedEntry, EntryType};

use super::rng::SimRng;

/// What the cluster driver needs from a state machine (Go: `stateMachine`).
pub trait StateMachine: Any {
    /// Applies a committed batch; `None` is the end-of-replay marker. The
    /// driver calls `Applied(index)` afterwards, as the Go helpers do.
    fn apply_entry(&mut self, ce: Option<&CommittedEntry>);
    /// Leadership notification.
    fn leader_change(&mut self, is_leader: bool);
    /// The node was stopped.
    fn stopped(&mut self) {}
    /// The node is about to restart; in-memory state must be rebuilt.
    fn restarting(&mut self) {}
    /// For downcasting.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// For downcasting.
    fn as_any(&self) -> &dyn Any;
}

/// Encodes an adder delta (Go: `binary.PutVarint`).
pub fn encode_delta(delta: i64) -> Vec<u8> {
    let mut b = Vec::new();
    put_varint(&mut b, delta);
    b
}

/// Sums varint deltas (Go: `stateAdder`).
#[derive(Debug, Default, Clone)]
pub struct StateAdder {
    /// The running total.
    pub sum: i64,
    /// Leader-change channel of capacity one (Go: `lch`).
    pub lch: Option<bool>,
}

impl StateAdder {
    /// Takes the pending leader-change value, if any.
    pub fn take_lch(&mut self) -> Option<bool> {
        self.lch.take()
    }
}

impl StateMachine for StateAdder {
    fn apply_entry(&mut self, ce: Option<&CommittedEntry>) {
        let Some(ce) = ce else { return };
        for e in &ce.entries {
            match e.typ {
                EntryType::Normal => self.sum += varint(&e.data).unwrap_or(0),
                EntryType::Snapshot => self.sum = varint(&e.data).unwrap_or(0),
                _ => {}
            }
        }
    }

    fn leader_change(&mut self, is_leader: bool) {
        // Non-blocking send into a channel of capacity one.
        if self.lch.is_none() {
            self.lch = Some(is_leader);
        }
    }

    fn restarting(&mut self) {
        // The sum may only come from entries and snapshots after a restart.
        self.sum = 0;
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Largest random block payload (Go: `RCOBOptions.maxBlockSize`).
pub const RCOB_MAX_BLOCK_SIZE: usize = 10240;

/// A proposed block: proposer, its sequence, random payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Proposing server.
    pub proposer: String,
    /// Per-proposer sequence.
    pub proposer_sequence: u64,
    /// Payload.
    pub data: Vec<u8>,
}

impl Block {
    /// Serialises the block (Go uses JSON; any stable encoding works since
    /// only the payload enters the hash).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.data.len() + 20);
        b.extend_from_slice(&(self.proposer.len() as u32).to_le_bytes());
        b.extend_from_slice(self.proposer.as_bytes());
        b.extend_from_slice(&self.proposer_sequence.to_le_bytes());
        b.extend_from_slice(&self.data);
        b
    }

    /// Parses a block; `None` if malformed.
    pub fn decode(b: &[u8]) -> Option<Block> {
        let pl = u32::from_le_bytes(b.get(0..4)?.try_into().ok()?) as usize;
        let proposer = String::from_utf8(b.get(4..4 + pl)?.to_vec()).ok()?;
        let seq = u64::from_le_bytes(b.get(4 + pl..12 + pl)?.try_into().ok()?);
        Some(Block { proposer, proposer_sequence: seq, data: b.get(12 + pl..)?.to_vec() })
    }
}

/// Chain of blocks: each replica hashes every delivered block payload into
/// a running CRC-32, so the N-th hash must match on all replicas.
#[derive(Debug, Clone)]
pub struct ChainOfBlocks {
    /// Server name (for block metadata).
    pub server: String,
    /// Whether this node currently believes it leads.
    pub leader: bool,
    /// Blocks this replica proposed.
    pub proposal_sequence: u64,
    /// Block payload generator.
    pub rng: SimRng,
    /// Running CRC-32 state.
    pub hash: u32,
    /// Blocks applied.
    pub blocks_applied: u64,
    /// Blocks applied since the last snapshot.
    pub blocks_applied_since_snapshot: u64,
    /// Stopped by the test.
    pub stopped: bool,
    /// Recovery done (end-of-replay marker seen).
    pub ready: bool,
    /// Every (block number, hash after it) this replica produced.
    pub history: Vec<(u64, u32)>,
    /// A malformed block or unknown entry type was applied.
    pub corrupt: Option<String>,
    /// Largest block payload this replica proposes.
    pub max_block_size: usize,
    /// This replica's node id.
    pub node_id: String,
    /// Membership changes applied, in order (add or remove, peer id).
    pub membership: Vec<(EntryType, String)>,
}

impl ChainOfBlocks {
    /// Port of newRaftChainStateMachine
    ///
    /// The payload RNG is seeded from the byte sums of server name and
    /// node id, as upstream does (with this crate's generator).
    pub fn new(server: &str, node_id: &str) -> Self {
        let seed: u64 = server.bytes().map(u64::from).sum::<u64>() + node_id.bytes().map(u64::from).sum::<u64>();
        ChainOfBlocks {
            server: server.to_string(),
            leader: false,
            proposal_sequence: 0,
            rng: SimRng::new(seed),
            hash: 0,
            blocks_applied: 0,
            blocks_applied_since_snapshot: 0,
            stopped: false,
            ready: false,
            history: Vec::new(),
            corrupt: None,
            max_block_size: RCOB_MAX_BLOCK_SIZE,
            node_id: node_id.to_string(),
            membership: Vec::new(),
        }
    }

    /// Port of (*RCOBStateMachine).proposeBlock (the block-building half).
    pub fn next_block(&mut self) -> Vec<u8> {
        self.proposal_sequence += 1;
        let size = 1 + self.rng.index(self.max_block_size);
        let mut data = vec![0u8; size];
        self.rng.fill(&mut data);
        Block { proposer: self.server.clone(), proposer_sequence: self.proposal_sequence, data }.encode()
    }

    fn apply_block(&mut self, data: &[u8]) {
        match Block::decode(data) {
            Some(b) => {
                self.hash = crc32_ieee(self.hash, &b.data);
                self.blocks_applied += 1;
                self.blocks_applied_since_snapshot += 1;
                self.history.push((self.blocks_applied, self.hash));
            }
            None => self.corrupt = Some("undecodable block".into()),
        }
    }

    /// Whether this replica applied its own removal from the group.
    pub fn removed_self(&self) -> bool {
        self.membership.iter().any(|(t, p)| *t == EntryType::RemovePeer && *p == self.node_id)
    }

    /// Port of (*RCOBStateMachine).getCurrentHash
    ///
    /// Returns (running, blocks applied, hash as hex).
    pub fn get_current_hash(&self) -> (bool, u64, String) {
        (!self.stopped, self.blocks_applied, format!("{:08X}", self.hash))
    }

    /// The snapshot payload for the current state, or `None` when upstream
    /// would skip the snapshot (nothing new, or still recovering).
    pub fn snapshot_data(&self) -> Option<Vec<u8>> {
        if self.blocks_applied_since_snapshot == 0 || !self.ready {
            return None;
        }
        let mut b = Vec::with_capacity(12);
        b.extend_from_slice(&self.hash.to_le_bytes());
        b.extend_from_slice(&self.blocks_applied.to_le_bytes());
        Some(b)
    }

    fn load_snapshot(&mut self, data: &[u8]) {
        if data.len() != 12 {
            self.corrupt = Some(format!("snapshot of {} bytes", data.len()));
            return;
        }
        self.hash = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        self.blocks_applied = crate::raft::wire::le_u64(&data[4..12]);
        self.blocks_applied_since_snapshot = 0;
        self.history.push((self.blocks_applied, self.hash));
    }
}

impl StateMachine for ChainOfBlocks {
    fn apply_entry(&mut self, ce: Option<&CommittedEntry>) {
        let Some(ce) = ce else {
            self.ready = true;
            return;
        };
        for e in &ce.entries {
            match e.typ {
                EntryType::Normal => self.apply_block(&e.data),
                EntryType::Snapshot => self.load_snapshot(&e.data),
                EntryType::Catchup => {}
                // Upstream's state machine panics on these because its tests
                // never change membership; JetStream's layers above raft
                // take them as peer changes, and so does this one.
                EntryType::AddPeer | EntryType::RemovePeer => {
                    self.membership.push((e.typ, crate::raft::peer_id::id_from_bytes(&e.data)));
                }
                other => self.corrupt = Some(format!("unknown entry type {other:?}")),
            }
        }
    }

    fn leader_change(&mut self, is_leader: bool) {
        self.leader = is_leader;
    }

    fn stopped(&mut self) {
        // Recovered from snapshot or peers on restart.
        self.stopped = true;
        self.blocks_applied = 0;
        self.hash = 0;
        self.leader = false;
    }

    fn restarting(&mut self) {
        self.stopped = false;
        self.ready = false;
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
