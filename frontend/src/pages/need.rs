//! A need with its whole chain (pledges, shipments, deliveries, verdicts), the forms
//! that continue it, and "verify": the browser checks the checkpoint's signature
//! against the pinned log key and every link's signature, inclusion proof and parent,
//! with `ledger::chain::verify`, on a trace it fetches itself.

use super::items::ItemTable;
use super::photo::PhotoEvidence;
use super::{short, Badge, ContactView, LoadError};
use crate::api::{client, Failure};
use crate::browser;
use crate::describe::{lines_of, summary};
use crate::forms::{
    quantity, set_optional, ContactDraft, ContactFields, FormOutcome, FormState, NoticeView,
    PageNotice, SelectField, TextField,
};
use crate::i18n;
use crate::session::{t, use_session, PINNED_VKEY_STORAGE};
use base64::prelude::*;
use contract::{LogKey, Post, Status, Trace};
use ledger::chain;
use ledger::checkpoint::LogVerifier;
use ledger::entry::SignedEntry;
use ledger::Kind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde_json::{json, Value};

/// One link of the chain as shown: the entry as it is in the log (not yet verified).
#[derive(Clone)]
struct Shown {
    index: u64,
    hash: String,
    entry: SignedEntry,
}

fn shown(trace: &Trace) -> Vec<Shown> {
    trace
        .links
        .iter()
        .filter_map(|l| {
            let leaf = BASE64_STANDARD.decode(&l.leaf).ok()?;
            Some(Shown {
                index: l.index,
                hash: l.leaf_hash.clone(),
                entry: serde_json::from_slice(&leaf).ok()?,
            })
        })
        .collect()
}

/// The printable receipt of a pledge or a shipment.
fn receipt_of(link: &Shown) -> Option<String> {
    match link.entry.kind.as_str() {
        "pledge" => Some(format!("/receipts/{}", link.hash)),
        "shipment" => Some(format!(
            "/receipts/{}/{}",
            link.entry.body["pledge"].as_str()?,
            link.hash
        )),
        _ => None,
    }
}

