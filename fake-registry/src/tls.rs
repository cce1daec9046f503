//! A throwaway certificate authority and a server certificate for `127.0.0.1`, `localhost`
//! and `::1`, so the registry can serve HTTPS that clients trust through the CA file.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// A generated CA and a TLS server configuration using a certificate it signed.
pub struct SelfSignedTls {
    /// The CA certificate, PEM: what clients must trust.
    pub ca_pem: String,
    /// Server configuration for rustls.
    pub server_config: Arc<rustls::ServerConfig>,
}

impl SelfSignedTls {
    /// Generates the CA and the server certificate.
    pub fn generate() -> anyhow::Result<SelfSignedTls> {
        let now = OffsetDateTime::now_utc();
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "fake-registry test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.not_before = now - Duration::days(1);
        ca_params.not_after = now + Duration::days(3650);
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate()?;
        let names = ["127.0.0.1", "localhost", "::1"].map(String::from);
        let mut server_params = CertificateParams::new(names.to_vec())?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "fake-registry");
        server_params.not_before = now - Duration::days(1);
        server_params.not_after = now + Duration::days(825);
        let server_cert = server_params.signed_by(&server_key, &issuer)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(server_cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )?;
        server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(SelfSignedTls {
            ca_pem: ca_cert.pem(),
            server_config: Arc::new(server_config),
        })
    }
}
