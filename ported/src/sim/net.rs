//! Simulated NATS-like subject bus: clients, subscriptions with `*`/`>`
//! wildcards, and in-flight messages with per-link FIFO delivery times.
//! Faults: partitions (cut links between servers), random drop, duplicate,
//! reorder (escaping the FIFO order) and delay ranges.

use std::collections::{BTreeMap, BTreeSet};

use crate::raft::env::{ClientId, Sid};

use super::rng::SimRng;

/// A delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Subject it was published to.
    pub subject: String,
    /// Reply subject.
    pub reply: String,
    /// Payload.
    pub data: Vec<u8>,
}

/// Who receives messages for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The raft node in cluster slot `n`.
    Node(usize),
    /// Test probe `n`.
    Probe(usize),
}

/// Append entries: the live stream (`$NRG.AE.<group>`) and catch-up
/// streams (`$NRG.CR.<inbox>`), and the requests that open a catch-up
/// stream (responses whose reply is a `$NRG.CR.` inbox). A duplicated or
/// late append entry makes a follower truncate or reset entries it has
/// already acknowledged (processAppendEntry's `ae.pindex <= n.pindex` arm),
/// and a duplicated catch-up request makes the leader send its snapshot
/// twice to one inbox, the second copy stored as a log entry; raft.go is
/// only safe when these arrive once and in order, as NATS routes deliver
/// them.
pub const APPEND_ENTRY_SUBJECTS: [&str; 2] = ["$NRG.AE.", "$NRG.CR."];

/// Delay and fault probabilities.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Minimum one-way delay in nanoseconds.
    pub min_delay: u64,
    /// Maximum one-way delay in nanoseconds.
    pub max_delay: u64,
    /// Delay range towards test probes. A test's client sits in the server
    /// process, closer than the route-plus-queue path between raft nodes.
    pub probe_min_delay: u64,
    /// See `probe_min_delay`.
    pub probe_max_delay: u64,
    /// Probability a message is dropped.
    pub drop: f64,
    /// Probability a message is delivered twice.
    pub dup: f64,
    /// Probability a message ignores per-link FIFO order.
    pub reorder: f64,
    /// Subject prefixes whose messages (by subject or reply) are never
    /// duplicated or reordered,
    /// whatever `dup` and `reorder` say: the streams a NATS route (one TCP
    /// connection per server pair and account) delivers once and in order,
    /// and which raft.go relies on being so (see
    /// [`APPEND_ENTRY_SUBJECTS`]).
    pub in_order: Vec<String>,
    /// Probability a message is held back much longer (later messages on
    /// the same link queue behind it unless reordered).
    pub long_delay: f64,
    /// Upper bound of such a long delay in nanoseconds.
    pub long_delay_max: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            min_delay: 200_000,
            max_delay: 2_000_000,
            probe_min_delay: 20_000,
            probe_max_delay: 150_000,
            drop: 0.0,
            dup: 0.0,
            reorder: 0.0,
            in_order: Vec::new(),
            long_delay: 0.0,
            long_delay_max: 0,
        }
    }
}

#[derive(Debug, Clone)]
struct ClientInfo {
    server: Option<usize>,
    owner: Owner,
}

#[derive(Debug, Clone)]
struct SubInfo {
    client: ClientId,
    subject: String,
}

#[derive(Debug, Clone)]
struct InFlight {
    sid: Sid,
    from: Option<usize>,
    msg: Msg,
    // Publish number, shared by both copies of a duplicated message.
    no: u64,
    // Whether this is one of two copies.
    dup: bool,
}

/// How a delivery relates to what its link delivered before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Fresh,
    // The second copy of a duplicated message.
    Redelivered,
    // Published before a message the link already delivered.
    Late,
}

