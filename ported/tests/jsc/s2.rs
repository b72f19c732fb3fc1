//! S2 interoperability with Go's klauspost/compress/s2 (vectors in
//! `tests/fixtures/s2/`, made by `ported/tools/gen_s2`).

use std::collections::BTreeMap;
use std::fs;

use crate::common::fixture;
use ported::s2;
use sha2::{Digest, Sha256};

fn input_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixture("s2"))
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".raw")).map(String::from))
        .collect();
    names.sort();
    names
}

fn read(name: &str) -> Vec<u8> {
    fs::read(fixture("s2").join(name)).expect("fixture file")
}

#[test]
fn decodes_go_encoded_blocks_and_streams() {
    let names = input_names();
    assert!(names.len() >= 10, "{names:?}");
    for name in &names {
        let raw = read(&format!("{name}.raw"));
        for kind in ["s2", "better.s2", "best.s2", "snappy.s2"] {
            let enc = read(&format!("{name}.{kind}"));
            assert_eq!(s2::decode(&enc).unwrap_or_else(|e| panic!("{name}.{kind}: {e}")), raw, "{name}.{kind}");
        }
        let stream = read(&format!("{name}.stream"));
        assert_eq!(s2::stream::decode_stream(&stream).expect("stream decodes"), raw, "{name}.stream");
    }
}

#[test]
fn go_encoded_blocks_reject_truncation() {
    let enc = read("json_meta_like.s2");
    for cut in [1usize, 2, 10, enc.len() / 2, enc.len() - 1] {
        assert!(s2::decode(&enc[..enc.len() - cut]).is_err(), "cut {cut} accepted");
    }
}

/// Rust-encoded outputs are committed next to the Go vectors and were decoded
/// by Go's `s2.Decode`/`s2.NewReader` (`gen_s2 verify`), which recorded their
/// SHA-256 in `rust_verified_by_go.tsv`. This test checks that today's encoder
/// still produces exactly those verified bytes. After an intentional encoder
/// change, run with `PORTED_BLESS=1` and re-run `gen_s2 verify` (see
/// `ported/tools/README.md`).
#[test]
fn rust_encoded_vectors_were_accepted_by_go() {
    let bless = std::env::var_os("PORTED_BLESS").is_some();
    let manifest = fs::read_to_string(fixture("s2").join("rust_verified_by_go.tsv")).unwrap_or_default();
    let verified: BTreeMap<(String, String), String> = manifest
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.len() == 4 && c[3] == "ok").then(|| ((c[0].to_string(), c[1].to_string()), c[2].to_string()))
        })
        .collect();
    for name in input_names() {
        let raw = read(&format!("{name}.raw"));
        for (kind, enc) in [("s2", s2::encode(&raw)), ("stream", s2::stream::encode_stream(&raw))] {
            let path = fixture("s2").join(format!("{name}.rust.{kind}"));
            if bless {
                fs::write(&path, &enc).expect("write blessed vector");
                continue;
            }
            let sum: String = Sha256::digest(&enc).iter().map(|b| format!("{b:02x}")).collect();
            let want = verified
                .get(&(name.clone(), kind.to_string()))
                .unwrap_or_else(|| panic!("{name}.rust.{kind} not verified by Go"));
            assert_eq!(&sum, want, "{name}.rust.{kind}: encoder output changed since Go verified it");
            assert_eq!(fs::read(&path).expect("committed vector"), enc);
        }
    }
}
