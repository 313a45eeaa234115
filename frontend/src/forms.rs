//! What every form shares: signing an entry with the browser's key (the `ledger`
//! crate's own signer, which also checks the body against its kind's schema before
//! anything is sent), submitting it with any private contact data beside it, and
//! showing an error next to the field it names.

use crate::api::Failure;
use crate::browser;
use crate::session::{t, use_session};
use contract::Submitted;
use ed25519_dalek::SigningKey;
use ledger::contact::{commitment, Contact, Sidecar};
use ledger::entry::VerifiedEntry;
use ledger::fault::{Fault, FaultCode};
use ledger::Kind;
use leptos::prelude::*;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};

/// Signs `body` as an entry of `kind` written now. A body that breaks its schema is
/// refused here with the same message the server would give.
pub fn sign(key: &SigningKey, kind: Kind, body: Value) -> Result<VerifiedEntry, Failure> {
    let now = time::OffsetDateTime::from_unix_timestamp(browser::now_unix())
        .map_err(|_| Failure::local("the browser's clock is out of range"))?;
    ledger::UnsignedEntry::new(kind, &key.verifying_key(), now, body)
        .sign(key)
        .map_err(|e| Failure::local(e.to_string()).with_fault(e.fault()))
}

/// Commits to `contact` in `body` (a fresh salt) and returns what travels beside it.
pub fn commit_contact(body: &mut Value, contact: Contact) -> Sidecar {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    body["contact"] = json!(commitment(&salt, &contact));
    Sidecar {
        salt: hex::encode(salt),
        contact,
    }
}

/// Submits a signed entry; with private data through `/api/v1/submissions`.
pub async fn submit(entry: VerifiedEntry, private: Option<Sidecar>) -> Result<Submitted, Failure> {
    let leaf = String::from_utf8(entry.into_leaf()).expect("canonical JSON is UTF-8");
    match private {
        None => browser::post_json("/api/v1/entries", &leaf).await,
        Some(sidecar) => {
            if let Err(e) = sidecar.check(entry_commitment(&leaf).as_deref()) {
                return Err(Failure::local(e.to_string()).with_fault(e.fault()));
            }
            let submission = json!({ "entry": leaf, "private": sidecar }).to_string();
            browser::post_json("/api/v1/submissions", &submission).await
        }
    }
}

fn entry_commitment(leaf: &str) -> Option<String> {
    let v: Value = serde_json::from_str(leaf).ok()?;
    v["body"]["contact"].as_str().map(str::to_owned)
}

/// The contact fields of a form, `None` when all are blank.
pub fn contact_from(name: &str, phone: &str, email: &str, address: &str) -> Option<Contact> {
    let field = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
    let c = Contact {
        name: field(name),
        phone: field(phone),
        email: field(email),
        address: field(address),
    };
    (c.name.is_some() || c.phone.is_some() || c.email.is_some() || c.address.is_some()).then_some(c)
}

/// Sets `body[key]` to the trimmed text of `input` unless it is blank: an optional
/// field left empty is absent from the entry, not an empty string.
pub fn set_optional(body: &mut Value, key: &str, input: RwSignal<String>) {
    let text = input.get_untracked();
    if !text.trim().is_empty() {
        body[key] = json!(text.trim());
    }
}

/// A whole number typed into field `field`.
pub fn quantity(field: &str, text: &str) -> Result<u64, Failure> {
    text.trim().parse::<u64>().map_err(|_| {
        Failure::local(format!("body.{field}: must be a whole number")).with_fault(Some(
            Fault::new(FaultCode::Quantity)
                .at(field)
                .limit(ledger::body::MAX_QUANTITY),
        ))
    })
}

/// What a failure says, in the page's language where its code is known: the
/// server's messages are English, its codes are not.
pub fn explain(e: &Failure) -> String {
    if e.is_unreachable() {
        return t("load.unreachable").to_owned();
    }
    match &e.fault {
        Some(fault) => {
            let limit = fault.limit.map(|n| n.to_string()).unwrap_or_default();
            t(crate::i18n::fault_key(fault.code)).replace("{n}", &limit)
        }
        None => e.message.clone(),
    }
}

