//! Ports of `server/memstore_test.go` at 8188ea93a for the parts of the
//! memory store that are ported (TTL, scheduling, subject-delete-marker and
//! sublist-filter tests are not: those features are not ported). Each test
//! keeps its Go name and every assertion; `time.Now` and sleeps become a
//! manual clock, and `math/rand` the simulator's seeded RNG.

use std::cell::Cell;
use std::rc::Rc;

use super::*;
use crate::store::state::{self, decode_stream_state};
use crate::store::subject;
use crate::sim::rng::SimRng;

struct Clock(Rc<Cell<i64>>);

impl Clock {
    fn new() -> (Clock, StoreClock) {
        // Any fixed instant: 2025-01-01T00:00:00Z.
        let c = Rc::new(Cell::new(1_735_689_600_000_000_000));
        let r = c.clone();
        (Clock(c), Rc::new(move || r.get()))
    }
    fn now(&self) -> i64 {
        self.0.get()
    }
    fn advance(&self, ns: i64) {
        self.0.set(self.0.get() + ns);
    }
}

fn cfg() -> StoreConfig {
    StoreConfig { storage: StorageType::Memory, ..Default::default() }
}

fn named(name: &str, subjects: &[&str]) -> StoreConfig {
    StoreConfig { name: name.into(), subjects: subjects.iter().map(|s| s.to_string()).collect(), ..cfg() }
}

fn new_ms(c: &StoreConfig) -> (MemStore, Clock) {
    let (clock, f) = Clock::new();
    (MemStore::new(c, f).expect("new memstore"), clock)
}

#[test]
fn test_mem_store_basics() {
    let (mut ms, clock) = new_ms(&cfg());
    let (subj, msg) = ("foo", b"Hello World".as_slice());
    let now = clock.now();
    let (seq, ts) = ms.store_msg(subj, &[], msg).expect("store");
    assert_eq!(seq, 1);
    assert!(ts >= now && ts <= now + 1_000_000, "timestamp is current");
    let state = ms.state();
    assert_eq!(state.msgs, 1);
    assert_eq!(state.bytes, mem_store_msg_size(subj, &[], msg));
    let sm = ms.load_msg(1).expect("load");
    assert_eq!(sm.subj, subj);
    assert_eq!(sm.msg, msg);
}

#[test]
fn test_mem_store_msg_limit() {
    let (mut ms, _) = new_ms(&StoreConfig { max_msgs: 10, ..cfg() });
    for _ in 0..10 {
        ms.store_msg("foo", &[], b"Hello World").expect("store");
    }
    assert_eq!(ms.state().msgs, 10);
    ms.store_msg("foo", &[], b"Hello World").expect("store");
    let state = ms.state();
    assert_eq!(state.msgs, 10);
    assert_eq!(state.last_seq, 11);
    assert_eq!(state.first_seq, 2);
    assert!(ms.load_msg(1).is_err(), "seq 1 is gone");
}

#[test]
fn test_mem_store_bytes_limit() {
    let msg = vec![0u8; 512];
    let stored = mem_store_msg_size("foo", &[], &msg);
    let to_store = 1024u64;
    let (mut ms, _) = new_ms(&StoreConfig { max_bytes: (stored * to_store) as i64, ..cfg() });
    for _ in 0..to_store {
        ms.store_msg("foo", &[], &msg).expect("store");
    }
    let state = ms.state();
    assert_eq!(state.msgs, to_store);
    assert_eq!(state.bytes, stored * to_store);
    for _ in 0..10 {
        ms.store_msg("foo", &[], &msg).expect("store");
    }
    let state = ms.state();
    assert_eq!(state.msgs, to_store);
    assert_eq!(state.bytes, stored * to_store);
    assert_eq!(state.first_seq, 11);
    assert_eq!(state.last_seq, to_store + 10);
}

