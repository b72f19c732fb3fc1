//! The simulated NATS fabric of a JetStream cluster: account-aware
//! subscriptions (`*`/`>` wildcards), messages with headers and reply
//! subjects, per-link FIFO delivery with delays from the world's RNG, route
//! partitions between servers and servers going down.
//!
//! Clients belong to a server and an account. Raft nodes and the server's
//! own handlers are internal clients; test clients are connections to a
//! server. Like upstream's internal send queue (`noIcb`), a message an
//! internal client of server S publishes reaches S's connections but not
//! S's other internal subscriptions; those only hear it from other servers.
//! Account imports and exports are not modelled: a message only reaches
//! subscriptions of the account it was published in.

use std::collections::{BTreeMap, BTreeSet};

use crate::raft::env::{ClientId, Sid};
use crate::sim::net::subject_matches;
use crate::sim::rng::SimRng;

/// A message as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusMsg {
    /// Account it was published in.
    pub account: String,
    /// Subject.
    pub subject: String,
    /// Reply subject (empty for none).
    pub reply: String,
    /// Header block (`NATS/1.0\r\n...`), empty for none.
    pub hdr: Vec<u8>,
    /// Payload.
    pub data: Vec<u8>,
}

/// Who a client's messages are delivered to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// The raft node of `group` on server `server`.
    Raft { server: usize, group: String },
    /// Server `server`'s own handlers (its internal system client).
    Server(usize),
    /// Test client `id`, connected to a server.
    Client(usize),
}

impl Owner {
    fn internal(&self) -> bool {
        !matches!(self, Owner::Client(_))
    }
}

/// Delay and loss settings.
#[derive(Debug, Clone)]
pub struct BusConfig {
    /// One-way delay between servers, nanoseconds.
    pub min_delay: u64,
    /// See `min_delay`.
    pub max_delay: u64,
    /// Delay within one server (to a connection or handler), nanoseconds.
    pub local_min_delay: u64,
    /// See `local_min_delay`.
    pub local_max_delay: u64,
    /// Probability that a message between servers is lost.
    pub drop: f64,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig { min_delay: 200_000, max_delay: 2_000_000, local_min_delay: 20_000, local_max_delay: 150_000, drop: 0.0 }
    }
}

#[derive(Debug, Clone)]
struct ClientRec {
    server: usize,
    account: String,
    owner: Owner,
}

#[derive(Debug, Clone)]
struct SubRec {
    client: ClientId,
    subject: String,
    // Whether the subject has a wildcard token (else plain equality).
    wild: bool,
}

impl SubRec {
    fn matches(&self, subject: &str) -> bool {
        if self.wild {
            subject_matches(&self.subject, subject)
        } else {
            self.subject == subject
        }
    }
}

#[derive(Debug, Clone)]
struct InFlight {
    sid: Sid,
    from: usize,
    msg: BusMsg,
}

/// The fabric.
#[derive(Debug, Default)]
pub struct Bus {
    next_id: u64,
    seq: u64,
    clients: BTreeMap<ClientId, ClientRec>,
    subs: BTreeMap<Sid, SubRec>,
    queue: BTreeMap<(u64, u64), InFlight>,
    link_last: BTreeMap<(usize, ClientId), u64>,
    cut: BTreeSet<(usize, usize)>,
    /// Delay and loss settings.
    pub cfg: BusConfig,
    /// Messages published.
    pub published: u64,
    /// Messages delivered.
    pub delivered: u64,
}

impl Bus {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Registers a client of `server` in `account`.
    pub fn create_client(&mut self, server: usize, account: &str, owner: Owner) -> ClientId {
        let id = self.id();
        self.clients.insert(id, ClientRec { server, account: account.to_string(), owner });
        id
    }

    /// Closes a client and its subscriptions.
    pub fn close_client(&mut self, client: ClientId) {
        self.clients.remove(&client);
        self.subs.retain(|_, s| s.client != client);
    }

    /// Subscribes `client`; `None` if it is unknown.
    pub fn subscribe(&mut self, client: ClientId, subject: &str) -> Option<Sid> {
        if !self.clients.contains_key(&client) {
            return None;
        }
        let sid = self.id();
        let wild = subject.split('.').any(|t| t == "*" || t == ">");
        self.subs.insert(sid, SubRec { client, subject: subject.to_string(), wild });
        Some(sid)
    }

