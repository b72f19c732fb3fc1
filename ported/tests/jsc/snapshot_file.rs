//! Snapshot checksum interoperability with Go's minio/highwayhash.

use crate::common::{fixture_text, unhex};
use ported::snapshot_file::SnapshotCodec;

#[test]
fn highwayhash_matches_go_vectors() {
    let text = fixture_text("highwayhash64.tsv");
    let mut n = 0;
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "bad line {line:?}");
        let codec = SnapshotCodec::new(cols[0]);
        let expected = unhex(cols[2]);
        let got = codec.checksum(&unhex(cols[1])).to_le_bytes();
        assert_eq!(got.as_slice(), expected.as_slice(), "group {:?} input {}", cols[0], cols[1]);
        n += 1;
    }
    assert!(n >= 50, "only {n} vectors");
}
