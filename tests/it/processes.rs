//! Nothing a gate starts outlives it: a `setsid` grandchild at the timeout,
//! a daemon that keeps the output open, one that closed it, and everything
//! when porttrack itself gets SIGTERM. Each command writes the PIDs of what
//! it starts and its own process group to files; afterwards `ps` must show
//! none of those PIDs and no process in that group.

use std::time::{Duration, Instant};

use super::util::TestDir;

fn project(name: &str) -> TestDir {
    let t = TestDir::new(name);
    std::fs::write(t.join("porttrack.toml"), "target_roots = [\"src\"]\n[gate]\nformat = \"libtest\"\ntimeout_secs = 60\n").unwrap();
    t.ok(&["init", "--empty"]);
    t
}

/// One passing libtest test, so a gate that ends normally passes.
const ONE_TEST: &str = "echo 'running 1 test'; echo 'test a ... ok'; echo 'test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s'";

/// `ps` rows (pid, pgid, state, args) of every process.
fn ps() -> Vec<(i32, i32, String, String)> {
    let out = std::process::Command::new("ps").args(["-eo", "pid=,pgid=,stat=,args="]).output().expect("ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let pid = f.next()?.parse().ok()?;
            let pgid = f.next()?.parse().ok()?;
            let stat = f.next()?.to_string();
            Some((pid, pgid, stat, f.collect::<Vec<_>>().join(" ")))
        })
        .collect()
}

fn read_ids(t: &TestDir, file: &str) -> Vec<i32> {
    std::fs::read_to_string(t.join(file)).unwrap_or_default().split_whitespace().filter_map(|s| s.parse().ok()).collect()
}

/// Wait (a few seconds at most, for init to reap what was killed) until no
/// process has one of `pids` or is in one of `groups`, nor runs a command
/// containing `marker`; panic listing what is left.
fn assert_all_gone(pids: &[i32], groups: &[i32], marker: &str) {
    assert!(!pids.is_empty() && !groups.is_empty(), "the command did not record its PIDs");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<(i32, i32, String, String)> =
            ps().into_iter().filter(|(pid, pgid, _, args)| pids.contains(pid) || groups.contains(pgid) || args.contains(marker)).filter(|(_, _, _, args)| !args.starts_with("ps ")).collect();
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!("processes outlived the gate: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Processes a failing test leaves behind are killed, by PID and by the
/// group each recorded PID leads (a `setsid` child leads its own).
struct Cleanup(Vec<i32>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = std::process::Command::new("kill").args(["-9", "--", &format!("-{pid}")]).output();
            let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).output();
        }
    }
}

#[test]
fn a_setsid_grandchild_is_ended_at_the_timeout() {
    let t = project("proc-setsid-timeout");
    let script = "echo $$ > groups; setsid sleep 1005.1 & echo $! >> pids; sleep 1006.1";
    let started = Instant::now();
    let (code, out, err) = t.run(&["gate", "test", "--json", "--timeout", "2", "--", "sh", "-c", script]);
    let pids = read_ids(&t, "pids");
    let _cleanup = Cleanup(pids.clone());
    assert_eq!(code, 1, "{out}{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["failures"].to_string().contains("timed out after 2 s"), "{v}");
    let mut groups = read_ids(&t, "groups");
    groups.extend(&pids); // setsid made the grandchild its own group
    assert_all_gone(&pids, &groups, "1005.1");
    assert_all_gone(&pids, &groups, "1006.1");
}

#[test]
fn a_daemon_holding_stdout_does_not_hold_the_gate() {
    let t = project("proc-daemon-stdout");
    let script = format!("{ONE_TEST}; echo $$ > groups; (setsid sleep 1007.1 & echo $! >> pids); exit 0");
    let started = Instant::now();
    let (code, out, err) = t.run(&["gate", "test", "--json", "--timeout", "60", "--", "sh", "-c", &script]);
    let pids = read_ids(&t, "pids");
    let _cleanup = Cleanup(pids.clone());
    assert_eq!(code, 0, "{out}{err}");
    // The main command exited at once; the grace period is 2 s.
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["warnings"].to_string().contains("ended 1 process(es) the command left running"), "{v}");
    let mut groups = read_ids(&t, "groups");
    groups.extend(&pids);
    assert_all_gone(&pids, &groups, "1007.1");
}

#[test]
fn a_daemon_that_closed_stdout_is_ended_too() {
    let t = project("proc-daemon-closed");
    let script = format!("{ONE_TEST}; echo $$ > groups; (setsid sh -c 'exec >/dev/null 2>&1 </dev/null; sleep 1008.1' & echo $! >> pids); sleep 0.3; exit 0");
    let (code, out, err) = t.run(&["gate", "test", "--json", "--timeout", "60", "--", "sh", "-c", &script]);
    let pids = read_ids(&t, "pids");
    let _cleanup = Cleanup(pids.clone());
    assert_eq!(code, 0, "{out}{err}");
    let mut groups = read_ids(&t, "groups");
    groups.extend(&pids);
    assert_all_gone(&pids, &groups, "1008.1");
}

#[test]
fn sigterm_to_porttrack_ends_everything_and_records_the_run() {
    let t = project("proc-sigterm");
    let script = "echo $$ > groups; setsid sleep 1009.1 & echo $! >> pids; sleep 1010.1 & echo $! >> pids; touch started; wait";
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("porttrack"))
        .current_dir(t.path())
        .env_remove("PORTTRACK_DB")
        .args(["gate", "test", "--json", "--timeout", "120", "--", "sh", "-c", script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn porttrack");
    let porttrack = child.id() as i32;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !t.join("started").exists() {
        assert!(Instant::now() < deadline, "the gate command never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pids = read_ids(&t, "pids");
    let _cleanup = Cleanup(pids.clone());
    let signalled = Instant::now();
    let _ = std::process::Command::new("kill").args(["-TERM", &porttrack.to_string()]).output();
    let out = child.wait_with_output().expect("porttrack ends");
    assert!(signalled.elapsed() < Duration::from_secs(15), "porttrack took {:?} after SIGTERM", signalled.elapsed());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["interrupted"], "SIGTERM", "{v}");
    assert!(v["failures"].to_string().contains("interrupted by SIGTERM"), "{v}");
    let mut groups = read_ids(&t, "groups");
    groups.extend(&pids);
    assert_all_gone(&pids, &groups, "1009.1");
    assert_all_gone(&pids, &groups, "1010.1");
    let shown = t.json(&["evidence", "show", &v["run_id"].to_string()]);
    assert_eq!(shown["outcome"], "failed");
}
