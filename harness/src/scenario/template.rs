//! The one template engine of case data and CLI profiles: `${name}` is a placeholder, `$$` a
//! literal `$`. A [`Template`] is parsed and checked once, when its file is loaded, against the
//! placeholders of its [`Scope`]; expanding it later cannot fail.
//!
//! The helper suites' scope is [`Helper`]: `${ns}` (the case's host), `${run}` (the case's path
//! segment), `${port}`, `${i}`, `${helper}` (the helper's file name) and `${fill:N}`. Every
//! server URL a case names is written with `${ns}` (or `${run}`), so that the runner, not the
//! suite author, decides which namespace the helper's store is touched in.

use std::{fmt, marker::PhantomData};

use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::{Map, Value};

/// A set of placeholders a template may use, and how their names are read.
pub trait Scope: Clone + fmt::Debug + Default + Ord {
    /// A placeholder of the scope.
    type Name: Clone + fmt::Debug + Ord + Send + Sync;
    /// The placeholders, as error messages list them.
    const KNOWN: &'static str;
    /// Reads the text between `${` and `}`.
    fn name(body: &str) -> Result<Self::Name, TemplateError>;
}

/// The values a template of scope `S` is expanded with.
pub trait Values<S: Scope> {
    /// Appends the value of `name` to `out`.
    fn write(&self, name: &S::Name, out: &mut String);
}

/// Why a template could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `${` without a closing `}`.
    #[error("unclosed placeholder starting at byte {0} (write `$$` for a literal `$`)")]
    Unclosed(usize),
    /// A name that is not one of the scope's placeholders.
    #[error("unknown placeholder `${{{name}}}` (known: {known})")]
    Unknown {
        /// The name written.
        name: String,
        /// The names the scope knows.
        known: &'static str,
    },
    /// `${fill:N}` with N missing, not a number or too large.
    #[error("bad `${{fill:N}}` size `{0}` (a whole number up to {MAX_FILL})")]
    BadFill(String),
}

impl TemplateError {
    /// The error for a name scope `S` does not know.
    pub fn unknown<S: Scope>(name: &str) -> Self {
        TemplateError::Unknown {
            name: name.to_string(),
            known: S::KNOWN,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Piece<N> {
    Text(String),
    Var(N),
}

/// A string with placeholders of scope `S`, checked when it was read. Templates sort by their
/// text as written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Template<S: Scope> {
    source: String,
    pieces: Vec<Piece<S::Name>>,
    scope: PhantomData<S>,
}

impl<S: Scope> Template<S> {
    /// Reads `source`, refusing unclosed and unknown placeholders.
    pub fn parse(source: impl Into<String>) -> Result<Self, TemplateError> {
        let source = source.into();
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = source.as_str();
        while let Some(pos) = rest.find('$') {
            text.push_str(&rest[..pos]);
            rest = &rest[pos + 1..];
            if let Some(tail) = rest.strip_prefix('$') {
                text.push('$');
                rest = tail;
            } else if let Some(tail) = rest.strip_prefix('{') {
                let start = source.len() - rest.len() - 1;
                let close = tail.find('}').ok_or(TemplateError::Unclosed(start))?;
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Var(S::name(&tail[..close])?));
                rest = &tail[close + 1..];
            } else {
                text.push('$');
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template {
            source,
            pieces,
            scope: PhantomData,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The placeholders the template uses.
    pub fn names(&self) -> impl Iterator<Item = &S::Name> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(name) => Some(name),
            Piece::Text(_) => None,
        })
    }

    /// The template with every placeholder replaced.
    pub fn expand(&self, values: &impl Values<S>) -> String {
        let mut out = String::with_capacity(self.source.len() + 32);
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(name) => values.write(name, &mut out),
            }
        }
        out
    }
}

impl<'de, S: Scope> Deserialize<'de> for Template<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Template::parse(String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// A JSON value whose strings (and object keys) are templates.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate<S: Scope> {
    /// A string.
    Text(Template<S>),
    /// An array.
    Array(Vec<JsonTemplate<S>>),
    /// An object.
    Object(ObjectTemplate<S>),
    /// A number, boolean or null, as it is.
    Plain(Value),
}

impl<S: Scope> JsonTemplate<S> {
    fn parse(value: Value) -> Result<Self, TemplateError> {
        Ok(match value {
            Value::String(s) => JsonTemplate::Text(Template::parse(s)?),
            Value::Array(a) => JsonTemplate::Array(
                a.into_iter()
                    .map(JsonTemplate::parse)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => JsonTemplate::Object(ObjectTemplate::parse(m)?),
            plain => JsonTemplate::Plain(plain),
        })
    }

    /// The value with every template expanded.
    pub fn expand(&self, values: &impl Values<S>) -> Value {
        match self {
            JsonTemplate::Text(t) => Value::String(t.expand(values)),
            JsonTemplate::Array(a) => Value::Array(a.iter().map(|v| v.expand(values)).collect()),
            JsonTemplate::Object(o) => Value::Object(o.expand(values)),
            JsonTemplate::Plain(v) => v.clone(),
        }
    }
}

/// A JSON object whose keys and strings are templates, in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectTemplate<S: Scope>(Vec<(Template<S>, JsonTemplate<S>)>);

impl<S: Scope> ObjectTemplate<S> {
    /// Reads every key and string of `map` as a template.
    pub fn parse(map: Map<String, Value>) -> Result<Self, TemplateError> {
        map.into_iter()
            .map(|(k, v)| Ok((Template::parse(k)?, JsonTemplate::parse(v)?)))
            .collect::<Result<_, _>>()
            .map(ObjectTemplate)
    }