#[component]
pub fn NeedPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let api = client();
    let notice = PageNotice::new();
    let data = Resource::new(
        move || (id(), notice.refresh.get()),
        move |(id, _)| {
            let api = api.clone();
            async move {
                let need: Post = api.get(format!("/api/v1/needs/{id}")).await?;
                let trace: Trace = api.get(format!("/api/v1/trace/{id}")).await?;
                Ok::<_, Failure>((need, trace))
            }
        },
    );
    view! {
        <Title text=t("need.title")/>
        <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <h1>{t("need.title")}</h1><LoadError error=e/> }.into_any(),
                    Ok((need, trace)) => view! { <NeedView need trace notice/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NeedView(need: Post, trace: Trace, notice: PageNotice) -> impl IntoView {
    let session = use_session();
    let lang = session.lang;
    let links = shown(&trace);
    let org = need.org.clone();
    let open = need.status == Status::Open;
    let id = need.id.clone();
    let pledges: Vec<Shown> = links
        .iter()
        .filter(|l| l.entry.kind == "pledge")
        .cloned()
        .collect();
    let shipments: Vec<Shown> = links
        .iter()
        .filter(|l| l.entry.kind == "shipment")
        .cloned()
        .collect();
    let accepted: Vec<String> = links
        .iter()
        .filter(|l| l.entry.kind == "pledge.accept")
        .filter_map(|l| l.entry.body["pledge"].as_str().map(str::to_owned))
        .collect();
    // The need's own entry leads the chain; its contact, if it committed to one, is
    // what an accepted donor may open.
    let need_contact = links
        .first()
        .filter(|l| l.entry.body.get("contact").is_some())
        .map(|l| l.hash.clone());
    let deliver_to = need.delivery_point.clone();
    let names: Vec<(u32, String)> = need
        .items
        .iter()
        .map(|i| (i.line, i.item.clone()))
        .collect();
    let names_for_delivery = names.clone();
    let name_of = crate::describe::line_names(lang, &need.items);
    // Forms are offered to whoever may submit them: the receiving side accepts and
    // confirms, the donor who pledged ships; everyone else reads why not.
    let (author, org_id) = (need.author.clone(), need.org.as_ref().map(|o| o.id.clone()));
    let receiving = Memo::new(move |_| session.acts_for(&author, org_id.as_deref()));
    let me = Memo::new(move |_| session.public_key());
    // The forms appear once the reader's key and memberships are known.
    Effect::new(move |_| browser::reveal_fragment(50));
    let mine: Vec<Shown> = pledges.clone();
    let has_links = !pledges.is_empty();
    let accept_forms = move || {
        receiving.get().then(|| {
            pledges
                .iter()
                .cloned()
                .map(|p| {
                    let is_accepted = accepted.contains(&p.hash);
                    view! { <AcceptForm pledge=p accepted=is_accepted notice/> }
                })
                .collect_view()
        })
    };
    let shipment_forms = move || {
        let me = me.get();
        mine.iter()
            .filter(|p| me.as_deref() == Some(p.entry.author.as_str()))
            .cloned()
            .map(|p| view! { <ShipmentForm pledge=p names=names.clone() deliver_to=deliver_to.clone() need_contact=need_contact.clone() notice/> })
            .collect_view()
    };
    let delivery_forms = move || {
        receiving.get().then(|| {
            shipments
                .iter()
                .cloned()
                .map(|s| view! { <DeliveryForm shipment=s names=names_for_delivery.clone() notice/> })
                .collect_view()
        })
    };
    let update_form = {
        let need = need.clone();
        move || (open && receiving.get()).then(|| view! { <UpdateForm need=need.clone() notice/> })
    };
    let who_may = move || {
        (has_links && !receiving.get())
            .then(|| view! { <p class="hint" data-testid="who-may">{t("need.who_may")}</p> })
    };
    let flag_form = {
        let id = id.clone();
        move || {
            (me.get().is_some() && !receiving.get())
                .then(|| view! { <FlagForm need=id.clone() notice/> })
        }
    };
    view! {
        <article class="need">
            <h1>{org.as_ref().map(|o| o.name.clone()).unwrap_or_else(|| t("need.title").to_owned())}</h1>
            <p class="badges">
                {need.urgency.map(|u| view! { <Badge group="urgency" value=u.name().to_owned()/> })}
                <Badge group="verification" value=need.verification.name().to_owned()/>
                <Badge group="status" value=need.status.name().to_owned()/>
                {need.relayed.then(|| view! { <span class="badge relayed">{t("need.relayed")}</span> })}
                {(need.stale_flags > 0).then(|| view! { <span class="badge flagged" data-testid="stale-flags">{t("need.stale_flags")} " " {need.stale_flags}</span> })}
            </p>
            {need.duplicate_of.clone().map(|d| view! {
                <p class="hint" data-testid="duplicate-of">{t("need.duplicate_of")} " " <a href=format!("/needs/{d}")><code>{short(&d)}</code></a></p>
            })}
            <dl class="facts">
                <dt>{t("need.area")}</dt><dd>{need.area.name.clone()} " (" {need.area.code.clone()} ")"</dd>
                <dt>{t("need.needed_by")}</dt><dd>{need.until.clone().unwrap_or_default()}</dd>
                <dt>{t("need.posted")}</dt><dd>{need.created_at.clone()}</dd>
                {org.map(|o| view! { <dt>{t("need.org")}</dt><dd><a href=format!("/orgs/{}", o.id)>{o.name}</a> " " <Badge group="verification" value=o.verification.name().to_owned()/></dd> })}
                {need.delivery_point.clone().map(|d| view! { <dt>{t("need.delivery_point")}</dt><dd data-testid="delivery-point">{d}</dd> })}
                {need.evidence_url.clone().map(|u| { let href = u.clone(); view! { <dt>{t("need.evidence")}</dt><dd><a href=href rel="nofollow noopener">{u}</a></dd> } })}
                <dt>{t("need.entry")}</dt><dd><code>{need.id.clone()}</code></dd>
            </dl>
            {need.description.clone().map(|d| view! { <p class="description">{d}</p> })}
            {need.evidence_photo_sha256.clone().map(|h| view! { <PhotoEvidence sha256=h/> })}
            <ItemTable post=need.clone()/>

            <section aria-labelledby="chain-h">
                <h2 id="chain-h">{t("chain.title")}</h2>
                <ol class="chain" data-testid="chain">
                    {links.into_iter().map(|l| {
                        let name_of = name_of.clone();
                        view! {
                        <li data-kind=l.entry.kind.clone() data-testid="chain-link">
                            <span class="badge kind">{i18n::value(lang, "kind", &l.entry.kind)}</span>
                            " #" {l.index} " · " <code title=l.hash.clone()>{short(&l.hash)}</code>
                            " · " {t("chain.by")} " " <a href=format!("/authors/{}", l.entry.author)><code title=l.entry.author.clone()>{short(&l.entry.author)}</code></a>
                            " · " {l.entry.created_at.clone()}
                            <span class="summary">" " {summary(lang, &l.entry, &name_of)}</span>
                            {receipt_of(&l).map(|href| view! { " · " <a href=href data-testid="receipt-link">{t("chain.receipt")}</a> })}
                            {l.entry.body["photo_sha256"].as_str().map(|h| view! { <PhotoEvidence sha256=h.to_owned()/> })}
                        </li>
                    }}).collect_view()}
                </ol>
                <NoticeView notice/>
                <Verify id=id.clone()/>
            </section>

            {open.then(|| {
                let need = need.clone();
                let lacking = need.items.iter().any(|i| i.remaining > 0);
                move || match me.get() {
                    Some(_) if !lacking => view! { <p class="hint" data-testid="all-pledged">{t("pledge.all_pledged")}</p> }.into_any(),
                    Some(_) => view! { <PledgeForm need=need.clone() notice/> }.into_any(),
                    None => view! { <p class="hint" data-testid="key-first">{t("need.key_first")} " " <a href="/keys">{t("nav.keys")}</a></p> }.into_any(),
                }
            })}
            {update_form}
            {accept_forms}
            {shipment_forms}
            {delivery_forms}
            {who_may}
            {flag_form}
            {open.then(|| view! { <super::matches::MatchList kind=contract::PostKind::Need id=id.clone() notice/> })}
        </article>
    }
}

/// The log key to verify against: pinned in this browser on first use, so a server
/// that later swaps its key is caught.
pub async fn pinned_verifier() -> Result<LogVerifier, Failure> {
    let vkey = match browser::storage_get(PINNED_VKEY_STORAGE) {
        Some(v) => v,
        None => {
            let key: LogKey = client().get("/api/v1/log/key".into()).await?;
            let _ = browser::storage_set(PINNED_VKEY_STORAGE, &key.vkey);
            key.vkey
        }
    };
    LogVerifier::new(&vkey).map_err(|e| Failure::local(e.to_string()))
}

#[derive(Clone)]
enum Outcome {
    Passed {
        size: u64,
        links: Vec<(u64, String)>,
    },
    Failed(String),
}

#[component]
fn Verify(id: String) -> impl IntoView {
    let outcome = RwSignal::new(None::<Outcome>);
    let busy = RwSignal::new(false);
    let run = move |_| {
        let id = id.clone();
        let api = client();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let verifier = pinned_verifier().await?;
                let trace: Trace = api.get(format!("/api/v1/trace/{id}")).await?;
                let chain =
                    chain::verify(&trace, &verifier).map_err(|e| Failure::local(e.to_string()))?;
                Ok::<_, Failure>(Outcome::Passed {
                    size: chain.checkpoint.size,
                    links: chain
                        .entries
                        .iter()
                        .map(|(i, e)| (*i, e.kind().name().to_owned()))
                        .collect(),
                })
            }
            .await;
            outcome.set(Some(result.unwrap_or_else(|e| Outcome::Failed(e.message))));
            busy.set(false);
        });
    };
    let lang = use_session().lang;
    view! {
        <div class="verify">
            <button type="button" on:click=run disabled=move || busy.get() data-testid="verify">{t("verify.button")}</button>
            <p class="hint">{t("verify.hint")}</p>
            <div aria-live="polite" data-testid="verify-result">
                {move || outcome.get().map(|o| match o {
                    Outcome::Passed { size, links } => view! {
                        <div class="verify-ok" data-verified="true">
                            <p><strong>{t("verify.passed")}</strong> " " {t("verify.checkpoint")} " " {size}</p>
                            <ul>
                                {links.into_iter().map(|(i, k)| view! { <li>"✓ #" {i} " " {i18n::value(lang, "kind", &k)} " — " {t("verify.link_ok")}</li> }).collect_view()}
                            </ul>
                        </div>
                    }.into_any(),
                    Outcome::Failed(why) => view! {
                        <div class="verify-fail" data-verified="false" role="alert">
                            <p><strong>{t("verify.failed")}</strong> " " {why}</p>
                        </div>
                    }.into_any(),
                })}
            </div>
        </div>
    }
}