#[test]
fn test_mem_store_bytes_limit_with_discard_new() {
    let msg = vec![0u8; 7];
    let stored = mem_store_msg_size("tiny", &[], &msg);
    let to_store = 3u64;
    let (mut ms, _) = new_ms(&StoreConfig { max_bytes: 100, discard: DiscardPolicy::New, ..cfg() });
    for i in 0..10 {
        let r = ms.store_msg("tiny", &[], &msg);
        if i < to_store {
            r.expect("store");
        } else {
            assert_eq!(r, Err(StoreError::MaxBytes));
        }
    }
    let state = ms.state();
    assert_eq!(state.msgs, to_store);
    assert_eq!(state.bytes, stored * to_store);
}

/// Upstream's `checkFor` over the store's timer: fire the age check each
/// time it comes due until `done` holds or `limit` ns of clock pass.
fn run_age_checks_until(ms: &mut MemStore, clock: &Clock, limit: i64, done: impl Fn(&mut MemStore) -> bool) -> bool {
    let end = clock.now() + limit;
    while !done(ms) {
        let Some(at) = ms.age_check_deadline() else { return false };
        if at > end {
            return false;
        }
        if at > clock.now() {
            clock.advance(at - clock.now());
        }
        ms.fire_age_check();
    }
    true
}

#[test]
fn test_mem_store_age_limit() {
    let max_age = 10_000_000; // 10ms
    let (mut ms, clock) = new_ms(&StoreConfig { max_age, ..cfg() });
    let to_store = 100u64;
    for _ in 0..to_store {
        ms.store_msg("foo", &[], b"Hello World").expect("store");
    }
    assert_eq!(ms.state().msgs, to_store);
    let expired = |ms: &mut MemStore| {
        let s = ms.state();
        s.msgs == 0 && s.bytes == 0
    };
    assert!(run_age_checks_until(&mut ms, &clock, 1_000_000_000, expired), "all expire within a second");
    // Add more: the timer must fire again.
    for _ in 0..to_store {
        ms.store_msg("foo", &[], b"Hello World").expect("store");
    }
    assert_eq!(ms.state().msgs, to_store);
    assert!(run_age_checks_until(&mut ms, &clock, 1_000_000_000, expired), "expire again");
}

#[test]
fn test_mem_store_time_stamps() {
    let (mut ms, clock) = new_ms(&cfg());
    let mut last = clock.now();
    for _ in 0..10 {
        clock.advance(5_000);
        ms.store_msg("foo", &[], b"Hello World").expect("store");
    }
    for seq in 1..=10 {
        let sm = ms.load_msg(seq).expect("load");
        assert!(sm.ts > last, "timestamps differ");
        last = sm.ts;
    }
}

#[test]
fn test_mem_store_purge() {
    let (mut ms, _) = new_ms(&cfg());
    for _ in 0..10 {
        ms.store_msg("foo", &[], b"Hello World").expect("store");
    }
    assert_eq!(ms.state().msgs, 10);
    ms.purge().expect("purge");
    assert_eq!(ms.state().msgs, 0);
}

#[test]
fn test_mem_store_compact() {
    let (mut ms, _) = new_ms(&cfg());
    for _ in 0..10 {
        ms.store_msg("foo", &[], b"Hello World").expect("store");
    }
    assert_eq!(ms.state().msgs, 10);
    assert_eq!(ms.compact(6), Ok(5));
    let state = ms.state();
    assert_eq!(state.msgs, 5);
    assert_eq!(state.first_seq, 6);
    // Compacting past the end resets first.
    assert_eq!(ms.compact(100), Ok(5));
    assert_eq!(ms.state().first_seq, 100);
}

#[test]
fn test_mem_store_erase_msg() {
    let (mut ms, _) = new_ms(&cfg());
    ms.store_msg("foo", &[], b"Hello World").expect("store");
    let sm = ms.load_msg(1).expect("load");
    assert_eq!(sm.msg, b"Hello World");
    assert_eq!(ms.erase_msg(1), Ok(true));
}

#[test]
fn test_mem_store_msg_headers() {
    let (mut ms, _) = new_ms(&cfg());
    let (subj, hdr, msg) = ("foo", b"name:derek".as_slice(), b"Hello World".as_slice());
    assert_eq!(mem_store_msg_size(subj, hdr, msg) as usize, subj.len() + hdr.len() + msg.len() + 16);
    ms.store_msg(subj, hdr, msg).expect("store");
    let sm = ms.load_msg(1).expect("load");
    assert_eq!(sm.msg, msg);
    assert_eq!(sm.hdr, hdr);
    assert_eq!(ms.erase_msg(1), Ok(true));
}

