//! Personal access tokens: their data, their public view, and the rules about expiry,
//! activation and usage.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{PatScope, Via};
use super::error::{EXPIRY_IMMUTABLE, StateError, StateResult};
use super::secret::SecretHash;

/// Every PAT secret starts with this prefix (never Docker's real one, so secret scanners stay
/// quiet about fixtures).
pub const PAT_PREFIX: &str = "fkr_pat_";

/// At most this many auto-generated tokens per account.
pub const MAX_AUTO_GENERATED: usize = 5;

/// Who created a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Created by the user.
    #[default]
    Manual,
    /// Created automatically (e.g. by Docker Desktop sign-in).
    Auto,
}

/// A personal access token as the registry keeps it: the secret only as a digest.
#[derive(Debug, Clone)]
pub struct PersonalAccessToken {
    /// Everything but the secret. The expiry chosen at creation is immutable afterwards; a
    /// deactivated token is refused until reactivated.
    pub view: PatView,
    secret: SecretHash,
}

/// What is needed to create a token.
#[derive(Debug, Clone)]
pub struct NewPat {
    /// Label.
    pub label: String,
    /// Scopes; empty is allowed only for auto-generated tokens (they get `repo:admin`).
    pub scopes: Vec<PatScope>,
    /// Expiry, `None` for never. A time in the past creates an already expired token.
    pub expires_at: Option<OffsetDateTime>,
    /// Origin.
    pub generated_by: Origin,
    /// A fixed secret (seed files); `None` generates one.
    pub secret: Option<String>,
    /// A fixed id (seed files); `None` generates one.
    pub uuid: Option<Uuid>,
    /// Initial active flag.
    pub is_active: bool,
    /// Initial last-used time (seed files).
    pub last_used: Option<OffsetDateTime>,
    /// Creation time (seed files); `None` means now.
    pub created_at: Option<OffsetDateTime>,
}

impl NewPat {
    /// A manual, active token with `scopes` and no expiry.
    pub fn manual(label: impl Into<String>, scopes: Vec<PatScope>) -> NewPat {
        NewPat {
            label: label.into(),
            scopes,
            expires_at: None,
            generated_by: Origin::Manual,
            secret: None,
            uuid: None,
            is_active: true,
            last_used: None,
            created_at: None,
        }
    }
}

/// Everything about a token except its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatView {
    /// Stable id.
    pub uuid: Uuid,
    /// Label.
    pub label: String,
    /// Scopes.
    pub scopes: Vec<PatScope>,
    /// Expiry, `null` for never.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Active flag.
    pub is_active: bool,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last successful use, `null` if never used.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used: Option<OffsetDateTime>,
    /// `manual` or `auto`.
    pub generated_by: Origin,
}

/// A token just created: the only moment its secret is visible.
#[derive(Debug, Clone)]
pub struct CreatedPat {
    /// The token's data.
    pub view: PatView,
    /// The secret, shown once.
    pub token: String,
}

/// A change to a token. Asking to change the expiry is refused.
#[derive(Debug, Clone, Default)]
pub struct PatUpdate {
    /// New active flag.
    pub is_active: Option<bool>,
    /// New label.
    pub label: Option<String>,
    /// Whether the request tried to change `expires_at` (always refused).
    pub expires_at_requested: bool,
}