/// A line of the need by its item's name (its number if the need has no such line).
fn line_label(names: &[(u32, String)], line: u32) -> String {
    item_name(names, line).unwrap_or_else(|| format!("{} {line}", t("chain.line")))
}

fn item_name(names: &[(u32, String)], line: u32) -> Option<String> {
    names
        .iter()
        .find(|(n, _)| *n == line)
        .map(|(_, name)| name.clone())
}

/// One line's quantity input: its bounds and what it starts with.
struct LineInput {
    line: u32,
    label: String,
    min: i64,
    max: Option<i64>,
    start: String,
}

impl LineInput {
    /// A blank input for at most `max` units.
    fn up_to(line: u32, label: String, max: i64) -> Self {
        LineInput {
            line,
            label,
            min: 0,
            max: Some(max),
            start: String::new(),
        }
    }
}

/// One quantity input per line, keyed by the line number.
#[component]
fn LineInputs(
    prefix: String,
    lines: Vec<LineInput>,
    values: RwSignal<Vec<(u32, RwSignal<String>)>>,
    state: FormState,
) -> impl IntoView {
    // The body lists only the lines given a quantity, so an error about `items[k]`
    // belongs to the k-th input that is not blank.
    state
        .fields
        .update(|f| f.extend((0..lines.len()).map(|k| format!("items[{k}].quantity"))));
    let inputs = lines
        .into_iter()
        .map(|l| {
            let value = RwSignal::new(l.start);
            values.update(|v| v.push((l.line, value)));
            let line = l.line;
            let error = move || {
                let k = values
                    .get()
                    .iter()
                    .filter(|(_, v)| !v.get().trim().is_empty())
                    .position(|(n, _)| *n == line)?;
                let e = state.error.get()?;
                (e.field() == Some(format!("items[{k}].quantity").as_str()))
                    .then(|| crate::forms::explain(&e))
            };
            let id = format!("{prefix}-line-{}", l.line);
            let bound = match l.max {
                Some(max) => format!(" ({} {max})", t("form.up_to")),
                None if l.min > 0 => format!(" ({} {})", t("form.at_least"), l.min),
                None => String::new(),
            };
            view! {
                <div class="field">
                    <label for=id.clone()>{l.label} {bound}</label>
                    <input id=id type="number" min=l.min max=l.max inputmode="numeric"
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                    {move || error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                </div>
            }
        })
        .collect_view();
    view! { <fieldset><legend>{t("form.quantities")}</legend>{inputs}</fieldset> }
}

/// The `{line, quantity}` array of the non-blank inputs.
fn typed_lines(values: &[(u32, RwSignal<String>)]) -> Result<Value, Failure> {
    let mut out = Vec::new();
    for (line, value) in values {
        let text = value.get_untracked();
        if text.trim().is_empty() {
            continue;
        }
        let q = quantity(&format!("items[{}].quantity", out.len()), &text)?;
        out.push(json!({"line": line, "quantity": q}));
    }
    Ok(Value::Array(out))
}

/// The need's side changes what it asks for (never below what is pledged) or closes
/// it: met, or withdrawn.
#[component]
fn UpdateForm(need: Post, notice: PageNotice) -> impl IntoView {
    let state = FormState::new();
    let values = RwSignal::new(Vec::new());
    let close = RwSignal::new(String::new());
    let requested: Vec<(u32, String)> = need
        .items
        .iter()
        .map(|i| (i.line, i.requested.to_string()))
        .collect();
    let lines = need
        .items
        .iter()
        .map(|i| LineInput {
            line: i.line,
            label: i.item.clone(),
            min: i.pledged,
            max: None,
            start: i.requested.to_string(),
        })
        .collect();
    let id = need.id.clone();
    notice.follow(state);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let closing = close.get_untracked();
        if !closing.is_empty() && !browser::confirm(t("update.confirm_close")) {
            return;
        }
        let id = id.clone();
        let requested = requested.clone();
        state.send(Kind::NeedUpdate, move || {
            // Only the lines whose request changed.
            let changed: Vec<(u32, RwSignal<String>)> = values
                .get_untracked()
                .into_iter()
                .filter(|(line, v): &(u32, RwSignal<String>)| {
                    requested
                        .iter()
                        .any(|(l, was)| l == line && v.get_untracked().trim() != was)
                })
                .collect();
            let items = typed_lines(&changed)?;
            let mut body = json!({"need": id});
            if items.as_array().is_some_and(|a| !a.is_empty()) {
                body["items"] = items;
            }
            if !closing.is_empty() {
                body["close"] = json!(closing);
            }
            if body.get("items").is_none() && body.get("close").is_none() {
                return Err(Failure::local(t("update.nothing")));
            }
            Ok((body, None))
        });
    };
    view! {
        <details class="continue" id="update">
            <summary>{t("update.title")}</summary>
            <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="update-form">
                <p class="hint">{t("update.hint")}</p>
                <LineInputs prefix="update".to_owned() lines values state/>
                <SelectField label=t("update.close") id="update-close" value=close
                    options=super::options("status", &["met", "withdrawn"], Some(t("update.keep_open"))) state field="close"/>
                <button type="submit" disabled=move || state.busy.get()>{t("update.submit")}</button>
                <FormOutcome state/>
            </form>
        </details>
    }
}