/// The bus.
#[derive(Debug, Default)]
pub struct Network {
    next_id: u64,
    seq: u64,
    pub_no: u64,
    clients: BTreeMap<ClientId, ClientInfo>,
    subs: BTreeMap<Sid, SubInfo>,
    queue: BTreeMap<(u64, u64), InFlight>,
    // Delivery order is FIFO per (sending server, receiving client), like
    // a route connection, whatever the subject.
    link_last: BTreeMap<(Option<usize>, ClientId), u64>,
    cut: BTreeSet<(usize, usize)>,
    // Stalled one-way links (sending server, receiving server) and what
    // they hold, in publish order.
    stalled: BTreeSet<(usize, usize)>,
    held: Vec<(usize, usize, InFlight)>,
    /// Delay and fault settings.
    pub cfg: NetConfig,
    /// Messages published.
    pub published: u64,
    /// When set, every publish from a server is also recorded in `tapped`.
    pub tap: bool,
    /// Recorded publishes: (sending server, subject, payload).
    pub tapped: Vec<(Option<usize>, String, Vec<u8>)>,
    /// Messages delivered.
    pub delivered: u64,
    /// Append entries (see [`APPEND_ENTRY_SUBJECTS`]) delivered to the
    /// raft node in each slot as a second copy or after a later message of
    /// their link: the mechanism the simulation's checker looks for when it
    /// attributes a violation to redelivered or reordered append entries.
    pub stale_append_entries: BTreeMap<usize, u64>,
    // Per link, the highest publish number delivered.
    link_delivered: BTreeMap<(Option<usize>, ClientId), u64>,
    // Duplicated messages by publish number: whether a copy was delivered.
    dup_seen: BTreeMap<u64, bool>,
}

/// Whether a message belongs to an append-entry stream, by subject or by
/// reply (a catch-up request's reply is the stream it opens).
pub fn is_append_entry(subject: &str, reply: &str) -> bool {
    APPEND_ENTRY_SUBJECTS.iter().any(|p| subject.starts_with(p) || reply.starts_with(p))
}

