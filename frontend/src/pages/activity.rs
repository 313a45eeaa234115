//! What a key is doing, from `GET /api/v1/keys/{key}/activity`: what waits for it,
//! where its needs and donations stand, the verdicts it gave. Two pages show it:
//! "My activity", for the key in this browser (which also marks what changed since
//! the last visit), and an author's public page, rendered on the server for anyone.

use super::items::ItemTable;
use super::{short, Badge, LoadError};
use crate::api::{client, Failure};
use crate::browser;
use crate::i18n;
use crate::session::{t, use_session};
use contract::{Activity, Donation, SearchKind, VerdictGiven, Waiting};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use std::collections::{BTreeMap, HashSet};

/// Where "My activity" remembers, per key, the state of each row it last showed.
fn seen_storage(key: &str) -> String {
    format!("aidledger.activity.{key}")
}

/// Each row of `activity` by its entry id, with a word for its state: a row whose
/// state differs from the last visit's (or that is new) has changed.
fn states(activity: &Activity) -> BTreeMap<String, String> {
    let needs = activity.needs.iter().map(|n| {
        let progress: Vec<String> = n
            .items
            .iter()
            .map(|l| format!("{}/{}/{}", l.pledged, l.shipped, l.delivered))
            .collect();
        (
            n.id.clone(),
            format!("{} {}", n.status.name(), progress.join(",")),
        )
    });
    let waiting = activity
        .to_accept
        .iter()
        .chain(&activity.to_confirm)
        .map(|w| (w.id.clone(), String::new()));
    let donations = activity.donations.iter().map(|d| {
        (
            d.pledge.clone(),
            format!("{} {}/{}", d.stage.name(), d.shipped, d.delivered),
        )
    });
    let verdicts = activity
        .verdicts
        .iter()
        .map(|v| (v.id.clone(), String::new()));
    needs
        .chain(waiting)
        .chain(donations)
        .chain(verdicts)
        .collect()
}

/// The rows that changed since the last visit from this browser (none on the first),
/// remembering this visit's states for the next.
fn changed_since_last_visit(key: &str, activity: &Activity) -> HashSet<String> {
    let now = states(activity);
    let before: Option<BTreeMap<String, String>> =
        browser::storage_get(&seen_storage(key)).and_then(|text| serde_json::from_str(&text).ok());
    if let Ok(text) = serde_json::to_string(&now) {
        let _ = browser::storage_set(&seen_storage(key), &text);
    }
    let Some(before) = before else {
        return HashSet::new();
    };
    now.into_iter()
        .filter(|(id, state)| before.get(id) != Some(state))
        .map(|(id, _)| id)
        .collect()
}

/// "My activity": the key in this browser.
#[component]
pub fn MyActivity() -> impl IntoView {
    let session = use_session();
    let data = RwSignal::new(None::<Result<(Activity, HashSet<String>), Failure>>);
    Effect::new(move |_| {
        let Some(key) = session.public_key() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let path = format!("/api/v1/keys/{key}/activity");
            let result = client().get::<Activity>(path).await.map(|a| {
                let changed = changed_since_last_visit(&key, &a);
                (a, changed)
            });
            data.set(Some(result));
        });
    });
    view! {
        <Title text=t("activity.title")/>
        <h1>{t("activity.title")}</h1>
        {move || match (session.hydrated.get(), session.public_key(), data.get()) {
            (true, None, _) => view! {
                <p class="hint" data-testid="key-first">{t("activity.key_first")} " " <a href="/keys">{t("nav.keys")}</a></p>
            }.into_any(),
            (_, Some(key), Some(Ok((activity, changed)))) => view! {
                <p class="hint">
                    {t("activity.public")} " " <a href=format!("/authors/{key}")>{t("activity.public_link")}</a>
                    " · " <a href=format!("/feeds/authors/{key}.atom") type="application/atom+xml">{t("feed.author")}</a>
                </p>
                {(!changed.is_empty()).then(|| view! {
                    <p class="form-done" role="status" data-testid="changed-count">
                        {t("activity.changed")} " " {changed.len()}
                    </p>
                })}
                <ActivityView activity changed own=true/>
            }.into_any(),
            (_, Some(_), Some(Err(e))) => view! { <LoadError error=e/> }.into_any(),
            _ => view! { <p>{t("load.loading")}</p> }.into_any(),
        }}
    }
}

