//! User accounts: password, two-factor setting, and the account's personal access tokens,
//! with the login rules that tie them together.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{Principal, Via};
use super::error::{
    INCORRECT_CREDENTIALS, PASSWORD_REFUSED_FOR_TWO_FACTOR, StateError, StateResult,
};
use super::pats::{
    CreatedPat, MAX_AUTO_GENERATED, NewPat, Origin, PatUpdate, PatView, PersonalAccessToken,
};
use super::secret::SecretHash;
use super::totp;

/// A user account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Account name, also the namespace it owns (`username/*`).
    pub username: String,
    password: SecretHash,
    /// Whether two-factor authentication is on (then the password is refused at /token).
    pub two_factor: bool,
    /// Base32 TOTP secret, present when two-factor is on.
    pub totp_secret: Option<String>,
    /// The account's personal access tokens.
    pub tokens: Vec<PersonalAccessToken>,
}

/// What is needed to create an account: an account of a seed file, or the body of
/// `POST /_admin/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Account name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Two-factor on or off (default off).
    #[serde(default)]
    pub two_factor: bool,
    /// A fixed base32 TOTP secret; generated when two-factor is on and this is `None`.
    pub totp_secret: Option<String>,
}

/// A change to an account (the body of `PATCH /_admin/users/<name>`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    /// New password.
    pub password: Option<String>,
    /// Turn two-factor on or off (turning it on creates a TOTP secret).
    pub two_factor: Option<bool>,
}

/// What a test sees of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    /// Account name.
    pub username: String,
    /// Two-factor on or off.
    pub two_factor: bool,
    /// TOTP secret, when two-factor is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
}

/// Checks an account name: 1 to 64 characters of `a-z 0-9 . _ -`, starting alphanumeric,
/// and usable as the first component of a repository name.
pub fn validate_username(username: &str) -> StateResult<()> {
    let valid = username.len() <= 64
        && super::access::validate_repository_name(username).is_ok()
        && !username.contains('/');
    if valid {
        Ok(())
    } else {
        Err(StateError::BadRequest(format!(
            "invalid username {username:?}: use 1-64 characters of a-z, 0-9, '.', '_' or '-'"
        )))
    }
}

/// The hash of a new password: refused when empty, or when it starts with the token prefix (a
/// login could not tell it from a PAT).
fn checked_password(password: &str) -> StateResult<SecretHash> {
    if password.is_empty() {
        return Err(StateError::BadRequest("password must not be empty".into()));
    }
    if password.starts_with(super::pats::PAT_PREFIX) {
        return Err(StateError::BadRequest(format!(
            "a password must not start with the token prefix {}",
            super::pats::PAT_PREFIX
        )));
    }
    Ok(SecretHash::new(password))
}

impl Account {
    /// Creates an account, validating its name and TOTP secret.
    pub fn new(new: NewAccount) -> StateResult<Account> {
        validate_username(&new.username)?;
        let password = checked_password(&new.password)?;
        let totp_secret = match (new.two_factor, new.totp_secret) {
            (_, Some(secret)) if !totp::is_valid_secret(&secret) => {
                return Err(StateError::BadRequest(
                    "totp_secret is not valid base32".into(),
                ));
            }
            (true, None) => Some(totp::generate_secret()),
            (_, secret) => secret,
        };
        Ok(Account {
            username: new.username,
            password,
            two_factor: new.two_factor,
            totp_secret,
            tokens: Vec::new(),
        })
    }

    /// The account as a test sees it (with the TOTP secret).
    pub fn view(&self) -> AccountView {
        AccountView {
            username: self.username.clone(),
            two_factor: self.two_factor,
            totp_secret: self.totp_secret.clone().filter(|_| self.two_factor),
        }
    }

    /// Applies `update`.
    pub fn apply(&mut self, update: AccountUpdate) -> StateResult<AccountView> {
        if let Some(password) = update.password {
            self.password = checked_password(&password)?;
        }
        if let Some(two_factor) = update.two_factor {
            self.two_factor = two_factor;
            if two_factor && self.totp_secret.is_none() {
                self.totp_secret = Some(totp::generate_secret());
            }
        }
        Ok(self.view())
    }

    /// Whether `password` is the account password (constant time).
    pub fn password_matches(&self, password: &str) -> bool {
        self.password.matches(password)
    }

    /// A registry login with `secret`, which is either a PAT of this account or the password.
    /// A 2FA account's password is refused; a PAT must be active and unexpired; a successful
    /// PAT login records `now` as its last use.
    pub fn login(&mut self, secret: &str, now: OffsetDateTime) -> StateResult<Principal> {
        let via = if let Some(pat) = self.tokens.iter_mut().find(|t| t.secret_matches(secret)) {
            pat.use_at(now)?
        } else if self.password_matches(secret) {
            self.password_via(false)?
        } else {
            return Err(StateError::Unauthorized(INCORRECT_CREDENTIALS.into()));
        };
        Ok(self.principal(via))
    }

