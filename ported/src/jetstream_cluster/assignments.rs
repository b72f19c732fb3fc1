//! Stream and consumer assignments, the raft groups they run in, and the
//! client info they carry: the records the meta group replicates, with the
//! JSON shapes upstream serialises.
//!
//! Raw configs are kept as [`RawValue`] exactly as received (Go keeps a
//! `json.RawMessage`); the decoded view lives beside it. Upstream escapes
//! `<`, `>` and `&` in JSON strings it writes (`\u003e`); serde_json does
//! not, so output is equal as JSON but not byte for byte.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::config::{ConsumerConfig, StreamConfig};
use super::node::NodeHandle;

/// A Go `time.Time` as it appears in JSON (RFC 3339 with nanoseconds),
/// kept as text so it re-encodes unchanged. The default is Go's zero time.
/// Decoding checks the text is an RFC 3339 time, as Go's does; `null` is
/// the zero time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct GoTime(pub String);

impl<'de> Deserialize<'de> for GoTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(GoTime::default()),
            Some(s) if parse_rfc3339(&s).is_some() => Ok(GoTime(s)),
            Some(s) => Err(serde::de::Error::custom(format!("parsing time {s:?} as RFC 3339"))),
        }
    }
}

impl Default for GoTime {
    fn default() -> Self {
        GoTime("0001-01-01T00:00:00Z".to_string())
    }
}

impl GoTime {
    /// A UTC time from Unix nanoseconds, as Go's JSON encoder writes it
    /// (RFC 3339, fraction without trailing zeros, `Z`).
    pub fn from_unix_nanos(nanos: i64) -> GoTime {
        let secs = nanos.div_euclid(1_000_000_000);
        let frac = nanos.rem_euclid(1_000_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut s = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
        if frac > 0 {
            let f = format!("{frac:09}");
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        s.push('Z');
        GoTime(s)
    }

    /// The time as Unix nanoseconds; `None` when the text is not an RFC 3339
    /// time or lies outside what an `i64` of nanoseconds holds (Go's zero
    /// time, year 1, does).
    pub fn unix_nanos(&self) -> Option<i64> {
        let (secs, frac) = parse_rfc3339(&self.0)?;
        secs.checked_mul(1_000_000_000)?.checked_add(frac)
    }

    /// Port of time.Time.IsZero for the JSON form: year 1, January 1, 00:00:00 UTC.
    pub fn is_zero(&self) -> bool {
        parse_rfc3339(&self.0) == Some((ZERO_TIME_UNIX_SECS, 0))
    }
}

/// Go's zero `time.Time` in Unix seconds.
const ZERO_TIME_UNIX_SECS: i64 = -62_135_596_800;

// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`) to (Unix seconds, nanos).
fn parse_rfc3339(s: &str) -> Option<(i64, i64)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok()).flatten()
    };
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac = 0i64;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = s.get(start..i)?;
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        frac = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
    }
    let offset = match s.get(i..)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && matches!(tz.as_bytes()[0], b'+' | b'-') && tz.as_bytes()[3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let sign = if tz.as_bytes()[0] == b'-' { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset;
    Some((secs, frac))
}

/// Where an asset keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
pub enum StorageType {
    /// On disk (`"file"`).
    #[default]
    #[serde(rename = "file")]
    File,
    /// In memory (`"memory"`).
    #[serde(rename = "memory")]
    Memory,
}

/// Who asked for an assignment (upstream's ClientInfo, all fields optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<GoTime>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub id: u64,
    #[serde(rename = "acc", skip_serializing_if = "String::is_empty")]
    pub account: String,
    #[serde(rename = "svc", skip_serializing_if = "String::is_empty")]
    pub service: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lang: String,
    #[serde(rename = "ver", skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Round-trip time in nanoseconds.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub rtt: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(rename = "alts", skip_serializing_if = "Vec::is_empty", deserialize_with = "null_default")]
    pub alternates: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<GoTime>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub jwt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub issuer_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name_tag: String,
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "null_default")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_type: String,
    #[serde(rename = "client_id", skip_serializing_if = "String::is_empty")]
    pub mqtt_client: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reply: String,
}

impl ClientInfo {
    /// Port of (*ClientInfo).serviceAccount
    ///
    /// The account an asset belongs to: the service account if set, else the
    /// client's own. Takes an option because upstream is nil-safe.
    pub fn service_account(ci: Option<&ClientInfo>) -> &str {
        match ci {
            None => "",
            Some(ci) if !ci.service.is_empty() => &ci.service,
            Some(ci) => &ci.account,
        }
    }

    /// Port of (*ClientInfo).forAssignmentSnap
    pub fn for_assignment_snap(&self) -> ClientInfo {
        ClientInfo {
            account: self.account.clone(),
            service: self.service.clone(),
            cluster: self.cluster.clone(),
            ..ClientInfo::default()
        }
    }