    /// Removes one subscription.
    pub fn unsubscribe(&mut self, sid: Sid) {
        self.subs.remove(&sid);
    }

    /// Whether any subscription in `account` matches `subject` (Go:
    /// `sl.HasInterest`; interest is cluster-wide through routes).
    pub fn has_interest(&self, account: &str, subject: &str) -> bool {
        self.subs.values().any(|s| s.matches(subject) && self.clients.get(&s.client).is_some_and(|c| c.account == account))
    }

    /// Whether servers `a` and `b` can talk.
    pub fn connected(&self, a: usize, b: usize) -> bool {
        a == b || !self.cut.contains(&(a.min(b), a.max(b)))
    }

    /// Cuts the route between two servers.
    pub fn cut(&mut self, a: usize, b: usize) {
        if a != b {
            self.cut.insert((a.min(b), a.max(b)));
        }
    }

    /// Splits servers into sides; routes across sides are cut.
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

    /// The cut routes, lowest server first.
    pub fn cuts(&self) -> Vec<(usize, usize)> {
        self.cut.iter().copied().collect()
    }

    /// Restores every route.
    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// A server went down: its clients and subscriptions are gone and what
    /// was on its way to it is lost.
    pub fn server_down(&mut self, server: usize) {
        let gone: Vec<ClientId> = self.clients.iter().filter(|(_, c)| c.server == server).map(|(id, _)| *id).collect();
        for c in gone {
            self.close_client(c);
        }
        let subs = &self.subs;
        self.queue.retain(|_, f| subs.contains_key(&f.sid));
    }

    /// Publishes from `client` at `now`. Returns false for an unknown client.
    pub fn publish(&mut self, client: ClientId, msg: BusMsg, now: u64, rng: &mut SimRng) -> bool {
        let Some(from) = self.clients.get(&client).cloned() else { return false };
        let msg = BusMsg { account: from.account.clone(), ..msg };
        self.publish_from(from.server, from.owner.internal(), msg, now, rng);
        true
    }

    /// Publishes `msg` in its account from server `from`; `internal` when an
    /// internal client of that server sent it.
    pub fn publish_from(&mut self, from: usize, internal: bool, msg: BusMsg, now: u64, rng: &mut SimRng) {
        self.published += 1;
        let targets: Vec<(Sid, usize, bool, ClientId)> = self
            .subs
            .iter()
            .filter_map(|(sid, s)| {
                let c = self.clients.get(&s.client)?;
                (c.account == msg.account && s.matches(&msg.subject)).then(|| (*sid, c.server, c.owner.internal(), s.client))
            })
            .collect();
        for (sid, to, to_internal, to_client) in targets {
            if internal && to_internal && to == from {
                continue;
            }
            if !self.connected(from, to) {
                continue;
            }
            let (lo, hi) = if to == from {
                (self.cfg.local_min_delay, self.cfg.local_max_delay)
            } else {
                if rng.chance(self.cfg.drop) {
                    continue;
                }
                (self.cfg.min_delay, self.cfg.max_delay)
            };
            let link = (from, to_client);
            let last = self.link_last.get(&link).copied().unwrap_or(0);
            let at = (now + rng.range(lo, hi).max(1)).max(last);
            self.link_last.insert(link, at);
            self.seq += 1;
            self.queue.insert((at, self.seq), InFlight { sid, from, msg: msg.clone() });
        }
    }

    /// Time of the next message in flight.
    pub fn next_time(&self) -> Option<u64> {
        self.queue.keys().next().map(|k| k.0)
    }

