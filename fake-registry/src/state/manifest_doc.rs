//! What the registry reads from an uploaded manifest or index (OCI image spec): the media
//! type, the blobs and child manifests it references, its `subject` and `artifactType`, and
//! its annotations. Parsed once when the manifest is pushed.

use serde_json::{Map, Value};

use super::content::{ContentError, ErrorCode};

/// Media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image index (also the referrers API answer).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Layer media types whose content is, by definition, not pushed to the registry: OCI
/// non-distributable layers and Docker foreign layers.
const NONDISTRIBUTABLE_LAYERS: [&str; 5] = [
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

/// The parts of a manifest the registry acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestDoc {
    /// The document's own `mediaType` field, if any.
    pub media_type: Option<String>,
    /// Digests of the config and the layers that must be in the repository.
    pub blobs: Vec<String>,
    /// Digests of the child manifests of an index.
    pub children: Vec<String>,
    /// Digest of the `subject` descriptor: the manifest this one refers to.
    pub subject: Option<String>,
    /// `artifactType`, or for an image manifest without one, the config's media type.
    pub artifact_type: Option<String>,
    /// The `annotations` object, if any.
    pub annotations: Option<Map<String, Value>>,
}

fn invalid(message: impl Into<String>) -> ContentError {
    ContentError::new(ErrorCode::ManifestInvalid, message)
}

fn text(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_string)
}

/// The digest of one descriptor; a descriptor without one is invalid.
fn descriptor_digest(descriptor: &Value, field: &str) -> Result<String, ContentError> {
    text(descriptor, "digest").ok_or_else(|| invalid(format!("a {field} descriptor has no digest")))
}

/// The descriptors of an array field (absent means none).
fn descriptors<'a>(document: &'a Value, field: &str) -> Result<&'a [Value], ContentError> {
    match document.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(format!("{field} is not an array"))),
    }
}

impl ManifestDoc {
    /// Parses manifest bytes; anything but a JSON object, or malformed descriptors, is
    /// `MANIFEST_INVALID`.
    pub fn parse(bytes: &[u8]) -> Result<ManifestDoc, ContentError> {
        let document: Value = match serde_json::from_slice(bytes) {
            Ok(value @ Value::Object(_)) => value,
            _ => return Err(invalid("manifest is not a JSON object")),
        };
        let config = document.get("config").filter(|c| !c.is_null());
        let mut blobs = Vec::new();
        if let Some(config) = config {
            blobs.push(descriptor_digest(config, "config")?);
        }
        for layer in descriptors(&document, "layers")? {
            let media_type = text(layer, "mediaType").unwrap_or_default();
            let digest = descriptor_digest(layer, "layers")?;
            if !NONDISTRIBUTABLE_LAYERS.contains(&media_type.as_str()) {
                blobs.push(digest);
            }
        }
        let children = descriptors(&document, "manifests")?
            .iter()
            .map(|child| descriptor_digest(child, "manifests"))
            .collect::<Result<_, _>>()?;
        let subject = document.get("subject").filter(|s| !s.is_null());
        let subject = subject
            .map(|s| descriptor_digest(s, "subject"))
            .transpose()?;
        let artifact_type =
            text(&document, "artifactType").or_else(|| config.and_then(|c| text(c, "mediaType")));
        let annotations = document
            .get("annotations")
            .and_then(Value::as_object)
            .cloned();
        Ok(ManifestDoc {
            media_type: text(&document, "mediaType"),
            blobs,
            children,
            subject,
            artifact_type,
            annotations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<ManifestDoc, ContentError> {
        ManifestDoc::parse(&serde_json::to_vec(&value).unwrap())
    }

    #[test]
    fn image_with_subject_and_nondistributable_layer() {
        let doc = parse(json!({
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.example+json", "digest": "sha256:c", "size": 2},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:l", "size": 1},
                {"mediaType": NONDISTRIBUTABLE_LAYERS[1], "digest": "sha256:n", "size": 1,
                 "urls": ["https://store.example.com/n"]},
            ],
            "subject": {"mediaType": OCI_MANIFEST, "digest": "sha256:s", "size": 9},
            "annotations": {"a": "b"},
        }))
        .unwrap();
        assert_eq!(doc.blobs, ["sha256:c", "sha256:l"]);
        assert_eq!(doc.subject.as_deref(), Some("sha256:s"));
        assert_eq!(
            doc.artifact_type.as_deref(),
            Some("application/vnd.example+json")
        );
        assert_eq!(doc.annotations.unwrap()["a"], "b");
        assert_eq!(doc.media_type.as_deref(), Some(OCI_MANIFEST));
    }

    #[test]
    fn index_lists_children_and_its_own_artifact_type() {
        let doc = parse(json!({
            "mediaType": OCI_INDEX,
            "artifactType": "application/vnd.example.list",
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:m", "size": 3}],
        }))
        .unwrap();
        assert_eq!(doc.children, ["sha256:m"]);
        assert!(doc.blobs.is_empty() && doc.subject.is_none());
        assert_eq!(
            doc.artifact_type.as_deref(),
            Some("application/vnd.example.list")
        );
    }

    #[test]
    fn malformed_documents_are_invalid() {
        for (value, message) in [
            (json!([1]), "not a JSON object"),
            (json!({"layers": {}}), "layers is not an array"),
            (
                json!({"layers": [{"size": 1}]}),
                "layers descriptor has no digest",
            ),
            (
                json!({"subject": {"size": 1}}),
                "subject descriptor has no digest",
            ),
        ] {
            let err = parse(value).unwrap_err();
            assert_eq!(err.code, ErrorCode::ManifestInvalid);
            assert!(err.message.contains(message), "{}", err.message);
        }
    }
}
