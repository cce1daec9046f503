//! The registry API: `GET /v2/` and the content endpoints (blobs, uploads, manifests, tags,
//! referrers, catalog), each behind the scope it needs. Decisions live in `state`; this module maps HTTP
//! to them.

use axum::body::{Body, HttpBody};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;
use uuid::Uuid;

use super::errors::RegistryError;
use super::middleware::{Note, api_version_header};
use super::params::Params;
use super::registry_auth::{Needed, authorize};
use super::v2_path::V2Path;
use super::{SharedState, read_body};
use crate::state::Registry;
use crate::state::access::{Action, Actions, validate_repository_name};
use crate::state::byte_range;
use crate::state::content::{ContentError, ErrorCode, MAX_MANIFEST_BYTES, paginate};
use crate::state::manifest_doc::OCI_INDEX;

/// Largest request body of the content API (a blob or chunk).
pub const MAX_CONTENT_BODY: usize = 512 * 1024 * 1024;

/// Routes of the registry API.
pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v2/", get(ping))
        .route("/v2", get(ping))
        .route("/v2/{*rest}", any(content))
        .layer(axum::middleware::from_fn(api_version_header))
}

async fn ping(
    State(state): State<SharedState>,
    headers: HeaderMap,
    note: Note,
) -> Result<Json<serde_json::Value>, RegistryError> {
    authorize(&state, &headers, &note, &Needed::Login)?;
    Ok(Json(json!({})))
}

/// The actions an HTTP method needs on a repository, as distribution requires them.
fn actions_for(method: &Method) -> Actions {
    match *method {
        Method::GET | Method::HEAD => Actions::PULL,
        Method::DELETE => Actions::of(&[Action::Delete]),
        _ => Actions::PULL_PUSH,
    }
}

fn unsupported_method(method: &Method) -> RegistryError {
    ContentError::new(
        ErrorCode::Unsupported,
        format!("method {method} is not supported here"),
    )
    .into()
}

async fn content(
    State(state): State<SharedState>,
    Path(rest): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    note: Note,
    body: Body,
) -> Result<Response, RegistryError> {
    let path = V2Path::parse(&rest).ok_or_else(|| {
        ContentError::new(
            ErrorCode::UnknownEndpoint,
            format!("no such endpoint /v2/{rest}"),
        )
    })?;
    let params = Params::parse(uri.query().unwrap_or("").as_bytes());
    let needed = match path.repository() {
        None => Needed::Catalog,
        Some(name) => {
            validate_repository_name(name)
                .map_err(|e| ContentError::new(ErrorCode::NameInvalid, e.to_string()))?;
            let source = mount_source(&path, &params).map(|s| (s.to_string(), Actions::PULL));
            let target = (name.to_string(), actions_for(&method));
            Needed::Repositories([target].into_iter().chain(source).collect())
        }
    };
    authorize(&state, &headers, &note, &needed)?;
    let ctx = Ctx {
        registry: &state.registry,
        method: &method,
        headers: &headers,
        params: &params,
    };
    let get = method == Method::GET;
    match path {
        V2Path::Catalog if get => ctx.catalog(),
        V2Path::Tags(name) if get => ctx.tags(&name),
        V2Path::Manifest(name, reference) => ctx.manifest(&name, &reference, body).await,
        V2Path::Referrers(name, digest) if get => ctx.referrers(&name, &digest),
        V2Path::Blob(name, digest) => ctx.blob(&name, &digest),
        V2Path::Uploads(name) if method == Method::POST => ctx.start_upload(&name, body).await,
        V2Path::Upload(name, id) => ctx.upload(&name, id, body).await,
        _ => Err(unsupported_method(&method)),
    }
}

/// The source repository of a cross-repository blob mount (`POST .../blobs/uploads/?mount=D&from=R`),
/// which the caller must be able to pull, as distribution requires: [`authorize`] checks it.
fn mount_source<'p>(path: &V2Path, params: &'p Params) -> Option<&'p str> {
    match path {
        V2Path::Uploads(_) if params.get("mount").is_some() => params
            .get("from")
            .filter(|from| validate_repository_name(from).is_ok()),
        _ => None,
    }
}

struct Ctx<'a> {
    registry: &'a Registry,
    method: &'a Method,
    headers: &'a HeaderMap,
    params: &'a Params,
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("registry-made header values are ASCII")
}