    /// The object with every template expanded.
    pub fn expand(&self, values: &impl Values<S>) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(k, v)| (k.expand(values), v.expand(values)))
            .collect()
    }

    /// The string template under the key written `key`, if there is one.
    pub fn text(&self, key: &str) -> Option<&Template<S>> {
        self.0.iter().find_map(|(k, v)| match v {
            JsonTemplate::Text(t) if k.as_str() == key => Some(t),
            _ => None,
        })
    }
}

impl<'de, S: Scope> Deserialize<'de> for ObjectTemplate<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ObjectTemplate::parse(Map::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// The placeholders of helper suites.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Helper;

/// A placeholder of the helper suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HelperVar {
    /// `${ns}`: the case's host.
    Ns,
    /// `${run}`: the case's path segment.
    Run,
    /// `${port}`: the run's port.
    Port,
    /// `${i}`: the repetition.
    Index,
    /// `${helper}`: the helper's file name.
    Helper,
    /// `${fill:N}`: N bytes of printable filler.
    Fill(usize),
}

/// The largest `${fill:N}` accepted (1 MiB): larger payloads only test the runner's memory.
pub const MAX_FILL: usize = 1 << 20;

impl Scope for Helper {
    type Name = HelperVar;
    const KNOWN: &'static str = "ns, run, port, i, helper, fill:N";
    fn name(body: &str) -> Result<HelperVar, TemplateError> {
        match body {
            "ns" => Ok(HelperVar::Ns),
            "run" => Ok(HelperVar::Run),
            "port" => Ok(HelperVar::Port),
            "i" => Ok(HelperVar::Index),
            "helper" => Ok(HelperVar::Helper),
            _ => match body.strip_prefix("fill:") {
                Some(n) => match n.parse::<usize>() {
                    Ok(n) if n <= MAX_FILL => Ok(HelperVar::Fill(n)),
                    _ => Err(TemplateError::BadFill(n.to_string())),
                },
                None => Err(TemplateError::unknown::<Helper>(body)),
            },
        }
    }
}

/// A template of a helper suite.
pub type HelperTemplate = Template<Helper>;

impl HelperTemplate {
    /// True when the template names the run namespace (`${ns}` or `${run}`).
    pub fn names_namespace(&self) -> bool {
        self.names()
            .any(|n| matches!(n, HelperVar::Ns | HelperVar::Run))
    }
}

/// Values substituted into one step of one helper case.
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

impl Values<Helper> for Vars<'_> {
    fn write(&self, name: &HelperVar, out: &mut String) {
        match name {
            HelperVar::Ns => out.push_str(self.ns),
            HelperVar::Run => out.push_str(self.run),
            HelperVar::Port => out.push_str(&self.port.to_string()),
            HelperVar::Index => out.push_str(&self.i.to_string()),
            HelperVar::Helper => out.push_str(self.helper),
            HelperVar::Fill(n) => fill(out, *n),
        }
    }
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

    fn expand(text: &str) -> String {
        HelperTemplate::parse(text).unwrap().expand(&vars())
    }

    fn error(text: &str) -> TemplateError {
        HelperTemplate::parse(text).unwrap_err()
    }

    #[test]
    fn expands_every_placeholder() {
        let got = expand("https://${ns}:${port}/${run}/${i} ${helper}");
        assert_eq!(
            got,
            "https://c.r1.credconform.test:4242/r1/7 docker-credential-x"
        );
    }

    #[test]
    fn dollar_dollar_is_a_literal_dollar_and_braces_pass_through() {
        assert_eq!(expand(r#"{"a":"$$x $y"}"#), r#"{"a":"$x $y"}"#);
    }

    #[test]
    fn fill_is_deterministic_and_exact_in_length() {
        let a = expand("${fill:4096}");
        assert_eq!(a.len(), 4096);
        assert_eq!(a, expand("${fill:4096}"));
        assert!(a.contains('"') && a.contains('\\'));
    }

    #[test]
    fn rejects_unknown_unclosed_and_oversized() {
        assert_eq!(error("x ${nope}"), TemplateError::unknown::<Helper>("nope"));
        assert!(error("x ${nope}").to_string().contains("known: ns, run"));
        assert_eq!(error("ab${ns"), TemplateError::Unclosed(2));
        assert!(matches!(
            error("${fill:99999999}"),
            TemplateError::BadFill(_)
        ));
        assert!(matches!(error("${fill:}"), TemplateError::BadFill(_)));
    }

    #[test]
    fn knows_whether_the_namespace_is_named() {
        let names = |t: &str| HelperTemplate::parse(t).unwrap().names_namespace();
        assert!(names("https://${ns}/x"));
        assert!(names("localhost:${port}/${run}"));
        assert!(!names("https://registry.example.com"));
        assert!(!names("$${ns}"));
    }

    #[test]
    fn json_templates_expand_keys_and_nested_strings() {
        let map: Map<String, Value> =
            serde_json::from_str(r#"{"${ns}": {"u": ["${i}", 3]}, "n": true}"#).unwrap();
        let object = ObjectTemplate::<Helper>::parse(map).unwrap();
        let got = Value::Object(object.expand(&vars()));
        assert_eq!(
            got,
            serde_json::json!({"c.r1.credconform.test": {"u": ["7", 3]}, "n": true})
        );
        let bad: Map<String, Value> = serde_json::from_str(r#"{"a": ["${x}"]}"#).unwrap();
        assert!(ObjectTemplate::<Helper>::parse(bad).is_err());
    }
}
