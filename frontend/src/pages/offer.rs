//! One offer's public page: what is on offer, where and until when, and who offers it.

use super::board::date_label;
use super::items::{post_title, ItemTable};
use super::{short, Badge, LoadError};
use crate::api::client;
use crate::session::{t, use_session};
use contract::Post;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn OfferPage() -> impl IntoView {
    let params = use_params_map();
    let api = client();
    let offer = Resource::new(
        move || params.with(|p| p.get("id").unwrap_or_default()),
        move |id| {
            let api = api.clone();
            async move { api.get::<Post>(format!("/api/v1/offers/{id}")).await }
        },
    );
    view! {
        <Title text=t("offer.title")/>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match offer.await {
                    Err(e) => view! { <h1>{t("offer.title")}</h1><LoadError error=e/> }.into_any(),
                    Ok(offer) => view! { <OfferView offer/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OfferView(offer: Post) -> impl IntoView {
    let lang = use_session().lang;
    view! {
        <article class="offer" data-testid="offer">
            <h1>{post_title(&offer)}</h1>
            <p class="badges">
                <Badge group="verification" value=offer.verification.name().to_owned()/>
                <Badge group="status" value=offer.status.name().to_owned()/>
            </p>
            <dl class="facts">
                <dt>{t("need.area")}</dt><dd>{offer.area.name.clone()} " (" {offer.area.code.clone()} ")"</dd>
                {offer.until.clone().map(|d| view! { <dt>{t(date_label(offer.kind))}</dt><dd>{d}</dd> })}
                <dt>{t("need.posted")}</dt><dd>{offer.created_at.clone()}</dd>
                <dt>{t("offer.by")}</dt>
                <dd><a href=format!("/authors/{}", offer.author)><code title=offer.author.clone()>{short(&offer.author)}</code></a></dd>
                <dt>{t("need.entry")}</dt><dd><code>{offer.id.clone()}</code></dd>
            </dl>
            {offer.description.clone().map(|d| view! { <p class="description">{d}</p> })}
            <ItemTable post=offer.clone()/>
            <super::matches::MatchList kind=offer.kind id=offer.id.clone()/>
            <p class="hint">{crate::i18n::tr(lang, "offer.how_to_give")} " " <a href="/">{t("board.title")}</a></p>
        </article>
    }
}
