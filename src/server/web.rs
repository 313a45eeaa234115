//! The web app: leptos pages rendered on the server (each page fully rendered before it
//! is sent, so it reads without JavaScript), the WASM bundle and stylesheet that
//! hydrate them, and the language switch. Pages read the public API in-process through
//! [`InProcessApi`]: the same answers any client gets, so no private data can reach a
//! page by another path.

use super::client_addr::ClientIp;
use super::error::ApiError;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use frontend::api::{ApiSource, ServerApi};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::LazyLock;
use tower::ServiceExt;

/// Hash of the sources the committed bundle was built from (scripts/build-frontend.sh).
pub const BUNDLE_SOURCES: &str = include_str!("../../static/pkg/SOURCES");

/// A file served from the binary itself, so that `cargo run` needs nothing beside it.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// The same file gzipped at build time, served to browsers that accept it.
    gzipped: Option<&'static [u8]>,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "pkg/aidledger.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/pkg/aidledger.js"),
        gzipped: Some(include_bytes!("../../static/pkg/aidledger.js.gz")),
    },
    Asset {
        path: "pkg/aidledger_bg.wasm",
        content_type: "application/wasm",
        bytes: include_bytes!("../../static/pkg/aidledger_bg.wasm"),
        gzipped: Some(include_bytes!("../../static/pkg/aidledger_bg.wasm.gz")),
    },
    Asset {
        path: "static/app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/app.css"),
        gzipped: None,
    },
    Asset {
        path: "static/favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../static/favicon.svg"),
        gzipped: None,
    },
];

/// The API router, answering GETs for pages being rendered.
struct InProcessApi(Router);

impl ApiSource for InProcessApi {
    fn get(&self, path_and_query: String) -> Pin<Box<dyn Future<Output = (u16, String)> + Send>> {
        let router = self.0.clone();
        Box::pin(async move {
            let Ok(mut request) = Request::get(&path_and_query).body(Body::empty()) else {
                return (400, r#"{"error":"malformed path"}"#.to_owned());
            };
            // Handlers that limit by client address see the server itself.
            request
                .extensions_mut()
                .insert(ClientIp(std::net::Ipv4Addr::LOCALHOST.into()));
            let response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), 16 << 20)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            (status, body)
        })
    }
}

fn options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(frontend::OUTPUT_NAME)
        .site_pkg_dir(frontend::PKG_DIR)
        .build()
}

/// The pages, the assets and the language switch, rendering with `api` for data.
pub(crate) fn router(api: Router) -> Router {
    let options = options();
    let source = ServerApi(Arc::new(InProcessApi(api)));
    let context = move || {
        provide_context(source.clone());
        // leptos gives each render a fresh nonce and writes it on its inline scripts;
        // the page's policy admits those scripts and no others.
        if let Some(nonce) = leptos::nonce::use_nonce() {
            let policy = super::security_headers::page_policy(&nonce);
            if let (Some(response), Ok(policy)) = (
                leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
                HeaderValue::from_str(&policy),
            ) {
                response.insert_header(header::CONTENT_SECURITY_POLICY, policy);
            }
        }
    };
    // Listed once per process. Listing renders the app with leptos_server's
    // process-wide "suppress resource loads" flag set; a page rendering meanwhile in
    // another instance of this process would wait forever for a resource that never
    // loads (leptos-rs/leptos#4773). Once listed, no listing overlaps a render.
    static ROUTES: LazyLock<Vec<AxumRouteListing>> =
        LazyLock::new(|| generate_route_list(frontend::App));
    let routes = ROUTES.clone();
    let shell_options = options.clone();
    let fallback = leptos_axum::render_app_async_with_context(context.clone(), move || {
        frontend::shell(shell_options.clone())
    });
    let shell_options = options.clone();
    Router::new()
        .leptos_routes_with_context(&options, routes, context, move || {
            frontend::shell(shell_options.clone())
        })
        .route("/pkg/{file}", get(asset_in("pkg")))
        .route("/static/{file}", get(asset_in("static")))
        .route("/lang/{code}", get(switch_language))
        // A signing form posted without JavaScript: what it carried (private contact
        // data, perhaps) is neither read nor logged; the page says why nothing happened.
        .route(
            "/signing-needs-javascript",
            axum::routing::post(|| async {
                axum::response::Redirect::to("/signing-needs-javascript")
            }),
        )
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(move |request: Request<Body>| {
            let fallback = fallback.clone();
            async move {
                let path = request.uri().path();
                // The API's own prefixes keep its JSON errors.
                if ["/api", "/tile", "/checkpoint"]
                    .iter()
                    .any(|p| path.starts_with(p))
                {
                    ApiError::NotFound("see docs/API.md for the routes".into()).into_response()
                } else {
                    fallback(request).await.into_response()
                }
            }
        })
        .with_state(options)
}

