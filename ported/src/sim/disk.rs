//! Simulated disk shared by all simulated servers. Appends are volatile
//! until synced; a power loss on a server drops each file's unsynced tail,
//! optionally keeping a torn prefix of it, and can be armed to strike in the
//! middle of the server's next append.

use std::collections::{BTreeMap, BTreeSet};

use crate::raft::env::FsError;

use super::rng::SimRng;

#[derive(Debug, Clone, Default)]
struct SimFile {
    data: Vec<u8>,
    synced_len: usize,
}

/// Faults the disk can inject.
#[derive(Debug, Clone, Default)]
pub struct DiskFaults {
    /// On power loss keep a random prefix of each unsynced tail.
    pub torn_writes: bool,
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

    pub(crate) fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        self.check_alive(path)?;
        self.files.get(path).map(|f| f.data.clone()).ok_or_else(|| FsError::NotFound(path.to_string()))
    }

    pub(crate) fn write_sync(&mut self, path: &str, data: &[u8]) -> Result<(), FsError> {
        self.check_alive(path)?;
        for d in parent_dirs(path) {
            self.dirs.insert(d);
        }
        self.files.insert(path.to_string(), SimFile { data: data.to_vec(), synced_len: data.len() });
        Ok(())
    }

    pub(crate) fn append(&mut self, path: &str, data: &[u8], rng: &mut SimRng) -> Result<(), FsError> {
        self.check_alive(path)?;
        self.appends += 1;
        for d in parent_dirs(path) {
            self.dirs.insert(d);
        }
        let server = server_of(path);
        let f = self.files.entry(path.to_string()).or_default();
        if self.crash_on_next_append.remove(&server) {
            // Power fails mid-write: part of the record reaches the platter.
            let keep = rng.index(data.len());
            f.data.extend_from_slice(&data[..keep]);
            f.synced_len = f.data.len();
            self.dead.insert(server);
            return Err(FsError::Io(format!("{path}: power lost during write")));
        }
        f.data.extend_from_slice(data);
        Ok(())
    }

    pub(crate) fn sync(&mut self, path: &str) -> Result<(), FsError> {
        self.check_alive(path)?;
        if let Some(f) = self.files.get_mut(path) {
            f.synced_len = f.data.len();
        }
        Ok(())
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

    /// Arms a power loss in the middle of `server`'s next append.
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

    /// Raw file contents, for tests.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|f| f.data.as_slice())
    }

    /// Overwrites a file as a test would on a real disk.
    pub fn put_file(&mut self, path: &str, data: &[u8]) {
        for d in parent_dirs(path) {
            self.dirs.insert(d);
        }
        self.files.insert(path.to_string(), SimFile { data: data.to_vec(), synced_len: data.len() });
    }
}