impl PersonalAccessToken {
    /// Creates a token from `new` at `now`; returns the stored token and the creation answer.
    pub(crate) fn create(
        new: NewPat,
        now: OffsetDateTime,
    ) -> StateResult<(PersonalAccessToken, CreatedPat)> {
        let scopes = checked_scopes(new.scopes, new.generated_by)?;
        let token = match new.secret {
            Some(secret) if !secret.starts_with(PAT_PREFIX) => {
                return Err(StateError::BadRequest(format!(
                    "token secrets must start with {PAT_PREFIX}"
                )));
            }
            Some(secret) if secret.len() < PAT_PREFIX.len() + 8 => {
                return Err(StateError::BadRequest(
                    "token secret too short (at least 8 characters after the prefix)".into(),
                ));
            }
            Some(secret) => secret,
            None => super::secret::generate(PAT_PREFIX),
        };
        let label = checked_label(new.label)?;
        let pat = PersonalAccessToken {
            view: PatView {
                uuid: new.uuid.unwrap_or_else(Uuid::new_v4),
                label,
                scopes,
                expires_at: new.expires_at,
                is_active: new.is_active,
                created_at: new.created_at.unwrap_or(now),
                last_used: new.last_used,
                generated_by: new.generated_by,
            },
            secret: SecretHash::new(&token),
        };
        let created = CreatedPat {
            view: pat.view.clone(),
            token,
        };
        Ok((pat, created))
    }

    /// Whether `secret` is this token's secret (constant time).
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret.matches(secret)
    }

    /// Refuses an inactive or expired token, naming the reason.
    pub fn check_usable(&self, now: OffsetDateTime) -> StateResult<()> {
        if !self.view.is_active {
            return Err(StateError::Unauthorized(
                "personal access token is inactive".into(),
            ));
        }
        if let Some(at) = self.view.expires_at.filter(|at| now >= *at) {
            return Err(StateError::Unauthorized(format!(
                "personal access token expired at {}",
                super::rfc3339(at)
            )));
        }
        Ok(())
    }

    /// A use of the token at `now`: refused when it is not usable, and otherwise recorded as
    /// its last use; answers how the principal authenticated.
    pub fn use_at(&mut self, now: OffsetDateTime) -> StateResult<Via> {
        self.check_usable(now)?;
        self.view.last_used = Some(now);
        Ok(Via::Pat {
            uuid: self.view.uuid,
            scopes: self.view.scopes.clone(),
        })
    }

    /// Applies `update`; a requested expiry change refuses the whole update.
    pub fn apply(&mut self, update: PatUpdate) -> StateResult<PatView> {
        if update.expires_at_requested {
            return Err(StateError::BadRequest(EXPIRY_IMMUTABLE.into()));
        }
        if let Some(label) = update.label {
            self.view.label = checked_label(label)?;
        }
        if let Some(active) = update.is_active {
            self.view.is_active = active;
        }
        Ok(self.view.clone())
    }

    /// The time used to pick the least recently used token.
    pub fn recency(&self) -> OffsetDateTime {
        self.view.last_used.unwrap_or(self.view.created_at)
    }
}

fn checked_label(label: String) -> StateResult<String> {
    if label.chars().count() > 100 {
        return Err(StateError::BadRequest(
            "label longer than 100 characters".into(),
        ));
    }
    Ok(label)
}

fn checked_scopes(mut scopes: Vec<PatScope>, origin: Origin) -> StateResult<Vec<PatScope>> {
    scopes.dedup();
    match origin {
        Origin::Auto if scopes.is_empty() || scopes == [PatScope::Admin] => {
            Ok(vec![PatScope::Admin])
        }
        Origin::Auto => Err(StateError::BadRequest(
            "auto-generated tokens always have the repo:admin scope".into(),
        )),
        Origin::Manual if scopes.is_empty() => Err(StateError::BadRequest(
            "a token needs at least one scope (repo:admin, repo:write, repo:read, repo:public_read)"
                .into(),
        )),
        Origin::Manual => Ok(scopes),
    }
}

