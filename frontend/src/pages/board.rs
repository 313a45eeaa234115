//! The needs board: full-text search (English or Chinese), filters with facet counts,
//! urgency and verification badges, and what remains of each item. The search form is
//! a plain GET form, so the board works without JavaScript.

use super::{encode, Badge, LoadError};
use crate::api::{client, Failure};
use crate::i18n;
use crate::session::{t, use_session};
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Board {
    results: SearchResults,
    /// The full need of each hit, for its item lines.
    needs: Vec<Post>,
}

fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[component]
pub fn Board() -> impl IntoView {
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
                    "/api/v1/search?kind=need&{}",
                    query_string(&params)
                ))
                .await?;
            let mut needs = Vec::with_capacity(results.hits.len());
            for hit in &results.hits {
                needs.push(api.get::<Post>(format!("/api/v1/needs/{}", hit.id)).await?);
            }
            Ok::<_, Failure>(Board { results, needs })
        }
    });
    let value = move |name: &str| query.with(|q| q.get(name).unwrap_or_default());
    let lang = use_session().lang;
    let select = move |name: &'static str, group: &'static str, values: Vec<&'static str>| {
        let current = value(name);
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
    };
    view! {
        <Title text=t("board.title")/>
        <h1>{t("board.title")}</h1>
        <form method="get" action="/" role="search" class="search">
            <div class="field wide">
                <label for="q">{t("board.search_label")}</label>
                <input id="q" name="q" type="search" value=value("q") placeholder=t("board.search_placeholder")/>
            </div>
            {select("category", "category", ledger::body::Category::ALL.iter().map(|c| c.name()).collect())}
            {select("status", "status", i18n::STATUSES.to_vec())}
            {select("urgency", "urgency", i18n::URGENCIES.to_vec())}
            {select("verified", "verification", i18n::VERIFICATIONS.to_vec())}
            {select("sort", "sort", i18n::SORTS.to_vec())}
            <div class="field">
                <label for="f-area">{t("filter.area")}</label>
                <input id="f-area" name="area" value=value("area") placeholder="CN-HB" size="6"/>
            </div>
            <button type="submit">{t("board.search")}</button>
        </form>
        <p class="feed"><a href=move || format!("/feeds/needs.atom?{}", query_string(&params().into_iter().filter(|(k, _)| k != "page" && k != "sort").collect::<Vec<_>>())) type="application/atom+xml" data-testid="feed">{t("feed.needs")}</a></p>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(b) => view! { <Results board=b params=params()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Results(board: Board, params: Vec<(String, String)>) -> impl IntoView {
    let lang = use_session().lang;
    let Board { results, needs } = board;
    let with = move |name: &str, v: &str| {
        let mut p: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != name && k != "page")
            .cloned()
            .collect();
        p.push((name.to_owned(), v.to_owned()));
        format!("/?{}", query_string(&p))
    };
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
                            let label = if *facet == "area" { c.value.clone() } else { i18n::value(lang, facet, &c.value) };
                            view! { <li><a href=with(param, &c.value)>{label}</a> " " <span class="count">{c.count}</span></li> }
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
            <aside class="facets">{facets}</aside>
            <section class="results" aria-live="polite">
                <p data-testid="result-count">{total} " " {t("board.results")}</p>
                <ol class="needs">
                    {results.hits.into_iter().zip(needs).map(|(hit, need)| view! {
                        <li class="need-card" data-testid="need-card">
                            <h2><a href=format!("/needs/{}", hit.id)>{need.org.as_ref().map(|o| o.name.clone()).unwrap_or_default()}</a></h2>
                            <p class="badges">
                                <Badge group="urgency" value=hit.urgency.map_or("", |u| u.name()).to_owned()/>
                                <Badge group="verification" value=hit.verification.name().to_owned()/>
                                <Badge group="status" value=hit.status.name().to_owned()/>
                                {need.relayed.then(|| view! { <span class="badge relayed">{t("need.relayed")}</span> })}
                            </p>
                            <p class="meta">{hit.area_name.clone()} " · " {t("need.needed_by")} " " {hit.deadline.clone().unwrap_or_default()}</p>
                            // The snippet is the index's own highlighting of public text.
                            <p class="snippet" inner_html=hit.snippet.clone()></p>
                            <ItemTable post=need/>
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

/// A need's or offer's item lines with what was pledged, shipped, delivered and what remains.
/// On a phone each line is a block whose cells name themselves (`data-label`): five
/// columns do not fit 360 px.
#[component]
pub fn ItemTable(post: Post) -> impl IntoView {
    let lang = use_session().lang;
    view! {
        <table class="items">
            <caption class="visually-hidden">{t("items.caption")}</caption>
            <thead>
                <tr>
                    <th scope="col">{t("items.item")}</th>
                    <th scope="col">{t("items.requested")}</th>
                    <th scope="col">{t("items.pledged")}</th>
                    <th scope="col">{t("items.delivered")}</th>
                    <th scope="col">{t("items.remaining")}</th>
                </tr>
            </thead>
            <tbody>
                {post.items.into_iter().map(|i| view! {
                    <tr>
                        <th scope="row">
                            {i.item.clone()}
                            {i.spec.clone().map(|s| view! { <span class="spec">" (" {s} ")"</span> })}
                            <span class="category">" · " {i18n::value(lang, "category", &i.category)}</span>
                        </th>
                        <td data-label=t("items.requested")>{i.requested} " " {i18n::value(lang, "unit", &i.unit)}</td>
                        <td data-label=t("items.pledged")>{i.pledged}</td>
                        <td data-label=t("items.delivered")>{i.delivered}</td>
                        <td class="remaining" data-label=t("items.remaining") data-testid="remaining">{i.remaining}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
