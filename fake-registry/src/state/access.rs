//! Who may do what: scope strings, actions, PAT scopes, repository visibility, and the rule that
//! turns a principal plus a repository into the set of allowed actions.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use super::error::{NameError, ScopeError, ScopeProblem};

/// An action on a repository, as named in registry scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Read manifests, blobs and tags.
    Pull,
    /// Upload blobs and manifests.
    Push,
    /// Delete manifests and blobs.
    Delete,
}

impl Action {
    /// Every action, in scope order.
    pub const ALL: [Action; 3] = [Action::Pull, Action::Push, Action::Delete];

    /// The scope spelling of the action.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }

    /// Parses a scope action; unknown actions give `None`.
    pub fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// A set of [`Action`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actions(u8);

impl Actions {
    /// No action.
    pub const NONE: Actions = Actions(0);
    /// Pull only.
    pub const PULL: Actions = Actions(1);
    /// Pull and push.
    pub const PULL_PUSH: Actions = Actions(1 | 2);
    /// Pull, push and delete.
    pub const ALL: Actions = Actions(1 | 2 | 4);

    fn bit(action: Action) -> u8 {
        1 << action as u8
    }

    /// The set holding exactly `actions`.
    pub fn of(actions: &[Action]) -> Actions {
        Actions(actions.iter().fold(0, |acc, a| acc | Self::bit(*a)))
    }

    /// Whether `action` is in the set.
    pub fn contains(self, action: Action) -> bool {
        self.0 & Self::bit(action) != 0
    }

    /// Whether every action of `other` is in the set.
    pub fn contains_all(self, other: Actions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Actions in either set.
    pub fn union(self, other: Actions) -> Actions {
        Actions(self.0 | other.0)
    }

    /// Actions in both sets.
    pub fn intersection(self, other: Actions) -> Actions {
        Actions(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The actions, in scope order.
    pub fn to_vec(self) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| self.contains(*a))
            .collect()
    }

    /// The scope spellings of the actions, in scope order.
    pub fn names(self) -> Vec<String> {
        self.to_vec()
            .into_iter()
            .map(|a| a.as_str().to_string())
            .collect()
    }
}

/// Whether a repository can be pulled by anyone or only by those with rights on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone, even anonymous clients, may pull.
    Public,
    /// Only the owner (and PATs with the right scope) may pull.
    #[default]
    Private,
}

/// The scope of a personal access token, as Docker Hub names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PatScope {
    /// Read, write and delete.
    #[serde(rename = "repo:admin")]
    Admin,
    /// Read and write, no delete.
    #[serde(rename = "repo:write")]
    Write,
    /// Read only.
    #[serde(rename = "repo:read")]
    Read,
    /// Read public repositories only.
    #[serde(rename = "repo:public_read")]
    PublicRead,
}

impl PatScope {
    /// Every PAT scope.
    pub const ALL: [PatScope; 4] = [
        PatScope::Admin,
        PatScope::Write,
        PatScope::Read,
        PatScope::PublicRead,
    ];

    /// The Hub spelling (`repo:read`...).
    pub fn as_str(self) -> &'static str {
        match self {
            PatScope::Admin => "repo:admin",
            PatScope::Write => "repo:write",
            PatScope::Read => "repo:read",
            PatScope::PublicRead => "repo:public_read",
        }
    }

    /// Parses the Hub spelling.
    pub fn parse(text: &str) -> Option<PatScope> {
        PatScope::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// What this scope allows on a repository the PAT's owner owns.
    fn on_owned(self) -> Actions {
        match self {
            PatScope::Admin => Actions::ALL,
            PatScope::Write => Actions::PULL_PUSH,
            PatScope::Read => Actions::PULL,
            PatScope::PublicRead => Actions::NONE,
        }
    }
}

impl fmt::Display for PatScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a principal proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The account password: full rights of the account.
    Password,
    /// A personal access token: rights limited by its scopes.
    Pat {
        /// The token's id.
        uuid: Uuid,
        /// The token's scopes.
        scopes: Vec<PatScope>,
    },
}