/// NATS subject matching with `*` (one token) and `>` (one or more).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut p = pattern.split('.');
    let mut s = subject.split('.');
    loop {
        match (p.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

impl Network {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Registers a client on `server` (`None`: reachable from everywhere).
    pub fn create_client(&mut self, server: Option<usize>, owner: Owner) -> ClientId {
        let id = self.id();
        self.clients.insert(id, ClientInfo { server, owner });
        id
    }

    /// Closes a client and its subscriptions.
    pub fn close_client(&mut self, client: ClientId) {
        self.clients.remove(&client);
        self.subs.retain(|_, s| s.client != client);
    }

    /// Closes every client of `owner` (a node that failed to start may have
    /// opened some before its disk failed it).
    pub fn close_clients_of(&mut self, owner: Owner) {
        let ids: Vec<ClientId> = self.clients.iter().filter(|(_, c)| c.owner == owner).map(|(id, _)| *id).collect();
        for id in ids {
            self.close_client(id);
        }
    }

    /// Subscribes; `None` if the client is unknown.
    pub fn subscribe(&mut self, client: ClientId, subject: &str) -> Option<Sid> {
        if !self.clients.contains_key(&client) {
            return None;
        }
        let sid = self.id();
        self.subs.insert(sid, SubInfo { client, subject: subject.to_string() });
        Some(sid)
    }

    /// Unsubscribes.
    pub fn unsubscribe(&mut self, sid: Sid) {
        self.subs.remove(&sid);
    }

    /// Number of open clients owned by raft nodes (the analogue of the
    /// system account's client count).
    pub fn num_node_clients(&self) -> usize {
        self.clients.values().filter(|c| matches!(c.owner, Owner::Node(_))).count()
    }

    /// Whether any subscription matches `subject`. A NATS request with no
    /// match fails at once with "no responders" instead of timing out.
    pub fn has_subscriber(&self, subject: &str) -> bool {
        self.subs.values().any(|s| subject_matches(&s.subject, subject))
    }

    /// Number of subscriptions held by raft nodes.
    pub fn num_node_subs(&self) -> usize {
        self.subs.values().filter(|s| self.clients.get(&s.client).is_some_and(|c| matches!(c.owner, Owner::Node(_)))).count()
    }

    fn server_of_sub(&self, sid: Sid) -> Option<(Option<usize>, Owner)> {
        let s = self.subs.get(&sid)?;
        let c = self.clients.get(&s.client)?;
        Some((c.server, c.owner))
    }

    /// Whether `a` can reach `b`.
    pub fn connected(&self, a: Option<usize>, b: Option<usize>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) if a != b => !self.cut.contains(&(a.min(b), a.max(b))),
            _ => true,
        }
    }

    /// Cuts the link between two servers.
    pub fn cut(&mut self, a: usize, b: usize) {
        if a != b {
            self.cut.insert((a.min(b), a.max(b)));
        }
    }

    /// Restores the link between two servers.
    pub fn connect(&mut self, a: usize, b: usize) {
        self.cut.remove(&(a.min(b), a.max(b)));
    }

    /// Cuts `server` off from every other of the `n` servers.
    pub fn isolate(&mut self, server: usize, n: usize) {
        for o in 0..n {
            self.cut(server, o);
        }
    }

    /// Splits servers into the given sides; links across sides are cut.
    pub fn partition(&mut self, sides: &[Vec<usize>]) {
        for (i, a) in sides.iter().enumerate() {
            for b in sides.iter().skip(i + 1) {
                for &x in a {
                    for &y in b {
                        self.cut(x, y);
                    }
                }
            }
        }
    }

    /// Restores all links (stalled links stay stalled; see [`Network::release`]).
    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// Stalls the one-way link from server `from` to server `to`: what is
    /// published over it from now on is held back, in order, until
    /// [`Network::release`]; like a route whose socket stops draining.
    pub fn stall(&mut self, from: usize, to: usize) {
        if from != to {
            self.stalled.insert((from, to));
        }
    }

    /// Messages held on stalled links.
    pub fn held_count(&self) -> usize {
        self.held.len()
    }

    /// Un-stalls the link from `from` to `to` and sends what it held, in
    /// order and behind anything already in flight on the link, each with a
    /// fresh delay from `now`. A link cut at delivery time still drops them.
    pub fn release(&mut self, from: usize, to: usize, now: u64, rng: &mut SimRng) {
        self.stalled.remove(&(from, to));
        let held = std::mem::take(&mut self.held);
        for (f, t, msg) in held {
            if (f, t) != (from, to) {
                self.held.push((f, t, msg));
                continue;
            }
            let link = (msg.from, self.subs.get(&msg.sid).map_or(0, |s| s.client));
            let delay = rng.range(self.cfg.min_delay, self.cfg.max_delay);
            let last = self.link_last.get(&link).copied().unwrap_or(0);
            let at = (now + delay.max(1)).max(last);
            self.link_last.insert(link, at);
            self.seq += 1;
            self.queue.insert((at, self.seq), msg);
        }
    }

    /// Un-stalls every link, sending what they held.
    pub fn release_all(&mut self, now: u64, rng: &mut SimRng) {
        let links: Vec<(usize, usize)> = self.stalled.iter().copied().collect();
        for (from, to) in links {
            self.release(from, to, now, rng);
        }
    }

    /// Publishes from `from` at time `now`.
    pub fn publish(&mut self, from: Option<usize>, subject: &str, reply: &str, data: &[u8], now: u64, rng: &mut SimRng) {
        self.published += 1;
        if self.tap {
            self.tapped.push((from, subject.to_string(), data.to_vec()));
        }
        let targets: Vec<Sid> =
            self.subs.iter().filter(|(_, s)| subject_matches(&s.subject, subject)).map(|(sid, _)| *sid).collect();
        for sid in targets {
            let Some((to, owner)) = self.server_of_sub(sid) else { continue };
            // A server's send queue never delivers to its own internal
            // subscriptions (Go: `noIcb`); only routes bring them in.
            if from.is_some() && from == to && matches!(owner, Owner::Node(_)) {
                continue;
            }
            if !self.connected(from, to) || rng.chance(self.cfg.drop) {
                continue;
            }
            let (lo, hi) = match owner {
                Owner::Probe(_) => (self.cfg.probe_min_delay, self.cfg.probe_max_delay),
                Owner::Node(_) => (self.cfg.min_delay, self.cfg.max_delay),
            };
            if let (Some(f), Some(t)) = (from, to) {
                if self.stalled.contains(&(f, t)) {
                    let msg = Msg { subject: subject.to_string(), reply: reply.to_string(), data: data.to_vec() };
                    self.pub_no += 1;
                    self.held.push((f, t, InFlight { sid, from, msg, no: self.pub_no, dup: false }));
                    continue;
                }
            }
            // A catch-up request is a response whose reply is the catch-up
            // inbox: it belongs to the stream it opens.
            let in_order = self.cfg.in_order.iter().any(|p| subject.starts_with(p.as_str()) || reply.starts_with(p.as_str()));
            let (dup, reorder) = if in_order { (0.0, 0.0) } else { (self.cfg.dup, self.cfg.reorder) };
            let copies = if rng.chance(dup) { 2 } else { 1 };
            self.pub_no += 1;
            let no = self.pub_no;
            if copies == 2 {
                self.dup_seen.insert(no, false);
            }
            for _ in 0..copies {
                let delay = rng.range(lo, hi);
                let mut at = now + delay.max(1);
                let link = (from, self.subs.get(&sid).map_or(0, |s| s.client));
                if rng.chance(self.cfg.long_delay) {
                    at += rng.below(self.cfg.long_delay_max.max(1));
                }
                if !rng.chance(reorder) {
                    let last = self.link_last.get(&link).copied().unwrap_or(0);
                    at = at.max(last);
                    self.link_last.insert(link, at);
                }
                self.seq += 1;
                let msg = Msg { subject: subject.to_string(), reply: reply.to_string(), data: data.to_vec() };
                self.queue.insert((at, self.seq), InFlight { sid, from, msg, no, dup: copies == 2 });
            }
        }
    }

    /// Time of the next in-flight message.
    pub fn next_time(&self) -> Option<u64> {
        self.queue.keys().next().map(|k| k.0)
    }

    /// Pops the next message due at or before `now` whose subscriber still
    /// exists and is reachable.
    pub fn pop_due(&mut self, now: u64) -> Option<(Sid, Owner, Msg)> {
        loop {
            let (&key, _) = self.queue.iter().next()?;
            if key.0 > now {
                return None;
            }
            let Some(f) = self.queue.remove(&key) else { return None };
            let reachable = self.server_of_sub(f.sid).filter(|(to, _)| self.connected(f.from, *to));
            let Some((_, owner)) = reachable else {
                // A lost copy leaves the other as the only delivery.
                if f.dup {
                    self.dup_seen.remove(&f.no);
                }
                continue;
            };
            self.delivered += 1;
            let kind = self.classify(&f);
            if let (Owner::Node(slot), true) = (owner, kind != Delivery::Fresh) {
                if is_append_entry(&f.msg.subject, &f.msg.reply) {
                    *self.stale_append_entries.entry(slot).or_default() += 1;
                }
            }
            return Some((f.sid, owner, f.msg));
        }
    }

    // Tells a second copy or a late message from a fresh delivery, and
    // records the delivery on its link.
    fn classify(&mut self, f: &InFlight) -> Delivery {
        let link = (f.from, self.subs.get(&f.sid).map_or(0, |s| s.client));
        let redelivered = f.dup
            && match self.dup_seen.get(&f.no) {
                Some(false) => {
                    self.dup_seen.insert(f.no, true);
                    false
                }
                Some(true) => {
                    self.dup_seen.remove(&f.no);
                    true
                }
                None => false,
            };
        let max = self.link_delivered.entry(link).or_default();
        let late = f.no < *max;
        *max = (*max).max(f.no);
        if redelivered {
            Delivery::Redelivered
        } else if late {
            Delivery::Late
        } else {
            Delivery::Fresh
        }
    }

    /// Drops every in-flight message to or from `server`.
    pub fn drop_in_flight_for(&mut self, server: usize) {
        let subs = &self.subs;
        let clients = &self.clients;
        self.queue.retain(|_, f| {
            let to = subs.get(&f.sid).and_then(|s| clients.get(&s.client)).and_then(|c| c.server);
            f.from != Some(server) && to != Some(server)
        });
        self.held.retain(|(f, t, _)| *f != server && *t != server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_nats() {
        assert!(subject_matches("$NRG.CR.>", "$NRG.CR.abc"));
        assert!(!subject_matches("$NRG.CR.>", "$NRG.CR"));
        assert!(subject_matches("$NRG.*.TEST", "$NRG.AE.TEST"));
        assert!(!subject_matches("$NRG.*.TEST", "$NRG.AE.TEST.x"));
        assert!(subject_matches("a.b", "a.b"));
        assert!(!subject_matches("a.b", "a.c"));
    }

    #[test]
    fn fifo_per_link_unless_reordered() {
        let mut net = Network::default();
        let mut rng = SimRng::new(1);
        let c = net.create_client(Some(1), Owner::Probe(0));
        net.subscribe(c, "x").expect("client exists");
        for i in 0..50u8 {
            net.publish(Some(0), "x", "", &[i], 0, &mut rng);
        }
        let mut got = Vec::new();
        while let Some((_, _, m)) = net.pop_due(u64::MAX) {
            got.push(m.data[0]);
        }
        assert_eq!(got, (0..50).collect::<Vec<u8>>());
        net.cut(0, 1);
        net.publish(Some(0), "x", "", &[1], 0, &mut rng);
        assert!(net.pop_due(u64::MAX).is_none());
    }

    #[test]
    fn second_copies_and_late_append_entries_are_counted_per_node() {
        let mut net = Network::default();
        let mut rng = SimRng::new(3);
        let c = net.create_client(Some(1), Owner::Node(4));
        net.subscribe(c, "$NRG.AE.G").expect("client exists");
        net.subscribe(c, "other").expect("client exists");
        net.cfg.dup = 1.0;
        net.publish(Some(0), "$NRG.AE.G", "", &[1], 0, &mut rng);
        net.publish(Some(0), "other", "", &[2], 0, &mut rng);
        while net.pop_due(u64::MAX).is_some() {}
        assert_eq!(net.stale_append_entries.get(&4), Some(&1), "one second copy of an append entry; other subjects not counted");
        // A message that escapes FIFO order makes the one it overtook late.
        net.cfg.dup = 0.0;
        net.cfg.reorder = 1.0;
        net.cfg.max_delay = net.cfg.min_delay + 1;
        net.publish(Some(0), "$NRG.AE.G", "", &[3], 10, &mut rng);
        net.publish(Some(0), "$NRG.AE.G", "", &[4], 0, &mut rng);
        let order: Vec<u8> = std::iter::from_fn(|| net.pop_due(u64::MAX)).map(|(_, _, m)| m.data[0]).collect();
        assert_eq!(order, vec![4, 3]);
        assert_eq!(net.stale_append_entries.get(&4), Some(&2), "the overtaken message arrived late");
    }

    #[test]
    fn stalled_link_holds_in_order_until_released() {
        let mut net = Network::default();
        let mut rng = SimRng::new(7);
        let c = net.create_client(Some(1), Owner::Probe(0));
        net.subscribe(c, "x").expect("client exists");
        net.publish(Some(0), "x", "", &[0], 0, &mut rng);
        net.stall(0, 1);
        for i in 1..10u8 {
            net.publish(Some(0), "x", "", &[i], 0, &mut rng);
        }
        // The other direction and other senders are not stalled.
        net.publish(Some(2), "x", "", &[100], 0, &mut rng);
        let mut got = Vec::new();
        while let Some((_, _, m)) = net.pop_due(u64::MAX) {
            got.push(m.data[0]);
        }
        got.sort();
        assert_eq!(got, vec![0, 100]);
        assert_eq!(net.held_count(), 9);
        net.release(0, 1, 1_000_000_000, &mut rng);
        assert_eq!(net.held_count(), 0);
        let mut got = Vec::new();
        while let Some((_, _, m)) = net.pop_due(u64::MAX) {
            got.push(m.data[0]);
        }
        assert_eq!(got, (1..10).collect::<Vec<u8>>());
        // Released messages still obey a cut at delivery time.
        net.stall(0, 1);
        net.publish(Some(0), "x", "", &[42], 0, &mut rng);
        net.release(0, 1, 2_000_000_000, &mut rng);
        net.cut(0, 1);
        assert!(net.pop_due(u64::MAX).is_none());
    }
}