    /// Port of (*ClientInfo).forProposal
    pub fn for_proposal(&self) -> ClientInfo {
        ClientInfo { jwt: String::new(), issuer_key: String::new(), ..self.clone() }
    }
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// Accepts `null` (a Go nil slice) as the default value.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A raft group the meta leader placed an asset in.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct RaftGroup {
    pub name: String,
    /// Peer ids. A JSON `null` decodes as empty; empty encodes as `[]`
    /// (upstream writes `null` for a nil slice).
    #[serde(deserialize_with = "null_default", default)]
    pub peers: Vec<String>,
    #[serde(rename = "store", default)]
    pub storage: StorageType,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub preferred: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub scale_up: bool,
    /// The running raft node, when this server hosts the group.
    #[serde(skip)]
    pub node: Option<NodeHandle>,
}

impl PartialEq for RaftGroup {
    /// Compares the replicated fields; the local node handle is ignored.
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name
            && self.peers == o.peers
            && self.storage == o.storage
            && self.cluster == o.cluster
            && self.preferred == o.preferred
            && self.scale_up == o.scale_up
    }
}

impl fmt::Debug for RaftGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaftGroup")
            .field("name", &self.name)
            .field("peers", &self.peers)
            .field("storage", &self.storage)
            .field("cluster", &self.cluster)
            .field("preferred", &self.preferred)
            .field("scale_up", &self.scale_up)
            .field("node", &self.node.is_some())
            .finish()
    }
}

impl RaftGroup {
    /// Port of (*raftGroup).isMember
    ///
    /// Whether `id` is one of the group's peers; false for no group.
    pub fn is_member(rg: Option<&RaftGroup>, id: &str) -> bool {
        rg.is_some_and(|rg| rg.peers.iter().any(|p| p == id))
    }
}

/// An assignment held but not run, because this server cannot run its
/// configuration (upstream also keeps an info responder; that part is
/// server plumbing and not ported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedAssignment {
    /// Offline reason reported for the asset.
    pub reason: String,
}

/// What a missing config key decodes to: a value no config decodes from,
/// so decoding fails as upstream's does on an empty `json.RawMessage` (an
/// explicit `null` is the zero config instead).
fn missing_raw() -> Box<RawValue> {
    RawValue::from_string("0".to_string()).unwrap_or_else(|_| unreachable!("literal 0 is valid JSON"))
}

fn null_raw() -> Box<RawValue> {
    RawValue::from_string("null".to_string()).unwrap_or_else(|_| unreachable!("literal null is valid JSON"))
}

/// What the meta controller uses to assign a stream to peers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamAssignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default)]
    pub created: GoTime,
    /// The stream config exactly as received.
    #[serde(rename = "stream", default = "missing_raw")]
    pub config_json: Box<RawValue>,
    /// Decoded view of `config_json`.
    #[serde(skip)]
    pub config: Option<StreamConfig>,
    pub group: Option<RaftGroup>,
    #[serde(default)]
    pub sync: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reply: String,
    /// Stream state to restore from, kept as raw JSON.
    #[serde(rename = "restore_state", default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<Box<RawValue>>,
    #[serde(skip)]
    pub consumers: BTreeMap<String, ConsumerAssignment>,
    #[serde(skip)]
    pub responded: bool,
    #[serde(skip)]
    pub recovering: bool,
    #[serde(skip)]
    pub reassigning: bool,
    #[serde(skip)]
    pub resetting: bool,
    #[serde(skip)]
    pub err: Option<String>,
    #[serde(skip)]
    pub unsupported: Option<UnsupportedAssignment>,
}

/// What the meta controller uses to assign a consumer to a stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsumerAssignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default)]
    pub created: GoTime,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub stream: String,
    /// The consumer config exactly as received.
    #[serde(rename = "consumer", default = "missing_raw")]
    pub config_json: Box<RawValue>,
    #[serde(skip)]
    pub config: Option<ConsumerConfig>,
    pub group: Option<RaftGroup>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reply: String,
    /// Consumer state, kept as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Box<RawValue>>,
    #[serde(skip)]
    pub responded: bool,
    #[serde(skip)]
    pub recovering: bool,
    #[serde(skip)]
    pub err: Option<String>,
    #[serde(skip)]
    pub unsupported: Option<UnsupportedAssignment>,
}

impl Default for StreamAssignment {
    /// Go's zero `streamAssignment`: no client, zero time, no config, no group.
    fn default() -> Self {
        StreamAssignment {
            client: None,
            created: GoTime::default(),
            config_json: null_raw(),
            config: None,
            group: None,
            sync: String::new(),
            subject: String::new(),
            reply: String::new(),
            restore: None,
            consumers: BTreeMap::new(),
            responded: false,
            recovering: false,
            reassigning: false,
            resetting: false,
            err: None,
            unsupported: None,
        }
    }
}

impl Default for ConsumerAssignment {
    /// Go's zero `consumerAssignment`.
    fn default() -> Self {
        ConsumerAssignment {
            client: None,
            created: GoTime::default(),
            name: String::new(),
            stream: String::new(),
            config_json: null_raw(),
            config: None,
            group: None,
            subject: String::new(),
            reply: String::new(),
            state: None,
            responded: false,
            recovering: false,
            err: None,
            unsupported: None,
        }
    }
}

