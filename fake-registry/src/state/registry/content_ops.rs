//! The content operations of [`Registry`]: every change to blobs, uploads and manifests goes
//! through one of these, which records the push that creates a repository; reads go through
//! the read-only [`Registry::content`] view.

use uuid::Uuid;

use super::Registry;
use crate::state::access::validate_repository_name;
use crate::state::content::{Chunk, ContentError, ContentStore, ManifestPush, PushedManifest};

impl Registry {
    /// Runs `f` on a read-only view of the content store (tags, manifests, blobs, referrers,
    /// upload sizes and room). Changes go through the operations below.
    pub fn content<T>(&self, f: impl FnOnce(&ContentStore) -> T) -> T {
        f(&self.content.lock())
    }

    /// Runs the change `f` on the content store and, when it succeeds, records that
    /// `repository` exists (private unless declared otherwise). The content lock is held
    /// across both, in the documented order (content, then accounts), so no reader sees
    /// content in a repository the catalog lacks.
    fn push<T>(
        &self,
        repository: &str,
        f: impl FnOnce(&mut ContentStore) -> Result<T, ContentError>,
    ) -> Result<T, ContentError> {
        let mut content = self.content.lock();
        let value = f(&mut content)?;
        self.note_push(repository);
        Ok(value)
    }

    /// Stores a pushed manifest under its reference and tags (see
    /// [`ContentStore::put_manifest`]); the repository exists from now on.
    pub fn put_manifest(
        &self,
        repository: &str,
        push: ManifestPush<'_>,
    ) -> Result<PushedManifest, ContentError> {
        let ManifestPush {
            reference,
            tags,
            media_type,
            bytes,
        } = push;
        self.push(repository, |c| {
            c.put_manifest(repository, reference, tags, media_type, bytes)
        })
    }

    /// Deletes a manifest by digest, or only a tag (see [`ContentStore::delete_manifest`]).
    pub fn delete_manifest(&self, repository: &str, reference: &str) -> Result<(), ContentError> {
        self.content.lock().delete_manifest(repository, reference)
    }

    /// Stores `data` as blob `digest` of `repository` after checking the digest (a monolithic
    /// upload); the repository exists from now on.
    pub fn put_blob(
        &self,
        repository: &str,
        digest: &str,
        data: Vec<u8>,
    ) -> Result<(), ContentError> {
        self.push(repository, |c| c.put_blob(repository, digest, data))
    }

    /// A cross-repository mount: links blob `digest` of repository `from` into `repository`;
    /// `false` when `from` is not a valid name or lacks the blob (the client then uploads).
    pub fn mount_blob(&self, repository: &str, from: &str, digest: &str) -> bool {
        if validate_repository_name(from).is_err() {
            return false;
        }
        let mut content = self.content.lock();
        let mounted = content.mount_blob(repository, from, digest);
        if mounted {
            self.note_push(repository);
        }
        mounted
    }

    /// Unlinks blob `digest` from `repository`.
    pub fn delete_blob(&self, repository: &str, digest: &str) -> Result<(), ContentError> {
        self.content.lock().delete_blob(repository, digest)
    }

    /// Opens an upload session for `repository`, within the upload limits.
    pub fn start_upload(&self, repository: &str) -> Result<Uuid, ContentError> {
        self.content.lock().start_upload(repository)
    }

    /// Bytes received so far by upload `id` (the session counts as used).
    pub fn upload_size(&self, repository: &str, id: Uuid) -> Result<u64, ContentError> {
        self.content.lock().upload_size(repository, id)
    }

    /// Appends `chunk` to upload `id`; the new size.
    pub fn append_upload(
        &self,
        repository: &str,
        id: Uuid,
        chunk: Chunk,
    ) -> Result<u64, ContentError> {
        let mut content = self.content.lock();
        content.append_upload(repository, id, chunk.data, chunk.start)
    }

    /// Completes upload `id` with its `last` chunk as blob `digest`; the repository exists
    /// from now on.
    pub fn finish_upload(
        &self,
        repository: &str,
        id: Uuid,
        digest: &str,
        last: Chunk,
    ) -> Result<(), ContentError> {
        self.push(repository, |c| {
            c.finish_upload(repository, id, digest, last.data, last.start)
        })
    }

    /// Cancels upload `id`.
    pub fn cancel_upload(&self, repository: &str, id: Uuid) -> Result<(), ContentError> {
        self.content.lock().cancel_upload(repository, id)
    }

