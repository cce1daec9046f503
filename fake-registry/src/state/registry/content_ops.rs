//! The content operations of [`Registry`]: every change that creates a repository (a manifest
//! push, a blob upload or mount) goes through one of these, which records the push; other
//! changes go through [`Registry::edit_content`] and reads through [`Registry::content`].

use uuid::Uuid;

use super::Registry;
use crate::state::access::validate_repository_name;
use crate::state::content::{ContentError, ContentStore, PushedManifest};

impl Registry {
    /// Runs `f` on a read-only view of the content store (tags, manifests, blobs, referrers,
    /// upload sizes and room).
    pub fn content<T>(&self, f: impl FnOnce(&ContentStore) -> T) -> T {
        f(&self.content.lock())
    }

    /// Runs the change `f` on the content store: deleting blobs, manifests and tags, and
    /// opening, appending to, measuring, cancelling and expiring uploads. The changes that
    /// create a repository are kept to the operations below.
    pub fn edit_content<T>(&self, f: impl FnOnce(&mut ContentStore) -> T) -> T {
        f(&mut self.content.lock())
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

    /// Stores a pushed manifest under `reference` and `tags` (see
    /// [`ContentStore::put_manifest`]); the repository exists from now on.
    pub fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        tags: &[&str],
        media_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<PushedManifest, ContentError> {
        self.push(repository, |c| {
            c.put_manifest(repository, reference, tags, media_type, bytes)
        })
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
        validate_repository_name(from).is_ok()
            && self
                .push(repository, |c| c.mount_blob(repository, from, digest))
                .is_ok()
    }

    /// Completes upload `id` with its last chunk `data` (starting at `start` when
    /// Content-Range says so) as blob `digest`; the repository exists from now on.
    pub fn finish_upload(
        &self,
        repository: &str,
        id: Uuid,
        digest: &str,
        data: &[u8],
        start: Option<u64>,
    ) -> Result<(), ContentError> {
        self.push(repository, |c| {
            c.finish_upload(repository, id, digest, data, start)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::state::Registry;
    use crate::state::access::Visibility;
    use crate::state::content::{ErrorCode, sha256_digest};
    use crate::state::seed::Seed;

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
        let pushed = registry
            .put_manifest("alice/index", "v1", &["v2"], None, body)
            .unwrap();
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
        registry
            .edit_content(|c| {
                let cancelled = c.start_upload("alice/gone")?;
                c.append_upload("alice/gone", cancelled, b"ab", None)?;
                c.cancel_upload("alice/gone", cancelled)
            })
            .unwrap();
        assert_eq!(registry.visibility("alice/gone"), None);
        let id = registry
            .edit_content(|c| c.start_upload("alice/app"))
            .unwrap();
        assert_eq!(
            registry
                .edit_content(|c| c.append_upload("alice/app", id, b"he", Some(0)))
                .unwrap(),
            2
        );
        assert_eq!(
            registry
                .edit_content(|c| c.upload_size("alice/app", id))
                .unwrap(),
            2
        );
        registry
            .finish_upload("alice/app", id, &sha256_digest(b"hello"), b"llo", Some(2))
            .unwrap();
        assert_eq!(registry.visibility("alice/app"), Some(Visibility::Private));
        assert_eq!(
            registry.content(|c| c
                .blob("alice/app", &sha256_digest(b"hello"))
                .map(<[u8]>::to_vec)),
            Ok(b"hello".to_vec())
        );
        assert_eq!(
            registry.edit_content(|c| c.expire_uploads(std::time::Instant::now())),
            0
        );
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
        registry
            .edit_content(|c| c.delete_blob("alice/app", &digest))
            .unwrap();
        assert!(registry.content(|c| c.blob("alice/app", &digest).is_err()));
    }

    #[test]
    fn reset_drops_pushed_content_and_its_repositories() {
        let registry = registry();
        let body = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        registry
            .put_manifest("alice/app", "v1", &[], None, body)
            .unwrap();
        registry
            .edit_content(|c| c.delete_manifest("alice/app", "v1"))
            .unwrap();
        registry.reset().unwrap();
        assert_eq!(registry.visibility("alice/app"), None);
        assert!(registry.content(|c| c.tags("alice/app")).is_err());
    }
}
