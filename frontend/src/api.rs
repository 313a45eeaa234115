//! Reading and writing through the public JSON API. During server rendering the
//! requests go to the server's own router in-process (an [`ApiSource`] in the leptos
//! context); in the browser they are `fetch` calls. Either way a page sees the same
//! answers a third-party client would.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A refused or failed request: the HTTP status and the server's message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub status: u16,
    pub message: String,
    /// What the message says, as a code the app puts in the reader's language.
    pub fault: Option<ledger::fault::Fault>,
}

/// The message of a request that got no answer at all.
const UNREACHABLE: &str = "the server could not be reached";

impl Failure {
    /// A failure found in the browser, before or after the exchange.
    pub fn local(message: impl Into<String>) -> Self {
        Failure {
            status: 0,
            message: message.into(),
            fault: None,
        }
    }

    pub fn with_fault(mut self, fault: Option<ledger::fault::Fault>) -> Self {
        self.fault = fault;
        self
    }

    /// No answer came: the network or the server is down. (What the browser reports
    /// then is for developers, not for the people using the form.)
    pub fn unreachable() -> Self {
        Failure::local(UNREACHABLE)
    }

    pub fn is_unreachable(&self) -> bool {
        self.status == 0 && self.message == UNREACHABLE
    }

    /// The field of the entry the message names (`body.items[0].quantity: …` names
    /// `items[0].quantity`), so a form can show it next to that input.
    pub fn field(&self) -> Option<&str> {
        if let Some(field) = self.fault.as_ref().and_then(|f| f.field.as_deref()) {
            return Some(field);
        }
        let (head, _) = self.message.split_once(": ")?;
        head.strip_prefix("body.")
            .or_else(|| head.strip_prefix("private."))
            .filter(|f| !f.contains(' '))
    }
}

/// Turns a status and body into a value or a [`Failure`] carrying the server's message.
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, Failure> {
    if (200..300).contains(&status) {
        serde_json::from_str(body)
            .map_err(|e| Failure::local(format!("unexpected answer from the server: {e}")))
    } else {
        let answer = serde_json::from_str::<contract::ErrorBody>(body)
            .unwrap_or_else(|_| contract::ErrorBody::new(format!("the server answered {status}")));
        Err(Failure {
            status,
            message: answer.error,
            fault: answer.fault,
        })
    }
}

#[cfg(feature = "ssr")]
mod server_side {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    /// What the server provides to render pages: a GET of the public API, answered
    /// in-process with the status and body.
    pub trait ApiSource: Send + Sync + 'static {
        fn get(
            &self,
            path_and_query: String,
        ) -> Pin<Box<dyn Future<Output = (u16, String)> + Send>>;
    }

    /// The [`ApiSource`] in the leptos context of a server render.
    #[derive(Clone)]
    pub struct ServerApi(pub Arc<dyn ApiSource>);
}

#[cfg(feature = "ssr")]
pub use server_side::{ApiSource, ServerApi};

/// A handle for reading the API. Take it in a component with [`client`] (on the
/// server it captures the render's [`ApiSource`] synchronously); its futures may then
/// be awaited anywhere, one after another.
#[derive(Clone)]
pub struct Client {
    #[cfg(feature = "ssr")]
    source: Option<ServerApi>,
}

pub fn client() -> Client {
    Client {
        #[cfg(feature = "ssr")]
        source: leptos::prelude::use_context::<ServerApi>(),
    }
}

impl Client {
    /// The status and body of a GET.
    pub fn get_raw(
        &self,
        path_and_query: String,
    ) -> impl Future<Output = Result<(u16, String), Failure>> + Send + 'static {
        #[cfg(feature = "ssr")]
        {
            let source = self.source.clone();
            async move {
                let source =
                    source.ok_or_else(|| Failure::local("no API source in this render"))?;
                Ok(source.0.get(path_and_query).await)
            }
        }
        #[cfg(not(feature = "ssr"))]
        {
            crate::browser::send(async move {
                crate::browser::fetch("GET", &path_and_query, None).await
            })
        }
    }

    /// A GET answered with JSON.
    pub fn get<T>(
        &self,
        path_and_query: String,
    ) -> impl Future<Output = Result<T, Failure>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
    {
        let raw = self.get_raw(path_and_query);
        async move {
            let (status, body) = raw.await?;
            decode(status, &body)
        }
    }

    /// A GET answered with text (the checkpoint).
    pub fn get_text(
        &self,
        path_and_query: String,
    ) -> impl Future<Output = Result<String, Failure>> + Send + 'static {
        let raw = self.get_raw(path_and_query);
        async move {
            let (status, body) = raw.await?;
            if (200..300).contains(&status) {
                Ok(body)
            } else {
                decode::<()>(status, &body).map(|_| String::new())
            }
        }
    }
}