#[component]
fn PledgeForm(need: Post, notice: PageNotice) -> impl IntoView {
    let state = FormState::new();
    let values = RwSignal::new(Vec::new());
    let contact = ContactDraft::new();
    let lines = need
        .items
        .iter()
        .filter(|i| i.remaining > 0)
        .map(|i| LineInput::up_to(i.line, i.item.clone(), i.remaining))
        .collect();
    let id = need.id.clone();
    notice.follow(state);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = id.clone();
        state.send(Kind::Pledge, move || {
            let items = typed_lines(&values.get_untracked())?;
            Ok((json!({"need": id, "items": items}), contact.contact()))
        });
    };
    view! {
        <section aria-labelledby="pledge-h">
            <h2 id="pledge-h">{t("pledge.title")}</h2>
            <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="pledge-form">
                <LineInputs prefix="pledge".to_owned() lines values state/>
                <ContactFields draft=contact state/>
                <button type="submit" disabled=move || state.busy.get()>{t("pledge.submit")}</button>
                <FormOutcome state/>
            </form>
        </section>
    }
}

/// A donor's offer that fits the need, pledged in one step: every line the match
/// pairs, at the quantity the match says the offer can give, drawn on the offer.
#[component]
pub fn PledgeFromOffer(
    need: String,
    offer: String,
    lines: Vec<contract::MatchedLine>,
    notice: PageNotice,
) -> impl IntoView {
    let state = FormState::new();
    notice.follow(state);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let items: Vec<Value> = lines
            .iter()
            .map(|l| json!({"line": l.need_line, "quantity": l.quantity}))
            .collect();
        let body = json!({"need": need, "items": items, "offer": offer});
        state.send(Kind::Pledge, move || Ok((body, None)));
    };
    view! {
        <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="pledge-from-offer">
            <button type="submit" disabled=move || state.busy.get()>{t("matches.pledge_from_offer")}</button>
            <FormOutcome state/>
        </form>
    }
}

