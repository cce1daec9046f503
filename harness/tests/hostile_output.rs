//! A helper that echoes its stored payload back, prints it on stderr in several encodings, and
//! prints terminal escape sequences: no form of any secret reaches the terminal or any report,
//! and no control character reaches them raw.

mod support;

use std::{fs, path::Path};

use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use credconform::check::redact::forms::text_forms;
use support::*;

/// The secrets of the custom suite, as TOML basic strings and as the text they stand for. Each
/// holds the marker `zqxj`, which no encoding but base64 changes: it must appear nowhere.
const SECRETS: [(&str, &str); 3] = [
    (
        r#"q\"uo\\te\nzqxj1'line <b>&amp;"#,
        "q\"uo\\te\nzqxj1'line <b>&amp;",
    ),
    (
        r#"caf\u00e9 \u00fc\u00df zqxj2\u2028 \"x\" \\y\\ +/="#,
        "caf\u{e9} \u{fc}\u{df} zqxj2\u{2028} \"x\" \\y\\ +/=",
    ),
    (
        r#"tab\there\r\n\u00e9t\u00e9 zqxj3 %20 \u0001"#,
        "tab\there\r\n\u{e9}t\u{e9} zqxj3 %20 \u{1}",
    ),
];

const SUITE: &str = r#"title = "Hostile output"
version = "1.0.0"
target = "helper"
description = "A helper that echoes secrets and prints escape sequences."
"#;

fn cases() -> String {
    let mut toml = String::from("area = \"Hostile\"\n");
    for (n, (secret, _)) in SECRETS.iter().enumerate() {
        toml += &format!(
            r#"
[[case]]
id = "HP-HOS-{n:03}"
level = "MUST"
title = "echoed secrets are redacted {n}"
cites = "test"

[[case.step]]
action = "store"
stdin = {{ json = {{ ServerURL = "https://${{ns}}", Username = "alice", Secret = "{secret}" }} }}
expect = {{ exit = 0, stdout = {{ empty = true }}, stderr = {{ trimmed = "one\ntwo", no_secrets = true }} }}

[[case]]
id = "HP-HOS-1{n:02}"
level = "MUST"
title = "a get answer with extra lines is shown redacted {n}"
cites = "test"

[[case.step]]
action = "store"
stdin = {{ json = {{ ServerURL = "https://${{ns}}/g", Username = "bob", Secret = "{secret}" }} }}
expect = {{ exit = 0 }}

[[case.step]]
action = "get"
stdin = "https://${{ns}}/g"
expect = {{ exit = 0, json = {{ ServerURL = "https://${{ns}}/g", Username = "bob", Secret = "{secret}" }}, stdout = {{ trimmed = "a\nb" }} }}
"#
        );
    }
    toml += r#"
[[case]]
id = "HP-HOS-900"
level = "MUST"
title = "the version is plain"
cites = "test"

[[case.step]]
action = "version"
expect = { exit = 0, stdout = { trimmed = "plain\nversion" }, stderr = { empty = true } }
"#;
    toml
}

/// Stores payloads in `$STORE`; `store` echoes the payload on stdout and its secret in many
/// encodings on stderr; `get` answers the payload plus a line of base64; `version` and stderr
/// carry escape sequences.
const HELPER: &str = r#"def go(s):
    return json.dumps(s, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
if action == "store":
    c = json.loads(data)
    store[c["ServerURL"]] = c
    save()
    s, u = c["Secret"], c["Username"]
    sys.stdout.write(data + "\n")
    forms = [json.dumps(c), json.dumps(c, ensure_ascii=False), go(s), json.dumps(json.dumps(c)),
             html.escape(s), html.escape(s, quote=False), urllib.parse.quote(s, safe=""),
             urllib.parse.quote_plus(s), base64.b64encode(s.encode()).decode(),
             base64.b64encode((u + ":" + s).encode()).decode(),
             base64.urlsafe_b64encode((u + ":" + s).encode()).decode().rstrip("="),
             "blob " + base64.b64encode(json.dumps(c).encode()).decode(),
             "\x1b]0;pwned\x07\x1b[31mred\rOVERWRITE\u009b2J"]
    sys.stderr.write("\n".join(forms) + "\n")
elif action == "get":
    c = store.get(data.strip())
    if c is None:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps(c))
    print("auth=" + base64.b64encode((c["Username"] + ":" + c["Secret"]).encode()).decode())
    print(html.escape(c["Secret"]) + " \x1b]0;title\x07")
