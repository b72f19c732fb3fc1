use super::*;
use crate::jetstream_cluster::test_util::{ca, sa};

#[test]
fn entry_op_values_are_wire_stable() {
    assert_eq!(EntryOp::AssignStream as u8, 0);
    assert_eq!(EntryOp::RemoveConsumer as u8, 3);
    assert_eq!(EntryOp::AssignCompressedConsumer as u8, 9);
    assert_eq!(EntryOp::UpdateStream as u8, 11);
    assert_eq!(EntryOp::ResetSeq as u8, 18);
    for b in 0..=18u8 {
        assert_eq!(EntryOp::try_from(b).map(|o| o as u8).ok(), Some(b));
    }
    assert!(matches!(EntryOp::try_from(19), Err(OpError::UnknownOp(19))));
}

#[test]
fn stream_ops_round_trip_without_credentials() {
    let s = sa("A", "ORDERS", &["p1", "p2", "p3"], 3);
    for (buf, op) in [
        (encode_add_stream_assignment(&s), 0u8),
        (encode_update_stream_assignment(&s), 11),
        (encode_delete_stream_assignment(&s), 2),
    ] {
        let buf = buf.expect("encodes");
        assert_eq!(buf[0], op);
        assert_eq!(buf.last(), Some(&b'\n'));
        let text = std::str::from_utf8(&buf[1..]).expect("utf8");
        assert!(!text.contains("secret-jwt") && !text.contains("issuer_key"), "{text}");
        let decoded = match decode_meta_op(&buf).expect("decodes") {
            MetaOp::AssignStream(d) | MetaOp::UpdateStream(d) | MetaOp::RemoveStream(d) => d,
            other => panic!("wrong op {other:?}"),
        };
        assert_eq!(decoded.config, s.config);
        assert_eq!(decoded.group, s.group);
        assert_eq!((decoded.sync.as_str(), decoded.subject.as_str(), decoded.reply.as_str()), (s.sync.as_str(), s.subject.as_str(), s.reply.as_str()));
        assert_eq!(decoded.client.as_ref().map(|c| c.server.as_str()), Some("n1"));
        assert_eq!(decoded.client.as_ref().map(|c| c.jwt.as_str()), Some(""));
    }
}

#[test]
fn consumer_ops_round_trip() {
    let c = ca("A", "ORDERS", "proc", "C-R3F-x");
    let plain = encode_add_consumer_assignment(&c).expect("encodes");
    assert_eq!(plain[0], 1);
    let del = encode_delete_consumer_assignment(&c).expect("encodes");
    assert_eq!(del[0], 3);
    let comp = encode_add_consumer_assignment_compressed(&c).expect("encodes");
    assert_eq!(comp[0], 9);
    assert_eq!(&comp[1..11], b"\xff\x06\x00\x00S2sTwO");
    for buf in [plain, del, comp] {
        let d = match decode_meta_op(&buf).expect("decodes") {
            MetaOp::AssignConsumer(d) | MetaOp::RemoveConsumer(d) | MetaOp::AssignCompressedConsumer(d) => d,
            other => panic!("wrong op {other:?}"),
        };
        assert_eq!((d.name.as_str(), d.stream.as_str()), ("proc", "ORDERS"));
        assert_eq!(d.config, c.config);
        assert_eq!(d.group, c.group);
        assert_eq!(d.client.as_ref().map(|c| c.jwt.as_str()), Some(""));
    }
}

#[test]
fn bad_entries_are_errors() {
    assert!(matches!(decode_meta_op(&[]), Err(OpError::Empty)));
    assert!(matches!(decode_meta_op(&[200, b'{', b'}']), Err(OpError::UnknownOp(200))));
    assert!(matches!(decode_meta_op(&[4, b'{', b'}']), Err(OpError::NotMetaOp(EntryOp::StreamMsg))));
    assert!(matches!(decode_meta_op(b"\x00{not json"), Err(OpError::Json(_))));
    assert!(decode_meta_op(b"\x00{\"created\":\"x\",\"group\":null,\"sync\":\"\"}").is_err());
    assert!(matches!(decode_meta_op(b"\x09garbage"), Err(OpError::S2(_))));
}

#[test]
fn unsupported_config_is_flagged_not_rejected() {
    let buf = br#"{"created":"2024-01-01T00:00:00Z","stream":{"name":"S","num_replicas":1,"brand_new":1},"group":null,"sync":""}"#;
    let s = decode_stream_assignment(buf).expect("decodes");
    assert_eq!(s.unsupported.map(|u| u.reason), Some("unsupported - config error: unknown field \"brand_new\"".to_string()));
    assert_eq!(s.config.map(|c| c.name), Some("S".to_string()));
}
