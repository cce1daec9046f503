//! Query strings and form bodies as ordered key/value lists (keys may repeat, like `scope`).

/// Decoded `application/x-www-form-urlencoded` pairs, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string or form body.
    pub fn parse(input: &[u8]) -> Params {
        Params(form_urlencoded::parse(input).into_owned().collect())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `key` is set to a true-ish value (`true`, `1`, `yes`).
    pub fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_repeats() {
        let p = Params::parse(b"scope=a&scope=b%20c&offline_token=TRUE&x");
        assert_eq!(p.all("scope").collect::<Vec<_>>(), vec!["a", "b c"]);
        assert_eq!(p.get("scope"), Some("a"));
        assert!(p.flag("offline_token"));
        assert!(!p.flag("x"));
        assert_eq!(p.get("missing"), None);
    }
}
