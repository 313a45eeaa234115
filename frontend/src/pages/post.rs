//! Posting a need (a hospital member, or a volunteer relaying it with evidence) and
//! posting an offer. Both list items: name, category, quantity, unit, specification.

use super::{options, LoadError};
use crate::api::Failure;
use crate::forms::{
    quantity, set_optional, ContactDraft, ContactFields, FieldError, FormOutcome, FormState,
    SelectField, TextField,
};
use crate::i18n;
use crate::session::t;
use ledger::fault::{Fault, FaultCode};
use ledger::Kind;
use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::{json, Value};

/// One item line being typed.
#[derive(Clone, Copy)]
struct ItemDraft {
    /// Tells the lines apart when one is removed (positions shift; drafts do not).
    id: u32,
    item: RwSignal<String>,
    category: RwSignal<String>,
    quantity: RwSignal<String>,
    unit: RwSignal<String>,
    spec: RwSignal<String>,
}

impl ItemDraft {
    fn new(id: u32) -> Self {
        ItemDraft {
            id,
            item: RwSignal::new(String::new()),
            category: RwSignal::new("respirator".into()),
            quantity: RwSignal::new(String::new()),
            unit: RwSignal::new("piece".into()),
            spec: RwSignal::new(String::new()),
        }
    }
}

