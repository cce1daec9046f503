//! The run namespace: the only server URLs a run may store, read or erase.
//!
//! A run draws a random identifier such as `cc4k2j9x0q12`: `cc`, nine random lower-case letters
//! or digits, and a check character computed from those nine, so that a word that merely looks
//! like an identifier (`ccproduction`, `ccmainrepo01`) is one only by a 1-in-36 chance. Every
//! URL a case names has one of two exact shapes:
//!
//! - a host under the reserved `.test` top-level name, `<case>.<run>.credconform.test`
//!   (`hp-rt-001.cc4k2j9x0q12.credconform.test`), possibly with more labels in front, a port
//!   and a path;
//! - for cases about loopback and IP-literal hosts, a loopback host (`localhost`, `127.0.0.1`,
//!   `[::1]`) with one path segment `<run>-<case>` (`localhost:41234/cc4k2j9x0q12-hp-key-006`).
//!
//! [`run_id_of`] accepts exactly these shapes (with or without an `http://` or `https://`
//! scheme, which helpers add or drop) and nothing else, so neither a run nor `credconform clean`
//! can read, overwrite or erase a user's credentials by name.

use std::collections::BTreeSet;

use rand::Rng;

/// The reserved domain every namespaced host ends with.
pub const DOMAIN: &str = "credconform.test";

/// The characters of a run identifier after `cc`, and of case IDs written in lower case.
const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// The random characters of a run identifier (after `cc`, before the check character).
const BODY: usize = 9;
/// The length of a run identifier: `cc`, the body and the check character.
pub const RUN_ID_LEN: usize = 2 + BODY + 1;

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
        let body: Vec<u8> = (0..BODY)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
            .collect();
        let body_text: String = body.iter().map(|&b| b as char).collect();
        Namespace {
            run_id: format!("cc{body_text}{}", check_char(&body) as char),
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

    /// The host name reserved for one case, e.g. `hp-rt-001.cc4k2j9x0q12.credconform.test`.
    pub fn case_host(&self, case_id: &str) -> String {
        format!("{}.{}.{DOMAIN}", case_id.to_ascii_lowercase(), self.run_id)
    }

    /// The path segment reserved for one case, for URLs on loopback and IP-literal hosts, e.g.
    /// `cc4k2j9x0q12-hp-key-006`: cases never share an entry even on the same host.
    pub fn case_segment(&self, case_id: &str) -> String {
        format!("{}-{}", self.run_id, case_id.to_ascii_lowercase())
    }

    /// True when `url` belongs to this run: it has a run URL shape and carries this run's
    /// identifier.
    pub fn owns(&self, url: &str) -> bool {
        run_id_of(url).is_some_and(|id| id == self.run_id)
    }

    /// True when `url` belongs to the part of this run reserved for case `case_id` (its host
    /// or path segment): what a case reads of `list`, so cases running at the same time never
    /// see each other's entries.
    pub fn owns_case(&self, url: &str, case_id: &str) -> bool {
        run_and_case_of(url)
            .is_some_and(|(run, case)| run == self.run_id && case.eq_ignore_ascii_case(case_id))
    }
}

/// The check character of a run identifier's body: position-weighted sum modulo 36, so a
/// changed character or two swapped neighbours change it.
fn check_char(body: &[u8]) -> u8 {
    let sum: usize = body
        .iter()
        .enumerate()
        .map(|(i, b)| (i + 1) * ALPHABET.iter().position(|a| a == b).unwrap_or(0))
        .sum();
    ALPHABET[sum % ALPHABET.len()]
}

/// True when `s` is a run identifier: `cc`, nine lower-case letters or digits, and the right
/// check character.
pub fn is_run_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == RUN_ID_LEN
        && b.starts_with(b"cc")
        && b[2..].iter().all(|c| ALPHABET.contains(c))
        && check_char(&b[2..2 + BODY]) == b[RUN_ID_LEN - 1]
}

/// True when `s` is a case ID as a run writes it, in lower case: two letters, then one or more
/// `-`-separated groups of letters and digits (`hp-key-006`).
fn is_case_label(s: &str) -> bool {
    let Some((prefix, rest)) = s.split_once('-') else {
        return false;
    };
    prefix.len() == 2
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && rest
            .split('-')
            .all(|p| !p.is_empty() && p.bytes().all(|b| ALPHABET.contains(&b)))
}

/// Splits `[scheme://]host[:port][/path]` into its host (lower case) and path, as far as
/// [`run_id_of`] needs them; `None` for another scheme, user info, a bad port or surrounding
/// whitespace.
fn parts(url: &str) -> Option<(String, &str)> {
    let rest = match url.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") =>
        {
            rest
        }
        Some(_) => return None,
        None => url,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') || authority.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(inner) => {
            let (h, after) = inner.split_once(']')?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some((host.to_ascii_lowercase(), path))
}

/// The run identifier of `url` when it has exactly one of the shapes a run writes (see the
/// module documentation), else `None`. Any credconform run, this one or an earlier one that was
/// killed before it could clean up, is recognised; no other URL is.
pub fn run_id_of(url: &str) -> Option<String> {
    run_and_case_of(url).map(|(run, _)| run)
}

