//! [`Registry`]: the whole state behind two locks (order in the [`crate::state`] docs), and the
//! operations the HTTP layer and tests call. Every decision about who may do what is made here
//! or in the modules it uses.

use parking_lot::{Mutex, MutexGuard};
use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{
    AccessEntry, Action, Actions, Principal, ScopeRequest, Via, Visibility, catalog_allowed,
    repository_actions, validate_repository_name,
};
use super::accounts::{Account, AccountUpdate, AccountView, NewAccount};
use super::clock::Clock;
use super::content::{ContentStore, UploadLimits};
use super::error::{FORBIDDEN_WITH_PAT, INCORRECT_CREDENTIALS, StateError, StateResult};
use super::faults::Faults;
use super::journal::Journal;
use super::pats::{CreatedPat, NewPat, PatUpdate, PatView};
use super::seed::Seed;
use super::sessions::{GrantKind, Holder, Sessions};
use super::totp;

mod content_ops;

/// The registry's state: accounts with their tokens, declared repositories, content, issued
/// bearer secrets, the clock, the journal and injected faults.
#[derive(Debug)]
pub struct Registry {
    seed: Seed,
    upload_limits: UploadLimits,
    inner: Mutex<Inner>,
    content: Mutex<ContentStore>,
    clock: Clock,
    journal: Journal,
    faults: Faults,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: BTreeMap<String, Account>,
    repositories: BTreeMap<String, Visibility>,
    sessions: Sessions,
}

/// The credentials presented to the token endpoint.
#[derive(Debug, Clone)]
pub enum GrantCredentials {
    /// No credentials: public pulls only.
    Anonymous,
    /// Username and password or PAT (Basic auth, or `grant_type=password`).
    Password {
        /// Account name.
        username: String,
        /// Password or PAT secret.
        secret: String,
    },
    /// A refresh token (`grant_type=refresh_token`), i.e. docker's identity token.
    IdentityToken(String),
}

/// A token request, as the token endpoint received it.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    /// Who asks.
    pub credentials: GrantCredentials,
    /// What it asks for.
    pub scopes: Vec<ScopeRequest>,
    /// Whether a refresh token was asked for (`offline_token=true` / `access_type=offline`).
    pub offline: bool,
}

/// What the token endpoint grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The authenticated principal (`None` for anonymous).
    pub principal: Option<Principal>,
    /// Granted access: the intersection of what was asked and what is allowed.
    pub access: Vec<AccessEntry>,
    /// The refresh (identity) token to return, when offline access was asked.
    pub identity_token: Option<String>,
}

impl Grant {
    /// The granted scopes as one space-separated string (`None` when nothing was granted).
    pub fn scope_string(&self) -> Option<String> {
        let scopes: Vec<String> = self.access.iter().map(AccessEntry::scope_string).collect();
        (!scopes.is_empty()).then(|| scopes.join(" "))
    }
}

/// Outcome of a Hub `POST /v2/users/login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubLogin {
    /// Logged in: the session token.
    Session(String),
    /// The account has two-factor on: send this token and a TOTP code to `/v2/users/2fa-login`.
    SecondFactorRequired(String),
}

fn unknown_user(username: &str) -> StateError {
    StateError::NotFound(format!("no user {username}"))
}

/// The 401 for a session, identity or login token that is unknown, expired or revoked.
fn invalid_or_expired(what: &str) -> StateError {
    StateError::Unauthorized(format!("invalid or expired {what}"))
}

impl Registry {
    /// A registry holding `seed`, with the default [`UploadLimits`].
    pub fn new(seed: Seed) -> StateResult<Registry> {
        Self::with_upload_limits(seed, UploadLimits::default())
    }

    /// A registry holding `seed` whose upload sessions obey `upload_limits`.
    pub fn with_upload_limits(seed: Seed, upload_limits: UploadLimits) -> StateResult<Registry> {
        let clock = Clock::default();
        let inner = Self::seeded(&seed, clock.now())?;
        Ok(Registry {
            seed,
            upload_limits,
            inner: Mutex::new(inner),
            content: Mutex::new(ContentStore::new(upload_limits)),
            clock,
            journal: Journal::default(),
            faults: Faults::default(),
        })
    }

