//! `credconform registry` runs the fake registry standalone with the same flags as its own
//! binary, prints its address first and stops cleanly on SIGTERM.

mod support;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Command, Stdio},
};

use support::credconform_bin;

#[test]
fn registry_subcommand_serves_the_token_challenge_and_stops_on_sigterm() {
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/registry/default.toml"
    );
    let mut child = Command::new(credconform_bin())
        .args(["registry", "--listen", "127.0.0.1:0", "--seed", seed])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_string();
    let mut conn = TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "GET /v2/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let lower = answer.to_ascii_lowercase();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        lower.contains("www-authenticate: bearer realm="),
        "{answer}"
    );
    assert!(
        lower.contains("docker-distribution-api-version: registry/2.0"),
        "{answer}"
    );
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    assert!(child.wait().unwrap().success());
}
