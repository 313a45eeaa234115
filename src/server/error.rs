//! One error type for every handler, mapped to a status and `{"error": "..."}`.

use crate::photos::{PhotoError, StoreError};
use crate::services::webhooks::WebhookError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use contract::ErrorBody;
use ledger::entry::EntryError;
use ledger::fault::Fault;
use ledger::tiles::TileError;
use ledger_node::intake::SequenceError;
use ledger_node::reader::ReadError;
use ledger_node::rules::DenialKind;
use ledger_node::storage::Condition;
use moderation::private::PrivateError;
use moderation::queries::QueryError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error(transparent)]
    Entry(#[from] EntryError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Sequence(#[from] SequenceError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Search(#[from] indexer::SearchError),
    #[error("{0}")]
    BadRequest(String),
    #[error("no such resource: {0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error(transparent)]
    Private(#[from] PrivateError),
    #[error("too many requests from this {0}; retry after {1} seconds")]
    RateLimited(&'static str, u64),
    #[error("this method is not allowed on this resource; see docs/API.md")]
    MethodNotAllowed,
    #[error("request body is larger than the {0}-byte limit of this resource")]
    BodyTooLarge(usize),
    #[error("request body was not received within {0} seconds")]
    BodyTimeout(u64),
    #[error("request target is longer than the {0}-byte limit")]
    UriTooLong(usize),
    #[error("request headers are larger than the {0}-byte limit or more than {1} headers")]
    HeadersTooLarge(usize, usize),
    #[error("{0}")]
    Internal(&'static str),
    /// Too many reads of a kind at once; retry after the given seconds.
    #[error("too many {0} at once; retry in a moment")]
    Busy(&'static str, u64),
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error(transparent)]
    PhotoStore(#[from] StoreError),
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Entry(EntryError::TooLarge(_)) | ApiError::BodyTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge(..) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Busy(..) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::RateLimited(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Private(e) => match e {
                PrivateError::Forbidden(_) => StatusCode::FORBIDDEN,
                PrivateError::NotFound(_) => StatusCode::NOT_FOUND,
                PrivateError::Erased(_) => StatusCode::GONE,
                PrivateError::Database => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            },
            ApiError::Entry(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Read(e) => match e {
                ReadError::UnknownLeaf(_) | ReadError::Tile(TileError::BeyondTree(_)) => {
                    StatusCode::NOT_FOUND
                }
                ReadError::Tile(TileError::BadPath(_)) => StatusCode::NOT_FOUND,
                ReadError::BeyondTree { .. }
                | ReadError::NotInTree { .. }
                | ReadError::BadRange { .. } => StatusCode::BAD_REQUEST,
                ReadError::Storage(e) => condition_status(e.condition()),
            },
            ApiError::Sequence(SequenceError::Closed) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Sequence(SequenceError::Storage { condition, .. }) => {
                condition_status(*condition)
            }
            ApiError::Sequence(SequenceError::Denied(d)) => match d.kind {
                DenialKind::Forbidden => StatusCode::FORBIDDEN,
                DenialKind::UnknownReference => StatusCode::UNPROCESSABLE_ENTITY,
                DenialKind::Conflict => StatusCode::CONFLICT,
            },
            ApiError::NotFound(_) | ApiError::Query(QueryError::NotFound(_)) => {
                StatusCode::NOT_FOUND
            }
            ApiError::Query(QueryError::BadFilter(_)) => StatusCode::BAD_REQUEST,
            ApiError::Query(QueryError::Database(e)) => condition_status(Condition::of(e)),
            ApiError::Query(QueryError::Malformed(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Search(indexer::SearchError::BadQuery(_)) => StatusCode::BAD_REQUEST,
            ApiError::Search(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Photo(PhotoError::NotAnImage) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Photo(_) => StatusCode::BAD_REQUEST,
            ApiError::PhotoStore(StoreError::Full(_)) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::PhotoStore(StoreError::Io(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Webhook(e) => match e {
                WebhookError::BadRequest(_) | WebhookError::Query(QueryError::BadFilter(_)) => {
                    StatusCode::BAD_REQUEST
                }
                WebhookError::NotFound(_) => StatusCode::NOT_FOUND,
                WebhookError::Forbidden => StatusCode::FORBIDDEN,
                WebhookError::Full(_) => StatusCode::CONFLICT,
                WebhookError::Query(QueryError::Database(e)) | WebhookError::Database(e) => {
                    condition_status(Condition::of(e))
                }
                WebhookError::Query(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }
}

/// The answer to a request the database could not serve: an operator's matter said as
/// such (storage full, database unreachable), or a fault.
fn condition_status(condition: Condition) -> StatusCode {
    match condition {
        Condition::Full => StatusCode::INSUFFICIENT_STORAGE,
        Condition::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
        Condition::Fault => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// The class of this refusal or failure, as the metrics count it.
    fn class(&self) -> &'static str {
        match self.storage_condition() {
            Some(Condition::Full) => return "storage_full",
            Some(Condition::Unreachable) => return "database_unreachable",
            Some(Condition::Fault) | None => {}
        }
        match self {
            ApiError::Entry(_) => "invalid_entry",
            ApiError::Read(ReadError::Storage(_)) => "storage",
            ApiError::Read(_) => "bad_read",
            ApiError::Sequence(SequenceError::Denied(_)) => "denied",
            ApiError::Sequence(SequenceError::Storage { .. }) => "storage",
            ApiError::Sequence(SequenceError::Closed) => "sequencer_closed",
            ApiError::Query(QueryError::Database(_) | QueryError::Malformed(_)) => "storage",
            ApiError::Query(QueryError::NotFound(_)) | ApiError::NotFound(_) => "not_found",
            ApiError::Query(QueryError::BadFilter(_)) | ApiError::BadRequest(_) => "bad_request",
            ApiError::Search(indexer::SearchError::BadQuery(_)) => "bad_request",
            ApiError::Search(_) => "search",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Private(PrivateError::Database) => "storage",
            ApiError::Private(_) => "private_data",
            ApiError::RateLimited(..) => "rate_limited",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::BodyTooLarge(_)
            | ApiError::BodyTimeout(_)
            | ApiError::UriTooLong(_)
            | ApiError::HeadersTooLarge(..) => "request_limit",
            ApiError::Internal(_) => "internal",
            ApiError::Busy(..) => "busy",
            ApiError::Photo(_) => "bad_photo",
            ApiError::PhotoStore(StoreError::Full(_)) => "photo_store_full",
            ApiError::PhotoStore(StoreError::Io(_)) => "storage",
            ApiError::Webhook(WebhookError::BadRequest(_))
            | ApiError::Webhook(WebhookError::Query(QueryError::BadFilter(_))) => "bad_request",
            ApiError::Webhook(WebhookError::NotFound(_)) => "not_found",
            ApiError::Webhook(WebhookError::Forbidden) => "forbidden",
            ApiError::Webhook(WebhookError::Full(_)) => "webhook_limit",
            ApiError::Webhook(_) => "storage",
        }
    }

    /// The kind of storage trouble behind this error, if it is one.
    fn storage_condition(&self) -> Option<Condition> {
        match self {
            ApiError::Sequence(SequenceError::Storage { condition, .. }) => Some(*condition),
            ApiError::Read(ReadError::Storage(e)) => Some(e.condition()),
            ApiError::Query(QueryError::Database(e))
            | ApiError::Webhook(WebhookError::Database(e))
            | ApiError::Webhook(WebhookError::Query(QueryError::Database(e))) => {
                Some(Condition::of(e))
            }
            _ => None,
        }
    }

    /// The code an interface translates, for refused entries that have one.
    fn fault(&self) -> Option<Fault> {
        match self {
            ApiError::Entry(e) => e.fault(),
            ApiError::Sequence(SequenceError::Denied(d)) => d.fault.clone(),
            ApiError::Private(PrivateError::Contact(c)) => c.fault(),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        // A full photo store is the operator's limit and too many costly reads at once
        // a passing load, both said as such; other 5xx are faults.
        let limit = matches!(
            self,
            ApiError::PhotoStore(StoreError::Full(_)) | ApiError::Busy(..)
        );
        let body = match self.storage_condition() {
            // The operator's matters, said as such; the database's own words go to the log.
            Some(Condition::Full) => {
                tracing::error!(error = %self, "storage full: writes are refused");
                ErrorBody::new(
                    "the server's storage is full or cannot be written; the request changed \
                     nothing and may be retried once the operator has made room",
                )
            }
            Some(Condition::Unreachable) => {
                tracing::error!(error = %self, "database unreachable");
                ErrorBody::new(
                    "the database is unreachable; the request changed nothing and may be \
                     retried in a moment",
                )
            }
            _ if status.is_server_error() && !limit => {
                tracing::error!(error = %self, "request failed");
                ErrorBody::new("internal error; the request changed nothing and may be retried")
            }
            _ => ErrorBody {
                error: self.to_string(),
                fault: self.fault(),
            },
        };
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(Refused {
            class: self.class(),
            rate_limit: match &self {
                ApiError::RateLimited(limit, _) => Some(*limit),
                _ => None,
            },
        });
        match self {
            ApiError::RateLimited(_, seconds) => {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, seconds.into());
            }
            ApiError::Busy(_, seconds) => {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, seconds.into());
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, 5.into());
            }
            _ => {}
        }
        response
    }
}

/// What an answer made from an [`ApiError`] carries for the metrics (`metrics::track`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refused {
    pub class: &'static str,
    /// The limit that refused, for a rate-limited request.
    pub rate_limit: Option<&'static str>,
}

/// Most of a plain-text refusal carried over into its JSON message.
const MAX_REFUSAL_TEXT: usize = 1024;

/// Makes a refusal that did not come from [`ApiError`] JSON too: axum's extractors
/// (a path segment that is not UTF-8, a query or body that does not deserialise)
/// answer 4xx in plain text before any handler code runs. The text, which names the
/// problem, becomes the message. Pages (HTML) are left as they are.
pub(crate) async fn json_refusals(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_none_or(|t| t.as_bytes().starts_with(b"text/plain"));
    if !response.status().is_client_error() || !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REFUSAL_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("refused")
            .to_lowercase()
    } else {
        text
    };
    let mut json = (parts.status, Json(ErrorBody::new(message))).into_response();
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            json.headers_mut().insert(name, value.clone());
        }
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn too_many_reads_at_once_is_said_as_such_with_when_to_retry() {
        let response = ApiError::Busy("totals", 30).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "30");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("a short body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["error"], "too many totals at once; retry in a moment");
    }
}