#[test]
fn test_mem_store_stream_state_deleted() {
    let (mut ms, _) = new_ms(&cfg());
    let to_store = 10u64;
    for i in 1..=to_store {
        ms.store_msg("foo", &[], format!("[{i:08}] Hello World!").as_bytes()).expect("store");
    }
    assert!(ms.state().deleted.is_empty());
    let mut expected = Vec::new();
    for seq in (2..to_store).step_by(2) {
        ms.remove_msg(seq).expect("remove");
        expected.push(seq);
    }
    assert_eq!(ms.state().deleted, expected);
    // Fill the gap by deleting 1 and 3.
    ms.remove_msg(1).expect("remove");
    ms.remove_msg(3).expect("remove");
    let expected = expected[2..].to_vec();
    let state = ms.state();
    assert_eq!(state.deleted, expected);
    assert_eq!(state.first_seq, 5);
    ms.purge().expect("purge");
    assert!(ms.state().deleted.is_empty());
}

#[test]
fn test_mem_store_stream_truncate() {
    let (mut ms, _) = new_ms(&cfg());
    let mut tseq = 50u64;
    let to_store = 100u64;
    for _ in 1..tseq {
        ms.store_msg("foo", &[], b"ok").expect("store");
    }
    for _ in tseq..=to_store {
        ms.store_msg("bar", &[], b"ok").expect("store");
    }
    assert_eq!(ms.state().msgs, to_store);
    ms.truncate(tseq).expect("truncate");
    assert_eq!(ms.state().msgs, tseq);
    // Interior deletes are reported after a truncate.
    for s in [10, 20, 30, 40] {
        ms.remove_msg(s).expect("remove");
    }
    tseq = 25;
    ms.truncate(tseq).expect("truncate");
    let state = ms.state();
    assert_eq!(state.msgs, tseq - 2);
    assert_eq!(state.num_subjects, 1);
    assert_eq!(state.deleted, vec![10, 20]);
}

#[test]
fn test_mem_store_purge_ex_with_subject() {
    let (mut ms, _) = new_ms(&cfg());
    for _ in 0..100 {
        ms.store_msg("foo", &[], &[]).expect("store");
    }
    ms.purge_ex("foo", 1, 0).expect("purge");
    assert_eq!(ms.state().msgs, 0);
}

#[test]
fn test_mem_store_update_max_msgs_per_subject() {
    let mut c = StoreConfig { max_msgs_per: 10, ..named("TEST", &["foo"]) };
    let (mut ms, _) = new_ms(&c);
    c.max_msgs_per = 50;
    ms.update_config(&c).expect("update");
    let num_stored = 22;
    for _ in 0..num_stored {
        ms.store_msg("foo", &[], &[]).expect("store");
    }
    assert_eq!(ms.subjects_state("foo")["foo"].msgs, num_stored);
    // A lower limit truncates.
    c.max_msgs_per = 10;
    ms.update_config(&c).expect("update");
    assert_eq!(ms.subjects_state("foo")["foo"].msgs, 10);
}

#[test]
fn test_mem_store_stream_truncate_reset() {
    let (mut ms, _) = new_ms(&named("TEST", &["foo"]));
    for _ in 0..1000 {
        ms.store_msg("foo", &[], b"Hello World").expect("store");
    }
    ms.truncate(0).expect("reset");
    let state = ms.state();
    assert_eq!((state.msgs, state.bytes, state.first_seq, state.last_seq, state.num_subjects, state.num_deleted), (0, 0, 0, 0, 0, 0));
    for _ in 0..1000 {
        ms.store_msg("foo", &[], b"Hello World").expect("store");
    }
    let state = ms.state();
    assert_eq!(state.msgs, 1000);
    assert_eq!(state.bytes, 30000);
    assert_eq!(state.first_seq, 1);
    assert_eq!(state.last_seq, 1000);
    assert_eq!(state.num_subjects, 1);
    assert_eq!(state.num_deleted, 0);
}

