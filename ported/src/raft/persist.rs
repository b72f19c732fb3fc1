//! The small files in a node's store directory: `tav.idx` (current term and
//! vote, written with sync before a vote is granted or a campaign starts)
//! and `peers.idx` (the encoded peer state).

use crate::peer_state::{decode_peer_state, encode_peer_state, PeerState};

use super::env::{join, Fs};
use super::node::Raft;
use super::{RaftError, ID_LEN, NO_VOTE};

/// Name of the term-and-vote file.
pub const TERM_VOTE_FILE: &str = "tav.idx";
/// Name of the peer-state file.
pub const PEER_STATE_FILE: &str = "peers.idx";
const TERM_LEN: usize = 8;
const TERM_VOTE_LEN: usize = ID_LEN + TERM_LEN;

/// Port of writeTermVote
pub fn write_term_vote(fs: &mut dyn Fs, sd: &str, wtv: &[u8]) -> Result<(), RaftError> {
    fs.write_sync(&join(sd, TERM_VOTE_FILE), wtv)?;
    Ok(())
}

/// Port of writePeerState
pub fn write_peer_state(fs: &mut dyn Fs, sd: &str, ps: &PeerState) -> Result<(), RaftError> {
    fs.write_sync(&join(sd, PEER_STATE_FILE), &encode_peer_state(ps))?;
    Ok(())
}

/// Port of readPeerState
pub fn read_peer_state(fs: &mut dyn Fs, sd: &str) -> Result<PeerState, RaftError> {
    let buf = fs.read(&join(sd, PEER_STATE_FILE))?;
    decode_peer_state(&buf).map_err(|_| RaftError::CorruptPeers)
}

impl Raft {
    /// Port of (*raft).readTermVote
    ///
    /// A file too short for a term yields term 0 rather than an error, so a
    /// mangled file never panics the node.
    pub(crate) fn read_term_vote(&mut self) -> Result<(u64, String), RaftError> {
        let path = join(&self.sd, TERM_VOTE_FILE);
        let buf = self.env.fs().read(&path)?;
        if buf.len() < TERM_LEN {
            return Ok((0, NO_VOTE.to_string()));
        }
        let term = super::wire::le_u64(&buf[0..8]);
        if buf.len() < TERM_VOTE_LEN {
            return Ok((term, NO_VOTE.to_string()));
        }
        let voted = super::peer_id::id_from_bytes(&buf[8..]);
        Ok((term, voted))
    }

    /// Port of (*raft).writeTermVote
    ///
    /// Persists term and vote with sync; skipped when unchanged.
    pub(crate) fn write_term_vote(&mut self) {
        let mut b = Vec::with_capacity(TERM_VOTE_LEN);
        b.extend_from_slice(&self.term.to_le_bytes());
        let vote = super::peer_id::id_bytes(&self.vote);
        b.extend_from_slice(&vote[..vote.len().min(ID_LEN)]);
        if self.wtv == b {
            return;
        }
        self.wtv = b;
        let sd = self.sd.clone();
        let wtv = self.wtv.clone();
        #[allow(unused_mut)]
        let mut written = None;
        // Planted bug (test builds only): the write is not synced.
        #[cfg(any(test, feature = "testing"))]
        if self.bugs.lazy_term_vote_write {
            written = Some(self.env.fs().write_unsynced(&join(&sd, TERM_VOTE_FILE), &wtv).map_err(RaftError::from));
        }
        let res = match written {
            Some(res) => res,
            None => write_term_vote(self.env.fs(), &sd, &wtv),
        };
        if let Err(e) = res {
            if !self.is_closed() {
                self.wtv.clear();
                self.set_write_err_locked(e.clone());
                self.warn(&format!("Error writing term and vote file for {:?}: {e}", self.group));
            }
        }
    }

    /// Port of (*raft).writePeerState
    pub(crate) fn write_peer_state(&mut self, ps: &PeerState) {
        let pse = encode_peer_state(ps);
        if self.wps == pse {
            return;
        }
        self.wps = pse;
        let sd = self.sd.clone();
        #[allow(unused_mut)]
        let mut written = None;
        // Planted bug (test builds only): the write is not synced.
        #[cfg(any(test, feature = "testing"))]
        if self.bugs.lazy_term_vote_write {
            written = Some(self.env.fs().write_unsynced(&join(&sd, PEER_STATE_FILE), &self.wps).map_err(RaftError::from));
        }
        let res = match written {
            Some(res) => res,
            None => write_peer_state(self.env.fs(), &sd, ps),
        };
        if let Err(e) = res {
            if !self.is_closed() {
                self.set_write_err_locked(e.clone());
                self.warn(&format!("Error writing peer state file for {:?}: {e}", self.group));
            }
        }
    }
}
