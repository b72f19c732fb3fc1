//! The item lists of `batch update`: `1578,1583-1590,applyMetaEntries`.
//! Parsing only; resolving names to IDs needs the database.

use crate::domain::item_ref::ItemRef;
use crate::error::Error;

/// Most IDs one range may expand to before it is refused outright; far
/// beyond what an update accepts, so the split into chunks can still be
/// shown for realistic mistakes.
pub const MAX_RANGE_SPAN: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListItem {
    Id(i64),
    /// Inclusive range of IDs.
    Range(i64, i64),
    Name { receiver: Option<String>, name: String },
}

/// Most entries one list may hold. An update moves at most 15 items; the
/// cap only keeps a runaway list from costing anything.
pub const MAX_PIECES: usize = 1_000;

/// Most IDs a whole list may name, ranges counted by their span, checked
/// before any range is expanded.
pub const MAX_LISTED: i64 = MAX_RANGE_SPAN;

/// Parse a comma-separated list. Every malformed piece is an error that
/// quotes it; an empty list is an error too. A list is refused before any
/// range is expanded when it has more than [`MAX_PIECES`] entries, names
/// more than [`MAX_LISTED`] IDs, or names an ID twice.
pub fn parse_list(text: &str) -> Result<Vec<ListItem>, Error> {
    if text.trim().is_empty() {
        return Err(Error::usage("empty list: give IDs, ranges (1592-1600) or Go names, separated by commas"));
    }
    let pieces = text.split(',').count();
    if pieces > MAX_PIECES {
        return Err(Error::usage(format!(
            "'{}' has {pieces} entries; a list takes at most {MAX_PIECES} (an update moves at most 15 items)",
            shown(text)
        )));
    }
    let items: Vec<ListItem> = text.split(',').map(parse_piece).collect::<Result<_, _>>()?;
    let listed: i64 = items.iter().map(|i| if let ListItem::Range(a, b) = i { b - a + 1 } else { 1 }).sum();
    if listed > MAX_LISTED {
        return Err(Error::usage(format!("'{}' names {listed} IDs; a list names at most {MAX_LISTED} (an update moves at most 15 items)", shown(text))));
    }
    refuse_overlaps(&items)?;
    Ok(items)
}

/// A list quoted in an error: whole when short, else its start.
fn shown(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// An ID named by two pieces (`5,5`, `1-10,5`, `1-3,2-4`) is refused, naming
/// both; names are checked once resolved.
fn refuse_overlaps(items: &[ListItem]) -> Result<(), Error> {
    let mut spans: Vec<(i64, i64)> = items
        .iter()
        .filter_map(|i| match *i {
            ListItem::Id(id) => Some((id, id)),
            ListItem::Range(a, b) => Some((a, b)),
            ListItem::Name { .. } => None,
        })
        .collect();
    spans.sort_unstable();
    let text = |(a, b): (i64, i64)| if a == b { a.to_string() } else { format!("{a}-{b}") };
    for pair in spans.windows(2) {
        if pair[1].0 <= pair[0].1 {
            return Err(Error::usage(format!(
                "ID {} is listed more than once ('{}' and '{}')",
                pair[1].0,
                text(pair[0]),
                text(pair[1])
            )));
        }
    }
    Ok(())
}

fn parse_piece(raw: &str) -> Result<ListItem, Error> {
    let piece = raw.trim();
    if piece.is_empty() {
        return Err(Error::usage("empty entry in list (two commas in a row, or a trailing comma)"));
    }
    if let Some((a, b)) = piece.split_once('-') {
        let bound = |s: &str| -> Result<i64, Error> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(Error::usage(format!("'{piece}' is not a range: expected FIRST-LAST with two IDs, like 1592-1600")));
            }
            s.parse::<i64>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| Error::usage(format!("'{s}' in range '{piece}' is not a valid ID (IDs start at 1 and fit in 64 bits)")))
        };
        let (first, last) = (bound(a)?, bound(b)?);
        if first > last {
            return Err(Error::usage(format!("range '{piece}' is reversed: write {last}-{first}")));
        }
        if last - first >= MAX_RANGE_SPAN {
            return Err(Error::usage(format!(
                "range '{piece}' spans {} IDs; at most 15 items can be updated per call",
                last - first + 1
            )));
        }
        return Ok(ListItem::Range(first, last));
    }
    match ItemRef::parse(piece)? {
        ItemRef::Id(id) => Ok(ListItem::Id(id)),
        ItemRef::Name { receiver, name } => Ok(ListItem::Name { receiver, name }),
    }
}

