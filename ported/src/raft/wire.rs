//! Wire encodings of the four raft RPCs (append entry, append entry
//! response, vote request, vote response) and of log entries. Layouts are
//! byte-compatible with nats-server's little-endian encodings.

use std::borrow::Cow;

use super::peer_id::{id_bytes, id_from_bytes};
use super::ID_LEN;

/// Errors from encoding or decoding raft RPCs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The leader id is neither empty nor exactly [`ID_LEN`] bytes.
    #[error("raft: leader should be exactly {ID_LEN} bytes")]
    LeaderLen,
    /// More than `u16::MAX` entries in one append entry.
    #[error("raft: append entry can contain a max of 64k entries")]
    TooManyEntries,
    /// Malformed or truncated append entry.
    #[error("raft: append entry corrupt")]
    BadAppendEntry,
    /// A fixed-size message had the wrong length.
    #[error("raft: {kind} must be {want} bytes, got {got}")]
    BadLength {
        /// Which message was being decoded.
        kind: &'static str,
        /// Expected length.
        want: usize,
        /// Actual length.
        got: usize,
    },
}

/// Kind of a log entry; the byte values are the wire values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryType {
    /// Upper-layer payload.
    Normal,
    /// Snapshot stored in the log by very old servers.
    OldSnapshot,
    /// Encoded peer state.
    PeerState,
    /// Membership change: add the peer whose id is the data.
    AddPeer,
    /// Membership change: remove the peer whose id is the data.
    RemovePeer,
    /// Ask the peer whose id is the data to campaign.
    LeaderTransfer,
    /// Upper-layer snapshot.
    Snapshot,
    /// Internal marker that catch-up entries follow; never sent or stored.
    Catchup,
    /// Any other byte, kept as-is so decoding never fails on the type.
    Unknown(u8),
}

impl EntryType {
    /// The wire byte.
    pub fn to_u8(self) -> u8 {
        match self {
            EntryType::Normal => 0,
            EntryType::OldSnapshot => 1,
            EntryType::PeerState => 2,
            EntryType::AddPeer => 3,
            EntryType::RemovePeer => 4,
            EntryType::LeaderTransfer => 5,
            EntryType::Snapshot => 6,
            EntryType::Catchup => 7,
            EntryType::Unknown(b) => b,
        }
    }

    /// From the wire byte.
    pub fn from_u8(b: u8) -> Self {
        match b {
            0 => EntryType::Normal,
            1 => EntryType::OldSnapshot,
            2 => EntryType::PeerState,
            3 => EntryType::AddPeer,
            4 => EntryType::RemovePeer,
            5 => EntryType::LeaderTransfer,
            6 => EntryType::Snapshot,
            7 => EntryType::Catchup,
            other => EntryType::Unknown(other),
        }
    }
}

/// Port of EntryType.String
///
/// Upstream names only the seven stored kinds; the internal catch-up marker
/// falls through to the unknown spelling like any other byte, so
/// `EntryType::Catchup` prints as `Unknown [7]`, as it does in Go.
impl std::fmt::Display for EntryType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            EntryType::Normal => "Normal",
            EntryType::OldSnapshot => "OldSnapshot",
            EntryType::PeerState => "PeerState",
            EntryType::AddPeer => "AddPeer",
            EntryType::RemovePeer => "RemovePeer",
            EntryType::LeaderTransfer => "LeaderTransfer",
            EntryType::Snapshot => "Snapshot",
            EntryType::Catchup | EntryType::Unknown(_) => return write!(f, "Unknown [{}]", self.to_u8()),
        };
        f.write_str(name)
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Entry kind.
    pub typ: EntryType,
    /// Payload.
    pub data: Vec<u8>,
}

impl Entry {
    /// Port of newEntry
    ///
    /// Builds an entry of the given kind around `data`. Upstream takes the
    /// struct from a `sync.Pool`; here it is an ordinary owned value.
    pub fn new(typ: EntryType, data: impl Into<Vec<u8>>) -> Self {
        Entry { typ, data: data.into() }
    }

    /// Port of (*Entry).ChangesMembership
    pub fn changes_membership(&self) -> bool {
        matches!(self.typ, EntryType::AddPeer | EntryType::RemovePeer)
    }
}

