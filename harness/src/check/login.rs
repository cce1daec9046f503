//! Expectations of login cases beyond exit and output: the config file a CLI leaves, the calls
//! its credential helpers received (from the spy's log) and the requests the registry saw.
//! Every string in a mismatch is redacted.

use std::{fs, os::unix::fs::PermissionsExt, path::Path};

use base64::{Engine, engine::general_purpose::STANDARD};
use fake_registry::state::journal::JournalEntry;
use serde_json::Value;

use super::{Mismatch, Redactor, quote};
use crate::{
    bundled::spy::{SpyCall, secret_hash},
    scenario::login::{
        AuthExpect, ConfigExpect, FileMode, JournalExpect, LoginVars, RequestMatch, SpyCallMatch,
        SpyExpect,
    },
};

/// A config file as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigState {
    /// Its bytes, `None` when there is no file.
    pub bytes: Option<Vec<u8>>,
    /// Its permission bits.
    pub mode: Option<u32>,
    /// Its folder's permission bits.
    pub dir_mode: Option<u32>,
}

impl ConfigState {
    /// Reads `path` and its folder.
    pub fn read(path: &Path) -> ConfigState {
        let mode_of = |p: &Path| {
            fs::metadata(p)
                .ok()
                .map(|m| m.permissions().mode() & 0o7777)
        };
        ConfigState {
            bytes: fs::read(path).ok(),
            mode: mode_of(path),
            dir_mode: path.parent().and_then(mode_of),
        }
    }
}

/// What checking a config file needs besides the expectation.
pub struct ConfigCheck<'a> {
    /// The file before the step.
    pub before: &'a ConfigState,
    /// The file after the step.
    pub after: &'a ConfigState,
    /// The config the case started with (for `keep`).
    pub initial: Option<&'a Value>,
    /// The secrets of the case.
    pub secrets: &'a [String],
    /// Redacts what is shown.
    pub redactor: &'a Redactor,
    /// Whether the folder existed before the case.
    pub dir_created_by_cli: bool,
    /// The case's placeholders.
    pub vars: &'a LoginVars<'a>,
}

impl ConfigCheck<'_> {
    /// The file's bytes as text, redacted.
    fn text(&self, bytes: Option<&[u8]>) -> String {
        let raw = String::from_utf8_lossy(bytes.unwrap_or_default());
        self.redactor
            .redact(&super::snapshot::redact_config_text(&raw))
    }

    /// The file for a mismatch: `no file`, or its redacted text quoted.
    fn show(&self, bytes: &Option<Vec<u8>>) -> String {
        let text = |b: &Vec<u8>| quote(&self.text(Some(b)));
        bytes.as_ref().map_or("no file".to_string(), text)
    }
}

/// Checks the config file.
pub fn check_config(e: &ConfigExpect, cx: &ConfigCheck<'_>) -> Vec<Mismatch> {
    let mut out = Vec::new();
    check_presence(e, cx, &mut out);
    check_modes(e, cx, &mut out);
    let json = cx.after.bytes.as_deref();
    let json = json.and_then(|b| serde_json::from_slice::<Value>(b).ok());
    let needs_json = !e.auths.is_empty() || !e.no_auths.is_empty() || !e.keep.is_empty();
    if needs_json && json.is_none() {
        out.push(Mismatch::new(
            "config file",
            "a JSON object",
            cx.show(&cx.after.bytes),
        ));
        return out;
    }
    let json = json.unwrap_or(Value::Null);
    check_auths(e, &json, cx, &mut out);
    check_settings(e, &json, cx, &mut out);
    if e.no_secrets {
        check_no_secrets(&json, cx, &mut out);
    }
    out
}

/// `absent` and `unchanged`.
fn check_presence(e: &ConfigExpect, cx: &ConfigCheck<'_>, out: &mut Vec<Mismatch>) {
    let after = cx.after;
    if let Some(absent) = e.absent
        && absent != after.bytes.is_none()
    {
        let expected = if absent {
            "no config file"
        } else {
            "a config file"
        };
        out.push(Mismatch::new(
            "config file",
            expected,
            cx.show(&after.bytes),
        ));
    }
    if e.unchanged && cx.before.bytes != after.bytes {
        let mut m = Mismatch::new(
            "config file unchanged",
            cx.show(&cx.before.bytes),
            cx.show(&after.bytes),
        );
        m.diff = super::diff::unified(
            &cx.text(cx.before.bytes.as_deref()),
            &cx.text(after.bytes.as_deref()),
        );
        out.push(m);
    }
}

