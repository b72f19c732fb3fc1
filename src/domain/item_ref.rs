//! How users name an item on the command line: an ID (`1578`), a Go name
//! (`monitorCluster`, `jetStream.monitorCluster`, `(*jetStream).monitorCluster`)
//! or a test name (`TestNRGSimple`).

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef {
    Id(i64),
    Name { receiver: Option<String>, name: String },
}

impl ItemRef {
    pub fn parse(text: &str) -> Result<ItemRef, Error> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Error::usage("empty item reference: give an ID or a Go name"));
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<i64>()
                .ok()
                .filter(|&id| id > 0)
                .map(ItemRef::Id)
                .ok_or_else(|| Error::usage(format!("'{t}' is not a valid ID (IDs start at 1)")));
        }
        let (receiver, name) = match t.rsplit_once('.') {
            Some((recv, name)) => {
                let recv = recv.trim_start_matches('(').trim_end_matches(')').trim_start_matches('*');
                (Some(recv.to_string()), name.to_string())
            }
            None => (None, t.to_string()),
        };
        let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !valid(&name) || receiver.as_deref().is_some_and(|r| !valid(r)) {
            return Err(Error::usage(format!("'{t}' is neither an ID nor a Go name (name, Receiver.name or (*Receiver).name)")));
        }
        Ok(ItemRef::Name { receiver, name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(r: Option<&str>, n: &str) -> ItemRef {
        ItemRef::Name { receiver: r.map(str::to_string), name: n.to_string() }
    }

    #[test]
    fn ids_and_name_forms() {
        assert_eq!(ItemRef::parse("1589").unwrap(), ItemRef::Id(1589));
        assert_eq!(ItemRef::parse("monitorCluster").unwrap(), name(None, "monitorCluster"));
        assert_eq!(ItemRef::parse("jetStream.monitorCluster").unwrap(), name(Some("jetStream"), "monitorCluster"));
        assert_eq!(ItemRef::parse("(*jetStream).monitorCluster").unwrap(), name(Some("jetStream"), "monitorCluster"));
        assert_eq!(ItemRef::parse("(raftGroup).isMember").unwrap(), name(Some("raftGroup"), "isMember"));
    }

    #[test]
    fn rejects_what_cannot_name_an_item() {
        for bad in ["", "0", "a b", "x.", ".y", "1-2", "99999999999999999999"] {
            let err = ItemRef::parse(bad).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad}: {err}");
        }
    }
}