/// Fixed part of an encoded append entry: leader id, four u64s, entry count.
pub const APPEND_ENTRY_BASE_LEN: usize = ID_LEN + 4 * 8 + 2;
/// Length of an encoded append entry response.
pub const APPEND_ENTRY_RESPONSE_LEN: usize = 24 + 1;
/// Length of an encoded vote request.
pub const VOTE_REQUEST_LEN: usize = 24 + ID_LEN;
/// Length of an encoded vote response.
pub const VOTE_RESPONSE_LEN: usize = 8 + 8 + 1;

/// The replication RPC; also the unit stored in the WAL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendEntry {
    /// Id of the sending leader (empty or [`ID_LEN`] bytes).
    pub leader: String,
    /// Term of the leader when the entry was stored.
    pub term: u64,
    /// Leader's commit index when sent.
    pub commit: u64,
    /// Term of the entry before this one.
    pub pterm: u64,
    /// Index of the entry before this one.
    pub pindex: u64,
    /// Entries carried.
    pub entries: Vec<Entry>,
    /// Leader's current term during catch-up (0: use `term`); trailing uvarint.
    pub lterm: u64,
    /// Reply subject (not encoded).
    pub reply: String,
    /// Subscription the message arrived on; `None` for WAL replay (not encoded).
    pub sub: Option<u64>,
    /// The encoded bytes, kept so they can be stored in the WAL unchanged.
    pub buf: Vec<u8>,
}

/// Port of (*appendEntry).String
///
/// The one-line summary used in debug logs: the header fields and the
/// number of entries, not their contents.
impl std::fmt::Display for AppendEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "&{{leader:{} term:{} commit:{} pterm:{} pindex:{} entries: {}}}",
            self.leader,
            self.term,
            self.commit,
            self.pterm,
            self.pindex,
            self.entries.len()
        )
    }
}

impl AppendEntry {
    /// Port of newAppendEntry
    pub fn new(leader: &str, term: u64, commit: u64, pterm: u64, pindex: u64, entries: Vec<Entry>) -> Self {
        AppendEntry {
            leader: leader.to_string(),
            term,
            commit,
            pterm,
            pindex,
            entries,
            ..Default::default()
        }
    }

    /// Port of (*appendEntry).shouldStore
    ///
    /// Heartbeats (no entries) are never stored.
    pub fn should_store(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Port of (*appendEntry).encode
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        Ok(self.encode_into(&mut [])?.into_owned())
    }

    /// Port of (*appendEntry).encode with a caller's scratch buffer
    ///
    /// Writes into `scratch` when the whole encoding fits, returning that
    /// part of it; otherwise allocates and leaves `scratch` untouched.
    pub fn encode_into<'a>(&self, scratch: &'a mut [u8]) -> Result<Cow<'a, [u8]>, WireError> {
        let ll = id_bytes(&self.leader).len();
        if ll != ID_LEN && ll != 0 {
            return Err(WireError::LeaderLen);
        }
        if self.entries.len() > u16::MAX as usize {
            return Err(WireError::TooManyEntries);
        }
        let mut elen = 0usize;
        for e in &self.entries {
            // Same ~2GB bound as upstream so 32-bit lengths never overflow.
            if e.data.len() > i32::MAX as usize {
                return Err(WireError::BadAppendEntry);
            }
            elen += e.data.len() + 1 + 4;
        }
        let mut lterm = Vec::with_capacity(10);
        put_uvarint(&mut lterm, self.lterm);
        let tlen = APPEND_ENTRY_BASE_LEN + elen + lterm.len();
        if scratch.len() >= tlen {
            let out = &mut scratch[..tlen];
            self.write_encoding(out, &lterm);
            return Ok(Cow::Borrowed(out));
        }
        let mut buf = vec![0u8; tlen];
        self.write_encoding(&mut buf, &lterm);
        Ok(Cow::Owned(buf))
    }

    // Fills `out`, sized exactly by `encode_into`, with the encoding.
    fn write_encoding(&self, out: &mut [u8], lterm: &[u8]) {
        let mut pos = 0usize;
        let mut put = |b: &[u8]| {
            out[pos..pos + b.len()].copy_from_slice(b);
            pos += b.len();
        };
        let mut id = [0u8; ID_LEN];
        let leader = id_bytes(&self.leader);
        id[..leader.len()].copy_from_slice(&leader);
        put(&id);
        put(&self.term.to_le_bytes());
        put(&self.commit.to_le_bytes());
        put(&self.pterm.to_le_bytes());
        put(&self.pindex.to_le_bytes());
        put(&(self.entries.len() as u16).to_le_bytes());
        for e in &self.entries {
            put(&((1 + e.data.len()) as u32).to_le_bytes());
            put(&[e.typ.to_u8()]);
            put(&e.data);
        }
        put(lterm);
    }

    /// Encodes into `self.buf` (what the test helper `encode` does).
    pub fn encoded(mut self) -> Result<Self, WireError> {
        self.buf = self.encode()?;
        Ok(self)
    }
}

