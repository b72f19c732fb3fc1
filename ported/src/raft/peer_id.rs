//! Node ids as the wire carries them. Go holds an id in a `string`, which
//! may contain any bytes, and its decoders take whatever eight bytes
//! arrive; a Rust `String` must be UTF-8. Ids that are not UTF-8 (never
//! produced by nats-server, whose ids are base-62 ASCII, but accepted by
//! its decoders) are held in an escaped form, so every byte string
//! survives a decode and re-encode unchanged and distinct ids stay
//! distinct. Deliberate difference: such an id prints as its escape.

use std::borrow::Cow;
use std::fmt::Write;

/// Marks an escaped id: a NUL, which no id nats-server makes contains,
/// then `raw:` and the bytes in hex.
const RAW_PREFIX: &str = "\u{0}raw:";

/// The id held in `bytes` (Go: `string(bytes)`).
pub fn id_from_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.starts_with(RAW_PREFIX) => s.to_string(),
        // Not UTF-8, or UTF-8 that would read as an escape: escape it.
        _ => {
            let mut s = String::with_capacity(RAW_PREFIX.len() + 2 * bytes.len());
            s.push_str(RAW_PREFIX);
            for b in bytes {
                let _ = write!(s, "{b:02x}");
            }
            s
        }
    }
}

/// The bytes of `id` (Go: `[]byte(id)`); the inverse of [`id_from_bytes`].
pub fn id_bytes(id: &str) -> Cow<'_, [u8]> {
    if let Some(hex) = id.strip_prefix(RAW_PREFIX) {
        if let Some(bytes) = decode_hex(hex) {
            return Cow::Owned(bytes);
        }
    }
    Cow::Borrowed(id.as_bytes())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_string_round_trips() {
        let cases: [&[u8]; 6] = [b"S1Nunr6R", &[0xff, 0xfe, 0, 1, 2, 3, 4, 5], &[0; 8], b"\0raw:ab", &[0xc3, 0xa9], b""];
        for (i, bytes) in cases.iter().enumerate() {
            let id = id_from_bytes(bytes);
            assert_eq!(&*id_bytes(&id), *bytes, "case {i}: {id:?}");
        }
        assert_eq!(id_from_bytes(b"S1Nunr6R"), "S1Nunr6R", "UTF-8 ids are kept as they are");
    }

    #[test]
    fn distinct_bytes_give_distinct_ids() {
        let a = id_from_bytes(&[0xe9, 0, 0, 0, 0, 0, 0, 0]);
        let b = id_from_bytes("é\0\0\0\0\0\0".as_bytes());
        let c = id_from_bytes(a.as_bytes());
        assert_ne!(a, b);
        assert_ne!(a, c, "a string that looks escaped is escaped again");
        assert_eq!(&*id_bytes(&c), a.as_bytes());
    }
}