/// Anyone with a key may report a need as stale (no longer current) or as a duplicate
/// of an earlier one: the `flag_stale` and `flag_duplicate` verdicts, which the page
/// and the review queue show.
#[component]
fn FlagForm(need: String, notice: PageNotice) -> impl IntoView {
    let state = FormState::new();
    notice.follow(state);
    let verdict = RwSignal::new("flag_stale".to_owned());
    let reason = RwSignal::new(String::new());
    let original = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let need = need.clone();
        state.send(Kind::Verdict, move || {
            let mut body = json!({
                "entry": need,
                "verdict": verdict.get_untracked(),
                "reason": reason.get_untracked().trim(),
            });
            if verdict.get_untracked() == "flag_duplicate" {
                body["original"] = json!(original.get_untracked().trim());
            }
            Ok((body, None))
        });
    };
    let lang = use_session().lang;
    let kinds = ["flag_stale", "flag_duplicate"]
        .iter()
        .map(|v| (v.to_string(), i18n::value(lang, "verdict", v)))
        .collect();
    view! {
        <details class="continue" data-testid="flag">
            <summary>{t("flag.title")}</summary>
            <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="flag-form">
                <SelectField label=t("flag.kind") id="flag-kind" value=verdict options=kinds state field="verdict"/>
                <TextField label=t("flag.reason") id="flag-reason" value=reason state field="reason" required=true/>
                <Show when=move || verdict.get() == "flag_duplicate">
                    <TextField label=t("flag.original") id="flag-original" value=original state field="original" placeholder="64 hex"/>
                </Show>
                <button type="submit" disabled=move || state.busy.get()>{t("flag.submit")}</button>
                <FormOutcome state/>
            </form>
        </details>
    }
}

