//! Global IDs of history rows and gate runs: unique across every copy of a
//! database, so copies on different branches can be merged by their
//! histories. New rows get a UUIDv7 (time-ordered, 74 random bits; the
//! `uuid` crate's generator); rows written before IDs existed get one
//! derived from what they already are, so two copies sharing them agree.

use sha2::{Digest, Sha256};

/// A fresh UUIDv7 (reads the clock and the system's randomness: called at
/// the edge where a row is written).
pub fn new_uid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The ID migration 0008 derived for a history row written before it
/// (the same rule as the SQL there).
pub fn legacy_history_uid(chain_hash: Option<&str>, kind: &str, item_id: i64, to: &str, at: &str, id: i64) -> String {
    match chain_hash {
        Some(h) => format!("legacy-{}", h.get(..32).unwrap_or(h)),
        None => format!("legacy-{}", hex_of(&format!("{kind}:{item_id}:{to}:{at}:{id}"))),
    }
}

/// The ID migration 0008 derived for a gate run recorded before it.
pub fn legacy_run_uid(chain_hash: Option<&str>, kind: &str, started_at: &str, command: &str, id: i64) -> String {
    match chain_hash {
        Some(h) => format!("legacy-{}", h.get(..32).unwrap_or(h)),
        None => format!("legacy-{}", hex_of(&format!("{kind}:{started_at}:{command}:{id}"))),
    }
}

/// A UUID (version 8, name-based on SHA-256) that depends only on `parts`:
/// what `db merge` gives the rows it writes itself, so merging the same
/// copies in either order, or twice, writes the same rows.
pub fn derived_uid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"porttrack-derived-uid-v1");
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().to_string()
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_unique_and_time_ordered() {
        let a = new_uid();
        let b = new_uid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 7);
    }

    #[test]
    fn derived_ids_depend_on_every_part_and_its_boundary() {
        assert_eq!(derived_uid(&["a", "b"]), derived_uid(&["a", "b"]));
        assert_ne!(derived_uid(&["a", "b"]), derived_uid(&["ab"]));
        assert_ne!(derived_uid(&["a", "b"]), derived_uid(&["b", "a"]));
        assert_eq!(uuid::Uuid::parse_str(&derived_uid(&["x"])).unwrap().get_version_num(), 8);
    }

    #[test]
    fn legacy_ids_follow_the_migration_rule() {
        let h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(legacy_history_uid(Some(h), "test", 1, "stub", "t", 3), "legacy-0123456789abcdef0123456789abcdef");
        assert_eq!(legacy_history_uid(None, "t", 1, "s", "a", 2), format!("legacy-{}", hex_of("t:1:s:a:2")));
    }
}
