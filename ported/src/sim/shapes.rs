//! Composite fault shapes for the random schedules: short scripts of
//! ordinary faults (partitions, a stalled link, stops, crashes, a leader
//! transfer) aimed at moments a uniform random schedule almost never
//! reaches. Every choice inside a shape comes from the run's seeded RNG, and
//! a shape knows nothing about planted bugs: it only arranges the network
//! and the nodes, while the invariant checker judges what the nodes do.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::raft::RaftState;

use super::cluster::{Cluster, RaftGroup};
use super::invariants::Invariants;

/// How far a shape got; `Done` means every phase ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeOutcome {
    /// The group never reached the state a phase waits for; the shape gave up.
    GaveUp(&'static str),
    /// All phases ran.
    Done,
    /// The invariant checker reported a violation while the shape ran.
    Violation,
}

fn running(c: &Cluster, slot: usize) -> bool {
    c.nodes[slot].raft.state() != RaftState::Closed
}

/// The member in leader state with the highest term among `among`, if any.
fn leader_among(c: &Cluster, among: &[usize]) -> Option<usize> {
    among
        .iter()
        .copied()
        .filter(|&m| c.nodes[m].raft.state() == RaftState::Leader)
        .max_by_key(|&m| c.nodes[m].raft.term())
}

/// A leader among `among` that has applied its first entry as leader (Go's
/// `Leader()`), so its peer state entry is committed.
fn settled_leader_among(c: &Cluster, among: &[usize]) -> Option<usize> {
    leader_among(c, among).filter(|&m| c.nodes[m].raft.leader())
}

fn restart(c: &mut Cluster, inv: &Rc<RefCell<Invariants>>, slot: usize) {
    let name = c.servers[c.nodes[slot].server].name.clone();
    if c.world.disk.borrow().is_dead(&name) {
        c.crash(slot);
    }
    if c.nodes[slot].raft.state() == RaftState::Closed && c.try_restart(slot).is_ok() {
        super::schedule::note_restart(c, slot, inv);
    }
}

// A crash: power loss where the group's WALs survive it (file WALs synced on
// every append), otherwise the process dies and its page cache survives.
fn crash(c: &mut Cluster, slot: usize) {
    if c.nodes[slot].storage == crate::raft::StorageType::File && c.wal_sync == super::cluster::SyncPolicy::Always {
        c.crash(slot);
    } else {
        c.stop(slot);
    }
}

fn ms(c: &Cluster, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(c.world.rng.borrow_mut().range(lo, hi))
}

fn pick(c: &Cluster, from: &[usize]) -> usize {
    from[c.world.rng.borrow_mut().index(from.len())]
}

/// Both shapes start the same way: a five-node group, healed, every
/// member running, power failures armed by the schedule called off, and a
/// settled leader. Returns the members and that leader.
fn settle_five(c: &mut Cluster, rg: &RaftGroup, inv: &Rc<RefCell<Invariants>>) -> Result<(Vec<usize>, usize), ShapeOutcome> {
    let members = rg.members.clone();
    if members.len() < 5 {
        return Err(ShapeOutcome::GaveUp("needs five nodes"));
    }
    c.world.net.borrow_mut().heal();
    c.world.disk.borrow_mut().disarm();
    super::schedule::restart_dead(c, &members, inv);
    let all = members.clone();
    if !wait(c, inv, Duration::from_secs(8), |c| settled_leader_among(c, &all).is_some())? {
        return Err(ShapeOutcome::GaveUp("no leader to start from"));
    }
    let leader = settled_leader_among(c, &members).ok_or(ShapeOutcome::GaveUp("leader vanished"))?;
    Ok((members, leader))
}

/// Runs until `cond` holds, a violation is recorded, or `budget` passes.
fn wait(c: &mut Cluster, inv: &Rc<RefCell<Invariants>>, budget: Duration, mut cond: impl FnMut(&mut Cluster) -> bool) -> Result<bool, ShapeOutcome> {
    let inv2 = inv.clone();
    let held = c.run_until(budget, |c| inv2.borrow().violation.is_some() || cond(c));
    if inv.borrow().violation.is_some() {
        return Err(ShapeOutcome::Violation);
    }
    Ok(held)
}

fn run(c: &mut Cluster, inv: &Rc<RefCell<Invariants>>, d: Duration) -> Result<(), ShapeOutcome> {
    wait(c, inv, d, |_| false).map(|_| ())
}