    fn seeded(seed: &Seed, now: OffsetDateTime) -> StateResult<Inner> {
        let mut inner = Inner::default();
        for user in &seed.users {
            if inner.accounts.contains_key(&user.username) {
                return Err(StateError::Conflict(format!(
                    "seed declares user {} twice",
                    user.username
                )));
            }
            let account = Account::new(user.clone())
                .map_err(|e| StateError::BadRequest(format!("seed user {}: {e}", user.username)))?;
            inner.accounts.insert(user.username.clone(), account);
        }
        for token in &seed.tokens {
            let account = inner.accounts.get_mut(&token.user).ok_or_else(|| {
                StateError::BadRequest(format!(
                    "seed token {:?}: no user {}",
                    token.label, token.user
                ))
            })?;
            let new = NewPat {
                label: token.label.clone(),
                scopes: token.scopes.clone(),
                expires_at: token.expires_at.time(),
                generated_by: token.origin,
                secret: Some(token.secret.clone()),
                uuid: token.uuid,
                is_active: token.active,
                last_used: token.last_used,
                created_at: token.created_at,
            };
            account.create_token(new, now).map_err(|e| {
                StateError::BadRequest(format!("seed token {:?}: {e}", token.label))
            })?;
        }
        for repository in &seed.repositories {
            validate_repository_name(&repository.name)?;
            inner
                .repositories
                .insert(repository.name.clone(), repository.visibility);
        }
        Ok(inner)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock()
    }

    /// Back to the start-up seed: accounts, tokens, repositories, content, sessions, clock,
    /// journal and faults.
    pub fn reset(&self) -> StateResult<()> {
        self.clock.reset();
        let fresh = Self::seeded(&self.seed, self.clock.now())?;
        let mut content = self.content.lock();
        *content = ContentStore::new(self.upload_limits);
        *self.lock() = fresh;
        drop(content);
        self.journal.clear();
        self.faults.clear();
        Ok(())
    }

