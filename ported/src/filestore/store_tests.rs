use super::*;
use crate::filestore::record::EBIT;
use crate::filestore::writer::StoreWriter;

const NAME: &str = "_meta_";

fn payload(seq: u64) -> Vec<u8> {
    format!("entry {seq}").into_bytes()
}

fn writer(seqs: impl IntoIterator<Item = u64>, block_size: u64) -> StoreWriter {
    let mut w = StoreWriter::new(NAME, block_size);
    for s in seqs {
        w.store(s, s as i64, b"", b"", &payload(s & !EBIT));
    }
    w
}

fn open(files: &StoreFiles) -> FileStore {
    FileStore::recover(NAME, files).expect("recovers")
}

fn all(fs: &mut FileStore) -> Vec<u64> {
    let st = fs.state();
    (st.first_seq..=st.last_seq).filter(|&s| fs.load_msg(s).is_ok()).collect()
}

#[test]
fn recovers_blocks_in_order_and_reads_every_message() {
    let w = writer(1..=50, 200);
    assert!(w.blocks().len() > 5);
    let mut fs = open(&w.files(None));
    let st = fs.state();
    assert_eq!((st.first_seq, st.last_seq, st.msgs), (1, 50, 50));
    for s in 1..=50 {
        assert_eq!(fs.load_msg(s).expect("loads").msg, payload(s), "seq {s}");
    }
    assert_eq!(fs.load_msg(51), Err(LoadError::Eof));
    assert_eq!(fs.load_msg(0).expect("first").seq, 1);
}

#[test]
fn matching_index_files_are_used_and_stale_ones_are_not() {
    let w = writer(1..=10, 1 << 20);
    let files = w.files(Some(1));
    let fs = open(&files);
    assert_eq!(fs.events(), &[StoreEvent::IndexUsed { block: 1 }]);
    // Written before the last two records: its last checksum is stale.
    let mut files = files.clone();
    files.msgs.insert("1.idx".into(), writer(1..=8, 1 << 20).files(Some(1)).msgs["1.idx"].clone());
    let mut fs = open(&files);
    assert_eq!(fs.events(), &[StoreEvent::IndexNotUsed { block: 1, reason: IndexNotUsed::Stale }]);
    assert_eq!(all(&mut fs), (1..=10).collect::<Vec<_>>());
}

#[test]
fn a_stale_index_with_a_later_first_sequence_still_hides_compacted_records() {
    // 2.9.10 compacts a raft log by moving the index file's first sequence.
    let w = writer(1..=10, 1 << 20);
    let mut mb = MsgBlock::new(NAME, 1, w.blocks()[0].1.clone());
    mb.rebuild_state().expect("scan");
    mb.first.seq = 6;
    mb.msgs = 5;
    mb.lchk = [9; 8];
    let mut files = w.files(None);
    files.msgs.insert("1.idx".into(), crate::filestore::index::encode_index_info(&mb, 1));
    let mut fs = open(&files);
    assert_eq!(fs.state().first_seq, 6);
    assert_eq!(all(&mut fs), (6..=10).collect::<Vec<_>>());
}

#[test]
fn tombstones_remove_their_messages_on_recovery() {
    let mut w = writer(1..=6, 1 << 20);
    w.tombstone(1, 0);
    w.tombstone(2, 0);
    w.tombstone(4, 0);
    let mut fs = open(&w.files(None));
    let st = fs.state();
    assert_eq!((st.first_seq, st.last_seq, st.msgs), (3, 6, 3));
    assert_eq!(fs.load_msg(4), Err(LoadError::Deleted));
    assert_eq!(all(&mut fs), vec![3, 5, 6]);
}

#[test]
fn a_corrupt_record_truncates_and_later_blocks_still_load() {
    let w = writer(1..=20, 300);
    let mut files = w.files(None);
    let blk = files.msgs.get_mut("1.blk").expect("block 1");
    let n = blk.len();
    blk[n - 3] ^= 0xff;
    let block1_last = open(&w.files(None)).blocks()[0].last.seq;
    let mut fs = open(&files);
    // Without an index file nothing claimed the cut sequences, so only the
    // bytes are reported lost (as upstream).
    let lost = fs.lost_data().expect("lost").clone();
    assert!(lost.msgs.is_empty() && lost.bytes > 0, "{lost:?}");
    assert!(matches!(fs.events()[0], StoreEvent::Truncated { block: 1, .. }));
    let have = all(&mut fs);
    assert_eq!(*have.last().expect("some"), 20);
    assert!(!have.contains(&block1_last), "{have:?}");
    assert!(have.contains(&(block1_last - 1)) && have.contains(&(block1_last + 1)), "{have:?}");
}

#[test]
fn compaction_drops_blocks_and_messages_below() {
    let w = writer(1..=40, 300);
    let mut fs = open(&w.files(None));
    let blocks = fs.blocks().len();
    let purged = fs.compact(17).expect("compacts");
    assert_eq!(purged, 16);
    let st = fs.state();
    assert_eq!((st.first_seq, st.msgs), (17, 24));
    assert!(fs.blocks().len() < blocks);
    assert_eq!(fs.load_msg(16), Err(LoadError::NotFound));
    assert_eq!(all(&mut fs), (17..=40).collect::<Vec<_>>());
    assert_eq!(fs.compact(41).expect("purge"), 24);
    let st = fs.state();
    assert_eq!((st.first_seq, st.last_seq, st.msgs), (41, 40, 0));
    assert_eq!(fs.compact(100).expect("purge past the end"), 0);
    assert_eq!((fs.state().first_seq, fs.state().last_seq), (100, 99));
}

