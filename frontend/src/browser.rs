//! The few things the app asks of the browser: `fetch`, local storage, the clock,
//! cookies, file download and upload. In the server build the same functions exist so
//! that event handlers compile, but they are never called there (handlers run only in
//! the browser); they answer that the action needs the browser.

use crate::api::Failure;

/// Extra parts of a request beside method and path.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub struct Outgoing<'a> {
    /// The body and its content type (none for a GET).
    pub body: Option<(&'a str, &'a str)>,
    pub authorization: Option<&'a str>,
}

#[cfg(feature = "hydrate")]
mod imp {
    use super::Outgoing;
    use crate::api::Failure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    fn js_failure(_: JsValue) -> Failure {
        Failure::unreachable()
    }

    pub async fn fetch(
        method: &str,
        path: &str,
        outgoing: Option<Outgoing<'_>>,
    ) -> Result<(u16, String), Failure> {
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        let headers = web_sys::Headers::new().map_err(js_failure)?;
        if let Some(o) = outgoing {
            if let Some((body, content_type)) = o.body {
                headers
                    .set("content-type", content_type)
                    .map_err(js_failure)?;
                init.set_body(&JsValue::from_str(body));
            }
            if let Some(a) = o.authorization {
                headers.set("authorization", a).map_err(js_failure)?;
            }
        }
        init.set_headers(&headers);
        send_request(path, &init).await
    }

    /// Sends a request and reads its answer: the status and the body as text.
    async fn send_request(
        path: &str,
        init: &web_sys::RequestInit,
    ) -> Result<(u16, String), Failure> {
        let request = web_sys::Request::new_with_str_and_init(path, init).map_err(js_failure)?;
        let window = web_sys::window().ok_or_else(|| Failure::local("no window"))?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(js_failure)?
            .dyn_into()
            .map_err(js_failure)?;
        let text = JsFuture::from(response.text().map_err(js_failure)?)
            .await
            .map_err(js_failure)?
            .as_string()
            .unwrap_or_default();
        Ok((response.status(), text))
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    pub fn storage_get(key: &str) -> Option<String> {
        storage()?.get_item(key).ok()?
    }

    pub fn storage_set(key: &str, value: &str) -> Result<(), Failure> {
        storage()
            .ok_or_else(|| Failure::local("this browser has no local storage"))?
            .set_item(key, value)
            .map_err(|_| Failure::local("the browser refused to store the value"))
    }

    pub fn storage_remove(key: &str) {
        if let Some(s) = storage() {
            let _ = s.remove_item(key);
        }
    }

    pub fn now_unix() -> i64 {
        (js_sys::Date::now() / 1000.0) as i64
    }

    /// The language the server rendered the page in (`<html lang>`), which hydration
    /// must keep.
    pub fn page_lang() -> Option<String> {
        web_sys::window()?
            .document()?
            .document_element()?
            .get_attribute("lang")
    }

    /// Opens the `<details>` the address's fragment names and scrolls to it: a link to
    /// a form (`/needs/…#accept-12`) names one that appears only once the page knows
    /// who is reading, after the browser looked for it. So it looks again every
    /// 100 ms, for at most `tries` times.
    pub fn reveal_fragment(tries: u32) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some(hash) = window.location().hash().ok() else {
            return;
        };
        let Some(id) = hash.strip_prefix('#').filter(|id| !id.is_empty()) else {
            return;
        };
        match window.document().and_then(|d| d.get_element_by_id(id)) {
            Some(element) => {
                let _ = element.set_attribute("open", "");
                element.scroll_into_view();
            }
            None if tries > 1 => leptos::prelude::set_timeout(
                move || reveal_fragment(tries - 1),
                std::time::Duration::from_millis(100),
            ),
            None => {}
        }
    }

