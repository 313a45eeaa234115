//! Photos as evidence: uploading one for a need or a delivery (the server strips its
//! metadata and stores it by its SHA-256, which the entry then carries), and showing
//! one beside the check that what is served is what the log names.

use crate::api::{decode, Failure};
use crate::browser;
use crate::forms::{FieldError, FormState};
use crate::session::t;
use leptos::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Where a stored photo is served.
pub fn photo_url(sha256: &str) -> String {
    format!("/api/v1/photos/{sha256}")
}

/// A file input that uploads the chosen photo at once and keeps its hash in `value`
/// (empty until an upload succeeded).
#[component]
pub fn PhotoField(
    label: &'static str,
    #[prop(into)] id: String,
    value: RwSignal<String>,
    state: FormState,
    #[prop(into)] field: String,
) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let input_id = id.clone();
    let chosen = move |_| {
        let input_id = input_id.clone();
        busy.set(true);
        problem.set(None);
        value.set(String::new());
        leptos::task::spawn_local(async move {
            let uploaded = browser::upload(&input_id, "/api/v1/photos")
                .await
                .and_then(|(status, body)| decode::<Value>(status, &body));
            match uploaded {
                Ok(answer) => value.set(answer["sha256"].as_str().unwrap_or_default().to_owned()),
                Err(e) => problem.set(Some(crate::forms::explain(&e))),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type="file" accept="image/jpeg,image/png,image/webp" on:change=chosen/>
            <p class="hint">{t("photo.hint")}</p>
            {move || busy.get().then(|| view! { <p class="hint">{t("photo.uploading")}</p> })}
            {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
            {move || (!value.get().is_empty()).then(|| view! {
                <p class="hint" data-testid="photo-uploaded">{t("photo.uploaded")} " " <code>{value.get()}</code></p>
                <img class="photo-preview" src=photo_url(&value.get()) alt=t("photo.alt")/>
            })}
            <FieldError state field/>
        </div>
    }
}

/// A photo the log names by its SHA-256, and, once the page runs in the browser, whether
/// the bytes served hash to it.
#[component]
pub fn PhotoEvidence(sha256: String) -> impl IntoView {
    let check = RwSignal::new(None::<Result<bool, Failure>>);
    let expected = sha256.clone();
    Effect::new(move |_| {
        let expected = expected.clone();
        leptos::task::spawn_local(async move {
            let outcome = browser::fetch_bytes(&photo_url(&expected))
                .await
                .map(|bytes| hex::encode(Sha256::digest(&bytes)) == expected);
            check.set(Some(outcome));
        });
    });
    view! {
        <figure class="photo" data-testid="photo-evidence">
            <a href=photo_url(&sha256)><img src=photo_url(&sha256) alt=t("photo.alt") loading="lazy"/></a>
            <figcaption>
                "SHA-256 " <code>{sha256.clone()}</code> " "
                {move || match check.get() {
                    None => view! { <span class="hint">{t("photo.checking")}</span> }.into_any(),
                    Some(Ok(true)) => view! { <span class="verify-ok" data-testid="photo-verified">{t("photo.matches")}</span> }.into_any(),
                    Some(Ok(false)) => view! { <span class="verify-fail" data-testid="photo-mismatch">{t("photo.differs")}</span> }.into_any(),
                    Some(Err(e)) => view! { <span class="verify-fail">{t("photo.unavailable")} " " {e.message}</span> }.into_any(),
                }}
            </figcaption>
        </figure>
    }
}