/// An authenticated user and how it authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The account name.
    pub username: String,
    /// The credential that was used.
    pub via: Via,
}

impl Principal {
    /// The PAT's id when the principal authenticated with a PAT.
    pub fn pat_uuid(&self) -> Option<Uuid> {
        match &self.via {
            Via::Pat { uuid, .. } => Some(*uuid),
            Via::Password => None,
        }
    }
}

/// The account that owns a repository: its first path component (a user owns `username/*`).
pub fn owner_of(repository: &str) -> Option<&str> {
    repository.split_once('/').map(|(owner, _)| owner)
}

/// What `principal` (or an anonymous client, when `None`) may do on `repository`, whose
/// visibility is `visibility` (`None` when the repository does not exist yet).
pub fn repository_actions(
    principal: Option<&Principal>,
    repository: &str,
    visibility: Option<Visibility>,
) -> Actions {
    let public = visibility == Some(Visibility::Public);
    let public_pull = if public { Actions::PULL } else { Actions::NONE };
    let Some(principal) = principal else {
        return public_pull;
    };
    let owned = owner_of(repository) == Some(principal.username.as_str());
    match &principal.via {
        Via::Password if owned => Actions::ALL,
        Via::Password => public_pull,
        Via::Pat { scopes, .. } => scopes.iter().fold(Actions::NONE, |acc, scope| {
            let on_owned = if owned {
                scope.on_owned()
            } else {
                Actions::NONE
            };
            acc.union(on_owned).union(public_pull)
        }),
    }
}

/// Whether `principal` may list the catalog: any authenticated principal may.
pub fn catalog_allowed(principal: Option<&Principal>) -> bool {
    principal.is_some()
}

/// One entry of a token's `access` claim: `{"type","name","actions"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// `repository` or `registry`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The repository name, or `catalog`.
    pub name: String,
    /// Granted actions (`pull`, `push`, `delete`, `*`).
    pub actions: Vec<String>,
}

impl AccessEntry {
    /// Whether this entry grants `action` on the resource `resource_type:name`.
    pub fn allows(&self, resource_type: &str, name: &str, action: &str) -> bool {
        self.resource_type == resource_type
            && self.name == name
            && self.actions.iter().any(|a| a == action || a == "*")
    }

    /// The scope string of this entry (`repository:alice/app:pull,push`).
    pub fn scope_string(&self) -> String {
        format!(
            "{}:{}:{}",
            self.resource_type,
            self.name,
            self.actions.join(",")
        )
    }
}

/// A parsed scope request, `type:name:action[,action...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRequest {
    /// Resource type, e.g. `repository` (a `(class)` suffix is dropped).
    pub resource_type: String,
    /// Resource name, e.g. `alice/app`.
    pub name: String,
    /// Requested actions as written (unknown ones are simply never granted).
    pub actions: Vec<String>,
}

/// Longest scope string accepted.
pub const MAX_SCOPE_LEN: usize = 1024;

/// Parses one scope string. The name may contain `:` (the type ends at the first `:`, the
/// actions start after the last one).
pub fn parse_scope(scope: &str) -> Result<ScopeRequest, ScopeError> {
    if scope.len() > MAX_SCOPE_LEN {
        return Err(ScopeError::TooLong);
    }
    let invalid = |problem| ScopeError::Invalid {
        scope: scope.to_string(),
        problem,
    };
    let (resource_type, rest) = scope
        .split_once(':')
        .ok_or_else(|| invalid(ScopeProblem::Shape))?;
    let (name, actions) = rest
        .rsplit_once(':')
        .ok_or_else(|| invalid(ScopeProblem::Shape))?;
    let resource_type =
        strip_resource_class(resource_type).ok_or_else(|| invalid(ScopeProblem::ResourceType))?;
    if name.is_empty() {
        return Err(invalid(ScopeProblem::EmptyName));
    }
    if resource_type == "repository" {
        validate_repository_name(name).map_err(|e| invalid(ScopeProblem::RepositoryName(e)))?;
    } else if !name.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(ScopeProblem::ResourceName));
    }
    let actions: Vec<String> = actions.split(',').map(str::to_string).collect();
    let action_ok = |a: &String| {
        a == "*" || (!a.is_empty() && a.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    };
    if !actions.iter().all(action_ok) {
        return Err(invalid(ScopeProblem::Actions));
    }
    Ok(ScopeRequest {
        resource_type: resource_type.to_string(),
        name: name.to_string(),
        actions,
    })
}

