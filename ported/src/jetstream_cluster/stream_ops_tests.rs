//! Golden-byte tests of the stream entries, both ways, against what
//! upstream's encoders wrote (`testdata/stream_ops_golden.txt`).

use super::*;

fn golden(name: &str) -> Vec<u8> {
    let text = include_str!("testdata/stream_ops_golden.txt");
    let line = text.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_else(|| panic!("no golden {name}"));
    let h = line.split_whitespace().nth(1).expect("hex");
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex")).collect()
}

fn big() -> Vec<u8> {
    b"abcdefgh".repeat(1200)
}

fn plain() -> StreamMsg {
    StreamMsg {
        subject: "foo.bar".into(),
        reply: "_INBOX.x".into(),
        hdr: b"NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n".to_vec(),
        msg: b"hello".to_vec(),
        lseq: 41,
        ts: 1_735_689_600_123_456_789,
        sourced: false,
    }
}

fn simple(subject: &str, msg: &[u8], lseq: u64, ts: i64) -> StreamMsg {
    StreamMsg { subject: subject.into(), msg: msg.to_vec(), lseq, ts, ..Default::default() }
}

#[test]
fn stream_msg_entries_match_upstream_bytes_both_ways() {
    let cases: Vec<(&str, StreamMsg, &str, u64, bool)> = vec![
        ("plain", plain(), "", 0, false),
        ("sourced_empty", StreamMsg { subject: "s".into(), ts: 7, sourced: true, ..Default::default() }, "", 0, false),
        ("batch", simple("b.1", b"x", 3, 9), "BID", 2, false),
        ("commit", simple("b.1", b"y", 4, 10), "BID", 3, true),
        ("compressed", simple("big", &big(), 5, 11), "", 0, false),
        ("compressed_batch", simple("big", &big(), 6, 12), "B2", 1, true),
    ];
    for (name, m, bid, bseq, commit) in cases {
        let want = golden(name);
        let got = encode_stream_msg_allow_compress_and_batch(&m, bid, bseq, commit);
        if name.starts_with("compressed") {
            // The S2 block is the port's own encoder's (see crate::s2), not
            // byte for byte Go's: everything up to it must match, and the
            // block must decode to the same message (checked below for Go's).
            let at = want.iter().position(|&b| b == EntryOp::CompressedStreamMsg as u8).expect("op");
            assert_eq!(got[..=at], want[..=at], "header {name}");
            assert!(got.len() < m.msg.len(), "compressed smaller");
            let raw = s2::decode(&got[at + 1..]).expect("our block decodes");
            assert_eq!(decode_stream_msg(&raw).expect("ours decodes"), m);
        } else {
            assert_eq!(got, want, "encode {name}");
        }
        let (op, mbuf) = if bid.is_empty() {
            (want[0], &want[1..])
        } else {
            let b = decode_batch_msg(&want[1..]).expect("batch header");
            assert_eq!((b.batch_id.as_str(), b.batch_seq), (bid, bseq), "{name}");
            assert_eq!(want[0], if commit { EntryOp::BatchCommitMsg as u8 } else { EntryOp::BatchMsg as u8 });
            (b.op, b.mbuf)
        };
        assert_eq!(decode_msg_op(op, mbuf).expect("decodes"), m, "decode {name}");
    }
    assert_eq!(golden("compressed")[0], EntryOp::CompressedStreamMsg as u8);
    assert_eq!(encode_stream_msg(&plain()), golden("plain"));
}

#[test]
fn short_and_truncated_messages_are_refused() {
    let enc = golden("plain");
    assert_eq!(decode_stream_msg(&enc[1..26]), Err(StreamOpError::BadStreamMsg));
    for cut in [27, 30, 40, 50, enc.len() - 2] {
        assert_eq!(decode_stream_msg(&enc[1..cut]), Err(StreamOpError::BadStreamMsg), "cut at {cut}");
    }
    // No flags byte at all is a valid message from an older server.
    let m = decode_stream_msg(&enc[1..enc.len() - 1]).expect("no flags");
    assert!(!m.sourced);
    assert_eq!(decode_batch_msg(&[3, 0, b'a']), Err(StreamOpError::BadStreamMsg));
    assert_eq!(decode_batch_msg(&[1, 0, b'a', 2]), Err(StreamOpError::BadStreamMsg), "no inner op");
    assert!(matches!(decode_msg_op(EntryOp::CompressedStreamMsg as u8, &[0xff, 0xff]), Err(StreamOpError::Compression(_))));
}

#[test]
fn delete_purge_and_range_entries_match_upstream_json() {
    let md = StreamMsgDelete {
        client: Some(ClientInfo { account: "A".into(), ..Default::default() }),
        stream: "TEST".into(),
        seq: 22,
        no_erase: true,
        subject: "$JS.API.STREAM.MSG.DELETE.TEST".into(),
        reply: "_INBOX.r".into(),
    };
    assert_eq!(encode_msg_delete(&md), golden("delete"));
    assert_eq!(decode_msg_delete(&golden("delete")[1..]).expect("decodes"), md);
    let plain = StreamMsgDelete { stream: "TEST".into(), seq: 5, ..Default::default() };
    assert_eq!(encode_msg_delete(&plain), golden("delete_plain"));
    assert_eq!(decode_msg_delete(&golden("delete_plain")[1..]).expect("decodes"), plain);

    let sp = StreamPurge {
        stream: "TEST".into(),
        last_seq: 100,
        subject: "s".into(),
        reply: "r".into(),
        request: Some(PurgeRequest { subject: "foo.*".into(), keep: 3, sequence: 0 }),
        client: None,
    };
    assert_eq!(encode_stream_purge(&sp), golden("purge"));
    assert_eq!(decode_stream_purge(&golden("purge")[1..]).expect("decodes"), sp);
    let sp = StreamPurge { stream: "TEST".into(), last_seq: 100, ..Default::default() };
    assert_eq!(encode_stream_purge(&sp), golden("purge_plain"));
    assert_eq!(decode_stream_purge(&golden("purge_plain")[1..]).expect("decodes"), sp);

    let dr = DeleteRangeJson { first: 10, num: 90 };
    assert_eq!(encode_delete_range(&dr), golden("delete_range"));
    assert_eq!(decode_delete_range(&golden("delete_range")[1..]), Ok(dr));
    assert!(matches!(decode_msg_delete(b"{\"seq\":"), Err(StreamOpError::Json(_))));
}

#[test]
fn legacy_json_snapshot_keys() {
    let s = StreamSnapshot { msgs: 2, bytes: 40, first_seq: 1, last_seq: 3, failed: 1, deleted: vec![2] };
    let j = serde_json::to_string(&s).expect("json");
    assert_eq!(j, r#"{"messages":2,"bytes":40,"first_seq":1,"last_seq":3,"clfs":1,"deleted":[2]}"#);
    assert_eq!(serde_json::from_str::<StreamSnapshot>(&j).expect("back"), s);
    let none = StreamSnapshot { deleted: vec![], ..s };
    assert_eq!(serde_json::to_string(&none).expect("json"), r#"{"messages":2,"bytes":40,"first_seq":1,"last_seq":3,"clfs":1}"#);
}