#[test]
fn test_mem_store_stream_compact_multi_block_subject_info() {
    let (mut ms, _) = new_ms(&named("TEST", &["foo.*"]));
    for i in 0..1000 {
        ms.store_msg(&format!("foo.{i}"), &[], b"Hello World").expect("store");
    }
    assert_eq!(ms.compact(501), Ok(500));
    assert_eq!(ms.state().num_subjects, 500);
}

#[test]
fn test_mem_store_subjects_totals() {
    let (mut ms, _) = new_ms(&named("TEST", &["*.*"]));
    let mut fmap = std::collections::BTreeMap::<u64, u64>::new();
    let mut bmap = std::collections::BTreeMap::<u64, u64>::new();
    let mut rng = SimRng::new(17);
    for _ in 0..10_000 {
        let (ft, m) = if rng.below(2) == 0 { ("foo", &mut fmap) } else { ("bar", &mut bmap) };
        let dt = rng.below(100);
        *m.entry(dt).or_default() += 1;
        ms.store_msg(&format!("{ft}.{dt}"), &[], b"Hello World").expect("store");
    }
    for (dt, total) in &fmap {
        let subj = format!("foo.{dt}");
        assert_eq!(ms.subjects_totals(&subj).get(&subj).copied().unwrap_or(0), *total, "{subj}");
    }
    let st = ms.subjects_totals("foo.*");
    assert_eq!(st.len(), fmap.len());
    assert_eq!(st.values().sum::<u64>(), fmap.values().sum::<u64>());
    let st = ms.subjects_totals("bar.*");
    assert_eq!(st.len(), bmap.len());
    assert_eq!(st.values().sum::<u64>(), bmap.values().sum::<u64>());
    assert_eq!(ms.subjects_totals("*.*").len(), bmap.len() + fmap.len());
}

#[test]
fn test_mem_store_num_pending() {
    let (mut ms, _) = new_ms(&named("TEST", &["*.*.*.*"]));
    let tokens = ["foo", "bar", "baz"];
    let mut rng = SimRng::new(23);
    for _ in 0..50_000 {
        let mut t = || tokens[rng.index(tokens.len())];
        let subj = format!("{}.{}.{}.{}", t(), t(), t(), t());
        ms.store_msg(&subj, &[], b"Hello World").expect("store");
    }
    let state = ms.state();

    let sanity_check = |ms: &MemStore, sseq: u64, filter: &str| {
        let mut ss = SimpleState::default();
        for seq in sseq.max(1)..=state.last_seq {
            let Ok(sm) = ms.load_msg(seq) else { continue };
            if subject::subject_is_subset_match(&sm.subj, filter) {
                ss.msgs += 1;
                ss.last = seq;
                if ss.first == 0 || seq < ss.first {
                    ss.first = seq;
                }
            }
        }
        ss
    };
    let sanity_check_last_only = |ms: &MemStore, sseq: u64, filter: &str| {
        let mut ss = SimpleState::default();
        let mut seen = std::collections::BTreeSet::new();
        for seq in (sseq.max(1)..=state.last_seq).rev() {
            let Ok(sm) = ms.load_msg(seq) else { continue };
            if !seen.contains(&sm.subj) && subject::subject_is_subset_match(&sm.subj, filter) {
                ss.msgs += 1;
                if ss.last == 0 {
                    ss.last = seq;
                }
                if ss.first == 0 || seq < ss.first {
                    ss.first = seq;
                }
                seen.insert(sm.subj.clone());
            }
        }
        ss
    };
    let start_seqs = [0u64, 1, 2, 200, 444, 555, 2222, 8888, 12_345, 28_222, 33_456, 44_400, 49_999];
    let check_subs = ["foo.>", "*.bar.>", "foo.bar.*.baz", "*.bar.>", "*.foo.bar.*", "foo.foo.bar.baz"];
    for filter in check_subs {
        for start in start_seqs {
            let (np, lvs) = ms.num_pending(start, filter, false);
            let ss = ms.filtered_state(start, filter);
            let sss = sanity_check(&ms, start, filter);
            assert_eq!(lvs, state.last_seq, "valid through");
            assert_eq!(ss.msgs, np, "NumPending vs FilteredState {filter} {start}");
            assert_eq!(ss, sss, "sanity check {filter} {start}");
            let (np, lvs) = ms.num_pending(start, filter, true);
            let ss = sanity_check_last_only(&ms, start, filter);
            assert_eq!(lvs, state.last_seq);
            assert_eq!(ss.msgs, np, "last only {filter} {start}");
        }
    }
}