/// The file's mode, and its folder's when the CLI created the folder.
fn check_modes(e: &ConfigExpect, cx: &ConfigCheck<'_>, out: &mut Vec<Mismatch>) {
    let modes = [
        ("config file mode", e.mode, cx.after.mode, true),
        (
            "config folder mode",
            e.dir_mode,
            cx.after.dir_mode,
            cx.dir_created_by_cli,
        ),
    ];
    for (what, want, got, applies) in modes {
        if let Some(FileMode(want)) = want
            && applies
            && got != Some(want)
        {
            let got = got.map_or("missing".into(), |g| format!("{g:04o}"));
            out.push(Mismatch::new(what, format!("{want:04o}"), got));
        }
    }
}

/// `auths` entries present (and as expected) and absent.
fn check_auths(e: &ConfigExpect, json: &Value, cx: &ConfigCheck<'_>, out: &mut Vec<Mismatch>) {
    for (key, want) in &e.auths {
        let key = key.expand(cx.vars);
        match json["auths"].get(&key) {
            None => out.push(Mismatch::new(format!("auths[{key}]"), "an entry", "none")),
            Some(entry) => check_entry(&key, want, entry, cx.redactor, out),
        }
    }
    for key in &e.no_auths {
        let key = key.expand(cx.vars);
        if json["auths"].get(&key).is_some() {
            out.push(Mismatch::new(
                format!("auths[{key}]"),
                "no entry",
                "an entry",
            ));
        }
    }
}

/// Settings kept from the starting config, and settings that must not exist.
fn check_settings(e: &ConfigExpect, json: &Value, cx: &ConfigCheck<'_>, out: &mut Vec<Mismatch>) {
    for p in &e.keep {
        let p = p.expand(cx.vars);
        let before = cx.initial.and_then(|i| i.pointer(&p));
        let now = json.pointer(&p);
        if before != now {
            let shown = |v: Option<&Value>| {
                v.map_or("absent".into(), |v| cx.redactor.redact_json(v).to_string())
            };
            out.push(Mismatch::new(
                format!("setting {p} kept"),
                shown(before),
                shown(now),
            ));
        }
    }
    for p in &e.lacks {
        let p = p.expand(cx.vars);
        if json.pointer(&p).is_some() {
            out.push(Mismatch::new(format!("setting {p}"), "absent", "present"));
        }
    }
}

/// No secret of the case in the file, in clear or inside a base64 `auth`.
fn check_no_secrets(json: &Value, cx: &ConfigCheck<'_>, out: &mut Vec<Mismatch>) {
    let Some(bytes) = &cx.after.bytes else {
        return;
    };
    let text = String::from_utf8_lossy(bytes);
    let decoded = decoded_auth_values(json);
    let leaked = cx.secrets.iter().any(|s| {
        !s.is_empty()
            && (text.contains(s.as_str()) || decoded.iter().any(|d| d.contains(s.as_str())))
    });
    if leaked {
        out.push(Mismatch::new(
            "config file holds no secret",
            "no secret of the case, in clear or base64",
            "a secret of the case (redacted)",
        ));
    }
}

/// The text a base64 `auth` value decodes to.
fn decode_auth(value: &str) -> Option<String> {
    let bytes = STANDARD.decode(value).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn decoded_auth_values(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("auth", Value::String(s)) => out.extend(decode_auth(s)),
                    _ => out.extend(decoded_auth_values(v)),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| out.extend(decoded_auth_values(v))),
        _ => {}
    }
    out
}