fn asset_in(
    dir: &'static str,
) -> impl Fn(Path<String>, HeaderMap) -> std::future::Ready<Response> + Clone {
    move |Path(file): Path<String>, headers: HeaderMap| {
        std::future::ready(serve_asset(&format!("{dir}/{file}"), &headers))
    }
}

fn serve_asset(path: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return ApiError::NotFound(format!("no file /{path}")).into_response();
    };
    let etag = format!("\"{}\"", BUNDLE_SOURCES.trim());
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let common = [
        (header::CONTENT_TYPE, asset.content_type.to_owned()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
        (header::ETAG, etag),
        (header::VARY, "accept-encoding".to_owned()),
    ];
    match asset.gzipped.filter(|_| accepts_gzip) {
        Some(gz) => (common, [(header::CONTENT_ENCODING, "gzip")], gz).into_response(),
        None => (common, asset.bytes).into_response(),
    }
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the language cookie and sends the visitor back to the page they were on.
async fn switch_language(Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    if frontend::i18n::Lang::parse(&code).is_none() {
        return ApiError::BadRequest(format!("unknown language {code:?}: use en or zh"))
            .into_response();
    }
    let back = q
        .back
        .as_deref()
        .and_then(same_site_path)
        .unwrap_or_else(|| "/".to_owned());
    let cookie = format!("lang={code}; Path=/; Max-Age=31536000; SameSite=Lax");
    match (HeaderValue::from_str(&cookie), HeaderValue::from_str(&back)) {
        (Ok(cookie), Ok(back)) => (
            StatusCode::SEE_OTHER,
            [(header::SET_COOKIE, cookie), (header::LOCATION, back)],
        )
            .into_response(),
        _ => ApiError::BadRequest("back: not a path on this site".into()).into_response(),
    }
}

/// `back` as a path on this site, or `None`. Browsers forgive a lot in a Location:
/// they drop tabs and newlines, read `\` as `/` and strip leading controls, so
/// `/\t/evil.example` becomes `//evil.example`, another site. Rather than predict
/// every such rule, anything with a control character or a backslash is refused, and
/// what remains is parsed by the WHATWG URL parser (the browsers' own algorithm)
/// against a placeholder origin: only a result on that origin is kept, and the
/// Location is written from the parsed URL, never from the raw input.
fn same_site_path(back: &str) -> Option<String> {
    const HERE: &str = "http://aidledger.invalid/";
    if !back.starts_with('/') || back.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let base = url::Url::parse(HERE).expect("a valid base URL");
    let url = base.join(back).ok()?;
    if url.origin() != base.origin() {
        return None;
    }
    Some(
        url.as_str()
            .strip_prefix(HERE.trim_end_matches('/'))?
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn back_stays_on_the_site() {
        for (back, expected) in [
            ("/needs/abc?q=x#top", Some("/needs/abc?q=x#top")),
            ("/?q=口罩", Some("/?q=%E5%8F%A3%E7%BD%A9")),
            ("/a/../b", Some("/b")),
            ("//evil.example", None),
            ("/\t/evil.example", None),
            ("/\\evil.example", None),
            ("/\r\nSet-Cookie: x=1", None),
            ("https://evil.example/", None),
            ("evil.example", None),
            (" /x", None),
            ("/%2F/evil.example", Some("/%2F/evil.example")),
        ] {
            assert_eq!(same_site_path(back).as_deref(), expected, "{back:?}");
        }
    }
}
