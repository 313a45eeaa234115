//! Atom feeds (RFC 4287), so that anyone can follow what happens without an account:
//! new needs matching the board's filters, everything about one organisation's needs,
//! and everything that answers one author's entries (docs/API.md). Entries are read
//! from the log and say only what the log says in public; links go to the app's pages.

use super::error::ApiError;
use super::extract::{parse_hash, ApiQuery};
use super::workflow_api::run_search;
use super::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use frontend::describe::summary;
use frontend::i18n::Lang;
use ledger::entry::SignedEntry;
use moderation::queries::{self, Window};
use quick_xml::events::BytesText;
use quick_xml::Writer;

/// Entries a feed holds at most, newest first (feed readers poll; history is the log's).
const FEED_LENGTH: u32 = 50;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/feeds/needs.atom", get(needs_feed))
        .route("/feeds/orgs/{file}", get(org_feed))
        .route("/feeds/authors/{file}", get(author_feed))
}

/// One entry of a feed.
struct Item {
    id: String,
    title: String,
    updated: String,
    author: String,
    link: String,
    summary: String,
}

/// The feed's own description.
struct Feed {
    id: String,
    title: String,
    self_link: String,
    page: String,
}

/// `id` from a `{id}.atom` path segment.
fn atom_file<'a>(file: &'a str, what: &str) -> Result<&'a str, ApiError> {
    file.strip_suffix(".atom")
        .ok_or_else(|| ApiError::NotFound(format!("{what} feeds end in .atom")))
}

/// An entry's tag URI: leaf hashes are unique in every log, so readers never confuse
/// two entries, even of two instances.
fn tag(what: &str) -> String {
    format!("tag:aidledger,2026:{what}")
}

async fn needs_feed(
    State(state): State<AppState>,
    ApiQuery(mut q): ApiQuery<indexer::Query>,
) -> Result<Response, ApiError> {
    q.kind = Some("need".into());
    q.sort = indexer::Sort::Recent;
    q.page = 1;
    q.per_page = FEED_LENGTH;
    let results = run_search(&state, q).await?;
    let items = results
        .hits
        .into_iter()
        .map(|hit| Item {
            id: tag(&format!("entry:{}", hit.id)),
            updated: hit.created_at,
            author: hit.title.clone(),
            link: format!("/needs/{}", hit.id),
            summary: format!("{} · {}", hit.area_name, strip_tags(&hit.snippet)),
            title: hit.title,
        })
        .collect();
    atom(
        &Feed {
            id: tag("feeds/needs"),
            title: "aidledger: needs".into(),
            self_link: "/feeds/needs.atom".into(),
            page: "/".into(),
        },
        items,
    )
}

async fn org_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let id = atom_file(&file, "organisation")?;
    parse_hash("id", id)?;
    let org = queries::org(state.store.pool(), state.policy, id).await?;
    let indices =
        queries::org_activity(state.store.pool(), id, Window::Newest(FEED_LENGTH)).await?;
    atom(
        &Feed {
            id: tag(&format!("feeds/orgs/{id}")),
            title: format!("aidledger: {}", org.name),
            self_link: format!("/feeds/orgs/{id}.atom"),
            page: format!("/orgs/{id}"),
        },
        items_at(&state, indices).await?,
    )
}

async fn author_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let key = atom_file(&file, "author")?;
    parse_hash("key", key)?;
    let indices = queries::answers_to(state.store.pool(), key, Window::Newest(FEED_LENGTH)).await?;
    atom(
        &Feed {
            id: tag(&format!("feeds/authors/{key}")),
            title: format!("aidledger: answers to {}", &key[..12]),
            self_link: format!("/feeds/authors/{key}.atom"),
            page: "/keys".into(),
        },
        items_at(&state, indices).await?,
    )
}

/// The entries at `indices` (of the published log only), as feed items.
async fn items_at(state: &AppState, indices: Vec<i64>) -> Result<Vec<Item>, ApiError> {
    let size = state.reader.head().size;
    let mut items = Vec::with_capacity(indices.len());
    for index in indices.into_iter().filter_map(|i| u64::try_from(i).ok()) {
        if index >= size {
            continue;
        }
        let Some(stored) = state.reader.entries(index, 1).await?.pop() else {
            continue;
        };
        let entry: SignedEntry = serde_json::from_slice(&stored.leaf)
            .map_err(|_| ApiError::Internal("an entry in the log does not parse"))?;
        let hash = ledger::hex32::encode(&stored.leaf_hash);
        let kind = frontend::i18n::value(Lang::En, "kind", &entry.kind);
        let link = match entry.kind.as_str() {
            "need.post" => format!("/needs/{hash}"),
            "org.register" => format!("/orgs/{hash}"),
            "pledge" => format!("/needs/{}", entry.body["need"].as_str().unwrap_or_default()),
            _ => format!("/audit?entry={hash}"),
        };
        items.push(Item {
            id: tag(&format!("entry:{hash}")),
            title: format!("{kind} #{index}"),
            summary: summary(Lang::En, &entry, &|_| None),
            updated: entry.created_at,
            author: entry.author,
            link,
        });
    }
    Ok(items)
}

/// The text of a snippet: its only tags are the search's `<b>` highlights, and
/// everything else is escaped text.
fn strip_tags(html: &str) -> String {
    let text = html.replace("<b>", "").replace("</b>", "");
    quick_xml::escape::unescape(&text)
        .map(|t| t.into_owned())
        .unwrap_or(text)
}

fn atom(feed: &Feed, items: Vec<Item>) -> Result<Response, ApiError> {
    let updated = items
        .iter()
        .map(|i| i.updated.clone())
        .max()
        .unwrap_or_else(|| {
            time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default()
        });
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 1);
    write_feed(&mut writer, feed, &updated, &items)
        .map_err(|_| ApiError::Internal("the feed could not be written"))?;
    let mut body = br#"<?xml version="1.0" encoding="utf-8"?>"#.to_vec();
    body.push(b'\n');
    body.extend(writer.into_inner());
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

fn write_feed(
    w: &mut Writer<Vec<u8>>,
    feed: &Feed,
    updated: &str,
    items: &[Item],
) -> std::io::Result<()> {
    w.create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .write_inner_content(|w| {
            text(w, "id", &feed.id)?;
            text(w, "title", &feed.title)?;
            text(w, "updated", updated)?;
            link(w, "self", "application/atom+xml", &feed.self_link)?;
            link(w, "alternate", "text/html", &feed.page)?;
            w.create_element("author")
                .write_inner_content(|w| text(w, "name", "aidledger"))?;
            for item in items {
                w.create_element("entry").write_inner_content(|w| {
                    text(w, "id", &item.id)?;
                    text(w, "title", &item.title)?;
                    text(w, "updated", &item.updated)?;
                    w.create_element("author")
                        .write_inner_content(|w| text(w, "name", &item.author))?;
                    link(w, "alternate", "text/html", &item.link)?;
                    text(w, "summary", &item.summary)
                })?;
            }
            Ok(())
        })?;
    Ok(())
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

fn link(w: &mut Writer<Vec<u8>>, rel: &str, kind: &str, href: &str) -> std::io::Result<()> {
    w.create_element("link")
        .with_attribute(("rel", rel))
        .with_attribute(("type", kind))
        .with_attribute(("href", href))
        .write_empty()?;
    Ok(())
}
