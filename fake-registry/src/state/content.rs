//! In-memory registry content: blobs (content-addressed, linked into repositories), blob upload
//! sessions, manifests, tags and referrers, with the distribution spec's checks and error codes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

pub use super::digest::{Algorithm, sha256_digest, validate_digest};
use super::manifest_doc::ManifestDoc;

/// Largest manifest accepted.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $code:ident => $spelling:literal, $status:literal;)*) => {
        /// Error codes of the distribution / OCI spec that the content API answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[$doc])* $code,)*
        }

        impl ErrorCode {
            /// The spec spelling (`BLOB_UNKNOWN`...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => $spelling,)*
                }
            }

            /// The HTTP status the spec pairs with the code.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$code => $status,)*
                }
            }
        }
    };
}

error_codes! {
    /// Blob not in the repository.
    BlobUnknown => "BLOB_UNKNOWN", 404;
    /// Upload session does not exist.
    BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN", 404;
    /// Digest malformed or not matching the content.
    DigestInvalid => "DIGEST_INVALID", 400;
    /// Manifest references a blob the repository lacks.
    ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN", 400;
    /// Manifest is not valid.
    ManifestInvalid => "MANIFEST_INVALID", 400;
    /// Manifest not in the repository.
    ManifestUnknown => "MANIFEST_UNKNOWN", 404;
    /// Repository name invalid.
    NameInvalid => "NAME_INVALID", 400;
    /// Repository unknown.
    NameUnknown => "NAME_UNKNOWN", 404;
    /// Content-Range does not match the upload.
    RangeInvalid => "RANGE_INVALID", 416;
    /// Operation not supported.
    Unsupported => "UNSUPPORTED", 405;
    /// The content would exceed what the registry holds (413).
    TooLarge => "SIZE_INVALID", 413;
    /// Too many upload sessions are open (429).
    TooManyRequests => "TOOMANYREQUESTS", 429;
    /// The `n` of a paginated list is not a number.
    PaginationNumberInvalid => "PAGINATION_NUMBER_INVALID", 400;
    /// No endpoint at this path (404).
    UnknownEndpoint => "NOT_FOUND", 404;
}

/// A refused content operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ContentError {
    /// Spec error code.
    pub code: ErrorCode,
    /// Message naming the problem.
    pub message: String,
}

impl ContentError {
    /// A refusal with `code`, naming the problem in `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ContentError {
            code,
            message: message.into(),
        }
    }
}

fn refuse<T>(code: ErrorCode, message: impl Into<String>) -> Result<T, ContentError> {
    Err(ContentError::new(code, message))
}

/// A stored manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredManifest {
    /// Digest of the bytes (`sha256:`, or the algorithm it was pushed by).
    pub digest: String,
    /// Media type given at upload.
    pub media_type: String,
    /// The exact bytes uploaded.
    pub bytes: Vec<u8>,
    /// What the registry read from the bytes.
    pub doc: ManifestDoc,
}

impl StoredManifest {
    /// The descriptor of this manifest in a referrers answer.
    fn referrer_descriptor(&self) -> Value {
        let mut descriptor = json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.bytes.len(),
        });
        if let Some(artifact_type) = &self.doc.artifact_type {
            descriptor["artifactType"] = json!(artifact_type);
        }
        if let Some(annotations) = &self.doc.annotations {
            descriptor["annotations"] = json!(annotations);
        }
        descriptor
    }
}

/// What a manifest push stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedManifest {
    /// The manifest's digest.
    pub digest: String,
    /// The digest of its `subject`, which the answer names in `OCI-Subject`.
    pub subject: Option<String>,
    /// The tags set by `tag` parameters, which the answer names in `OCI-Tag`.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct RepositoryContent {
    blobs: BTreeSet<String>,
    manifests: HashMap<String, StoredManifest>,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct Upload {
    repository: String,
    data: Vec<u8>,
    touched: Instant,
}

/// Bounds on blob upload sessions, so unfinished uploads cannot hold memory forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// A session with no request for this long is dropped with its data.
    pub idle_timeout: Duration,
    /// Most sessions open at once; one more gets 429 `TOOMANYREQUESTS`.
    pub max_sessions: usize,
    /// Most bytes all open sessions hold together; a chunk beyond it gets 413 `SIZE_INVALID`.
    pub max_bytes: u64,
}

