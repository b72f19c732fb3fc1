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

/// Parse a comma-separated list. Every malformed piece is an error that
/// quotes it; an empty list is an error too.
pub fn parse_list(text: &str) -> Result<Vec<ListItem>, Error> {
    if text.trim().is_empty() {
        return Err(Error::usage("empty list: give IDs, ranges (1592-1600) or Go names, separated by commas"));
    }
    text.split(',').map(parse_piece).collect()
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
            ("x y", "'x y'"),
        ] {
            let err = parse_list(bad).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad}: {err}");
            assert!(err.to_string().contains(quoted), "{bad}: {err}");
        }
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
        fn well_formed_lists_round_trip(pieces in proptest::collection::vec((1i64..100_000, 0i64..50, proptest::bool::ANY), 1..20)) {
            let text: Vec<String> = pieces.iter().map(|&(a, span, range)| if range { format!("{a}-{}", a + span) } else { a.to_string() }).collect();
            let parsed = parse_list(&text.join(",")).unwrap();
            prop_assert_eq!(parsed.len(), pieces.len());
            for (item, &(a, span, range)) in parsed.iter().zip(&pieces) {
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