/// Port of decodeAppendEntry
///
/// Unlike upstream, an entry length prefix cut short by the end of the buffer
/// is reported as corrupt rather than panicking.
pub fn decode_append_entry(msg: &[u8], sub: Option<u64>, reply: &str) -> Result<AppendEntry, WireError> {
    if msg.len() < APPEND_ENTRY_BASE_LEN {
        return Err(WireError::BadAppendEntry);
    }
    let leader = id_from_bytes(&msg[..ID_LEN]);
    let mut ae = AppendEntry::new(&leader, le_u64(&msg[8..]), le_u64(&msg[16..]), le_u64(&msg[24..]), le_u64(&msg[32..]), Vec::new());
    ae.reply = reply.to_string();
    ae.sub = sub;
    let ne = u16::from_le_bytes([msg[40], msg[41]]) as usize;
    let max = msg.len();
    let mut ri = 42usize;
    ae.entries.reserve(ne);
    for _ in 0..ne {
        if ri >= max - 1 || ri + 4 > max {
            return Err(WireError::BadAppendEntry);
        }
        let ml = u32::from_le_bytes([msg[ri], msg[ri + 1], msg[ri + 2], msg[ri + 3]]) as usize;
        ri += 4;
        if ml == 0 || ri + ml > max {
            return Err(WireError::BadAppendEntry);
        }
        ae.entries.push(Entry::new(EntryType::from_u8(msg[ri]), &msg[ri + 1..ri + ml]));
        ri += ml;
    }
    if ri < max {
        if let Some(lterm) = uvarint(&msg[ri..]) {
            ae.lterm = lterm;
        }
    }
    ae.buf = msg.to_vec();
    Ok(ae)
}

/// Reply to an append entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendEntryResponse {
    /// Responder's term (or pterm, depending on the path).
    pub term: u64,
    /// Responder's last index.
    pub index: u64,
    /// Responder id.
    pub peer: String,
    /// Reply subject carried by the message (a catch-up inbox); not encoded.
    pub reply: String,
    /// Whether the entry was accepted.
    pub success: bool,
}

impl AppendEntryResponse {
    /// Port of newAppendEntryResponse
    pub fn new(term: u64, index: u64, peer: &str, success: bool) -> Self {
        AppendEntryResponse { term, index, peer: peer.to_string(), reply: String::new(), success }
    }

    /// Port of (*appendEntryResponse).encode
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = vec![0u8; APPEND_ENTRY_RESPONSE_LEN];
        buf[0..8].copy_from_slice(&self.term.to_le_bytes());
        buf[8..16].copy_from_slice(&self.index.to_le_bytes());
        copy_id(&mut buf[16..16 + ID_LEN], &self.peer);
        buf[24] = u8::from(self.success);
        buf
    }
}

/// Port of decodeAppendEntryResponse
pub fn decode_append_entry_response(msg: &[u8]) -> Result<AppendEntryResponse, WireError> {
    if msg.len() != APPEND_ENTRY_RESPONSE_LEN {
        return Err(WireError::BadLength { kind: "append entry response", want: APPEND_ENTRY_RESPONSE_LEN, got: msg.len() });
    }
    Ok(AppendEntryResponse {
        term: le_u64(&msg[0..]),
        index: le_u64(&msg[8..]),
        peer: id_from_bytes(&msg[16..16 + ID_LEN]),
        reply: String::new(),
        success: msg[24] == 1,
    })
}

/// Request for a vote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoteRequest {
    /// Candidate's term.
    pub term: u64,
    /// Term of the candidate's last log entry.
    pub last_term: u64,
    /// Index of the candidate's last log entry.
    pub last_index: u64,
    /// Candidate id.
    pub candidate: String,
    /// Reply subject; not encoded.
    pub reply: String,
}

impl VoteRequest {
    /// Port of (*voteRequest).encode
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = vec![0u8; VOTE_REQUEST_LEN];
        buf[0..8].copy_from_slice(&self.term.to_le_bytes());
        buf[8..16].copy_from_slice(&self.last_term.to_le_bytes());
        buf[16..24].copy_from_slice(&self.last_index.to_le_bytes());
        copy_id(&mut buf[24..24 + ID_LEN], &self.candidate);
        buf
    }
}