#[test]
fn test_mem_store_initial_first_seq() {
    let (mut ms, _) = new_ms(&StoreConfig { first_seq: 1000, ..named("zzz", &[]) });
    assert_eq!(ms.store_msg("A", &[], b"OK").map(|r| r.0), Ok(1000));
    assert_eq!(ms.store_msg("B", &[], b"OK").map(|r| r.0), Ok(1001));
    let mut state = StreamState::default();
    ms.fast_state(&mut state);
    assert_eq!(state.msgs, 2);
    assert_eq!(state.first_seq, 1000);
    assert_eq!(state.last_seq, 1001);
}

#[test]
fn test_mem_store_delete_blocks() {
    let (mut ms, _) = new_ms(&named("zzz", &["*"]));
    let total = 10_000u64;
    for _ in 0..total {
        ms.store_msg("A", &[], b"OK").expect("store");
    }
    let mut rng = SimRng::new(31);
    let mut delete = std::collections::BTreeSet::new();
    while delete.len() < 5000 {
        delete.insert(rng.below(total) + 1);
    }
    for seq in delete {
        ms.remove_msg(seq).expect("remove");
    }
    let mut state = StreamState::default();
    ms.fast_state(&mut state);
    let dmap = ms.dmap().clone();
    assert_eq!(dmap.size(), state.num_deleted);
}

#[test]
fn test_mem_store_get_seq_from_time_with_last_deleted() {
    let (mut ms, clock) = new_ms(&named("zzz", &["*"]));
    let total = 1000u64;
    let mut st = 0;
    for i in 1..=total {
        ms.store_msg("A", &[], b"OK").expect("store");
        if i == total / 2 {
            clock.advance(100_000_000);
            st = clock.now();
            // Later messages are stamped after `st`, as with a real clock.
            clock.advance(1);
        }
    }
    for seq in total - 100..=total {
        ms.remove_msg(seq).expect("remove");
    }
    // The last sequence is gone: this must not panic, and gives 501.
    assert_eq!(ms.get_seq_from_time(st), 501);
}

#[test]
fn test_mem_store_skip_msgs() {
    let c = named("zzz", &["*"]);
    let (mut ms, _) = new_ms(&c);
    assert_eq!(ms.skip_msgs(10, 100), Err(StoreError::SequenceMismatch));
    ms.skip_msgs(1, 100).expect("skip");
    let state = ms.state();
    assert_eq!(state.first_seq, 101);
    assert_eq!(state.last_seq, 100);
    ms.skip_msgs(101, 100_000).expect("skip");
    let state = ms.state();
    assert_eq!(state.first_seq, 100_101);
    assert_eq!(state.last_seq, 100_100);

    // With a message stored, skips land in the dmap.
    let (mut ms, _) = new_ms(&c);
    ms.store_msg("foo", &[], &[]).expect("store");
    ms.skip_msgs(2, 10).expect("skip");
    let mut state = ms.state();
    assert_eq!(state.first_seq, 1);
    assert_eq!(state.last_seq, 11);
    assert_eq!(state.msgs, 1);
    assert_eq!(state.num_deleted, 10);
    assert_eq!(state.deleted.len(), 10);
    state.deleted.clear();
    ms.fast_state(&mut state);
    assert_eq!(state.first_seq, 1);
    assert_eq!(state.last_seq, 11);
    assert_eq!(state.msgs, 1);
    assert_eq!(state.num_deleted, 10);
}