/// Proposes `n` blocks at `slot`, each in its own append entry (a short run
/// between proposals keeps the leader from batching them into one index).
fn propose_spaced(c: &mut Cluster, inv: &Rc<RefCell<Invariants>>, slot: usize, n: u64) -> Result<(), ShapeOutcome> {
    for _ in 0..n {
        if c.nodes[slot].raft.state() != RaftState::Leader {
            break;
        }
        c.propose_block(slot);
        let d = ms(c, 2, 15);
        run(c, inv, d)?;
    }
    Ok(())
}

/// "Figure 8" of the Raft paper, reached through NATS's only source of
/// previous-term acknowledgements: a follower's success responses that sit
/// on a stalled link while leadership moves on and comes back.
///
/// In a group of five (A leader, B a follower, the rest C, D, E):
/// 1. `{A, B}` is cut off from the rest and B's link to A stalls; A appends
///    a few entries that only B stores, and B's acknowledgements wait on the
///    stalled link.
/// 2. The rest elect a leader of a later term and append their own entries
///    over the same indexes.
/// 3. B stops or crashes with A's old entries on disk; A rejoins and
///    follows, replacing its old entries with the new leader's.
/// 4. Leadership is transferred to A. The moment A leads, A can reach only
///    one follower D (and B's server, whose node is down), and B's stalled
///    link drains: A receives success responses from its earlier term for
///    indexes it now holds different entries at.
/// 5. A (or A crashes) and D are cut off; B returns among the rest, who
///    elect a leader lacking A's new entries and overwrite them.
///
/// A leader that counts only current-term acknowledgements commits nothing
/// in step 4 (A and D are two of five), so step 5 is safe. One that counts
/// B's old acknowledgements commits entries that step 5 then overwrites, and
/// the checker sees one index committed with two terms. With three nodes a
/// previous-term acknowledgement still proves a quorum (leader plus the
/// acknowledging follower) stored that same entry in its own term, which is
/// safe, so the shape needs five.
pub fn stale_acks_across_elections(c: &mut Cluster, rg: &RaftGroup, inv: &Rc<RefCell<Invariants>>) -> ShapeOutcome {
    match stale_acks_inner(c, rg, inv) {
        Ok(()) => ShapeOutcome::Done,
        Err(o) => o,
    }
}

