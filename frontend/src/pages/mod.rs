//! One module per page; the small pieces several pages show live here.

pub mod activity;
pub mod audit;
pub mod first_steps;
pub mod items;
pub mod keys;
pub mod log;
pub mod matches;
pub mod moderation;
pub mod need;
pub mod orgs;
pub mod photo;
pub mod post;
pub mod roles;

// Pages only the server renders: they only read, so the bundle leaves them out and
// the app's own navigation to them asks the server (`FromServer`).
#[cfg(feature = "ssr")]
pub mod board;
#[cfg(feature = "ssr")]
pub mod offer;
#[cfg(feature = "ssr")]
pub mod receipt;
#[cfg(feature = "ssr")]
pub mod stats;

#[cfg(not(feature = "ssr"))]
pub mod board {
    pub use super::FromServer as NeedsBoard;
    pub use super::FromServer as OffersBoard;
}
#[cfg(not(feature = "ssr"))]
pub mod offer {
    pub use super::FromServer as OfferPage;
}
#[cfg(not(feature = "ssr"))]
pub mod receipt {
    pub use super::FromServer as PledgeReceipt;
    pub use super::FromServer as ShipmentReceipt;
}
#[cfg(not(feature = "ssr"))]
pub mod stats {
    pub use super::FromServer as StatsPage;
}

use crate::api::{decode, Failure};
use crate::browser;
use crate::i18n;
use crate::model::Opened;
use crate::session::{t, use_session};
use leptos::prelude::*;
use leptos_meta::Title;

/// Answers the page with HTTP 404 when rendered on the server.
fn respond_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    respond_not_found();
    view! {
        <Title text=t("notfound.title")/>
        <h1>{t("notfound.title")}</h1>
        <p><a href="/">{t("notfound.back")}</a></p>
    }
}

/// Where a signing form posts when JavaScript did not take it over: it says why
/// nothing happened (the server discards what was posted).
#[component]
pub fn NeedsJavascript() -> impl IntoView {
    view! {
        <Title text=t("nojs.title")/>
        <h1>{t("nojs.title")}</h1>
        <p data-testid="needs-javascript">{t("nojs.body")}</p>
        <p><a href="/">{t("notfound.back")}</a></p>
    }
}

/// A page the bundle leaves out, reached by the app's own navigation: the server
/// renders it.
#[cfg(not(feature = "ssr"))]
#[component]
pub fn FromServer() -> impl IntoView {
    // The router renders the route before it moves the address bar, so the address
    // comes from the router, not the window.
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        let (path, search) = (
            location.pathname.get_untracked(),
            location.search.get_untracked(),
        );
        browser::load(&if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        });
    });
    view! { <p>{t("load.loading")}</p> }
}

/// A badge for a value of a closed vocabulary (verification, urgency, status), in the
/// page's language, styled by its value.
#[component]
pub fn Badge(group: &'static str, value: String) -> impl IntoView {
    let lang = use_session().lang;
    let text = i18n::value(lang, group, &value);
    view! { <span class=format!("badge {group}-{value}") data-badge=group>{text}</span> }
}

/// A failed read, in words, with a way on: an unknown entry is a 404 page, an
/// unreachable server says so instead of showing what the browser reported.
#[component]
pub fn LoadError(error: Failure) -> impl IntoView {
    if error.status == 404 {
        respond_not_found();
        return view! {
            <p class="form-error" role="alert" data-testid="not-found">{t("load.not_found")}</p>
            <p><a href="/">{t("notfound.back")}</a></p>
        }
        .into_any();
    }
    let message = crate::forms::explain(&error);
    view! { <p class="form-error" role="alert">{t("load.failed")} " " {message}</p> }.into_any()
}

/// The first characters of a hash, for display (the full one is in the title).
pub fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `k=v&…` of the parameters that have a value, each value percent-encoded (for the
/// pages the server alone renders).
#[cfg(feature = "ssr")]
pub fn query_string<K: std::fmt::Display>(params: &[(K, String)]) -> String {
    params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `(value, label)` options of a vocabulary for a select, with an "any" first when
/// `any` is given.
pub fn options(
    group: &'static str,
    values: &[&str],
    any: Option<&'static str>,
) -> Vec<(String, String)> {
    let lang = use_session().lang;
    any.map(|a| (String::new(), a.to_owned()))
        .into_iter()
        .chain(
            values
                .iter()
                .map(|v| (v.to_string(), i18n::value(lang, group, v))),
        )
        .collect()
}

/// The private contact of an entry, fetched with a request signed by this browser's key.
#[component]
pub fn ContactView(entry: String, label: &'static str) -> impl IntoView {
    let session = use_session();
    let shown = RwSignal::new(None::<Result<Opened, Failure>>);
    let open = move |_| {
        let Some(key) = session.key.get_untracked() else {
            return shown.set(Some(Err(Failure::local(t("form.needs_key")))));
        };
        let path = format!("/api/v1/private/{entry}");
        leptos::task::spawn_local(async move {
            let auth = ledger::request::authorization(&key, "GET", &path, browser::now_unix());
            let result = browser::fetch(
                "GET",
                &path,
                Some(browser::Outgoing {
                    body: None,
                    authorization: Some(&auth),
                }),
            )
            .await
            .and_then(|(status, body)| decode::<Opened>(status, &body));
            shown.set(Some(result));
        });
    };
    view! {
        <div class="contact-view">
            <button type="button" class="secondary" on:click=open data-testid="show-contact">{label}</button>
            <div aria-live="polite">
                {move || shown.get().map(|r| match r {
                    Ok(o) => view! {
                        <dl class="facts private" data-testid="contact">
                            {o.contact.name.map(|v| view! { <dt>{t("contact.name")}</dt><dd>{v}</dd> })}
                            {o.contact.phone.map(|v| view! { <dt>{t("contact.phone")}</dt><dd>{v}</dd> })}
                            {o.contact.email.map(|v| view! { <dt>{t("contact.email")}</dt><dd>{v}</dd> })}
                            {o.contact.address.map(|v| view! { <dt>{t("contact.address")}</dt><dd>{v}</dd> })}
                        </dl>
                        <p class="hint">{t("mod.read_recorded")}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                })}
            </div>
        </div>
    }
}
