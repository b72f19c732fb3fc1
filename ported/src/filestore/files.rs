//! The files of a store directory, held in memory, and which of them are
//! blocks, index files and keys (upstream scans the `msgs/` directory by
//! name). Reading a real directory into this is the caller's job.

use std::collections::BTreeMap;

/// Directory of a store that holds the block files.
pub const MSG_DIR: &str = "msgs";
/// Key file of an encrypted store, in the store directory.
pub const META_KEY_FILE: &str = "meta.key";
/// Full stream-state file (8188ea93a and 2.10+), in `msgs/`.
pub const INDEX_DB_FILE: &str = "index.db";

/// A store directory's files that recovery looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreFiles {
    /// Files directly in `msgs/`, by name.
    pub msgs: BTreeMap<String, Vec<u8>>,
    /// Whether the store directory holds `meta.key`.
    pub meta_key: bool,
}

impl StoreFiles {
    /// Sorts `(path relative to the store directory, contents)` pairs into
    /// the files recovery reads; anything else is ignored.
    pub fn from_entries(entries: impl IntoIterator<Item = (String, Vec<u8>)>) -> StoreFiles {
        let mut files = StoreFiles::default();
        for (path, data) in entries {
            let path = path.replace('\\', "/");
            if path == META_KEY_FILE {
                files.meta_key = true;
            } else if let Some(name) = path.strip_prefix(&format!("{MSG_DIR}/")) {
                if !name.contains('/') {
                    files.msgs.insert(name.to_string(), data);
                }
            }
        }
        files
    }

    /// Port of the block scan of (*fileStore).recoverMsgs
    ///
    /// Indices of the `*.blk` files, sorted; a name counts when it ends in
    /// `.blk` and starts with a decimal number followed by `.blk`, as
    /// upstream's `Sscanf("%d.blk")` reads it (a sign is not accepted here).
    pub fn block_indices(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .msgs
            .keys()
            .filter(|n| n.ends_with(".blk"))
            .filter_map(|n| scan_index(n, ".blk"))
            .collect();
        v.sort_unstable();
        v
    }

    /// Indices of blocks with an encryption key file (`<n>.key`).
    pub fn block_key_indices(&self) -> Vec<u32> {
        self.msgs.keys().filter_map(|n| scan_index(n, ".key")).collect()
    }

    /// Whether `msgs/index.db` is present.
    pub fn has_index_db(&self) -> bool {
        self.msgs.contains_key(INDEX_DB_FILE)
    }
}

// `%d<suffix>`: leading digits that fit a u32, then the suffix.
fn scan_index(name: &str, suffix: &str) -> Option<u32> {
    let end = name.find(|c: char| !c.is_ascii_digit()).unwrap_or(name.len());
    if end == 0 || !name[end..].starts_with(suffix) {
        return None;
    }
    name[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> StoreFiles {
        StoreFiles::from_entries(names.iter().map(|n| (n.to_string(), Vec::new())))
    }

    #[test]
    fn classifies_blocks_keys_and_index_db() {
        let f = files(&["msgs/10.blk", "msgs/2.blk", "msgs/2.idx", "msgs/1.blk.tmp", "msgs/x.blk", "meta.inf", "msgs/index.db", "obs/c/o.dat"]);
        assert_eq!(f.block_indices(), vec![2, 10]);
        assert!(f.has_index_db());
        assert!(!f.meta_key);
        assert!(f.msgs.contains_key("2.idx"));
        assert!(!f.msgs.contains_key("o.dat"));
        let k = files(&["meta.key", "msgs/3.key"]);
        assert!(k.meta_key);
        assert_eq!(k.block_key_indices(), vec![3]);
    }

    #[test]
    fn names_scan_like_sscanf() {
        assert_eq!(scan_index("007.blk", ".blk"), Some(7));
        assert_eq!(scan_index("7.blkx", ".blk"), Some(7));
        assert_eq!(scan_index("+7.blk", ".blk"), None);
        assert_eq!(scan_index("99999999999.blk", ".blk"), None);
    }
}
