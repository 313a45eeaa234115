//! My key and my entries. The key is made here, in the browser, and stays here (local
//! storage, sealed with a passphrase if one is given); it can be exported to a file
//! (the CLI's key file format when unprotected) and imported from one.

use super::short;
use crate::api::{client, Failure};
use crate::browser;
use crate::keystore;
use crate::session::{t, use_session, KEY_STORAGE};
use contract::LogEntries;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MyKey() -> impl IntoView {
    let session = use_session();
    let passphrase = RwSignal::new(String::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let report = move |r: Result<&'static str, String>| message.set(Some(r.map(str::to_owned)));
    let phrase = move || Some(passphrase.get_untracked()).filter(|p| !p.is_empty());

    let store = move |key: ed25519_dalek::SigningKey| -> Result<(), String> {
        let text = keystore::export(&key, phrase().as_deref()).map_err(|e| e.to_string())?;
        browser::storage_set(KEY_STORAGE, &text).map_err(|e| e.message)?;
        session.use_key(key);
        Ok(())
    };
    let has_key = move || session.key.get_untracked().is_some() || session.locked.get_untracked();
    let generate = move |_| {
        if has_key() && !browser::confirm(t("key.confirm_replace")) {
            return;
        }
        report(store(keystore::generate()).map(|_| t("key.generated")))
    };
    let export = move |_| {
        let result = session
            .key
            .get_untracked()
            .ok_or_else(|| t("form.needs_key").to_owned())
            .and_then(|k| keystore::export(&k, phrase().as_deref()).map_err(|e| e.to_string()))
            .and_then(|text| browser::download("aidledger-key.json", &text).map_err(|e| e.message));
        if result.is_ok() {
            session.mark_backed_up();
        }
        report(result.map(|_| t("key.exported")));
    };
    let import = move |_| {
        leptos::task::spawn_local(async move {
            let result = async {
                let text = browser::read_file("key-file")
                    .await
                    .map_err(|e| e.message)?;
                let key = keystore::open(&text, phrase().as_deref()).map_err(|e| e.to_string())?;
                store(key)?;
                // It came from a file: that file is its backup.
                session.mark_backed_up();
                Ok(())
            }
            .await;
            report(result.map(|_| t("key.imported")));
        });
    };
    let unlock = move |_| {
        let result = browser::storage_get(KEY_STORAGE)
            .ok_or_else(|| t("key.status.none").to_owned())
            .and_then(|text| keystore::open(&text, phrase().as_deref()).map_err(|e| e.to_string()))
            .map(|key| session.use_key(key));
        report(result.map(|_| t("key.unlocked")));
    };
    let forget = move |_| {
        if !browser::confirm(t("key.confirm_forget")) {
            return;
        }
        browser::storage_remove(KEY_STORAGE);
        session.key.set(None);
        session.locked.set(false);
        report(Ok(t("key.forgotten")));
    };
    let public = move || session.key.get().map(|k| keystore::public_hex(&k));
    view! {
        <Title text=t("key.title")/>
        <h1>{t("key.title")}</h1>
        <super::first_steps::FirstSteps/>
        <p class="hint">{t("key.hint")}</p>
        <section aria-labelledby="pub-h">
            <h2 id="pub-h">{t("key.public")}</h2>
            <p><code data-testid="public-key">{move || public().unwrap_or_else(|| t("key.status.none").to_owned())}</code></p>
            {move || public().map(|key| view! { <p class="feed"><a href=format!("/feeds/authors/{key}.atom") type="application/atom+xml">{t("feed.author")}</a></p> })}
        </section>
        <section aria-labelledby="manage-h">
            <h2 id="manage-h">{t("key.manage")}</h2>
            <div class="field">
                <label for="passphrase">{t("key.passphrase")}</label>
                <input id="passphrase" type="password" autocomplete="new-password"
                    prop:value=move || passphrase.get() on:input=move |ev| passphrase.set(event_target_value(&ev))/>
                <p class="hint">{t("key.passphrase_hint")}</p>
            </div>
            <div class="actions">
                <button type="button" on:click=generate data-testid="generate-key" disabled=move || !session.hydrated.get()>{t("key.generate")}</button>
                <button type="button" on:click=export data-testid="export-key" disabled=move || session.key.get().is_none()>{t("key.export")}</button>
                <button type="button" on:click=unlock disabled=move || !session.locked.get()>{t("key.unlock")}</button>
                <button type="button" class="danger" on:click=forget disabled=move || session.key.get().is_none() && !session.locked.get()>{t("key.forget")}</button>
            </div>
            <div class="field">
                <label for="key-file">{t("key.file")}</label>
                <input id="key-file" type="file" accept=".json,application/json"/>
                <button type="button" on:click=import disabled=move || !session.hydrated.get()>{t("key.import")}</button>
            </div>
            <div aria-live="polite" data-testid="key-message">
                {move || message.get().map(|m| match m {
                    Ok(text) => view! { <p class="form-done" role="status">{text}</p> }.into_any(),
                    Err(text) => view! { <p class="form-error" role="alert">{text}</p> }.into_any(),
                })}
            </div>
        </section>
        <MyRoles/>
        <MyEntries/>
    }
}

/// What this key may do, and for administrators the appointment of moderators and
/// administrators.
#[component]
fn MyRoles() -> impl IntoView {
    let session = use_session();
    let notice = crate::forms::PageNotice::new();
    let lang = session.lang;
    Effect::new(move |previous: Option<u32>| {
        // A grant or revocation may change this key's own roles: read them again.
        let refreshed = notice.refresh.get();
        if previous.is_some_and(|p| p != refreshed) {
            session.load_roles();
        }
        refreshed
    });
    view! {
        <section aria-labelledby="roles-h">
            <h2 id="roles-h">{t("roles.title")}</h2>
            <ul data-testid="my-roles">
                {move || session.roles.get().map(|r| {
                    let mut held: Vec<String> = vec![];
                    if r.administrator { held.push(crate::i18n::value(lang, "role", "administrator")); }
                    if r.moderator { held.push(crate::i18n::value(lang, "role", "moderator")); }
                    let orgs = r.member_of.into_iter().map(|o| view! {
                        <li>{crate::i18n::value(lang, "role", "member")} " · " <a href=format!("/orgs/{o}")><code>{short(&o)}</code></a></li>
                    }).collect_view();
                    view! { {held.into_iter().map(|h| view! { <li>{h}</li> }).collect_view()} {orgs} }
                })}
            </ul>
            <crate::forms::NoticeView notice/>
            <Show when=move || session.roles.get().is_some_and(|r| r.administrator)
                fallback=|| view! { <p class="hint">{t("roles.admin_only")}</p> }>
                <super::roles::RoleChangeForm roles=&["moderator", "administrator"] notice testid="role-form"/>
            </Show>
        </section>
    }
}

/// The entries this key wrote, newest last, read once the browser has the key.
#[component]
fn MyEntries() -> impl IntoView {
    let session = use_session();
    let entries = RwSignal::new(None::<Result<Vec<super::log::Entry>, Failure>>);
    Effect::new(move |_| {
        let Some(key) = session.key.get() else { return };
        let api = client();
        leptos::task::spawn_local(async move {
            let path = format!(
                "/api/v1/authors/{}/entries?limit=1000",
                keystore::public_hex(&key)
            );
            let result = api.get::<LogEntries>(path).await.map(super::log::decoded);
            entries.set(Some(result));
        });
    });
    view! {
        <section aria-labelledby="mine-h">
            <h2 id="mine-h">{t("key.entries")}</h2>
            {move || match entries.get() {
                None => view! { <p>{t("key.entries_none")}</p> }.into_any(),
                Some(Err(e)) => view! { <super::LoadError error=e/> }.into_any(),
                Some(Ok(list)) => view! { <super::log::EntryRows entries=list testid="my-entries"/> }.into_any(),
            }}
        </section>
    }
}
