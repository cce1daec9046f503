//! The run namespace: the only server URLs a run may store, read or erase.
//!
//! A run draws a random identifier such as `cc4k2j9x0q1z`. Every URL a case names contains it,
//! either as part of a host under the reserved `.test` top-level name
//! (`hp-rt-001.cc4k2j9x0q1z.credconform.test`) or, for cases about loopback and IP-literal
//! hosts, in the path (`localhost:41234/cc4k2j9x0q1z`). No real registry entry contains it, so a
//! run cannot read, overwrite or erase a user's credentials by name.

use std::collections::BTreeSet;

use rand::Rng;

/// The reserved domain every namespaced host ends with.
pub const DOMAIN: &str = "credconform.test";

/// A run's namespace.
#[derive(Debug, Clone)]
pub struct Namespace {
    run_id: String,
    port: u16,
}

impl Namespace {
    /// A fresh namespace with a random identifier and a random high port.
    pub fn random() -> Self {
        let mut rng = rand::rng();
        let tail: String = (0..10)
            .map(|_| {
                const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
                ALPHABET[rng.random_range(0..ALPHABET.len())] as char
            })
            .collect();
        Namespace {
            run_id: format!("cc{tail}"),
            port: rng.random_range(20000..60000),
        }
    }

    /// The run identifier.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The port number cases use for loopback-host URLs.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host name reserved for one case, e.g. `hp-rt-001.cc4k2j9x0q1z.credconform.test`.
    pub fn case_host(&self, case_id: &str) -> String {
        format!("{}.{}.{DOMAIN}", case_id.to_ascii_lowercase(), self.run_id)
    }

    /// The path segment reserved for one case, for URLs on loopback and IP-literal hosts, e.g.
    /// `cc4k2j9x0q1z-hp-key-006`: cases never share an entry even on the same host.
    pub fn case_segment(&self, case_id: &str) -> String {
        format!("{}-{}", self.run_id, case_id.to_ascii_lowercase())
    }

    /// True when `url` belongs to this run.
    pub fn owns(&self, url: &str) -> bool {
        url.contains(&self.run_id)
    }
}

/// True when `url` belongs to some credconform run (this one or an earlier one that was killed
/// before it could clean up): its host is under the reserved domain, or one of its path segments
/// starts with a run identifier (`cc` and ten lower-case letters or digits, then `-` or nothing).
pub fn is_any_run_url(url: &str) -> bool {
    let is_run_id = |seg: &str| {
        seg.len() >= 12
            && seg.starts_with("cc")
            && seg.as_bytes()[2..12]
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && (seg.len() == 12 || seg.as_bytes()[12] == b'-')
    };
    if is_reserved_host(url) {
        return true;
    }
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').skip(1).any(is_run_id)
}

/// True when a URL's host is under the reserved domain (so no real registry can share it).
pub fn is_reserved_host(url: &str) -> bool {
    let host = host_of(url);
    host == DOMAIN || host.ends_with(&format!(".{DOMAIN}"))
}

/// The host of a server URL as helpers see it: scheme, user info, port and path removed,
/// lower-cased. `[::1]:5000` gives `::1`.
pub fn host_of(url: &str) -> String {
    let rest = url.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(inner) = authority.strip_prefix('[') {
        inner.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host.to_ascii_lowercase()
}

/// Hosts that already have entries in the helper's store before the run, outside the
/// namespace. A case that would use one of these hosts (loopback names, IP literals) is skipped,
/// so that even a helper that keys entries on the host alone cannot clobber a user's entry.
#[derive(Debug, Clone, Default)]
pub struct ForeignHosts {
    hosts: Option<BTreeSet<String>>,
}

impl ForeignHosts {
    /// Hosts read from a `list` answer taken before the run.
    pub fn from_list(urls: impl IntoIterator<Item = String>, ns: &Namespace) -> Self {
        let hosts = urls
            .into_iter()
            .filter(|u| !ns.owns(u))
            .map(|u| host_of(&u))
            .collect();
        ForeignHosts { hosts: Some(hosts) }
    }

    /// `list` failed: nothing is known, so every host outside the reserved domain is unsafe.
    pub fn unknown() -> Self {
        ForeignHosts { hosts: None }
    }

    /// Why using `url` could touch a user's entry, or `None` when it cannot.
    pub fn conflict(&self, url: &str) -> Option<String> {
        if is_reserved_host(url) {
            return None;
        }
        let host = host_of(url);
        match &self.hosts {
            None => Some(format!(
                "the helper's list did not answer before the run, so it cannot be shown that \
                 host `{host}` holds none of your entries"
            )),
            Some(h) if h.contains(&host) => Some(format!(
                "your store already holds an entry for host `{host}`; the case is skipped so a \
                 helper that keys entries on the host alone cannot overwrite it"
            )),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_namespaces_differ_and_own_their_urls() {
        let (a, b) = (Namespace::random(), Namespace::random());
        assert_ne!(a.run_id(), b.run_id());
        let url = format!("https://{}/v2/", a.case_host("HP-RT-001"));
        assert!(url.contains("hp-rt-001."));
        assert!(a.owns(&url) && !b.owns(&url));
        assert!(!a.owns("https://index.docker.io/v1/"));
    }

    #[test]
    fn urls_of_any_run_are_recognised_and_nothing_else() {
        let ns = Namespace::random();
        assert!(is_any_run_url(&format!(
            "https://{}",
            ns.case_host("HP-X-1")
        )));
        assert!(is_any_run_url(&format!("localhost:4000/{}", ns.run_id())));
        assert!(is_any_run_url("[::1]:4000/cc0123456789"));
        assert!(is_any_run_url(&format!(
            "127.0.0.1:1/{}",
            ns.case_segment("HP-KEY-006")
        )));
        for foreign in [
            "https://index.docker.io/v1/",
            "localhost:5000",
            "localhost:5000/cc",
            "registry.example.com/cc0123456789x",
            "registry.example.com/cc01234567-x",
            "cc0123456789.example.com",
        ] {
            assert!(!is_any_run_url(foreign), "{foreign}");
        }
    }

    #[test]
    fn hosts_are_extracted_from_every_url_shape() {
        assert_eq!(
            host_of("https://user@Reg.Example.com:5000/v2/"),
            "reg.example.com"
        );
        assert_eq!(host_of("localhost:5000"), "localhost");
        assert_eq!(host_of("[::1]:5000/x"), "::1");
        assert_eq!(host_of("http://[2001:db8::1]/"), "2001:db8::1");
        assert_eq!(host_of("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn reserved_hosts_never_conflict_and_loopback_hosts_do_when_used() {
        let ns = Namespace::random();
        let fh = ForeignHosts::from_list(["localhost:5000".to_string()], &ns);
        assert!(
            fh.conflict(&format!("https://x.{}.credconform.test", ns.run_id()))
                .is_none()
        );
        assert!(
            fh.conflict(&format!("localhost:1234/{}", ns.run_id()))
                .is_some()
        );
        assert!(
            fh.conflict(&format!("127.0.0.1:1234/{}", ns.run_id()))
                .is_none()
        );
        assert!(ForeignHosts::unknown().conflict("127.0.0.1:1/x").is_some());
    }
}
