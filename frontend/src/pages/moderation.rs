//! The review queue: organisations short of the verification quorum, needs and offers
//! short of theirs, most pressing first, each with what a moderator weighs it by (the
//! organisation, evidence, the author's record, likely duplicates, pledges waiting). A
//! moderator verifies or rejects with a reason (signed in the browser) and may open
//! the private contact an entry committed to, a read the server records; anyone with a
//! key may flag a post as a duplicate of an earlier one. The server decides who is a
//! moderator; this page only asks.

use super::Badge;
use super::{short, ContactView, LoadError};
use crate::api::client;
use crate::forms::{FormOutcome, FormState, NoticeView, PageNotice, SelectField, TextField};
use crate::i18n;
use crate::session::{t, use_session};
use contract::{AuthorHistory, Page, ReviewItem, SimilarEntry};
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
    let link = page_of(item.kind, &item.id);
    let reason_id = format!("reason-{}", item.index);
    let id = item.id.clone();
    let earlier: Vec<SimilarEntry> = item
        .similar
        .iter()
        .filter(|s| s.index < item.index)
        .cloned()
        .collect();
    view! {
        <li class="queue-item" data-testid="queue-item" data-entry=item.id.clone()>
            <h2><a href=link>{item.title.clone()}</a></h2>
            <p class="meta">
                <span class="badge kind">{i18n::value(lang, "kind", item.kind.name())}</span>
                {item.urgency.map(|u| view! { " " <Badge group="urgency" value=u.name().to_owned()/> })}
                {item.relayed.then(|| view! { " " <span class="badge relayed">{t("need.relayed")}</span> })}
                " " {item.area.name.clone()} " · " {item.created_at.clone()} " · " <code>{short(&item.id)}</code>
                " · " {t("mod.verifies")} " " {item.verifies}
                " · " <span data-testid="priority">{t("mod.priority")} " " {item.priority}</span>
            </p>
            {item.org.clone().map(|o| view! {
                <p data-testid="queue-org">{t("mod.for_org")} " " <a href=format!("/orgs/{}", o.id)>{o.name}</a>
                    " " <Badge group="verification" value=o.verification.name().to_owned()/></p>
            })}
            {item.org_type.map(|ty| view! { <p>{i18n::value(lang, "org_type", ty.name())}</p> })}
            {item.description.clone().map(|d| view! { <p class="description">{d}</p> })}
            {(item.evidence_url.is_some() || item.evidence_photo_sha256.is_some()).then(|| view! {
                <p data-testid="queue-evidence">{t("mod.evidence")} " "
                    {item.evidence_url.clone().map(|u| view! { <a href=u.clone() rel="nofollow noopener" target="_blank">{u.clone()}</a> " " })}
                    {item.evidence_photo_sha256.clone().map(|h| view! { {t("mod.photo")} " " <code>{short(&h)}</code> })}
                </p>
            })}
            {(item.pledges > 0).then(|| view! { <p data-testid="queue-pledges">{item.pledges} " " {t("mod.pledges_waiting")}</p> })}
            <AuthorRecord author=item.author.clone() history=item.history.clone()/>
            {(!item.similar.is_empty()).then(|| view! {
                <div class="similar" data-testid="queue-similar">
                    <p>{t("mod.similar")}</p>
                    <ul>
                        {item.similar.iter().map(|s| view! {
                            <li><a href=page_of(item.kind, &s.id)>{s.title.clone()}</a> " · " {s.created_at.clone()}</li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
            {(!is_org && !earlier.is_empty()).then(|| view! { <FlagDuplicate entry=item.id.clone() earlier notice/> })}
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

/// Where an entry of the queue is read.
fn page_of(kind: Kind, id: &str) -> String {
    match kind {
        Kind::OrgRegister => format!("/orgs/{id}"),
        Kind::NeedPost => format!("/needs/{id}"),
        _ => format!("/offers/{id}"),
    }
}

/// What the log says of an item's author, with a link to all they wrote.
#[component]
fn AuthorRecord(author: String, history: AuthorHistory) -> impl IntoView {
    let AuthorHistory {
        posts,
        orgs,
        links,
        verified,
        rejected,
        since,
    } = history;
    let record = format!(
        "{posts} {} · {orgs} {} · {links} {} · {verified} {} · {rejected} {} · {} #{since}",
        t("mod.history.posts"),
        t("mod.history.orgs"),
        t("mod.history.links"),
        t("mod.history.verified"),
        t("mod.history.rejected"),
        t("mod.history.since"),
    );
    view! {
        <p class="meta" data-testid="queue-history">
            <a href=format!("/authors/{author}")>{t("mod.author")} " " <code>{short(&author)}</code></a>
            ": " {record}
        </p>
    }
}

/// Flags the entry as a duplicate of an earlier likely duplicate, with a reason.
#[component]
fn FlagDuplicate(entry: String, earlier: Vec<SimilarEntry>, notice: PageNotice) -> impl IntoView {
    let state = FormState::new();
    notice.follow(state);
    let ids = short(&entry);
    let original = RwSignal::new(earlier.first().map(|s| s.id.clone()).unwrap_or_default());
    let reason = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let entry = entry.clone();
        state.send(Kind::Verdict, move || {
            Ok((
                json!({
                    "entry": entry,
                    "verdict": "flag_duplicate",
                    "original": original.get_untracked(),
                    "reason": reason.get_untracked().trim(),
                }),
                None,
            ))
        });
    };
    let options = earlier
        .into_iter()
        .map(|s| (s.id.clone(), format!("{} · {}", s.title, s.created_at)))
        .collect();
    view! {
        <details class="continue" data-testid="flag-duplicate">
            <summary>{t("mod.flag_duplicate")}</summary>
            <form method="post" action="/signing-needs-javascript" on:submit=submit>
                <SelectField label=t("flag.original") id=format!("dup-of-{ids}") value=original options state field="original"/>
                <TextField label=t("flag.reason") id=format!("dup-reason-{ids}") value=reason state field="reason" required=true/>
                <button type="submit" disabled=move || state.busy.get()>{t("flag.submit")}</button>
                <FormOutcome state/>
            </form>
        </details>
    }
}
