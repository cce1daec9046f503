//! The request journal tests read: one entry per request, in order, with secrets redacted.

use parking_lot::Mutex;
use std::collections::VecDeque;

use serde::Serialize;
use uuid::Uuid;

/// Entries kept at most; older ones are dropped (and counted) beyond this.
pub const JOURNAL_CAPACITY: usize = 10_000;

/// Query parameters whose values are always redacted.
pub const SECRET_PARAMETERS: [&str; 8] = [
    "password",
    "refresh_token",
    "access_token",
    "token",
    "code",
    "login_2fa_token",
    "secret",
    "client_secret",
];

/// Text that replaces a redacted value.
pub const REDACTED: &str = "REDACTED";

/// One handled request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// Position since the start (or the last clear), from 1.
    pub seq: u64,
    /// Registry-clock time the request arrived (RFC 3339).
    pub time: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Query string with secrets redacted, `null` when absent.
    pub query: Option<String>,
    /// `basic`, `bearer`, another scheme in lower case, or `null` without Authorization.
    pub auth_scheme: Option<String>,
    /// Who the request authenticated as and what scope it used, its members inline.
    #[serde(flatten)]
    pub note: RequestNote,
    /// Response status, `null` when a fault closed the connection.
    pub status: Option<u16>,
    /// The injected fault, if one applied, or `panic: <message>` when the handler panicked.
    pub fault: Option<String>,
}

/// What a handler learned about a request, part of its journal entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestNote {
    /// The authenticated account, when known.
    pub principal: Option<String>,
    /// The PAT that authenticated the request, when one did.
    pub token_uuid: Option<Uuid>,
    /// Scope granted (token endpoint) or exercised (registry API), space separated.
    pub granted_scope: Option<String>,
}

/// The journal: an ordered, bounded list of entries.
#[derive(Debug, Default)]
pub struct Journal {
    inner: Mutex<JournalInner>,
}

#[derive(Debug, Default)]
struct JournalInner {
    entries: VecDeque<JournalEntry>,
    next_seq: u64,
}

impl Journal {
    /// Appends an entry, numbering it.
    pub fn record(&self, mut entry: JournalEntry) {
        let mut inner = self.inner.lock();
        inner.next_seq += 1;
        entry.seq = inner.next_seq;
        if inner.entries.len() == JOURNAL_CAPACITY {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        let inner = self.inner.lock();
        inner.entries.iter().cloned().collect()
    }

    /// Forgets every entry and restarts numbering.
    pub fn clear(&self) {
        *self.inner.lock() = JournalInner::default();
    }
}

/// Redacts a query string: values of [`SECRET_PARAMETERS`] and any value that looks like a
/// secret this registry issued (`fkr_` prefix) become [`REDACTED`].
pub fn redact_query(query: &str) -> String {
    let pairs = form_urlencoded::parse(query.as_bytes()).map(|(key, value)| {
        let secret = SECRET_PARAMETERS.contains(&key.to_ascii_lowercase().as_str())
            || value.contains("fkr_");
        let value = if secret { REDACTED.into() } else { value };
        (key, value)
    });
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: "2030-01-01T00:00:00Z".into(),
            method: "GET".into(),
            path: path.into(),
            query: None,
            auth_scheme: None,
            note: RequestNote::default(),
            status: Some(200),
            fault: None,
        }
    }

    #[test]
    fn entries_are_numbered_in_order_and_cleared() {
        let journal = Journal::default();
        journal.record(entry("/a"));
        journal.record(entry("/b"));
        let entries = journal.entries();
        assert_eq!(
            entries
                .iter()
                .map(|e| (e.seq, e.path.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "/a"), (2, "/b")]
        );
        journal.clear();
        assert!(journal.entries().is_empty());
        journal.record(entry("/c"));
        assert_eq!(journal.entries()[0].seq, 1);
    }

    #[test]
    fn redaction_hides_secret_parameters_and_issued_secrets() {
        let redacted = redact_query(
            "account=alice&password=hunter2&scope=repository%3Aa%3Apull&x=fkr_pat_abc&Refresh_Token=r",
        );
        assert_eq!(
            redacted,
            "account=alice&password=REDACTED&scope=repository%3Aa%3Apull&x=REDACTED&Refresh_Token=REDACTED"
        );
        assert!(!redacted.contains("hunter2"));
    }

    #[test]
    fn redaction_keeps_odd_queries_readable() {
        assert_eq!(redact_query(""), "");
        assert_eq!(redact_query("flag"), "flag=");
        assert_eq!(redact_query("%ZZ=1"), "%25ZZ=1");
    }
}