/// A pledge as the receiving side sees it: the donor's contact, if given, and, until
/// it is accepted, the acceptance that opens the need's contact to that donor.
#[component]
fn AcceptForm(pledge: Shown, accepted: bool, notice: PageNotice) -> impl IntoView {
    let state = FormState::new();
    let note = RwSignal::new(String::new());
    let id = pledge.hash.clone();
    let prefix = format!("accept-{}", pledge.index);
    let donor_contact = pledge
        .entry
        .body
        .get("contact")
        .is_some()
        .then(|| pledge.hash.clone());
    notice.follow(state);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = id.clone();
        state.send(Kind::PledgeAccept, move || {
            let mut body = json!({"pledge": id});
            set_optional(&mut body, "note", note);
            Ok((body, None))
        });
    };
    view! {
        <details class="continue" id=prefix.clone() data-testid="pledge-card">
            <summary>{i18n::value(use_session().lang, "kind", "pledge")} " #" {pledge.index} " · "
                {if accepted { t("accept.accepted") } else { t("accept.waiting") }}</summary>
            {donor_contact.map(|entry| view! { <ContactView entry label=t("contact.show_donor")/> })}
            {(!accepted).then(|| view! {
                <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="accept-form">
                    <p class="hint">{t("accept.hint")}</p>
                    <TextField label=t("accept.note") id=format!("{prefix}-note") value=note state field="note"/>
                    <button type="submit" disabled=move || state.busy.get()>{t("accept.submit")}</button>
                    <FormOutcome state/>
                </form>
            })}
        </details>
    }
}