    /// The registry clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The request journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The injected faults.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The current registry time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Runs `f` on the accounts and the sessions together, under one lock.
    fn with_accounts_and_sessions<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Account>, &mut Sessions) -> T,
    ) -> T {
        let mut inner = self.lock();
        let Inner {
            accounts, sessions, ..
        } = &mut *inner;
        f(accounts, sessions)
    }

    fn with_account<T>(
        &self,
        username: &str,
        f: impl FnOnce(&mut Account, &mut Sessions) -> StateResult<T>,
    ) -> StateResult<T> {
        self.with_accounts_and_sessions(|accounts, sessions| {
            let account = accounts
                .get_mut(username)
                .ok_or_else(|| unknown_user(username))?;
            f(account, sessions)
        })
    }

    // ----- accounts -----

    /// Creates an account (409 if it exists).
    pub fn create_user(&self, new: NewAccount) -> StateResult<AccountView> {
        let account = Account::new(new)?;
        let mut inner = self.lock();
        if inner.accounts.contains_key(&account.username) {
            return Err(StateError::Conflict(format!(
                "user {} already exists",
                account.username
            )));
        }
        let view = account.view();
        inner.accounts.insert(account.username.clone(), account);
        Ok(view)
    }

    /// Changes an account's password or two-factor setting. A new password ends the account's
    /// password-based sessions and identity tokens.
    pub fn update_user(&self, username: &str, update: AccountUpdate) -> StateResult<AccountView> {
        let password_changed = update.password.is_some();
        self.with_account(username, |account, sessions| {
            let view = account.apply(update)?;
            if password_changed {
                sessions.revoke_user(username);
            }
            Ok(view)
        })
    }

    /// An account's view.
    pub fn user(&self, username: &str) -> StateResult<AccountView> {
        self.with_account(username, |account, _| Ok(account.view()))
    }

    // ----- personal access tokens -----

    /// Creates a token for `username`; the answer holds the secret, shown only here.
    pub fn create_token(&self, username: &str, new: NewPat) -> StateResult<CreatedPat> {
        let now = self.now();
        self.with_account(username, |account, _| account.create_token(new, now))
    }

    /// Every token of `username`, without secrets.
    pub fn tokens(&self, username: &str) -> StateResult<Vec<PatView>> {
        self.with_account(username, |account, _| Ok(account.token_views()))
    }

    /// One token of `username`, without its secret.
    pub fn token(&self, username: &str, uuid: Uuid) -> StateResult<PatView> {
        self.with_account(username, |account, _| Ok(account.token(uuid)?.view.clone()))
    }

    /// Changes a token's label or active flag; deactivation ends what was minted through it.
    pub fn update_token(
        &self,
        username: &str,
        uuid: Uuid,
        update: PatUpdate,
    ) -> StateResult<PatView> {
        self.with_account(username, |account, sessions| {
            let view = account.update_token(uuid, update)?;
            if !view.is_active {
                sessions.revoke_pat(uuid);
            }
            Ok(view)
        })
    }

    /// Deletes a token and everything minted through it.
    pub fn delete_token(&self, username: &str, uuid: Uuid) -> StateResult<()> {
        self.with_account(username, |account, sessions| {
            account.delete_token(uuid)?;
            sessions.revoke_pat(uuid);
            Ok(())
        })
    }

    // ----- repositories -----

    /// Declares a repository, or changes the visibility of an existing one.
    pub fn add_repository(&self, name: &str, visibility: Visibility) -> StateResult<()> {
        validate_repository_name(name)?;
        self.lock()
            .repositories
            .insert(name.to_string(), visibility);
        Ok(())
    }

    /// Visibility of `name`, `None` if the repository does not exist.
    pub fn visibility(&self, name: &str) -> Option<Visibility> {
        self.lock().repositories.get(name).copied()
    }

    /// Every repository, declared or pushed, with its visibility.
    pub fn repositories(&self) -> Vec<(String, Visibility)> {
        self.lock()
            .repositories
            .iter()
            .map(|(name, visibility)| (name.clone(), *visibility))
            .collect()
    }

    /// The limits upload sessions obey.
    pub fn upload_limits(&self) -> UploadLimits {
        self.upload_limits
    }

    /// Records that content was pushed to `name`: the repository exists from now on (private
    /// unless declared otherwise). Called with the content lock held (content, then accounts).
    fn note_push(&self, name: &str) {
        self.lock()
            .repositories
            .entry(name.to_string())
            .or_insert(Visibility::Private);
    }

    // ----- authentication and authorization -----

    /// A registry login (Basic auth or token endpoint) with a password or PAT.
    pub fn login(&self, username: &str, secret: &str) -> StateResult<Principal> {
        let now = self.now();
        let mut inner = self.lock();
        match inner.accounts.get_mut(username) {
            Some(account) => account.login(secret, now),
            None => Err(StateError::Unauthorized(INCORRECT_CREDENTIALS.into())),
        }
    }

    /// What `principal` may do on `repository`.
    pub fn allowed_actions(&self, principal: Option<&Principal>, repository: &str) -> Actions {
        repository_actions(principal, repository, self.visibility(repository))
    }

    /// Decides a token request: authenticates, intersects the asked scopes with what the
    /// principal may do, and mints an identity token when offline access was asked.
    pub fn grant(&self, request: GrantRequest) -> StateResult<Grant> {
        let now = self.now();
        let (principal, identity_token) = match request.credentials {
            GrantCredentials::Anonymous => (None, None),
            GrantCredentials::Password { username, secret } => {
                let principal = self.login(&username, &secret)?;
                let identity = request.offline.then(|| {
                    let holder = Holder {
                        username: principal.username.clone(),
                        pat: principal.pat_uuid(),
                    };
                    self.lock().sessions.mint(GrantKind::Identity, holder, now)
                });
                (Some(principal), identity)
            }
            GrantCredentials::IdentityToken(token) => {
                let principal = self.revalidate(GrantKind::Identity, &token, "refresh token")?;
                (Some(principal), Some(token))
            }
        };
        let access = self.granted_access(principal.as_ref(), &request.scopes);
        Ok(Grant {
            principal,
            access,
            identity_token,
        })
    }

    fn revalidate(&self, kind: GrantKind, secret: &str, what: &str) -> StateResult<Principal> {
        let now = self.now();
        let mut inner = self.lock();
        let holder = inner
            .sessions
            .find(kind, secret, now)
            .ok_or_else(|| invalid_or_expired(what))?;
        let account = inner
            .accounts
            .get_mut(&holder.username)
            .ok_or_else(|| invalid_or_expired(what))?;
        account.revalidate(holder.pat, now, kind == GrantKind::Session)
    }

    fn granted_access(
        &self,
        principal: Option<&Principal>,
        scopes: &[ScopeRequest],
    ) -> Vec<AccessEntry> {
        let mut repositories: BTreeMap<String, Actions> = BTreeMap::new();
        let mut catalog = false;
        for scope in scopes {
            let everything = scope.actions.iter().any(|a| a == "*");
            match (scope.resource_type.as_str(), scope.name.as_str()) {
                ("repository", name) => {
                    let known: Vec<Action> = scope
                        .actions
                        .iter()
                        .filter_map(|a| Action::parse(a))
                        .collect();
                    let asked = if everything {
                        Actions::ALL
                    } else {
                        Actions::of(&known)
                    };
                    let granted = asked.intersection(self.allowed_actions(principal, name));
                    let entry = repositories.entry(name.to_string()).or_default();
                    *entry = entry.union(granted);
                }
                ("registry", "catalog") => catalog |= everything && catalog_allowed(principal),
                _ => {}
            }
        }
        let catalog = catalog.then(|| AccessEntry {
            resource_type: "registry".into(),
            name: "catalog".into(),
            actions: vec!["*".into()],
        });
        repositories
            .into_iter()
            .filter(|(_, actions)| !actions.is_empty())
            .map(|(name, actions)| AccessEntry {
                resource_type: "repository".into(),
                name,
                actions: actions.names(),
            })
            .chain(catalog)
            .collect()
    }

    // ----- Hub-style management API -----

    /// Hub `POST /v2/users/login`: a PAT logs in directly (its session cannot administer the
    /// account); a password of a two-factor account needs a second step.
    pub fn hub_login(&self, username: &str, secret: &str) -> StateResult<HubLogin> {
        let now = self.now();
        self.with_accounts_and_sessions(|accounts, sessions| {
            let account = accounts
                .get_mut(username)
                .ok_or_else(|| StateError::Unauthorized(INCORRECT_CREDENTIALS.into()))?;
            let holder = |pat| Holder {
                username: username.to_string(),
                pat,
            };
            if account.two_factor && account.password_matches(secret) {
                let pending = sessions.mint(GrantKind::SecondFactor, holder(None), now);
                return Ok(HubLogin::SecondFactorRequired(pending));
            }
            let principal = account.login(secret, now)?;
            let session = sessions.mint(GrantKind::Session, holder(principal.pat_uuid()), now);
            Ok(HubLogin::Session(session))
        })
    }

    /// Hub `POST /v2/users/2fa-login`: the pending login token plus a TOTP code give a session.
    pub fn hub_second_factor(&self, login_2fa_token: &str, code: &str) -> StateResult<String> {
        let now = self.now();
        self.with_accounts_and_sessions(|accounts, sessions| {
            let holder = sessions
                .find(GrantKind::SecondFactor, login_2fa_token, now)
                .ok_or_else(|| invalid_or_expired("login_2fa_token"))?;
            let secret = accounts
                .get(&holder.username)
                .and_then(|a| a.totp_secret.clone())
                .ok_or_else(|| invalid_or_expired("login_2fa_token"))?;
            if !totp::verify(&secret, code, now.unix_timestamp()) {
                return Err(StateError::Unauthorized(
                    "incorrect authentication code".into(),
                ));
            }
            sessions.revoke(login_2fa_token);
            Ok(sessions.mint(GrantKind::Session, holder, now))
        })
    }

    /// The principal behind a Hub session token.
    pub fn hub_session(&self, session: &str) -> StateResult<Principal> {
        self.revalidate(GrantKind::Session, session, "session token")
    }

    /// Account administration rights of `principal`: refused (403) for a PAT.
    pub fn account_admin(&self, principal: &Principal) -> StateResult<AccountAdmin<'_>> {
        match principal.via {
            Via::Password => Ok(AccountAdmin {
                registry: self,
                username: principal.username.clone(),
            }),
            Via::Pat { .. } => Err(StateError::Forbidden(FORBIDDEN_WITH_PAT.into())),
        }
    }
}

