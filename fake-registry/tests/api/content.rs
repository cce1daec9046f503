//! The in-memory content API: uploads, manifests, tags, catalog, delete, each behind its
//! scope; Basic mode as htpasswd registries behave.

use fake_registry::{AuthMode, RunningRegistry};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{self, basic, bearer, client, seed, send};

fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

struct Session<'a> {
    registry: &'a RunningRegistry,
    authorization: String,
}

impl Session<'_> {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        client()
            .request(method, format!("{}{path}", self.registry.url()))
            .header("authorization", &self.authorization)
    }

    async fn push_blob_monolithic(&self, repo: &str, data: &[u8]) -> StatusCode {
        self.request(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={}", digest(data)),
        )
        .body(data.to_vec())
        .send()
        .await
        .unwrap()
        .status()
    }

    async fn push_manifest(
        &self,
        repo: &str,
        tag: &str,
        config: &[u8],
        layer: &[u8],
    ) -> reqwest::Response {
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(layer), "size": layer.len()}],
        });
        self.request(Method::PUT, &format!("/v2/{repo}/manifests/{tag}"))
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(serde_json::to_vec(&manifest).unwrap())
            .send()
            .await
            .unwrap()
    }
}

async fn bearer_session<'a>(
    registry: &'a RunningRegistry,
    user: &str,
    secret: &str,
    scopes: &[&str],
) -> Session<'a> {
    Session {
        registry,
        authorization: format!("Bearer {}", bearer(registry, user, secret, scopes).await),
    }
}

