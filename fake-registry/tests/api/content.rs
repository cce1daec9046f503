//! The in-memory content API: uploads, manifests, tags, catalog, delete, each behind its
//! scope; Basic mode as htpasswd registries behave.

use fake_registry::{AuthMode, RunningRegistry};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{
    self, OCI_MANIFEST, basic, bearer, client, digest, fetch, oci_manifest, seed, send,
};

/// One caller of the registry: every request carries its `authorization` header.
pub(crate) struct Session<'a> {
    registry: &'a RunningRegistry,
    authorization: String,
}

impl<'a> Session<'a> {
    /// A caller sending Basic credentials.
    fn basic(registry: &'a RunningRegistry, user: &str, secret: &str) -> Self {
        Session {
            registry,
            authorization: basic(user, secret),
        }
    }

    /// A caller sending `token` as its bearer token.
    fn bearer(registry: &'a RunningRegistry, token: &str) -> Self {
        Session {
            registry,
            authorization: format!("Bearer {token}"),
        }
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        client()
            .request(method, format!("{}{path}", self.registry.url()))
            .header("authorization", &self.authorization)
    }

    /// Sends `method path` without a body and returns the whole response.
    pub(crate) async fn fetch(&self, method: Method, path: &str) -> reqwest::Response {
        fetch(self.request(method, path)).await
    }

    /// Sends `method path` without a body and returns only the status.
    async fn status(&self, method: Method, path: &str) -> StatusCode {
        self.fetch(method, path).await.status()
    }

    pub(crate) async fn push_blob_monolithic(&self, repo: &str, data: &[u8]) -> StatusCode {
        support::status(
            self.request(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/?digest={}", digest(data)),
            )
            .body(data.to_vec()),
        )
        .await
    }

    async fn push_manifest(
        &self,
        repo: &str,
        tag: &str,
        config: &[u8],
        layer: &[u8],
    ) -> reqwest::Response {
        let manifest = oci_manifest(config, layer);
        fetch(
            self.request(Method::PUT, &format!("/v2/{repo}/manifests/{tag}"))
                .header("content-type", OCI_MANIFEST)
                .body(serde_json::to_vec(&manifest).unwrap()),
        )
        .await
    }
}

pub(crate) async fn bearer_session<'a>(
    registry: &'a RunningRegistry,
    user: &str,
    secret: &str,
    scopes: &[&str],
) -> Session<'a> {
    Session::bearer(registry, &bearer(registry, user, secret, scopes).await)
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

    let start = s.fetch(Method::POST, "/v2/bob/app/blobs/uploads/").await;
    assert_eq!(start.status(), StatusCode::ACCEPTED);
    let location = start.headers()["location"].to_str().unwrap().to_string();
    let patch = fetch(
        s.request(Method::PATCH, &location)
            .header("content-range", "0-4")
            .body("hello"),
    )
    .await;
    assert_eq!(patch.status(), StatusCode::ACCEPTED);
    assert_eq!(patch.headers()["range"], "0-4");
    let bad_range = support::status(
        s.request(Method::PATCH, &location)
            .header("content-range", "0-1")
            .body("xx"),
    )
    .await;
    assert_eq!(bad_range, StatusCode::RANGE_NOT_SATISFIABLE);
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
    let done = fetch(
        s.request(Method::PUT, &format!("{location}?digest={}", digest(layer)))
            .body(" world"),
    )
    .await;
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

    let got = s.fetch(Method::GET, "/v2/bob/app/manifests/v1").await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], OCI_MANIFEST);
    assert_eq!(
        got.headers()["docker-content-digest"],
        manifest_digest.as_str()
    );
    let blob_path = format!("/v2/bob/app/blobs/{}", digest(layer));
    let head = s.fetch(Method::HEAD, &blob_path).await;
    assert_eq!(head.headers()["content-length"], "11");
    let blob = s.fetch(Method::GET, &blob_path).await;
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
        write.status(Method::DELETE, &path).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin.status(Method::DELETE, &path).await,
        StatusCode::ACCEPTED
    );
    let (status, body) = send(admin.request(Method::GET, &path)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errors"][0]["code"], "MANIFEST_UNKNOWN");
    let blob = format!("/v2/bob/app/blobs/{}", digest(b"layer"));
    assert_eq!(
        admin.status(Method::DELETE, &blob).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        admin.status(Method::GET, &blob).await,
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
    let anon = Session::bearer(&registry, anonymous["token"].as_str().unwrap());
    assert_eq!(
        anon.status(Method::GET, "/v2/alice/public-app/manifests/latest")
            .await,
        StatusCode::OK
    );
    assert_eq!(
        anon.status(Method::GET, "/v2/alice/private-app/manifests/latest")
            .await,
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
    assert_eq!(
        support::jws_claims(&token)["access"],
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
    let response = s.fetch(Method::GET, "/v2/_catalog?n=2").await;
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
        no_scope.status(Method::GET, "/v2/_catalog").await,
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
    let anonymous = fetch(client().get(format!("{}/v2/", registry.url()))).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Basic realm=\"fake-registry\""
    );
    let alice = Session::basic(&registry, "alice", seed::ALICE_PASSWORD);
    assert_eq!(alice.status(Method::GET, "/v2/").await, StatusCode::OK);
    assert_eq!(
        alice.push_blob_monolithic("alice/app", b"x").await,
        StatusCode::CREATED
    );
    let (status, body) = send(alice.request(Method::POST, "/v2/bob/app/blobs/uploads/")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["errors"][0]["code"], "DENIED");
    let bob_password = Session::basic(&registry, "bob", seed::BOB_PASSWORD);
    let (status, body) = send(bob_password.request(Method::GET, "/v2/")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["errors"][0]["message"],
        "please use personal access token to login"
    );
    let bob_read = Session::basic(&registry, "bob", seed::BOB_READ);
    assert_eq!(
        bob_read.push_blob_monolithic("bob/app", b"x").await,
        StatusCode::FORBIDDEN
    );
}