/// Token management on one's own account, as Hub allows it to a password session.
#[derive(Debug)]
pub struct AccountAdmin<'a> {
    registry: &'a Registry,
    username: String,
}

impl AccountAdmin<'_> {
    /// The account administered.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Creates a manual token; its expiry, if any, must lie in the future.
    pub fn create_token(&self, new: NewPat) -> StateResult<CreatedPat> {
        if new.expires_at.is_some_and(|at| at <= self.registry.now()) {
            return Err(StateError::BadRequest(
                "expires_at must be in the future".into(),
            ));
        }
        self.registry.create_token(&self.username, new)
    }

    /// Every token of the account.
    pub fn tokens(&self) -> StateResult<Vec<PatView>> {
        self.registry.tokens(&self.username)
    }

    /// One token of the account.
    pub fn token(&self, uuid: Uuid) -> StateResult<PatView> {
        self.registry.token(&self.username, uuid)
    }

    /// Changes a token's label or active flag.
    pub fn update_token(&self, uuid: Uuid, update: PatUpdate) -> StateResult<PatView> {
        self.registry.update_token(&self.username, uuid, update)
    }

    /// Deletes a token.
    pub fn delete_token(&self, uuid: Uuid) -> StateResult<()> {
        self.registry.delete_token(&self.username, uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::access::{PatScope, parse_scopes};
    use crate::state::error::PASSWORD_REFUSED_FOR_TWO_FACTOR;
    use crate::state::pats::Origin;
    use crate::state::seed::{Expiry, SeedRepository, SeedToken, SeedUser};
    use time::Duration;

    const SECRET_READ: &str = "fkr_pat_alice_read_00000000";
    const SECRET_WRITE: &str = "fkr_pat_alice_write_0000000";

    fn seed() -> Seed {
        let token = |secret: &str, scope| SeedToken {
            user: "alice".into(),
            label: secret.into(),
            secret: secret.into(),
            scopes: vec![scope],
            expires_at: Expiry::Never,
            active: true,
            origin: Origin::Manual,
            uuid: None,
            created_at: None,
            last_used: None,
        };
        Seed {
            users: vec![
                SeedUser {
                    username: "alice".into(),
                    password: "alice-pw".into(),
                    two_factor: false,
                    totp_secret: None,
                },
                SeedUser {
                    username: "bob".into(),
                    password: "bob-pw".into(),
                    two_factor: true,
                    totp_secret: Some("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into()),
                },
            ],
            tokens: vec![
                token(SECRET_READ, PatScope::Read),
                token(SECRET_WRITE, PatScope::Write),
            ],
            repositories: vec![SeedRepository {
                name: "bob/public".into(),
                visibility: Visibility::Public,
            }],
        }
    }

    fn password(username: &str, secret: &str) -> GrantCredentials {
        GrantCredentials::Password {
            username: username.into(),
            secret: secret.into(),
        }
    }

    fn ask(credentials: GrantCredentials, scopes: &[&str], offline: bool) -> StateResult<Grant> {
        let registry = Registry::new(seed()).unwrap();
        registry.grant(GrantRequest {
            credentials,
            scopes: parse_scopes(scopes.iter().copied()).unwrap(),
            offline,
        })
    }

    #[test]
    fn grant_is_the_intersection_of_asked_and_allowed() {
        let grant = ask(
            password("alice", SECRET_READ),
            &[
                "repository:alice/app:pull,push,delete",
                "repository:bob/public:*",
                "repository:bob/private:pull",
            ],
            false,
        )
        .unwrap();
        assert_eq!(
            grant.scope_string().unwrap(),
            "repository:alice/app:pull repository:bob/public:pull"
        );
        let grant = ask(
            password("alice", SECRET_WRITE),
            &["repository:alice/app:*"],
            false,
        )
        .unwrap();
        assert_eq!(grant.access[0].actions, vec!["pull", "push"]);
        let grant = ask(
            password("alice", "alice-pw"),
            &["repository:alice/app:*"],
            false,
        )
        .unwrap();
        assert_eq!(grant.access[0].actions, vec!["pull", "push", "delete"]);
    }

    #[test]
    fn anonymous_gets_public_pulls_and_no_catalog() {
        let grant = ask(
            GrantCredentials::Anonymous,
            &["repository:bob/public:pull,push", "registry:catalog:*"],
            true,
        )
        .unwrap();
        assert_eq!(grant.scope_string().unwrap(), "repository:bob/public:pull");
        assert_eq!(grant.identity_token, None);
        let grant = ask(
            password("alice", "alice-pw"),
            &["registry:catalog:*"],
            false,
        )
        .unwrap();
        assert_eq!(grant.scope_string().unwrap(), "registry:catalog:*");
    }

    #[test]
    fn two_factor_password_is_refused_with_docker_hub_message() {
        let err = ask(password("bob", "bob-pw"), &[], true).unwrap_err();
        assert_eq!(
            err,
            StateError::Unauthorized(PASSWORD_REFUSED_FOR_TWO_FACTOR.into())
        );
        let err = ask(password("nobody", "x"), &[], true).unwrap_err();
        assert_eq!(err.message(), INCORRECT_CREDENTIALS);
    }

    #[test]
    fn identity_token_dies_with_its_pat() {
        let registry = Registry::new(seed()).unwrap();
        let pat = registry
            .create_token("bob", NewPat::manual("cli", vec![PatScope::Admin]))
            .unwrap();
        let login = |credentials| {
            registry.grant(GrantRequest {
                credentials,
                scopes: vec![],
                offline: true,
            })
        };
        let identity = login(password("bob", &pat.token))
            .unwrap()
            .identity_token
            .unwrap();
        let refreshed = login(GrantCredentials::IdentityToken(identity.clone())).unwrap();
        assert_eq!(refreshed.principal.unwrap().pat_uuid(), Some(pat.view.uuid));
        let off = PatUpdate {
            is_active: Some(false),
            ..PatUpdate::default()
        };
        registry.update_token("bob", pat.view.uuid, off).unwrap();
        assert!(login(GrantCredentials::IdentityToken(identity)).is_err());
        let on = PatUpdate {
            is_active: Some(true),
            ..PatUpdate::default()
        };
        registry.update_token("bob", pat.view.uuid, on).unwrap();
        let identity = login(password("bob", &pat.token))
            .unwrap()
            .identity_token
            .unwrap();
        registry.clock().advance(Duration::days(1)).unwrap();
        assert!(login(GrantCredentials::IdentityToken(identity.clone())).is_ok());
        registry.delete_token("bob", pat.view.uuid).unwrap();
        assert!(login(GrantCredentials::IdentityToken(identity)).is_err());
    }

    #[test]
    fn expired_pat_identity_token_is_refused_naming_expiry() {
        let registry = Registry::new(seed()).unwrap();
        let mut new = NewPat::manual("short", vec![PatScope::Read]);
        new.expires_at = Some(registry.now() + Duration::hours(1));
        let pat = registry.create_token("alice", new).unwrap();
        let identity = registry
            .grant(GrantRequest {
                credentials: password("alice", &pat.token),
                scopes: vec![],
                offline: true,
            })
            .unwrap()
            .identity_token
            .unwrap();
        registry.clock().advance(Duration::hours(2)).unwrap();
        let err = registry
            .grant(GrantRequest {
                credentials: GrantCredentials::IdentityToken(identity),
                scopes: vec![],
                offline: true,
            })
            .unwrap_err();
        assert!(err.message().contains("expired"), "{err}");
    }

    #[test]
    fn hub_login_flows() {
        let registry = Registry::new(seed()).unwrap();
        let HubLogin::Session(session) = registry.hub_login("alice", "alice-pw").unwrap() else {
            panic!("alice has no 2FA");
        };
        let principal = registry.hub_session(&session).unwrap();
        assert!(registry.account_admin(&principal).is_ok());
        let HubLogin::SecondFactorRequired(pending) = registry.hub_login("bob", "bob-pw").unwrap()
        else {
            panic!("bob has 2FA");
        };
        assert!(registry.hub_second_factor(&pending, "000000x").is_err());
        let code = totp::code_at(
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            registry.now().unix_timestamp(),
        )
        .unwrap();
        let session = registry.hub_second_factor(&pending, &code).unwrap();
        assert_eq!(registry.hub_session(&session).unwrap().username, "bob");
        assert!(
            registry.hub_second_factor(&pending, &code).is_err(),
            "pending login is single-use"
        );
    }

    #[test]
    fn pat_session_cannot_administer_the_account() {
        let registry = Registry::new(seed()).unwrap();
        let HubLogin::Session(session) = registry.hub_login("alice", SECRET_WRITE).unwrap() else {
            panic!("a PAT logs in directly");
        };
        let principal = registry.hub_session(&session).unwrap();
        let err = registry.account_admin(&principal).unwrap_err();
        assert_eq!(err, StateError::Forbidden(FORBIDDEN_WITH_PAT.into()));
    }

    #[test]
    fn hub_token_creation_needs_a_future_expiry() {
        let registry = Registry::new(seed()).unwrap();
        let alice = registry.login("alice", "alice-pw").unwrap();
        let admin = registry.account_admin(&alice).unwrap();
        let mut new = NewPat::manual("x", vec![PatScope::Read]);
        new.expires_at = Some(registry.now() - Duration::seconds(1));
        assert!(admin.create_token(new.clone()).is_err());
        new.expires_at = Some(registry.now() + Duration::days(30));
        let created = admin.create_token(new).unwrap();
        assert_eq!(admin.token(created.view.uuid).unwrap(), created.view);
        assert_eq!(admin.tokens().unwrap().len(), 3);
    }

    #[test]
    fn reset_goes_back_to_the_seed() {
        let registry = Registry::new(seed()).unwrap();
        registry
            .create_user(NewAccount {
                username: "carol".into(),
                password: "pw".into(),
                two_factor: false,
                totp_secret: None,
            })
            .unwrap();
        registry.note_push("alice/app");
        registry.clock().advance(Duration::days(10)).unwrap();
        registry.reset().unwrap();
        assert!(registry.user("carol").is_err());
        assert_eq!(registry.visibility("alice/app"), None);
        assert!((registry.now() - OffsetDateTime::now_utc()).abs() < Duration::seconds(5));
    }

    #[test]
    fn seed_errors_name_the_problem() {
        let mut bad = seed();
        bad.tokens[0].user = "nobody".into();
        let err = Registry::new(bad).unwrap_err();
        assert!(err.message().contains("no user nobody"), "{err}");
    }

    #[test]
    fn password_change_ends_password_identity_tokens() {
        let registry = Registry::new(seed()).unwrap();
        let identity = registry
            .grant(GrantRequest {
                credentials: password("alice", "alice-pw"),
                scopes: vec![],
                offline: true,
            })
            .unwrap()
            .identity_token
            .unwrap();
        registry
            .update_user(
                "alice",
                AccountUpdate {
                    password: Some("new-pw".into()),
                    two_factor: None,
                },
            )
            .unwrap();
        let refresh = registry.grant(GrantRequest {
            credentials: GrantCredentials::IdentityToken(identity),
            scopes: vec![],
            offline: true,
        });
        assert!(refresh.is_err());
    }
}
