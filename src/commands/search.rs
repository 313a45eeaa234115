use crate::client::LogClient;
use serde_json::Value;

#[derive(clap::Args)]
pub struct Args {
    /// Words to look for (English or Chinese), in the index's query syntax.
    query: String,
    /// Base URL of the instance.
    #[arg(long, env = "AIDLEDGER_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Only needs, offers or organisations (`need`, `offer`, `org`).
    #[arg(long)]
    kind: Option<String>,
    #[arg(long, default_value_t = 1)]
    page: u32,
}

/// Searches a running instance and prints the hits.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut url = reqwest::Url::parse("http://x/api/v1/search")?;
    url.query_pairs_mut()
        .append_pair("q", &args.query)
        .append_pair("page", &args.page.to_string());
    if let Some(kind) = &args.kind {
        url.query_pairs_mut().append_pair("kind", kind);
    }
    let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
    let results: Value = LogClient::new(&args.url).get(&path).await?;
    let hits = results["hits"].as_array().cloned().unwrap_or_default();
    for hit in &hits {
        let text = |k: &str| hit[k].as_str().unwrap_or_default().to_owned();
        let snippet = text("snippet").replace("<b>", "[").replace("</b>", "]");
        println!(
            "{:<6} {}  {} [{} · {} · {}]\n       {}",
            text("kind"),
            &text("id")[..16.min(text("id").len())],
            text("title"),
            text("area_name"),
            text("status"),
            text("verification"),
            snippet
        );
    }
    println!("{} of {} results", hits.len(), results["total"]);
    Ok(())
}
