//! Running a gate command: from an argument vector (no shell), in its own
//! process group so a timeout can kill everything it started, with output
//! streamed to a log file and, on a terminal, a progress line.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code (None: killed by a signal).
    Exited(Option<i32>),
    /// It ran past the timeout and its process group was killed.
    TimedOut,
    /// It could not be started (not found, not executable, bad directory).
    NotStarted(String),
}

/// A finished command run.
#[derive(Debug, Clone)]
pub struct CommandRun {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub started_at: String,
    pub duration: Duration,
    pub ended: Ended,
    /// Everything it printed (stdout and stderr, interleaved as written).
    pub output: String,
    pub log_path: Option<PathBuf>,
    pub log_sha256: Option<String>,
}

/// Run `argv` in `cwd`, killing its process group after `timeout`.
/// Output goes to `log` (created with its directory) and is returned.
pub fn run(argv: &[String], cwd: &Path, timeout: Duration, log: Option<&Path>, progress: bool) -> CommandRun {
    run_with_env(argv, cwd, &[], timeout, log, progress)
}

/// [`run`] with extra environment variables for the command.
pub fn run_with_env(argv: &[String], cwd: &Path, env: &[(String, String)], timeout: Duration, log: Option<&Path>, progress: bool) -> CommandRun {
    let started_at = crate::clock::now_rfc3339();
    let start = Instant::now();
    let mut run = CommandRun {
        argv: argv.to_vec(),
        cwd: cwd.to_path_buf(),
        started_at,
        duration: Duration::ZERO,
        ended: Ended::NotStarted(String::new()),
        output: String::new(),
        log_path: None,
        log_sha256: None,
    };
    let Some((program, args)) = argv.split_first() else {
        run.ended = Ended::NotStarted("empty command".into());
        return run;
    };
    let mut log_file = match log.map(open_log) {
        Some(Ok(f)) => {
            run.log_path = log.map(Path::to_path_buf);
            Some(f)
        }
        Some(Err(e)) => {
            run.ended = Ended::NotStarted(format!("cannot create log {}: {e}", log.map(|l| l.display().to_string()).unwrap_or_default()));
            return run;
        }
        None => None,
    };
    let expr = env.iter().fold(duct::cmd(program, args), |e, (k, v)| e.env(k, v));
    let expr = expr.dir(cwd).stderr_to_stdout().stdin_null().unchecked().before_spawn(|c| {
        // Its own process group, so a timeout kills grandchildren too.
        c.process_group(0);
        Ok(())
    });
    let reader = match expr.reader() {
        Ok(r) => r,
        Err(e) => {
            run.ended = Ended::NotStarted(format!("cannot run {program}: {e}"));
            run.duration = start.elapsed();
            return run;
        }
    };
    let group = reader.pids().first().copied();

    // The watchdog kills the group at the deadline unless told the run ended.
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || match finished.recv_timeout(timeout) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            if let Some(pgid) = group {
                // SAFETY: killpg only sends a signal to the group we created.
                unsafe {
                    libc::killpg(pgid as libc::pid_t, libc::SIGKILL);
                }
            }
            true
        }
        _ => false,
    });

    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(Duration::from_millis(120));
        b
    });
    let mut hasher = Sha256::new();
    let mut lines = 0u64;
    let mut buf = Vec::new();
    let mut input = BufReader::new(&reader);
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                hasher.update(&buf);
                if let Some(f) = log_file.as_mut() {
                    let _ = f.write_all(&buf);
                }
                let line = String::from_utf8_lossy(&buf);
                if let Some(b) = &bar {
                    lines += 1;
                    let shown: String = line.trim_end().chars().take(100).collect();
                    b.set_message(format!("{lines} lines | {shown}"));
                }
                run.output.push_str(&line);
            }
        }
    }
    let _ = done.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let status = reader.try_wait().ok().flatten().map(|o| o.status.code());
    run.duration = start.elapsed();
    run.ended = if timed_out {
        Ended::TimedOut
    } else {
        Ended::Exited(status.flatten())
    };
    if log_file.is_some() {
        run.log_sha256 = Some(hex(&hasher.finalize()));
    }
    run
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::File::create(path)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file, or None when it cannot be read.
pub fn sha256_file(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(hex(&Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn captures_output_exit_code_and_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs/run.log");
        let r = run(&argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]), dir.path(), Duration::from_secs(30), Some(&log), false);
        assert_eq!(r.ended, Ended::Exited(Some(3)));
        assert!(r.output.contains("out\n") && r.output.contains("err\n"), "{}", r.output);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), r.output);
        assert_eq!(r.log_sha256.as_deref(), sha256_file(&log).as_deref());
    }

    #[test]
    fn missing_program_does_not_start() {
        let dir = tempfile::tempdir().unwrap();
        let r = run(&argv(&["porttrack-no-such-program"]), dir.path(), Duration::from_secs(5), None, false);
        assert!(matches!(&r.ended, Ended::NotStarted(m) if m.contains("porttrack-no-such-program")), "{:?}", r.ended);
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        // The grandchild `sleep` holds stdout open; only a group kill ends it.
        let r = run(&argv(&["sh", "-c", "echo begin; sleep 30 & sleep 30; echo never"]), dir.path(), Duration::from_millis(300), None, false);
        assert_eq!(r.ended, Ended::TimedOut);
        assert!(r.output.contains("begin") && !r.output.contains("never"));
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    }
}
