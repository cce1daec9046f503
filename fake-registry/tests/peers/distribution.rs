//! distribution 2.8 (Debian's `docker-registry`) configured for token auth with this server as
//! realm and issuer and its certificate as `rootcertbundle`: it must accept our tokens for the
//! actions they grant and refuse the others.

use reqwest::{Method, StatusCode};

use crate::support::distribution::{DISTRIBUTION_CANDIDATES, Distribution};
use crate::support::{
    self, OCI_MANIFEST, bearer, challenge, client, digest, fetch, oci_manifest, peer_program, seed,
};

/// Sends `method path` with `token` and `body` to `distribution`, as an OCI manifest client.
async fn call(
    distribution: &Distribution,
    method: Method,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    fetch(
        client()
            .request(method, format!("{}{path}", distribution.url))
            .bearer_auth(token)
            .header("content-type", OCI_MANIFEST)
            // distribution 2.8 answers 404 for an OCI manifest unless the client accepts its type.
            .header("accept", OCI_MANIFEST)
            .body(body),
    )
    .await
}

/// The status of a bodiless `method path` with `token` to `distribution`.
async fn call_status(
    distribution: &Distribution,
    method: Method,
    path: &str,
    token: &str,
) -> StatusCode {
    call(distribution, method, path, token, vec![])
        .await
        .status()
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

    let ping = fetch(client().get(format!("{}/v2/", distribution.url))).await;
    assert_eq!(ping.status(), StatusCode::UNAUTHORIZED);
    let header = challenge(&ping);
    assert!(header.contains(&format!("realm=\"{realm}\"")), "{header}");

    let write = bearer(
        &registry,
        "bob",
        seed::BOB_WRITE,
        &["repository:bob/app:pull,push"],
    )
    .await;
    assert_eq!(
        call_status(&distribution, Method::GET, "/v2/", &write).await,
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
        let finished = fetch(
            client()
                .put(format!("{location}{separator}digest={}", digest(blob)))
                .bearer_auth(&write)
                .body(blob.clone()),
        )
        .await;
        assert_eq!(
            finished.status(),
            StatusCode::CREATED,
            "{:?}",
            finished.text().await
        );
    }
    let manifest = serde_json::to_vec(&oci_manifest(&config, &layer)).unwrap();
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
    let header = challenge(&refused);
    assert!(header.contains("insufficient_scope"), "{header}");
    let manifest_path = format!("/v2/bob/app/manifests/{}", digest(&manifest));
    assert_eq!(
        call_status(&distribution, Method::DELETE, &manifest_path, &write).await,
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
    assert_eq!(
        call_status(&distribution, Method::DELETE, &manifest_path, &admin).await,
        StatusCode::ACCEPTED
    );

    let stranger = support::start().await;
    let foreign = bearer(
        &stranger,
        "bob",
        seed::BOB_ADMIN,
        &["repository:bob/app:pull"],
    )
    .await;
    assert_eq!(
        call_status(
            &distribution,
            Method::GET,
            "/v2/bob/app/tags/list",
            &foreign
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "a token signed by another key is refused"
    );
}
