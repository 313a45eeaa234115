//! The review queue: organisations short of the verification quorum, needs and offers
//! without a verdict. A moderator verifies or rejects with a reason (signed in the
//! browser) and may open the private contact an entry committed to, a read the server
//! records. The server decides who is a moderator; this page only asks.

use super::{short, ContactView, LoadError};
use crate::api::client;
use crate::forms::{FormOutcome, FormState, NoticeView, PageNotice};
use crate::i18n;
use crate::session::{t, use_session};
use contract::{Page, ReviewItem};
use ledger::Kind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde_json::json;

#[component]
pub fn Queue() -> impl IntoView {
    let api = client();
    let notice = PageNotice::new();
    let query = use_query_map();
    let filter = move || {
        query.with(|q| {
            (
                q.get("kind").unwrap_or_default(),
                q.get("page")
                    .and_then(|p| p.parse::<u32>().ok())
                    .unwrap_or(1),
            )
        })
    };
    let queue = Resource::new(
        move || (filter(), notice.refresh.get()),
        move |((kind, page), _)| {
            let api = api.clone();
            async move {
                let kind = if kind.is_empty() {
                    String::new()
                } else {
                    format!("&kind={}", super::encode(&kind))
                };
                api.get::<Page<ReviewItem>>(format!("/api/v1/review?per_page=50&page={page}{kind}"))
                    .await
            }
        },
    );
    let lang = use_session().lang;
    let tabs = ["", "org.register", "need.post", "offer.post"].map(|kind| {
        let label = if kind.is_empty() {
            t("filter.any").to_owned()
        } else {
            i18n::value(lang, "kind", kind)
        };
        view! { <a href=format!("/moderation?kind={kind}") data-kind=kind>{label}</a> }
    });
    view! {
        <Title text=t("mod.title")/>
        <h1>{t("mod.title")}</h1>
        <p class="hint">{t("mod.hint")}</p>
        <NoticeView notice/>
        <nav class="tabs" aria-label=t("mod.filter")>{tabs}</nav>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                let (kind, page) = filter();
                match queue.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! { <p>{t("mod.empty")}</p> }.into_any(),
                    Ok(found) => {
                        let more = i64::from(page) * i64::from(found.per_page) < found.total;
                        view! {
                            <p>{found.total} " " {t("mod.waiting")}</p>
                            <ol class="queue">
                                {found.items.into_iter().map(|item| view! { <QueueItem item notice/> }).collect_view()}
                            </ol>
                            <nav class="pager" aria-label=t("board.pages")>
                                {(page > 1).then(|| view! { <a href=format!("/moderation?kind={kind}&page={}", page - 1) rel="prev">{t("board.prev")}</a> })}
                                {more.then(|| view! { <a href=format!("/moderation?kind={kind}&page={}", page + 1) rel="next">{t("board.next")}</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn QueueItem(item: ReviewItem, notice: PageNotice) -> impl IntoView {
    let session = use_session();
    let lang = session.lang;
    let state = FormState::new();
    let reason = RwSignal::new(String::new());
    let is_org = item.kind == Kind::OrgRegister;
    let decide = move |verify: bool, id: String| {
        state.send(if is_org { Kind::OrgVerify } else { Kind::Verdict }, move || {
            let reason = reason.get_untracked().trim().to_owned();
            Ok(if is_org {
                (json!({"org": id, "verdict": if verify { "verified" } else { "rejected" }, "reason": reason}), None)
            } else {
                (json!({"entry": id, "verdict": if verify { "verify" } else { "reject" }, "reason": reason}), None)
            })
        })
    };
    notice.follow(state);
    let link = if is_org {
        format!("/orgs/{}", item.id)
    } else if item.kind == Kind::NeedPost {
        format!("/needs/{}", item.id)
    } else {
        format!("/audit?entry={}", item.id)
    };
    let reason_id = format!("reason-{}", item.index);
    let id = item.id.clone();
    view! {
        <li class="queue-item" data-testid="queue-item" data-entry=item.id.clone()>
            <h2><a href=link>{item.title.clone()}</a></h2>
            <p class="meta">
                <span class="badge kind">{i18n::value(lang, "kind", item.kind.name())}</span>
                " " {item.area.name.clone()} " · " {item.created_at.clone()} " · " <code>{short(&item.id)}</code>
                {is_org.then(|| view! { " · " {t("mod.verifies")} " " {item.verifies} })}
            </p>
            <Show when=move || session.is_moderator()
                fallback=|| view! { <p class="hint" data-testid="not-moderator">{t("mod.only_moderators")}</p> }>
                {
                    let (verify_id, reject_id) = (id.clone(), id.clone());
                    let reason_id = reason_id.clone();
                    view! {
                        <ContactView entry=id.clone() label=t("mod.show_contact")/>
                        <div class="field">
                            <label for=reason_id.clone()>{t("mod.reason")}</label>
                            <input id=reason_id type="text" required prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                            <crate::forms::FieldError state field="reason"/>
                        </div>
                        <div class="actions">
                            <button type="button" on:click=move |_| decide(true, verify_id.clone()) data-testid="verify-entry" disabled=move || state.busy.get()>{t("mod.verify")}</button>
                            <button type="button" class="danger" on:click=move |_| decide(false, reject_id.clone()) disabled=move || state.busy.get()>{t("mod.reject")}</button>
                        </div>
                    }
                }
            </Show>
            <FormOutcome state/>
        </li>
    }
}