impl Default for UploadLimits {
    /// 5 minutes idle, 64 sessions, 1 GiB.
    fn default() -> Self {
        UploadLimits {
            idle_timeout: Duration::from_secs(300),
            max_sessions: 64,
            max_bytes: 1 << 30,
        }
    }
}

/// All content of the registry.
#[derive(Debug, Clone, Default)]
pub struct ContentStore {
    blobs: HashMap<String, Vec<u8>>,
    repositories: BTreeMap<String, RepositoryContent>,
    uploads: HashMap<Uuid, Upload>,
    limits: UploadLimits,
}

/// Whether `reference` is a tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`).
pub fn is_valid_tag(reference: &str) -> bool {
    let mut chars = reference.chars();
    reference.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl ContentStore {
    /// An empty store whose upload sessions obey `limits`.
    pub fn new(limits: UploadLimits) -> Self {
        ContentStore {
            limits,
            ..ContentStore::default()
        }
    }

    fn repository(&self, name: &str) -> Result<&RepositoryContent, ContentError> {
        self.repositories.get(name).ok_or_else(|| {
            ContentError::new(
                ErrorCode::NameUnknown,
                format!("repository {name} has no content"),
            )
        })
    }

    /// The content of repository `name`, created empty when it has none yet.
    fn repository_mut(&mut self, name: &str) -> &mut RepositoryContent {
        self.repositories.entry(name.to_string()).or_default()
    }

    /// The bytes of blob `digest` in `repository`.
    pub fn blob(&self, repository: &str, digest: &str) -> Result<&[u8], ContentError> {
        validate_digest(digest)?;
        let linked = self
            .repositories
            .get(repository)
            .is_some_and(|r| r.blobs.contains(digest));
        match self.blobs.get(digest) {
            Some(data) if linked => Ok(data),
            _ => refuse(
                ErrorCode::BlobUnknown,
                format!("blob {digest} unknown to repository {repository}"),
            ),
        }
    }

    /// Stores `data` as blob `digest` of `repository` after checking the digest.
    pub(super) fn put_blob(
        &mut self,
        repository: &str,
        digest: &str,
        data: Vec<u8>,
    ) -> Result<(), ContentError> {
        let actual = validate_digest(digest)?.digest(&data);
        if actual != digest {
            return refuse(
                ErrorCode::DigestInvalid,
                format!("digest mismatch: content is {actual}, client said {digest}"),
            );
        }
        self.blobs.entry(actual.clone()).or_insert(data);
        self.repository_mut(repository).blobs.insert(actual);
        Ok(())
    }

    /// Links blob `digest` from repository `from` into `repository`, refused (`BLOB_UNKNOWN`)
    /// when `from` lacks it.
    pub(super) fn mount_blob(
        &mut self,
        repository: &str,
        from: &str,
        digest: &str,
    ) -> Result<(), ContentError> {
        self.blob(from, digest)?;
        self.repository_mut(repository)
            .blobs
            .insert(digest.to_string());
        Ok(())
    }

    /// Unlinks blob `digest` from `repository`.
    pub fn delete_blob(&mut self, repository: &str, digest: &str) -> Result<(), ContentError> {
        self.blob(repository, digest)?;
        self.repository_mut(repository).blobs.remove(digest);
        Ok(())
    }

    /// Opens an upload session for `repository`, unless [`UploadLimits::max_sessions`] are
    /// already open (429).
    pub fn start_upload(&mut self, repository: &str) -> Result<Uuid, ContentError> {
        let now = Instant::now();
        self.expire_uploads(now);
        if self.uploads.len() >= self.limits.max_sessions {
            return refuse(
                ErrorCode::TooManyRequests,
                format!(
                    "{} upload sessions are open, the most this registry keeps; finish or \
                     cancel one, or wait {} s for idle ones to expire",
                    self.uploads.len(),
                    self.limits.idle_timeout.as_secs()
                ),
            );
        }
        let id = Uuid::new_v4();
        self.uploads.insert(
            id,
            Upload {
                repository: repository.to_string(),
                data: Vec::new(),
                touched: now,
            },
        );
        Ok(id)
    }

    /// Drops the upload sessions idle for longer than [`UploadLimits::idle_timeout`] at `now`,
    /// freeing their data; returns how many went.
    pub fn expire_uploads(&mut self, now: Instant) -> usize {
        let before = self.uploads.len();
        let idle = self.limits.idle_timeout;
        self.uploads
            .retain(|_, upload| now.saturating_duration_since(upload.touched) < idle);
        if self.uploads.is_empty() {
            self.uploads.shrink_to_fit();
        }
        before - self.uploads.len()
    }

    /// Bytes all open upload sessions hold.
    pub fn upload_bytes(&self) -> u64 {
        self.uploads.values().map(|u| u.data.len() as u64).sum()
    }

    /// How many more bytes upload sessions may take before reaching
    /// [`UploadLimits::max_bytes`].
    pub fn upload_room(&self) -> u64 {
        self.limits.max_bytes.saturating_sub(self.upload_bytes())
    }

    /// Refuses (413) `incoming` more bytes for upload sessions when they would exceed
    /// [`UploadLimits::max_bytes`], and otherwise answers the [`ContentStore::upload_room`];
    /// checked against a declared length before reading a chunk, which is then cut off there.
    pub fn check_upload_room(&self, incoming: u64) -> Result<u64, ContentError> {
        if incoming > self.upload_room() {
            let held = self.upload_bytes();
            return refuse(
                ErrorCode::TooLarge,
                format!(
                    "a chunk of {incoming} bytes would exceed the {} bytes open upload sessions \
                     may hold together ({held} held)",
                    self.limits.max_bytes
                ),
            );
        }
        Ok(self.upload_room())
    }

    /// The session `id` of `repository`, touched now; idle-expired sessions are dropped first.
    fn upload_mut(&mut self, repository: &str, id: Uuid) -> Result<&mut Upload, ContentError> {
        let now = Instant::now();
        self.expire_uploads(now);
        match self.uploads.get_mut(&id) {
            Some(upload) if upload.repository == repository => {
                upload.touched = now;
                Ok(upload)
            }
            _ => refuse(
                ErrorCode::BlobUploadUnknown,
                format!("upload {id} unknown to repository {repository}"),
            ),
        }
    }

    /// Bytes received so far by upload `id`.
    pub fn upload_size(&mut self, repository: &str, id: Uuid) -> Result<u64, ContentError> {
        Ok(self.upload_mut(repository, id)?.data.len() as u64)
    }

    /// Appends `chunk` to upload `id`; `start`, from Content-Range, must equal the bytes
    /// received so far. Returns the new size.
    pub fn append_upload(
        &mut self,
        repository: &str,
        id: Uuid,
        chunk: &[u8],
        start: Option<u64>,
    ) -> Result<u64, ContentError> {
        self.check_upload_room(chunk.len() as u64)?;
        let upload = self.upload_in_order(repository, id, start)?;
        upload.data.extend_from_slice(chunk);
        Ok(upload.data.len() as u64)
    }

    /// Upload `id`, after checking that a chunk starting at `start` (from Content-Range)
    /// continues it: `start` must equal the bytes received so far.
    fn upload_in_order(
        &mut self,
        repository: &str,
        id: Uuid,
        start: Option<u64>,
    ) -> Result<&mut Upload, ContentError> {
        let upload = self.upload_mut(repository, id)?;
        let size = upload.data.len() as u64;
        match start {
            Some(start) if start != size => refuse(
                ErrorCode::RangeInvalid,
                format!("chunk starts at {start} but {size} bytes were received"),
            ),
            _ => Ok(upload),
        }
    }

    /// Completes upload `id` with a last `chunk` (starting at `start` when Content-Range
    /// says so), verifying the whole content against `digest`. A failed verification keeps
    /// the session so the client may retry.
    pub(super) fn finish_upload(
        &mut self,
        repository: &str,
        id: Uuid,
        digest: &str,
        chunk: &[u8],
        start: Option<u64>,
    ) -> Result<(), ContentError> {
        validate_digest(digest)?;
        let upload = self.upload_in_order(repository, id, start)?;
        let mut data = upload.data.clone();
        data.extend_from_slice(chunk);
        self.put_blob(repository, digest, data)?;
        self.uploads.remove(&id);
        Ok(())
    }

    /// Cancels upload `id`.
    pub fn cancel_upload(&mut self, repository: &str, id: Uuid) -> Result<(), ContentError> {
        self.upload_mut(repository, id)?;
        self.uploads.remove(&id);
        Ok(())
    }

    /// Stores a manifest under `reference` (a tag, or a digest that must match, `sha256` or
    /// `sha512`) and also under each of `tags` (the `tag` parameters of a push). Every blob
    /// and child manifest it references must already be in the repository, except
    /// non-distributable layers; its `subject` need not exist.
    pub(super) fn put_manifest(
        &mut self,
        repository: &str,
        reference: &str,
        tags: &[&str],
        media_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<PushedManifest, ContentError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return refuse(
                ErrorCode::ManifestInvalid,
                format!("manifest larger than {MAX_MANIFEST_BYTES} bytes"),
            );
        }
        let is_digest = reference.contains(':');
        let algorithm = if is_digest {
            validate_digest(reference)?
        } else {
            Algorithm::Sha256
        };
        let digest = algorithm.digest(&bytes);
        if is_digest && reference != digest {
            return refuse(
                ErrorCode::DigestInvalid,
                format!("manifest digest is {digest}, not {reference}"),
            );
        }
        let named = (!is_digest).then_some(reference);
        if let Some(bad) = named.iter().chain(tags).find(|tag| !is_valid_tag(tag)) {
            return refuse(ErrorCode::ManifestInvalid, format!("invalid tag {bad:?}"));
        }
        let doc = ManifestDoc::parse(&bytes)?;
        self.check_references(repository, &doc)?;
        let media_type = media_type
            .map(str::to_string)
            .or_else(|| doc.media_type.clone())
            .unwrap_or_else(|| super::manifest_doc::OCI_MANIFEST.to_string());
        let subject = doc.subject.clone();
        let repo = self.repository_mut(repository);
        repo.manifests.insert(
            digest.clone(),
            StoredManifest {
                digest: digest.clone(),
                media_type,
                bytes,
                doc,
            },
        );
        for tag in named.iter().chain(tags) {
            repo.tags.insert(tag.to_string(), digest.clone());
        }
        Ok(PushedManifest {
            digest,
            subject,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        })
    }

    fn check_references(&self, repository: &str, doc: &ManifestDoc) -> Result<(), ContentError> {
        let repo = self.repositories.get(repository);
        for digest in &doc.blobs {
            if !repo.is_some_and(|r| r.blobs.contains(digest)) {
                return refuse(
                    ErrorCode::ManifestBlobUnknown,
                    format!("manifest references blob {digest} unknown to {repository}"),
                );
            }
        }
        for digest in &doc.children {
            if !repo.is_some_and(|r| r.manifests.contains_key(digest)) {
                return refuse(
                    ErrorCode::ManifestBlobUnknown,
                    format!("index references manifest {digest} unknown to {repository}"),
                );
            }
        }
        Ok(())
    }

    /// The manifest `reference` (tag or digest) of `repository`.
    pub fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<&StoredManifest, ContentError> {
        let repo = self.repositories.get(repository);
        let digest = if reference.contains(':') {
            Some(reference)
        } else {
            repo.and_then(|r| r.tags.get(reference)).map(String::as_str)
        };
        digest
            .and_then(|digest| repo?.manifests.get(digest))
            .ok_or_else(|| {
                ContentError::new(
                    ErrorCode::ManifestUnknown,
                    format!("manifest {reference} unknown to repository {repository}"),
                )
            })
    }

    /// Deletes manifest `digest` and every tag pointing at it, or, given a tag, only that tag
    /// (the manifest stays, reachable by digest), as the OCI distribution spec describes.
    pub fn delete_manifest(
        &mut self,
        repository: &str,
        reference: &str,
    ) -> Result<(), ContentError> {
        let by_digest = reference.contains(':');
        if by_digest {
            validate_digest(reference)?;
        }
        self.manifest(repository, reference)?;
        let repo = self.repository_mut(repository);
        if by_digest {
            repo.manifests.remove(reference);
            repo.tags.retain(|_, digest| digest != reference);
        } else {
            repo.tags.remove(reference);
        }
        Ok(())
    }

    /// Tags of `repository`, sorted.
    pub fn tags(&self, repository: &str) -> Result<Vec<String>, ContentError> {
        Ok(self.repository(repository)?.tags.keys().cloned().collect())
    }

    /// The referrers API answer for `subject`: an image index listing the manifests of
    /// `repository` whose `subject` is that digest (sorted by digest), only those of
    /// `artifact_type` when a filter is given. An unknown subject or repository has no
    /// referrers; a malformed digest is `DIGEST_INVALID`.
    pub fn referrers(
        &self,
        repository: &str,
        subject: &str,
        artifact_type: Option<&str>,
    ) -> Result<Value, ContentError> {
        validate_digest(subject)?;
        let mut found: Vec<&StoredManifest> = self
            .repositories
            .get(repository)
            .map(|repo| {
                repo.manifests
                    .values()
                    .filter(|m| m.doc.subject.as_deref() == Some(subject))
                    .filter(|m| {
                        artifact_type.is_none_or(|t| m.doc.artifact_type.as_deref() == Some(t))
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(json!({
            "schemaVersion": 2,
            "mediaType": super::manifest_doc::OCI_INDEX,
            "manifests": found.iter().map(|m| m.referrer_descriptor()).collect::<Vec<_>>(),
        }))
    }
}

/// One page of a sorted list: the items after `last`, at most `n` of them, and whether more
/// follow.
pub fn paginate(items: Vec<String>, last: Option<&str>, n: Option<usize>) -> (Vec<String>, bool) {
    let after: Vec<String> = items
        .into_iter()
        .filter(|item| last.is_none_or(|last| item.as_str() > last))
        .collect();
    match n {
        Some(n) if after.len() > n => (after[..n].to_vec(), true),
        _ => (after, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPO: &str = "alice/app";

    fn manifest_for(config: &str, layer: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 5}],
        }))
        .unwrap()
    }

    #[test]
    fn monolithic_blob_is_verified() {
        let mut store = ContentStore::default();
        let digest = sha256_digest(b"hello");
        assert_eq!(
            store
                .put_blob(REPO, &sha256_digest(b"other"), b"hello".to_vec())
                .unwrap_err()
                .code,
            ErrorCode::DigestInvalid
        );
        store.put_blob(REPO, &digest, b"hello".to_vec()).unwrap();
        assert_eq!(store.blob(REPO, &digest).unwrap(), b"hello");
        assert_eq!(
            store.blob("bob/app", &digest).unwrap_err().code,
            ErrorCode::BlobUnknown
        );
    }

    #[test]
    fn chunked_upload_checks_ranges_and_digest() {
        let mut store = ContentStore::default();
        let id = store.start_upload(REPO).unwrap();
        assert_eq!(store.append_upload(REPO, id, b"hel", Some(0)).unwrap(), 3);
        assert_eq!(
            store
                .append_upload(REPO, id, b"lo", Some(0))
                .unwrap_err()
                .code,
            ErrorCode::RangeInvalid
        );
        assert_eq!(store.append_upload(REPO, id, b"l", None).unwrap(), 4);
        assert_eq!(store.upload_size(REPO, id).unwrap(), 4);
        let bad = store.finish_upload(REPO, id, &sha256_digest(b"x"), b"o", None);
        assert_eq!(bad.unwrap_err().code, ErrorCode::DigestInvalid);
        let early = store.finish_upload(REPO, id, &sha256_digest(b"hello"), b"o", Some(2));
        assert_eq!(early.unwrap_err().code, ErrorCode::RangeInvalid);
        store
            .finish_upload(REPO, id, &sha256_digest(b"hello"), b"o", Some(4))
            .unwrap();
        assert_eq!(
            store.upload_size(REPO, id).unwrap_err().code,
            ErrorCode::BlobUploadUnknown
        );
        assert!(store.blob(REPO, &sha256_digest(b"hello")).is_ok());
    }

    #[test]
    fn upload_sessions_are_bounded_and_expire() {
        let limits = UploadLimits {
            idle_timeout: Duration::from_secs(60),
            max_sessions: 2,
            max_bytes: 10,
        };
        let mut store = ContentStore::new(limits);
        let first = store.start_upload(REPO).unwrap();
        store.start_upload(REPO).unwrap();
        let refused = store.start_upload(REPO).unwrap_err();
        assert_eq!(refused.code, ErrorCode::TooManyRequests);
        assert_eq!(
            store.append_upload(REPO, first, b"12345678", None).unwrap(),
            8
        );
        assert_eq!(store.upload_room(), 2);
        let refused = store.append_upload(REPO, first, b"abc", None).unwrap_err();
        assert_eq!(
            (refused.code, refused.code.status()),
            (ErrorCode::TooLarge, 413)
        );
        assert!(refused.message.contains("10 bytes"), "{}", refused.message);
        assert_eq!(store.expire_uploads(Instant::now()), 0);
        assert_eq!(
            store.expire_uploads(Instant::now() + Duration::from_secs(61)),
            2
        );
        assert_eq!((store.upload_bytes(), store.upload_room()), (0, 10));
        assert!(store.start_upload(REPO).is_ok());
    }

    #[test]
    fn upload_belongs_to_its_repository() {
        let mut store = ContentStore::default();
        let id = store.start_upload(REPO).unwrap();
        assert!(store.append_upload("bob/app", id, b"x", None).is_err());
        store.cancel_upload(REPO, id).unwrap();
        assert!(store.cancel_upload(REPO, id).is_err());
    }

    #[test]
    fn manifests_need_their_blobs_and_resolve_by_tag_and_digest() {
        let mut store = ContentStore::default();
        let config = sha256_digest(b"{}");
        let layer = sha256_digest(b"layer");
        let body = manifest_for(&config, &layer);
        let err = store
            .put_manifest(REPO, "v1", &[], None, body.clone())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ManifestBlobUnknown);
        store.put_blob(REPO, &config, b"{}".to_vec()).unwrap();
        store.put_blob(REPO, &layer, b"layer".to_vec()).unwrap();
        let digest = store
            .put_manifest(REPO, "v1", &[], None, body.clone())
            .unwrap()
            .digest;
        assert_eq!(digest, sha256_digest(&body));
        assert_eq!(store.manifest(REPO, "v1").unwrap().bytes, body);
        assert_eq!(
            store.manifest(REPO, &digest).unwrap().media_type,
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(store.tags(REPO).unwrap(), vec!["v1"]);
        store
            .put_manifest(REPO, "v2", &[], None, body.clone())
            .unwrap();
        store.delete_manifest(REPO, "v1").unwrap();
        assert_eq!(store.tags(REPO).unwrap(), vec!["v2"]);
        assert!(
            store.manifest(REPO, &digest).is_ok(),
            "a tag delete keeps the manifest"
        );
        assert_eq!(
            store.delete_manifest(REPO, "v1").unwrap_err().code,
            ErrorCode::ManifestUnknown
        );
        store.delete_manifest(REPO, &digest).unwrap();
        assert!(store.tags(REPO).unwrap().is_empty());
        assert_eq!(
            store.manifest(REPO, "v1").unwrap_err().code,
            ErrorCode::ManifestUnknown
        );
    }

    #[test]
    fn tag_parameters_tag_a_push_by_digest() {
        let mut store = ContentStore::default();
        let body = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        let digest = sha256_digest(&body);
        let bad = store.put_manifest(REPO, &digest, &["ok", "-bad"], None, body.clone());
        let err = bad.unwrap_err();
        assert_eq!(err.code, ErrorCode::ManifestInvalid);
        assert!(err.message.contains("\"-bad\""), "{}", err.message);
        assert!(store.tags(REPO).is_err(), "nothing stored");
        let pushed = store
            .put_manifest(REPO, &digest, &["a", "b"], None, body)
            .unwrap();
        assert_eq!(pushed.tags, ["a", "b"]);
        assert_eq!(store.tags(REPO).unwrap(), ["a", "b"]);
        assert_eq!(store.manifest(REPO, "b").unwrap().digest, digest);
    }

    #[test]
    fn manifest_put_by_wrong_digest_or_bad_json_is_refused() {
        let mut store = ContentStore::default();
        let wrong = sha256_digest(b"nope");
        assert_eq!(
            store
                .put_manifest(REPO, &wrong, &[], None, b"{}".to_vec())
                .unwrap_err()
                .code,
            ErrorCode::DigestInvalid
        );
        assert_eq!(
            store
                .put_manifest(REPO, "v1", &[], None, b"[1]".to_vec())
                .unwrap_err()
                .code,
            ErrorCode::ManifestInvalid
        );
        assert_eq!(
            store
                .put_manifest(REPO, "bad tag", &[], None, b"{}".to_vec())
                .unwrap_err()
                .code,
            ErrorCode::ManifestInvalid
        );
    }

    #[test]
    fn sha512_content_is_verified_and_addressed_by_its_digest() {
        let mut store = ContentStore::default();
        let config = Algorithm::Sha512.digest(b"{}");
        store.put_blob(REPO, &config, b"{}".to_vec()).unwrap();
        assert_eq!(store.blob(REPO, &config).unwrap(), b"{}");
        let wrong = Algorithm::Sha512.digest(b"x");
        assert_eq!(
            store
                .put_blob(REPO, &wrong, b"{}".to_vec())
                .unwrap_err()
                .code,
            ErrorCode::DigestInvalid
        );
        let body = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
            "layers": [],
        }))
        .unwrap();
        let digest = Algorithm::Sha512.digest(&body);
        let pushed = store.put_manifest(REPO, &digest, &[], None, body).unwrap();
        assert_eq!(pushed.digest, digest);
        assert!(store.manifest(REPO, &digest).is_ok());
    }

    #[test]
    fn referrers_list_manifests_naming_the_subject() {
        let mut store = ContentStore::default();
        store
            .put_blob(REPO, &sha256_digest(b"{}"), b"{}".to_vec())
            .unwrap();
        let subject = sha256_digest(b"not pushed");
        let referrer = |artifact_type: &str| {
            serde_json::to_vec(&serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": artifact_type,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha256_digest(b"{}"), "size": 2},
                "layers": [],
                "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": 1},
                "annotations": {"org.example": "yes"},
            }))
            .unwrap()
        };
        let sig = store
            .put_manifest(REPO, "sig", &[], None, referrer("application/sig"))
            .unwrap();
        assert_eq!(sig.subject.as_deref(), Some(subject.as_str()));
        store
            .put_manifest(REPO, "sbom", &[], None, referrer("application/sbom"))
            .unwrap();
        let all = store.referrers(REPO, &subject, None).unwrap();
        assert_eq!(all["mediaType"], "application/vnd.oci.image.index.v1+json");
        assert_eq!(all["manifests"].as_array().unwrap().len(), 2);
        let only = store
            .referrers(REPO, &subject, Some("application/sig"))
            .unwrap();
        let listed = &only["manifests"][0];
        assert_eq!(only["manifests"].as_array().unwrap().len(), 1);
        assert_eq!(listed["digest"], sig.digest.as_str());
        assert_eq!(listed["artifactType"], "application/sig");
        assert_eq!(listed["annotations"]["org.example"], "yes");
        store.delete_manifest(REPO, &sig.digest).unwrap();
        let after = store
            .referrers(REPO, &subject, Some("application/sig"))
            .unwrap();
        assert_eq!(after["manifests"], serde_json::json!([]));
        let nothing = store.referrers("bob/none", &subject, None).unwrap();
        assert_eq!(nothing["manifests"], serde_json::json!([]));
        assert_eq!(
            store.referrers(REPO, "sha256:zz", None).unwrap_err().code,
            ErrorCode::DigestInvalid
        );
    }

    #[test]
    fn tags_are_validated() {
        assert!(is_valid_tag("latest") && is_valid_tag("_v1.2-rc"));
        assert!(!is_valid_tag("") && !is_valid_tag(".x") && !is_valid_tag(&"a".repeat(129)));
    }

    #[test]
    fn pagination() {
        let items: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        assert_eq!(
            paginate(items.clone(), None, Some(2)),
            (vec!["a".into(), "b".into()], true)
        );
        assert_eq!(
            paginate(items.clone(), Some("b"), Some(2)),
            (vec!["c".into(), "d".into()], false)
        );
        assert_eq!(paginate(items, Some("d"), None), (vec![], false));
    }

    #[test]
    fn mount_links_existing_blob_only() {
        let mut store = ContentStore::default();
        let digest = sha256_digest(b"x");
        store.put_blob("bob/base", &digest, b"x".to_vec()).unwrap();
        assert!(store.mount_blob(REPO, "bob/other", &digest).is_err());
        assert!(store.mount_blob(REPO, "bob/base", &digest).is_ok());
        assert!(store.blob(REPO, &digest).is_ok());
        store.delete_blob(REPO, &digest).unwrap();
        assert!(store.blob(REPO, &digest).is_err());
        assert!(store.blob("bob/base", &digest).is_ok());
    }
}