/// The life of one form: busy while submitting, then either the result or the error.
#[derive(Clone, Copy)]
pub struct FormState {
    pub error: RwSignal<Option<Failure>>,
    pub done: RwSignal<Option<Submitted>>,
    pub busy: RwSignal<bool>,
    /// The fields that show their own errors (each [`FieldError`] adds its own).
    pub fields: RwSignal<Vec<String>>,
}

impl FormState {
    pub fn new() -> Self {
        FormState {
            error: RwSignal::new(None),
            done: RwSignal::new(None),
            busy: RwSignal::new(false),
            fields: RwSignal::new(Vec::new()),
        }
    }

    /// Builds the body with `build`, signs it with the session's key and submits it.
    /// `build` returns the body and any private contact data.
    pub fn send(
        self,
        kind: Kind,
        build: impl FnOnce() -> Result<(Value, Option<Contact>), Failure>,
    ) {
        self.error.set(None);
        self.done.set(None);
        let Some(key) = use_session().key.get_untracked() else {
            self.error.set(Some(Failure::local(t("form.needs_key"))));
            return;
        };
        let prepared = build().and_then(|(mut body, contact)| {
            let private = contact.map(|c| commit_contact(&mut body, c));
            Ok((sign(&key, kind, body)?, private))
        });
        let (entry, private) = match prepared {
            Ok(p) => p,
            Err(e) => return self.error.set(Some(e)),
        };
        self.busy.set(true);
        leptos::task::spawn_local(async move {
            match submit(entry, private).await {
                Ok(s) => self.done.set(Some(s)),
                Err(e) => self.error.set(Some(e)),
            }
            self.busy.set(false);
        });
    }
}

/// What a page keeps of its last submission, for forms that a successful submission
/// re-renders away (the page reloads its data, and the form with it).
#[derive(Clone, Copy)]
pub struct PageNotice {
    pub last: RwSignal<Option<Submitted>>,
    /// Bumped after each submission; the page's resources reload on it.
    pub refresh: RwSignal<u32>,
}

impl PageNotice {
    pub fn new() -> Self {
        PageNotice {
            last: RwSignal::new(None),
            refresh: RwSignal::new(0),
        }
    }

    /// Reports `state`'s submissions here and reloads the page's data after each.
    pub fn follow(self, state: FormState) {
        Effect::new(move |_| {
            if let Some(done) = state.done.get() {
                self.last.set(Some(done));
                self.refresh.update(|r| *r += 1);
            }
        });
    }
}

/// "Recorded in the log as entry #N · <hash>".
#[component]
fn Recorded(submitted: Submitted, testid: &'static str) -> impl IntoView {
    view! {
        <p class="form-done" role="status" data-testid=testid>
            {t("form.done")} " #" {submitted.index} " · "
            <code data-testid="new-entry">{submitted.leaf_hash}</code>
        </p>
    }
}

#[component]
pub fn NoticeView(notice: PageNotice) -> impl IntoView {
    view! {
        <div aria-live="polite">
            {move || notice.last.get().map(|s| view! { <Recorded submitted=s testid="page-notice"/> })}
        </div>
    }
}

/// The error of `state` if it names `field`, shown under that field's input.
#[component]
pub fn FieldError(state: FormState, #[prop(into)] field: String) -> impl IntoView {
    state.fields.update(|f| f.push(field.clone()));
    let name = field.clone();
    let message = Signal::derive(move || {
        state
            .error
            .get()
            .filter(|e| e.field() == Some(name.as_str()))
            .map(|e| explain(&e))
    });
    let id = format!("err-{}", field.replace(['[', ']', '.'], "-"));
    view! {
        <Show when=move || message.get().is_some()>
            <p class="field-error" role="alert" id=id.clone() data-field=field.clone()>{message}</p>
        </Show>
    }
}

/// The outcome of a form: an error that names no shown field, or the new entry.
#[component]
pub fn FormOutcome(state: FormState) -> impl IntoView {
    let general = move || {
        let shown = state.fields.get();
        state
            .error
            .get()
            .filter(|e| !e.field().is_some_and(|f| shown.iter().any(|s| s == f)))
            .map(|e| explain(&e))
    };
    view! {
        <div aria-live="polite">
            <Show when=move || state.busy.get()>
                <p class="busy">{t("form.sending")}</p>
            </Show>
            <Show when=move || general().is_some()>
                <p class="form-error" role="alert" data-testid="form-error">{general}</p>
            </Show>
            {move || state.done.get().map(|s| view! { <Recorded submitted=s testid="form-done"/> })}
        </div>
    }
}

