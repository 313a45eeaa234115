//! What a page knows about its visitor: the language (a cookie, read the same way on
//! the server and in the browser so hydration sees the same text) and the author key
//! held in this browser (loaded after hydration, never sent anywhere).

use crate::browser;
use crate::i18n::{tr, Lang};
use crate::keystore;
use ed25519_dalek::SigningKey;
use leptos::prelude::*;

/// Where the key file lives in local storage.
pub const KEY_STORAGE: &str = "aidledger.key";
/// Where the log's verifier key is pinned on first use.
pub const PINNED_VKEY_STORAGE: &str = "aidledger.vkey";
/// Where the audit explorer keeps a checkpoint to check later ones against.
pub const SAVED_CHECKPOINT_STORAGE: &str = "aidledger.checkpoint";

#[derive(Clone, Copy)]
pub struct Session {
    pub lang: Lang,
    /// The unlocked key, once the browser has loaded (and, if sealed, opened) it.
    pub key: RwSignal<Option<SigningKey>>,
    /// A sealed key is stored but not yet opened with its passphrase.
    pub locked: RwSignal<bool>,
    /// Set once the WebAssembly has taken over the page.
    pub hydrated: RwSignal<bool>,
}

fn request_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                let header = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
                browser::cookie_value(header, "lang")
            })
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        browser::cookie("lang")
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_default()
    }
}

pub fn provide_session() -> Session {
    let session = Session {
        lang: request_lang(),
        key: RwSignal::new(None),
        locked: RwSignal::new(false),
        hydrated: RwSignal::new(false),
    };
    Effect::new(move |_| {
        if let Some(text) = browser::storage_get(KEY_STORAGE) {
            match keystore::open(&text, None) {
                Ok(key) => session.key.set(Some(key)),
                Err(_) => session.locked.set(keystore::is_sealed(&text)),
            }
        }
        session.hydrated.set(true);
    });
    provide_context(session);
    session
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The text of `key` in the page's language.
pub fn t(key: &'static str) -> &'static str {
    tr(use_session().lang, key)
}