fn with_headers(status: StatusCode, headers: &[(&'static str, String)], body: Body) -> Response {
    let mut response = (status, body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(*name, header_value(value));
    }
    response
}

fn byte_range(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

impl Ctx<'_> {
    /// The page of `items` the `n` and `last` parameters ask for, answered as the JSON `body`
    /// makes of it, with a `Link` to the next page when more follow.
    fn paged(
        &self,
        items: Vec<String>,
        link_base: &str,
        body: impl FnOnce(Vec<String>) -> serde_json::Value,
    ) -> Result<Response, RegistryError> {
        let n = self.params.get("n").map(|n| {
            n.parse::<usize>().map_err(|_| {
                ContentError::new(
                    ErrorCode::PaginationNumberInvalid,
                    format!("invalid n {n:?}"),
                )
            })
        });
        let n = n.transpose()?;
        let (page, more) = paginate(items, self.params.get("last"), n);
        let link = match (more, page.last(), n) {
            (true, Some(last), Some(n)) => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("n", &n.to_string())
                    .append_pair("last", last)
                    .finish();
                let link = format!("<{link_base}?{query}>; rel=\"next\"");
                Some([(header::LINK, header_value(&link))])
            }
            _ => None,
        };
        Ok((link, Json(body(page))).into_response())
    }

    /// `GET /v2/_catalog`, paginated.
    fn catalog(&self) -> Result<Response, RegistryError> {
        let names = self
            .registry
            .repositories()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        self.paged(names, "/v2/_catalog", |page| json!({"repositories": page}))
    }

    /// `GET /v2/<name>/tags/list`, paginated.
    fn tags(&self, name: &str) -> Result<Response, RegistryError> {
        let tags = self.registry.content(|c| c.tags(name))?;
        let link_base = format!("/v2/{name}/tags/list");
        self.paged(tags, &link_base, |page| json!({"name": name, "tags": page}))
    }

    async fn manifest(
        &self,
        name: &str,
        reference: &str,
        body: Body,
    ) -> Result<Response, RegistryError> {
        let registry = self.registry;
        match *self.method {
            Method::GET | Method::HEAD => {
                let manifest = registry.content(|c| c.manifest(name, reference).cloned())?;
                let headers = [
                    ("docker-content-digest", manifest.digest),
                    ("content-type", manifest.media_type),
                ];
                Ok(self.content_answer(StatusCode::OK, &headers, manifest.bytes))
            }
            Method::PUT => {
                let bytes = read_body(body, MAX_MANIFEST_BYTES).await?;
                let tags: Vec<&str> = self.params.all("tag").collect();
                let media_type = self.headers.get(header::CONTENT_TYPE);
                let media_type = media_type.and_then(|v| v.to_str().ok());
                let pushed = registry.put_manifest(name, reference, &tags, media_type, bytes)?;
                let mut headers = vec![
                    (
                        "location",
                        format!("/v2/{name}/manifests/{}", pushed.digest),
                    ),
                    ("docker-content-digest", pushed.digest),
                ];
                if let Some(subject) = pushed.subject {
                    headers.push(("oci-subject", subject));
                }
                if !pushed.tags.is_empty() {
                    headers.push(("oci-tag", pushed.tags.join(", ")));
                }
                Ok(with_headers(StatusCode::CREATED, &headers, Body::empty()))
            }
            Method::DELETE => {
                registry.edit_content(|c| c.delete_manifest(name, reference))?;
                Ok(StatusCode::ACCEPTED.into_response())
            }
            _ => Err(unsupported_method(self.method)),
        }
    }

    /// `GET /v2/<name>/referrers/<digest>`, filtered by `artifactType` when given.
    fn referrers(&self, name: &str, digest: &str) -> Result<Response, RegistryError> {
        let artifact_type = self.params.get("artifactType");
        let index = self
            .registry
            .content(|c| c.referrers(name, digest, artifact_type))?;
        let mut headers = vec![("content-type", OCI_INDEX.to_string())];
        if artifact_type.is_some() {
            headers.push(("oci-filters-applied", "artifactType".into()));
        }
        Ok(with_headers(
            StatusCode::OK,
            &headers,
            Body::from(index.to_string()),
        ))
    }

    fn blob(&self, name: &str, digest: &str) -> Result<Response, RegistryError> {
        let registry = self.registry;
        match *self.method {
            Method::GET | Method::HEAD => {
                let mut data = registry.content(|c| c.blob(name, digest).map(<[u8]>::to_vec))?;
                let mut status = StatusCode::OK;
                let mut headers = vec![
                    ("docker-content-digest", digest.to_string()),
                    ("content-type", "application/octet-stream".into()),
                    ("accept-ranges", "bytes".into()),
                ];
                let range = match (self.method, self.headers.get(header::RANGE)) {
                    (&Method::GET, Some(value)) => {
                        let value = value.to_str().unwrap_or_default();
                        byte_range::resolve(value, data.len() as u64)?
                    }
                    _ => None,
                };
                if let Some(span) = range {
                    status = StatusCode::PARTIAL_CONTENT;
                    headers.push(("content-range", span.content_range(data.len() as u64)));
                    data = data[span.first as usize..=span.last as usize].to_vec();
                }
                Ok(self.content_answer(status, &headers, data))
            }
            Method::DELETE => {
                registry.edit_content(|c| c.delete_blob(name, digest))?;
                Ok(StatusCode::ACCEPTED.into_response())
            }
            _ => Err(unsupported_method(self.method)),
        }
    }

    /// A GET or HEAD answer carrying `data`, of which a HEAD sends only the length.
    fn content_answer(
        &self,
        status: StatusCode,
        headers: &[(&'static str, String)],
        data: Vec<u8>,
    ) -> Response {
        let length = data.len().to_string();
        let body = if self.method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(data)
        };
        let mut response = with_headers(status, headers, body);
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, header_value(&length));
        response
    }

    fn blob_created(name: &str, digest: &str) -> Response {
        with_headers(
            StatusCode::CREATED,
            &[
                ("location", format!("/v2/{name}/blobs/{digest}")),
                ("docker-content-digest", digest.to_string()),
            ],
            Body::empty(),
        )
    }

    fn upload_accepted(status: StatusCode, name: &str, id: Uuid, size: u64) -> Response {
        with_headers(
            status,
            &[
                ("location", format!("/v2/{name}/blobs/uploads/{id}")),
                ("range", byte_range(size)),
                ("docker-upload-uuid", id.to_string()),
            ],
            Body::empty(),
        )
    }

    /// `POST /v2/<name>/blobs/uploads/`: a mount, a monolithic upload or a new session.
    async fn start_upload(&self, name: &str, body: Body) -> Result<Response, RegistryError> {
        let registry = self.registry;
        if let (Some(digest), Some(from)) = (self.params.get("mount"), self.params.get("from"))
            && registry.mount_blob(name, from, digest)
        {
            return Ok(Self::blob_created(name, digest));
        }
        if let Some(digest) = self.params.get("digest") {
            let data = read_body(body, MAX_CONTENT_BODY).await?;
            registry.put_blob(name, digest, data)?;
            return Ok(Self::blob_created(name, digest));
        }
        let id = registry.edit_content(|c| c.start_upload(name))?;
        Ok(Self::upload_accepted(StatusCode::ACCEPTED, name, id, 0))
    }

    fn content_range_start(&self) -> Result<Option<u64>, ContentError> {
        let Some(value) = self.headers.get(header::CONTENT_RANGE) else {
            return Ok(None);
        };
        let start = value.to_str().ok().and_then(|text| {
            let text = text
                .strip_prefix("bytes ")
                .or_else(|| text.strip_prefix("bytes="))
                .unwrap_or(text);
            let (start, end) = text.split_once('-')?;
            let start: u64 = start.trim().parse().ok()?;
            let end: u64 = end.trim().parse().ok()?;
            (end >= start).then_some(start)
        });
        let invalid = "Content-Range must look like <start>-<end>";
        start
            .map(Some)
            .ok_or_else(|| ContentError::new(ErrorCode::RangeInvalid, invalid))
    }

    /// Reads an upload chunk and where its Content-Range says it starts: refused before
    /// reading (413) when its declared length exceeds what open upload sessions may still
    /// hold, and cut off at that room otherwise.
    async fn read_chunk(&self, body: Body) -> Result<(Option<u64>, Vec<u8>), RegistryError> {
        let start = self.content_range_start()?;
        let declared = body.size_hint().lower();
        let room = self.registry.content(|c| c.check_upload_room(declared))?;
        let limit = usize::try_from(room)
            .unwrap_or(usize::MAX)
            .min(MAX_CONTENT_BODY);
        Ok((start, read_body(body, limit).await?))
    }

    async fn upload(&self, name: &str, id: Uuid, body: Body) -> Result<Response, RegistryError> {
        let registry = self.registry;
        match *self.method {
            Method::GET => {
                let size = registry.edit_content(|c| c.upload_size(name, id))?;
                Ok(Self::upload_accepted(
                    StatusCode::NO_CONTENT,
                    name,
                    id,
                    size,
                ))
            }
            Method::PATCH => {
                let (start, data) = self.read_chunk(body).await?;
                let size = registry.edit_content(|c| c.append_upload(name, id, &data, start))?;
                Ok(Self::upload_accepted(StatusCode::ACCEPTED, name, id, size))
            }
            Method::PUT => {
                let digest = self.params.get("digest").ok_or_else(|| {
                    ContentError::new(
                        ErrorCode::DigestInvalid,
                        "the digest query parameter is required",
                    )
                })?;
                let (start, data) = self.read_chunk(body).await?;
                registry.finish_upload(name, id, digest, &data, start)?;
                Ok(Self::blob_created(name, digest))
            }
            Method::DELETE => {
                registry.edit_content(|c| c.cancel_upload(name, id))?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            _ => Err(unsupported_method(self.method)),
        }
    }
}
