//! The shell (the HTML document around every page), the layout and the routes.

use crate::i18n::Lang;
use crate::pages;
use crate::session::{provide_session, t, use_session, Session};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Html, Meta, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_location;
use leptos_router::{path, SsrMode};

/// The whole document, rendered on the server; `options` says where the bundle is.
/// Pages that only read get no hydration script, so no WebAssembly.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let session = provide_session();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/static/favicon.svg" type="image/svg+xml"/>
                {session.interactive.then(|| view! { <HydrationScripts options/> })}
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The shell provides it on the server; in the browser the app starts here.
    let session = use_context::<Session>().unwrap_or_else(provide_session);
    view! {
        <Html attr:lang=session.lang.code()/>
        <Meta name="description" content=t("app.tagline")/>
        <Stylesheet href="/static/app.css"/>
        <Title formatter=|page: String| format!("{page} · aidledger")/>
        <Router>
            <Header/>
            <main id="main">
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::board::NeedsBoard ssr=SsrMode::Async/>
                    <Route path=path!("/offers") view=pages::board::OffersBoard ssr=SsrMode::Async/>
                    <Route path=path!("/offers/:id") view=pages::offer::OfferPage ssr=SsrMode::Async/>
                    <Route path=path!("/needs/:id") view=pages::need::NeedPage ssr=SsrMode::Async/>
                    <Route path=path!("/post/need") view=pages::post::PostNeed ssr=SsrMode::Async/>
                    <Route path=path!("/post/offer") view=pages::post::PostOffer ssr=SsrMode::Async/>
                    <Route path=path!("/orgs") view=pages::orgs::OrgList ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/new") view=pages::orgs::RegisterOrg ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:id") view=pages::orgs::OrgPage ssr=SsrMode::Async/>
                    <Route path=path!("/keys") view=pages::keys::MyKey ssr=SsrMode::Async/>
                    <Route path=path!("/activity") view=pages::activity::MyActivity ssr=SsrMode::Async/>
                    <Route path=path!("/authors/:key") view=pages::activity::AuthorPage ssr=SsrMode::Async/>
                    <Route path=path!("/moderation") view=pages::moderation::Queue ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=pages::audit::Audit ssr=SsrMode::Async/>
                    <Route path=path!("/log") view=pages::log::LogPage ssr=SsrMode::Async/>
                    <Route path=path!("/stats") view=pages::stats::StatsPage ssr=SsrMode::Async/>
                    <Route path=path!("/receipts/:pledge") view=pages::receipt::PledgeReceipt ssr=SsrMode::Async/>
                    <Route path=path!("/receipts/:pledge/:shipment") view=pages::receipt::ShipmentReceipt ssr=SsrMode::Async/>
                    <Route path=path!("/signing-needs-javascript") view=pages::NeedsJavascript ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer>
                <p>{t("app.footer")}</p>
            </footer>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    // Works without JavaScript: the server sets the cookie and sends the visitor back.
    // `external` keeps the router from handling it in the browser: the page must reload.
    let switch = move || {
        let back = location.pathname.get();
        let other = match session.lang {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        };
        format!("/lang/{}?back={}", other.code(), back)
    };
    view! {
        <header>
            <a class="skip" href="#main">{t("nav.skip")}</a>
            <nav aria-label=t("nav.label")>
                <A href="/" attr:class="brand">"aidledger"</A>
                <A href="/">{t("nav.board")}</A>
                <A href="/post/need">{t("nav.post_need")}</A>
                <A href="/post/offer">{t("nav.post_offer")}</A>
                <A href="/orgs">{t("nav.orgs")}</A>
                <A href="/stats">{t("nav.stats")}</A>
                <A href="/moderation">{t("nav.moderation")}</A>
                <A href="/audit">{t("nav.audit")}</A>
                <A href="/activity">{t("nav.activity")}</A>
                <A href="/keys">{t("nav.keys")}</A>
                <a href=switch rel="external nofollow" hreflang=match session.lang { Lang::En => "zh", Lang::Zh => "en" }>
                    {t("nav.other_language")}
                </a>
            </nav>
            {move || (session.key.get().is_some() && !session.backed_up.get()).then(|| view! {
                <p class="backup-needed" role="alert" data-testid="backup-needed">
                    {t("key.backup_needed")} " " <a href="/keys">{t("key.backup_now")}</a>
                </p>
            })}
            {session.interactive.then(|| view! { <p class="key-status" data-testid="key-status">
                {move || {
                    if !session.hydrated.get() {
                        t("key.status.loading").to_owned()
                    } else if let Some(k) = session.key.get() {
                        format!("{} {}…", t("key.status.signed_in"), &crate::keystore::public_hex(&k)[..12])
                    } else if session.locked.get() {
                        t("key.status.locked").to_owned()
                    } else {
                        t("key.status.none").to_owned()
                    }
                }}
            </p> })}
        </header>
    }
}
