//! Exports (docs/API.md "Exports"): needs, offers, organisations and donation chains
//! as CSV with an HXL hashtag row, or as a JSON array, streamed page by page so that
//! an export of any size never sits whole in memory. `app()`'s compression layer
//! gzips them for clients that accept it.

use super::error::ApiError;
use super::extract::ApiQuery;
use super::workflow_api::SelectionQuery;
use super::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use contract::export::{header as column_header, ExportRow};
use futures_util::TryStreamExt;
use moderation::export::{Cursor, Dataset, Rows, Selection};
use moderation::queries::{PostFilter, QueryError};
use sqlx::AnyPool;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/export/{file}", get(export))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// The dataset and format a `{name}.{csv|json}` path segment names.
fn parse_file(file: &str) -> Result<(Dataset, Format), ApiError> {
    let not_found = || {
        ApiError::NotFound(format!(
            "{file}: exports are {{needs|offers|orgs|chains}}.{{csv|json}}"
        ))
    };
    let (name, extension) = file.rsplit_once('.').ok_or_else(not_found)?;
    let format = [Format::Csv, Format::Json]
        .into_iter()
        .find(|f| f.extension() == extension)
        .ok_or_else(not_found)?;
    let dataset = Dataset::from_name(name).ok_or_else(not_found)?;
    Ok((dataset, format))
}

async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    ApiQuery(q): ApiQuery<SelectionQuery>,
) -> Result<Response, ApiError> {
    let (dataset, format) = parse_file(&file)?;
    let filter: PostFilter = q.into();
    let selection = Selection::new(dataset, state.policy, &filter)?;
    let body = Body::from_stream(stream(state.store.pool().clone(), selection, format));
    let disposition = format!(
        "attachment; filename=\"{}.{}\"",
        dataset.name(),
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// What failed while an export was streaming: the answer is cut short (its status was
/// sent), and the error is logged.
#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Where a streaming export is.
enum Step {
    Head,
    /// The first page (`None`) or the one after a cursor.
    Rows(Option<Cursor>),
    Tail,
    Done,
}

/// The export's bytes: the head (CSV headers and HXL row, or `[`), one chunk per page,
/// the tail.
fn stream(
    pool: AnyPool,
    selection: Selection,
    format: Format,
) -> impl futures_util::Stream<Item = Result<Bytes, StreamError>> {
    let writer = Writer {
        format,
        rows_written: false,
    };
    futures_util::stream::try_unfold(
        (Step::Head, writer, pool, selection),
        |(step, mut writer, pool, selection)| async move {
            let (bytes, next) = match step {
                Step::Head => (writer.head(selection.dataset())?, Step::Rows(None)),
                Step::Rows(after) => {
                    let page = selection.page(&pool, after).await?;
                    let next = page.next.map_or(Step::Tail, |c| Step::Rows(Some(c)));
                    (writer.rows(&page.rows)?, next)
                }
                Step::Tail => (writer.tail(), Step::Done),
                Step::Done => return Ok(None),
            };
            Ok(Some((Bytes::from(bytes), (next, writer, pool, selection))))
        },
    )
    .inspect_err(|e| tracing::error!(error = %e, "an export was cut short"))
}

/// Writes an export's rows in its format.
struct Writer {
    format: Format,
    /// Whether a JSON row was written (the next is preceded by a comma).
    rows_written: bool,
}

impl Writer {
    fn head(&self, dataset: Dataset) -> Result<Vec<u8>, StreamError> {
        match self.format {
            Format::Csv => {
                let columns = dataset.columns();
                let mut csv = csv::Writer::from_writer(vec![]);
                csv.write_record(columns.iter().map(|c| column_header(c.field)))?;
                csv.write_record(columns.iter().map(|c| c.hxl))?;
                csv_bytes(csv)
            }
            Format::Json => Ok(b"[".to_vec()),
        }
    }

    fn rows(&mut self, rows: &Rows) -> Result<Vec<u8>, StreamError> {
        match rows {
            Rows::Needs(rows) => self.write(rows),
            Rows::Offers(rows) => self.write(rows),
            Rows::Orgs(rows) => self.write(rows),
            Rows::Chains(rows) => self.write(rows),
        }
    }

    fn write<T: ExportRow>(&mut self, rows: &[T]) -> Result<Vec<u8>, StreamError> {
        match self.format {
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(vec![]);
                for row in rows {
                    let fields = serde_json::to_value(row)?;
                    csv.write_record(T::COLUMNS.iter().map(|c| cell(&fields[c.field])))?;
                }
                csv_bytes(csv)
            }
            Format::Json => {
                let mut out = vec![];
                for row in rows {
                    out.extend_from_slice(if self.rows_written { b",\n" } else { b"\n" });
                    serde_json::to_writer(&mut out, row)?;
                    self.rows_written = true;
                }
                Ok(out)
            }
        }
    }

    fn tail(&self) -> Vec<u8> {
        match self.format {
            Format::Csv => vec![],
            Format::Json => b"\n]\n".to_vec(),
        }
    }
}

/// A field's CSV cell: text as it is, unless a spreadsheet would take it for a formula
/// (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return): then after a `'`,
/// which spreadsheets read as "text follows". Numbers as written; nothing is empty.
fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) if text.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
            format!("'{text}")
        }
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// What a CSV writer into memory wrote.
fn csv_bytes(csv: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, StreamError> {
    csv.into_inner()
        .map_err(|e| StreamError::Csv(e.into_error().into()))
}
