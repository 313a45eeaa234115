//! A client of the log's HTTP API, for the CLI and the tests.

use anyhow::{bail, Context};
use base64::prelude::*;
use contract::{ConsistencyProof, InclusionProof, LogEntries, LogKey, Submitted};
use ledger::{hex32, Hash};
use serde::de::DeserializeOwned;

#[derive(Clone)]
pub struct LogClient {
    base: String,
    http: reqwest::Client,
}

/// One entry as served, decoded.
#[derive(Debug, Clone)]
pub struct ServedEntry {
    pub index: u64,
    pub leaf: Vec<u8>,
    pub leaf_hash: Hash,
}

fn decode_hashes(hashes: &[String]) -> anyhow::Result<Vec<Hash>> {
    hashes
        .iter()
        .map(|h| hex32::decode(h).with_context(|| format!("server sent a malformed hash {h:?}")))
        .collect()
}

impl LogClient {
    pub fn new(base: &str) -> Self {
        LogClient {
            base: base.trim_end_matches('/').to_owned(),
            // An aidledger server ends keep-alive connections idle for its header
            // timeout (10 s by default); reusing one it is closing fails the request.
            http: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(5))
                .build()
                .expect("a client without custom TLS settings builds"),
        }
    }

    /// GETs a JSON resource; a non-2xx answer is an error carrying the server's message.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        Self::json_of(path, self.http.get(format!("{}{path}", self.base))).await
    }

    /// GETs a resource and writes its body to `out` as it arrives; a non-2xx answer is
    /// an error carrying the server's message, with nothing written.
    pub async fn download(&self, path: &str, out: &mut impl std::io::Write) -> anyhow::Result<()> {
        let mut response = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "GET {path}: {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        while let Some(chunk) = response
            .chunk()
            .await
            .with_context(|| format!("GET {path}: the answer was cut short"))?
        {
            out.write_all(&chunk)?;
        }
        Ok(())
    }

    /// GETs a JSON resource with a request signed by `key` (for private data).
    pub async fn get_signed<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &ed25519_dalek::SigningKey,
    ) -> anyhow::Result<T> {
        let auth = crate::server::auth::authorization(key, "GET", path);
        let request = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", auth);
        Self::json_of(path, request).await
    }

    async fn json_of<T: DeserializeOwned>(
        path: &str,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "GET {path}: {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(response.json().await?)
    }

    /// Submits an entry with its private data (`POST /api/v1/submissions`).
    pub async fn submit_private(
        &self,
        leaf: &[u8],
        private: &serde_json::Value,
    ) -> anyhow::Result<(u16, Submitted)> {
        Self::submitted(self.submission_request(leaf, private).send().await?).await
    }

    /// Like `submit_private`, but waits out rate limits.
    pub async fn submit_private_retrying(
        &self,
        leaf: &[u8],
        private: &serde_json::Value,
    ) -> anyhow::Result<(u16, Submitted)> {
        self.send_retrying(|| self.submission_request(leaf, private))
            .await
    }

    fn submission_request(
        &self,
        leaf: &[u8],
        private: &serde_json::Value,
    ) -> reqwest::RequestBuilder {
        let body =
            serde_json::json!({ "entry": String::from_utf8_lossy(leaf), "private": private });
        self.http
            .post(format!("{}/api/v1/submissions", self.base))
            .json(&body)
    }

    fn entry_request(&self, leaf: Vec<u8>) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/api/v1/entries", self.base))
            .header("content-type", "application/json")
            .body(leaf)
    }

    async fn submitted(response: reqwest::Response) -> anyhow::Result<(u16, Submitted)> {
        let status = response.status();
        if !status.is_success() {
            bail!(
                "submission refused: {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok((status.as_u16(), response.json().await?))
    }

    /// Submits signed leaf bytes; returns the status code and the parsed answer.
    pub async fn submit(&self, leaf: Vec<u8>) -> anyhow::Result<(u16, Submitted)> {
        Self::submitted(self.entry_request(leaf).send().await?).await
    }

    /// Like `submit`, but waits out rate limits (429 with `Retry-After`) and retries.
    pub async fn submit_retrying(&self, leaf: Vec<u8>) -> anyhow::Result<(u16, Submitted)> {
        self.send_retrying(|| self.entry_request(leaf.clone()))
            .await
    }

    async fn send_retrying(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> anyhow::Result<(u16, Submitted)> {
        loop {
            let response = request().send().await?;
            if response.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
                return Self::submitted(response).await;
            }
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(1u64);
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
        }
    }

    pub async fn checkpoint(&self) -> anyhow::Result<String> {
        let response = self
            .http
            .get(format!("{}/checkpoint", self.base))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("GET /checkpoint: {}", response.status());
        }
        Ok(response.text().await?)
    }

    pub async fn key(&self) -> anyhow::Result<LogKey> {
        self.get("/api/v1/log/key").await
    }

    pub async fn entries(&self, start: u64, limit: u64) -> anyhow::Result<Vec<ServedEntry>> {
        let page: LogEntries = self
            .get(&format!("/api/v1/log/entries?start={start}&limit={limit}"))
            .await?;
        page.entries
            .into_iter()
            .map(|e| {
                Ok(ServedEntry {
                    index: e.index,
                    leaf: BASE64_STANDARD
                        .decode(&e.leaf)
                        .context("server sent a leaf that is not base64")?,
                    leaf_hash: hex32::decode(&e.leaf_hash)
                        .context("server sent a malformed leaf hash")?,
                })
            })
            .collect()
    }

    /// The inclusion proof of `leaf_hash` in the tree of `tree_size`: (index, hashes).
    pub async fn inclusion_proof(
        &self,
        leaf_hash: &Hash,
        tree_size: u64,
    ) -> anyhow::Result<(u64, Vec<Hash>)> {
        let p: InclusionProof = self
            .get(&format!(
                "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={tree_size}",
                hex32::encode(leaf_hash)
            ))
            .await?;
        Ok((p.leaf_index, decode_hashes(&p.hashes)?))
    }

    pub async fn consistency_proof(&self, first: u64, second: u64) -> anyhow::Result<Vec<Hash>> {
        let p: ConsistencyProof = self
            .get(&format!(
                "/api/v1/log/proof/consistency?first={first}&second={second}"
            ))
            .await?;
        decode_hashes(&p.hashes)
    }
}
