//! Raft snapshot files (`snapshots/snap.<term>.<index>`): their binary layout,
//! the HighwayHash-64 checksum keyed by the group name, reading, writing and
//! naming. Shared by the raft port and the JetStream meta-snapshot tooling.
//!
//! Layout (all integers little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | last term |
//! | 8 | 8 | last index |
//! | 16 | 4 | peer-state length `n` |
//! | 20 | n | encoded peer state (see [`crate::peer_state`]) |
//! | 20+n | .. | snapshot data |
//! | len-8 | 8 | HighwayHash-64 of everything before it |
//!
//! The hash key is the SHA-256 digest of the raft group name, as the Go
//! server derives it when it creates a raft node.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use highway::{HighwayHash, HighwayHasher, Key};
use sha2::{Digest, Sha256};

/// Directory, inside a raft node's store directory, that holds snapshots.
pub const SNAPSHOTS_DIR: &str = "snapshots";

/// Smallest valid snapshot file: term, index, peer-state length, checksum.
pub const MIN_SNAPSHOT_LEN: usize = 28;

/// Length of the trailing checksum.
pub const CHECKSUM_LEN: usize = 8;

/// Errors while decoding or loading a snapshot file.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Fewer than [`MIN_SNAPSHOT_LEN`] bytes.
    #[error("snapshot corrupt: too short ({0} bytes, need at least 28)")]
    TooShort(usize),
    /// The trailing HighwayHash-64 does not match the contents.
    #[error("snapshot corrupt: checksums did not match (stored {stored:016x}, computed {computed:016x})")]
    ChecksumMismatch {
        /// Checksum found at the end of the file (little-endian u64).
        stored: u64,
        /// Checksum computed over the file contents.
        computed: u64,
    },
    /// The peer-state length points past the data area.
    #[error("snapshot corrupt: peer state length {len} exceeds the {available} bytes available")]
    PeerStateOverrun {
        /// Declared peer-state length.
        len: usize,
        /// Bytes between the header and the checksum.
        available: usize,
    },
    /// File name is not `snap.<term>.<index>`.
    #[error("bad snapshot name: {0:?}")]
    BadName(String),
    /// Reading or writing the file failed.
    #[error("snapshot i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// A decoded raft snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Term of the last entry covered by the snapshot.
    pub last_term: u64,
    /// Index of the last entry covered by the snapshot.
    pub last_index: u64,
    /// Encoded peer state (decode with [`crate::peer_state::decode_peer_state`]).
    pub peer_state: Vec<u8>,
    /// The state machine's snapshot payload.
    pub data: Vec<u8>,
}

/// The HighwayHash-64 key a raft group uses for its snapshot checksums:
/// the SHA-256 of the group name, read as four little-endian u64 words.
pub fn snapshot_hash_key(group: &str) -> Key {
    let digest = Sha256::digest(group.as_bytes());
    let mut words = [0u64; 4];
    for (w, chunk) in words.iter_mut().zip(digest.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *w = u64::from_le_bytes(b);
    }
    Key(words)
}

/// Snapshot encoder/decoder bound to one raft group's checksum key.
///
/// Create one per raft node (the key derivation hashes the group name).
#[derive(Debug, Clone)]
pub struct SnapshotCodec {
    key: Key,
}

impl SnapshotCodec {
    /// A codec for the raft group `group` (e.g. `"_meta_"`).
    pub fn new(group: &str) -> Self {
        SnapshotCodec { key: snapshot_hash_key(group) }
    }

    /// HighwayHash-64 of `buf` under this group's key.
    pub fn checksum(&self, buf: &[u8]) -> u64 {
        HighwayHasher::new(self.key).hash64(buf)
    }

    /// Port of (*raft).encodeSnapshot
    ///
    /// Serialises `snap` in the on-disk layout, checksum included.
    pub fn encode(&self, snap: &Snapshot) -> Vec<u8> {
        let mut buf =
            Vec::with_capacity(MIN_SNAPSHOT_LEN + snap.peer_state.len() + snap.data.len());
        buf.extend_from_slice(&snap.last_term.to_le_bytes());
        buf.extend_from_slice(&snap.last_index.to_le_bytes());
        buf.extend_from_slice(&(snap.peer_state.len() as u32).to_le_bytes());
        buf.extend_from_slice(&snap.peer_state);
        buf.extend_from_slice(&snap.data);
        let sum = self.checksum(&buf);
        buf.extend_from_slice(&sum.to_le_bytes());
        buf
    }