fn strip_resource_class(resource_type: &str) -> Option<&str> {
    let base = match resource_type.split_once('(') {
        Some((base, class)) => {
            let class = class.strip_suffix(')')?;
            if class.is_empty() || !class.chars().all(|c| c.is_ascii_alphanumeric()) {
                return None;
            }
            base
        }
        None => resource_type,
    };
    (!base.is_empty()
        && base
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    .then_some(base)
}

/// Parses every scope in a list of `scope` parameters, each of which may hold several scopes
/// separated by spaces.
pub fn parse_scopes<'a>(
    params: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<ScopeRequest>, ScopeError> {
    params
        .into_iter()
        .flat_map(|p| p.split(' '))
        .filter(|s| !s.is_empty())
        .map(parse_scope)
        .collect()
}

/// Longest repository name accepted (distribution's limit).
pub const MAX_REPOSITORY_NAME_LEN: usize = 255;

/// Checks a repository name against distribution's grammar: lower-case alphanumeric path
/// components separated by `/`, each made of alphanumeric runs joined by `.`, `_`, `__` or
/// dashes.
pub fn validate_repository_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_REPOSITORY_NAME_LEN {
        return Err(NameError::TooLong);
    }
    if !name.split('/').all(valid_path_component) {
        return Err(NameError::Invalid(name.to_string()));
    }
    Ok(())
}

