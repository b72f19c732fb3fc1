//! JSON as Go's `encoding/json` writes it, for everything the port sends or
//! stores that the server writes with `json.Marshal` or `json.Encoder`:
//! meta and stream entries, the meta snapshot, advisories, API replies and
//! assignment results.
//!
//! serde_json's compact output already matches Go's for the values the port
//! writes (no spaces, struct fields in declaration order, Go's number
//! forms); what differs is string escaping. Go escapes `<`, `>`, `&`,
//! U+2028 and U+2029 as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`
//! by default (`SetEscapeHTML(true)`), including inside a
//! `json.RawMessage`, which it compacts and escapes when it marshals it. A
//! wildcard subject such as `orders.>` therefore appears as
//! `orders.\u003e` in every assignment a real server proposes (see the
//! 2.9.10 meta WAL in `tests/fixtures/real_cluster_wal`).

use serde::Serialize;

/// serde_json's compact formatter with Go's HTML-safe escaping.
struct GoFormatter;

/// The escape Go writes for `c`, if any.
fn go_escape(c: char) -> Option<&'static str> {
    match c {
        '<' => Some("\\u003c"),
        '>' => Some("\\u003e"),
        '&' => Some("\\u0026"),
        '\u{2028}' => Some("\\u2028"),
        '\u{2029}' => Some("\\u2029"),
        _ => None,
    }
}

fn write_escaped<W: ?Sized + std::io::Write>(w: &mut W, text: &str) -> std::io::Result<()> {
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if let Some(esc) = go_escape(c) {
            w.write_all(text[start..i].as_bytes())?;
            w.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
    }
    w.write_all(text[start..].as_bytes())
}

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        write_escaped(w, fragment)
    }

    /// A raw value (a kept config, Go's `json.RawMessage`): these
    /// characters cannot occur in JSON outside strings, so escaping them
    /// wherever they are is what Go's compaction of a raw message does.
    fn write_raw_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        write_escaped(w, fragment)
    }
}

/// `v` as Go's `json.Marshal` writes it.
pub fn to_vec(v: &impl Serialize) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    v.serialize(&mut serde_json::Serializer::with_formatter(&mut out, GoFormatter))?;
    Ok(out)
}

/// [`to_vec`] as text (Go's output is UTF-8 when its input strings are).
pub fn to_string(v: &impl Serialize) -> Result<String, serde_json::Error> {
    // The formatter writes only valid UTF-8: serde's strings and ASCII escapes.
    to_vec(v).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `v` marshalled into a raw message, as Go's `json.Marshal` into a
/// `json.RawMessage` field (an assignment's `ConfigJSON`).
pub fn to_raw_value(v: &impl Serialize) -> Result<Box<serde_json::value::RawValue>, serde_json::Error> {
    serde_json::value::RawValue::from_string(to_string(v)?)
}

/// `v` as Go's `json.Marshal` writes it, for plain structs whose
/// serialisation into memory cannot fail (empty on the impossible error).
pub fn go_json(v: &impl Serialize) -> Vec<u8> {
    to_vec(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    #[derive(Serialize)]
    struct WithRaw<'a> {
        name: &'a str,
        config: &'a RawValue,
    }

    #[test]
    fn strings_and_raw_values_are_escaped_as_go_escapes_them() {
        let raw = RawValue::from_string(r#"{"subjects":["orders.>","a<b&c"]}"#.to_string()).expect("valid JSON");
        let got = to_string(&WithRaw { name: "x>\u{2028}y\u{2029}", config: &raw }).expect("serialises");
        assert_eq!(got, r#"{"name":"x\u003e\u2028y\u2029","config":{"subjects":["orders.\u003e","a\u003cb\u0026c"]}}"#);
        // Read back, the text is the original.
        let back: serde_json::Value = serde_json::from_str(&got).expect("valid JSON");
        assert_eq!(back["config"]["subjects"][0], "orders.>");
        assert_eq!(back["name"], "x>\u{2028}y\u{2029}");
    }

    #[test]
    fn everything_else_is_serde_jsons_compact_output() {
        let v = serde_json::json!({"a": [1, -2, 3.5], "b": null, "c": "é\"\\\n\u{1}"});
        assert_eq!(to_string(&v).expect("serialises"), serde_json::to_string(&v).expect("serialises"));
    }
}