/// A labelled text input bound to `value`, with the error for `field` under it.
#[component]
pub fn TextField(
    label: &'static str,
    #[prop(into)] id: String,
    value: RwSignal<String>,
    state: FormState,
    #[prop(optional, into)] field: String,
    #[prop(optional)] input_type: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let input_type = if input_type.is_empty() {
        "text"
    } else {
        input_type
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                name=id
                type=input_type
                required=required
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {(!field.is_empty()).then(|| view! { <FieldError state field/> })}
        </div>
    }
}

/// A labelled select bound to `value`; `options` are (value, label) pairs.
#[component]
pub fn SelectField(
    label: &'static str,
    #[prop(into)] id: String,
    value: RwSignal<String>,
    options: Vec<(String, String)>,
    state: FormState,
    #[prop(optional, into)] field: String,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id.clone() name=id on:change=move |ev| value.set(event_target_value(&ev)) prop:value=move || value.get()>
                {options.into_iter().map(|(v, l)| {
                    let selected = v == value.get_untracked();
                    view! { <option value=v selected=selected>{l}</option> }
                }).collect_view()}
            </select>
            {(!field.is_empty()).then(|| view! { <FieldError state field/> })}
        </div>
    }
}

/// The four optional private contact fields (never published; moderators and the
/// counterpart may read them, and every read is recorded).
#[derive(Clone, Copy)]
pub struct ContactDraft {
    pub name: RwSignal<String>,
    pub phone: RwSignal<String>,
    pub email: RwSignal<String>,
    pub address: RwSignal<String>,
}

impl ContactDraft {
    pub fn new() -> Self {
        ContactDraft {
            name: RwSignal::new(String::new()),
            phone: RwSignal::new(String::new()),
            email: RwSignal::new(String::new()),
            address: RwSignal::new(String::new()),
        }
    }

    pub fn contact(&self) -> Option<Contact> {
        contact_from(
            &self.name.get_untracked(),
            &self.phone.get_untracked(),
            &self.email.get_untracked(),
            &self.address.get_untracked(),
        )
    }
}

#[component]
pub fn ContactFields(draft: ContactDraft, state: FormState) -> impl IntoView {
    view! {
        <fieldset>
            <legend>{t("contact.legend")}</legend>
            <p class="hint">{t("contact.hint")}</p>
            <TextField label=t("contact.name") id="contact-name" value=draft.name state field="contact.name"/>
            <TextField label=t("contact.phone") id="contact-phone" value=draft.phone state field="contact.phone" input_type="tel"/>
            <TextField label=t("contact.email") id="contact-email" value=draft.email state field="contact.email" input_type="email"/>
            <TextField label=t("contact.address") id="contact-address" value=draft.address state field="contact.address"/>
            <FieldError state field="contact"/>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_entry_is_what_the_log_accepts() {
        let key = crate::keystore::generate();
        let body = json!({"name": "Wuhan Union Hospital", "type": "hospital",
                          "area": {"code": "CN-HB", "name": "Hubei"}});
        let entry = sign(&key, Kind::OrgRegister, body).unwrap();
        let again = VerifiedEntry::from_leaf(entry.leaf()).unwrap();
        assert_eq!(again.leaf_hash(), entry.leaf_hash());
    }

    #[test]
    fn a_body_error_names_its_field_before_anything_is_sent() {
        let key = crate::keystore::generate();
        let body =
            json!({"name": "x", "type": "hospital", "area": {"code": "hubei", "name": "Hubei"}});
        let e = sign(&key, Kind::OrgRegister, body).unwrap_err();
        assert_eq!(e.field(), Some("area.code"), "{e}");
    }

    #[test]
    fn a_contact_commitment_opens_with_its_sidecar() {
        let mut body = json!({});
        let contact = contact_from("Dr Li", "", "", " ").unwrap();
        assert_eq!(contact.address, None);
        let sidecar = commit_contact(&mut body, contact);
        assert!(sidecar.check(body["contact"].as_str()).is_ok());
        assert!(contact_from(" ", "", "", "").is_none());
    }
}
