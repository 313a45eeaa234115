//! What a page knows about its visitor: the language (the `lang` cookie, else the
//! browser's `Accept-Language` on a first visit; the browser then reads the language
//! the server rendered, so hydration sees the same text) and the author key held in
//! this browser (loaded after hydration, never sent anywhere).

use crate::browser;
use crate::i18n::{tr, Lang};
use crate::keystore;
use contract::KeyRoles;
use ed25519_dalek::SigningKey;
use leptos::prelude::*;

/// Where the key file lives in local storage.
pub const KEY_STORAGE: &str = "aidledger.key";
/// The public key of the last key saved to a file from this browser (or imported from
/// one): while it is not the key in use, the app asks for a backup.
pub const BACKED_UP_STORAGE: &str = "aidledger.key.backed-up";
/// Where the log's verifier key is pinned on first use.
pub const PINNED_VKEY_STORAGE: &str = "aidledger.vkey";
/// Where the audit explorer keeps a checkpoint to check later ones against.
pub const SAVED_CHECKPOINT_STORAGE: &str = "aidledger.checkpoint";

#[derive(Clone, Copy)]
pub struct Session {
    pub lang: Lang,
    /// The WebAssembly takes this page over: false for pages that only read, which the
    /// server sends without the bundle (`takes_over`).
    pub interactive: bool,
    /// The unlocked key, once the browser has loaded (and, if sealed, opened) it.
    pub key: RwSignal<Option<SigningKey>>,
    /// A sealed key is stored but not yet opened with its passphrase.
    pub locked: RwSignal<bool>,
    /// Set once the WebAssembly has taken over the page.
    pub hydrated: RwSignal<bool>,
    /// The key in use has been saved to a file.
    pub backed_up: RwSignal<bool>,
    /// What the key in use may do (read from the log's roles once the key is loaded),
    /// so pages offer only the forms it may submit.
    pub roles: RwSignal<Option<KeyRoles>>,
}

impl Session {
    /// Records that the key in use was saved to (or came from) a file.
    pub fn mark_backed_up(self) {
        if let Some(key) = self.key.get_untracked() {
            let _ = browser::storage_set(BACKED_UP_STORAGE, &keystore::public_hex(&key));
            self.backed_up.set(true);
        }
    }

    /// Puts `key` in use; a new key is not backed up until it is saved.
    pub fn use_key(self, key: SigningKey) {
        let saved = browser::storage_get(BACKED_UP_STORAGE);
        self.backed_up
            .set(saved.as_deref() == Some(keystore::public_hex(&key).as_str()));
        self.key.set(Some(key));
        self.locked.set(false);
    }

    /// The public key in use, hex.
    pub fn public_key(self) -> Option<String> {
        self.key.get().map(|k| keystore::public_hex(&k))
    }

    /// Whether the key in use is a member of organisation `org`.
    pub fn member_of(self, org: &str) -> bool {
        self.roles
            .get()
            .is_some_and(|r| r.member_of.iter().any(|m| m == org))
    }

    /// Whether the key in use wrote `author`'s entries or is a member of `org`.
    pub fn acts_for(self, author: &str, org: Option<&str>) -> bool {
        self.public_key().as_deref() == Some(author) || org.is_some_and(|o| self.member_of(o))
    }

    /// Reads what the key in use may do (again: after a grant or revocation).
    pub fn load_roles(self) {
        let Some(key) = self.key.get_untracked() else {
            return self.roles.set(None);
        };
        let path = format!("/api/v1/keys/{}/roles", keystore::public_hex(&key));
        leptos::task::spawn_local(async move {
            self.roles
                .set(crate::api::client().get::<KeyRoles>(path).await.ok());
        });
    }

    pub fn is_moderator(self) -> bool {
        self.roles.get().is_some_and(|r| r.moderator)
    }
}

fn request_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        let Some(parts) = use_context::<http::request::Parts>() else {
            return Lang::default();
        };
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        header(http::header::COOKIE)
            .and_then(|h| browser::cookie_value(h, "lang"))
            .and_then(|v| Lang::parse(&v))
            .or_else(|| header(http::header::ACCEPT_LANGUAGE).map(Lang::preferred))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        browser::page_lang()
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_default()
    }
}

/// Whether the page at `path` is taken over by the WebAssembly. Pages that only read
/// (the boards, an offer, the list of organisations, an author's page, the log, the
/// totals, receipts) are sent without it: the bundle would multiply their weight and add nothing. Links from them to a page with
/// a form are ordinary page loads; once the bundle runs, it renders these pages too.
#[cfg(feature = "ssr")]
pub fn takes_over(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    !(matches!(
        path,
        "" | "/orgs" | "/offers" | "/log" | "/stats" | "/signing-needs-javascript"
    ) || path.starts_with("/authors/")
        || path.starts_with("/offers/")
        || path.starts_with("/receipts/"))
}

fn request_takes_over() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().is_none_or(|parts| takes_over(parts.uri.path()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

pub fn provide_session() -> Session {
    let session = Session {
        lang: request_lang(),
        interactive: request_takes_over(),
        key: RwSignal::new(None),
        locked: RwSignal::new(false),
        hydrated: RwSignal::new(false),
        backed_up: RwSignal::new(true),
        roles: RwSignal::new(None),
    };
    Effect::new(move |_| {
        session.key.track();
        session.load_roles();
    });
    Effect::new(move |_| {
        if let Some(text) = browser::storage_get(KEY_STORAGE) {
            match keystore::open(&text, None) {
                Ok(key) => session.use_key(key),
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
