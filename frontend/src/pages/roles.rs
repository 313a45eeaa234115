//! Who may act: appointing and removing members of an organisation (by its members)
//! and moderators and administrators (by administrators), signed in the browser. The
//! rules decide (docs/FORMAT.md §5, Roles); the page offers each form only to keys the
//! rules would let submit it.

use crate::forms::{FormOutcome, FormState, PageNotice, SelectField, TextField};
use crate::i18n;
use crate::session::t;
use ledger::Kind;
use leptos::prelude::*;
use serde_json::json;

/// Grants or revokes one of `roles` (names the log writes) for a key typed in, in
/// `org` for the member role.
#[component]
pub fn RoleChangeForm(
    roles: &'static [&'static str],
    #[prop(optional)] org: Option<String>,
    notice: PageNotice,
    testid: &'static str,
) -> impl IntoView {
    let state = FormState::new();
    let key = RwSignal::new(String::new());
    let role = RwSignal::new(roles[0].to_owned());
    let change = RwSignal::new("grant".to_owned());
    notice.follow(state);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let org = org.clone();
        let kind = if change.get_untracked() == "grant" {
            Kind::RoleGrant
        } else {
            Kind::RoleRevoke
        };
        state.send(kind, move || {
            let mut body = json!({"key": key.get_untracked().trim(), "role": role.get_untracked()});
            if let Some(org) = org {
                body["org"] = json!(org);
            }
            Ok((body, None))
        });
    };
    let lang = crate::session::use_session().lang;
    let role_options: Vec<(String, String)> = roles
        .iter()
        .map(|r| (r.to_string(), i18n::value(lang, "role", r)))
        .collect();
    let changes = vec![
        ("grant".to_owned(), t("roles.grant").to_owned()),
        ("revoke".to_owned(), t("roles.revoke").to_owned()),
    ];
    let id = |name: &str| format!("{testid}-{name}");
    view! {
        <form method="post" action="/signing-needs-javascript" on:submit=submit data-testid=testid>
            <TextField label=t("roles.key") id=id("key") value=key state field="key" required=true placeholder="64 hex"/>
            {(roles.len() > 1).then(|| view! { <SelectField label=t("roles.role") id=id("role") value=role options=role_options state field="role"/> })}
            <SelectField label=t("roles.change") id=id("change") value=change options=changes state/>
            <button type="submit" disabled=move || state.busy.get()>{t("roles.submit")}</button>
            <FormOutcome state/>
        </form>
    }
}
