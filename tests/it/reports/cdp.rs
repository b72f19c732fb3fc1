//! A minimal Chrome DevTools Protocol client over `--remote-debugging-pipe`
//! (requests on the browser's fd 3, replies and events on fd 4, each a JSON
//! message ended by a NUL byte): no port to pick or race for, and the
//! browser dies with the test.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);

/// The browser to test with: `PORTTRACK_CHROMIUM`, else Debian's
/// `chromium` (or `chromium-browser`) on PATH.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PORTTRACK_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n))).find(|p| p.is_file())
}

pub struct Browser {
    child: Child,
    to_browser: std::io::PipeWriter,
    from_browser: Receiver<Value>,
    next_id: u64,
    /// Events received so far, in order.
    pub events: Vec<Value>,
}

/// Make `fd` the child's descriptor `target`, inheritable.
unsafe fn place(fd: RawFd, target: RawFd) -> std::io::Result<()> {
    if unsafe { libc::dup2(fd, target) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

impl Browser {
    /// Start headless Chromium with a fresh profile in `profile`, with the
    /// flags that keep it off the (closed) network and work as root.
    pub fn launch(chromium: &Path, profile: &Path) -> Browser {
        let (browser_reads, to_browser) = std::io::pipe().expect("pipe");
        let (from_browser, browser_writes) = std::io::pipe().expect("pipe");
        let (r, w) = (browser_reads.as_raw_fd(), browser_writes.as_raw_fd());
        let mut cmd = Command::new(chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // Move both ends above 3 and 4 first, so placing one cannot
                // overwrite the other.
                let r_high = libc::fcntl(r, libc::F_DUPFD, 10);
                let w_high = libc::fcntl(w, libc::F_DUPFD, 10);
                if r_high < 0 || w_high < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                place(r_high, 3)?;
                place(w_high, 4)?;
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
        drop(browser_reads);
        drop(browser_writes);
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from_browser);
            let mut buf = Vec::new();
            while reader.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        Browser { child, to_browser, from_browser: rx, next_id: 0, events: Vec::new() }
    }

    /// Send a command (to a page session, when given) and wait for its reply;
    /// events arriving meanwhile are kept.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).expect("json");
        bytes.push(0);
        self.to_browser.write_all(&bytes).unwrap_or_else(|e| panic!("{method}: browser pipe closed: {e}"));
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.next_message(deadline, method);
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method} failed: {}", v["error"]);
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Wait for the event `method` of page `session`.
    pub fn wait_event(&mut self, session: &str, method: &str) -> Value {
        let matches = |e: &Value| e["method"] == method && e["sessionId"] == session;
        if let Some(e) = self.events.iter().find(|e| matches(e)) {
            return e.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.next_message(deadline, method);
            self.events.push(v.clone());
            if matches(&v) {
                return v;
            }
        }
    }

    /// Collect what arrives within `d` (late console messages, requests).
    pub fn drain_for(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.from_browser.recv_timeout(left) {
                Ok(v) => self.events.push(v),
                Err(_) => break,
            }
        }
    }

    fn next_message(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from_browser.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("no reply to {waiting_for} within {WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the browser exited while waiting for {waiting_for}"),
        }
    }

    /// A new page, attached with a flat session; returns the session ID.
    pub fn new_page(&mut self) -> String {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let attached = self.call(None, "Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true }));
        attached["sessionId"].as_str().expect("sessionId").to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