#[test]
fn test_mem_store_multi_last_seqs() {
    let (mut ms, _) = new_ms(&named("zzz", &["foo.*", "bar.*"]));
    for _ in 0..33 {
        for s in ["foo.foo", "foo.bar", "foo.baz"] {
            ms.store_msg(s, &[], b"abc").expect("store");
        }
    }
    for _ in 0..33 {
        for s in ["bar.foo", "bar.bar", "bar.baz"] {
            ms.store_msg(s, &[], b"abc").expect("store");
        }
    }
    let mut check = |filters: &[&str], max: u64, want: &[u64]| {
        assert_eq!(ms.multi_last_seqs(filters, max, -1).expect("no error"), want, "{filters:?} up to {max}");
    };
    check(&["foo.*"], 3, &[1, 2, 3]);
    check(&["foo.*"], 0, &[97, 98, 99]);
    check(&["bar.*"], 0, &[196, 197, 198]);
    check(&["bar.*"], 99, &[]);
    check(&["foo.foo", "foo.bar", "foo.baz"], 3, &[1, 2, 3]);
    check(&["foo.foo", "foo.bar", "foo.baz"], 0, &[97, 98, 99]);
    check(&["bar.foo", "bar.bar", "bar.baz"], 0, &[196, 197, 198]);
    check(&["bar.foo", "bar.bar", "bar.baz"], 99, &[]);
    check(&["foo.foo"], 3, &[1]);
    // Duplicates between filters are dropped.
    check(&["foo.*", "foo.bar"], 3, &[1, 2, 3]);
    check(&["bar.>", "bar.bar", "bar.baz"], 0, &[196, 197, 198]);
    check(&[">"], 0, &[97, 98, 99, 196, 197, 198]);
    check(&[">"], 99, &[97, 98, 99]);
}

#[test]
fn test_mem_store_multi_last_seqs_max_allowed() {
    let (mut ms, _) = new_ms(&named("zzz", &["foo.*"]));
    for i in 1..=100 {
        ms.store_msg(&format!("foo.{i}"), &[], b"abc").expect("store");
    }
    assert_eq!(ms.multi_last_seqs(&["foo.*"], 0, 10), Err(StoreError::TooManyResults));
}

#[test]
fn test_mem_store_purge_ex_with_deleted_msgs() {
    let (mut ms, _) = new_ms(&named("zzz", &["foo"]));
    for _ in 1..=10 {
        ms.store_msg("foo", &[], b"abc").expect("store");
    }
    ms.remove_msg(2).expect("remove");
    ms.remove_msg(9).expect("remove"); // the bug's trigger
    assert_eq!(ms.purge_ex("", 9, 0), Ok(7));
    let mut state = StreamState::default();
    ms.fast_state(&mut state);
    assert_eq!(state.first_seq, 10);
    assert_eq!(state.last_seq, 10);
    assert_eq!(state.msgs, 1);
}

#[test]
fn test_mem_store_delete_all_first_sequence_check() {
    let (mut ms, _) = new_ms(&named("zzz", &["foo"]));
    for _ in 1..=10 {
        ms.store_msg("foo", &[], b"abc").expect("store");
    }
    for seq in 1..=10 {
        ms.remove_msg(seq).expect("remove");
    }
    let mut state = StreamState::default();
    ms.fast_state(&mut state);
    assert_eq!(state.first_seq, 11);
    assert_eq!(state.last_seq, 10);
    assert_eq!(state.msgs, 0);
}

#[test]
fn test_mem_store_num_pending_bug() {
    let (mut ms, _) = new_ms(&named("zzz", &["foo.*"]));
    for subj in ["foo.foo", "foo.bar", "foo.baz", "foo.zzz"] {
        ms.store_msg("foo.aaa", &[], &[]).expect("store");
        ms.store_msg(subj, &[], &[]).expect("store");
        ms.store_msg(subj, &[], &[]).expect("store");
    }
    let (total, _) = ms.num_pending(4, "foo.*", false);
    let mut check_total = 0;
    for seq in 4..=12 {
        let sm = ms.load_msg(seq).expect("load");
        if subject::subject_is_subset_match(&sm.subj, "foo.*") {
            check_total += 1;
        }
    }
    assert_eq!(total, check_total);
}