fn stale_acks_inner(c: &mut Cluster, rg: &RaftGroup, inv: &Rc<RefCell<Invariants>>) -> Result<(), ShapeOutcome> {
    let (members, a) = settle_five(c, rg, inv)?;
    let n_servers = c.servers.len();
    let server = |c: &Cluster, slot: usize| c.nodes[slot].server;
    let followers: Vec<usize> = members.iter().copied().filter(|&m| m != a).collect();
    let b = pick(c, &followers);
    if !wait(c, inv, Duration::from_secs(2), |c| running(c, b) && c.nodes[b].raft.last_log() == c.nodes[a].raft.last_log())? {
        return Err(ShapeOutcome::GaveUp("follower never caught up"));
    }
    let rest: Vec<usize> = followers.iter().copied().filter(|&m| m != b).collect();

    // 1. Minority {A, B}; B's responses to A stall.
    let (sa, sb) = (server(c, a), server(c, b));
    let rest_servers: Vec<usize> = rest.iter().map(|&m| server(c, m)).collect();
    c.world.net.borrow_mut().partition(&[vec![sa, sb], rest_servers.clone()]);
    c.world.net.borrow_mut().stall(sb, sa);
    let n_old = c.world.rng.borrow_mut().range(4, 8);
    propose_spaced(c, inv, a, n_old)?;
    let a_log = c.nodes[a].raft.last_log();
    wait(c, inv, Duration::from_millis(500), |c| c.nodes[b].raft.last_log() == a_log)?;

    // 2. The majority elects a later-term leader and appends over those indexes.
    let r = rest.clone();
    if !wait(c, inv, Duration::from_secs(8), |c| settled_leader_among(c, &r).is_some())? {
        return Err(ShapeOutcome::GaveUp("majority elected nobody"));
    }
    let l2 = settled_leader_among(c, &rest).ok_or(ShapeOutcome::GaveUp("majority leader vanished"))?;
    let n_new = c.world.rng.borrow_mut().below(n_old.saturating_sub(3) + 1);
    propose_spaced(c, inv, l2, n_new)?;
    let d = ms(c, 50, 200);
    run(c, inv, d)?;

    // 3. B goes down holding A's old entries; A rejoins and follows.
    if c.world.rng.borrow_mut().chance(0.5) {
        c.stop(b);
    } else {
        crash(c, b);
    }
    c.world.net.borrow_mut().heal();
    let r = rest.clone();
    let synced = wait(c, inv, Duration::from_secs(8), |c| {
        settled_leader_among(c, &r).is_some_and(|l| {
            let (ln, an) = (&c.nodes[l].raft, &c.nodes[a].raft);
            an.state() == RaftState::Follower && an.last_log() == ln.last_log() && an.commit_index() == ln.commit_index()
        })
    })?;
    if !synced {
        restart(c, inv, b);
        return Err(ShapeOutcome::GaveUp("old leader never rejoined"));
    }

    // 4. Hand leadership to A; the moment it leads, only D hears it and B's
    // stalled acknowledgements arrive.
    let d_slot = pick(c, &rest);
    let others: Vec<usize> = rest.iter().copied().filter(|&m| m != d_slot).map(|m| server(c, m)).collect();
    let (sd, a_id) = (server(c, d_slot), c.nodes[a].raft.id().to_string());
    let mut leads = false;
    for _ in 0..3 {
        if let Some(l) = settled_leader_among(c, &rest) {
            let _ = c.node(l).step_down(&[a_id.as_str()]);
        }
        leads = wait(c, inv, Duration::from_secs(2), |c| c.nodes[a].raft.state() == RaftState::Leader)?;
        if leads {
            break;
        }
    }
    if !leads {
        restart(c, inv, b);
        return Err(ShapeOutcome::GaveUp("leadership never reached the old leader"));
    }
    {
        let now = c.world.now.get();
        let mut rng = c.world.rng.borrow_mut();
        let mut net = c.world.net.borrow_mut();
        net.partition(&[vec![sa, sb, sd], others.clone()]);
        net.release(sb, sa, now, &mut rng);
    }
    let n_lead = c.world.rng.borrow_mut().range(1, 4);
    propose_spaced(c, inv, a, n_lead)?;
    let d = ms(c, 200, 600);
    run(c, inv, d)?;

    // 5. A and D drop out; B rejoins the rest, whose new leader overwrites
    // whatever only A and D hold.
    let crash_a = c.world.rng.borrow_mut().chance(0.3);
    c.world.net.borrow_mut().heal();
    c.world.net.borrow_mut().partition(&[vec![sa, sd], (0..n_servers).filter(|s| *s != sa && *s != sd).collect()]);
    if crash_a {
        crash(c, a);
    }
    restart(c, inv, b);
    let mut side: Vec<usize> = rest.iter().copied().filter(|&m| m != d_slot).collect();
    side.push(b);
    let s2 = side.clone();
    if !wait(c, inv, Duration::from_secs(8), |c| settled_leader_among(c, &s2).is_some())? {
        return Err(ShapeOutcome::GaveUp("the other side elected nobody"));
    }
    if let Some(l) = settled_leader_among(c, &side) {
        c.propose_block(l);
    }
    let d = ms(c, 100, 400);
    run(c, inv, d)?;
    c.world.net.borrow_mut().heal();
    Ok(())
}

/// A vote request that waits on a stalled link while its term is decided,
/// delivered to a candidate of that same term that has since stepped down.
///
/// In a group of five (W the leader, then C, R, Z and V):
/// 1. C is cut off and paused while W commits a few entries, so C's log
///    falls behind without C's term moving.
/// 2. Every node is paused long enough for all election timers to expire.
///    R and C can reach only each other, over links that stall both ways; Z
///    can reach W and V but not C.
/// 3. Z, R and C resume one after another and each campaigns in the same
///    next term: R's request waits on the stalled link to C, C's and Z's
///    go nowhere useful yet.
/// 4. Z is connected to C, and W and V resume and elect Z. Z's first append
///    entry makes the candidate C step down in that term; C is behind, so
///    it asks to catch up instead of storing the entry.
/// 5. The stalled link from R to C drains: C now sees R's request for the
///    term in which C voted for itself, from a log at least as up to date
///    as its own.
///
/// A node keeps its vote for the rest of the term whatever its role, so C
/// refuses. One that forgets its vote when stepping down grants it, and the
/// checker sees C vote twice in one term. With three nodes the winner needs
/// the vote of one of the other two, so there cannot be a third candidate
/// in its term; the shape needs five.
pub fn stale_vote_across_split(c: &mut Cluster, rg: &RaftGroup, inv: &Rc<RefCell<Invariants>>) -> ShapeOutcome {
    let res = stale_vote_inner(c, rg, inv);
    // Whatever happened, nobody stays paused and no link stays stalled.
    let members = rg.members.clone();
    c.unfreeze(&members);
    {
        let now = c.world.now.get();
        let mut rng = c.world.rng.borrow_mut();
        let mut net = c.world.net.borrow_mut();
        net.release_all(now, &mut rng);
        net.heal();
    }
    match res {
        Ok(()) => ShapeOutcome::Done,
        Err(o) => o,
    }
}