    /// Drops upload sessions that have been idle too long, freeing their data; returns how
    /// many went. The server calls this periodically.
    pub fn expire_uploads(&self) -> usize {
        self.content
            .lock()
            .expire_uploads(std::time::Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use crate::state::Registry;
    use crate::state::access::Visibility;
    use crate::state::content::{Chunk, ErrorCode, ManifestPush, sha256_digest};
    use crate::state::seed::Seed;

    fn chunk(data: &[u8], start: Option<u64>) -> Chunk<'_> {
        Chunk { data, start }
    }

    fn registry() -> Registry {
        Registry::new(Seed::default()).unwrap()
    }

    #[test]
    fn a_push_creates_its_repository_private_and_a_refused_one_creates_nothing() {
        let registry = registry();
        let wrong = registry.put_blob("alice/app", &sha256_digest(b"other"), b"x".to_vec());
        assert_eq!(wrong.unwrap_err().code, ErrorCode::DigestInvalid);
        assert_eq!(registry.visibility("alice/app"), None);
        registry
            .put_blob("alice/app", &sha256_digest(b"x"), b"x".to_vec())
            .unwrap();
        assert_eq!(registry.visibility("alice/app"), Some(Visibility::Private));
        let body = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        let push = ManifestPush {
            reference: "v1",
            tags: &["v2"],
            media_type: None,
            bytes: body,
        };
        let pushed = registry.put_manifest("alice/index", push).unwrap();
        assert_eq!(pushed.tags, ["v2"]);
        assert_eq!(
            registry.content(|c| c.tags("alice/index")).unwrap(),
            ["v1", "v2"]
        );
        assert_eq!(
            registry.visibility("alice/index"),
            Some(Visibility::Private)
        );
    }

    #[test]
    fn a_push_keeps_a_declared_visibility() {
        let registry = registry();
        registry
            .add_repository("bob/public", Visibility::Public)
            .unwrap();
        registry
            .put_blob("bob/public", &sha256_digest(b"x"), b"x".to_vec())
            .unwrap();
        assert_eq!(registry.visibility("bob/public"), Some(Visibility::Public));
    }

    #[test]
    fn a_finished_upload_creates_its_repository_and_a_cancelled_one_does_not() {
        let registry = registry();
        let cancelled = registry.start_upload("alice/gone").unwrap();
        registry
            .append_upload("alice/gone", cancelled, chunk(b"ab", None))
            .unwrap();
        registry.cancel_upload("alice/gone", cancelled).unwrap();
        assert_eq!(registry.visibility("alice/gone"), None);
        let id = registry.start_upload("alice/app").unwrap();
        assert_eq!(
            registry
                .append_upload("alice/app", id, chunk(b"he", Some(0)))
                .unwrap(),
            2
        );
        assert_eq!(registry.upload_size("alice/app", id).unwrap(), 2);
        registry
            .finish_upload(
                "alice/app",
                id,
                &sha256_digest(b"hello"),
                chunk(b"llo", Some(2)),
            )
            .unwrap();
        assert_eq!(registry.visibility("alice/app"), Some(Visibility::Private));
        assert_eq!(
            registry.content(|c| c
                .blob("alice/app", &sha256_digest(b"hello"))
                .map(<[u8]>::to_vec)),
            Ok(b"hello".to_vec())
        );
        assert_eq!(registry.expire_uploads(), 0);
    }

    #[test]
    fn a_mount_needs_a_valid_source_that_holds_the_blob() {
        let registry = registry();
        let digest = sha256_digest(b"x");
        registry
            .put_blob("bob/base", &digest, b"x".to_vec())
            .unwrap();
        assert!(!registry.mount_blob("alice/app", "Bob/Base", &digest));
        assert!(!registry.mount_blob("alice/app", "bob/other", &digest));
        assert_eq!(registry.visibility("alice/app"), None);
        assert!(registry.mount_blob("alice/app", "bob/base", &digest));
        assert_eq!(registry.visibility("alice/app"), Some(Visibility::Private));
        registry.delete_blob("alice/app", &digest).unwrap();
        assert!(registry.content(|c| c.blob("alice/app", &digest).is_err()));
    }

    #[test]
    fn reset_drops_pushed_content_and_its_repositories() {
        let registry = registry();
        let body = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        let push = ManifestPush {
            reference: "v1",
            tags: &[],
            media_type: None,
            bytes: body,
        };
        registry.put_manifest("alice/app", push).unwrap();
        registry.delete_manifest("alice/app", "v1").unwrap();
        registry.reset().unwrap();
        assert_eq!(registry.visibility("alice/app"), None);
        assert!(registry.content(|c| c.tags("alice/app")).is_err());
    }
}