#[component]
fn ShipmentForm(
    pledge: Shown,
    names: Vec<(u32, String)>,
    deliver_to: Option<String>,
    need_contact: Option<String>,
    notice: PageNotice,
) -> impl IntoView {
    let state = FormState::new();
    let values = RwSignal::new(Vec::new());
    let carrier = RwSignal::new(String::new());
    let tracking = RwSignal::new(String::new());
    let lines = lines_of(&pledge.entry.body)
        .into_iter()
        .map(|(line, q)| LineInput::up_to(line, line_label(&names, line), q as i64))
        .collect();
    let id = pledge.hash.clone();
    notice.follow(state);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = id.clone();
        state.send(Kind::Shipment, move || {
            let items = typed_lines(&values.get_untracked())?;
            let mut body =
                json!({"pledge": id, "carrier": carrier.get_untracked().trim(), "items": items});
            set_optional(&mut body, "tracking", tracking);
            Ok((body, None))
        });
    };
    let prefix = format!("ship-{}", pledge.index);
    view! {
        <details class="continue" id=prefix.clone()>
            <summary>{t("shipment.title")} " #" {pledge.index}</summary>
            <dl class="facts" data-testid="deliver-to">
                <dt>{t("shipment.deliver_to")}</dt>
                <dd>{deliver_to.unwrap_or_else(|| t("shipment.no_point").to_owned())}</dd>
            </dl>
            {need_contact.map(|entry| view! { <ContactView entry label=t("contact.show_need")/> })}
            <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="shipment-form">
                <TextField label=t("shipment.carrier") id=format!("{prefix}-carrier") value=carrier state field="carrier" required=true/>
                <TextField label=t("shipment.tracking") id=format!("{prefix}-tracking") value=tracking state field="tracking"/>
                <LineInputs prefix=prefix.clone() lines values state/>
                <button type="submit" disabled=move || state.busy.get()>{t("shipment.submit")}</button>
                <FormOutcome state/>
            </form>
        </details>
    }
}

#[component]
fn DeliveryForm(shipment: Shown, names: Vec<(u32, String)>, notice: PageNotice) -> impl IntoView {
    let state = FormState::new();
    let values = RwSignal::new(Vec::new());
    let condition = RwSignal::new("good".to_owned());
    let note = RwSignal::new(String::new());
    let photo = RwSignal::new(String::new());
    let lines = lines_of(&shipment.entry.body)
        .into_iter()
        .map(|(line, q)| LineInput::up_to(line, line_label(&names, line), q as i64))
        .collect();
    let id = shipment.hash.clone();
    let prefix = format!("deliver-{}", shipment.index);
    notice.follow(state);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = id.clone();
        state.send(Kind::DeliveryConfirm, move || {
            let items = typed_lines(&values.get_untracked())?;
            let mut body =
                json!({"shipment": id, "items": items, "condition": condition.get_untracked()});
            set_optional(&mut body, "note", note);
            set_optional(&mut body, "photo_sha256", photo);
            Ok((body, None))
        });
    };
    view! {
        <details class="continue" id=prefix.clone()>
            <summary>{t("delivery.title")} " #" {shipment.index}</summary>
            <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid="delivery-form">
                <LineInputs prefix=prefix.clone() lines values state/>
                <SelectField label=t("delivery.condition") id=format!("{prefix}-condition") value=condition
                    options=super::options("condition", i18n::CONDITIONS, None) state field="condition"/>
                <TextField label=t("delivery.note") id=format!("{prefix}-note") value=note state field="note"/>
                <super::photo::PhotoField label=t("delivery.photo") id=format!("{prefix}-photo") value=photo state field="photo_sha256"/>
                <button type="submit" disabled=move || state.busy.get()>{t("delivery.submit")}</button>
                <FormOutcome state/>
            </form>
        </details>
    }
}
