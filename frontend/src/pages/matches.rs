//! What fits a post: the offers that fit a need, on the need's page, and the needs an
//! offer could fill, on the offer's page; each with why it fits.

use super::items::post_title;
use crate::api::client;
use crate::forms::PageNotice;
use crate::i18n;
use crate::session::{t, use_session};
use contract::{Matches, PostKind, RegionFit};
use leptos::prelude::*;

/// Most matches a page lists (the API answers up to 20).
const SHOWN: usize = 5;

/// On a need's page (`notice` given), the reader's own fitting offers can be pledged
/// from in one step.
#[component]
pub fn MatchList(
    kind: PostKind,
    id: String,
    #[prop(optional)] notice: Option<PageNotice>,
) -> impl IntoView {
    let session = use_session();
    let need = id.clone();
    let api = client();
    let (path, heading) = match kind {
        PostKind::Need => (format!("/api/v1/needs/{id}/matches"), "matches.offers"),
        PostKind::Offer => (format!("/api/v1/offers/{id}/matches"), "matches.needs"),
    };
    let found = Resource::new(
        move || path.clone(),
        move |path| {
            let api = api.clone();
            async move { api.get::<Matches>(path).await }
        },
    );
    let lang = use_session().lang;
    view! {
        <section aria-labelledby="matches-h" data-testid="matches">
            <h2 id="matches-h">{t(heading)}</h2>
            <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
                {move || {
                    let need = need.clone();
                    Suspend::new(async move {
                    match found.await {
                        Err(e) => view! { <super::LoadError error=e/> }.into_any(),
                        Ok(m) if m.matches.is_empty() => view! { <p class="hint">{t("matches.none")}</p> }.into_any(),
                        Ok(m) => view! {
                            <ol class="matches">
                                {m.matches.into_iter().take(SHOWN).map(|m| {
                                    let pages = match m.post.kind { PostKind::Need => "/needs", PostKind::Offer => "/offers" };
                                    let region = match m.region {
                                        RegionFit::SameArea => "matches.same_area",
                                        RegionFit::SameCountry => "matches.same_country",
                                        RegionFit::Elsewhere => "matches.elsewhere",
                                    };
                                    let lines = m.lines.iter().map(|l| {
                                        let same = if l.same_item { t("matches.same_item") } else { "" };
                                        format!("{}: {} {}{same}", i18n::value(lang, "category", &l.category), t("matches.up_to"), l.quantity)
                                    }).collect::<Vec<_>>().join("; ");
                                    view! {
                                        <li data-testid="match" data-id=m.post.id.clone()>
                                            <a href=format!("{pages}/{}", m.post.id)>{post_title(&m.post)}</a>
                                            " · " {m.post.area.name.clone()} " (" {m.post.area.code.clone()} ")"
                                            <br/><span class="meta">{t(region)} " · " {lines}</span>
                                            {
                                                let (need, offer, author, fit) = (need.clone(), m.post.id.clone(), m.post.author.clone(), m.lines.clone());
                                                move || notice.filter(|_| session.public_key().as_deref() == Some(author.as_str())).map(|notice| view! {
                                                    <super::need::PledgeFromOffer need=need.clone() offer=offer.clone() lines=fit.clone() notice/>
                                                })
                                            }
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        }.into_any(),
                    }
                    })
                }}
            </Suspense>
        </section>
    }
}
