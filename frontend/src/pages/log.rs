//! The log for everyone (`/log`): its entries by position, newest first, each with its
//! kind, author, time and what it did in words, a page at a time. The audit page proves
//! any of them; this page is for reading. It only reads, so it ships no WebAssembly.

use super::{short, LoadError};
use crate::api::{client, Failure};
use crate::describe;
use crate::i18n;
use crate::session::{t, use_session};
use base64::prelude::*;
use contract::{LogEntries, NodeInfo};
use ledger::entry::SignedEntry;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Entries on one page of the log.
const PER_PAGE: u64 = 50;

/// An entry of a page of the log: its index, leaf hash and what it says.
pub type Entry = (u64, String, SignedEntry);

/// The entries of `page` as their authors wrote them.
pub fn decoded(page: LogEntries) -> Vec<Entry> {
    page.entries
        .into_iter()
        .filter_map(|e| {
            let leaf = BASE64_STANDARD.decode(&e.leaf).ok()?;
            Some((e.index, e.leaf_hash, serde_json::from_slice(&leaf).ok()?))
        })
        .collect()
}

/// Where an entry is best read: the page of what it made or answered, else the audit
/// page's lookup, which shows it with its proof.
fn href(hash: &str, entry: &SignedEntry) -> String {
    let body = |field: &str| entry.body[field].as_str().unwrap_or_default().to_owned();
    match entry.kind.as_str() {
        "need.post" => format!("/needs/{hash}"),
        "offer.post" => format!("/offers/{hash}"),
        "org.register" => format!("/orgs/{hash}"),
        "org.update" | "org.verify" => format!("/orgs/{}", body("org")),
        "pledge" | "need.update" => format!("/needs/{}", body("need")),
        _ => format!("/audit?entry={hash}"),
    }
}

/// Entries as a list: position, kind, what it did, when, and (`with_author`) who.
#[component]
pub fn EntryRows(
    entries: Vec<Entry>,
    testid: &'static str,
    #[prop(optional)] with_author: bool,
) -> impl IntoView {
    let lang = use_session().lang;
    view! {
        <ol class="entries" data-testid=testid>
            {entries.into_iter().map(|(index, hash, entry)| {
                let what = describe::summary(lang, &entry, &|_| None);
                let author = with_author.then(|| view! {
                    " · " {t("chain.by")} " "
                    <a href=format!("/authors/{}", entry.author)><code title=entry.author.clone()>{short(&entry.author)}</code></a>
                });
                view! {
                    <li data-kind=entry.kind.clone()>"#" {index} " " <a href=href(&hash, &entry)>{i18n::value(lang, "kind", &entry.kind)}</a>
                        {author} " · " {what} " · " {entry.created_at.clone()}</li>
                }
            }).collect_view()}
        </ol>
    }
}

#[component]
pub fn LogPage() -> impl IntoView {
    let query = use_query_map();
    let start = move || query.with(|q| q.get("start").and_then(|s| s.parse::<u64>().ok()));
    let api = client();
    let page = Resource::new(start, move |start| {
        let api = api.clone();
        async move {
            let size = api.get::<NodeInfo>("/api/v1/node".into()).await?.tree_size;
            let start = start
                .unwrap_or_else(|| size.saturating_sub(PER_PAGE))
                .min(size.saturating_sub(1));
            let page: LogEntries = api
                .get(format!(
                    "/api/v1/log/entries?start={start}&limit={PER_PAGE}"
                ))
                .await?;
            Ok::<_, Failure>((size, start, decoded(page)))
        }
    });
    view! {
        <Title text=t("log.title")/>
        <h1>{t("log.title")}</h1>
        <p class="hint">{t("log.hint")} " " <a href="/audit">{t("nav.audit")}</a></p>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok((size, start, mut entries)) => {
                        entries.reverse();
                        let newer = (start + PER_PAGE < size).then(|| (start + PER_PAGE).min(size.saturating_sub(PER_PAGE)));
                        let older = (start > 0).then(|| start.saturating_sub(PER_PAGE));
                        view! {
                            <p data-testid="log-size">{t("log.size")} " " {size}</p>
                            <EntryRows entries testid="log-entries" with_author=true/>
                            <nav class="pager" aria-label=t("board.pages")>
                                {newer.map(|n| view! { <a href=format!("/log?start={n}") rel="prev">{t("log.newer")}</a> })}
                                {older.map(|o| view! { <a href=format!("/log?start={o}") rel="next">{t("log.older")}</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
