//! What the stream lifecycle handlers do with an assignment replayed while
//! the meta layer recovers, and the stop-gap clean-up of a delete
//! (issue 11: the mutation gate found these branches unchecked). The
//! replays are driven as `TestJetStreamClusterMetaRecoveryAddAndUpdateStream`
//! drives them: entries applied into recovery updates, which are then
//! processed as the end of meta recovery processes them.

use std::time::Duration;

use ported::jetstream_cluster::assignments::{ConsumerAssignment, StreamAssignment};
use ported::jetstream_cluster::cluster::JetStream;
use ported::jetstream_cluster::node::{Entry, EntryType};
use ported::jetstream_cluster::ops::{encode_delete_stream_assignment, encode_update_stream_assignment};
use ported::jetstream_cluster::RecoveryUpdates;
use ported::jetstream_cluster::assignments::RaftGroup;
use ported::sim::js::{js_test_seed, JsCluster, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};

use super::helpers::*;

fn answers(c: &JsCluster, cl: usize, reply: &str) -> Vec<serde_json::Value> {
    c.clients[cl].msgs.iter().filter(|m| m.subject == reply).map(|m| serde_json::from_slice(&m.data).expect("an API answer is JSON")).collect()
}

fn request(sa: &StreamAssignment, subject: &str, reply: &str) -> StreamAssignment {
    let mut r = sa.clone();
    r.subject = subject.into();
    r.reply = reply.into();
    r
}

fn subjects(c: &JsCluster, i: usize, name: &str) -> Option<serde_json::Value> {
    let st = c.js(i).st.borrow();
    st.stream_assignment(GLOBAL_ACCOUNT, name)?.config.as_ref()?.extra.get("subjects").cloned()
}

/// processClusterUpdateStream: an update replayed while recovering is
/// applied but not answered (its requester had the answer when it was
/// first applied); the same update applied live is answered once.
#[test]
fn an_update_replayed_while_recovering_is_applied_but_not_answered() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("an_update_replayed_while_recovering_is_applied_but_not_answered"));
    let meta = c.wait_on_leader().expect("meta leader");
    let cl = c.connect(meta, GLOBAL_ACCOUNT);
    c.subscribe(cl, "_INBOX.>");
    // R1 on the meta leader: no node, so the replica itself would answer.
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "R1", &["r1"], &[meta]);
    add_stream(&mut c, &sa).expect("stream added");
    let js = c.js(meta).clone();

    let replayed = request(&reconfigured(&sa, |cfg| {
        cfg.extra.insert("subjects".into(), serde_json::json!(["r1", "r1.replayed"]));
    }), "$JS.API.STREAM.UPDATE.R1", "_INBOX.replayed");
    js.set_meta_recovering();
    let mut ru = RecoveryUpdates::new();
    let (_, _, err) = js.apply_meta_entries(&[Entry::new(EntryType::Normal, encode_update_stream_assignment(&replayed).expect("encodes"))], Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.update_streams.len(), 1, "the update waits for the end of recovery");
    for sa in ru.update_streams.values() {
        assert!(sa.recovering, "staged as recovering");
        js.process_update_stream_assignment(sa.clone());
    }
    js.clear_meta_recovering();
    c.run_for(Duration::from_secs(1));
    assert_eq!(subjects(&c, meta, "R1"), Some(serde_json::json!(["r1", "r1.replayed"])), "the replayed update is applied");
    assert_eq!(answers(&c, cl, "_INBOX.replayed"), Vec::<serde_json::Value>::new(), "no answer while recovering");

    let live = request(&reconfigured(&sa, |cfg| {
        cfg.extra.insert("subjects".into(), serde_json::json!(["r1", "r1.live"]));
    }), "$JS.API.STREAM.UPDATE.R1", "_INBOX.live");
    let (_, _, err) = js.apply_meta_entries(&[Entry::new(EntryType::Normal, encode_update_stream_assignment(&live).expect("encodes"))], None);
    err.expect("no error");
    c.run_for(Duration::from_secs(1));
    assert_eq!(subjects(&c, meta, "R1"), Some(serde_json::json!(["r1", "r1.live"])));
    let got = answers(&c, cl, "_INBOX.live");
    assert_eq!(got.len(), 1, "a live update is answered once: {got:?}");
    assert_eq!(got[0]["type"], "io.nats.jetstream.api.v1.stream_update_response");
    assert_eq!(got[0]["config"]["subjects"], serde_json::json!(["r1", "r1.live"]));
}