fn check_entry(key: &str, want: &AuthExpect, entry: &Value, r: &Redactor, out: &mut Vec<Mismatch>) {
    let what = format!("auths[{key}]");
    let shown = r.redact_json(entry).to_string();
    let obj = entry.as_object();
    if want.empty && obj.is_none_or(|m| !m.is_empty()) {
        out.push(Mismatch::new(
            what.clone(),
            "{} (the secret is with the helper)",
            r.redact(&shown),
        ));
    }
    let decoded = entry
        .get("auth")
        .and_then(Value::as_str)
        .and_then(decode_auth);
    let pair = decoded.as_deref().and_then(|d| d.split_once(':'));
    let (user, secret) = (pair.map(|(u, _)| u), pair.map(|(_, s)| s));
    if let Some(u) = &want.user
        && user != Some(u.as_str())
    {
        out.push(Mismatch::new(
            format!("{what} auth username"),
            quote(u),
            user.map_or("no decodable auth".into(), |u| quote(&r.redact(u))),
        ));
    }
    if let Some(s) = &want.secret
        && secret != Some(s.as_str())
    {
        let actual = match secret {
            None => "no decodable auth".into(),
            Some(a) => super::redact::describe_secret_difference(s, a),
        };
        out.push(Mismatch::new(
            format!("{what} auth secret"),
            super::redact::placeholder(s),
            actual,
        ));
    }
    if let Some(want_token) = want.identity_token {
        let has = entry
            .get("identitytoken")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty());
        if has != want_token {
            out.push(Mismatch::new(
                format!("{what} identitytoken"),
                if want_token { "present" } else { "absent" },
                if has { "present" } else { "absent" },
            ));
        }
    }
}

fn call_matches(m: &SpyCallMatch, vars: &LoginVars<'_>, c: &SpyCall) -> bool {
    let eq = |want: &Option<String>, got: &Option<String>| {
        want.as_ref()
            .is_none_or(|w| got.as_deref() == Some(w.as_str()))
    };
    m.helper.as_ref().is_none_or(|h| *h == c.helper)
        && m.action.as_ref().is_none_or(|a| *a == c.action)
        && eq(
            &m.server_url.as_ref().map(|u| u.expand(vars)),
            &c.server_url,
        )
        && eq(&m.username, &c.username)
        && m.secret
            .as_ref()
            .is_none_or(|s| c.secret_sha256.as_deref() == Some(secret_hash(s).as_str()))
}

fn describe_call(m: &SpyCallMatch, vars: &LoginVars<'_>, r: &Redactor) -> String {
    let mut parts = Vec::new();
    let mut add = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{k}={}", r.redact(v)));
        }
    };
    add("helper", &m.helper);
    add("action", &m.action);
    add("ServerURL", &m.server_url.as_ref().map(|u| u.expand(vars)));
    add("Username", &m.username);
    if let Some(s) = &m.secret {
        parts.push(format!("Secret={}", super::redact::placeholder(s)));
    }
    format!("a call {}", parts.join(" "))
}

fn describe_calls(calls: &[SpyCall], r: &Redactor) -> String {
    if calls.is_empty() {
        return "no helper call".into();
    }
    let line = |c: &SpyCall| {
        let url = r.redact(c.server_url.as_deref().unwrap_or(""));
        let user = c
            .username
            .as_deref()
            .map(|u| format!(" Username={}", r.redact(u)));
        format!(
            "{} {} {url}{}",
            c.helper,
            c.action,
            user.unwrap_or_default()
        )
    };
    calls.iter().map(line).collect::<Vec<_>>().join("; ")
}

/// Checks the spy helpers' calls made during a step.
pub fn check_spy(
    e: &SpyExpect,
    vars: &LoginVars<'_>,
    calls: &[SpyCall],
    r: &Redactor,
) -> Vec<Mismatch> {
    let made = e.calls.iter().map(|m| (m, true));
    let expected = made.chain(e.no_calls.iter().map(|m| (m, false)));
    expected
        .filter(|(m, made)| calls.iter().any(|c| call_matches(m, vars, c)) != *made)
        .map(|(m, made)| {
            let call = describe_call(m, vars, r);
            let expected = match made {
                true => call,
                false => format!("no {}", call.trim_start_matches("a ")),
            };
            Mismatch::new(
                "credential helper calls",
                expected,
                describe_calls(calls, r),
            )
        })
        .collect()
}

fn request_matches(m: &RequestMatch, e: &JournalEntry) -> bool {
    let query = e.query.as_deref().unwrap_or("");
    m.method
        .as_ref()
        .is_none_or(|x| x.eq_ignore_ascii_case(&e.method))
        && m.path.as_ref().is_none_or(|x| *x == e.path)
        && m.query_contains.iter().all(|q| query.contains(q.as_str()))
        && m.auth_scheme
            .as_ref()
            .is_none_or(|x| e.auth_scheme.as_deref() == Some(x.as_str()))
        && m.status.is_none_or(|x| e.status == Some(x))
}

