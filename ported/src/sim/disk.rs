//! Simulated disk shared by all simulated servers. Appends are volatile
//! until synced; a power loss on a server drops each file's unsynced tail,
//! optionally keeping a torn prefix of it, and can be armed to strike in the
//! middle of the server's next write. Whole-file replaces are atomic and
//! synced (Go's `writeFileWithSync`: temporary file, rename, directory
//! sync), unless written unsynced, in which case a power loss brings back
//! the file's last durable contents. Writes, syncs and reads can fail with
//! injected I/O errors.

use std::collections::{BTreeMap, BTreeSet};

use crate::raft::env::FsError;

use super::rng::SimRng;

#[derive(Debug, Clone, Default)]
struct SimFile {
    data: Vec<u8>,
    synced_len: usize,
    // Contents a power loss brings back: set by an unsynced replace.
    durable: Option<Vec<u8>>,
}

/// Faults the disk can inject. Error rates are per operation; "WAL"
/// means a file-backed raft log (`wal.log`), "state" every other file
/// (`tav.idx`, `peers.idx`, snapshots).
#[derive(Debug, Clone, Default)]
pub struct DiskFaults {
    /// On power loss keep a random prefix of each unsynced tail.
    pub torn_writes: bool,
    /// Chance that a WAL append or rewrite fails with EIO, writing nothing.
    pub wal_write_error: f64,
    /// Chance that syncing a WAL fails with EIO (its tail stays unsynced).
    pub wal_sync_error: f64,
    /// Chance that a read of WAL records fails with EIO.
    pub wal_read_error: f64,
    /// Chance that writing a state file fails with EIO.
    pub state_write_error: f64,
    /// Chance that reading a state file fails with EIO.
    pub state_read_error: f64,
}

/// Whether `path` is a file-backed WAL's log file.
pub fn is_wal_path(path: &str) -> bool {
    path.ends_with("/wal.log")
}

/// All files of all servers; paths start with `/<server>/`.
#[derive(Debug, Default)]
pub struct SimDisk {
    files: BTreeMap<String, SimFile>,
    dirs: BTreeSet<String>,
    /// Servers whose next append fails half-way (power loss during write).
    crash_on_next_append: BTreeSet<String>,
    /// Servers that lost power: every write fails until [`SimDisk::power_loss`].
    dead: BTreeSet<String>,
    /// Fault configuration.
    pub faults: DiskFaults,
    /// Count of appends, for tests.
    pub appends: u64,
    /// Injected I/O errors so far.
    pub injected_errors: u64,
    /// Injected WAL read errors so far, per server (the mechanism of the
    /// upstream finding `WAL_READ_ERROR_RESET`).
    pub wal_read_errors: BTreeMap<String, u64>,
    /// Injected read and write errors on the term/vote and peer files so
    /// far, per server (the mechanism of the upstream finding
    /// `TERM_VOTE_FILE_ERROR`).
    pub state_file_errors: BTreeMap<String, u64>,
}

fn server_of(path: &str) -> String {
    path.trim_start_matches('/').split('/').next().unwrap_or("").to_string()
}

fn parent_dirs(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for p in parts.iter().take(parts.len().saturating_sub(1)) {
        cur.push('/');
        cur.push_str(p);
        out.push(cur.clone());
    }
    out
}

impl SimDisk {
    fn check_alive(&self, path: &str) -> Result<(), FsError> {
        if self.dead.contains(&server_of(path)) {
            return Err(FsError::Io(format!("{path}: device lost power")));
        }
        Ok(())
    }

    // An injected EIO, drawn at `rate`.
    fn inject(&mut self, rate: f64, op: &str, path: &str, rng: &mut SimRng) -> Result<(), FsError> {
        if rate > 0.0 && rng.chance(rate) {
            self.injected_errors += 1;
            if !is_wal_path(path) {
                *self.state_file_errors.entry(server_of(path)).or_default() += 1;
            }
            return Err(FsError::Io(format!("{path}: {op}: input/output error (injected)")));
        }
        Ok(())
    }

    fn inject_read(&mut self, path: &str, rng: &mut SimRng) -> Result<(), FsError> {
        let wal = is_wal_path(path);
        let rate = if wal { self.faults.wal_read_error } else { self.faults.state_read_error };
        let r = self.inject(rate, "read", path, rng);
        if wal && r.is_err() {
            *self.wal_read_errors.entry(server_of(path)).or_default() += 1;
        }
        r
    }