#[test]
fn test_mem_store_purge_leaks_dmap() {
    let (mut ms, _) = new_ms(&named("TEST", &["foo"]));
    for _ in 0..10 {
        ms.store_msg("foo", &[], &[]).expect("store");
    }
    for i in 2..=9 {
        ms.remove_msg(i).expect("remove");
    }
    assert_eq!(ms.dmap().size(), 8);
    assert_eq!(ms.purge(), Ok(2));
    assert_eq!(ms.dmap().size(), 0);
}

#[test]
fn test_mem_store_all_last_seqs() {
    let (mut ms, _) = new_ms(&StoreConfig { max_msgs_per: 50, ..named("zzz", &["*.*"]) });
    let subjs = ["foo.foo", "foo.bar", "foo.baz", "bar.foo", "bar.bar", "bar.baz"];
    let mut rng = SimRng::new(41);
    for _ in 0..100_000 {
        ms.store_msg(subjs[rng.index(subjs.len())], &[], b"abc").expect("store");
    }
    let mut expected: Vec<u64> = subjs.iter().map(|s| ms.load_last_msg(s).expect("last").seq).collect();
    expected.sort_unstable();
    assert_eq!(ms.all_last_seqs(), expected);
}

#[test]
fn test_mem_store_subject_for_seq() {
    let (mut ms, _) = new_ms(&named("foo", &["foo.>"]));
    assert_eq!(ms.store_msg("foo.bar", &[], &[]).map(|r| r.0), Ok(1));
    assert_eq!(ms.subject_for_seq(0), Err(StoreError::MsgNotFound));
    assert_eq!(ms.subject_for_seq(1).as_deref(), Ok("foo.bar"));
    assert_eq!(ms.subject_for_seq(2), Err(StoreError::MsgNotFound));
}

fn store_n(ms: &mut MemStore, subj: &str, n: usize) {
    for _ in 0..n {
        ms.store_msg(subj, &[], b"msg").expect("store");
    }
}

fn match_fixture() -> MemStore {
    let (mut ms, _) = new_ms(&named("zzz", &["foo.>"]));
    store_n(&mut ms, "foo.bar.a", 1); // seq 1
    store_n(&mut ms, "foo.baz.bar", 10); // 2-11
    store_n(&mut ms, "foo.bar.b", 1); // 12
    store_n(&mut ms, "foo.baz.bar", 10); // 13-22
    store_n(&mut ms, "foo.baz.bar.no.match", 10); // 23-32
    ms
}

#[test]
fn test_mem_store_next_wildcard_match() {
    let mut ms = match_fixture();
    assert_eq!(ms.next_wildcard_match_locked("foo.bar.*", 0), (1, 12, true));
    assert_eq!(ms.next_wildcard_match_locked("foo.bar.*", 1), (1, 12, true));
    let (first, last, found) = ms.next_wildcard_match_locked("foo.bar.*", 2);
    assert_eq!((first, last, found), (12, 12, true));
    assert!(!ms.next_wildcard_match_locked("foo.bar.*", first + 1).2);
    assert_eq!(ms.next_wildcard_match_locked("foo.baz.*", 1), (2, 22, true));
    assert_eq!(ms.next_wildcard_match_locked("foo.baz.*", 11), (11, 22, true));
    assert_eq!(ms.next_wildcard_match_locked("foo.baz.*", 12), (12, 22, true));
    assert_eq!(ms.next_wildcard_match_locked("foo.baz.*", 22), (22, 22, true));
    assert_eq!(ms.next_wildcard_match_locked("foo.baz.*", 23), (0, 0, false));
    assert_eq!(ms.next_wildcard_match_locked("foo.nope.*", 1), (0, 0, false));
    assert_eq!(ms.next_wildcard_match_locked("foo.>", 1), (1, 32, true));
}

#[test]
fn test_mem_store_next_literal_match() {
    let mut ms = match_fixture();
    assert_eq!(ms.next_literal_match_locked("foo.bar.a", 0), (1, 1, true));
    assert!(!ms.next_literal_match_locked("foo.bar.a", 2).2);
    assert_eq!(ms.next_literal_match_locked("foo.baz.bar", 1), (2, 22, true));
    assert_eq!(ms.next_literal_match_locked("foo.baz.bar", 11), (11, 22, true));
    assert_eq!(ms.next_literal_match_locked("foo.baz.bar", 22), (22, 22, true));
    assert_eq!(ms.next_literal_match_locked("foo.baz.bar", 23), (0, 0, false));
    assert_eq!(ms.next_literal_match_locked("foo.nope", 1), (0, 0, false));
}