/// Port of decodeVoteRequest
pub fn decode_vote_request(msg: &[u8], reply: &str) -> Result<VoteRequest, WireError> {
    if msg.len() != VOTE_REQUEST_LEN {
        return Err(WireError::BadLength { kind: "vote request", want: VOTE_REQUEST_LEN, got: msg.len() });
    }
    Ok(VoteRequest {
        term: le_u64(&msg[0..]),
        last_term: le_u64(&msg[8..]),
        last_index: le_u64(&msg[16..]),
        candidate: id_from_bytes(&msg[24..24 + ID_LEN]),
        reply: reply.to_string(),
    })
}

/// Answer to a vote request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoteResponse {
    /// Voter's term.
    pub term: u64,
    /// Voter id.
    pub peer: String,
    /// Whether the vote was granted.
    pub granted: bool,
    /// Whether the voter's log is empty.
    pub empty: bool,
}

impl VoteResponse {
    /// Port of (*voteResponse).encode
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = vec![0u8; VOTE_RESPONSE_LEN];
        buf[0..8].copy_from_slice(&self.term.to_le_bytes());
        copy_id(&mut buf[8..16], &self.peer);
        if self.granted {
            buf[16] |= 1;
        }
        if self.empty {
            buf[16] |= 2;
        }
        buf
    }
}

/// Port of decodeVoteResponse
pub fn decode_vote_response(msg: &[u8]) -> Result<VoteResponse, WireError> {
    if msg.len() != VOTE_RESPONSE_LEN {
        return Err(WireError::BadLength { kind: "vote response", want: VOTE_RESPONSE_LEN, got: msg.len() });
    }
    Ok(VoteResponse {
        term: le_u64(&msg[0..]),
        peer: id_from_bytes(&msg[8..16]),
        granted: msg[16] & 1 != 0,
        empty: msg[16] & 2 != 0,
    })
}

// Ids are copied like Go's `copy`: truncated to the field, zero padded.
fn copy_id(dst: &mut [u8], id: &str) {
    let id = id_bytes(id);
    let n = id.len().min(dst.len());
    dst[..n].copy_from_slice(&id[..n]);
}

pub(crate) fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// Appends `v` as an unsigned LEB128 varint (Go's `binary.PutUvarint`).
pub fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads an unsigned varint like Go's `binary.Uvarint`; `None` when the
/// buffer is too short or the value overflows.
pub fn uvarint(b: &[u8]) -> Option<u64> {
    let mut x = 0u64;
    let mut s = 0u32;
    for (i, &byte) in b.iter().enumerate() {
        if i == 10 {
            return None;
        }
        if byte < 0x80 {
            if i == 9 && byte > 1 {
                return None;
            }
            return Some(x | (byte as u64) << s);
        }
        x |= ((byte & 0x7f) as u64) << s;
        s += 7;
    }
    None
}

/// Appends `v` as a zig-zag signed varint (Go's `binary.PutVarint`).
pub fn put_varint(buf: &mut Vec<u8>, v: i64) {
    let ux = ((v as u64) << 1) ^ ((v >> 63) as u64);
    put_uvarint(buf, ux);
}

