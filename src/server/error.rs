//! One error type for every handler, mapped to a status and `{"error": "..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ledger::entry::{EntryError, MAX_LEAF_BYTES};
use ledger::reader::ReadError;
use ledger::sequencer::SequenceError;
use ledger::tiles::TileError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error(transparent)]
    Entry(#[from] EntryError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Sequence(#[from] SequenceError),
    #[error("{0}")]
    BadRequest(String),
    #[error("no such resource: {0}")]
    NotFound(String),
    #[error("this method is not allowed on this resource; see docs/API.md")]
    MethodNotAllowed,
    #[error("request body is larger than the {MAX_LEAF_BYTES}-byte entry limit")]
    BodyTooLarge,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Entry(EntryError::TooLarge(_)) | ApiError::BodyTooLarge => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Entry(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Read(e) => match e {
                ReadError::UnknownLeaf(_) | ReadError::Tile(TileError::BeyondTree(_)) => {
                    StatusCode::NOT_FOUND
                }
                ReadError::Tile(TileError::BadPath(_)) => StatusCode::NOT_FOUND,
                ReadError::BeyondTree { .. }
                | ReadError::NotInTree { .. }
                | ReadError::BadRange { .. } => StatusCode::BAD_REQUEST,
                ReadError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::Sequence(SequenceError::Closed) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Sequence(SequenceError::Storage(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "internal error; the request changed nothing and may be retried".to_owned()
        } else {
            self.to_string()
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
