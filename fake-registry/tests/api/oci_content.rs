//! The OCI distribution-spec 1.1 parts of the content API: the referrers API and
//! `OCI-Subject`, sha512 content, blob range requests, tag deletion, tag parameters,
//! non-distributable layers, ordered final chunks, and the scope a cross-repository mount needs.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use crate::content::{Session, bearer_session};
use crate::support::{self, OCI_MANIFEST, challenge, digest, fetch, seed, send};

const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

async fn admin(registry: &fake_registry::RunningRegistry) -> Session<'_> {
    bearer_session(
        registry,
        "bob",
        seed::BOB_ADMIN,
        &["repository:bob/app:*", "repository:bob/empty:pull"],
    )
    .await
}

/// PUTs `manifest` as `reference` of bob/app and returns the response.
async fn put_manifest(s: &Session<'_>, reference: &str, manifest: &Value) -> reqwest::Response {
    fetch(
        s.request(Method::PUT, &format!("/v2/bob/app/manifests/{reference}"))
            .header("content-type", OCI_MANIFEST)
            .body(serde_json::to_vec(manifest).unwrap()),
    )
    .await
}

/// An artifact manifest of `artifact_type` whose subject is `subject` (which need not exist).
fn artifact(artifact_type: &str, subject: &str) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_CONFIG, "digest": digest(b"{}"), "size": 2},
        "layers": [],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": 10},
        "annotations": {"org.example.note": "signed"},
    })
}

#[tokio::test]
async fn referrers_api_lists_the_manifests_that_name_a_subject() {
    let registry = support::start().await;
    let s = admin(&registry).await;
    assert_eq!(
        s.push_blob_monolithic("bob/app", b"{}").await,
        StatusCode::CREATED
    );
    let subject = digest(b"an image never pushed");
    let pushed = put_manifest(
        &s,
        "sig",
        &artifact("application/vnd.example.sig", &subject),
    )
    .await;
    assert_eq!(pushed.status(), StatusCode::CREATED);
    assert_eq!(pushed.headers()["oci-subject"], subject.as_str());
    let sig = pushed.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_string();

    let listed = s
        .fetch(Method::GET, &format!("/v2/bob/app/referrers/{subject}"))
        .await;
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(listed.headers()["content-type"], INDEX);
    let body: Value = listed.json().await.unwrap();
    assert_eq!(body["mediaType"], INDEX);
    let descriptor = &body["manifests"][0];
    assert_eq!(descriptor["digest"], sig.as_str());
    assert_eq!(descriptor["artifactType"], "application/vnd.example.sig");
    assert_eq!(descriptor["annotations"]["org.example.note"], "signed");

    let filtered = s
        .fetch(
            Method::GET,
            &format!("/v2/bob/app/referrers/{subject}?artifactType=application/other"),
        )
        .await;
    assert_eq!(filtered.headers()["oci-filters-applied"], "artifactType");
    let body: Value = filtered.json().await.unwrap();
    assert_eq!(body["manifests"], json!([]));

    let (status, body) =
        send(s.request(Method::GET, &format!("/v2/bob/empty/referrers/{subject}"))).await;
    assert_eq!(
        (status, &body["manifests"]),
        (StatusCode::OK, &json!([])),
        "a repository without content has no referrers, not a 404"
    );
    let (status, body) = send(s.request(Method::GET, "/v2/bob/app/referrers/sha256:nope")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "DIGEST_INVALID");
}

#[tokio::test]
async fn sha512_blobs_and_manifests_are_verified_and_served() {
    let registry = support::start().await;
    let s = admin(&registry).await;
    let sha512 = |data: &[u8]| format!("sha512:{}", hex::encode(Sha512::digest(data)));
    let config = b"{\"architecture\":\"amd64\"}";
    let (status, body) = send(
        s.request(
            Method::POST,
            &format!("/v2/bob/app/blobs/uploads/?digest={}", sha512(b"other")),
        )
        .body(config.to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "DIGEST_INVALID");
    let pushed = fetch(
        s.request(
            Method::POST,
            &format!("/v2/bob/app/blobs/uploads/?digest={}", sha512(config)),
        )
        .body(config.to_vec()),
    )
    .await;
    assert_eq!(pushed.status(), StatusCode::CREATED);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha512(config), "size": config.len()},
        "layers": [],
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let put = put_manifest(&s, &sha512(&bytes), &manifest).await;
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(
        put.headers()["docker-content-digest"],
        sha512(&bytes).as_str()
    );
    let got = s
        .fetch(
            Method::GET,
            &format!("/v2/bob/app/manifests/{}", sha512(&bytes)),
        )
        .await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
}