    /// The next message due by `now` whose subscriber still exists and is
    /// reachable: (subscription, owner, message).
    pub fn pop_due(&mut self, now: u64) -> Option<(Sid, Owner, BusMsg)> {
        loop {
            let (&key, _) = self.queue.iter().next()?;
            if key.0 > now {
                return None;
            }
            let f = self.queue.remove(&key)?;
            let Some(sub) = self.subs.get(&f.sid) else { continue };
            let Some(c) = self.clients.get(&sub.client) else { continue };
            if !self.connected(f.from, c.server) {
                continue;
            }
            self.delivered += 1;
            return Some((f.sid, c.owner.clone(), f.msg));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(subject: &str, data: &[u8]) -> BusMsg {
        BusMsg { account: String::new(), subject: subject.into(), reply: String::new(), hdr: Vec::new(), data: data.to_vec() }
    }

    fn drain(bus: &mut Bus) -> Vec<(Owner, String, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some((_, o, m)) = bus.pop_due(u64::MAX) {
            out.push((o, m.account, m.data));
        }
        out
    }

    #[test]
    fn accounts_separate_subscriptions_and_interest() {
        let mut bus = Bus::default();
        let mut rng = SimRng::new(1);
        let sys = bus.create_client(1, "$SYS", Owner::Server(1));
        let usr = bus.create_client(1, "$G", Owner::Client(7));
        bus.subscribe(sys, "x.>").expect("sub");
        bus.subscribe(usr, "x.*").expect("sub");
        assert!(bus.has_interest("$SYS", "x.a.b"));
        assert!(!bus.has_interest("$G", "x.a.b"), "x.* does not match two tokens");
        assert!(bus.has_interest("$G", "x.a"));
        assert!(!bus.has_interest("OTHER", "x.a"));

        let pub_sys = bus.create_client(0, "$SYS", Owner::Server(0));
        assert!(bus.publish(pub_sys, msg("x.a", b"1"), 0, &mut rng));
        assert_eq!(drain(&mut bus), vec![(Owner::Server(1), "$SYS".to_string(), b"1".to_vec())]);
        assert!(!bus.publish(999, msg("x.a", b"1"), 0, &mut rng), "unknown client");
    }

    #[test]
    fn internal_messages_skip_the_servers_own_internal_subscriptions() {
        let mut bus = Bus::default();
        let mut rng = SimRng::new(2);
        let own = bus.create_client(0, "$SYS", Owner::Raft { server: 0, group: "_meta_".into() });
        let conn = bus.create_client(0, "$SYS", Owner::Client(3));
        let remote = bus.create_client(1, "$SYS", Owner::Server(1));
        for c in [own, conn, remote] {
            bus.subscribe(c, "s").expect("sub");
        }
        let sender = bus.create_client(0, "$SYS", Owner::Server(0));
        bus.publish(sender, msg("s", b"i"), 0, &mut rng);
        let mut got: Vec<Owner> = drain(&mut bus).into_iter().map(|(o, _, _)| o).collect();
        got.sort();
        assert_eq!(got, vec![Owner::Server(1), Owner::Client(3)]);

        // A connection's publish reaches the server's internal subscriptions.
        bus.publish(conn, msg("s", b"c"), 0, &mut rng);
        let mut got: Vec<Owner> = drain(&mut bus).into_iter().map(|(o, _, _)| o).collect();
        got.sort();
        assert_eq!(got, vec![Owner::Raft { server: 0, group: "_meta_".into() }, Owner::Server(1), Owner::Client(3)]);
    }

    #[test]
    fn fifo_per_link_cuts_and_server_down() {
        let mut bus = Bus::default();
        let mut rng = SimRng::new(3);
        let rx = bus.create_client(1, "A", Owner::Client(0));
        bus.subscribe(rx, "m").expect("sub");
        let tx = bus.create_client(0, "A", Owner::Server(0));
        for i in 0..40u8 {
            bus.publish(tx, msg("m", &[i]), 0, &mut rng);
        }
        let got: Vec<u8> = drain(&mut bus).into_iter().map(|(_, _, d)| d[0]).collect();
        assert_eq!(got, (0..40).collect::<Vec<u8>>(), "FIFO on one link");

        bus.publish(tx, msg("m", b"late"), 0, &mut rng);
        bus.cut(1, 0);
        assert!(bus.pop_due(u64::MAX).is_none(), "cut at delivery time drops it");
        assert!(!bus.connected(0, 1) && bus.connected(0, 0));
        bus.publish(tx, msg("m", b"never"), 0, &mut rng);
        bus.heal();
        assert!(bus.pop_due(u64::MAX).is_none(), "published while cut: lost");

        bus.publish(tx, msg("m", b"x"), 0, &mut rng);
        bus.server_down(1);
        assert!(bus.pop_due(u64::MAX).is_none(), "the receiver went down");
        assert!(!bus.has_interest("A", "m"));
    }
}