    /// A principal of this account that authenticated `via`.
    fn principal(&self, via: Via) -> Principal {
        Principal {
            username: self.username.clone(),
            via,
        }
    }

    /// A login by password: refused once two-factor is on, unless `second_factor_done`.
    fn password_via(&self, second_factor_done: bool) -> StateResult<Via> {
        if self.two_factor && !second_factor_done {
            return Err(StateError::Unauthorized(
                PASSWORD_REFUSED_FOR_TWO_FACTOR.into(),
            ));
        }
        Ok(Via::Password)
    }

    /// Re-checks a principal that authenticated earlier (identity tokens, sessions): a PAT must
    /// still exist and be usable (its last use becomes `now`); a password principal is refused
    /// once the account has turned on two-factor, unless `second_factor_done` (a Hub session
    /// that went through the TOTP step).
    pub fn revalidate(
        &mut self,
        pat: Option<Uuid>,
        now: OffsetDateTime,
        second_factor_done: bool,
    ) -> StateResult<Principal> {
        let via = match pat {
            Some(uuid) => self
                .tokens
                .iter_mut()
                .find(|t| t.view.uuid == uuid)
                .ok_or_else(|| {
                    StateError::Unauthorized("personal access token was deleted".into())
                })?
                .use_at(now)?,
            None => self.password_via(second_factor_done)?,
        };
        Ok(self.principal(via))
    }

    /// Creates a token. A sixth auto-generated token removes the least recently used one.
    pub fn create_token(&mut self, new: NewPat, now: OffsetDateTime) -> StateResult<CreatedPat> {
        if let Some(uuid) = new.uuid
            && self.tokens.iter().any(|t| t.view.uuid == uuid)
        {
            return Err(StateError::Conflict(format!("token {uuid} already exists")));
        }
        let (pat, created) = PersonalAccessToken::create(new, now)?;
        if pat.view.generated_by == Origin::Auto {
            self.evict_auto_tokens_beyond(MAX_AUTO_GENERATED - 1);
        }
        self.tokens.push(pat);
        Ok(created)
    }

    fn evict_auto_tokens_beyond(&mut self, keep: usize) {
        loop {
            let auto = self
                .tokens
                .iter()
                .enumerate()
                .filter(|(_, t)| t.view.generated_by == Origin::Auto);
            if auto.clone().count() <= keep {
                return;
            }
            let (oldest, _) = auto
                .min_by_key(|(_, t)| (t.recency(), t.view.created_at))
                .expect("more than zero auto tokens");
            self.tokens.remove(oldest);
        }
    }

    /// The token with id `uuid`.
    pub fn token(&self, uuid: Uuid) -> StateResult<&PersonalAccessToken> {
        self.tokens
            .iter()
            .find(|t| t.view.uuid == uuid)
            .ok_or_else(|| token_not_found(uuid))
    }

    /// Views of every token, oldest first.
    pub fn token_views(&self) -> Vec<PatView> {
        self.tokens.iter().map(|t| t.view.clone()).collect()
    }

    /// Changes a token's label or active flag (an expiry change is refused).
    pub fn update_token(&mut self, uuid: Uuid, update: PatUpdate) -> StateResult<PatView> {
        self.tokens
            .iter_mut()
            .find(|t| t.view.uuid == uuid)
            .ok_or_else(|| token_not_found(uuid))?
            .apply(update)
    }

    /// Deletes a token.
    pub fn delete_token(&mut self, uuid: Uuid) -> StateResult<()> {
        let before = self.tokens.len();
        self.tokens.retain(|t| t.view.uuid != uuid);
        if self.tokens.len() == before {
            return Err(token_not_found(uuid));
        }
        Ok(())
    }
}