/// Reads a zig-zag signed varint (Go's `binary.Varint`).
pub fn varint(b: &[u8]) -> Option<i64> {
    let ux = uvarint(b)?;
    let x = (ux >> 1) as i64;
    Some(if ux & 1 != 0 { !x } else { x })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = include_str!("../../tests/nrg/wire_vectors.tsv");

    fn vector(kind: &str, name: &str) -> Vec<u8> {
        for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() == 3 && cols[0] == kind && cols[1] == name {
                return (0..cols[2].len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&cols[2][i..i + 2], 16).expect("hex vector"))
                    .collect();
            }
        }
        panic!("no vector {kind}/{name}");
    }

    fn ae(leader: &str, term: u64, commit: u64, pterm: u64, pindex: u64, entries: Vec<Entry>, lterm: u64) -> AppendEntry {
        let mut ae = AppendEntry::new(leader, term, commit, pterm, pindex, entries);
        ae.lterm = lterm;
        ae
    }

    fn ae_cases() -> Vec<(&'static str, AppendEntry)> {
        vec![
            ("heartbeat_no_leader", ae("", 1, 0, 0, 0, vec![], 0)),
            ("heartbeat", ae("S1Nunr6R", 7, 5, 6, 9, vec![], 0)),
            (
                "two_entries",
                ae(
                    "DEREK123",
                    2,
                    1,
                    1,
                    1,
                    vec![Entry::new(EntryType::Normal, *b"hello"), Entry::new(EntryType::PeerState, vec![3, 0, 0, 0, 0, 0, 0, 0])],
                    0,
                ),
            ),
            ("catchup_lterm", ae("abcdefgh", 3, 10, 3, 11, vec![Entry::new(EntryType::Snapshot, vec![])], 300)),
            (
                "big_values",
                ae(
                    "zzzzzzzz",
                    u64::MAX,
                    1 << 40,
                    (1 << 63) + 5,
                    0xdead_beef,
                    vec![Entry::new(EntryType::LeaderTransfer, *b"S1Nunr6R")],
                    u64::MAX,
                ),
            ),
        ]
    }

    #[test]
    fn append_entry_matches_go_vectors_and_round_trips() {
        for (name, a) in ae_cases() {
            let enc = a.encode().expect("encodes");
            assert_eq!(enc, vector("ae", name), "{name}");
            let mut d = decode_append_entry(&enc, Some(7), "reply").expect("decodes");
            assert_eq!(d.buf, enc);
            assert_eq!((d.sub, d.reply.as_str()), (Some(7), "reply"));
            d.buf.clear();
            d.sub = None;
            d.reply.clear();
            let mut want = a.clone();
            if want.leader.is_empty() {
                // An empty leader goes out as eight zero bytes.
                want.leader = "\0".repeat(ID_LEN);
            }
            assert_eq!(d, want, "{name}");
        }
    }

    #[test]
    fn responses_and_votes_match_go_vectors_and_round_trip() {
        let cases = [
            ("success", AppendEntryResponse::new(4, 100, "yrzKKRBu", true)),
            ("failure", AppendEntryResponse::new(0, 0, "cnrtt3eg", false)),
        ];
        for (name, ar) in cases {
            assert_eq!(ar.encode(), vector("aer", name), "{name}");
            assert_eq!(decode_append_entry_response(&ar.encode()).expect("decodes"), ar);
        }
        let vr = |term, last_term, last_index, c: &str| VoteRequest { term, last_term, last_index, candidate: c.into(), reply: String::new() };
        for (name, v) in [("simple", vr(2, 1, 7, "S4pOBBWF")), ("large", vr(u64::MAX, 1 << 33, 1 << 50, "nats-0__"))] {
            assert_eq!(v.encode(), vector("vreq", name), "{name}");
            let mut back = decode_vote_request(&v.encode(), "r").expect("decodes");
            assert_eq!(back.reply, "r");
            back.reply.clear();
            assert_eq!(back, v);
        }
        let vp = |term, peer: &str, granted, empty| VoteResponse { term, peer: peer.into(), granted, empty };
        for (name, v) in [
            ("granted", vp(3, "S1Nunr6R", true, false)),
            ("empty", vp(9, "abcdefgh", false, true)),
            ("granted_empty", vp(1 << 62, "12345678", true, true)),
        ] {
            assert_eq!(v.encode(), vector("vresp", name), "{name}");
            assert_eq!(decode_vote_response(&v.encode()).expect("decodes"), v);
        }
    }

    #[test]
    fn encode_rejects_bad_leader_and_too_many_entries() {
        let mut a = ae("foo_bar_baz", 1, 0, 0, 0, vec![], 0);
        assert_eq!(a.encode(), Err(WireError::LeaderLen));
        a.leader = "DEREK123".into();
        assert!(a.encode().is_ok());
        a.entries = vec![Entry::new(EntryType::Normal, vec![]); u16::MAX as usize + 1];
        assert_eq!(a.encode(), Err(WireError::TooManyEntries));
    }

    #[test]
    fn decode_rejects_truncation_and_corrupt_lengths() {
        let a = ae("12345678", 1, 0, 0, 0, vec![Entry::new(EntryType::Normal, vec![]); 300], 0);
        let buf = a.encode().expect("encodes");
        // The last byte is the uvarint lterm; every cut before it is corrupt.
        for cut in [APPEND_ENTRY_BASE_LEN - 1, buf.len() - 3, buf.len() - 2, 43, 44, 45] {
            assert!(matches!(decode_append_entry(&buf[..cut], None, ""), Err(WireError::BadAppendEntry)), "cut {cut}");
        }
        // A zero length prefix is corrupt.
        let mut z = buf.clone();
        z[42..46].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(decode_append_entry(&z, None, ""), Err(WireError::BadAppendEntry)));
        // A length running past the end is corrupt.
        let mut long = buf.clone();
        long[42..46].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode_append_entry(&long, None, ""), Err(WireError::BadAppendEntry)));
        assert!(decode_append_entry_response(&[0; 24]).is_err());
        assert!(decode_vote_request(&[0; 33], "").is_err());
        assert!(decode_vote_response(&[0; 16]).is_err());
    }

    #[test]
    fn entry_type_display_matches_go_spelling() {
        let cases = [
            (EntryType::Normal, "Normal"),
            (EntryType::OldSnapshot, "OldSnapshot"),
            (EntryType::PeerState, "PeerState"),
            (EntryType::AddPeer, "AddPeer"),
            (EntryType::RemovePeer, "RemovePeer"),
            (EntryType::LeaderTransfer, "LeaderTransfer"),
            (EntryType::Snapshot, "Snapshot"),
            (EntryType::Catchup, "Unknown [7]"),
            (EntryType::Unknown(200), "Unknown [200]"),
        ];
        for (t, want) in cases {
            assert_eq!(t.to_string(), want, "{t:?}");
        }
    }

    #[test]
    fn new_entry_keeps_kind_and_data() {
        let e = Entry::new(EntryType::AddPeer, *b"S1Nunr6R");
        assert_eq!(e.typ, EntryType::AddPeer);
        assert_eq!(e.data, b"S1Nunr6R");
        assert!(e.changes_membership());
        let e = Entry::new(EntryType::Normal, Vec::new());
        assert_eq!(e.typ, EntryType::Normal);
        assert!(e.data.is_empty());
        assert!(!e.changes_membership());
    }

    #[test]
    fn append_entry_display_summarises_header_and_entry_count() {
        let a = ae("abcdefgh", 3, 10, 2, 11, vec![Entry::new(EntryType::Normal, *b"x"), Entry::new(EntryType::Snapshot, vec![])], 300);
        assert_eq!(a.to_string(), "&{leader:abcdefgh term:3 commit:10 pterm:2 pindex:11 entries: 2}");
        let hb = AppendEntry::new("", 7, 0, 6, 5, Vec::new());
        assert_eq!(hb.to_string(), "&{leader: term:7 commit:0 pterm:6 pindex:5 entries: 0}");
    }

    #[test]
    fn varints_match_go() {
        let mut b = Vec::new();
        put_uvarint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        assert_eq!(uvarint(&b), Some(300));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(uvarint(&[0xff; 10]), None);
        for v in [0i64, 1, -1, 63, -64, 22, -11, i64::MAX, i64::MIN] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(varint(&b), Some(v));
        }
    }

    // Go decodes ids with `string(msg[a:b])`, which takes any bytes; the
    // port used to drop a message whose id was not UTF-8.
    #[test]
    fn decoders_take_any_id_bytes_and_reencode_them_unchanged() {
        let raw = [0xffu8, 0xfe, 0x80, b'a', 0, 0xc3, 0x28, 0x01];
        let mut vr = VoteRequest { term: 3, last_term: 2, last_index: 9, candidate: String::new(), reply: String::new() }.encode();
        vr[24..32].copy_from_slice(&raw);
        let got = decode_vote_request(&vr, "r").expect("any candidate bytes decode");
        assert_eq!(got.encode(), vr);

        let mut vresp = VoteResponse { term: 3, peer: String::new(), granted: true, empty: false }.encode();
        vresp[8..16].copy_from_slice(&raw);
        let got = decode_vote_response(&vresp).expect("any peer bytes decode");
        assert_eq!(got.encode(), vresp);

        let mut ar = AppendEntryResponse::new(3, 4, "", true).encode();
        ar[16..24].copy_from_slice(&raw);
        let got = decode_append_entry_response(&ar).expect("any peer bytes decode");
        assert_eq!(got.encode(), ar);

        let mut msg = AppendEntry::new("S1Nunr6R", 3, 1, 2, 4, vec![Entry::new(EntryType::Normal, b"x".to_vec())]).encode().expect("encodes");
        msg[..8].copy_from_slice(&raw);
        let got = decode_append_entry(&msg, None, "").expect("any leader bytes decode");
        assert_eq!(got.encode().expect("re-encodes"), msg);
        assert_eq!(&*crate::raft::peer_id::id_bytes(&got.leader), &raw[..]);
    }
}
