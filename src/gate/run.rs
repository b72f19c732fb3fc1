//! Running a gate command: from an argument vector (no shell), with every
//! process it starts ended when the gate ends, its output streamed line by
//! line to a consumer and to a bounded log, and, on a terminal, a progress
//! line.
//!
//! Nothing outlives a gate. porttrack makes itself a child subreaper
//! (`PR_SET_CHILD_SUBREAPER`), so a descendant that double-forks or calls
//! `setsid` is re-parented to porttrack instead of init, and every process
//! the command starts carries a marker variable in its environment
//! ([`MARKER_ENV`]). The gate's processes are the command's descendants plus
//! any re-parented child that carries the marker; they are stopped and
//! killed together:
//! - at the timeout;
//! - when porttrack gets SIGINT or SIGTERM (the run ends as interrupted);
//! - after the main command exits, once its output reaches end of file or
//!   [`PIPE_GRACE`] has passed (a daemon that keeps stdout open would hold
//!   the gate forever; one that closed it would leak).
//!
//! The log keeps the first and the last `keep` bytes of the output with a
//! marker line between them; the tail is kept in two spill files on disk
//! that take turns, so memory stays flat however much a command prints.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long the output may stay open after the main command exited before
/// the processes holding it are ended.
pub const PIPE_GRACE: Duration = Duration::from_secs(2);

/// Set in every gate command's environment to tell its processes apart
/// from anything else porttrack's process may have started.
pub const MARKER_ENV: &str = "PORTTRACK_GATE_RUN";

/// A line longer than this is handed on in pieces, so output without
/// newlines cannot grow a buffer without bound.
pub const MAX_LINE: usize = 1 << 20;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code (None: killed by a signal).
    Exited(Option<i32>),
    /// It ran past the timeout; it and everything it started were killed.
    TimedOut,
    /// porttrack got this signal (SIGINT, SIGTERM) and ended the run.
    Interrupted(i32),
    /// It could not be started (not found, not executable, bad directory).
    NotStarted(String),
}

/// What was kept of the output in the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LogSummary {
    /// Bytes the command printed.
    pub output_bytes: u64,
    /// Bytes left out of the log between its head and its tail.
    pub omitted_bytes: u64,
}

/// A finished command run.
#[derive(Debug, Clone)]
pub struct CommandRun {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub started_at: String,
    pub duration: Duration,
    pub ended: Ended,
    pub log_path: Option<PathBuf>,
    pub log_sha256: Option<String>,
    pub log: LogSummary,
    /// Processes still alive after the main command exited (or at the
    /// timeout or signal) that the gate ended.
    pub ended_leftovers: usize,
}

impl CommandRun {
    /// A run that never started, and why.
    pub fn not_started(argv: &[String], cwd: &Path, why: String) -> CommandRun {
        CommandRun {
            argv: argv.to_vec(),
            cwd: cwd.to_path_buf(),
            started_at: crate::clock::now_rfc3339(),
            duration: Duration::ZERO,
            ended: Ended::NotStarted(why),
            log_path: None,
            log_sha256: None,
            log: LogSummary::default(),
            ended_leftovers: 0,
        }
    }
}

/// Options of one run.
pub struct RunOptions<'a> {
    pub cwd: &'a Path,
    /// Extra environment for the command (e.g. its fresh results directory).
    pub env: &'a [(String, String)],
    pub timeout: Duration,
    pub log: Option<&'a Path>,
    /// Bytes of the head and of the tail of the output the log keeps.
    pub log_keep: u64,
    pub progress: bool,
}