/// Checks the requests the registry saw during a step (queries are already redacted by the
/// registry's journal).
pub fn check_journal(e: &JournalExpect, entries: &[JournalEntry], r: &Redactor) -> Vec<Mismatch> {
    let seen = || {
        let line = |e: &JournalEntry| {
            let query = e.query.as_deref().map(|q| format!("?{q}"));
            let status = e.status.map_or("closed".into(), |s| s.to_string());
            format!(
                "{} {}{} -> {status}",
                e.method,
                e.path,
                query.unwrap_or_default()
            )
        };
        entries.iter().map(line).collect::<Vec<_>>().join("\n")
    };
    e.requests
        .iter()
        .filter(|m| !entries.iter().any(|x| request_matches(m, x)))
        .map(|m| Mismatch {
            diff: Some(r.redact(&seen())),
            ..Mismatch::new(
                "registry requests",
                describe_request(m),
                format!("{} requests", entries.len()),
            )
        })
        .collect()
}

/// `a request GET /v2/ with scope answered 401`.
fn describe_request(m: &RequestMatch) -> String {
    let mut out = String::from("a request");
    for part in [&m.method, &m.path].into_iter().flatten() {
        out += &format!(" {part}");
    }
    if !m.query_contains.is_empty() {
        out += &format!(" with {}", m.query_contains.join(", "));
    }
    if let Some(status) = m.status {
        out += &format!(" answered {status}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(text: &str) -> ConfigState {
        ConfigState {
            bytes: Some(text.as_bytes().to_vec()),
            mode: Some(0o600),
            dir_mode: Some(0o700),
        }
    }

    const VARS: LoginVars<'static> = LoginVars {
        host: "h:1",
        url: "http://h:1",
        port: 1,
    };

    #[test]
    fn entries_modes_kept_settings_and_leaks_are_checked() {
        let before = state(r#"{"psFormat":"x"}"#);
        let after = state(r#"{"auths":{"h:1":{"auth":"YWxpY2U6cGFzc3dvcmQx"}}}"#);
        let initial: Value = serde_json::from_str(r#"{"psFormat":"x"}"#).unwrap();
        let r = Redactor::new();
        r.register("password1");
        let secrets = vec!["password1".to_string()];
        let cx = ConfigCheck {
            before: &before,
            after: &after,
            initial: Some(&initial),
            secrets: &secrets,
            redactor: &r,
            dir_created_by_cli: true,
            vars: &VARS,
        };
        let e: ConfigExpect = toml::from_str(
            r#"mode = "0600"
               keep = ["/psFormat"]
               no_secrets = true
               auths = { "${host}" = { user = "alice", secret = "password1" } }"#,
        )
        .unwrap();
        let found = check_config(&e, &cx);
        let whats: Vec<&str> = found.iter().map(|m| m.what.as_str()).collect();
        assert_eq!(
            whats,
            ["setting /psFormat kept", "config file holds no secret"]
        );
        let text = serde_json::to_string(&found).unwrap();
        assert!(!text.contains("password1"), "{text}");
    }

    #[test]
    fn spy_calls_match_on_hashed_secrets() {
        let call = SpyCall {
            helper: "ccspy-a".into(),
            action: "store".into(),
            server_url: Some("h:1".into()),
            username: Some("alice".into()),
            secret_sha256: Some(secret_hash("pw")),
            exit: 0,
        };
        let e: SpyExpect = toml::from_str(
            r#"calls = [{ action = "store", server_url = "${host}", secret = "pw" }]
               no_calls = [{ action = "erase" }]"#,
        )
        .unwrap();
        let r = Redactor::new();
        assert!(check_spy(&e, &VARS, std::slice::from_ref(&call), &r).is_empty());
        let wrong: SpyExpect =
            toml::from_str(r#"calls = [{ action = "store", secret = "other" }]"#).unwrap();
        assert_eq!(check_spy(&wrong, &VARS, &[call], &r).len(), 1);
    }
}