/// Whether `component` is alphanumeric runs joined by single separators: the text between
/// runs (`split` yields it, empty before the first and after the last run when the component
/// starts and ends with one) must be nothing, `.`, `_`, `__` or dashes.
fn valid_path_component(component: &str) -> bool {
    let separators: Vec<&str> = component
        .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        .collect();
    let separator_ok = |s: &&str| matches!(*s, "." | "_" | "__") || s.chars().all(|c| c == '-');
    !component.is_empty()
        && separators.first().is_some_and(|s| s.is_empty())
        && separators.last().is_some_and(|s| s.is_empty())
        && separators.iter().all(separator_ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(name: &str) -> Principal {
        Principal {
            username: name.into(),
            via: Via::Password,
        }
    }

    fn pat(name: &str, scope: PatScope) -> Principal {
        Principal {
            username: name.into(),
            via: Via::Pat {
                uuid: Uuid::nil(),
                scopes: vec![scope],
            },
        }
    }

    #[test]
    fn password_owner_has_everything_on_own_namespace() {
        let alice = user("alice");
        assert_eq!(
            repository_actions(Some(&alice), "alice/app", Some(Visibility::Private)),
            Actions::ALL
        );
        assert_eq!(
            repository_actions(Some(&alice), "alice/new", None),
            Actions::ALL
        );
        assert_eq!(
            repository_actions(Some(&alice), "bob/app", Some(Visibility::Private)),
            Actions::NONE
        );
        assert_eq!(
            repository_actions(Some(&alice), "bob/pub", Some(Visibility::Public)),
            Actions::PULL
        );
    }

    #[test]
    fn anonymous_pulls_public_only() {
        assert_eq!(
            repository_actions(None, "bob/pub", Some(Visibility::Public)),
            Actions::PULL
        );
        assert_eq!(
            repository_actions(None, "bob/app", Some(Visibility::Private)),
            Actions::NONE
        );
        assert_eq!(repository_actions(None, "bob/none", None), Actions::NONE);
    }

    #[test]
    fn pat_scopes_follow_docker_hub() {
        let own = |s| repository_actions(Some(&pat("alice", s)), "alice/app", None);
        assert_eq!(own(PatScope::Admin), Actions::ALL);
        assert_eq!(own(PatScope::Write), Actions::PULL_PUSH);
        assert_eq!(own(PatScope::Read), Actions::PULL);
        assert_eq!(own(PatScope::PublicRead), Actions::NONE);
        let own_public = |s| {
            repository_actions(
                Some(&pat("alice", s)),
                "alice/site",
                Some(Visibility::Public),
            )
        };
        assert_eq!(own_public(PatScope::PublicRead), Actions::PULL);
        assert_eq!(own_public(PatScope::Write), Actions::PULL_PUSH);
        let other_public =
            |s| repository_actions(Some(&pat("alice", s)), "bob/pub", Some(Visibility::Public));
        for scope in PatScope::ALL {
            assert_eq!(other_public(scope), Actions::PULL, "{scope}");
        }
    }

    #[test]
    fn parse_scope_accepts_the_common_forms() {
        let s = parse_scope("repository:alice/app:pull,push").unwrap();
        assert_eq!(s.resource_type, "repository");
        assert_eq!(s.name, "alice/app");
        assert_eq!(s.actions, vec!["pull", "push"]);
        let s = parse_scope("registry:catalog:*").unwrap();
        assert_eq!((s.name.as_str(), s.actions[0].as_str()), ("catalog", "*"));
        let s = parse_scope("repository(plugin):a/b:pull").unwrap();
        assert_eq!(s.resource_type, "repository");
        let s = parse_scope("repository:127.0.0.1:5000/a:pull");
        assert!(
            s.is_err(),
            "a name with a registry host and port is not a repository name"
        );
    }

    #[test]
    fn parse_scope_refuses_malformed() {
        for bad in [
            "",
            "repository",
            "repository:alice/app",
            "repository::pull",
            "repository:Alice/app:pull",
            "repository:alice/app:",
            "repository:alice/app:pull,",
            "Repo:alice:pull",
            "repository(:a:pull",
            "repository:a//b:pull",
        ] {
            assert!(parse_scope(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn parse_scopes_splits_on_spaces() {
        let scopes =
            parse_scopes(["repository:a:pull repository:b:push", "registry:catalog:*"]).unwrap();
        assert_eq!(scopes.len(), 3);
    }

    #[test]
    fn repository_names() {
        for ok in ["a", "alice/app", "a.b_c__d---e/f0", "library/busybox"] {
            assert!(validate_repository_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "A", "-a", "a-", "a..b", "a___b", "a/", "/a", "a b", "a:b",
        ] {
            assert!(validate_repository_name(bad).is_err(), "{bad}");
        }
        assert!(validate_repository_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn access_entry_matches_wildcards() {
        let entry = AccessEntry {
            resource_type: "repository".into(),
            name: "a/b".into(),
            actions: vec!["*".into()],
        };
        assert!(entry.allows("repository", "a/b", "delete"));
        assert!(!entry.allows("repository", "a/c", "pull"));
        assert_eq!(entry.scope_string(), "repository:a/b:*");
    }

    #[test]
    fn pat_scope_spellings_round_trip() {
        for scope in PatScope::ALL {
            assert_eq!(PatScope::parse(scope.as_str()), Some(scope));
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
        }
        assert_eq!(PatScope::parse("repo:everything"), None);
    }

    proptest! {
        #[test]
        fn parse_scope_never_panics(input in "\\PC{0,300}") {
            let _ = parse_scope(&input);
        }

        #[test]
        fn parse_scope_round_trips_valid_scopes(
            name in "[a-z0-9]{1,10}(/[a-z0-9]{1,10}){0,3}",
            actions in proptest::sample::subsequence(vec!["pull", "push", "delete", "*"], 1..4),
        ) {
            let text = format!("repository:{name}:{}", actions.join(","));
            let parsed = parse_scope(&text).unwrap();
            prop_assert_eq!(parsed.name, name);
            prop_assert_eq!(parsed.actions, actions);
        }

        #[test]
        fn repository_names_with_forbidden_characters_are_refused(
            prefix in "[a-z]{1,5}",
            bad in "[A-Z :@#?]",
        ) {
            let name = format!("{prefix}{bad}");
            prop_assert!(validate_repository_name(&name).is_err());
        }
    }
}
