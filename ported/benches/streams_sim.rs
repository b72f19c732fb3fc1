//! Replicated publishes of an R3 stream on the simulated cluster, printed
//! as figures; not a pass/fail test.
//!
//!     cargo bench -p ported --bench streams_sim
//!
//! Three servers with the stream layer, one R3 memory stream; a client on
//! a follower's server publishes `STREAMS_BENCH_MSGS` messages (default
//! 5,000, 64-byte payloads, a Nats-Msg-Id header each), first one at a time
//! waiting for each PubAck (as `js.Publish`), then in windows of 100 in
//! flight (as `js.PublishAsync`). Reported per mode: acknowledged publishes
//! per simulated second (what the simulated cluster would sustain with the
//! simulator's link delays, 0.2-2 ms between servers) and per wall second
//! (how fast the simulator runs them), and their ratio. Every replica must
//! end with every acknowledged message, or the run fails.

use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../tests/jss/helpers.rs"]
mod helpers;

use helpers::{add_stream, assignment, stream_cluster, wait_replicas_equal};
use ported::sim::js::{JsCluster, GLOBAL_ACCOUNT};

fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

fn setup(seed: u64) -> (JsCluster, usize) {
    let mut c = stream_cluster("BENCH", 3, seed);
    let meta = c.wait_on_leader().expect("meta leader");
    let sa = assignment(&c, meta, GLOBAL_ACCOUNT, "BENCH", &["bench.>"], &[0, 1, 2]);
    let l = add_stream(&mut c, &sa).expect("stream added");
    let cl = c.connect((l + 1) % 3, GLOBAL_ACCOUNT);
    c.subscribe(cl, "_INBOX.bench.>");
    (c, cl)
}

/// PubAcks received since the last call (taken off the client's queue).
fn take_acks(c: &mut JsCluster, cl: usize) -> usize {
    let got = c.clients[cl].msgs.drain(..);
    got.filter(|m| {
        assert!(!m.data.windows(7).any(|w| w == b"\"error\""), "publish failed: {}", String::from_utf8_lossy(&m.data));
        m.subject.starts_with("_INBOX.bench.")
    })
    .count()
}

/// Publishes `n` messages with `window` in flight; returns (simulated s, wall s).
fn run(n: u64, window: u64, seed: u64) -> (f64, f64) {
    let (mut c, cl) = setup(seed);
    let payload = vec![b'x'; 64];
    let sim0 = c.world.now.get();
    let wall0 = Instant::now();
    let mut sent = 0u64;
    let mut acked = 0usize;
    while sent < n {
        let batch = window.min(n - sent);
        for k in 0..batch {
            let i = sent + k;
            let hdr = format!("NATS/1.0\r\nNats-Msg-Id: m-{i}\r\n\r\n");
            assert!(c.publish(cl, &format!("bench.s{}", i % 16), &format!("_INBOX.bench.{i}"), hdr.as_bytes(), &payload));
        }
        sent += batch;
        let want = sent as usize;
        assert!(
            c.run_until(Duration::from_secs(30), |c| {
                acked += take_acks(c, cl);
                acked >= want
            }),
            "PubAcks for {want} publishes"
        );
    }
    let sim = (c.world.now.get() - sim0) as f64 / 1e9;
    let wall = wall0.elapsed().as_secs_f64();
    let st = wait_replicas_equal(&mut c, GLOBAL_ACCOUNT, "BENCH", &[0, 1, 2], Duration::from_secs(30)).expect("replicas agree");
    assert_eq!(st.msgs, n, "every acknowledged message on every replica");
    (sim, wall)
}

fn main() {
    let n = env_count("STREAMS_BENCH_MSGS", 5_000);
    println!("R3 stream, 3 simulated servers, {n} publishes of 64 bytes (release build: {})", !cfg!(debug_assertions));
    println!("{:<28} {:>12} {:>12} {:>14} {:>14} {:>10}", "mode", "sim s", "wall s", "pub/sim s", "pub/wall s", "wall/sim");
    for (label, window) in [("sync (1 in flight)", 1), ("async (100 in flight)", 100)] {
        let (sim, wall) = run(n, window, 17);
        println!(
            "{:<28} {:>12.3} {:>12.3} {:>14.0} {:>14.0} {:>9.2}x",
            label,
            sim,
            wall,
            n as f64 / sim,
            n as f64 / wall,
            (n as f64 / wall) / (n as f64 / sim)
        );
    }
}