    fn write_rate(&self, path: &str) -> f64 {
        if is_wal_path(path) {
            self.faults.wal_write_error
        } else {
            self.faults.state_write_error
        }
    }

    pub(crate) fn read(&mut self, path: &str, rng: &mut SimRng) -> Result<Vec<u8>, FsError> {
        self.check_alive(path)?;
        self.inject_read(path, rng)?;
        self.files.get(path).map(|f| f.data.clone()).ok_or_else(|| FsError::NotFound(path.to_string()))
    }

    /// `len` bytes at `offset` (fewer at the end of the file).
    pub(crate) fn read_at(&mut self, path: &str, offset: u64, len: usize, rng: &mut SimRng) -> Result<Vec<u8>, FsError> {
        self.check_alive(path)?;
        self.inject_read(path, rng)?;
        let f = self.files.get(path).ok_or_else(|| FsError::NotFound(path.to_string()))?;
        let start = (offset as usize).min(f.data.len());
        let end = start.saturating_add(len).min(f.data.len());
        Ok(f.data[start..end].to_vec())
    }

    // Whether the server's power fails during this write; if so the server
    // is dead until its power loss is applied.
    fn strikes(&mut self, path: &str) -> bool {
        let server = server_of(path);
        if self.crash_on_next_append.remove(&server) {
            self.dead.insert(server);
            return true;
        }
        false
    }

    pub(crate) fn write_sync(&mut self, path: &str, data: &[u8], rng: &mut SimRng) -> Result<(), FsError> {
        self.check_alive(path)?;
        let rate = self.write_rate(path);
        self.inject(rate, "write", path, rng)?;
        if self.strikes(path) {
            // The temporary file never replaced the old one.
            return Err(FsError::Io(format!("{path}: power lost during write")));
        }
        for d in parent_dirs(path) {
            self.dirs.insert(d);
        }
        self.files.insert(path.to_string(), SimFile { data: data.to_vec(), synced_len: data.len(), durable: None });
        Ok(())
    }

    /// Replaces a file without syncing it (Go's `os.WriteFile`): until the
    /// next sync of it, a power loss brings back what it held before (with
    /// torn writes, possibly an empty file).
    pub fn write_unsynced(&mut self, path: &str, data: &[u8], rng: &mut SimRng) -> Result<(), FsError> {
        self.check_alive(path)?;
        let rate = self.write_rate(path);
        self.inject(rate, "write", path, rng)?;
        for d in parent_dirs(path) {
            self.dirs.insert(d);
        }
        let f = self.files.entry(path.to_string()).or_default();
        if f.durable.is_none() {
            let mut before = f.data.clone();
            before.truncate(f.synced_len);
            f.durable = Some(before);
        }
        f.data = data.to_vec();
        f.synced_len = 0;
        if self.strikes(path) {
            return Err(FsError::Io(format!("{path}: power lost during write")));
        }
        Ok(())
    }

    pub(crate) fn append(&mut self, path: &str, data: &[u8], rng: &mut SimRng) -> Result<(), FsError> {
        self.check_alive(path)?;
        let rate = self.write_rate(path);
        self.inject(rate, "write", path, rng)?;
        self.appends += 1;
        for d in parent_dirs(path) {
            self.dirs.insert(d);
        }
        if self.strikes(path) {
            // Power fails mid-write: part of the record reaches the platter.
            let keep = rng.index(data.len());
            let f = self.files.entry(path.to_string()).or_default();
            f.data.extend_from_slice(&data[..keep]);
            f.synced_len = f.data.len();
            return Err(FsError::Io(format!("{path}: power lost during write")));
        }
        let f = self.files.entry(path.to_string()).or_default();
        f.data.extend_from_slice(data);
        Ok(())
    }

    pub(crate) fn sync(&mut self, path: &str, rng: &mut SimRng) -> Result<(), FsError> {
        self.check_alive(path)?;
        let rate = if is_wal_path(path) { self.faults.wal_sync_error } else { 0.0 };
        self.inject(rate, "fsync", path, rng)?;
        if let Some(f) = self.files.get_mut(path) {
            f.synced_len = f.data.len();
            f.durable = None;
        }
        Ok(())
    }

    /// Whether `path` has data a power loss would lose.
    pub fn has_unsynced(&self, path: &str) -> bool {
        self.files.get(path).is_some_and(|f| f.durable.is_some() || f.synced_len < f.data.len())
    }

