//! What the XML formats (JUnit, nextest's JUnit, TRX) share: finding the
//! document inside captured output, reading attributes by local name, turning
//! quick-xml errors into a [`ParseError`] with a line number, and sniffing
//! the root element for `detect`.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::gate::results::{Format, ParseError};

/// The XML document inside `input`, which may carry noise (log lines a tool
/// printed before it) and trailing text after it.
pub(crate) struct Located<'a> {
    /// From the document's start to the end of the input.
    pub doc: &'a str,
    /// Byte offset of `doc` within the input, for line numbers in errors.
    pub offset: usize,
}

/// Find where the document starts: the first `<?xml` declaration or `<root`
/// element (for one of `roots`) that begins a line. Non-blank lines before
/// it are noise and become one warning.
pub(crate) fn locate<'a>(format: Format, input: &'a str, roots: &[&str], warnings: &mut Vec<String>) -> Result<Located<'a>, ParseError> {
    let mut offset = 0;
    let mut noise = 0usize;
    for line in input.split_inclusive('\n') {
        // A byte-order mark starts a file that was `cat` into a log.
        let body = line.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        let lead = line.len() - body.len();
        if body.starts_with("<?xml") || roots.iter().any(|r| starts_element(body, r)) {
            if noise > 0 {
                warnings.push(format!("skipped {noise} line(s) of output before the XML document"));
            }
            let at = offset + lead;
            return Ok(Located { doc: &input[at..], offset: at });
        }
        if !line.trim().is_empty() {
            noise += 1;
        }
        offset += line.len();
    }
    let wanted = roots.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" or ");
    Err(error(format, format!("no XML document found: no line starts with <?xml or {wanted}")))
}

/// Does `s` start with the element `<name` (and not a longer name)?
fn starts_element(s: &str, name: &str) -> bool {
    s.strip_prefix('<')
        .and_then(|rest| rest.strip_prefix(name))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/'))
}

pub(crate) fn error(format: Format, message: impl Into<String>) -> ParseError {
    ParseError {
        format,
        message: message.into(),
    }
}

/// A reader over the located document, with the checks that make a
/// malformed document an error rather than a guess.
pub(crate) fn reader(doc: &str) -> Reader<&[u8]> {
    let mut r = Reader::from_str(doc);
    let config = r.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    r
}

/// A quick-xml error as a [`ParseError`] naming the line it happened on.
pub(crate) fn xml_error(format: Format, input: &str, located: &Located, reader: &Reader<&[u8]>, err: impl std::fmt::Display) -> ParseError {
    let pos = located.offset.saturating_add(usize::try_from(reader.error_position()).unwrap_or(usize::MAX));
    error(format, format!("XML does not parse (line {}): {err}", line_of(input, pos)))
}

/// 1-based line number of byte offset `pos` in `input`.
pub(crate) fn line_of(input: &str, pos: usize) -> usize {
    let end = pos.min(input.len());
    input.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// The unescaped value of the attribute whose local name is `name`.
pub(crate) fn attr<'a>(format: Format, e: &'a BytesStart, name: &[u8]) -> Result<Option<Cow<'a, str>>, ParseError> {
    for a in e.attributes() {
        let a = a.map_err(|err| error(format, format!("bad attribute in <{}>: {err}", local_name(e))))?;
        if a.key.local_name().as_ref() == name {
            let v = a.unescape_value().map_err(|err| {
                error(
                    format,
                    format!("bad value of attribute {} in <{}>: {err}", String::from_utf8_lossy(name), local_name(e)),
                )
            })?;
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// The values of several attributes (by local name) in one pass over the
/// element's attributes, which is what a result element needs; `attr` per
/// name would scan them once per name.
pub(crate) fn attrs<'a, const N: usize>(format: Format, e: &'a BytesStart, names: [&[u8]; N]) -> Result<[Option<Cow<'a, str>>; N], ParseError> {
    let mut out: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    for a in e.attributes() {
        let a = a.map_err(|err| error(format, format!("bad attribute in <{}>: {err}", local_name(e))))?;
        if let Some(i) = names.iter().position(|n| *n == a.key.local_name().as_ref()) {
            let v = a.unescape_value().map_err(|err| {
                error(
                    format,
                    format!("bad value of attribute {} in <{}>: {err}", String::from_utf8_lossy(names[i]), local_name(e)),
                )
            })?;
            out[i] = Some(v);
        }
    }
    Ok(out)
}

/// An attribute that should be a count; a value that is not one is noted
/// and treated as absent.
pub(crate) fn count_attr(format: Format, e: &BytesStart, name: &[u8], warnings: &mut Vec<String>) -> Result<Option<u64>, ParseError> {
    Ok(match attr(format, e, name)? {
        None => None,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                warnings.push(format!(
                    "<{}> has {}=\"{}\", not a count; ignored",
                    local_name(e),
                    String::from_utf8_lossy(name),
                    super::excerpt(&v, 40)
                ));
                None
            }
        },
    })
}

