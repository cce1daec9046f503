//! skopeo pushes an image with a `repo:write` PAT and is refused with a `repo:read` one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

use crate::support::{self, OCI_MANIFEST, digest, oci_manifest, peer_program, seed};

/// Writes a one-layer OCI image layout to `dir` (tag `v1`); returns nothing, panics on I/O errors.
fn write_oci_layout(dir: &Path) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| -> (String, usize) {
        let digest = digest(data);
        let hex = digest.strip_prefix("sha256:").unwrap();
        std::fs::write(blobs.join(hex), data).unwrap();
        (digest, data.len())
    };
    // An empty tar archive: two 512-byte zero blocks.
    let layer = [0u8; 1024];
    let (layer_digest, _) = put(&layer);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "config": {},
    }))
    .unwrap();
    put(&config);
    let manifest = serde_json::to_vec(&oci_manifest(&config, &layer)).unwrap();
    let (manifest, manifest_size) = put(&manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": OCI_MANIFEST,
            "digest": manifest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
}

/// Runs `skopeo copy` of the `v1` image in `layout` to `destination` with `creds`
/// (`user:secret`), keeping its state under `home`.
fn skopeo_copy(
    skopeo: &Path,
    layout: &Path,
    home: &Path,
    destination: &str,
    creds: &str,
) -> Output {
    Command::new(skopeo)
        .args([
            "--insecure-policy",
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            creds,
        ])
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(destination)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env("REGISTRY_AUTH_FILE", home.join("auth.json"))
        .output()
        .unwrap()
}

/// [`skopeo_copy`] on a blocking thread, so the registry keeps serving meanwhile.
async fn skopeo_push(
    skopeo: &Path,
    layout: &Path,
    home: &Path,
    destination: String,
    creds: String,
) -> Output {
    let (skopeo, layout, home): (PathBuf, PathBuf, PathBuf) =
        (skopeo.into(), layout.into(), home.into());
    tokio::task::spawn_blocking(move || skopeo_copy(&skopeo, &layout, &home, &destination, &creds))
        .await
        .unwrap()
}

#[tokio::test]
async fn skopeo_pushes_with_a_write_pat_and_is_refused_with_a_read_pat() {
    let Some(skopeo) = peer_program("skopeo", &["/usr/bin/skopeo"]) else {
        return;
    };
    let registry = support::start().await;
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    write_oci_layout(&layout);
    let output = skopeo_push(
        &skopeo,
        &layout,
        work.path(),
        format!("docker://{}/bob/app:v1", registry.host()),
        format!("bob:{}", seed::BOB_WRITE),
    )
    .await;
    assert!(
        output.status.success(),
        "skopeo copy with repo:write failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tags = registry.state().content(|c| c.tags("bob/app")).unwrap();
    assert_eq!(tags, vec!["v1"]);

    let output = skopeo_push(
        &skopeo,
        &layout,
        work.path(),
        format!("docker://{}/bob/other:v1", registry.host()),
        format!("bob:{}", seed::BOB_READ),
    )
    .await;
    assert!(
        !output.status.success(),
        "skopeo copy with repo:read must fail"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.to_lowercase().contains("unauthorized") || stderr.contains("denied"),
        "{stderr}"
    );
    assert!(
        registry.state().content(|c| c.tags("bob/other")).is_err(),
        "nothing was pushed"
    );
}
