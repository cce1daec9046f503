//! The registry side of a login (docs/protocol.md §3): ping `/v2/`, read the challenge, then
//! Basic credentials on `/v2/` or a token request (with `offline_token=true`) at the realm.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

/// What a successful login gave back (by default: nothing beyond the login itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Granted {
    /// An OAuth refresh token to store instead of the password, when the realm sent one.
    pub identity_token: Option<String>,
}

/// Why a login failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The registry refused the credentials; the registry's own message.
    Unauthorized(String),
    /// The registry could not be reached or answered nonsense.
    Unavailable(String),
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

struct Answer {
    status: u16,
    challenge: Option<String>,
    body: String,
}

fn get(agent: &ureq::Agent, url: &str, basic: Option<(&str, &str)>) -> Result<Answer, Refused> {
    let mut req = agent.get(url);
    if let Some((user, secret)) = basic {
        req = req.header(
            "Authorization",
            format!("Basic {}", STANDARD.encode(format!("{user}:{secret}"))),
        );
    }
    let mut resp = req
        .call()
        .map_err(|e| Refused::Unavailable(format!("cannot reach {url}: {e}")))?;
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    Ok(Answer {
        status: resp.status().as_u16(),
        challenge,
        body,
    })
}

/// Logs in to the registry at `base` (`http://host:port`) with `user` and `secret`.
pub fn authenticate(base: &str, user: &str, secret: &str) -> Result<Granted, Refused> {
    let agent = agent();
    let ping = format!("{base}/v2/");
    let first = get(&agent, &ping, None)?;
    match first.status {
        200 => return Ok(Granted::default()),
        401 => {}
        s => return Err(unexpected(&ping, s, &first.body)),
    }
    let challenge = first.challenge.unwrap_or_default();
    let (scheme, params) = parse_challenge(&challenge);
    match scheme.as_str() {
        "basic" => {
            accepted(get(&agent, &ping, Some((user, secret)))?, &ping)?;
            Ok(Granted::default())
        }
        "bearer" => {
            let realm = param(&params, "realm")
                .ok_or_else(|| Refused::Unavailable("the challenge names no realm".into()))?;
            let mut pairs = vec![
                ("account", user),
                ("client_id", "credconform"),
                ("offline_token", "true"),
            ];
            pairs.extend(param(&params, "service").map(|service| ("service", service)));
            let sep = if realm.contains('?') { '&' } else { '?' };
            let url = format!("{realm}{sep}{}", form_urlencoded(&pairs));
            let body = accepted(get(&agent, &url, Some((user, secret)))?, &url)?;
            let json: Value = serde_json::from_str(&body)
                .map_err(|e| Refused::Unavailable(format!("the token answer is not JSON: {e}")))?;
            if json.get("token").or(json.get("access_token")).is_none() {
                return Err(Refused::Unavailable("the token answer has no token".into()));
            }
            let identity_token = json
                .get("refresh_token")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            Ok(Granted { identity_token })
        }
        _ => Err(Refused::Unavailable(format!(
            "{ping} answered 401 without a usable challenge (`{challenge}`)"
        ))),
    }
}

/// The body of an answer to credentials sent to `url`: 200 accepts them, 401 and 403 refuse.
fn accepted(answer: Answer, url: &str) -> Result<String, Refused> {
    match answer.status {
        200 => Ok(answer.body),
        401 | 403 => Err(Refused::Unauthorized(message(&answer.body))),
        s => Err(unexpected(url, s, &answer.body)),
    }
}

fn unexpected(url: &str, status: u16, body: &str) -> Refused {
    let url = url.split('?').next().unwrap_or(url);
    Refused::Unavailable(format!(
        "{url} answered {status}: {}",
        message(body).chars().take(200).collect::<String>()
    ))
}

/// The message of an error body: `details`, `detail`, `errors[0].message`, or the text.
fn message(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let found = json
        .get("details")
        .or_else(|| json.get("detail"))
        .or_else(|| json.pointer("/errors/0/message"))
        .and_then(Value::as_str);
    match found {
        Some(m) => m.to_string(),
        None if body.trim().is_empty() => "no reason given".into(),
        None => body.trim().to_string(),
    }
}

/// Splits `Bearer realm="...",service="..."` into the lower-case scheme and its parameters.
fn parse_challenge(header: &str) -> (String, Vec<(String, String)>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        params.push((key, value.to_string()));
        rest = tail.trim_start_matches([',', ' ']);
    }
    (scheme.to_ascii_lowercase(), params)
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_quotes_and_commas() {
        let (scheme, params) =
            parse_challenge(r#"Bearer realm="http://h:1/token?x=1,y",service="fake-registry""#);
        assert_eq!(scheme, "bearer");
        assert_eq!(param(&params, "realm"), Some("http://h:1/token?x=1,y"));
        assert_eq!(param(&params, "service"), Some("fake-registry"));
        assert_eq!(parse_challenge("Basic realm=\"r\"").0, "basic");
    }

    #[test]
    fn error_messages_come_from_every_known_body_shape() {
        assert_eq!(
            message(r#"{"details":"please use personal access token"}"#),
            "please use personal access token"
        );
        assert_eq!(
            message(r#"{"errors":[{"code":"UNAUTHORIZED","message":"m"}]}"#),
            "m"
        );
        assert_eq!(message(""), "no reason given");
        assert_eq!(percent("a b&c"), "a%20b%26c");
    }
}