elif action == "erase":
    store.pop(data.strip(), None); save()
elif action == "list":
    print(json.dumps({u: c["Username"] for u, c in store.items()}))
elif action == "version":
    sys.stdout.write("\x1b]0;pwned title\x07\x1b[2J\x1b[HPASS everything\rfake\u009b31m\n")
    sys.stderr.write("\x1b[5mblink\x07\n")
"#;

#[test]
fn no_form_of_a_secret_and_no_raw_control_character_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let suites = dir.path().join("suites");
    fs::create_dir_all(suites.join("hostile")).unwrap();
    fs::write(suites.join("hostile/suite.toml"), SUITE).unwrap();
    fs::write(suites.join("hostile/cases.toml"), cases()).unwrap();
    let helper = python_helper(dir.path(), "echo", HELPER);
    let out_dir = dir.path().join("out");
    fs::create_dir_all(&out_dir).unwrap();
    let report = |name: &str| out_dir.join(name);
    let out = credconform()
        .args(["--helper", helper.to_str().unwrap()])
        .arg("--suites-dir")
        .arg(&suites)
        .args([
            "--env",
            &format!("STORE={}", dir.path().join("store.json").display()),
        ])
        .arg("--json")
        .arg(report("r.json"))
        .arg("--junit")
        .arg(report("r.xml"))
        .arg("--markdown")
        .arg(report("r.md"))
        .arg("--html")
        .arg(report("r.html"))
        .output()
        .unwrap();
    let terminal =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{terminal}");
    assert!(
        terminal.contains("HP-HOS-000") && terminal.contains("HP-HOS-900"),
        "{terminal}"
    );
    // The escape sequences are shown, escaped.
    assert!(terminal.contains(r"\x1b]0;pwned title\x07"), "{terminal}");
    assert!(terminal.contains(r"\rfake\u{9b}31m"), "{terminal}");

    let mut outputs = vec![("terminal".to_string(), terminal)];
    for name in ["r.json", "r.xml", "r.md", "r.html"] {
        outputs.push((name.to_string(), fs::read_to_string(report(name)).unwrap()));
    }
    // The JSON report's strings, decoded, must not hold a secret either.
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report("r.json")).unwrap()).unwrap();
    outputs.push(("r.json decoded".into(), strings_of(&json).join("\n")));

    for (_, secret) in SECRETS {
        let mut forms: Vec<String> = text_forms(secret).into_iter().collect();
        for user in ["alice", "bob"] {
            let auth = format!("{user}:{secret}");
            forms.push(STANDARD.encode(&auth));
            forms.push(URL_SAFE_NO_PAD.encode(&auth));
        }
        for (name, text) in &outputs {
            assert!(!text.contains("zqxj"), "{name} shows a secret:\n{text}");
            for form in &forms {
                assert!(
                    !text.contains(form.as_str()),
                    "{name} shows {form:?}:\n{text}"
                );
            }
        }
    }
    for (name, text) in outputs.iter().filter(|(n, _)| n != "r.json decoded") {
        let raw: Vec<char> = text
            .chars()
            .filter(|&c| c.is_control() && c != '\n' && c != '\t')
            .collect();
        assert!(
            raw.is_empty(),
            "{name} holds raw control characters {raw:?}"
        );
    }
    assert!(
        !Path::new(&dir.path().join("store.json")).exists() || {
            let left = fs::read_to_string(dir.path().join("store.json")).unwrap();
            !left.contains("credconform.test")
        }
    );
}

fn strings_of(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().flat_map(strings_of).collect(),
        serde_json::Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| std::iter::once(k.clone()).chain(strings_of(v)))
            .collect(),
        _ => Vec::new(),
    }
}