#[tokio::test]
async fn push_and_pull_an_image_with_chunked_and_monolithic_uploads() {
    let registry = support::start().await;
    let s = bearer_session(
        &registry,
        "bob",
        seed::BOB_WRITE,
        &["repository:bob/app:pull,push"],
    )
    .await;
    assert_eq!(
        s.push_blob_monolithic("bob/app", b"{}").await,
        StatusCode::CREATED
    );

    let start = s
        .request(Method::POST, "/v2/bob/app/blobs/uploads/")
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::ACCEPTED);
    let location = start.headers()["location"].to_str().unwrap().to_string();
    let patch = s
        .request(Method::PATCH, &location)
        .header("content-range", "0-4")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), StatusCode::ACCEPTED);
    assert_eq!(patch.headers()["range"], "0-4");
    let bad_range = s
        .request(Method::PATCH, &location)
        .header("content-range", "0-1")
        .body("xx")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_range.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let (status, body) = send(
        s.request(
            Method::PUT,
            &format!("{location}?digest={}", digest(b"wrong")),
        )
        .body(" world"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "DIGEST_INVALID");
    let layer = b"hello world";
    let done = s
        .request(Method::PUT, &format!("{location}?digest={}", digest(layer)))
        .body(" world")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    assert_eq!(
        done.headers()["docker-content-digest"],
        digest(layer).as_str()
    );

    let put = s.push_manifest("bob/app", "v1", b"{}", layer).await;
    assert_eq!(put.status(), StatusCode::CREATED);
    let manifest_digest = put.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_string();

    let got = s
        .request(Method::GET, "/v2/bob/app/manifests/v1")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(
        got.headers()["content-type"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        got.headers()["docker-content-digest"],
        manifest_digest.as_str()
    );
    let head = s
        .request(
            Method::HEAD,
            &format!("/v2/bob/app/blobs/{}", digest(layer)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["content-length"], "11");
    let blob = s
        .request(Method::GET, &format!("/v2/bob/app/blobs/{}", digest(layer)))
        .send()
        .await
        .unwrap();
    assert_eq!(blob.bytes().await.unwrap().as_ref(), layer);
    let (status, tags) = send(s.request(Method::GET, "/v2/bob/app/tags/list")).await;
    assert_eq!(
        (status, tags),
        (StatusCode::OK, json!({"name": "bob/app", "tags": ["v1"]}))
    );
}

#[tokio::test]
async fn manifest_with_missing_blobs_is_refused() {
    let registry = support::start().await;
    let s = bearer_session(&registry, "bob", seed::BOB_ADMIN, &["repository:bob/app:*"]).await;
    let (status, body) = support::json(s.push_manifest("bob/app", "v1", b"{}", b"x").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "MANIFEST_BLOB_UNKNOWN");
}

#[tokio::test]
async fn delete_needs_the_delete_scope() {
    let registry = support::start().await;
    let admin = bearer_session(&registry, "bob", seed::BOB_ADMIN, &["repository:bob/app:*"]).await;
    admin.push_blob_monolithic("bob/app", b"{}").await;
    admin.push_blob_monolithic("bob/app", b"layer").await;
    let digest_of_manifest = admin
        .push_manifest("bob/app", "v1", b"{}", b"layer")
        .await
        .headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_string();
    let write = bearer_session(&registry, "bob", seed::BOB_WRITE, &["repository:bob/app:*"]).await;
    let path = format!("/v2/bob/app/manifests/{digest_of_manifest}");
    assert_eq!(
        write
            .request(Method::DELETE, &path)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin
            .request(Method::DELETE, &path)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    let (status, body) = send(admin.request(Method::GET, &path)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errors"][0]["code"], "MANIFEST_UNKNOWN");
    let blob = format!("/v2/bob/app/blobs/{}", digest(b"layer"));
    assert_eq!(
        admin
            .request(Method::DELETE, &blob)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        admin
            .request(Method::GET, &blob)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn public_repository_pulls_anonymously_private_does_not() {
    let registry = support::start().await;
    let owner = bearer_session(
        &registry,
        "alice",
        seed::ALICE_PASSWORD,
        &[
            "repository:alice/public-app:*",
            "repository:alice/private-app:*",
        ],
    )
    .await;
    for repo in ["alice/public-app", "alice/private-app"] {
        owner.push_blob_monolithic(repo, b"{}").await;
        owner.push_blob_monolithic(repo, b"l").await;
        assert_eq!(
            owner
                .push_manifest(repo, "latest", b"{}", b"l")
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let (_, anonymous) = send(client().get(format!(
        "{}/token?scope=repository:alice/public-app:pull&scope=repository:alice/private-app:pull",
        registry.url()
    )))
    .await;
    let anon = Session {
        registry: &registry,
        authorization: format!("Bearer {}", anonymous["token"].as_str().unwrap()),
    };
    assert_eq!(
        anon.request(Method::GET, "/v2/alice/public-app/manifests/latest")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        anon.request(Method::GET, "/v2/alice/private-app/manifests/latest")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_user_owns_its_namespace_only() {
    let registry = support::start().await;
    let token = bearer(
        &registry,
        "alice",
        seed::ALICE_PASSWORD,
        &[
            "repository:bob/app:push,pull",
            "repository:alice/new:push,pull",
        ],
    )
    .await;
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["access"],
        json!([{"type": "repository", "name": "alice/new", "actions": ["pull", "push"]}])
    );
}

#[tokio::test]
async fn catalog_needs_its_scope_and_lists_repositories() {
    let registry = support::start().await;
    let s = bearer_session(
        &registry,
        "alice",
        seed::ALICE_PASSWORD,
        &["registry:catalog:*"],
    )
    .await;
    let response = s
        .request(Method::GET, "/v2/_catalog?n=2")
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["link"]
            .to_str()
            .unwrap()
            .contains("last=alice%2Fpublic-app")
    );
    let (status, body) = support::json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["repositories"],
        json!(["alice/private-app", "alice/public-app"])
    );
    let no_scope = bearer_session(&registry, "alice", seed::ALICE_PASSWORD, &[]).await;
    assert_eq!(
        no_scope
            .request(Method::GET, "/v2/_catalog")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn basic_mode_behaves_like_an_htpasswd_registry() {
    let registry = support::builder()
        .auth_mode(AuthMode::Basic)
        .start()
        .await
        .unwrap();
    let anonymous = client()
        .get(format!("{}/v2/", registry.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Basic realm=\"fake-registry\""
    );
    let alice = Session {
        registry: &registry,
        authorization: basic("alice", seed::ALICE_PASSWORD),
    };
    assert_eq!(
        alice
            .request(Method::GET, "/v2/")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        alice.push_blob_monolithic("alice/app", b"x").await,
        StatusCode::CREATED
    );
    let (status, body) = send(alice.request(Method::POST, "/v2/bob/app/blobs/uploads/")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errors"][0]["code"], "DENIED");
    let bob_password = Session {
        registry: &registry,
        authorization: basic("bob", seed::BOB_PASSWORD),
    };
    let (status, body) = send(bob_password.request(Method::GET, "/v2/")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["errors"][0]["message"],
        "please use personal access token to login"
    );
    let bob_read = Session {
        registry: &registry,
        authorization: basic("bob", seed::BOB_READ),
    };
    assert_eq!(
        bob_read.push_blob_monolithic("bob/app", b"x").await,
        StatusCode::FORBIDDEN
    );
}