    /// Verifies and splits an encoded snapshot (the decoding half of
    /// `loadLastSnapshot`, without file handling).
    ///
    /// Unlike upstream, a peer-state length that runs past the data is a typed
    /// error instead of a slice panic.
    pub fn decode(&self, buf: &[u8]) -> Result<Snapshot, SnapshotError> {
        if buf.len() < MIN_SNAPSHOT_LEN {
            return Err(SnapshotError::TooShort(buf.len()));
        }
        let hoff = buf.len() - CHECKSUM_LEN;
        let stored = le_u64(&buf[hoff..]);
        let computed = self.checksum(&buf[..hoff]);
        if stored != computed {
            return Err(SnapshotError::ChecksumMismatch { stored, computed });
        }
        let lps = le_u32(&buf[16..20]) as usize;
        let available = hoff - 20;
        if lps > available {
            return Err(SnapshotError::PeerStateOverrun { len: lps, available });
        }
        Ok(Snapshot {
            last_term: le_u64(&buf[0..8]),
            last_index: le_u64(&buf[8..16]),
            peer_state: buf[20..20 + lps].to_vec(),
            data: buf[20 + lps..hoff].to_vec(),
        })
    }

    /// Reads and verifies the snapshot file at `path`.
    pub fn read_file(&self, path: &Path) -> Result<Snapshot, SnapshotError> {
        let buf = fs::read(path)?;
        self.decode(&buf)
    }

    /// Port of (*raft).loadLastSnapshot
    ///
    /// Loads the snapshot at `path`. A snapshot whose last index is 0 (written
    /// by a bug in old servers) is removed from disk and reported as `None`.
    pub fn load_last_snapshot(&self, path: &Path) -> Result<Option<Snapshot>, SnapshotError> {
        let snap = self.read_file(path)?;
        if snap.last_index == 0 {
            let _ = fs::remove_file(path);
            return Ok(None);
        }
        Ok(Some(snap))
    }

    /// Writes `snap` as `<snap_dir>/snap.<term>.<index>` and syncs it to disk,
    /// the file-writing step of `installSnapshot`. Returns the path written.
    pub fn write_file(&self, snap_dir: &Path, snap: &Snapshot) -> Result<PathBuf, SnapshotError> {
        fs::create_dir_all(snap_dir)?;
        let path = snap_dir.join(snapshot_file_name(snap.last_term, snap.last_index));
        let mut f = fs::File::create(&path)?;
        f.write_all(&self.encode(snap))?;
        f.sync_all()?;
        Ok(path)
    }
}

/// Name of the snapshot file for `term` and `index`: `snap.<term>.<index>`.
pub fn snapshot_file_name(term: u64, index: u64) -> String {
    format!("snap.{term}.{index}")
}

/// Port of termAndIndexFromSnapFile
///
/// Parses term and index from a snapshot file name (directories are
/// stripped). Like Go's `Sscanf("snap.%d.%d")`, blanks before a number are
/// skipped and anything after the index is ignored.
pub fn term_and_index_from_snap_file(name: &str) -> Result<(u64, u64), SnapshotError> {
    let bad = || SnapshotError::BadName(name.to_string());
    let base = Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(bad)?;
    let rest = base.strip_prefix("snap.").ok_or_else(bad)?;
    let (term, rest) = scan_decimal(rest).ok_or_else(bad)?;
    let rest = rest.strip_prefix('.').ok_or_else(bad)?;
    let (index, _) = scan_decimal(rest).ok_or_else(bad)?;
    Ok((term, index))
}

fn scan_decimal(s: &str) -> Option<(u64, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\r']);
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let v = s[..end].parse::<u64>().ok()?;
    Some((v, &s[end..]))
}