/// Run `argv`; every output line (stdout and stderr interleaved, without
/// its line end) goes to `on_line` as it arrives.
pub fn run(argv: &[String], o: &RunOptions, on_line: &mut dyn FnMut(&[u8])) -> CommandRun {
    let started_at = crate::clock::now_rfc3339();
    let start = Instant::now();
    let mut run = CommandRun { started_at, ..CommandRun::not_started(argv, o.cwd, String::new()) };
    let Some((program, args)) = argv.split_first() else {
        run.ended = Ended::NotStarted("empty command".into());
        return run;
    };
    let mut log = match o.log.map(|p| BoundedLog::create(p, o.log_keep)) {
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            run.ended = Ended::NotStarted(format!("cannot create log {}: {e}", o.log.map(|l| l.display().to_string()).unwrap_or_default()));
            return run;
        }
        None => None,
    };
    become_subreaper();
    let marker = format!("{}-{}", std::process::id(), next_run_number());
    let (reader, writer) = match std::io::pipe() {
        Ok(p) => p,
        Err(e) => {
            run.ended = Ended::NotStarted(format!("cannot create a pipe: {e}"));
            return run;
        }
    };
    let stderr = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => {
            run.ended = Ended::NotStarted(format!("cannot create a pipe: {e}"));
            return run;
        }
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .current_dir(o.cwd)
        .envs(o.env.iter().map(|(k, v)| (k, v)))
        .env(MARKER_ENV, &marker)
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(stderr)
        // Its own process group, so a terminal's Ctrl-C reaches porttrack
        // only, which then ends the whole tree in order.
        .process_group(0);
    let signals = SignalGuard::install();
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            run.ended = Ended::NotStarted(format!("cannot run {program}: {e}"));
            run.duration = start.elapsed();
            return run;
        }
    };
    // Our copies of the write end went with `cmd`; drop it so end of file
    // comes when the command's processes close theirs.
    drop(cmd);
    let pid = child.id() as libc::pid_t;
    let marker_kv: Vec<u8> = [MARKER_ENV.as_bytes(), b"=", marker.as_bytes()].concat();
    let mut tree = Tree { root: pid, marker: marker_kv, seen: Default::default() };

    let bar = o.progress.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(Duration::from_millis(120));
        b
    });
    let mut lines = 0u64;
    let mut show = |line: &[u8]| {
        if let Some(b) = &bar {
            lines += 1;
            if lines % 64 == 1 {
                let shown: String = String::from_utf8_lossy(line).chars().filter(|c| !c.is_control()).take(100).collect();
                b.set_message(format!("{lines} lines | {shown}"));
            }
        }
    };

    let deadline = start + o.timeout;
    let fd = reader.as_raw_fd();
    let mut reader = reader;
    let mut splitter = LineSplitter::default();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut eof = false;
    let mut status: Option<Option<i32>> = None;
    let mut exited_at: Option<Instant> = None;
    let mut ended: Option<Ended> = None;
    let mut killed_at: Option<Instant> = None;
    loop {
        if !eof && poll_readable(fd, Duration::from_millis(50)) {
            match reader.read(&mut chunk) {
                Ok(0) => eof = true,
                Ok(n) => {
                    let data = &chunk[..n];
                    if let Some(l) = log.as_mut() {
                        l.write(data);
                    }
                    splitter.push(data, &mut |line| {
                        show(line);
                        on_line(line);
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => eof = true,
            }
        } else if eof {
            std::thread::sleep(Duration::from_millis(20));
        }
        if status.is_none() {
            if let Some(s) = try_wait(pid) {
                status = Some(s);
                exited_at = Some(Instant::now());
            }
        }
        if killed_at.is_none() {
            let cause = if let Some(sig) = signals.received() {
                Some(Ended::Interrupted(sig))
            } else if Instant::now() >= deadline && status.is_none() {
                Some(Ended::TimedOut)
            } else if exited_at.is_some_and(|t| eof || t.elapsed() >= PIPE_GRACE) {
                // The main command is done: whatever it left behind goes.
                Some(Ended::Exited(None))
            } else {
                None
            };
            if let Some(cause) = cause {
                run.ended_leftovers = tree.kill_all(status.is_some());
                killed_at = Some(Instant::now());
                if !matches!(cause, Ended::Exited(_)) {
                    ended = Some(cause);
                }
            }
        }
        if let Some(k) = killed_at {
            if status.is_none() {
                status = try_wait(pid).or_else(|| (k.elapsed() > Duration::from_secs(5)).then_some(None));
            }
            // Everything is dead; read what is left in the pipe, then stop.
            // A writer outside the tree (none should exist) cannot hold the
            // gate for long.
            if status.is_some() && (eof || k.elapsed() > Duration::from_secs(2)) {
                break;
            }
        }
    }
    splitter.finish(&mut |line| {
        show(line);
        on_line(line);
    });
    // Anything started in the last instant, and the zombies of what died.
    run.ended_leftovers += tree.kill_all(status.is_some());
    drop(signals);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    run.duration = start.elapsed();
    run.ended = ended.unwrap_or(Ended::Exited(status.flatten()));
    if let (Some(l), Some(path)) = (log, o.log) {
        match l.finish() {
            Ok((summary, sha)) => {
                run.log = summary;
                run.log_sha256 = Some(sha);
                run.log_path = Some(path.to_path_buf());
            }
            Err(_) => run.log_path = None,
        }
    }
    run
}

/// Wait for `pid` without blocking: its exit code (None when a signal
/// killed it) once it has ended.
fn try_wait(pid: libc::pid_t) -> Option<Option<i32>> {
    let mut status = 0;
    // SAFETY: waitpid only writes the status of our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    if r == pid {
        Some(if libc::WIFEXITED(status) { Some(libc::WEXITSTATUS(status)) } else { None })
    } else if r < 0 {
        // Already reaped (or not ours): nothing to wait for.
        Some(None)
    } else {
        None
    }
}

fn poll_readable(fd: i32, timeout: Duration) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd on a descriptor we own.
    let r = unsafe { libc::poll(&mut p, 1, timeout.as_millis() as libc::c_int) };
    r > 0 && p.revents != 0
}

