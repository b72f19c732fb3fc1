//! Append entry encoding limits and corruption detection: ports of
//! raft_test.go tests 3 and 4 at nats-server 8188ea93a.

use ported::raft::{decode_append_entry, AppendEntry, Entry, EntryType, WireError, NO_LEADER};
use ported::sim::{test_seed, SimRng};
use ported::sim::sweep;

/// Port of TestNRGAppendEntryEncode
#[test]
fn test_nrg_append_entry_encode() {
    sweep("test_nrg_append_entry_encode", || test_nrg_append_entry_encode_seeded());
}

fn test_nrg_append_entry_encode_seeded() {
    let mut ae = AppendEntry { term: 1, pindex: 0, ..Default::default() };

    // The leader is either empty or exactly the id length.
    ae.leader = "foo_bar_baz".into();
    assert_eq!(ae.encode(), Err(WireError::LeaderLen));

    ae.leader = NO_LEADER.into();
    assert!(ae.encode().is_ok());

    ae.leader = "DEREK123".into();
    assert!(ae.encode().is_ok());

    // A caller's buffer is used only when the encoding fits in it.
    let mut raw_small = [0u8; 32];
    let mut raw_bigger = [0u8; 64];
    ae.encode_into(&mut raw_small).expect("encodes");
    assert_eq!(raw_small[0], 0, "expected the small buffer not to be used");
    ae.encode_into(&mut raw_bigger).expect("encodes");
    assert_ne!(raw_bigger[0], 0, "expected the bigger buffer to be used");

    // At most u16::MAX entries.
    for _ in 0..=u16::MAX as usize {
        ae.entries.push(Entry::new(EntryType::Normal, Vec::new()));
    }
    assert_eq!(ae.encode_into(&mut raw_bigger).map(|_| ()), Err(WireError::TooManyEntries));
}

/// Port of TestNRGAppendEntryDecode
///
/// Go draws the corrupted positions from `math/rand`; here they come from
/// the test's seeded RNG (printed on failure).
#[test]
fn test_nrg_append_entry_decode() {
    sweep("test_nrg_append_entry_decode", || test_nrg_append_entry_decode_seeded());
}

fn test_nrg_append_entry_decode_seeded() {
    let seed = test_seed("test_nrg_append_entry_decode");
    let mut rng = SimRng::new(seed);
    let mut ae = AppendEntry { leader: "12345678".into(), term: 1, pindex: 0, ..Default::default() };
    for _ in 0..u16::MAX {
        ae.entries.push(Entry::new(EntryType::Normal, Vec::new()));
    }
    let buf = ae.encode().expect("encodes");

    // A truncated buffer is corrupt.
    let short = &buf[..buf.len() - 1025];
    assert_eq!(decode_append_entry(short, None, ""), Err(WireError::BadAppendEntry), "seed {seed}");

    // Zeroing any non-zero byte past the header breaks an entry length
    // (the header itself, below byte 42, is not validated by decoding).
    for _ in 0..100 {
        let mut b = buf.clone();
        let bi = 42 + rng.index(b.len() - 42);
        if b[bi] != 0 && bi != 40 {
            b[bi] = 0;
            assert_eq!(decode_append_entry(&b, None, ""), Err(WireError::BadAppendEntry), "seed {seed}, byte {bi}");
        }
    }
}
