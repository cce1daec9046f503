//! Numeric options are checked (a usage error naming the option and its range, exit 2, never a
//! panic), and a closed stdout ends the program quietly.

mod support;

use std::{
    io::Read,
    process::{Command, Stdio},
};

use support::*;

#[test]
fn out_of_range_numbers_are_usage_errors_naming_option_and_range() {
    let cases = [
        ("--timeout", "1e20", "greater than 0 and at most 3600"),
        ("--timeout", "0", "greater than 0 and at most 3600"),
        ("--timeout", "-5", "greater than 0 and at most 3600"),
        ("--timeout", "NaN", "greater than 0 and at most 3600"),
        ("--jobs", "0", "from 1 to 256"),
        ("--jobs", "100000000000000000000", "from 1 to 256"),
        ("--prop-cases", "0", "from 1 to 100000"),
        ("--prop-cases", "-1", "from 1 to 100000"),
        ("--partition", "3/2", "1 <= I <= N <= 1000"),
        ("--partition", "1/5000", "1 <= I <= N <= 1000"),
        ("--seed", "-1", "from 0 to 18446744073709551615"),
        ("--seed", "12abc", "from 0 to 18446744073709551615"),
    ];
    for (option, value, range) in cases {
        let out = credconform()
            .args(["--helper", "/nonexistent", option, value])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{option} {value}: {stderr}");
        assert!(
            stderr.contains(option) && stderr.contains(range),
            "{option} {value}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{option} {value}: {stderr}");
    }
}

#[test]
fn a_closed_stdout_ends_list_quietly() {
    // The reader is gone before the first line is written, so every write meets EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(credconform_bin())
        .arg("list")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_reader_that_stops_early_gets_its_lines_and_no_backtrace() {
    // `credconform list | head -3`, through a real shell pipeline.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' list 2>&1 | head -3",
            credconform_bin().display()
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("# "), "{text}");
    assert!(
        !text.contains("panicked") && !text.contains("Broken pipe"),
        "{text}"
    );
}
