//! Running Debian's `docker-registry` (distribution 2.8) configured for token auth against a
//! fake registry: realm and issuer are ours, `rootcertbundle` is our token certificate.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `docker-registry serve`; killed on drop.
pub struct Distribution {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub host: String,
    _dir: tempfile::TempDir,
}

impl Distribution {
    /// Starts `program` trusting `token_cert_pem`, with `realm` (our `/token` URL), `service`
    /// and `issuer`; waits until it answers.
    pub fn start(
        program: &Path,
        realm: &str,
        service: &str,
        issuer: &str,
        token_cert_pem: &str,
    ) -> std::io::Result<Distribution> {
        let dir = tempfile::tempdir()?;
        let cert = dir.path().join("token-cert.pem");
        std::fs::write(&cert, token_cert_pem)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  inmemory: {{}}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\nauth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
                cert.display()
            ),
        )?;
        let child = Command::new(program)
            .arg("serve")
            .arg(&config)
            .env_remove("REGISTRY_HTTP_ADDR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut distribution = Distribution {
            child,
            url: format!("http://{host}"),
            host,
            _dir: dir,
        };
        distribution.wait_until_listening()?;
        Ok(distribution)
    }

    fn wait_until_listening(&mut self) -> std::io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&self.host).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(std::io::Error::other(format!(
                    "docker-registry exited early: {status}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(std::io::Error::other(
            "docker-registry did not start listening within 20 s",
        ))
    }

    /// The process id (for RSS readings).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where Debian installs distribution.
pub const DISTRIBUTION_CANDIDATES: [&str; 1] = ["/usr/bin/docker-registry"];
