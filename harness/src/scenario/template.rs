//! Placeholders in case data: `${ns}` (the case's host), `${run}` (the case's path segment),
//! `${port}`, `${i}`, `${helper}` (the helper's file name) and `${fill:N}`.
//!
//! Every server URL a case names is written with `${ns}` (or `${run}`), so that the runner, not
//! the suite author, decides which namespace the helper's store is touched in. `$$` is a literal
//! `$`.

use std::fmt::Write as _;

/// Values substituted into one step of one case.
#[derive(Debug, Clone)]
pub struct Vars<'a> {
    /// This case's host name inside the run namespace, e.g. `hp-rt-001.r7f3k2.credconform.test`.
    pub ns: &'a str,
    /// This case's path segment inside the run namespace, e.g. `cc4k2j9x0q1z-hp-key-006`, for
    /// URLs whose host cannot carry the namespace (loopback names, IP literals).
    pub run: &'a str,
    /// A port number chosen for this run (used to make loopback-host URLs unique).
    pub port: u16,
    /// The index of a repeated step (0 when the step is not repeated).
    pub i: usize,
    /// The helper's file name, e.g. `docker-credential-pass` (the reference library names
    /// itself in some messages).
    pub helper: &'a str,
}

/// A placeholder that a template may use.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Placeholder {
    Ns,
    Run,
    Port,
    Index,
    Helper,
    Fill(usize),
}

/// The largest `${fill:N}` accepted (1 MiB): larger payloads only test the runner's memory.
pub const MAX_FILL: usize = 1 << 20;

/// Why a template could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${` without a closing `}`.
    #[error("unclosed placeholder starting at byte {0} (write `$$` for a literal `$`)")]
    Unclosed(usize),
    /// A name that is not one of the known placeholders.
    #[error("unknown placeholder `${{{0}}}` (known: ns, run, port, i, helper, fill:N)")]
    Unknown(String),
    /// `${fill:N}` with N missing, not a number or too large.
    #[error("bad `${{fill:N}}` size `{0}` (a whole number up to {MAX_FILL})")]
    BadFill(String),
}

fn parse_placeholder(body: &str) -> Result<Placeholder, TemplateError> {
    match body {
        "ns" => Ok(Placeholder::Ns),
        "run" => Ok(Placeholder::Run),
        "port" => Ok(Placeholder::Port),
        "i" => Ok(Placeholder::Index),
        "helper" => Ok(Placeholder::Helper),
        _ => match body.strip_prefix("fill:") {
            Some(n) => match n.parse::<usize>() {
                Ok(n) if n <= MAX_FILL => Ok(Placeholder::Fill(n)),
                _ => Err(TemplateError::BadFill(n.to_string())),
            },
            None => Err(TemplateError::Unknown(body.to_string())),
        },
    }
}

/// Walks a template, handing literal text and placeholders to `emit`.
fn walk(
    template: &str,
    mut emit: impl FnMut(Result<&str, Placeholder>),
) -> Result<(), TemplateError> {
    let mut rest = template;
    let mut offset = 0;
    while let Some(pos) = rest.find('$') {
        emit(Ok(&rest[..pos]));
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            emit(Ok("$"));
            offset += pos + 2;
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let close = tail
                .find('}')
                .ok_or(TemplateError::Unclosed(offset + pos))?;
            emit(Err(parse_placeholder(&tail[..close])?));
            offset += pos + 2 + close + 1;
            rest = &tail[close + 1..];
        } else {
            emit(Ok("$"));
            offset += pos + 1;
            rest = after;
        }
    }
    emit(Ok(rest));
    Ok(())
}

/// Checks a template without expanding it.
pub fn validate(template: &str) -> Result<(), TemplateError> {
    walk(template, |_| {})
}

/// True when the template names the run namespace (`${ns}` or `${run}`).
pub fn names_namespace(template: &str) -> bool {
    let mut found = false;
    let _ = walk(template, |piece| {
        if matches!(piece, Err(Placeholder::Ns | Placeholder::Run)) {
            found = true;
        }
    });
    found
}

/// Expands a template that [`validate`] accepted.
pub fn expand(template: &str, vars: &Vars<'_>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 32);
    walk(template, |piece| match piece {
        Ok(text) => out.push_str(text),
        Err(Placeholder::Ns) => out.push_str(vars.ns),
        Err(Placeholder::Run) => out.push_str(vars.run),
        Err(Placeholder::Port) => {
            let _ = write!(out, "{}", vars.port);
        }
        Err(Placeholder::Index) => {
            let _ = write!(out, "{}", vars.i);
        }
        Err(Placeholder::Helper) => out.push_str(vars.helper),
        Err(Placeholder::Fill(n)) => fill(&mut out, n),
    })?;
    Ok(out)
}

/// Appends `n` bytes of deterministic printable ASCII that contain JSON-sensitive characters
/// (quotes, backslashes, slashes), so byte-exactness is tested on more than letters.
fn fill(out: &mut String, n: usize) {
    const ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=\"\\'!";
    let mut state: u32 = 0x9e37_79b9;
    out.extend((0..n).map(|_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        ALPHABET[state as usize % ALPHABET.len()] as char
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars<'static> {
        Vars {
            ns: "c.r1.credconform.test",
            run: "r1",
            port: 4242,
            i: 7,
            helper: "docker-credential-x",
        }
    }

    #[test]
    fn expands_every_placeholder() {
        let got = expand("https://${ns}:${port}/${run}/${i} ${helper}", &vars()).unwrap();
        assert_eq!(
            got,
            "https://c.r1.credconform.test:4242/r1/7 docker-credential-x"
        );
    }

    #[test]
    fn dollar_dollar_is_a_literal_dollar_and_braces_pass_through() {
        let got = expand(r#"{"a":"$$x $y"}"#, &vars()).unwrap();
        assert_eq!(got, r#"{"a":"$x $y"}"#);
    }

    #[test]
    fn fill_is_deterministic_and_exact_in_length() {
        let a = expand("${fill:4096}", &vars()).unwrap();
        assert_eq!(a.len(), 4096);
        assert_eq!(a, expand("${fill:4096}", &vars()).unwrap());
        assert!(a.contains('"') && a.contains('\\'));
    }

    #[test]
    fn rejects_unknown_unclosed_and_oversized() {
        assert_eq!(
            validate("x ${nope}"),
            Err(TemplateError::Unknown("nope".into()))
        );
        assert_eq!(validate("ab${ns"), Err(TemplateError::Unclosed(2)));
        assert!(matches!(
            validate("${fill:99999999}"),
            Err(TemplateError::BadFill(_))
        ));
        assert!(matches!(
            validate("${fill:}"),
            Err(TemplateError::BadFill(_))
        ));
    }

    #[test]
    fn knows_whether_the_namespace_is_named() {
        assert!(names_namespace("https://${ns}/x"));
        assert!(names_namespace("localhost:${port}/${run}"));
        assert!(!names_namespace("https://registry.example.com"));
        assert!(!names_namespace("$${ns}"));
    }
}
