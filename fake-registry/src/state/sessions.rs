//! Bearer secrets the registry hands out and later accepts: identity (refresh) tokens, Hub
//! session tokens and pending second-factor logins. Each remembers the account and the PAT it
//! was minted through, so it dies with that PAT.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::clock::after;
use super::secret::{constant_time_eq, generate, token_digest};

/// Prefix of identity (refresh) tokens.
pub const IDENTITY_TOKEN_PREFIX: &str = "fkr_idt_";
/// Prefix of Hub session tokens.
pub const SESSION_TOKEN_PREFIX: &str = "fkr_sess_";
/// Prefix of pending second-factor login tokens.
pub const SECOND_FACTOR_PREFIX: &str = "fkr_2fa_";
/// How long a Hub session lasts.
pub const SESSION_LIFETIME: Duration = Duration::hours(1);
/// Most outstanding secrets kept; beyond this the oldest is forgotten (bounds memory when a
/// client logs in offline in a loop).
pub const MAX_RECORDS: usize = 10_000;
/// How long a pending second-factor login lasts.
pub const SECOND_FACTOR_LIFETIME: Duration = Duration::minutes(5);

/// What kind of bearer secret a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// An OAuth refresh token docker stores as `identitytoken`.
    Identity,
    /// A Hub session (`POST /v2/users/login`).
    Session,
    /// A login waiting for its TOTP code.
    SecondFactor,
}

impl GrantKind {
    fn prefix(self) -> &'static str {
        match self {
            GrantKind::Identity => IDENTITY_TOKEN_PREFIX,
            GrantKind::Session => SESSION_TOKEN_PREFIX,
            GrantKind::SecondFactor => SECOND_FACTOR_PREFIX,
        }
    }

    fn lifetime(self) -> Option<Duration> {
        match self {
            GrantKind::Identity => None,
            GrantKind::Session => Some(SESSION_LIFETIME),
            GrantKind::SecondFactor => Some(SECOND_FACTOR_LIFETIME),
        }
    }
}

/// Who a bearer secret stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Account name.
    pub username: String,
    /// The PAT it was minted through, if any.
    pub pat: Option<Uuid>,
}

#[derive(Debug, Clone)]
struct Record {
    kind: GrantKind,
    digest: [u8; 32],
    holder: Holder,
    expires_at: Option<OffsetDateTime>,
}

/// All outstanding bearer secrets, kept only as digests.
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    records: Vec<Record>,
}

impl Sessions {
    /// Mints a new secret of `kind` for `holder` at `now` and returns it.
    pub fn mint(&mut self, kind: GrantKind, holder: Holder, now: OffsetDateTime) -> String {
        self.records
            .retain(|r| r.expires_at.is_none_or(|at| at > now));
        if self.records.len() >= MAX_RECORDS {
            self.records.remove(0);
        }
        let secret = generate(kind.prefix());
        self.records.push(Record {
            kind,
            digest: token_digest(&secret),
            holder,
            expires_at: kind.lifetime().map(|life| after(now, life)),
        });
        secret
    }

    /// Who `secret` stands for, if it is an unexpired secret of `kind` (constant-time compare).
    pub fn find(&self, kind: GrantKind, secret: &str, now: OffsetDateTime) -> Option<Holder> {
        let digest = token_digest(secret);
        let mut found = None;
        for record in &self.records {
            if constant_time_eq(&record.digest, &digest) && record.kind == kind {
                found = Some(record);
            }
        }
        found
            .filter(|r| r.expires_at.is_none_or(|at| at > now))
            .map(|r| r.holder.clone())
    }

    /// Forgets `secret` (a pending second-factor login is used once).
    pub fn revoke(&mut self, secret: &str) {
        let digest = token_digest(secret);
        self.records
            .retain(|r| !constant_time_eq(&r.digest, &digest));
    }

    /// Forgets every secret minted through the PAT `uuid`.
    pub fn revoke_pat(&mut self, uuid: Uuid) {
        self.records.retain(|r| r.holder.pat != Some(uuid));
    }

    /// Forgets every secret of `username`.
    pub fn revoke_user(&mut self, username: &str) {
        self.records.retain(|r| r.holder.username != username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2030-06-01 12:00 UTC);

    fn alice(pat: Option<Uuid>) -> Holder {
        Holder {
            username: "alice".into(),
            pat,
        }
    }

    #[test]
    fn minted_secret_is_found_by_kind() {
        let mut sessions = Sessions::default();
        let secret = sessions.mint(GrantKind::Identity, alice(None), NOW);
        assert!(secret.starts_with(IDENTITY_TOKEN_PREFIX));
        assert_eq!(
            sessions.find(GrantKind::Identity, &secret, NOW),
            Some(alice(None))
        );
        assert_eq!(sessions.find(GrantKind::Session, &secret, NOW), None);
        assert_eq!(sessions.find(GrantKind::Identity, "other", NOW), None);
    }

    #[test]
    fn sessions_expire_identity_tokens_do_not() {
        let mut sessions = Sessions::default();
        let session = sessions.mint(GrantKind::Session, alice(None), NOW);
        let identity = sessions.mint(GrantKind::Identity, alice(None), NOW);
        let later = NOW + SESSION_LIFETIME;
        assert_eq!(sessions.find(GrantKind::Session, &session, later), None);
        assert!(
            sessions
                .find(GrantKind::Identity, &identity, later + Duration::days(999))
                .is_some()
        );
    }

    #[test]
    fn oldest_secret_goes_beyond_the_cap() {
        let mut sessions = Sessions::default();
        let first = sessions.mint(GrantKind::Identity, alice(None), NOW);
        for _ in 0..MAX_RECORDS {
            sessions.mint(GrantKind::Identity, alice(None), NOW);
        }
        assert_eq!(sessions.records.len(), MAX_RECORDS);
        assert!(sessions.find(GrantKind::Identity, &first, NOW).is_none());
    }

    #[test]
    fn revoking_a_pat_revokes_what_it_minted() {
        let mut sessions = Sessions::default();
        let uuid = Uuid::new_v4();
        let through_pat = sessions.mint(GrantKind::Identity, alice(Some(uuid)), NOW);
        let other = sessions.mint(GrantKind::Identity, alice(None), NOW);
        sessions.revoke_pat(uuid);
        assert!(
            sessions
                .find(GrantKind::Identity, &through_pat, NOW)
                .is_none()
        );
        assert!(sessions.find(GrantKind::Identity, &other, NOW).is_some());
        sessions.revoke(&other);
        assert!(sessions.find(GrantKind::Identity, &other, NOW).is_none());
    }
}