fn items_json(drafts: &[ItemDraft]) -> Result<Value, Failure> {
    drafts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut item = json!({
                "item": d.item.get_untracked().trim(),
                "category": d.category.get_untracked(),
                "quantity": quantity(&format!("items[{i}].quantity"), &d.quantity.get_untracked())?,
                "unit": d.unit.get_untracked(),
            });
            set_optional(&mut item, "spec", d.spec);
            Ok(item)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

#[component]
fn ItemsEditor(drafts: RwSignal<Vec<ItemDraft>>, state: FormState) -> impl IntoView {
    let categories: Vec<&str> = ledger::body::Category::ALL
        .iter()
        .map(|c| c.name())
        .collect();
    view! {
        <fieldset class="items-editor">
            <legend>{t("post.items")}</legend>
            // Keyed by position and draft: after a removal the lines below it are drawn
            // again with their new positions, which their fields' error paths name.
            <For each=move || drafts.get().into_iter().enumerate() key=|(i, d)| (*i, d.id) let:((i, d))>
                <div class="item-line" data-testid="item-line">
                    <TextField label=t("post.item") id=format!("item-{i}-name") value=d.item state field=format!("items[{i}].item") required=true placeholder="N95 口罩"/>
                    <SelectField label=t("post.category") id=format!("item-{i}-category") value=d.category
                        options=options("category", &categories, None) state field=format!("items[{i}].category")/>
                    <TextField label=t("post.quantity") id=format!("item-{i}-quantity") value=d.quantity state field=format!("items[{i}].quantity") input_type="number" required=true/>
                    <SelectField label=t("post.unit") id=format!("item-{i}-unit") value=d.unit
                        options=options("unit", i18n::UNITS, None) state field=format!("items[{i}].unit")/>
                    <TextField label=t("post.spec") id=format!("item-{i}-spec") value=d.spec state field=format!("items[{i}].spec") placeholder="GB 19083-2010"/>
                    <button type="button" class="secondary" data-testid="remove-item"
                        disabled=move || drafts.with(|all| all.len() < 2)
                        on:click=move |_| drafts.update(|all| all.retain(|x| x.id != d.id))>{t("post.remove_item")}</button>
                </div>
            </For>
            <FieldError state field="items"/>
            <button type="button" class="secondary" on:click=move |_| drafts.update(|d| {
                let next = d.iter().map(|x| x.id + 1).max().unwrap_or_default();
                d.push(ItemDraft::new(next));
            })>
                {t("post.add_item")}
            </button>
        </fieldset>
    }
}

#[component]
fn AreaFields(code: RwSignal<String>, name: RwSignal<String>, state: FormState) -> impl IntoView {
    view! {
        <TextField label=t("post.area_code") id="area-code" value=code state field="area.code" required=true placeholder="CN-HB"/>
        <TextField label=t("post.area_name") id="area-name" value=name state field="area.name" required=true placeholder="湖北 Hubei"/>
    }
}

#[component]
pub fn PostNeed() -> impl IntoView {
    let orgs = super::orgs::all_orgs();
    let session = crate::session::use_session();
    let state = FormState::new();
    let org = RwSignal::new(String::new());
    let drafts = RwSignal::new(vec![ItemDraft::new(0)]);
    let urgency = RwSignal::new("high".to_owned());
    let needed_by = RwSignal::new(String::new());
    let (area_code, area_name) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let description = RwSignal::new(String::new());
    let evidence_url = RwSignal::new(String::new());
    let evidence_photo = RwSignal::new(String::new());
    let delivery_point = RwSignal::new(String::new());
    let contact = ContactDraft::new();
    // The user's own organisation, once its roles are known: members post for it;
    // anyone else relays for another, with evidence.
    Effect::new(move |_| {
        if let Some(own) = session
            .roles
            .get()
            .and_then(|r| r.member_of.first().cloned())
        {
            org.set(own);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        state.send(Kind::NeedPost, move || {
            if org.get_untracked().is_empty() {
                return Err(Failure::local("body.org: choose the organisation").with_fault(Some(
                    Fault::new(FaultCode::Required).at("org"),
                )));
            }
            let mut body = json!({
                "org": org.get_untracked(),
                "items": items_json(&drafts.get_untracked())?,
                "urgency": urgency.get_untracked(),
                "needed_by": needed_by.get_untracked(),
                "area": {"code": area_code.get_untracked().trim(), "name": area_name.get_untracked().trim()},
            });
            set_optional(&mut body, "description", description);
            set_optional(&mut body, "delivery_point", delivery_point);
            let mut evidence = serde_json::Map::new();
            let url = evidence_url.get_untracked();
            if !url.trim().is_empty() {
                evidence.insert("url".into(), json!(url.trim()));
            }
            let photo = evidence_photo.get_untracked();
            if !photo.is_empty() {
                evidence.insert("photo_sha256".into(), json!(photo));
            }
            if !evidence.is_empty() {
                body["evidence"] = evidence.into();
            }
            Ok((body, contact.contact()))
        });
    };
    view! {
        <Title text=t("post_need.title")/>
        <h1>{t("post_need.title")}</h1>
        <super::first_steps::FirstSteps/>
        <p class="hint">{t("post_need.hint")}</p>
        <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="need-form">
            <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
                {move || Suspend::new(async move {
                    match orgs.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(page) => {
                            // Nothing is chosen for the user but their own organisation.
                            let opts = std::iter::once((String::new(), t("post.choose_org").to_owned()))
                                .chain(page.items.into_iter().map(|o| (o.id, format!("{} ({})", o.name, o.area.code))))
                                .collect();
                            view! {
                                <SelectField label=t("post.org") id="org" value=org options=opts state field="org"/>
                                {move || session.roles.get().is_some_and(|r| r.member_of.is_empty()).then(|| view! { <p class="hint" data-testid="register-first">{t("post_need.register_first")} " " <a href="/orgs/new">{t("orgs.register")}</a></p> })}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
            <ItemsEditor drafts state/>
            <SelectField label=t("post.urgency") id="urgency" value=urgency options=options("urgency", i18n::URGENCIES, None) state field="urgency"/>
            <TextField label=t("post.needed_by") id="needed-by" value=needed_by state field="needed_by" input_type="date" required=true/>
            <AreaFields code=area_code name=area_name state/>
            <TextField label=t("post.description") id="description" value=description state field="description"/>
            <TextField label=t("post.delivery_point") id="delivery-point" value=delivery_point state field="delivery_point"/>
            <TextField label=t("post.evidence_url") id="evidence-url" value=evidence_url state field="evidence.url" input_type="url" placeholder="https://"/>
            <super::photo::PhotoField label=t("post.evidence_photo") id="evidence-photo" value=evidence_photo state field="evidence.photo_sha256"/>
            <FieldError state field="evidence"/>
            <ContactFields draft=contact state/>
            <button type="submit" disabled=move || state.busy.get()>{t("post_need.submit")}</button>
            <FormOutcome state/>
            {move || state.done.get().map(|s| view! { <p><a href=format!("/needs/{}", s.leaf_hash) data-testid="new-need-link">{t("post_need.view")}</a></p> })}
        </form>
    }
}

#[component]
pub fn PostOffer() -> impl IntoView {
    let state = FormState::new();
    let drafts = RwSignal::new(vec![ItemDraft::new(0)]);
    let (area_code, area_name) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let available_until = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let contact = ContactDraft::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        state.send(Kind::OfferPost, move || {
            let mut body = json!({
                "items": items_json(&drafts.get_untracked())?,
                "area": {"code": area_code.get_untracked().trim(), "name": area_name.get_untracked().trim()},
            });
            set_optional(&mut body, "available_until", available_until);
            set_optional(&mut body, "description", description);
            Ok((body, contact.contact()))
        });
    };
    view! {
        <Title text=t("post_offer.title")/>
        <h1>{t("post_offer.title")}</h1>
        <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="offer-form">
            <ItemsEditor drafts state/>
            <AreaFields code=area_code name=area_name state/>
            <TextField label=t("post.available_until") id="available-until" value=available_until state field="available_until" input_type="date"/>
            <TextField label=t("post.description") id="description" value=description state field="description"/>
            <ContactFields draft=contact state/>
            <button type="submit" disabled=move || state.busy.get()>{t("post_offer.submit")}</button>
            <FormOutcome state/>
            {move || state.done.get().map(|s| view! { <p><a href=format!("/offers/{}", s.leaf_hash) data-testid="new-offer-link">{t("post_offer.view")}</a></p> })}
        </form>
    }
}
