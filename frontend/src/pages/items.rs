//! What needs and offers show wherever they appear: their title and their item lines
//! with what became of each.

use crate::i18n;
use crate::session::{t, use_session};
use contract::{Post, PostKind};
use leptos::prelude::*;

/// What a post is called: a need by its organisation, an offer by what it offers.
pub fn post_title(post: &Post) -> String {
    match (&post.org, post.kind) {
        (Some(org), PostKind::Need) => org.name.clone(),
        _ => post
            .items
            .iter()
            .map(|i| i.item.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A need's or offer's item lines with what was pledged, shipped, delivered and what remains.
/// On a phone each line is a block whose cells name themselves (`data-label`): five
/// columns do not fit 360 px.
#[component]
pub fn ItemTable(post: Post) -> impl IntoView {
    let lang = use_session().lang;
    let (requested, remaining) = match post.kind {
        PostKind::Need => ("items.requested", "items.remaining"),
        PostKind::Offer => ("items.offered", "items.available"),
    };
    view! {
        <table class="items">
            <caption class="visually-hidden">{t("items.caption")}</caption>
            <thead>
                <tr>
                    <th scope="col">{t("items.item")}</th>
                    <th scope="col">{t(requested)}</th>
                    <th scope="col">{t("items.pledged")}</th>
                    <th scope="col">{t("items.delivered")}</th>
                    <th scope="col">{t(remaining)}</th>
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
                        <td data-label=t(requested)>{i.requested} " " {i18n::value(lang, "unit", &i.unit)}</td>
                        <td data-label=t("items.pledged")>{i.pledged}</td>
                        <td data-label=t("items.delivered")>{i.delivered}</td>
                        <td class="remaining" data-label=t(remaining) data-testid="remaining">{i.remaining}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