#[test]
fn encrypted_stores_are_refused() {
    let mut files = writer(1..=2, 1 << 20).files(None);
    files.meta_key = true;
    assert_eq!(FileStore::recover(NAME, &files).unwrap_err(), StoreError::NoMainKey);
    files.meta_key = false;
    files.msgs.insert("1.key".into(), vec![0; 64]);
    assert_eq!(FileStore::recover(NAME, &files).unwrap_err(), StoreError::EncryptedBlock(1));
}

#[test]
fn compressed_blocks_are_read_and_a_bad_header_stops_recovery() {
    let w = writer(1..=30, 1 << 20);
    let records = w.blocks()[0].1.clone();
    let mut files = StoreFiles::default();
    files.msgs.insert("1.blk".into(), crate::filestore::compression::compress_s2(&records).expect("compress"));
    let mut fs = open(&files);
    assert_eq!(all(&mut fs), (1..=30).collect::<Vec<_>>());
    let mut bad = files.clone();
    bad.msgs.get_mut("1.blk").expect("blk")[3] = 9;
    assert!(matches!(FileStore::recover(NAME, &bad), Err(StoreError::Block { .. })));
}

#[test]
fn empty_and_missing_block_files() {
    let mut files = StoreFiles::default();
    files.msgs.insert("1.blk".into(), Vec::new());
    let fs = open(&files);
    assert_eq!(fs.state().msgs, 0);
    assert_eq!(fs.events(), &[StoreEvent::EmptyBlockRemoved { block: 1 }]);
    let mut files = StoreFiles::default();
    files.msgs.insert("01.blk".into(), Vec::new());
    assert_eq!(FileStore::recover(NAME, &files).unwrap_err(), StoreError::OpenBlock("1.blk".into()));
}

#[test]
fn the_checksum_key_is_the_store_name() {
    let files = writer(1..=3, 1 << 20).files(None);
    let fs = FileStore::recover("S-R3F-other", &files).expect("opens");
    assert_eq!(fs.state().msgs, 0);
    assert!(matches!(fs.events()[0], StoreEvent::Truncated { .. }));
}

#[test]
fn truncation_drops_the_tail_across_blocks() {
    let w = writer(1..=40, 300);
    let mut fs = open(&w.files(None));
    fs.truncate(17).expect("truncates");
    let st = fs.state();
    assert_eq!((st.first_seq, st.last_seq, st.msgs), (1, 17, 17));
    assert_eq!(fs.load_msg(18), Err(LoadError::Eof));
    assert_eq!(all(&mut fs), (1..=17).collect::<Vec<_>>());
    let last = fs.blocks().last().expect("block");
    assert_eq!(last.last.seq, 17);
    assert_eq!(crate::filestore::record::msg_from_buf(&last.file()[last.file().len() - 38..], None).map(|m| m.seq), Ok(17), "file cut after 17");
    // Below the first sequence everything goes.
    let mut fs = open(&w.files(None));
    fs.compact(10).expect("compacts");
    fs.truncate(5).expect("truncates");
    assert_eq!((fs.state().msgs, fs.state().last_seq), (0, 5));
    fs.truncate(0).expect("resets");
    assert_eq!(fs.state(), StreamState::default());
}

#[test]
fn a_trusted_index_that_overstates_the_block_is_corrected_when_read() {
    // The index file's checksum matches the block, but it claims two more
    // messages than the records hold: the first read rescans the block and
    // the store's state follows.
    let w = writer(1..=5, 1 << 20);
    let mut mb = MsgBlock::new(NAME, 1, w.blocks()[0].1.clone());
    mb.rebuild_state().expect("scan");
    (mb.last.seq, mb.msgs) = (7, 7);
    let mut files = w.files(None);
    files.msgs.insert("1.idx".into(), crate::filestore::index::encode_index_info(&mb, 1));
    let mut fs = open(&files);
    assert_eq!((fs.state().last_seq, fs.state().msgs), (7, 7));
    assert_eq!(fs.load_msg(3).expect("reads").msg, payload(3));
    assert!(fs.events().contains(&StoreEvent::RebuiltOnRead { block: 1 }), "{:?}", fs.events());
    assert_eq!((fs.state().last_seq, fs.state().msgs), (5, 5));
    assert_eq!(fs.load_msg(6), Err(LoadError::Eof));
}

#[test]
fn a_tombstone_for_a_lost_message_takes_it_off_the_lost_list() {
    // Block 1's index claims 1..=6 but its file was cut after 4; block 2
    // holds a tombstone for 6.
    let w = writer(1..=6, 1 << 20);
    let mut mb = MsgBlock::new(NAME, 1, w.blocks()[0].1.clone());
    mb.rebuild_state().expect("scan");
    let idx = crate::filestore::index::encode_index_info(&mb, 1);
    let cut = {
        let full = open(&w.files(None));
        let blk = &full.blocks()[0];
        let per = blk.file().len() / 6;
        blk.file()[..4 * per + 3].to_vec()
    };
    let mut files = w.files(None);
    files.msgs.insert("1.blk".into(), cut);
    files.msgs.insert("1.idx".into(), idx);
    let mut t2 = Vec::new();
    crate::filestore::record::encode_tombstone(&mut t2, &crate::filestore::BlockHasher::new(NAME, 2), 6, 0);
    files.msgs.insert("2.blk".into(), t2);
    let fs = open(&files);
    assert!(matches!(fs.events().iter().find(|e| matches!(e, StoreEvent::Truncated { .. })), Some(StoreEvent::Truncated { lost, .. }) if lost == &vec![5, 6]), "{:?}", fs.events());
    assert_eq!(fs.lost_data().map(|l| l.msgs.clone()), Some(vec![5]));
}
