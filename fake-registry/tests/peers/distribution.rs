//! distribution 2.8 (Debian's `docker-registry`) configured for token auth with this server as
//! realm and issuer and its certificate as `rootcertbundle`: it must accept our tokens for the
//! actions they grant and refuse the others.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::distribution::{DISTRIBUTION_CANDIDATES, Distribution};
use crate::support::{self, bearer, client, peer_program, seed};

fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

async fn call(
    distribution: &Distribution,
    method: Method,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    client()
        .request(method, format!("{}{path}", distribution.url))
        .bearer_auth(token)
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        // distribution 2.8 answers 404 for an OCI manifest unless the client accepts its type.
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn distribution_accepts_our_tokens_and_refuses_missing_actions() {
    let Some(program) = peer_program("docker-registry", &DISTRIBUTION_CANDIDATES) else {
        return;
    };
    let registry = support::start().await;
    let realm = format!("{}/token", registry.url());
    let distribution = Distribution::start(
        &program,
        &realm,
        "fake-registry",
        "fake-registry",
        registry.token_cert_pem(),
    )
    .unwrap();

    let challenge = client()
        .get(format!("{}/v2/", distribution.url))
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.status(), StatusCode::UNAUTHORIZED);
    let header = challenge.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(header.contains(&format!("realm=\"{realm}\"")), "{header}");

    let write = bearer(
        &registry,
        "bob",
        seed::BOB_WRITE,
        &["repository:bob/app:pull,push"],
    )
    .await;
    assert_eq!(
        call(&distribution, Method::GET, "/v2/", &write, vec![])
            .await
            .status(),
        StatusCode::OK
    );
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let layer = b"layer bytes".to_vec();
    for blob in [&config, &layer] {
        // distribution 2.8 answers a POST with ?digest= by opening an upload (202), so upload
        // in two steps as clients do.
        let started = call(
            &distribution,
            Method::POST,
            "/v2/bob/app/blobs/uploads/",
            &write,
            vec![],
        )
        .await;
        assert_eq!(started.status(), StatusCode::ACCEPTED);
        let location = started.headers()["location"].to_str().unwrap().to_string();
        let separator = if location.contains('?') { '&' } else { '?' };
        let finished = client()
            .put(format!("{location}{separator}digest={}", digest(blob)))
            .bearer_auth(&write)
            .body(blob.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            finished.status(),
            StatusCode::CREATED,
            "{:?}",
            finished.text().await
        );
    }
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(&layer), "size": layer.len()}],
    }))
    .unwrap();
    let put = call(
        &distribution,
        Method::PUT,
        "/v2/bob/app/manifests/v1",
        &write,
        manifest.clone(),
    )
    .await;
    assert_eq!(put.status(), StatusCode::CREATED, "{:?}", put.text().await);

    let read = bearer(
        &registry,
        "bob",
        seed::BOB_READ,
        &["repository:bob/app:pull,push,delete"],
    )
    .await;
    let pulled = call(
        &distribution,
        Method::GET,
        "/v2/bob/app/manifests/v1",
        &read,
        vec![],
    )
    .await;
    assert_eq!(pulled.status(), StatusCode::OK);
    assert_eq!(pulled.bytes().await.unwrap().as_ref(), manifest.as_slice());

    let refused = call(
        &distribution,
        Method::POST,
        "/v2/bob/app/blobs/uploads/",
        &read,
        vec![],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let header = refused.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(header.contains("insufficient_scope"), "{header}");
    let delete = call(
        &distribution,
        Method::DELETE,
        &format!("/v2/bob/app/manifests/{}", digest(&manifest)),
        &write,
        vec![],
    )
    .await;
    assert_eq!(
        delete.status(),
        StatusCode::UNAUTHORIZED,
        "repo:write cannot delete"
    );
    let admin = bearer(
        &registry,
        "bob",
        seed::BOB_ADMIN,
        &["repository:bob/app:delete"],
    )
    .await;
    let delete = call(
        &distribution,
        Method::DELETE,
        &format!("/v2/bob/app/manifests/{}", digest(&manifest)),
        &admin,
        vec![],
    )
    .await;
    assert_eq!(delete.status(), StatusCode::ACCEPTED);

    let stranger = support::start().await;
    let foreign = bearer(
        &stranger,
        "bob",
        seed::BOB_ADMIN,
        &["repository:bob/app:pull"],
    )
    .await;
    let refused = call(
        &distribution,
        Method::GET,
        "/v2/bob/app/tags/list",
        &foreign,
        vec![],
    )
    .await;
    assert_eq!(
        refused.status(),
        StatusCode::UNAUTHORIZED,
        "a token signed by another key is refused"
    );
}
