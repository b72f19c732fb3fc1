//! Raft peer state as stored in snapshots and the `peers.idx` file: cluster
//! size, the known peer ids and the domain-extension flag.
//!
//! Layout (little-endian): cluster size u32, peer count u32, each peer id as
//! exactly [`ID_LEN`] bytes, then the extension state u16.

/// Length of a raft peer id on the wire.
pub const ID_LEN: usize = 8;

/// Whether the system account's domain was extended (leafnode setups).
/// Upstream keeps it as a bare u16; unknown values are preserved as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ExtensionState(pub u16);

impl ExtensionState {
    /// Not yet determined.
    pub const UNDETERMINED: ExtensionState = ExtensionState(0);
    /// The domain is extended.
    pub const EXTENDED: ExtensionState = ExtensionState(1);
    /// The domain is not extended.
    pub const NOT_EXTENDED: ExtensionState = ExtensionState(2);
}

/// A raft group's membership as persisted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerState {
    /// Ids of the known peers, each [`ID_LEN`] bytes.
    pub known_peers: Vec<String>,
    /// Configured cluster size (quorum is derived from it).
    pub cluster_size: u32,
    /// Domain extension state.
    pub domain_ext: ExtensionState,
}

/// Errors decoding a peer state.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeerStateError {
    /// Fewer bytes than the header or the declared peers need.
    #[error("corrupt peer state: expected {expected} peers, found {found}")]
    Truncated {
        /// Declared number of peers.
        expected: usize,
        /// Complete peer ids present.
        found: usize,
    },
    /// Buffer shorter than the 8-byte header.
    #[error("corrupt peer state: {0} bytes is shorter than the header")]
    ShortHeader(usize),
}

/// Port of peerStateBufSize
pub fn peer_state_buf_size(ps: &PeerState) -> usize {
    4 + 4 + ID_LEN * ps.known_peers.len() + 2
}

/// Port of encodePeerState
///
/// Each id occupies exactly [`ID_LEN`] bytes: shorter ids are zero padded,
/// longer ones cut (upstream assumes every id has that length).
pub fn encode_peer_state(ps: &PeerState) -> Vec<u8> {
    let mut buf = Vec::with_capacity(peer_state_buf_size(ps));
    buf.extend_from_slice(&ps.cluster_size.to_le_bytes());
    buf.extend_from_slice(&(ps.known_peers.len() as u32).to_le_bytes());
    for peer in &ps.known_peers {
        let mut id = [0u8; ID_LEN];
        let b = crate::raft::peer_id::id_bytes(peer);
        let n = b.len().min(ID_LEN);
        id[..n].copy_from_slice(&b[..n]);
        buf.extend_from_slice(&id);
    }
    buf.extend_from_slice(&ps.domain_ext.0.to_le_bytes());
    buf
}

/// Port of decodePeerState
///
/// The trailing extension state is optional (older servers omit it). A
/// partial peer id is an error here, where upstream would panic.
pub fn decode_peer_state(buf: &[u8]) -> Result<PeerState, PeerStateError> {
    if buf.len() < 8 {
        return Err(PeerStateError::ShortHeader(buf.len()));
    }
    let cluster_size = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let expected = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
    let body = &buf[8..];
    let found = (body.len() / ID_LEN).min(expected);
    if found != expected {
        return Err(PeerStateError::Truncated { expected, found });
    }
    let mut known_peers = Vec::with_capacity(expected);
    for chunk in body.chunks_exact(ID_LEN).take(expected) {
        // Any eight bytes are an id, as in Go (see `raft::peer_id`).
        known_peers.push(crate::raft::peer_id::id_from_bytes(chunk));
    }
    let rest = &body[expected * ID_LEN..];
    let domain_ext = if rest.len() >= 2 {
        ExtensionState(u16::from_le_bytes([rest[0], rest[1]]))
    } else {
        ExtensionState::UNDETERMINED
    };
    Ok(PeerState { known_peers, cluster_size, domain_ext })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ps() -> PeerState {
        PeerState {
            known_peers: vec!["yrzKKRBu".into(), "cnrtt3eg".into(), "S4pOBBWF".into()],
            cluster_size: 3,
            domain_ext: ExtensionState::NOT_EXTENDED,
        }
    }

    #[test]
    fn encode_layout() {
        let b = encode_peer_state(&ps());
        assert_eq!(b.len(), peer_state_buf_size(&ps()));
        assert_eq!(b.len(), 8 + 24 + 2);
        assert_eq!(&b[0..4], &3u32.to_le_bytes());
        assert_eq!(&b[4..8], &3u32.to_le_bytes());
        assert_eq!(&b[8..16], b"yrzKKRBu");
        assert_eq!(&b[32..34], &2u16.to_le_bytes());
    }

    #[test]
    fn round_trip() {
        assert_eq!(decode_peer_state(&encode_peer_state(&ps())).expect("decodes"), ps());
        let empty = PeerState::default();
        assert_eq!(decode_peer_state(&encode_peer_state(&empty)).expect("decodes"), empty);
    }

    #[test]
    fn extension_is_optional() {
        let b = encode_peer_state(&ps());
        let d = decode_peer_state(&b[..b.len() - 2]).expect("decodes");
        assert_eq!(d.domain_ext, ExtensionState::UNDETERMINED);
        assert_eq!(d.known_peers, ps().known_peers);
    }

    #[test]
    fn rejects_truncation() {
        let b = encode_peer_state(&ps());
        assert_eq!(decode_peer_state(&b[..7]), Err(PeerStateError::ShortHeader(7)));
        assert_eq!(
            decode_peer_state(&b[..8 + 16]),
            Err(PeerStateError::Truncated { expected: 3, found: 2 })
        );
        assert_eq!(
            decode_peer_state(&b[..8 + 20]),
            Err(PeerStateError::Truncated { expected: 3, found: 2 })
        );
    }

    #[test]
    fn short_ids_are_padded() {
        let p = PeerState { known_peers: vec!["ab".into()], cluster_size: 1, ..Default::default() };
        let b = encode_peer_state(&p);
        assert_eq!(&b[8..16], b"ab\0\0\0\0\0\0");
    }

    #[test]
    fn any_id_bytes_decode_and_reencode_unchanged() {
        let mut buf = encode_peer_state(&ps());
        buf[8..16].copy_from_slice(&[0xff, 0, 0x80, 1, 2, 3, 4, 5]);
        let got = decode_peer_state(&buf).expect("any id bytes decode, as in Go");
        assert_eq!(encode_peer_state(&got), buf);
    }
}
