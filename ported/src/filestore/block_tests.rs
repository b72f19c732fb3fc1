use super::*;
use crate::filestore::record::{encode_record, encode_tombstone, EMPTY_RECORD_LEN};

const NAME: &str = "_meta_";

/// Records for sequences `seqs` (payload `m<seq>`), with their offsets.
fn records(seqs: &[u64]) -> (Vec<u8>, Vec<usize>) {
    let h = BlockHasher::new(NAME, 1);
    let mut buf = Vec::new();
    let mut offs = Vec::new();
    for &s in seqs {
        offs.push(buf.len());
        encode_record(&mut buf, &h, s, 1000 + s as i64, b"", b"", format!("m{}", s & !EBIT).as_bytes());
    }
    (buf, offs)
}

fn scanned(buf: &[u8]) -> (MsgBlock, Rebuilt) {
    let mut mb = MsgBlock::new(NAME, 1, buf.to_vec());
    let r = mb.rebuild_state().expect("scan");
    (mb, r)
}

#[test]
fn scan_counts_messages_and_sequences() {
    let (buf, _) = records(&[5, 6, 7]);
    let (mb, r) = scanned(&buf);
    assert_eq!((mb.first.seq, mb.last.seq, mb.msgs), (5, 7, 3));
    assert_eq!((mb.first.ts, mb.last.ts), (1005, 1007));
    assert_eq!(mb.bytes, buf.len() as u64);
    assert_eq!(mb.lchk, mb.last_checksum());
    assert_eq!(r, Rebuilt::default());
}

#[test]
fn gaps_and_erased_records_are_deleted() {
    let (buf, _) = records(&[1, 2 | EBIT, 3, 6]);
    let (mb, _) = scanned(&buf);
    assert_eq!((mb.first.seq, mb.last.seq, mb.msgs), (1, 6, 3));
    assert_eq!(mb.dmap.iter().copied().collect::<Vec<_>>(), vec![2, 4, 5]);
}

#[test]
fn erased_head_moves_first_past_it() {
    let (buf, _) = records(&[1 | EBIT, 2 | EBIT, 3]);
    let (mb, _) = scanned(&buf);
    assert_eq!((mb.first.seq, mb.last.seq, mb.msgs), (3, 3, 1));
    assert!(mb.dmap.is_empty());
}

#[test]
fn tombstones_are_collected_and_place_an_empty_block() {
    let h = BlockHasher::new(NAME, 1);
    let mut buf = Vec::new();
    encode_tombstone(&mut buf, &h, 9, 77);
    encode_tombstone(&mut buf, &h, 4, 70);
    let (mb, r) = scanned(&buf);
    assert_eq!(r.tombstones, vec![9, 4]);
    assert_eq!((mb.msgs, mb.first.seq, mb.last.seq, mb.last.ts), (0, 10, 9, 77));
}

#[test]
fn a_bad_record_truncates_the_block_and_loses_the_rest() {
    let (buf, offs) = records(&[1, 2, 3]);
    // Claim sequences up to 3 beforehand, as an index file would.
    for (at, reason) in [(offs[1] + 30, "checksum"), (offs[1] + 1, "length")] {
        let mut bad = buf.clone();
        bad[at] ^= 0x10;
        let mut mb = MsgBlock::new(NAME, 1, bad);
        mb.last.seq = 3;
        let r = mb.rebuild_state().expect("scan");
        assert_eq!((mb.first.seq, mb.last.seq, mb.msgs), (1, 1, 1), "{reason}");
        let t = r.truncated.expect("truncated");
        assert_eq!(t.offset, offs[1], "{reason}");
        assert_eq!(r.lost.expect("lost").msgs, vec![2, 3], "{reason}");
        assert_eq!(mb.file().len(), offs[1], "{reason}: cut like the file");
        assert_eq!(mb.lchk, buf[offs[1] - 8..offs[1]], "{reason}");
    }
    let mut mb = MsgBlock::new(NAME, 1, buf[..offs[2] + 10].to_vec());
    let r = mb.rebuild_state().expect("scan");
    assert!(matches!(r.truncated, Some(Truncation { reason: BadRecord::Overrun { .. }, .. })), "{r:?}");
    assert_eq!(mb.last.seq, 2);
}