/// Parses scope names (`repo:read`...), naming the first unknown one.
pub fn parse_pat_scopes<S: AsRef<str>>(names: &[S]) -> StateResult<Vec<PatScope>> {
    names
        .iter()
        .map(|name| {
            PatScope::parse(name.as_ref()).ok_or_else(|| {
                StateError::BadRequest(format!(
                    "unknown scope {:?} (expected repo:admin, repo:write, repo:read or repo:public_read)",
                    name.as_ref()
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2030-06-01 12:00 UTC);

    fn build(new: NewPat) -> (CreatedPat, PersonalAccessToken) {
        let (pat, created) = PersonalAccessToken::create(new, NOW).unwrap();
        (created, pat)
    }

    #[test]
    fn created_token_has_prefix_and_hashed_secret() {
        let (created, pat) = build(NewPat::manual("ci", vec![PatScope::Read]));
        assert!(created.token.starts_with(PAT_PREFIX));
        assert!(pat.secret_matches(&created.token));
        assert!(!pat.secret_matches("fkr_pat_wrong"));
        assert!(!format!("{pat:?}").contains(&created.token));
        assert_eq!(created.view, pat.view);
    }

    #[test]
    fn fixed_secret_must_carry_the_prefix() {
        let mut new = NewPat::manual("x", vec![PatScope::Read]);
        new.secret = Some("dckr_pat_abcdefghij".into());
        assert!(matches!(
            PersonalAccessToken::create(new, NOW),
            Err(StateError::BadRequest(_))
        ));
    }

    #[test]
    fn expiry_and_activity_decide_usability() {
        let mut new = NewPat::manual("x", vec![PatScope::Read]);
        new.expires_at = Some(NOW + Duration::hours(1));
        let (_, mut pat) = build(new);
        assert!(pat.check_usable(NOW).is_ok());
        let err = pat.check_usable(NOW + Duration::hours(1)).unwrap_err();
        assert!(err.message().contains("expired"), "{err}");
        pat.view.is_active = false;
        assert!(
            pat.check_usable(NOW)
                .unwrap_err()
                .message()
                .contains("inactive")
        );
    }

    #[test]
    fn never_expiring_token_stays_usable() {
        let (_, pat) = build(NewPat::manual("x", vec![PatScope::Admin]));
        assert!(pat.check_usable(NOW + Duration::days(36500)).is_ok());
    }

    #[test]
    fn expiry_cannot_be_edited() {
        let (_, mut pat) = build(NewPat::manual("x", vec![PatScope::Read]));
        let err = pat
            .apply(PatUpdate {
                expires_at_requested: true,
                is_active: Some(false),
                ..PatUpdate::default()
            })
            .unwrap_err();
        assert_eq!(err, StateError::BadRequest(EXPIRY_IMMUTABLE.into()));
        assert!(pat.view.is_active, "a refused update changes nothing");
        let view = pat
            .apply(PatUpdate {
                label: Some("renamed".into()),
                is_active: Some(false),
                ..PatUpdate::default()
            })
            .unwrap();
        assert_eq!((view.label.as_str(), view.is_active), ("renamed", false));
    }

    #[test]
    fn scope_rules_by_origin() {
        let mut auto = NewPat::manual("auto", vec![]);
        auto.generated_by = Origin::Auto;
        let (created, _) = build(auto.clone());
        assert_eq!(created.view.scopes, vec![PatScope::Admin]);
        auto.scopes = vec![PatScope::Read];
        assert!(PersonalAccessToken::create(auto, NOW).is_err());
        assert!(PersonalAccessToken::create(NewPat::manual("m", vec![]), NOW).is_err());
    }

    #[test]
    fn parse_pat_scopes_names_the_unknown_one() {
        assert_eq!(
            parse_pat_scopes(&["repo:read", "repo:write"]).unwrap(),
            vec![PatScope::Read, PatScope::Write]
        );
        let err = parse_pat_scopes(&["repo:read", "repo:all"]).unwrap_err();
        assert!(err.message().contains("repo:all"));
    }

    #[test]
    fn view_serializes_with_rfc3339_and_null() {
        let (created, _) = build(NewPat::manual("x", vec![PatScope::Read]));
        let json = serde_json::to_value(&created.view).unwrap();
        assert_eq!(json["expires_at"], serde_json::Value::Null);
        assert_eq!(json["created_at"], "2030-06-01T12:00:00Z");
        assert_eq!(json["generated_by"], "manual");
        assert_eq!(json["scopes"][0], "repo:read");
    }
}