fn token_not_found(uuid: Uuid) -> StateError {
    StateError::NotFound(format!("no access token {uuid}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::access::PatScope;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2030-06-01 12:00 UTC);

    fn account(two_factor: bool) -> Account {
        Account::new(NewAccount {
            username: "alice".into(),
            password: "pw".into(),
            two_factor,
            totp_secret: None,
        })
        .unwrap()
    }

    #[test]
    fn password_login_works_without_two_factor() {
        let mut a = account(false);
        let p = a.login("pw", NOW).unwrap();
        assert_eq!(p.via, Via::Password);
        assert_eq!(
            a.login("nope", NOW).unwrap_err().message(),
            INCORRECT_CREDENTIALS
        );
    }

    #[test]
    fn two_factor_account_must_use_a_pat() {
        let mut a = account(true);
        assert!(a.totp_secret.is_some());
        assert_eq!(
            a.login("pw", NOW).unwrap_err(),
            StateError::Unauthorized(PASSWORD_REFUSED_FOR_TWO_FACTOR.into())
        );
        let pat = a
            .create_token(NewPat::manual("cli", vec![PatScope::Read]), NOW)
            .unwrap();
        let p = a.login(&pat.token, NOW + Duration::minutes(1)).unwrap();
        assert_eq!(p.pat_uuid(), Some(pat.view.uuid));
        assert_eq!(
            a.token(pat.view.uuid).unwrap().view.last_used,
            Some(NOW + Duration::minutes(1))
        );
    }

    #[test]
    fn deactivated_and_reactivated_pat() {
        let mut a = account(false);
        let pat = a
            .create_token(NewPat::manual("cli", vec![PatScope::Read]), NOW)
            .unwrap();
        let off = PatUpdate {
            is_active: Some(false),
            ..PatUpdate::default()
        };
        a.update_token(pat.view.uuid, off).unwrap();
        assert!(a.login(&pat.token, NOW).is_err());
        assert_eq!(a.token(pat.view.uuid).unwrap().view.last_used, None);
        let on = PatUpdate {
            is_active: Some(true),
            ..PatUpdate::default()
        };
        a.update_token(pat.view.uuid, on).unwrap();
        assert!(a.login(&pat.token, NOW).is_ok());
    }

    #[test]
    fn deleted_pat_is_refused_and_revalidation_fails() {
        let mut a = account(false);
        let pat = a
            .create_token(NewPat::manual("cli", vec![PatScope::Read]), NOW)
            .unwrap();
        assert!(a.revalidate(Some(pat.view.uuid), NOW, false).is_ok());
        a.delete_token(pat.view.uuid).unwrap();
        assert_eq!(
            a.login(&pat.token, NOW).unwrap_err().message(),
            INCORRECT_CREDENTIALS
        );
        assert!(a.revalidate(Some(pat.view.uuid), NOW, false).is_err());
        assert!(matches!(
            a.delete_token(pat.view.uuid),
            Err(StateError::NotFound(_))
        ));
    }

    #[test]
    fn expired_pat_revalidation_names_expiry() {
        let mut a = account(false);
        let mut new = NewPat::manual("cli", vec![PatScope::Read]);
        new.expires_at = Some(NOW + Duration::days(1));
        let pat = a.create_token(new, NOW).unwrap();
        let err = a
            .revalidate(Some(pat.view.uuid), NOW + Duration::days(2), false)
            .unwrap_err();
        assert!(err.message().contains("expired"));
    }

    #[test]
    fn sixth_auto_token_evicts_the_least_recently_used() {
        let mut a = account(false);
        let mut auto = NewPat::manual("auto", vec![]);
        auto.generated_by = Origin::Auto;
        let created: Vec<CreatedPat> = (0..5)
            .map(|i| {
                a.create_token(auto.clone(), NOW + Duration::minutes(i))
                    .unwrap()
            })
            .collect();
        let manual = a
            .create_token(NewPat::manual("m", vec![PatScope::Read]), NOW)
            .unwrap();
        // Use the oldest one so the second-oldest becomes least recently used.
        a.login(&created[0].token, NOW + Duration::hours(1))
            .unwrap();
        a.create_token(auto, NOW + Duration::hours(2)).unwrap();
        let uuids: Vec<Uuid> = a.tokens.iter().map(|t| t.view.uuid).collect();
        assert_eq!(uuids.len(), 6, "five auto tokens and the manual one");
        assert!(!uuids.contains(&created[1].view.uuid));
        assert!(uuids.contains(&created[0].view.uuid));
        assert!(uuids.contains(&manual.view.uuid));
    }

    #[test]
    fn enabling_two_factor_creates_a_secret_and_revalidation_refuses_password() {
        let mut a = account(false);
        assert!(a.view().totp_secret.is_none());
        let view = a
            .apply(AccountUpdate {
                two_factor: Some(true),
                ..AccountUpdate::default()
            })
            .unwrap();
        assert!(view.totp_secret.is_some());
        assert!(a.revalidate(None, NOW, false).is_err());
        assert!(a.revalidate(None, NOW, true).is_ok());
    }

    #[test]
    fn a_password_update_is_checked_like_a_new_password() {
        let mut a = account(false);
        for bad in ["", "fkr_pat_looks_like_a_token"] {
            let update = AccountUpdate {
                password: Some(bad.into()),
                ..AccountUpdate::default()
            };
            assert!(a.apply(update).is_err(), "{bad:?}");
        }
        assert!(a.password_matches("pw"));
    }

    #[test]
    fn invalid_accounts_are_refused() {
        for (name, password) in [("", "pw"), ("Bob", "pw"), ("a/b", "pw"), ("bob", "")] {
            let new = NewAccount {
                username: name.into(),
                password: password.into(),
                two_factor: false,
                totp_secret: None,
            };
            assert!(Account::new(new).is_err(), "{name:?}");
        }
    }
}
