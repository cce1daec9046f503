//! [`TokenSigner`]: an ES256 key with its self-signed certificate; issues and verifies tokens.

use rcgen::{
    CertificateParams, DnType, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PublicKeyData,
};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
    UnparsedPublicKey,
};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::claims::Claims;
use super::jws::{encode_segment, split};
use super::key_id::libtrust_key_id;
use crate::state::access::AccessEntry;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWS, or undecodable parts.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// An algorithm other than ES256.
    #[error("unsupported token algorithm {0:?}")]
    Algorithm(String),
    /// Signature does not verify with this registry's key.
    #[error("token signature is invalid")]
    Signature,
    /// Claims do not match this registry.
    #[error("token {0}")]
    Claims(String),
    /// Expired or not yet valid.
    #[error("token {0}")]
    Time(String),
}

/// A freshly issued token with what the token endpoint reports about it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The JWS.
    pub token: String,
    /// Lifetime in seconds.
    pub expires_in: i64,
    /// Issue time.
    pub issued_at: OffsetDateTime,
}

/// Signs and verifies registry tokens for one issuer and service.
pub struct TokenSigner {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    certificate_pem: String,
    key_id: String,
    encoded_header: String,
    issuer: String,
    service: String,
    lifetime: Duration,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// A new P-256 key with a self-signed certificate valid from a day ago for ten years.
    pub fn generate(
        issuer: &str,
        service: &str,
        lifetime: Duration,
    ) -> anyhow::Result<TokenSigner> {
        let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{issuer} token signer"));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let certificate = params.self_signed(&key_pair)?;
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &SystemRandom::new(),
        )
        .map_err(|e| anyhow::anyhow!("loading the signing key: {e}"))?;
        let key_id = libtrust_key_id(&key_pair.subject_public_key_info());
        let x5c = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            certificate.der(),
        );
        let header = json!({"typ": "JWT", "alg": "ES256", "kid": key_id, "x5c": [x5c]});
        Ok(TokenSigner {
            key,
            rng: SystemRandom::new(),
            certificate_pem: certificate.pem(),
            key_id,
            encoded_header: encode_segment(header.to_string().as_bytes()),
            issuer: issuer.to_string(),
            service: service.to_string(),
            lifetime,
        })
    }

    /// The signing certificate in PEM, for distribution's `rootcertbundle`.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The libtrust key id put in the `kid` header.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The service (`aud`) tokens are issued for.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Issues a token for `subject` (empty for anonymous) granting `access`, at `now`.
    pub fn issue(
        &self,
        subject: &str,
        access: Vec<AccessEntry>,
        pat: Option<Uuid>,
        now: OffsetDateTime,
    ) -> IssuedToken {
        let iat = now.unix_timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: subject.to_string(),
            aud: self.service.clone(),
            exp: iat.saturating_add(self.lifetime.whole_seconds()),
            nbf: iat,
            iat,
            jti: Uuid::new_v4().simple().to_string(),
            access,
            fkr_pat: pat,
        };
        let payload = serde_json::to_vec(&claims).expect("claims serialize");
        let signing_input = format!("{}.{}", self.encoded_header, encode_segment(&payload));
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .expect("ECDSA signing does not fail");
        IssuedToken {
            token: format!("{signing_input}.{}", encode_segment(signature.as_ref())),
            expires_in: self.lifetime.whole_seconds(),
            issued_at: now,
        }
    }

    /// Verifies a token this signer issued: algorithm, signature, issuer, audience, and that
    /// `now` lies in `[nbf, exp)`.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<Claims, TokenError> {
        let parts = split(token).map_err(TokenError::Malformed)?;
        if parts.header.alg != "ES256" {
            return Err(TokenError::Algorithm(parts.header.alg));
        }
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.key.public_key().as_ref())
            .verify(parts.signing_input.as_bytes(), &parts.signature)
            .map_err(|_| TokenError::Signature)?;
        let claims: Claims = serde_json::from_slice(&parts.payload)
            .map_err(|e| TokenError::Malformed(format!("claims: {e}")))?;
        let expected = [
            ("issuer", &claims.iss, &self.issuer),
            ("audience", &claims.aud, &self.service),
        ];
        if let Some((what, got, wanted)) = expected.iter().find(|(_, got, wanted)| got != wanted) {
            return Err(TokenError::Claims(format!(
                "{what} {got:?} is not {wanted:?}"
            )));
        }
        let now = now.unix_timestamp();
        if now < claims.nbf {
            return Err(TokenError::Time("is not valid yet".into()));
        }
        if now >= claims.exp {
            return Err(TokenError::Time("has expired".into()));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn signer() -> TokenSigner {
        TokenSigner::generate("issuer", "service", Duration::seconds(300)).unwrap()
    }

    fn pull(name: &str) -> Vec<AccessEntry> {
        vec![AccessEntry {
            resource_type: "repository".into(),
            name: name.into(),
            actions: vec!["pull".into()],
        }]
    }

    #[test]
    fn issued_token_verifies_and_carries_the_claims() {
        let signer = signer();
        let now = OffsetDateTime::now_utc();
        let issued = signer.issue("alice", pull("alice/app"), None, now);
        let claims = signer.verify(&issued.token, now).unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.aud, "service");
        assert_eq!(claims.iss, "issuer");
        assert_eq!(claims.exp - claims.iat, 300);
        assert!(claims.allows("repository", "alice/app", "pull"));
        assert!(!claims.allows("repository", "alice/app", "push"));
    }

    #[test]
    fn header_carries_alg_kid_and_x5c() {
        let signer = signer();
        let issued = signer.issue("", vec![], None, OffsetDateTime::now_utc());
        let header = issued.token.split('.').next().unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], signer.key_id());
        let x5c = header["x5c"][0].as_str().unwrap();
        assert!(signer.certificate_pem().contains(&x5c[..60]));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let signer = signer();
        let now = OffsetDateTime::now_utc();
        let issued = signer.issue("alice", pull("alice/app"), None, now);
        assert!(matches!(
            signer.verify(&issued.token, now + Duration::seconds(300)),
            Err(TokenError::Time(_))
        ));
        assert!(matches!(
            signer.verify(&issued.token, now - Duration::seconds(1)),
            Err(TokenError::Time(_))
        ));
        let other = signer_with("issuer", "service").issue("alice", vec![], None, now);
        assert_eq!(signer.verify(&other.token, now), Err(TokenError::Signature));
        let (input, _) = issued.token.rsplit_once('.').unwrap();
        let (header, _) = input.split_once('.').unwrap();
        let forged_claims = encode_segment(br#"{"sub":"root"}"#);
        let forged = format!(
            "{header}.{forged_claims}.{}",
            issued.token.rsplit_once('.').unwrap().1
        );
        assert_eq!(signer.verify(&forged, now), Err(TokenError::Signature));
        assert!(matches!(
            signer.verify("garbage", now),
            Err(TokenError::Malformed(_))
        ));
    }

    fn signer_with(issuer: &str, service: &str) -> TokenSigner {
        TokenSigner::generate(issuer, service, Duration::seconds(60)).unwrap()
    }

    #[test]
    fn wrong_algorithm_is_refused() {
        let signer = signer();
        let header = encode_segment(br#"{"alg":"none"}"#);
        let token = format!("{header}.{}.", encode_segment(b"{}"));
        assert_eq!(
            signer.verify(&token, OffsetDateTime::now_utc()),
            Err(TokenError::Algorithm("none".into()))
        );
    }
}