/// processClusterDeleteStream: a removal replayed while recovering
/// deletes the stream here but answers nobody; a live one is answered by
/// the replica (an R1 stream's only member leads it).
#[test]
fn a_removal_replayed_while_recovering_deletes_the_stream_without_answering() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_removal_replayed_while_recovering_deletes_the_stream_without_answering"));
    let meta = c.wait_on_leader().expect("meta leader");
    let cl = c.connect(meta, GLOBAL_ACCOUNT);
    c.subscribe(cl, "_INBOX.>");
    let replayed = assignment(&c, meta, GLOBAL_ACCOUNT, "GONE", &["gone"], &[meta]);
    let live = assignment(&c, meta, GLOBAL_ACCOUNT, "LIVE", &["live"], &[meta]);
    add_stream(&mut c, &replayed).expect("stream added");
    add_stream(&mut c, &live).expect("stream added");
    let js = c.js(meta).clone();

    js.set_meta_recovering();
    let mut ru = RecoveryUpdates::new();
    let del = request(&replayed, "$JS.API.STREAM.DELETE.GONE", "_INBOX.replayed");
    let (_, _, err) = js.apply_meta_entries(&[Entry::new(EntryType::Normal, encode_delete_stream_assignment(&del).expect("encodes"))], Some(&mut ru));
    err.expect("no error");
    assert_eq!(ru.remove_streams.len(), 1, "the removal waits for the end of recovery");
    for sa in ru.remove_streams.values() {
        js.process_stream_removal(sa.clone());
    }
    js.clear_meta_recovering();
    c.run_for(Duration::from_secs(1));
    assert!(hosted(&c, meta, GLOBAL_ACCOUNT, "GONE").is_none(), "the replayed removal deletes the stream");
    assert!(c.js(meta).st.borrow().stream_assignment(GLOBAL_ACCOUNT, "GONE").is_none());
    assert_eq!(answers(&c, cl, "_INBOX.replayed"), Vec::<serde_json::Value>::new(), "no answer while recovering");

    let del = request(&live, "$JS.API.STREAM.DELETE.LIVE", "_INBOX.live");
    let (_, _, err) = js.apply_meta_entries(&[Entry::new(EntryType::Normal, encode_delete_stream_assignment(&del).expect("encodes"))], None);
    err.expect("no error");
    c.run_for(Duration::from_secs(1));
    assert!(hosted(&c, meta, GLOBAL_ACCOUNT, "LIVE").is_none());
    assert_eq!(answers(&c, cl, "_INBOX.live"), vec![serde_json::json!({"type": "io.nats.jetstream.api.v1.stream_delete_response", "success": true})], "a live removal is answered once");
}

/// processClusterDeleteStream's stop gap: on a member whose stream no
/// longer runs (stopped, its data kept) while its assignment still holds
/// the group's node, a removal from a meta snapshot (the local assignment,
/// marked recovering, as applyMetaSnapshot passes it) removes the group's
/// directory and those of the stream's consumers, since no running stream
/// is left to remove them.
#[test]
fn a_stream_no_longer_running_has_its_group_and_consumer_directories_swept() {
    let mut c = stream_cluster("R3S", 3, js_test_seed("a_stream_no_longer_running_has_its_group_and_consumer_directories_swept"));
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "TEST", &["foo"], &[0, 1, 2]);
    add_stream(&mut c, &sa).expect("stream added");
    let member = (meta + 1) % 3;
    let js = c.js(member).clone();

    let group = sa.group.as_ref().expect("a group");
    let cg = RaftGroup { name: format!("C-R3M-{}", &group.name[group.name.len() - 4..]), peers: group.peers.clone(), ..group.clone() };
    js.process_consumer_assignment(ConsumerAssignment {
        client: sa.client.clone(),
        created: sa.created.clone(),
        name: "dur".into(),
        stream: "TEST".into(),
        group: Some(cg.clone()),
        ..Default::default()
    });
    let js_dir = format!("{}/{SYSTEM_ACCOUNT}/_js_", c.servers[member].cfg.opts.store_dir);
    let (group_dir, consumer_dir) = (format!("{js_dir}/{}", group.name), format!("{js_dir}/{}", cg.name));
    c.world.disk.borrow_mut().put_file(&format!("{group_dir}/left-over"), b"x");
    c.world.disk.borrow_mut().put_file(&format!("{consumer_dir}/left-over"), b"x");

    js.runtime.stop_stream(&js, GLOBAL_ACCOUNT, "TEST");
    assert!(hosted(&c, member, GLOBAL_ACCOUNT, "TEST").is_none(), "no longer running here");
    let mut local = js.st.borrow().stream_assignment(GLOBAL_ACCOUNT, "TEST").cloned().expect("still assigned");
    assert!(local.group.as_ref().is_some_and(|g| g.node.is_some()), "the assignment keeps the node");
    assert!(local.consumers.contains_key("dur"), "and knows the consumer");
    JetStream::set_stream_assignment_recovering(&mut local);
    js.process_stream_removal(local);
    c.run_for(Duration::from_secs(1));

    assert_eq!(c.world.disk.borrow().paths_under(&group_dir), Vec::<String>::new(), "the group's directory is gone");
    assert_eq!(c.world.disk.borrow().paths_under(&consumer_dir), Vec::<String>::new(), "the consumer's group directory is gone");
    assert!(js.st.borrow().stream_assignment(GLOBAL_ACCOUNT, "TEST").is_none(), "the assignment is gone");
}