#[tokio::test]
async fn blob_range_requests_get_partial_content() {
    let registry = support::start().await;
    let s = admin(&registry).await;
    let data = b"0123456789";
    assert_eq!(
        s.push_blob_monolithic("bob/app", data).await,
        StatusCode::CREATED
    );
    let path = format!("/v2/bob/app/blobs/{}", digest(data));
    for (range, part, content_range) in [
        ("bytes=2-5", &b"2345"[..], "bytes 2-5/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
    ] {
        let response = fetch(s.request(Method::GET, &path).header("range", range)).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(response.headers()["content-range"], content_range);
        assert_eq!(
            response.headers()["content-length"],
            part.len().to_string().as_str()
        );
        assert_eq!(response.bytes().await.unwrap().as_ref(), part, "{range}");
    }
    for range in ["bytes=5-2", "bytes=10-20"] {
        let (status, body) = send(s.request(Method::GET, &path).header("range", range)).await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(body["errors"][0]["code"], "RANGE_INVALID");
    }
    let whole = fetch(s.request(Method::GET, &path)).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
}

#[tokio::test]
async fn tags_are_deleted_alone_and_set_by_tag_parameters() {
    let registry = support::start().await;
    let s = admin(&registry).await;
    s.push_blob_monolithic("bob/app", b"{}").await;
    let manifest = artifact("application/vnd.example", &digest(b"x"));
    let digest_ref = digest(&serde_json::to_vec(&manifest).unwrap());
    let put = put_manifest(&s, &format!("{digest_ref}?tag=one&tag=two"), &manifest).await;
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(put.headers()["oci-tag"], "one, two");
    assert_eq!(
        s.fetch(Method::DELETE, "/v2/bob/app/manifests/one")
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let (_, tags) = send(s.request(Method::GET, "/v2/bob/app/tags/list")).await;
    assert_eq!(tags["tags"], json!(["two"]));
    let by_digest = s
        .fetch(Method::GET, &format!("/v2/bob/app/manifests/{digest_ref}"))
        .await;
    assert_eq!(
        by_digest.status(),
        StatusCode::OK,
        "deleting a tag keeps the manifest"
    );
    let (status, body) = send(s.request(Method::DELETE, "/v2/bob/app/manifests/one")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errors"][0]["code"], "MANIFEST_UNKNOWN");
    let bad = put_manifest(&s, &format!("{digest_ref}?tag=-bad"), &manifest).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn non_distributable_layers_need_not_be_pushed() {
    let registry = support::start().await;
    let s = admin(&registry).await;
    s.push_blob_monolithic("bob/app", b"{}").await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(b"{}"), "size": 2},
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "digest": digest(b"elsewhere"), "size": 9,
            "urls": ["https://store.example.com/elsewhere"],
        }],
    });
    assert_eq!(
        put_manifest(&s, "nd", &manifest).await.status(),
        StatusCode::CREATED
    );
    let mut distributable = manifest.clone();
    distributable["layers"][0]["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip");
    let (status, body) = support::json(put_manifest(&s, "d", &distributable).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "MANIFEST_BLOB_UNKNOWN");
}

#[tokio::test]
async fn a_final_chunk_out_of_order_is_refused_and_the_upload_goes_on() {
    let registry = support::start().await;
    let s = admin(&registry).await;
    let start = s.fetch(Method::POST, "/v2/bob/app/blobs/uploads/").await;
    let location = start.headers()["location"].to_str().unwrap().to_string();
    let patch = fetch(
        s.request(Method::PATCH, &location)
            .header("content-range", "0-2")
            .body("abc"),
    )
    .await;
    assert_eq!(patch.status(), StatusCode::ACCEPTED);
    let finish = |range: &'static str| {
        s.request(
            Method::PUT,
            &format!("{location}?digest={}", digest(b"abcdef")),
        )
        .header("content-range", range)
        .body("def")
    };
    let (status, body) = send(finish("0-2")).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(body["errors"][0]["code"], "RANGE_INVALID");
    assert_eq!(fetch(finish("3-5")).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_cross_repository_mount_needs_pull_on_its_source() {
    let registry = support::start().await;
    let source = bearer_session(
        &registry,
        "bob",
        seed::BOB_ADMIN,
        &["repository:bob/base:*"],
    )
    .await;
    source.push_blob_monolithic("bob/base", b"shared").await;
    let mount = format!(
        "/v2/bob/app/blobs/uploads/?mount={}&from=bob/base",
        digest(b"shared")
    );
    let narrow = admin(&registry).await;
    let refused = narrow.fetch(Method::POST, &mount).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let header = challenge(&refused);
    assert!(
        header.contains(r#"scope="repository:bob/app:pull,push repository:bob/base:pull""#),
        "{header}"
    );
    let both = bearer_session(
        &registry,
        "bob",
        seed::BOB_ADMIN,
        &["repository:bob/app:pull,push repository:bob/base:pull"],
    )
    .await;
    let mounted = both.fetch(Method::POST, &mount).await;
    assert_eq!(mounted.status(), StatusCode::CREATED);
    assert_eq!(
        mounted.headers()["location"],
        format!("/v2/bob/app/blobs/{}", digest(b"shared")).as_str()
    );
}