    pub(crate) fn remove(&mut self, path: &str) -> Result<(), FsError> {
        self.check_alive(path)?;
        self.files.remove(path).map(|_| ()).ok_or_else(|| FsError::NotFound(path.to_string()))
    }

    pub(crate) fn remove_all(&mut self, path: &str) -> Result<(), FsError> {
        self.check_alive(path)?;
        let prefix = format!("{}/", path.trim_end_matches('/'));
        self.files.retain(|k, _| k != path && !k.starts_with(&prefix));
        self.dirs.retain(|k| k != path && !k.starts_with(&prefix));
        Ok(())
    }

    pub(crate) fn read_dir(&self, dir: &str) -> Result<Vec<String>, FsError> {
        self.check_alive(dir)?;
        let dir = dir.trim_end_matches('/');
        if !self.dirs.contains(dir) {
            return Err(FsError::NotFound(dir.to_string()));
        }
        let prefix = format!("{dir}/");
        let mut names = BTreeSet::new();
        for k in self.files.keys().chain(self.dirs.iter()) {
            if let Some(rest) = k.strip_prefix(&prefix) {
                if let Some(first) = rest.split('/').next() {
                    if !first.is_empty() {
                        names.insert(first.to_string());
                    }
                }
            }
        }
        Ok(names.into_iter().collect())
    }

    pub(crate) fn create_dir_all(&mut self, dir: &str) -> Result<(), FsError> {
        self.check_alive(dir)?;
        let d = dir.trim_end_matches('/');
        for p in parent_dirs(&format!("{d}/x")) {
            self.dirs.insert(p);
        }
        Ok(())
    }

    pub(crate) fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.dirs.contains(path.trim_end_matches('/'))
    }

    /// Arms a power loss in the middle of `server`'s next write (an append,
    /// or a file replace, which then does not happen).
    pub fn crash_during_next_append(&mut self, server: &str) {
        self.crash_on_next_append.insert(server.to_string());
    }

    /// Cancels every armed mid-write power loss.
    pub fn disarm(&mut self) {
        self.crash_on_next_append.clear();
    }

    /// Whether `server` lost power mid-write and awaits [`SimDisk::power_loss`].
    pub fn is_dead(&self, server: &str) -> bool {
        self.dead.contains(server)
    }

    /// Power loss on `server`: unsynced data is lost (with torn writes, a
    /// random prefix of it survives). The server's disk works again after.
    pub fn power_loss(&mut self, server: &str, rng: &mut SimRng) {
        let prefix = format!("/{server}/");
        for (path, f) in self.files.iter_mut() {
            if !path.starts_with(&prefix) {
                continue;
            }
            if let Some(before) = f.durable.take() {
                // An unsynced replace: the old contents come back, or with
                // torn writes possibly nothing (the truncation reached the
                // disk, the new data did not).
                f.data = if self.faults.torn_writes && rng.chance(0.5) { Vec::new() } else { before };
                f.synced_len = f.data.len();
                continue;
            }
            let mut keep = f.synced_len;
            let unsynced = f.data.len() - f.synced_len;
            if self.faults.torn_writes && unsynced > 0 {
                keep += rng.index(unsynced + 1);
            }
            f.data.truncate(keep);
            f.synced_len = keep;
        }
        self.dead.remove(server);
        self.crash_on_next_append.remove(server);
    }

    /// Removes a tree as a test would with `os.RemoveAll`.
    pub fn remove_all_for_test(&mut self, path: &str) {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        self.files.retain(|k, _| k != path && !k.starts_with(&prefix));
        self.dirs.retain(|k| k != path && !k.starts_with(&prefix));
    }

    /// Files and directories at or under `path`, for tests.
    pub fn paths_under(&self, path: &str) -> Vec<String> {
        let p = path.trim_end_matches('/');
        let prefix = format!("{p}/");
        self.files.keys().chain(self.dirs.iter()).filter(|k| *k == p || k.starts_with(&prefix)).cloned().collect()
    }

    /// Raw file contents, for tests.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|f| f.data.as_slice())
    }

    /// Overwrites a file as a test would on a real disk.
    pub fn put_file(&mut self, path: &str, data: &[u8]) {
        for d in parent_dirs(path) {
            self.dirs.insert(d);
        }
        self.files.insert(path.to_string(), SimFile { data: data.to_vec(), synced_len: data.len(), durable: None });
    }
}