/// Render IDs compactly as a list this parser accepts: `1,3-5,9`.
pub fn format_ids(ids: &[i64]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if end == start { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(n: &str) -> ListItem {
        ListItem::Name { receiver: None, name: n.into() }
    }

    #[test]
    fn ids_ranges_and_names() {
        assert_eq!(
            parse_list("1589, 1592-1600,monitorCluster,jetStream.applyMetaEntries").unwrap(),
            [
                ListItem::Id(1589),
                ListItem::Range(1592, 1600),
                name("monitorCluster"),
                ListItem::Name { receiver: Some("jetStream".into()), name: "applyMetaEntries".into() }
            ]
        );
        assert_eq!(parse_list("7-7").unwrap(), [ListItem::Range(7, 7)]);
    }

    #[test]
    fn malformed_lists_are_errors_that_quote_the_piece() {
        for (bad, quoted) in [
            ("", "empty list"),
            ("1,,2", "empty entry"),
            ("1,", "empty entry"),
            ("9-3", "'9-3' is reversed"),
            ("1-", "'1-' is not a range"),
            ("a-b", "'a-b' is not a range"),
            ("1-99999999999999999999", "'99999999999999999999'"),
            ("0", "'0' is not a valid ID"),
            ("1-20000", "spans 20000 IDs"),
            ("5,5", "ID 5 is listed more than once ('5' and '5')"),
            ("1-10,5", "ID 5 is listed more than once ('1-10' and '5')"),
            ("1-3,2-4", "ID 2 is listed more than once ('1-3' and '2-4')"),
            ("1-6000,7000-12000", "names 11001 IDs"),
            ("x y", "'x y'"),
        ] {
            let err = parse_list(bad).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad}: {err}");
            assert!(err.to_string().contains(quoted), "{bad}: {err}");
        }
    }

    #[test]
    fn a_runaway_list_is_refused_before_expansion_naming_it() {
        let repeated = vec!["1-3783"; 3000].join(",");
        let err = parse_list(&repeated).unwrap_err().to_string();
        assert_eq!(err, "'1-3783,1-3783,1-3783,1-3783,1-3783,1-378…' has 3000 entries; a list takes at most 1000 (an update moves at most 15 items)");
        let err = parse_list(&vec!["1-3783"; 900].join(",")).unwrap_err().to_string();
        assert!(err.contains("names 3404700 IDs"), "{err}");
    }

    #[test]
    fn ids_format_as_ranges() {
        assert_eq!(format_ids(&[5, 1, 2, 3, 9, 10]), "1-3,5,9-10");
        assert_eq!(format_ids(&[]), "");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        /// Any input: a value or a usage error, never a panic.
        #[test]
        fn never_panics_and_rejects_with_errors(text in ".{0,40}") {
            match parse_list(&text) {
                Ok(items) => prop_assert!(!items.is_empty()),
                Err(e) => prop_assert!(matches!(e, Error::Usage(_)), "{e}"),
            }
        }

        /// List-shaped input: the same shapes come back.
        #[test]
        fn well_formed_lists_round_trip(pieces in proptest::collection::vec((0i64..5_000, 0i64..50, proptest::bool::ANY), 1..20)) {
            // Disjoint pieces (an ID listed twice is refused), in any order.
            let mut next = 1;
            let mut shapes: Vec<(i64, i64, bool)> = pieces.iter().map(|&(gap, span, range)| {
                let a = next + gap;
                let span = if range { span } else { 0 };
                next = a + span + 1;
                (a, span, range)
            }).collect();
            shapes.reverse();
            let text: Vec<String> = shapes.iter().map(|&(a, span, range)| if range { format!("{a}-{}", a + span) } else { a.to_string() }).collect();
            let parsed = parse_list(&text.join(",")).unwrap();
            prop_assert_eq!(parsed.len(), shapes.len());
            for (item, &(a, span, range)) in parsed.iter().zip(&shapes) {
                let expected = if range { ListItem::Range(a, a + span) } else { ListItem::Id(a) };
                prop_assert_eq!(item, &expected);
            }
        }

        /// Formatting any set of IDs gives a list that parses back to it.
        #[test]
        fn formatted_ids_parse_back(ids in proptest::collection::btree_set(1i64..500, 1..40)) {
            let ids: Vec<i64> = ids.into_iter().collect();
            let mut back = Vec::new();
            for item in parse_list(&format_ids(&ids)).unwrap() {
                match item {
                    ListItem::Id(i) => back.push(i),
                    ListItem::Range(a, b) => back.extend(a..=b),
                    ListItem::Name { .. } => prop_assert!(false, "a name from formatted IDs"),
                }
            }
            prop_assert_eq!(back, ids);
        }
    }
}
