//! Seed files: the users, personal access tokens and repositories a registry starts with
//! (TOML, see `fixtures/registry/default.toml`).

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::access::{PatScope, Visibility};
use super::accounts::NewAccount;
use super::error::ExpiryError;
use super::pats::Origin;

/// The whole seed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Accounts.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Personal access tokens, each naming its account.
    #[serde(default)]
    pub tokens: Vec<SeedToken>,
    /// Declared repositories (others come into being, private, on first push).
    #[serde(default)]
    pub repositories: Vec<SeedRepository>,
}

/// An account in a seed.
pub type SeedUser = NewAccount;

/// A personal access token in a seed, with a fixed secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedToken {
    /// Owning account.
    pub user: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// The secret, starting with `fkr_pat_`.
    pub secret: String,
    /// Scopes (`repo:admin`, `repo:write`, `repo:read`, `repo:public_read`).
    pub scopes: Vec<PatScope>,
    /// `"never"` (the default) or an RFC 3339 time, possibly in the past.
    #[serde(default)]
    pub expires_at: Expiry,
    /// Active flag (default true).
    #[serde(default = "yes")]
    pub active: bool,
    /// `manual` (default) or `auto`.
    #[serde(default)]
    pub origin: Origin,
    /// A fixed id (default: random).
    pub uuid: Option<Uuid>,
    /// Creation time (default: start-up), RFC 3339.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// Last use (default: never), RFC 3339.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used: Option<OffsetDateTime>,
}

fn yes() -> bool {
    true
}

/// A declared repository (in a seed, or the body of `POST /_admin/repositories`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRepository {
    /// Repository name (`alice/app`).
    pub name: String,
    /// `public` or `private` (default private).
    #[serde(default)]
    pub visibility: Visibility,
}

/// A token expiry: never, or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expiry {
    /// Never expires.
    #[default]
    Never,
    /// Expires at this time.
    At(OffsetDateTime),
}

impl Expiry {
    /// The expiry time, `None` for never.
    pub fn time(self) -> Option<OffsetDateTime> {
        match self {
            Expiry::Never => None,
            Expiry::At(at) => Some(at),
        }
    }

    /// Parses `"never"` or an RFC 3339 time.
    pub fn parse(text: &str) -> Result<Expiry, ExpiryError> {
        if text == "never" {
            return Ok(Expiry::Never);
        }
        Ok(Expiry::At(OffsetDateTime::parse(text, &Rfc3339)?))
    }
}

impl Serialize for Expiry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expiry::Never => serializer.serialize_str("never"),
            Expiry::At(at) => serializer.serialize_str(&super::rfc3339(*at)),
        }
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Expiry::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Seed {
    /// Parses a seed from TOML text.
    pub fn from_toml(text: &str) -> anyhow::Result<Seed> {
        Ok(toml::from_str(text)?)
    }

    /// Reads and parses a seed file.
    pub fn from_file(path: impl AsRef<Path>) -> anyhow::Result<Seed> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading seed file {}", path.display()))?;
        Seed::from_toml(&text).with_context(|| format!("parsing seed file {}", path.display()))
    }

    /// Appends everything of `other` to this seed.
    pub fn extend(&mut self, other: Seed) {
        self.users.extend(other.users);
        self.tokens.extend(other.tokens);
        self.repositories.extend(other.repositories);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field() {
        let seed = Seed::from_toml(
            r#"
            [[users]]
            username = "alice"
            password = "pw"

            [[users]]
            username = "bob"
            password = "pw"
            two_factor = true
            totp_secret = "JBSWY3DPEHPK3PXP"

            [[tokens]]
            user = "bob"
            label = "ci"
            secret = "fkr_pat_bob_ci_000000"
            scopes = ["repo:read"]
            expires_at = "2020-01-01T00:00:00Z"
            active = false
            origin = "auto"
            uuid = "6f1c1f4e-0000-4000-8000-000000000001"

            [[tokens]]
            user = "alice"
            secret = "fkr_pat_alice_000000"
            scopes = ["repo:admin"]
            expires_at = "never"

            [[repositories]]
            name = "alice/site"
            visibility = "public"
            "#,
        )
        .unwrap();
        assert_eq!(seed.users.len(), 2);
        assert!(seed.users[1].two_factor);
        let bob = &seed.tokens[0];
        assert!(matches!(bob.expires_at, Expiry::At(_)));
        assert!(!bob.active);
        assert_eq!(bob.origin, Origin::Auto);
        assert_eq!(seed.tokens[1].expires_at, Expiry::Never);
        assert!(seed.tokens[1].active);
        assert_eq!(seed.repositories[0].visibility, Visibility::Public);
    }

    #[test]
    fn unknown_fields_and_bad_expiry_are_errors() {
        assert!(Seed::from_toml("[[users]]\nusername='a'\npassword='b'\nadmin=true").is_err());
        let err = Seed::from_toml(
            "[[tokens]]\nuser='a'\nsecret='fkr_pat_x'\nscopes=[]\nexpires_at='soon'",
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("never"), "{err:#}");
    }

    #[test]
    fn round_trips_through_toml() {
        let seed = Seed {
            tokens: vec![SeedToken {
                user: "a".into(),
                label: "l".into(),
                secret: "fkr_pat_xxxxxxxxxx".into(),
                scopes: vec![PatScope::Write],
                expires_at: Expiry::parse("2031-01-01T00:00:00Z").unwrap(),
                active: true,
                origin: Origin::Manual,
                uuid: None,
                created_at: None,
                last_used: None,
            }],
            ..Seed::default()
        };
        let text = toml::to_string(&seed).unwrap();
        assert_eq!(Seed::from_toml(&text).unwrap(), seed);
    }
}