/// Re-parent orphaned descendants to this process rather than init, so a
/// `setsid` grandchild can still be found and ended. Linux only; harmless
/// to repeat.
fn become_subreaper() {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong);
    }
}

fn next_run_number() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A gate's processes: the command's descendants, and processes carrying
/// its marker (re-parented here after their parent died).
struct Tree {
    root: libc::pid_t,
    marker: Vec<u8>,
    /// Every PID found to be ours, so its zombie (whose environment can no
    /// longer be read) is still known and reaped.
    seen: std::collections::HashSet<libc::pid_t>,
}

/// One entry of /proc.
struct Proc {
    pid: libc::pid_t,
    ppid: libc::pid_t,
    zombie: bool,
}

impl Tree {
    /// The live and zombie processes of this gate. Once the root has been
    /// reaped its PID may belong to someone else, so it no longer counts;
    /// its orphans were re-parented here and carry the marker.
    fn members(&mut self, root_reaped: bool) -> Vec<Proc> {
        let procs = list_procs();
        let me = std::process::id() as libc::pid_t;
        let mut is_ours = std::collections::HashSet::new();
        for p in &procs {
            let root = p.pid == self.root && !root_reaped;
            let adopted = p.ppid == me && p.pid != self.root && (self.seen.contains(&p.pid) || (!p.zombie && has_marker(p.pid, &self.marker)));
            if root || adopted {
                is_ours.insert(p.pid);
            }
        }
        // Close over parent links: a descendant of ours is ours.
        loop {
            let before = is_ours.len();
            for p in &procs {
                if !is_ours.contains(&p.pid) && is_ours.contains(&p.ppid) {
                    is_ours.insert(p.pid);
                }
            }
            if is_ours.len() == before {
                break;
            }
        }
        self.seen.extend(is_ours.iter().copied().filter(|&p| p != self.root));
        procs.into_iter().filter(|p| is_ours.contains(&p.pid)).collect()
    }

    /// Stop, kill and reap every process of the gate except the root
    /// (which the caller reaps for its status); returns how many were
    /// alive. Stopping first keeps a forking process from outrunning us.
    fn kill_all(&mut self, root_reaped: bool) -> usize {
        let me = std::process::id() as libc::pid_t;
        let mut killed = std::collections::HashSet::new();
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            let members = self.members(root_reaped);
            let live: Vec<&Proc> = members.iter().filter(|p| !p.zombie).collect();
            for p in &members {
                // Reap zombies that were re-parented here (not the root:
                // its status is wanted).
                if p.zombie && p.ppid == me && p.pid != self.root {
                    let mut st = 0;
                    // SAFETY: reaping a zombie child of ours.
                    unsafe { libc::waitpid(p.pid, &mut st, libc::WNOHANG) };
                }
            }
            if live.is_empty() || Instant::now() > give_up {
                break;
            }
            for p in &live {
                // SAFETY: signals to processes identified as this gate's.
                unsafe { libc::kill(p.pid, libc::SIGSTOP) };
            }
            for p in &live {
                if p.pid != self.root {
                    killed.insert(p.pid);
                }
                // SAFETY: as above.
                unsafe { libc::kill(p.pid, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        killed.len()
    }
}

fn list_procs() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<libc::pid_t>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // `pid (comm) S ppid …`; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        let mut fields = after.split_whitespace();
        let state = fields.next().unwrap_or("");
        let Some(ppid) = fields.next().and_then(|s| s.parse().ok()) else { continue };
        out.push(Proc { pid, ppid, zombie: state == "Z" || state == "X" });
    }
    out
}

fn has_marker(pid: libc::pid_t, marker: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == marker))
}

/// The most recent SIGINT or SIGTERM received while a gate runs.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    SIGNAL.store(sig, Ordering::SeqCst);
}