fn stale_vote_inner(c: &mut Cluster, rg: &RaftGroup, inv: &Rc<RefCell<Invariants>>) -> Result<(), ShapeOutcome> {
    let (members, w) = settle_five(c, rg, inv)?;
    let n_servers = c.servers.len();
    let server = |c: &Cluster, slot: usize| c.nodes[slot].server;
    let mut rest: Vec<usize> = members.iter().copied().filter(|&m| m != w).collect();
    let cand = rest.remove(c.world.rng.borrow_mut().index(rest.len()));
    let z = rest.remove(c.world.rng.borrow_mut().index(rest.len()));
    let r = rest.remove(c.world.rng.borrow_mut().index(rest.len()));
    let voters: Vec<usize> = std::iter::once(w).chain(rest.iter().copied()).collect();
    let all = members.clone();
    let in_sync = |c: &mut Cluster| {
        let l = c.nodes[w].raft.last_log();
        all.iter().all(|&m| running(c, m) && c.nodes[m].raft.last_log() == l)
    };
    if !wait(c, inv, Duration::from_secs(2), in_sync)? {
        return Err(ShapeOutcome::GaveUp("group never in sync"));
    }

    // 1. C falls behind without campaigning.
    let sc = server(c, cand);
    c.world.net.borrow_mut().isolate(sc, n_servers);
    c.freeze(&[cand]);
    let n = c.world.rng.borrow_mut().range(1, 3);
    propose_spaced(c, inv, w, n)?;
    let others: Vec<usize> = members.iter().copied().filter(|&m| m != cand).collect();
    let committed = wait(c, inv, Duration::from_secs(2), |c| {
        let ln = &c.nodes[w].raft;
        let (l, commit) = (ln.last_log(), ln.commit_index());
        ln.state() == RaftState::Leader && commit == l.0 && others.iter().all(|&m| c.nodes[m].raft.last_log() == l)
    })?;
    if !committed {
        return Err(ShapeOutcome::GaveUp("leader did not commit while one node was away"));
    }
    let t0 = c.nodes[w].raft.term();
    if members.iter().any(|&m| c.nodes[m].raft.term() != t0) {
        return Err(ShapeOutcome::GaveUp("terms differ before the split"));
    }

    // 2. Everyone pauses; R and C get a stalled pair of links, Z reaches the voters.
    c.freeze(&members);
    let (sr, sz) = (server(c, r), server(c, z));
    {
        let mut net = c.world.net.borrow_mut();
        net.heal();
        net.isolate(sr, n_servers);
        net.isolate(sc, n_servers);
        net.connect(sr, sc);
        net.stall(sr, sc);
        net.stall(sc, sr);
    }
    let max_et = c.timings.max_election_timeout;
    c.run_for(max_et + Duration::from_millis(20));

    // 3. Z, then R and C campaign in the same term.
    c.unfreeze(&[z]);
    if !wait(c, inv, max_et * 2, |c| c.nodes[z].raft.state() == RaftState::Candidate)? {
        return Err(ShapeOutcome::GaveUp("Z never campaigned"));
    }
    for slot in [r, cand] {
        c.unfreeze(&[slot]);
        if !wait(c, inv, Duration::from_millis(50), |c| c.nodes[slot].raft.state() == RaftState::Candidate)? {
            return Err(ShapeOutcome::GaveUp("a paused node did not campaign"));
        }
    }
    if [z, r, cand].iter().any(|&m| c.nodes[m].raft.term() != t0 + 1) {
        return Err(ShapeOutcome::GaveUp("candidates in different terms"));
    }

    // 4. Z wins with W and V and reaches C.
    c.world.net.borrow_mut().connect(sz, sc);
    c.unfreeze(&voters);
    let stepped = wait(c, inv, max_et, |c| {
        let n = &c.nodes[cand].raft;
        n.state() != RaftState::Candidate || n.term() != t0 + 1
    })?;
    if !stepped || c.nodes[cand].raft.state() != RaftState::Follower || c.nodes[cand].raft.term() != t0 + 1 {
        return Err(ShapeOutcome::GaveUp("C did not step down in the split term"));
    }

    // 5. R's old request arrives.
    {
        let now = c.world.now.get();
        let mut rng = c.world.rng.borrow_mut();
        c.world.net.borrow_mut().release(sr, sc, now, &mut rng);
    }
    let d = ms(c, 50, 200);
    run(c, inv, d)?;
    Ok(())
}
