//! Totals (`/stats`): what the needs ask for and how much of it has been pledged,
//! shipped and delivered, by category, by region and over time, with the board's
//! filters. Charts are SVG drawn on the server, so the page reads without JavaScript
//! and loads no WebAssembly; every chart has its numbers in text beside it.

use super::board::FilterSelect;
use super::{encode, query_string, LoadError};
use crate::api::client;
use crate::i18n;
use crate::session::{t, use_session};
use contract::{Amounts, DayStats, Stats};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The filters of `GET /api/v1/stats`, which the page passes through.
const PARAMS: [&str; 5] = ["category", "area", "status", "urgency", "verified"];

/// Days listed in the table under the chart.
const TABLE_DAYS: usize = 31;

/// `542850` as `542,850`: totals run to six digits and more.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[component]
pub fn StatsPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        query.with(|q| {
            PARAMS
                .iter()
                .map(|p| (*p, q.get(p).unwrap_or_default()))
                .collect::<Vec<_>>()
        })
    };
    let api = client();
    let stats = Resource::new(params, move |params| {
        let api = api.clone();
        async move {
            api.get::<Stats>(format!("/api/v1/stats?{}", query_string(&params)))
                .await
        }
    });
    let value = move |name: &str| query.with(|q| q.get(name).unwrap_or_default());
    let select = move |name: &'static str, group: &'static str, values: Vec<&'static str>| {
        view! { <FilterSelect name group values current=value(name)/> }
    };
    view! {
        <Title text=t("stats.title")/>
        <h1>{t("stats.title")}</h1>
        <p>{t("stats.intro")}</p>
        <form method="get" action="/stats" class="search">
            {select("category", "category", ledger::body::Category::ALL.iter().map(|c| c.name()).collect())}
            {select("status", "status", i18n::STATUSES.to_vec())}
            {select("urgency", "urgency", i18n::URGENCIES.to_vec())}
            {select("verified", "verification", i18n::VERIFICATIONS.to_vec())}
            <div class="field">
                <label for="f-area">{t("filter.area")}</label>
                <input id="f-area" name="area" value=value("area") placeholder="CN-HB" size="6"/>
            </div>
            <button type="submit">{t("stats.show")}</button>
        </form>
        <p><a href=move || format!("/?{}", query_string(&params())) data-testid="stats-board">{t("stats.to_board")}</a></p>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match stats.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(stats) => view! { <StatsView stats params=params()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StatsView(stats: Stats, params: Vec<(&'static str, String)>) -> impl IntoView {
    if stats.needs == 0 {
        return view! { <p data-testid="stats-empty">{t("stats.none")}</p> }.into_any();
    }
    let lang = use_session().lang;
    // A group's link narrows the current filters to it.
    let narrowed = move |name: &'static str, v: &str| {
        let mut p: Vec<(&str, String)> =
            params.iter().filter(|(k, _)| *k != name).cloned().collect();
        p.push((name, v.to_owned()));
        format!("/stats?{}", query_string(&p))
    };
    let narrowed_too = narrowed.clone();
    view! {
        <p class="stats-count" data-testid="stats-needs">{format!("{} {}", grouped(stats.needs), t("stats.needs"))}</p>
        <Legend/>
        <section aria-labelledby="stats-totals">
            <h2 id="stats-totals">{t("stats.totals")}</h2>
            <AmountList amounts=stats.totals/>
        </section>
        <section aria-labelledby="stats-over-time">
            <h2 id="stats-over-time">{t("stats.over_time")}</h2>
            <Timeline days=stats.per_day/>
        </section>
        <section aria-labelledby="stats-by-category">
            <h2 id="stats-by-category">{t("stats.by_category")}</h2>
            <ul class="stats-groups">
                {stats.by_category.into_iter().map(|c| view! {
                    <li data-testid="stats-category">
                        <h3><a href=narrowed("category", &c.category)>{i18n::value(lang, "category", &c.category)}</a></h3>
                        <p class="meta">{c.needs} " " {t("stats.needs")}</p>
                        <AmountList amounts=c.amounts/>
                    </li>
                }).collect_view()}
            </ul>
        </section>
        <section aria-labelledby="stats-by-region">
            <h2 id="stats-by-region">{t("stats.by_region")}</h2>
            {(stats.regions > stats.by_region.len() as i64).then(|| view! {
                <p class="meta">{t("stats.regions_first")} " " {stats.by_region.len()} " / " {stats.regions}</p>
            })}
            <ul class="stats-groups">
                {stats.by_region.into_iter().map(|r| view! {
                    <li data-testid="stats-region">
                        <h3><a href=narrowed_too("area", &r.area.code)>{r.area.name.clone()}</a> " " <span class="code">{r.area.code.clone()}</span></h3>
                        <p class="meta">{r.needs} " " {t("stats.needs")} " · " {r.open} " " {t("stats.open")}
                            " · " <a href=format!("/?area={}", encode(&r.area.code))>{t("stats.see_needs")}</a></p>
                        <AmountList amounts=r.amounts/>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

/// The colours of the bars, each named.
#[component]
fn Legend() -> impl IntoView {
    view! {
        <ul class="stats-legend" aria-hidden="true">
            <li><span class="swatch delivered"></span>{t("items.delivered")}</li>
            <li><span class="swatch shipped"></span>{t("stats.shipped")}</li>
            <li><span class="swatch pledged"></span>{t("items.pledged")}</li>
            <li><span class="swatch remaining"></span>{t("items.remaining")}</li>
            <li><span class="swatch requested"></span>{t("items.requested")}</li>
        </ul>
    }
}

/// One bar per unit, and its numbers in words.
#[component]
fn AmountList(amounts: Vec<Amounts>) -> impl IntoView {
    view! {
        <ul class="amounts">
            {amounts.into_iter().map(|a| view! { <li><Progress amounts=a/></li> }).collect_view()}
        </ul>
    }
}

/// What share of `requested` is delivered, shipped (not yet delivered), pledged (not
/// yet shipped) and still needed, as one bar, with the figures after it.
#[component]
fn Progress(amounts: Amounts) -> impl IntoView {
    let lang = use_session().lang;
    let unit = i18n::value(lang, "unit", &amounts.unit);
    let whole = amounts.requested.max(1) as f64;
    let parts = [
        ("delivered", amounts.delivered),
        ("shipped", amounts.shipped - amounts.delivered),
        ("pledged", amounts.pledged - amounts.shipped),
        ("remaining", amounts.remaining),
    ];
    let mut x = 0.0;
    let rects = parts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(class, n)| {
            let width = n as f64 / whole * 100.0;
            let rect = view! { <rect class=class x=format!("{x:.2}") y="0" width=format!("{width:.2}") height="10"/> };
            x += width;
            rect
        })
        .collect_view();
    let figures = format!(
        "{} {} {unit} · {} {} · {} {} · {} {} · {} {}",
        t("items.requested"),
        grouped(amounts.requested),
        t("items.pledged"),
        grouped(amounts.pledged),
        t("stats.shipped"),
        grouped(amounts.shipped),
        t("items.delivered"),
        grouped(amounts.delivered),
        t("items.remaining"),
        grouped(amounts.remaining),
    );
    view! {
        <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=figures.clone()>{rects}</svg>
        <p class="figures" data-testid="figures">{figures}</p>
    }
}

/// The running totals day by day for the unit with most requested, as lines over
/// time (from two days on), and the last days' entries as a table.
#[component]
fn Timeline(days: Vec<DayStats>) -> impl IntoView {
    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 200.0;
    let lang = use_session().lang;
    let Some(unit) = days
        .last()
        .and_then(|d| d.amounts.first())
        .map(|a| a.unit.clone())
    else {
        return ().into_any();
    };
    let of_unit = |d: &DayStats| {
        d.amounts
            .iter()
            .find(|a| a.unit == unit)
            .cloned()
            .unwrap_or_default()
    };
    let series: Vec<Amounts> = days.iter().map(of_unit).collect();
    let top = series.iter().map(|a| a.requested).max().unwrap_or(0).max(1) as f64;
    let step = if days.len() > 1 {
        WIDTH / (days.len() - 1) as f64
    } else {
        0.0
    };
    let line = |class: &'static str, value: fn(&Amounts) -> i64| {
        let points = series
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let x = if days.len() > 1 {
                    i as f64 * step
                } else {
                    WIDTH / 2.0
                };
                format!("{x:.1},{:.1}", HEIGHT - value(a) as f64 / top * HEIGHT)
            })
            .collect::<Vec<_>>()
            .join(" ");
        view! { <polyline class=class points=points/> }
    };
    let last = series.last().cloned().unwrap_or_default();
    let unit_name = i18n::value(lang, "unit", &unit);
    let summary = format!(
        "{} ({unit_name}): {} {} · {} {} · {} {} · {} {}",
        t("stats.over_time"),
        t("items.requested"),
        grouped(last.requested),
        t("items.pledged"),
        grouped(last.pledged),
        t("stats.shipped"),
        grouped(last.shipped),
        t("items.delivered"),
        grouped(last.delivered),
    );
    let first_day = days.first().map(|d| d.day.clone()).unwrap_or_default();
    let last_day = days.last().map(|d| d.day.clone()).unwrap_or_default();
    let recent: Vec<DayStats> = days.iter().rev().take(TABLE_DAYS).cloned().collect();
    view! {
        <figure class="timeline">
            {(days.len() > 1).then(|| view! {
            <svg class="chart" viewBox=format!("-4 -4 {} {}", WIDTH + 8.0, HEIGHT + 8.0) role="img" aria-label=summary.clone() data-testid="timeline">
                <line class="axis" x1="0" y1=HEIGHT.to_string() x2=WIDTH.to_string() y2=HEIGHT.to_string()/>
                {line("requested", |a| a.requested)}
                {line("pledged", |a| a.pledged)}
                {line("shipped", |a| a.shipped)}
                {line("delivered", |a| a.delivered)}
            </svg>
            <p class="axis-labels"><span>{first_day}</span><span>{last_day}</span></p>
            })}
            <figcaption>{summary} " · " {t("stats.top")} " " {grouped(top as i64)} " " {unit_name}</figcaption>
        </figure>
        <details>
            <summary>{t("stats.days")}</summary>
            <table class="days">
                <thead><tr>
                    <th scope="col">{t("stats.day")}</th>
                    <th scope="col">{t("stats.new_needs")}</th>
                    <th scope="col">{t("stats.pledges")}</th>
                    <th scope="col">{t("stats.shipments")}</th>
                    <th scope="col">{t("stats.deliveries")}</th>
                </tr></thead>
                <tbody>
                    {recent.into_iter().map(|d| view! {
                        <tr><th scope="row">{d.day}</th><td>{d.needs}</td><td>{d.pledges}</td><td>{d.shipments}</td><td>{d.deliveries}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(542850), "542,850");
        assert_eq!(grouped(-1234567), "-1,234,567");
    }
}