#[test]
fn a_first_sequence_from_the_index_hides_older_records() {
    let (buf, _) = records(&[1, 2, 3, 4]);
    let mut mb = MsgBlock::new(NAME, 1, buf);
    mb.first.seq = 3;
    let r = mb.rebuild_state().expect("scan");
    assert_eq!((mb.first.seq, mb.last.seq, mb.msgs), (3, 4, 2));
    assert!(r.lost.is_none());
}

#[test]
fn empty_file_loses_what_the_index_claimed() {
    let mut mb = MsgBlock::new(NAME, 1, Vec::new());
    (mb.first.seq, mb.last.seq, mb.msgs, mb.bytes) = (4, 6, 2, 99);
    mb.dmap.insert(5);
    let r = mb.rebuild_state().expect("scan");
    assert_eq!(r.lost, Some(LostStreamData { msgs: vec![4, 6], bytes: 99 }));
    assert_eq!((mb.msgs, mb.first.seq, mb.last.seq), (0, 7, 6));
    assert!(mb.dmap.is_empty());
}

#[test]
fn reads_verify_checksums_once_and_find_deleted_slots() {
    let (buf, _) = records(&[1, 2, 4]);
    let (mut mb, _) = scanned(&buf);
    assert_eq!(mb.fetch_msg(1).expect("1").msg, b"m1");
    assert_eq!(mb.fetch_msg(4).expect("4").msg, b"m4");
    assert_eq!(mb.fetch_msg(3), Err(LoadError::Deleted));
    assert_eq!(mb.fetch_msg(5), Err(LoadError::NotFound));
    assert_eq!(mb.fetch_msg(1).expect("again").seq, 1);
}

#[test]
fn a_read_of_a_bad_record_in_a_trusted_block_fails_with_its_checksum() {
    let (mut buf, offs) = records(&[1, 2, 3]);
    let (clean, _) = scanned(&buf);
    buf[offs[1] + 25] ^= 1;
    // State as an index file would give it, without a scan.
    let mut mb = MsgBlock::new(NAME, 1, buf);
    (mb.first, mb.last, mb.msgs, mb.bytes) = (clean.first, clean.last, clean.msgs, clean.bytes);
    assert!(mb.fetch_msg(1).is_ok());
    assert!(matches!(mb.fetch_msg(2), Err(LoadError::BadMsg { reason: BadRecord::Checksum, .. })));
    assert!(mb.fetch_msg(3).is_ok());
}

#[test]
fn an_index_that_disagrees_with_the_records_rebuilds_on_read() {
    let (buf, _) = records(&[1, 2, 3]);
    let mut mb = MsgBlock::new(NAME, 1, buf);
    (mb.first.seq, mb.last.seq, mb.msgs) = (1, 5, 5);
    assert_eq!(mb.fetch_msg(2).expect("after rebuild").seq, 2);
    assert_eq!((mb.last.seq, mb.msgs), (3, 3));
    let pending = mb.take_pending_fs_rebuilds();
    assert_eq!(pending.len(), 1);
    assert_eq!(mb.fetch_msg(4), Err(LoadError::NotFound));
}

#[test]
fn select_next_first_skips_deleted() {
    let (buf, _) = records(&[1, 2, 3, 4]);
    let (mut mb, _) = scanned(&buf);
    mb.dmap.extend([2, 3]);
    mb.select_next_first();
    assert_eq!((mb.first.seq, mb.first.ts), (4, 1004));
    assert!(mb.dmap.is_empty());
}

#[test]
fn prior_tombstones_are_counted() {
    let h = BlockHasher::new(NAME, 1);
    let mut buf = Vec::new();
    encode_tombstone(&mut buf, &h, 3, 1);
    encode_record(&mut buf, &h, 7, 2, b"", b"", b"x");
    encode_tombstone(&mut buf, &h, 5, 3);
    encode_tombstone(&mut buf, &h, 1, 3);
    let (mut mb, _) = scanned(&buf);
    assert_eq!(mb.num_prior_tombs(2), 2, "tombstones 3 and 5 are below 7 and not below 2");
    assert_eq!(buf.len(), 3 * EMPTY_RECORD_LEN + EMPTY_RECORD_LEN + 1);
}

#[test]
fn huge_sequence_gaps_are_refused_instead_of_filled() {
    let (buf, offs) = records(&[1, 2, 1 << 40]);
    let (mb, r) = scanned(&buf);
    assert_eq!(mb.last.seq, 2);
    assert!(matches!(r.truncated, Some(Truncation { reason: BadRecord::SequenceGap { .. }, offset }) if offset == offs[2]));
}