impl PartialEq for StreamAssignment {
    /// Replicated fields, decoded config, consumers and local flags; the raw
    /// config is compared as text.
    fn eq(&self, o: &Self) -> bool {
        self.client == o.client
            && self.created == o.created
            && self.config_json.get() == o.config_json.get()
            && self.config == o.config
            && self.group == o.group
            && self.sync == o.sync
            && self.subject == o.subject
            && self.reply == o.reply
            && self.restore.as_ref().map(|r| r.get()) == o.restore.as_ref().map(|r| r.get())
            && self.consumers == o.consumers
            && (self.responded, self.recovering, self.reassigning, self.resetting)
                == (o.responded, o.recovering, o.reassigning, o.resetting)
            && self.err == o.err
            && self.unsupported == o.unsupported
    }
}

impl PartialEq for ConsumerAssignment {
    /// Replicated fields, decoded config and local flags.
    fn eq(&self, o: &Self) -> bool {
        self.client == o.client
            && self.created == o.created
            && self.name == o.name
            && self.stream == o.stream
            && self.config_json.get() == o.config_json.get()
            && self.config == o.config
            && self.group == o.group
            && self.subject == o.subject
            && self.reply == o.reply
            && self.state.as_ref().map(|r| r.get()) == o.state.as_ref().map(|r| r.get())
            && (self.responded, self.recovering) == (o.responded, o.recovering)
            && self.err == o.err
            && self.unsupported == o.unsupported
    }
}

/// Separator of the parts of a recovery key.
pub const KSEP: &str = ":";

impl StreamAssignment {
    /// The stream's name from its decoded config ("" when undecoded).
    pub fn name(&self) -> &str {
        self.config.as_ref().map_or("", |c| c.name.as_str())
    }

    /// The account the stream belongs to.
    pub fn account(&self) -> &str {
        ClientInfo::service_account(self.client.as_ref())
    }

    /// Port of (*streamAssignment).recoveryKey
    ///
    /// `"<account>:<stream>"`. Upstream returns "" for a nil assignment;
    /// here the receiver always exists.
    pub fn recovery_key(&self) -> String {
        format!("{}{KSEP}{}", self.account(), self.name())
    }

    /// Port of (*streamAssignment).copyGroup
    ///
    /// A copy whose group (and peer list) can be changed without touching
    /// the original. Upstream copies shallowly and shares the consumer map;
    /// here the whole assignment is cloned.
    pub fn copy_group(&self) -> StreamAssignment {
        self.clone()
    }

    /// Port of (*streamAssignment).missingPeers
    ///
    /// Fewer peers than configured replicas. A missing group or config
    /// counts as zero peers / zero replicas (upstream would panic).
    pub fn missing_peers(&self) -> bool {
        let peers = self.group.as_ref().map_or(0, |g| g.peers.len()) as i64;
        peers < self.config.as_ref().map_or(0, |c| c.replicas)
    }
}

impl ConsumerAssignment {
    /// The account the consumer belongs to.
    pub fn account(&self) -> &str {
        ClientInfo::service_account(self.client.as_ref())
    }

    /// Port of (*consumerAssignment).streamRecoveryKey
    ///
    /// `"<account>:<stream>"`, the key of the consumer's stream.
    pub fn stream_recovery_key(&self) -> String {
        format!("{}{KSEP}{}", self.account(), self.stream)
    }

    /// Port of (*consumerAssignment).recoveryKey
    ///
    /// `"<account>:<stream>:<consumer>"`.
    pub fn recovery_key(&self) -> String {
        format!("{}{KSEP}{}{KSEP}{}", self.account(), self.stream, self.name)
    }

    /// Port of (*consumerAssignment).copyGroup
    ///
    /// A copy whose group can be changed independently of the original.
    pub fn copy_group(&self) -> ConsumerAssignment {
        self.clone()
    }
}

/// A consumer assignment as written into a meta snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteableConsumerAssignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default)]
    pub created: GoTime,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub stream: String,
    #[serde(rename = "consumer", default = "missing_raw")]
    pub config_json: Box<RawValue>,
    pub group: Option<RaftGroup>,
}

/// A stream assignment with its consumers, as written into a meta snapshot.
/// The consumer list's key is `Consumers` (the Go field has no JSON tag).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteableStreamAssignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
    #[serde(default)]
    pub created: GoTime,
    #[serde(rename = "stream", default = "missing_raw")]
    pub config_json: Box<RawValue>,
    pub group: Option<RaftGroup>,
    #[serde(default)]
    pub sync: String,
    #[serde(rename = "Consumers", alias = "consumers", default, deserialize_with = "null_default")]
    pub consumers: Vec<WriteableConsumerAssignment>,
}

#[cfg(test)]
#[path = "assignments_tests.rs"]
mod tests;
