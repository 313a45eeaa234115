//! The boards of needs (`/`) and of offers (`/offers`): full-text search (English or
//! Chinese), filters with facet counts, urgency and verification badges, and what
//! remains of each item. The search form is a plain GET form, so the boards work
//! without JavaScript.

use super::items::{post_title, ItemTable};
use super::{query_string, Badge, LoadError};
use crate::api::{client, Failure};
use crate::i18n;
use crate::session::{t, use_session};
use contract::PostKind;
use contract::{Post, SearchResults};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The board's query parameters, passed through to `GET /api/v1/search`.
const PARAMS: [&str; 8] = [
    "q", "category", "area", "status", "urgency", "verified", "sort", "page",
];
/// The facets shown beside the results, each filtering by the parameter it names.
const FACETS: [(&str, &str); 5] = [
    ("category", "category"),
    ("area", "area"),
    ("status", "status"),
    ("urgency", "urgency"),
    ("verification", "verified"),
];

/// Which board: one search over the index, filtered by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    Needs,
    Offers,
}

impl Listing {
    fn kind(self) -> &'static str {
        match self {
            Listing::Needs => "need",
            Listing::Offers => "offer",
        }
    }

    /// Where the board itself is.
    fn home(self) -> &'static str {
        match self {
            Listing::Needs => "/",
            Listing::Offers => "/offers",
        }
    }

    /// Where one post of it is, under `/{id}`.
    pub fn pages(self) -> &'static str {
        match self {
            Listing::Needs => "/needs",
            Listing::Offers => "/offers",
        }
    }

    /// The board's own words: its title, search label and result count.
    fn words(self) -> [&'static str; 3] {
        match self {
            Listing::Needs => ["board.title", "board.search_label", "board.results"],
            Listing::Offers => ["offers.title", "offers.search_label", "offers.results"],
        }
    }

    /// The words after the number of results: "1 need found", "2 needs found".
    fn found(self, total: u64) -> &'static str {
        match (self, total) {
            (Listing::Needs, 1) => "board.result",
            (Listing::Offers, 1) => "offers.result",
            _ => self.words()[2],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Found {
    results: SearchResults,
    /// The full post of each hit, for its item lines.
    posts: Vec<Post>,
}

#[component]
pub fn NeedsBoard() -> impl IntoView {
    view! { <Board listing=Listing::Needs/> }
}

#[component]
pub fn OffersBoard() -> impl IntoView {
    view! { <Board listing=Listing::Offers/> }
}

#[component]
fn Board(listing: Listing) -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        query.with(|q| {
            PARAMS
                .iter()
                .map(|p| (p.to_string(), q.get(p).unwrap_or_default()))
                .collect::<Vec<_>>()
        })
    };
    let api = client();
    let board = Resource::new(params, move |params| {
        let api = api.clone();
        async move {
            let results: SearchResults = api
                .get(format!(
                    "/api/v1/search?kind={}&{}",
                    listing.kind(),
                    query_string(&params)
                ))
                .await?;
            let mut posts = Vec::with_capacity(results.hits.len());
            for hit in &results.hits {
                posts.push(
                    api.get::<Post>(format!("/api/v1{}/{}", listing.pages(), hit.id))
                        .await?,
                );
            }
            Ok::<_, Failure>(Found { results, posts })
        }
    });
    let value = move |name: &str| query.with(|q| q.get(name).unwrap_or_default());
    let select = move |name: &'static str, group: &'static str, values: Vec<&'static str>| {
        view! { <FilterSelect name group values current=value(name)/> }
    };
    let [title, search_label, _] = listing.words();
    let tab = move |which: Listing, key: &'static str| {
        view! { <a href=which.home() aria-current=(which == listing).then_some("page")>{t(key)}</a> }
    };
    view! {
        <Title text=t(title)/>
        <h1>{t(title)}</h1>
        <nav class="tabs" aria-label=t("board.which")>
            {tab(Listing::Needs, "board.title")}
            {tab(Listing::Offers, "offers.title")}
        </nav>
        <form method="get" action=listing.home() role="search" class="search">
            <div class="field wide">
                <label for="q">{t(search_label)}</label>
                <input id="q" name="q" type="search" value=value("q") placeholder=t("board.search_placeholder")/>
            </div>
            {select("category", "category", ledger::body::Category::ALL.iter().map(|c| c.name()).collect())}
            {select("status", "status", i18n::STATUSES.to_vec())}
            {(listing == Listing::Needs).then(|| select("urgency", "urgency", i18n::URGENCIES.to_vec()))}
            {select("verified", "verification", i18n::VERIFICATIONS.to_vec())}
            {select("sort", "sort", i18n::SORTS.to_vec())}
            <div class="field">
                <label for="f-area">{t("filter.area")}</label>
                <input id="f-area" name="area" value=value("area") placeholder="Hubei, 湖北, CN-HB" size="14"/>
            </div>
            <button type="submit">{t("board.search")}</button>
        </form>
        {(listing == Listing::Needs).then(|| view! {
            <p class="feed"><a href=move || format!("/feeds/needs.atom?{}", query_string(&params().into_iter().filter(|(k, _)| k != "page" && k != "sort").collect::<Vec<_>>())) type="application/atom+xml" data-testid="feed">{t("feed.needs")}</a>
                " · " <a href=move || format!("/stats?{}", query_string(&params().into_iter().filter(|(k, _)| !matches!(k.as_str(), "q" | "page" | "sort")).collect::<Vec<_>>())) data-testid="board-stats">{t("board.stats")}</a></p>
        })}
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(found) => view! { <Results listing found params=params()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A filter of a GET form: one of `values`, labelled from vocabulary `group`, or any.
#[component]
pub fn FilterSelect(
    name: &'static str,
    group: &'static str,
    values: Vec<&'static str>,
    current: String,
) -> impl IntoView {
    let lang = use_session().lang;
    view! {
        <div class="field">
            <label for=format!("f-{name}")>{t(i18n::filter_label(name))}</label>
            <select id=format!("f-{name}") name=name>
                <option value="">{t("filter.any")}</option>
                {values.into_iter().map(|v| {
                    let selected = v == current;
                    view! { <option value=v selected=selected>{i18n::value(lang, group, v)}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn Results(listing: Listing, found: Found, params: Vec<(String, String)>) -> impl IntoView {
    let lang = use_session().lang;
    let Found { results, posts } = found;
    let with = move |name: &str, v: &str| {
        let mut p: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != name && k != "page")
            .cloned()
            .collect();
        p.push((name.to_owned(), v.to_owned()));
        format!("{}?{}", listing.home(), query_string(&p))
    };
    // Counts of a broad search are estimated from a sample (docs/API.md): say so.
    let estimated = results.facets_estimated;
    let facets = FACETS
        .iter()
        .filter_map(|(facet, param)| {
            let counts = results.facets.get(facet)?.to_vec();
            let with = with.clone();
            (!counts.is_empty()).then(|| view! {
                <section class="facet" aria-label=t(i18n::filter_label(param))>
                    <h2>{t(i18n::filter_label(param))}</h2>
                    <ul>
                        {counts.into_iter().map(|c| {
                            // A region by its name in the page's language (the server names
                            // the codes it knows), the code as the link's title.
                            let label = match (&c.names, lang) {
                                (Some(names), i18n::Lang::En) => names.en.clone(),
                                (Some(names), i18n::Lang::Zh) => names.zh.clone(),
                                (None, _) if *facet == "area" => c.value.clone(),
                                (None, _) => i18n::value(lang, facet, &c.value),
                            };
                            let code = c.names.is_some().then(|| c.value.clone());
                            view! {
                                <li><a href=with(param, &c.value) title=code>{label}</a> " "
                                    <span class="count">{estimated.then_some("≈ ")} {c.count}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            })
        })
        .collect_view();
    let total = results.total;
    let pages = total.div_ceil(u64::from(results.per_page.max(1)));
    let page = results.page;
    view! {
        <div class="board">
            <aside class="facets">
                {estimated.then(|| view! { <p class="facets-note">{t("board.estimated")}</p> })}
                {facets}
            </aside>
            <section class="results" aria-live="polite">
                <p data-testid="result-count">{total} " " {t(listing.found(total))}</p>
                <ol class="needs">
                    {results.hits.into_iter().zip(posts).map(|(hit, post)| view! {
                        <li class="need-card" data-testid=format!("{}-card", listing.kind())>
                            <h2><a href=format!("{}/{}", listing.pages(), hit.id)>{post_title(&post)}</a></h2>
                            <p class="badges">
                                {hit.urgency.map(|u| view! { <Badge group="urgency" value=u.name().to_owned()/> })}
                                <Badge group="verification" value=hit.verification.name().to_owned()/>
                                <Badge group="status" value=hit.status.name().to_owned()/>
                                {post.relayed.then(|| view! { <span class="badge relayed">{t("need.relayed")}</span> })}
                            </p>
                            <p class="meta">{hit.area_name.clone()}
                                {hit.deadline.clone().map(|d| view! { " · " {t(date_label(post.kind))} " " {d} })}</p>
                            // The snippet is the index's own highlighting of public text.
                            <p class="snippet" inner_html=hit.snippet.clone()></p>
                            <ItemTable post/>
                        </li>
                    }).collect_view()}
                </ol>
                <nav class="pager" aria-label=t("board.pages")>
                    {(page > 1).then(|| view! { <a href=with("page", &(page - 1).to_string()) rel="prev">{t("board.prev")}</a> })}
                    <span>{page} " / " {pages.max(1)}</span>
                    {(u64::from(page) < pages).then(|| view! { <a href=with("page", &(page + 1).to_string()) rel="next">{t("board.next")}</a> })}
                </nav>
            </section>
        </div>
    }
}

/// The label of a post's date: a need is needed by it, an offer available until it.
pub fn date_label(kind: PostKind) -> &'static str {
    match kind {
        PostKind::Need => "need.needed_by",
        PostKind::Offer => "offer.until",
    }
}
