//! The user's own entries, watched from outside: `list` is read before and after the run
//! (server URLs and usernames only; no secret of the user is ever read), and any entry outside
//! the run namespace that vanished or changed is reported. The runner never names such an entry,
//! so a change means the helper damaged its own store (for example by racing concurrent writes).

use std::collections::BTreeMap;

use super::namespace::{ForeignHosts, Namespace};
use crate::target::{HelperTarget, Listing, list_entries};

/// Entries outside the run namespace, URL -> username; `None` when `list` did not answer.
#[derive(Debug, Clone, Default)]
pub struct ForeignEntries(Option<BTreeMap<String, String>>);

impl ForeignEntries {
    /// Reads the helper's `list` and keeps the entries the run does not own.
    pub fn read(target: &HelperTarget, ns: &Namespace) -> Self {
        let listed = target.call_for_cleanup("list", "").ok();
        Self::of(listed.and_then(|out| list_entries(&out)), ns)
    }

    /// The entries of a `list` answer that the run does not own.
    pub fn of(listed: Option<Listing>, ns: &Namespace) -> Self {
        let foreign = |(url, _): &(String, serde_json::Value)| !ns.owns(url);
        ForeignEntries(listed.map(|map| {
            map.into_iter()
                .filter(foreign)
                .map(|(url, user)| (url, user.as_str().unwrap_or_default().to_string()))
                .collect()
        }))
    }

    /// The hosts these entries use, for skipping cases that could collide with them.
    pub fn hosts(&self, ns: &Namespace) -> ForeignHosts {
        match &self.0 {
            Some(entries) => ForeignHosts::from_list(entries.keys().cloned(), ns),
            None => ForeignHosts::unknown(),
        }
    }

    /// What changed between `self` (before the run) and `after`: one line per entry that is
    /// gone or now lists another username, or one line saying the store can no longer be listed
    /// when it could before. Nothing when the store could not be listed before the run.
    pub fn changed_since(&self, after: &ForeignEntries) -> Vec<String> {
        let Some(before) = &self.0 else {
            return Vec::new();
        };
        let Some(after) = &after.0 else {
            return vec![format!(
                "the store can no longer be listed (it could before the run): {} entr{} of yours \
                 cannot be verified",
                before.len(),
                if before.len() == 1 { "y" } else { "ies" }
            )];
        };
        before
            .iter()
            .filter_map(|(url, user)| match after.get(url) {
                None => Some(format!("{url}: gone")),
                Some(now) if now != user => {
                    Some(format!("{url}: now listed with another username"))
                }
                Some(_) => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> ForeignEntries {
        ForeignEntries(Some(
            pairs
                .iter()
                .map(|(u, n)| (u.to_string(), n.to_string()))
                .collect(),
        ))
    }

    #[test]
    fn vanished_and_changed_entries_are_named_and_new_ones_ignored() {
        let before = entries(&[
            ("https://index.docker.io/v1/", "me"),
            ("ghcr.io", "bot"),
            ("quay.io", "q"),
        ]);
        let after = entries(&[("ghcr.io", "other"), ("quay.io", "q"), ("new.example", "x")]);
        assert_eq!(
            before.changed_since(&after),
            [
                "ghcr.io: now listed with another username",
                "https://index.docker.io/v1/: gone"
            ]
        );
    }

    #[test]
    fn a_store_that_stopped_listing_is_damage_one_that_never_listed_claims_nothing() {
        let before = entries(&[("ghcr.io", "bot")]);
        let lines = before.changed_since(&ForeignEntries(None));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("can no longer be listed"), "{lines:?}");
        assert!(ForeignEntries(None).changed_since(&before).is_empty());
    }
}
