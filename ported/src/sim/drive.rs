//! The loop both simulated clusters (raft groups and JetStream servers) run
//! on: take the earliest due event, step, and stop at a simulated deadline
//! or when a condition holds. A step budget turns a livelock into a failure
//! instead of a hang.

use std::time::Duration;

use super::world::World;

/// A simulation that advances one event at a time on a [`World`]'s clock.
pub(crate) trait Stepped {
    fn world(&self) -> &World;
    /// When the earliest pending event is due, if any.
    fn next_event(&self) -> Option<u64>;
    /// Runs the earliest due event.
    fn step(&mut self) -> bool;
}

fn check_budget<S: Stepped>(s: &S, steps: u64, budget: u64) {
    if steps > budget {
        panic!("step budget exhausted at {:.3}s", s.world().now.get() as f64 / 1e9);
    }
}

/// Runs every event due within `d` of simulated time, then sets the clock to
/// the end of it.
pub(crate) fn run_for<S: Stepped>(s: &mut S, d: Duration, budget: u64) {
    let target = s.world().now.get() + d.as_nanos() as u64;
    let mut steps = 0u64;
    while s.next_event().is_some_and(|t| t <= target) {
        s.step();
        steps += 1;
        check_budget(s, steps, budget);
    }
    let now = &s.world().now;
    now.set(now.get().max(target));
}

/// Runs until `cond` holds (checked before every step) or `d` of simulated
/// time passes; returns whether it held.
pub(crate) fn run_until<S: Stepped>(s: &mut S, d: Duration, budget: u64, mut cond: impl FnMut(&mut S) -> bool) -> bool {
    let deadline = s.world().now.get() + d.as_nanos() as u64;
    let mut steps = 0u64;
    loop {
        if cond(s) {
            return true;
        }
        match s.next_event() {
            Some(t) if t <= deadline => {
                s.step();
            }
            _ => {
                let now = &s.world().now;
                now.set(now.get().max(deadline));
                return cond(s);
            }
        }
        steps += 1;
        check_budget(s, steps, budget);
    }
}
