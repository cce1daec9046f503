//! What a `/v2/<rest>` path addresses: catalog, tags, manifests, referrers, blobs or uploads of
//! a repository whose name may contain slashes.

use uuid::Uuid;

/// A parsed registry API path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V2Path {
    /// `/v2/_catalog`
    Catalog,
    /// `/v2/<name>/tags/list`
    Tags(String),
    /// `/v2/<name>/manifests/<reference>`
    Manifest(String, String),
    /// `/v2/<name>/referrers/<digest>`
    Referrers(String, String),
    /// `/v2/<name>/blobs/<digest>`
    Blob(String, String),
    /// `/v2/<name>/blobs/uploads/`
    Uploads(String),
    /// `/v2/<name>/blobs/uploads/<uuid>`
    Upload(String, Uuid),
}

impl V2Path {
    /// Parses the part after `/v2/`; `None` when it names nothing of the API.
    pub fn parse(rest: &str) -> Option<V2Path> {
        if rest == "_catalog" {
            return Some(V2Path::Catalog);
        }
        if let Some(name) = rest.strip_suffix("/tags/list") {
            return Some(V2Path::Tags(name.to_string()));
        }
        if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
            return (!reference.is_empty() && !reference.contains('/'))
                .then(|| V2Path::Manifest(name.to_string(), reference.to_string()));
        }
        if let Some((name, digest)) = rest.rsplit_once("/referrers/") {
            return (!digest.is_empty() && !digest.contains('/'))
                .then(|| V2Path::Referrers(name.to_string(), digest.to_string()));
        }
        if let Some(name) = rest
            .strip_suffix("/blobs/uploads/")
            .or_else(|| rest.strip_suffix("/blobs/uploads"))
        {
            return Some(V2Path::Uploads(name.to_string()));
        }
        if let Some((name, id)) = rest.rsplit_once("/blobs/uploads/") {
            return Uuid::parse_str(id)
                .ok()
                .map(|id| V2Path::Upload(name.to_string(), id));
        }
        if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
            return (!digest.is_empty() && !digest.contains('/'))
                .then(|| V2Path::Blob(name.to_string(), digest.to_string()));
        }
        None
    }

    /// The repository the path is about (`None` for the catalog).
    pub fn repository(&self) -> Option<&str> {
        match self {
            V2Path::Catalog => None,
            V2Path::Tags(name)
            | V2Path::Manifest(name, _)
            | V2Path::Referrers(name, _)
            | V2Path::Blob(name, _)
            | V2Path::Uploads(name)
            | V2Path::Upload(name, _) => Some(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_endpoint() {
        let id = Uuid::new_v4();
        let cases = [
            ("_catalog", Some(V2Path::Catalog)),
            ("a/b/tags/list", Some(V2Path::Tags("a/b".into()))),
            (
                "a/b/manifests/latest",
                Some(V2Path::Manifest("a/b".into(), "latest".into())),
            ),
            (
                "a/blobs/sha256:00",
                Some(V2Path::Blob("a".into(), "sha256:00".into())),
            ),
            (
                "a/b/referrers/sha256:00",
                Some(V2Path::Referrers("a/b".into(), "sha256:00".into())),
            ),
            ("a/referrers/", None),
            ("a/b/blobs/uploads/", Some(V2Path::Uploads("a/b".into()))),
            ("a/b/blobs/uploads", Some(V2Path::Uploads("a/b".into()))),
            (
                &format!("a/blobs/uploads/{id}") as &str,
                Some(V2Path::Upload("a".into(), id)),
            ),
            ("a/blobs/uploads/not-a-uuid", None),
            ("a/manifests/", None),
            ("a/b", None),
        ];
        for (input, expected) in cases {
            assert_eq!(V2Path::parse(input), expected, "{input}");
        }
        assert_eq!(V2Path::Catalog.repository(), None);
        assert_eq!(V2Path::Tags("x/y".into()).repository(), Some("x/y"));
    }

    #[test]
    fn repository_named_like_an_endpoint_word() {
        assert_eq!(
            V2Path::parse("users/manifests/manifests/v1"),
            Some(V2Path::Manifest("users/manifests".into(), "v1".into()))
        );
    }

    proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,120}") {
            let _ = V2Path::parse(&input);
        }
    }
}