/// The selection step of (*raft).setupLastSnapshot: among the files in
/// `snap_dir`, the one with the highest term, then highest index. Names that
/// do not parse are skipped (the server deletes them; this does not).
/// Returns `Ok(None)` when the directory is missing or holds no snapshot.
pub fn latest_snapshot_file(snap_dir: &Path) -> Result<Option<(PathBuf, u64, u64)>, SnapshotError> {
    let entries = match fs::read_dir(snap_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut best: Option<(PathBuf, u64, u64)> = None;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Ok((term, index)) = term_and_index_from_snap_file(name) else { continue };
        let newer = match &best {
            None => true,
            Some((_, bt, bi)) => term > *bt || (term == *bt && index > *bi),
        };
        if newer {
            best = Some((entry.path(), term, index));
        }
    }
    Ok(best)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            last_term: 7,
            last_index: 1234,
            peer_state: vec![1, 2, 3, 4, 5],
            data: b"hello snapshot".to_vec(),
        }
    }

    #[test]
    fn encode_layout_is_little_endian_with_trailing_checksum() {
        let codec = SnapshotCodec::new("_meta_");
        let buf = codec.encode(&sample());
        assert_eq!(buf.len(), MIN_SNAPSHOT_LEN + 5 + 14);
        assert_eq!(&buf[0..8], &7u64.to_le_bytes());
        assert_eq!(&buf[8..16], &1234u64.to_le_bytes());
        assert_eq!(&buf[16..20], &5u32.to_le_bytes());
        assert_eq!(&buf[20..25], &[1, 2, 3, 4, 5]);
        let sum = codec.checksum(&buf[..buf.len() - 8]);
        assert_eq!(&buf[buf.len() - 8..], &sum.to_le_bytes());
    }

    #[test]
    fn round_trip() {
        let codec = SnapshotCodec::new("S-R3F-xyz");
        let snap = sample();
        assert_eq!(codec.decode(&codec.encode(&snap)).expect("decodes"), snap);
        let empty = Snapshot { last_term: 1, last_index: 1, ..Default::default() };
        assert_eq!(codec.decode(&codec.encode(&empty)).expect("decodes"), empty);
    }

    #[test]
    fn checksum_depends_on_group() {
        let buf = SnapshotCodec::new("_meta_").encode(&sample());
        let err = SnapshotCodec::new("other").decode(&buf).unwrap_err();
        assert!(matches!(err, SnapshotError::ChecksumMismatch { .. }), "{err}");
    }

    #[test]
    fn rejects_every_flipped_byte_and_truncation() {
        let codec = SnapshotCodec::new("_meta_");
        let buf = codec.encode(&sample());
        for i in 0..buf.len() {
            let mut b = buf.clone();
            b[i] ^= 0x40;
            assert!(codec.decode(&b).is_err(), "flip at {i} accepted");
        }
        for n in 0..buf.len() {
            assert!(codec.decode(&buf[..n]).is_err(), "truncation to {n} accepted");
        }
        assert!(matches!(codec.decode(&buf[..27]), Err(SnapshotError::TooShort(27))));
    }

    #[test]
    fn peer_state_length_overrun_is_typed_error() {
        let codec = SnapshotCodec::new("g");
        let mut buf = Vec::new();
        buf.extend_from_slice(&1u64.to_le_bytes());
        buf.extend_from_slice(&2u64.to_le_bytes());
        buf.extend_from_slice(&100u32.to_le_bytes());
        buf.extend_from_slice(b"abc");
        let sum = codec.checksum(&buf);
        buf.extend_from_slice(&sum.to_le_bytes());
        let err = codec.decode(&buf).unwrap_err();
        assert!(matches!(err, SnapshotError::PeerStateOverrun { len: 100, available: 3 }), "{err}");
    }

    #[test]
    fn file_names_parse_like_sscanf() {
        assert_eq!(snapshot_file_name(3, 99), "snap.3.99");
        assert_eq!(term_and_index_from_snap_file("snap.3.99").expect("ok"), (3, 99));
        assert_eq!(term_and_index_from_snap_file("/a/b/snapshots/snap.1.2").expect("ok"), (1, 2));
        assert_eq!(term_and_index_from_snap_file("snap.1.2x").expect("ok"), (1, 2));
        assert_eq!(term_and_index_from_snap_file("snap. 1. 2").expect("ok"), (1, 2));
        assert_eq!(
            term_and_index_from_snap_file("snap.18446744073709551615.1").expect("ok"),
            (u64::MAX, 1)
        );
        for bad in ["", "snap.1.", "snap.+1.2", "snap.-1.2", "snap.0x10.2", "snap.18446744073709551616.1", "snip.1.2"] {
            assert!(term_and_index_from_snap_file(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn write_read_and_pick_latest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sd = dir.path().join(SNAPSHOTS_DIR);
        let codec = SnapshotCodec::new("_meta_");
        let mut s = sample();
        let p1 = codec.write_file(&sd, &s).expect("write");
        assert_eq!(p1.file_name().and_then(|n| n.to_str()), Some("snap.7.1234"));
        s.last_term = 8;
        s.last_index = 10;
        codec.write_file(&sd, &s).expect("write");
        fs::write(sd.join("garbage"), b"x").expect("write garbage");
        let (latest, t, i) = latest_snapshot_file(&sd).expect("scan").expect("some");
        assert_eq!((t, i), (8, 10));
        assert_eq!(codec.read_file(&latest).expect("read"), s);
        assert!(latest_snapshot_file(&dir.path().join("nope")).expect("scan").is_none());
    }

    #[test]
    fn load_last_snapshot_drops_zero_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let codec = SnapshotCodec::new("_meta_");
        let zero = Snapshot { last_term: 1, last_index: 0, ..sample() };
        let p = codec.write_file(dir.path(), &zero).expect("write");
        assert_eq!(codec.load_last_snapshot(&p).expect("load"), None);
        assert!(!p.exists());
        let p = codec.write_file(dir.path(), &sample()).expect("write");
        assert_eq!(codec.load_last_snapshot(&p).expect("load"), Some(sample()));
    }
}