    /// Loads `path` from the server, as a link outside the app would.
    pub fn load(path: &str) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(path);
        }
    }

    /// Asks the user to confirm an action that cannot be undone.
    pub fn confirm(message: &str) -> bool {
        web_sys::window()
            .and_then(|w| w.confirm_with_message(message).ok())
            .unwrap_or(false)
    }

    pub fn download(file_name: &str, text: &str) -> Result<(), Failure> {
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let props = web_sys::BlobPropertyBag::new();
        props.set_type("application/json");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &props)
            .map_err(|_| Failure::local("could not prepare the file"))?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)
            .map_err(|_| Failure::local("could not prepare the file"))?;
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| Failure::local("no document"))?;
        let a: web_sys::HtmlAnchorElement = document
            .create_element("a")
            .map_err(|_| Failure::local("could not prepare the file"))?
            .dyn_into()
            .map_err(|_| Failure::local("could not prepare the file"))?;
        a.set_href(&url);
        a.set_download(file_name);
        a.click();
        let _ = web_sys::Url::revoke_object_url(&url);
        Ok(())
    }

    pub async fn read_file(input_id: &str) -> Result<String, Failure> {
        let file = chosen_file(input_id)?;
        JsFuture::from(file.text())
            .await
            .map_err(|_| Failure::local("could not read the file"))?
            .as_string()
            .ok_or_else(|| Failure::local("the file is not text"))
    }

    /// POSTs the file chosen in `input_id` to `path` as the request body, as it is
    /// (the browser streams it; the server checks what it is).
    pub async fn upload(input_id: &str, path: &str) -> Result<(u16, String), Failure> {
        let file = chosen_file(input_id)?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&file);
        send_request(path, &init).await
    }

    /// The bytes served at `path`.
    pub async fn fetch_bytes(path: &str) -> Result<Vec<u8>, Failure> {
        let window = web_sys::window().ok_or_else(|| Failure::local("no window"))?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str(path))
            .await
            .map_err(js_failure)?
            .dyn_into()
            .map_err(js_failure)?;
        if !response.ok() {
            return Err(Failure::local(format!(
                "the server answered {}",
                response.status()
            )));
        }
        let buffer = JsFuture::from(response.array_buffer().map_err(js_failure)?)
            .await
            .map_err(js_failure)?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }

    fn chosen_file(input_id: &str) -> Result<web_sys::File, Failure> {
        let input: web_sys::HtmlInputElement = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(input_id))
            .and_then(|e| e.dyn_into().ok())
            .ok_or_else(|| Failure::local("no file input"))?;
        input
            .files()
            .and_then(|f| f.get(0))
            .ok_or_else(|| Failure::local("choose a file first"))
    }

    pub fn send<F: std::future::Future>(f: F) -> send_wrapper::SendWrapper<F> {
        send_wrapper::SendWrapper::new(f)
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::Outgoing;
    use crate::api::Failure;

    fn browser_only() -> Failure {
        Failure::local("this action runs in the browser")
    }

    pub async fn fetch(
        _method: &str,
        _path: &str,
        _outgoing: Option<Outgoing<'_>>,
    ) -> Result<(u16, String), Failure> {
        Err(browser_only())
    }

    pub fn storage_get(_key: &str) -> Option<String> {
        None
    }

    pub fn storage_set(_key: &str, _value: &str) -> Result<(), Failure> {
        Err(browser_only())
    }

    pub fn storage_remove(_key: &str) {}

    pub fn now_unix() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[cfg_attr(feature = "ssr", allow(dead_code))]
    pub fn page_lang() -> Option<String> {
        None
    }

    pub fn reveal_fragment(_tries: u32) {}

    #[cfg_attr(feature = "ssr", allow(dead_code))]
    pub fn load(_path: &str) {}

    pub fn confirm(_message: &str) -> bool {
        false
    }

    pub fn download(_file_name: &str, _text: &str) -> Result<(), Failure> {
        Err(browser_only())
    }

    pub async fn read_file(_input_id: &str) -> Result<String, Failure> {
        Err(browser_only())
    }

    pub async fn upload(_input_id: &str, _path: &str) -> Result<(u16, String), Failure> {
        Err(browser_only())
    }

    pub async fn fetch_bytes(_path: &str) -> Result<Vec<u8>, Failure> {
        Err(browser_only())
    }

    #[cfg_attr(feature = "ssr", allow(dead_code))]
    pub fn send<F: std::future::Future>(f: F) -> F {
        f
    }
}

pub use imp::*;

/// The value of cookie `name` in a `Cookie` header.
#[cfg(any(feature = "ssr", test))]
pub fn cookie_value(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// POSTs JSON to `path` and decodes the answer.
pub async fn post_json<T: serde::de::DeserializeOwned>(
    path: &str,
    json: &str,
) -> Result<T, Failure> {
    let outgoing = Outgoing {
        body: Some((json, "application/json")),
        authorization: None,
    };
    let (status, body) = fetch("POST", path, Some(outgoing)).await?;
    crate::api::decode(status, &body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_a_cookie_among_others() {
        assert_eq!(
            super::cookie_value("a=1; lang=zh; b=2", "lang").as_deref(),
            Some("zh")
        );
        assert_eq!(super::cookie_value("a=1", "lang"), None);
    }
}
