//! Organisations: the list, one organisation's public profile, and registration
//! (the registrant becomes its first member; the contact stays private).

use super::roles::RoleChangeForm;
use super::short;
use super::{options, Badge, LoadError};
use crate::api::{client, Failure};
use crate::forms::{
    set_optional, ContactDraft, ContactFields, FieldError, FormOutcome, FormState, NoticeView,
    PageNotice, SelectField, TextField,
};
use crate::i18n;
use crate::session::{t, use_session};
use contract::{Org, OrgMembers, Page};
use ledger::Kind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde_json::json;

/// Every registered organisation (the first 100), for the list and the need form.
pub fn all_orgs() -> Resource<Result<Page<Org>, Failure>> {
    let api = client();
    Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            async move { api.get("/api/v1/orgs?per_page=100".into()).await }
        },
    )
}

#[component]
pub fn OrgList() -> impl IntoView {
    let orgs = all_orgs();
    let lang = use_session().lang;
    view! {
        <Title text=t("orgs.title")/>
        <h1>{t("orgs.title")}</h1>
        <p><a href="/orgs/new" class="button">{t("orgs.register")}</a></p>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match orgs.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(page) => view! {
                        <ul class="orgs">
                            {page.items.into_iter().map(|o| view! {
                                <li data-testid="org">
                                    <a href=format!("/orgs/{}", o.id)>{o.name}</a>
                                    " · " {i18n::value(lang, "org_type", o.org_type.name())} " · " {o.area.name}
                                    " " <Badge group="verification" value=o.verification.name().to_owned()/>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn OrgPage() -> impl IntoView {
    let params = use_params_map();
    let api = client();
    let notice = PageNotice::new();
    let org = Resource::new(
        move || {
            (
                params.with(|p| p.get("id").unwrap_or_default()),
                notice.refresh.get(),
            )
        },
        move |(id, _)| {
            let api = api.clone();
            async move {
                let org = api.get::<Org>(format!("/api/v1/orgs/{id}")).await?;
                let members = api
                    .get::<OrgMembers>(format!("/api/v1/orgs/{id}/members"))
                    .await?;
                Ok::<_, Failure>((org, members))
            }
        },
    );
    let session = use_session();
    let lang = session.lang;
    view! {
        <Title text=t("org.title")/>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match org.await {
                    Err(e) => view! { <h1>{t("org.title")}</h1><LoadError error=e/> }.into_any(),
                    Ok((o, members)) => view! {
                        <article class="org">
                            <h1>{o.name.clone()}</h1>
                            <p class="badges"><Badge group="verification" value=o.verification.name().to_owned()/></p>
                            <dl class="facts">
                                <dt>{t("org.type")}</dt><dd>{i18n::value(lang, "org_type", o.org_type.name())}</dd>
                                <dt>{t("need.area")}</dt><dd>{o.area.name.clone()} " (" {o.area.code.clone()} ")"</dd>
                                {o.delivery_point.clone().map(|d| view! { <dt>{t("need.delivery_point")}</dt><dd>{d}</dd> })}
                                <dt>{t("org.verified_by")}</dt><dd data-testid="verified-by">{o.verified_by}</dd>
                                <dt>{t("need.posted")}</dt><dd>{o.created_at.clone()}</dd>
                                <dt>{t("need.entry")}</dt><dd><code data-testid="org-id">{o.id.clone()}</code></dd>
                            </dl>
                            {o.description.clone().map(|d| view! { <p class="description">{d}</p> })}
                            {
                                let (id, org) = (o.id.clone(), o.clone());
                                move || session.member_of(&id).then(|| view! { <OrgUpdateForm org=org.clone() notice/> })
                            }
                            <p class="feed"><a href=format!("/feeds/orgs/{}.atom", o.id) type="application/atom+xml" data-testid="feed">{t("feed.org")}</a></p>
                            <section aria-labelledby="members-h">
                                <h2 id="members-h">{t("org.members")}</h2>
                                <ul class="members" data-testid="members">
                                    {members.members.into_iter().map(|m| view! {
                                        <li><code title=m.key.clone() data-key=m.key.clone()>{short(&m.key)}</code> " · " {t("org.member_since")} " #" {m.since}</li>
                                    }).collect_view()}
                                </ul>
                                <NoticeView notice/>
                                {
                                    let id = o.id.clone();
                                    view! {
                                        <Show when=move || session.member_of(&id) fallback=|| view! { <p class="hint">{t("org.members_hint")}</p> }>
                                            <RoleChangeForm roles=&["member"] org=o.id.clone() notice testid="member-form"/>
                                        </Show>
                                    }
                                }
                            </section>
                        </article>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn RegisterOrg() -> impl IntoView {
    let state = FormState::new();
    let name = RwSignal::new(String::new());
    let org_type = RwSignal::new("hospital".to_owned());
    let (area_code, area_name) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let description = RwSignal::new(String::new());
    let delivery_point = RwSignal::new(String::new());
    let contact = ContactDraft::new();
    // The registrant is the organisation's first member: what it may do has changed.
    let session = crate::session::use_session();
    Effect::new(move |_| {
        if state.done.get().is_some() {
            session.load_roles();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        state.send(Kind::OrgRegister, move || {
            let mut body = json!({
                "name": name.get_untracked().trim(),
                "type": org_type.get_untracked(),
                "area": {"code": area_code.get_untracked().trim(), "name": area_name.get_untracked().trim()},
            });
            set_optional(&mut body, "description", description);
            set_optional(&mut body, "delivery_point", delivery_point);
            Ok::<_, Failure>((body, contact.contact()))
        });
    };
    view! {
        <Title text=t("orgs.register")/>
        <h1>{t("orgs.register")}</h1>
        <super::first_steps::FirstSteps/>
        <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="org-form">
            <TextField label=t("org.name") id="org-name" value=name state field="name" required=true/>
            <SelectField label=t("org.type") id="org-type" value=org_type options=options("org_type", i18n::ORG_TYPES, None) state field="type"/>
            <TextField label=t("post.area_code") id="area-code" value=area_code state field="area.code" required=true placeholder="CN-HB"/>
            <TextField label=t("post.area_name") id="area-name" value=area_name state field="area.name" required=true/>
            <TextField label=t("post.description") id="description" value=description state field="description"/>
            <TextField label=t("post.delivery_point") id="delivery-point" value=delivery_point state field="delivery_point"/>
            <ContactFields draft=contact state/>
            <button type="submit" disabled=move || state.busy.get()>{t("orgs.submit")}</button>
            <FormOutcome state/>
            {move || state.done.get().map(|s| view! { <p><a href=format!("/orgs/{}", s.leaf_hash) data-testid="new-org-link">{t("orgs.view")}</a></p> })}
        </form>
    }
}

/// A member changes where goods are received, or the description; the name, type
/// and area that moderators verified stay. Only what was changed is signed.
#[component]
fn OrgUpdateForm(org: Org, notice: PageNotice) -> impl IntoView {
    let state = FormState::new();
    notice.follow(state);
    let before = (
        org.delivery_point.clone().unwrap_or_default(),
        org.description.clone().unwrap_or_default(),
    );
    let delivery_point = RwSignal::new(before.0.clone());
    let description = RwSignal::new(before.1.clone());
    let id = org.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (id, before) = (id.clone(), before.clone());
        state.send(Kind::OrgUpdate, move || {
            let mut body = json!({ "org": id });
            if delivery_point.get_untracked().trim() != before.0.trim() {
                set_optional(&mut body, "delivery_point", delivery_point);
            }
            if description.get_untracked().trim() != before.1.trim() {
                set_optional(&mut body, "description", description);
            }
            Ok::<_, Failure>((body, None))
        });
    };
    view! {
        <details class="continue" data-testid="org-update">
            <summary>{t("org.update")}</summary>
            <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="org-update-form">
                <TextField label=t("post.delivery_point") id="org-update-delivery-point" value=delivery_point state field="delivery_point"/>
                <TextField label=t("post.description") id="org-update-description" value=description state field="description"/>
                <FieldError state field="body"/>
                <button type="submit" disabled=move || state.busy.get()>{t("org.update_submit")}</button>
                <FormOutcome state/>
            </form>
        </details>
    }
}