#[test]
fn test_mem_store_multi_last_seqs_does_not_use_stale_last_value() {
    let (mut ms, _) = new_ms(&named("zzz", &["foo", "bar", "baz"]));
    for s in ["foo", "bar", "foo", " baz", "foo", "foo", "bar", "foo", "bar", "baz"] {
        ms.store_msg(s, &[], &[]).expect("store");
    }
    let seqs = ms.multi_last_seqs(&["foo", "bar"], 0, 0).expect("seqs");
    assert_eq!(seqs.len(), 2);
    assert_eq!(seqs[0], 8);
    assert_eq!(ms.remove_msg(8), Ok(true));
    let seqs = ms.multi_last_seqs(&["foo", "bar"], 0, 0).expect("seqs");
    assert_eq!(seqs.len(), 2);
    assert_eq!(seqs[0], 6);
}

// Beyond upstream's tests: the binary state snapshot, both ways.

#[test]
fn encoded_stream_state_round_trips_with_its_dmap() {
    let (mut ms, _) = new_ms(&named("zzz", &["foo"]));
    for _ in 0..20 {
        ms.store_msg("foo", &[], b"x").expect("store");
    }
    for s in [3, 7, 8, 15] {
        ms.remove_msg(s).expect("remove");
    }
    let enc = ms.encoded_stream_state(5);
    let mut want = vec![42u8, 1, 16, (16 * 20) as u8 + 0x80 - 0x80, 1, 20, 5, 4];
    // bytes = 16 msgs x (3 + 1 + 16) = 320 = 0xC0 0x02 as a uvarint.
    want[3] = 0xC0;
    want.insert(4, 0x02);
    let mut dm = SequenceSet::new();
    for s in [3, 7, 8, 15] {
        dm.insert(s);
    }
    want.extend_from_slice(&dm.encode());
    assert_eq!(enc, want);
    let st = decode_stream_state(&enc).expect("decodes");
    assert_eq!((st.msgs, st.bytes, st.first_seq, st.last_seq, st.failed), (16, 320, 1, 20, 5));
    assert_eq!(state::num_deleted(&st.deleted), 4);
    // A follower with every message syncs its deletes from the snapshot.
    let (mut f, _) = new_ms(&named("zzz", &["foo"]));
    for _ in 0..20 {
        f.store_msg("foo", &[], b"x").expect("store");
    }
    f.sync_deleted(&st.deleted);
    assert_eq!(f.state().deleted, vec![3, 7, 8, 15]);
    assert_eq!(f.encoded_stream_state(5), enc);
}

#[test]
fn decode_stream_state_rejects_damage() {
    assert_eq!(decode_stream_state(&[42]), Err(StoreError::BadStreamStateEncoding));
    assert_eq!(decode_stream_state(&[42, 2, 0]), Err(StoreError::BadStreamStateEncoding));
    assert_eq!(decode_stream_state(&[42, 1, 1, 2, 3]), Err(StoreError::CorruptStreamState));
    // A run-length block.
    let mut b = state::encode_stream_state_header(1, 2, 1, 10, 0, 8);
    b.extend_from_slice(&state::encode_delete_range(2, 8));
    let st = decode_stream_state(&b).expect("decodes");
    assert_eq!(st.deleted, vec![DeleteBlock::Range { first: 2, num: 8 }]);
    assert_eq!(st.deleted[0].state(), (2, 9, 8));
    // An unknown block magic, and a truncated run length.
    let mut bad = b.clone();
    let at = bad.len() - 3;
    bad[at] = 7;
    assert_eq!(decode_stream_state(&bad), Err(StoreError::CorruptStreamState));
    assert_eq!(decode_stream_state(&b[..b.len() - 1]), Err(StoreError::CorruptStreamState));
}