pub(crate) fn local_name(e: &BytesStart) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

/// How many bytes of non-whitespace text follow the end of the root
/// element, so a parser can note them.
pub(crate) fn trailing_noise(doc: &str, reader: &Reader<&[u8]>) -> usize {
    let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX).min(doc.len());
    doc.as_bytes()[end..].iter().filter(|b| !b.is_ascii_whitespace()).count()
}

/// The format an XML document starting at `s` is in, from its root element
/// (and, for JUnit, whether it has nextest's shape). `None` when `s` does
/// not start a document with a known root.
pub(crate) fn sniff(s: &str) -> Option<Format> {
    let mut r = reader(s);
    loop {
        match r.read_event() {
            Ok(Event::Decl(_) | Event::Comment(_) | Event::DocType(_) | Event::PI(_)) => {}
            Ok(Event::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => {}
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return match e.local_name().as_ref() {
                    b"TestRun" => Some(Format::Trx),
                    b"testsuite" => Some(Format::Junit),
                    b"testsuites" => {
                        let name = attr(Format::Junit, &e, b"name").ok().flatten();
                        if name.as_deref() == Some(NEXTEST_RUN_NAME) || has_nextest_shape(&mut r) {
                            Some(Format::NextestJunit)
                        } else {
                            Some(Format::Junit)
                        }
                    }
                    _ => None,
                };
            }
            _ => return None,
        }
    }
}

/// nextest's default `report-name`, written as the root's `name`.
pub(crate) const NEXTEST_RUN_NAME: &str = "nextest-run";

/// Testcases to look at before deciding on nextest's shape; enough to be
/// sure, few enough that sniffing stays cheap on a huge report.
const SHAPE_SAMPLE: usize = 200;

/// nextest's shape (for a renamed report): every testcase's `classname` is
/// the binary id that names its testsuite, and Rust paths (`::`) appear.
/// Surefire also repeats the suite name as classname, but Java names have
/// no `::`.
fn has_nextest_shape(r: &mut Reader<&[u8]>) -> bool {
    let mut suite: Option<String> = None;
    let mut seen = 0usize;
    let mut rust_paths = false;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => match e.local_name().as_ref() {
                b"testsuite" => suite = attr(Format::Junit, &e, b"name").ok().flatten().map(Cow::into_owned),
                b"testcase" => {
                    let class = attr(Format::Junit, &e, b"classname").ok().flatten();
                    let name = attr(Format::Junit, &e, b"name").ok().flatten();
                    if class.is_none() || class.as_deref() != suite.as_deref() {
                        return false;
                    }
                    rust_paths |= class.is_some_and(|c| c.contains("::")) || name.is_some_and(|n| n.contains("::"));
                    seen += 1;
                    if seen >= SHAPE_SAMPLE {
                        break;
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    seen > 0 && rust_paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_skips_noise_lines_and_counts_them() {
        let mut w = Vec::new();
        let input = "building...\n\n  done\n  <testsuite name=\"a\"/>\n";
        let l = locate(Format::Junit, input, &["testsuites", "testsuite"], &mut w).expect("found");
        assert_eq!(l.doc, "<testsuite name=\"a\"/>\n");
        assert_eq!(l.offset, 22);
        assert_eq!(w, vec!["skipped 2 line(s) of output before the XML document".to_string()]);
    }

    #[test]
    fn locate_needs_the_root_not_a_longer_name() {
        let mut w = Vec::new();
        let e = locate(Format::Junit, "<testsuitex/>\n", &["testsuite"], &mut w).err().expect("no document");
        assert_eq!(e.message, "no XML document found: no line starts with <?xml or <testsuite>");
    }

    #[test]
    fn line_of_counts_newlines_before_the_offset() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    #[test]
    fn sniff_tells_nextest_by_shape_when_renamed() {
        let renamed = "<testsuites name=\"ci\"><testsuite name=\"ptfix::api\"><testcase name=\"api_ok\" classname=\"ptfix::api\"/></testsuite></testsuites>";
        assert_eq!(sniff(renamed), Some(Format::NextestJunit));
        let surefire = "<testsuites><testsuite name=\"com.x.FooTest\"><testcase name=\"a\" classname=\"com.x.FooTest\"/></testsuite></testsuites>";
        assert_eq!(sniff(surefire), Some(Format::Junit));
        let pytest = "<testsuites><testsuite name=\"pytest\"><testcase name=\"a\" classname=\"t::x\"/></testsuite></testsuites>";
        assert_eq!(sniff(pytest), Some(Format::Junit));
        assert_eq!(sniff("<html/>"), None);
        assert_eq!(sniff("<"), None);
    }
}