/// An author's public page: what the key is doing, as anyone may read it.
#[component]
pub fn AuthorPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.with(|p| p.get("key").unwrap_or_default());
    let api = client();
    let data = Resource::new(key, move |key| {
        let api = api.clone();
        async move {
            api.get::<Activity>(format!("/api/v1/keys/{key}/activity"))
                .await
        }
    });
    view! {
        <Title text=t("author.title")/>
        <h1>{t("author.title")}</h1>
        <p><code class="key" data-testid="author-key">{key}</code></p>
        <p class="feed"><a href=move || format!("/feeds/authors/{}.atom", key()) type="application/atom+xml">{t("feed.author")}</a></p>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(activity) => view! { <ActivityView activity changed=HashSet::new() own=false/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The sections of an activity; `own` when it is the reader's own (the waiting rows
/// then link to the form that answers them).
#[component]
fn ActivityView(activity: Activity, changed: HashSet<String>, own: bool) -> impl IntoView {
    let Activity {
        needs,
        to_accept,
        to_confirm,
        donations,
        verdicts,
    } = activity;
    let empty = needs.is_empty()
        && to_accept.is_empty()
        && to_confirm.is_empty()
        && donations.is_empty()
        && verdicts.is_empty();
    let changed = StoredValue::new(changed);
    let is_changed = move |id: &str| changed.with_value(|c| c.contains(id));
    let waiting = !to_accept.is_empty() || !to_confirm.is_empty();
    view! {
        {empty.then(|| view! {
            <p data-testid="activity-empty">{t("activity.empty")} " "
                <a href="/">{t("nav.board")}</a> " · " <a href="/post/need">{t("nav.post_need")}</a></p>
        })}
        {waiting.then(|| view! {
            <section aria-labelledby="waiting-h">
                <h2 id="waiting-h">{if own { t("activity.waiting_you") } else { t("activity.waiting") }}</h2>
                <ul class="activity" data-testid="waiting">
                    {to_accept.into_iter().map(|w| {
                        let changed = is_changed(&w.id);
                        view! { <WaitingRow w kind="pledge" form="accept" action=t("activity.accept") own changed/> }
                    }).collect_view()}
                    {to_confirm.into_iter().map(|w| {
                        let changed = is_changed(&w.id);
                        view! { <WaitingRow w kind="shipment" form="deliver" action=t("activity.confirm") own changed/> }
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!needs.is_empty()).then(|| view! {
            <section aria-labelledby="needs-h">
                <h2 id="needs-h">{t("activity.needs")}</h2>
                {needs.into_iter().map(|n| {
                    let title = n.items.iter().map(|l| l.item.clone()).collect::<Vec<_>>().join(", ");
                    let org = n.org.as_ref().map(|o| o.name.clone()).unwrap_or_default();
                    let changed = is_changed(&n.id);
                    let href = format!("/needs/{}", n.id);
                    view! {
                        <article class="activity-need" class:changed=changed data-testid="my-need">
                            <h3><a href=href>{title}</a></h3>
                            <p class="badges">{org} " "
                                <Badge group="status" value=n.status.name().to_owned()/>
                                <Badge group="verification" value=n.verification.name().to_owned()/>
                                {changed.then(changed_badge)}
                            </p>
                            <ItemTable post=n/>
                        </article>
                    }
                }).collect_view()}
            </section>
        })}
        {(!donations.is_empty()).then(|| view! {
            <section aria-labelledby="donations-h">
                <h2 id="donations-h">{t("activity.donations")}</h2>
                <ul class="activity" data-testid="donations">
                    {donations.into_iter().map(|d| {
                        let changed = is_changed(&d.pledge);
                        view! { <DonationRow d changed/> }
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!verdicts.is_empty()).then(|| view! {
            <section aria-labelledby="verdicts-h">
                <h2 id="verdicts-h">{t("activity.verdicts")}</h2>
                <ul class="activity" data-testid="verdicts">
                    {verdicts.into_iter().map(|v| view! { <VerdictRow v/> }).collect_view()}
                </ul>
            </section>
        })}
    }
}

fn changed_badge() -> impl IntoView {
    view! { <span class="badge changed" data-testid="changed">{t("activity.changed_badge")}</span> }
}

/// A pledge to accept or a shipment to confirm, named by its need's items.
#[component]
fn WaitingRow(
    w: Waiting,
    kind: &'static str,
    /// The id prefix of the need page's form that answers it.
    form: &'static str,
    action: &'static str,
    own: bool,
    changed: bool,
) -> impl IntoView {
    let lang = use_session().lang;
    view! {
        <li class:changed=changed data-testid=format!("waiting-{kind}")>
            <span class="badge kind">{i18n::value(lang, "kind", kind)}</span> " "
            <strong>{w.items.join(", ")}</strong> " · " {w.org} " · "
            {t("chain.by")} " " <a href=format!("/authors/{}", w.author)><code>{short(&w.author)}</code></a>
            " · " {w.created_at} " "
            {changed.then(changed_badge)}
            {own.then(|| view! { <a class="action" href=format!("/needs/{}#{form}-{}", w.need, w.index)>{action}</a> })}
        </li>
    }
}

/// One of the key's pledges, at its stage along the chain.
#[component]
fn DonationRow(d: Donation, changed: bool) -> impl IntoView {
    view! {
        <li class:changed=changed data-testid="donation" data-stage=d.stage.name()>
            <a href=format!("/needs/{}#ship-{}", d.need, d.index)><strong>{d.items.join(", ")}</strong></a>
            " · " {d.org} " " <Badge group="stage" value=d.stage.name().to_owned()/> " "
            {t("activity.pledged")} " " {d.pledged} " · " {t("activity.shipped")} " " {d.shipped}
            " · " {t("activity.delivered")} " " {d.delivered}
            " · " <a href=format!("/receipts/{}", d.pledge) data-testid="donation-receipt">{t("chain.receipt")}</a> " "
            {changed.then(changed_badge)}
        </li>
    }
}

#[component]
fn VerdictRow(v: VerdictGiven) -> impl IntoView {
    let href = match v.about {
        SearchKind::Org => format!("/orgs/{}", v.entry),
        SearchKind::Need => format!("/needs/{}", v.entry),
        SearchKind::Offer => format!("/audit?entry={}", v.entry),
    };
    view! {
        <li data-testid="verdict">
            <Badge group="verdict" value=v.verdict.name().to_owned()/> " " <a href=href>{v.title}</a> " · " {v.reason}
        </li>
    }
}