/// SIGINT and SIGTERM handlers for the length of a run; the previous ones
/// come back when it is dropped.
struct SignalGuard {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl SignalGuard {
    fn install() -> SignalGuard {
        SIGNAL.store(0, Ordering::SeqCst);
        let mut previous = Vec::new();
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: a handler that only stores to an atomic is
            // async-signal-safe; the old action is kept to be restored.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &new, &mut old) == 0 {
                    previous.push((sig, old));
                }
            }
        }
        SignalGuard { previous }
    }

    fn received(&self) -> Option<i32> {
        Some(SIGNAL.load(Ordering::SeqCst)).filter(|&s| s != 0)
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (sig, old) in &self.previous {
            // SAFETY: restoring the action saved by `install`.
            unsafe { libc::sigaction(*sig, old, std::ptr::null_mut()) };
        }
    }
}

/// The signal that interrupted the last gate run, if one did.
pub fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

/// Splits a byte stream into lines (without `\n` or `\r\n`), handing each
/// on as it completes; a line longer than [`MAX_LINE`] is handed on in
/// pieces.
#[derive(Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, mut data: &[u8], out: &mut dyn FnMut(&[u8])) {
        while let Some(i) = memchr::memchr(b'\n', data) {
            let (line, rest) = (&data[..i], &data[i + 1..]);
            if self.partial.is_empty() {
                out(trim_cr(line));
            } else {
                self.partial.extend_from_slice(line);
                out(trim_cr(&self.partial));
                self.partial.clear();
            }
            data = rest;
        }
        self.partial.extend_from_slice(data);
        if self.partial.len() >= MAX_LINE {
            let mut pieces = self.partial.chunks_exact(MAX_LINE);
            for piece in pieces.by_ref() {
                out(piece);
            }
            let rest = pieces.remainder().to_vec();
            self.partial = rest;
        }
    }

    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) {
        if !self.partial.is_empty() {
            out(trim_cr(&self.partial));
            self.partial.clear();
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A log of the first `keep` bytes and the last `keep` bytes of the
/// output. Past the head, bytes go to two spill files in turn, each up to
/// `keep` bytes; the tail is the end of the older plus the newer.
struct BoundedLog {
    path: PathBuf,
    keep: u64,
    head: File,
    head_len: u64,
    spills: [File; 2],
    current: usize,
    current_len: u64,
    total: u64,
    /// Whether the older spill file holds a full segment.
    older_full: bool,
}

impl BoundedLog {
    fn create(path: &Path, keep: u64) -> std::io::Result<BoundedLog> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let head = File::create(path)?;
        let spill = |i: usize| -> std::io::Result<File> {
            let mut name = OsString::from(path.as_os_str());
            name.push(format!(".tail{i}"));
            let p = PathBuf::from(name);
            let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&p)?;
            // The spill files are scratch: gone from the directory at once,
            // alive while open.
            let _ = std::fs::remove_file(&p);
            Ok(f)
        };
        Ok(BoundedLog { path: path.to_path_buf(), keep: keep.max(1), head, head_len: 0, spills: [spill(0)?, spill(1)?], current: 0, current_len: 0, total: 0, older_full: false })
    }

    fn write(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.head_len < self.keep {
            let n = (self.keep - self.head_len).min(data.len() as u64) as usize;
            let _ = self.head.write_all(&data[..n]);
            self.head_len += n as u64;
            data = &data[n..];
        }
        while !data.is_empty() {
            if self.current_len == self.keep {
                self.current = 1 - self.current;
                let f = &mut self.spills[self.current];
                let _ = f.set_len(0).and_then(|_| f.seek(SeekFrom::Start(0)));
                self.current_len = 0;
                self.older_full = true;
            }
            let n = (self.keep - self.current_len).min(data.len() as u64) as usize;
            let _ = self.spills[self.current].write_all(&data[..n]);
            self.current_len += n as u64;
            data = &data[n..];
        }
    }

    /// Write the tail after the head (with a marker when bytes were left
    /// out) and return what was kept and the log's SHA-256.
    fn finish(mut self) -> std::io::Result<(LogSummary, String)> {
        let spilled = self.total - self.head_len;
        let tail_len = spilled.min(self.keep);
        let omitted = spilled - tail_len;
        if omitted > 0 {
            writeln!(
                self.head,
                "\n[porttrack: {omitted} bytes of output left out here; the log keeps the first and the last {} bytes of {}]",
                self.keep, self.total
            )?;
        }
        // The tail: the end of the older segment, then the current one.
        let from_older = tail_len - self.current_len.min(tail_len);
        if from_older > 0 && self.older_full {
            let older = &mut self.spills[1 - self.current];
            older.seek(SeekFrom::Start(self.keep - from_older))?;
            std::io::copy(&mut older.take(from_older), &mut self.head)?;
        }
        let cur = &mut self.spills[self.current];
        cur.seek(SeekFrom::Start(0))?;
        std::io::copy(&mut cur.take(self.current_len), &mut self.head)?;
        self.head.flush()?;
        drop(self.head);
        let sha = sha256_file(&self.path).unwrap_or_default();
        Ok((LogSummary { output_bytes: self.total, omitted_bytes: omitted }, sha))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file, or None when it cannot be read. Streams the file.
pub fn sha256_file(path: &Path) -> Option<String> {
    let mut f = File::open(path).ok()?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).ok()?;
    Some(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn opts<'a>(dir: &'a Path, timeout: Duration, log: Option<&'a Path>) -> RunOptions<'a> {
        RunOptions { cwd: dir, env: &[], timeout, log, log_keep: 64 << 20, progress: false }
    }

    fn collect(argv_: &[&str], o: &RunOptions) -> (CommandRun, String) {
        let mut out = String::new();
        let r = run(&argv(argv_), o, &mut |l| {
            out.push_str(&String::from_utf8_lossy(l));
            out.push('\n');
        });
        (r, out)
    }

    #[test]
    fn captures_output_exit_code_and_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs/run.log");
        let (r, out) = collect(&["sh", "-c", "echo out; echo err >&2; printf 'no newline'; exit 3"], &opts(dir.path(), Duration::from_secs(30), Some(&log)));
        assert_eq!(r.ended, Ended::Exited(Some(3)));
        assert!(out.contains("out\n") && out.contains("err\n") && out.ends_with("no newline\n"), "{out}");
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "out\nerr\nno newline");
        assert_eq!(r.log_sha256.as_deref(), sha256_file(&log).as_deref());
        assert_eq!(r.log, LogSummary { output_bytes: 18, omitted_bytes: 0 });
    }

    #[test]
    fn missing_program_does_not_start() {
        let dir = tempfile::tempdir().unwrap();
        let (r, _) = collect(&["porttrack-no-such-program"], &opts(dir.path(), Duration::from_secs(5), None));
        assert!(matches!(&r.ended, Ended::NotStarted(m) if m.contains("porttrack-no-such-program")), "{:?}", r.ended);
    }

    #[test]
    fn timeout_kills_the_whole_tree() {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        // The grandchild `sleep` holds stdout open; only ending the tree ends it.
        let (r, out) = collect(&["sh", "-c", "echo begin; sleep 30 & sleep 30; echo never"], &opts(dir.path(), Duration::from_millis(300), None));
        assert_eq!(r.ended, Ended::TimedOut);
        assert!(out.contains("begin") && !out.contains("never"));
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    }

    #[test]
    fn the_log_keeps_head_and_tail_with_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("run.log");
        let mut o = opts(dir.path(), Duration::from_secs(30), Some(&log));
        o.log_keep = 1000;
        // 10,000 numbered lines of 6 bytes: 60,000 bytes.
        let (r, out) = collect(&["sh", "-c", "i=10000; while [ $i -lt 20000 ]; do echo $i; i=$((i+1)); done"], &o);
        assert_eq!(r.ended, Ended::Exited(Some(0)));
        assert_eq!(out.lines().count(), 10_000, "every line reaches the consumer");
        let text = std::fs::read_to_string(&log).unwrap();
        let all: String = (10000..20000).map(|i| format!("{i}\n")).collect();
        let marker = "\n[porttrack: 58000 bytes of output left out here; the log keeps the first and the last 1000 bytes of 60000]\n";
        assert_eq!(text, format!("{}{marker}{}", &all[..1000], &all[59000..]));
        assert_eq!(r.log, LogSummary { output_bytes: 60_000, omitted_bytes: 58_000 });
    }

    #[test]
    fn lines_split_across_reads_and_overlong_lines() {
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut s = LineSplitter::default();
        s.push(b"ab", &mut |l| got.push(l.to_vec()));
        s.push(b"c\r\nd\n\ne", &mut |l| got.push(l.to_vec()));
        s.finish(&mut |l| got.push(l.to_vec()));
        assert_eq!(got, vec![b"abc".to_vec(), b"d".to_vec(), b"".to_vec(), b"e".to_vec()]);
        let mut pieces = 0;
        let mut s = LineSplitter::default();
        s.push(&vec![b'x'; MAX_LINE * 2 + 5], &mut |_| pieces += 1);
        s.finish(&mut |_| pieces += 1);
        assert_eq!(pieces, 3);
    }
}
