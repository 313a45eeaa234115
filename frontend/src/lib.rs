//! The aidledger web app (DESIGN.md §8), built with leptos.
//!
//! One crate, two builds. With `ssr` it is compiled into the server and renders every
//! page to HTML, reading the public JSON API in-process (so pages work before and
//! without WebAssembly). With `hydrate` it is compiled to wasm32 by
//! `scripts/build-frontend.sh` and takes the page over in the browser, where the user's
//! key lives: entries are signed, checkpoints and proofs verified, by the `ledger`
//! crate's own code.
//!
//! The JSON API (docs/API.md) is the only contract between this crate and the server;
//! it depends on no crate of ours but `ledger`.
#![recursion_limit = "256"]

pub mod api;
mod app;
mod browser;
pub mod describe;
mod forms;
pub mod i18n;
pub mod keystore;
mod model;
mod pages;
mod session;

pub use app::{shell, App};

/// Options the server and the WASM bundle agree on: where the bundle is served and
/// what its files are called (`/pkg/aidledger.js`, `/pkg/aidledger_bg.wasm`).
pub const OUTPUT_NAME: &str = "aidledger";
pub const PKG_DIR: &str = "pkg";

/// The entry point the hydration script calls once the bundle is loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
