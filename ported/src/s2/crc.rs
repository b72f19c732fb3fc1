//! CRC-32C (Castagnoli) with the Snappy/S2 framing mask.

const POLY: u32 = 0x82f6_3b78;

const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

static TABLE: [u32; 256] = make_table();

/// Plain CRC-32C of `b`.
pub(crate) fn crc32c(b: &[u8]) -> u32 {
    let mut c = !0u32;
    for &x in b {
        c = TABLE[((c ^ x as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The masked checksum stored in framed chunks.
pub(crate) fn masked_crc(b: &[u8]) -> u32 {
    let c = crc32c(b);
    ((c >> 15) | (c << 17)).wrapping_add(0xa282_ead8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn mask_rotates_and_adds() {
        let c = crc32c(b"abc");
        assert_eq!(masked_crc(b"abc"), c.rotate_right(15).wrapping_add(0xa282_ead8));
    }
}
