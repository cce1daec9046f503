//! skopeo pushes an image with a `repo:write` PAT and is refused with a `repo:read` one.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{self, peer_program, seed};

/// Writes a one-layer OCI image layout to `dir` (tag `v1`); returns nothing, panics on I/O errors.
fn write_oci_layout(dir: &Path) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| -> (String, usize) {
        let hex = hex::encode(Sha256::digest(data));
        std::fs::write(blobs.join(&hex), data).unwrap();
        (format!("sha256:{hex}"), data.len())
    };
    // An empty tar archive: two 512-byte zero blocks.
    let (layer, layer_size) = put(&[0u8; 1024]);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer]},
        "config": {},
    }))
    .unwrap();
    let (config, config_size) = put(&config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": layer_size}],
    }))
    .unwrap();
    let (manifest, manifest_size) = put(&manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest, "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
}

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

#[tokio::test]
async fn skopeo_pushes_with_a_write_pat_and_is_refused_with_a_read_pat() {
    let Some(skopeo) = peer_program("skopeo", &["/usr/bin/skopeo"]) else {
        return;
    };
    let registry = support::start().await;
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    write_oci_layout(&layout);
    let destination = format!("docker://{}/bob/app:v1", registry.host());
    let (skopeo_path, layout_path, home, dest) = (
        skopeo.clone(),
        layout.clone(),
        work.path().to_path_buf(),
        destination.clone(),
    );
    let creds = format!("bob:{}", seed::BOB_WRITE);
    let output = tokio::task::spawn_blocking(move || {
        skopeo_copy(&skopeo_path, &layout_path, &home, &dest, &creds)
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "skopeo copy with repo:write failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tags = registry.state().content(|c| c.tags("bob/app")).unwrap();
    assert_eq!(tags, vec!["v1"]);

    let destination = format!("docker://{}/bob/other:v1", registry.host());
    let home = work.path().to_path_buf();
    let creds = format!("bob:{}", seed::BOB_READ);
    let output = tokio::task::spawn_blocking(move || {
        skopeo_copy(&skopeo, &layout, &home, &destination, &creds)
    })
    .await
    .unwrap();
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