/// The run identifier and the case label (lower case) of `url`, as for [`run_id_of`].
fn run_and_case_of(url: &str) -> Option<(String, String)> {
    let (host, path) = parts(url)?;
    let labels: Vec<&str> = host.split('.').collect();
    if let [.., case, run, "credconform", "test"] = labels.as_slice() {
        return (is_case_label(case) && is_run_id(run))
            .then(|| (run.to_string(), case.to_string()));
    }
    if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1") {
        return None;
    }
    let segment = path.strip_prefix('/')?;
    let segment = segment.strip_suffix('/').unwrap_or(segment);
    let (run, case) = segment.split_at_checked(RUN_ID_LEN)?;
    let case = case.strip_prefix('-')?.to_ascii_lowercase();
    let run = run.to_ascii_lowercase();
    (is_run_id(&run) && is_case_label(&case)).then_some((run, case))
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
        let host = host_of(url);
        // No real registry can share a host under the reserved domain.
        if host == DOMAIN || host.ends_with(&format!(".{DOMAIN}")) {
            return None;
        }
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
        assert!(is_run_id(ns.run_id()), "{}", ns.run_id());
        let host = ns.case_host("HP-X-1");
        let segment = ns.case_segment("HP-KEY-006");
        for url in [
            format!("https://{host}"),
            format!("{host}:5000/v2/"),
            format!("http://mirror.{host}/Team"),
            format!("https://{host}.evil.{host}"),
            format!("localhost:4000/{segment}"),
            format!("[::1]:4000/{segment}/"),
            format!("https://127.0.0.1:1/{segment}"),
        ] {
            assert_eq!(run_id_of(&url).as_deref(), Some(ns.run_id()), "{url}");
        }
        let other = Namespace::random();
        let foreign = [
            "https://index.docker.io/v1/".to_string(),
            "localhost:5000".into(),
            format!("localhost:5000/{}", ns.run_id()),
            format!("registry.example.com/{segment}"),
            format!("{}.example.com", ns.run_id()),
            format!("https://{host}@evil.example.com"),
            format!("ftp://{host}"),
            format!("localhost:4000/x/{segment}"),
        ];
        for url in foreign {
            assert!(run_id_of(&url).is_none(), "{url}");
        }
        let others = format!("https://hp-x-1.{}.credconform.test", other.run_id());
        assert!(run_id_of(&others).is_some() && !ns.owns(&others));
    }

    #[test]
    fn a_case_owns_only_its_own_host_and_segment() {
        let ns = Namespace::random();
        let mine = [
            format!("https://{}/v1/", ns.case_host("HP-LS-001")),
            format!("mirror.{}:5000", ns.case_host("HP-LS-001")),
            format!("localhost:4000/{}/", ns.case_segment("HP-LS-001")),
        ];
        for url in &mine {
            assert!(ns.owns_case(url, "HP-LS-001"), "{url}");
            assert!(!ns.owns_case(url, "HP-LS-002"), "{url}");
            assert!(!ns.owns_case(url, "HP-LS-00"), "{url}");
        }
        let other_run = format!("https://{}", Namespace::random().case_host("HP-LS-001"));
        assert!(!ns.owns_case(&other_run, "HP-LS-001"));
        assert!(!ns.owns_case("https://index.docker.io/v1/", "HP-LS-001"));
    }

    #[test]
    fn the_check_character_refuses_lookalike_words() {
        for word in [
            "ccproduction",
            "ccompanyrepo",
            "ccmainrepo01",
            "cc0123456789",
        ] {
            assert_eq!(word.len(), RUN_ID_LEN);
            assert!(!is_run_id(word), "{word}");
        }
        let id = Namespace::random().run_id().to_string();
        let mut swapped: Vec<u8> = id.clone().into_bytes();
        swapped.swap(3, 4);
        if swapped[3] != swapped[4] {
            assert!(!is_run_id(std::str::from_utf8(&swapped).unwrap()), "{id}");
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
    /// Every server URL the shipped suites name, expanded in a fresh namespace, is owned by it:
    /// the shapes [`run_id_of`] accepts cover everything a run writes.
    #[test]
    fn every_url_the_suites_write_belongs_to_the_run() {
        use crate::scenario::{TargetKind, template};
        let suites = crate::scenario::load_builtin().unwrap();
        let ns = Namespace::random();
        let mut seen = 0;
        for case in suites
            .iter()
            .filter(|s| s.header.target == TargetKind::Helper)
            .flat_map(|s| &s.cases)
        {
            let (host, segment) = (ns.case_host(&case.id), ns.case_segment(&case.id));
            let vars = template::Vars {
                ns: &host,
                run: &segment,
                port: ns.port(),
                i: 3,
                helper: "docker-credential-example",
            };
            for step in case.steps() {
                let urls = step.extra_args.iter().chain(step.server_url());
                for url in urls.filter(|u| u.names_namespace()) {
                    let url = url.expand(&vars);
                    assert!(ns.owns(url.trim()), "{}: {url:?}", case.id);
                    seen += 1;
                }
            }
        }
        assert!(seen > 100, "only {seen} URLs found in the suites");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn scheme() -> impl Strategy<Value = &'static str> {
            prop_oneof![Just(""), Just("https://"), Just("http://")]
        }

        fn port() -> impl Strategy<Value = String> {
            proptest::option::of(1u16..=65535)
                .prop_map(|p| p.map(|p| format!(":{p}")).unwrap_or_default())
        }

        fn case_id() -> impl Strategy<Value = String> {
            "[A-Z]{2}(-[A-Z0-9]{1,5}){1,3}"
        }

        /// Hosts of real registries and of a user's own ones, none loopback, none reserved.
        fn registry_host() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("docker.io".to_string()),
                Just("index.docker.io".to_string()),
                Just("registry-1.docker.io".to_string()),
                Just("quay.io".to_string()),
                Just("ghcr.io".to_string()),
                Just("gcr.io".to_string()),
                Just("registry.gitlab.com".to_string()),
                "[0-9]{12}\\.dkr\\.ecr\\.(us-east-1|eu-west-3)\\.amazonaws\\.com",
                "[a-z][a-z0-9-]{0,12}\\.(com|io|net|internal|local|example|test)",
                "cc[a-z0-9]{10}\\.(example\\.com|credconform\\.io)",
                "10\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
                Just("[2001:db8::1]".to_string()),
                Just("credconform.test".to_string()),
                "[a-z]{3,8}\\.credconform\\.test",
                case_id()
                    .prop_map(|id| format!("{}.example.com", Namespace::random().case_host(&id))),
            ]
        }

        /// Path segments a user's entries have, with `cc` words of every length, and even run
        /// segments that are valid (they are still on a user's host).
        fn segment() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z][a-z0-9._-]{0,15}",
                "cc[a-z0-9]{0,20}",
                "cc[a-z0-9]{8,12}-[a-z0-9-]{1,12}",
                Just("ccproduction".to_string()),
                Just("ccompanyrepo".to_string()),
                Just("ccmainrepo01-team".to_string()),
                case_id().prop_map(|id| Namespace::random().case_segment(&id)),
                Just(Namespace::random().run_id().to_string()),
            ]
        }

        fn path() -> impl Strategy<Value = String> {
            (proptest::collection::vec(segment(), 0..4), any::<bool>()).prop_map(|(segs, slash)| {
                let mut p: String = segs.iter().map(|s| format!("/{s}")).collect();
                if slash {
                    p.push('/');
                }
                p
            })
        }

        /// `cc` words on loopback hosts that a run never writes: no valid identifier, or one
        /// without its case, or one below another segment.
        fn loopback_path() -> impl Strategy<Value = String> {
            prop_oneof![
                "cc[a-z0-9]{0,20}(-[a-z0-9]{1,6})?"
                    .prop_filter("not a run identifier", |s| {
                        !s.get(..RUN_ID_LEN).is_some_and(is_run_id)
                    })
                    .prop_map(|s| format!("/{s}")),
                Just(format!("/{}", Namespace::random().run_id())),
                (segment(), case_id())
                    .prop_map(|(s, id)| format!("/{s}/{}", Namespace::random().case_segment(&id))),
                Just(String::new()),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn no_registry_url_is_a_run_url(
                scheme in scheme(), host in registry_host(), port in port(), path in path()
            ) {
                let url = format!("{scheme}{host}{port}{path}");
                prop_assert!(run_id_of(&url).is_none(), "{}", url);
            }

            #[test]
            fn no_loopback_url_a_run_never_writes_is_a_run_url(
                scheme in scheme(),
                host in prop_oneof![Just("localhost"), Just("127.0.0.1"), Just("[::1]")],
                port in port(),
                path in loopback_path(),
            ) {
                let url = format!("{scheme}{host}{port}{path}");
                prop_assert!(run_id_of(&url).is_none(), "{}", url);
            }

            #[test]
            fn every_url_shape_a_run_writes_is_owned(
                scheme in scheme(),
                label in proptest::option::of("[a-z0-9]{1,8}"),
                id in case_id(),
                port in port(),
                path in proptest::collection::vec("[A-Za-z0-9._~-]{1,10}", 0..3),
                loopback in prop_oneof![Just("localhost"), Just("127.0.0.1"), Just("[::1]")],
                on_loopback in any::<bool>(),
                slash in any::<bool>(),
            ) {
                let ns = Namespace::random();
                let url = if on_loopback {
                    let slash = if slash { "/" } else { "" };
                    format!("{scheme}{loopback}{port}/{}{slash}", ns.case_segment(&id))
                } else {
                    let label = label.map(|l| format!("{l}.")).unwrap_or_default();
                    let path: String = path.iter().map(|s| format!("/{s}")).collect();
                    format!("{scheme}{label}{}{port}{path}", ns.case_host(&id))
                };
                prop_assert!(ns.owns(&url), "{}", url);
            }
        }
    }
}
