use crate::client::LogClient;
use crate::import::mapping::{Mapping, PostKind};
use crate::import::plan::{self, NamedOrg, Options, PlannedPost, RowError};
use crate::import::sheet;
use crate::keys;
use anyhow::{bail, Context};
use base64::prelude::{Engine, BASE64_STANDARD};
use contract::export::OrgRow;
use contract::{LogEntries, Verification};
use ed25519_dalek::SigningKey;
use indicatif::ProgressBar;
use ledger::entry::{UnsignedEntry, VerifiedEntry};
use ledger::Kind;
use moderation::private::{self, Sidecar};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use time::OffsetDateTime;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the instance.
    #[arg(long, env = "AIDLEDGER_URL")]
    url: String,
    /// The importer's key file (`aidledger keygen`): every need and offer is signed by it.
    #[arg(long)]
    key: PathBuf,
    /// How the sheet's columns map to fields: a ready mapping's name (hospital-needs)
    /// or a mapping file (docs/IMPORT.md). Not needed for a sheet with an HXL hashtag
    /// row, such as an aidledger export.
    #[arg(long)]
    mapping: Option<String>,
    /// The worksheet of a workbook to read (default: the first).
    #[arg(long)]
    worksheet: Option<String>,
    /// The text encoding of a CSV sheet (a WHATWG label: gb18030, big5,
    /// windows-1252…); UTF-8 by default.
    #[arg(long)]
    encoding: Option<String>,
    /// Where the sheet was found (an http(s) URL): the evidence of the needs it relays,
    /// unless a row carries its own.
    #[arg(long)]
    source: Option<String>,
    /// Show what would be submitted, and submit nothing.
    #[arg(long)]
    dry_run: bool,
    /// Submissions in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// The sheet: CSV (UTF-8) or a workbook (.xlsx, .xls, .ods).
    sheet: PathBuf,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let key = keys::read_author_key(&args.key)?;
    let sheet = sheet::read(
        &args.sheet,
        args.worksheet.as_deref(),
        args.encoding.as_deref(),
    )?;
    let mapping = match (&args.mapping, &sheet.hashtags) {
        (Some(name), _) => Mapping::load(name)?,
        (None, Some(hashtags)) => Mapping::from_hashtags(hashtags)?,
        (None, None) => return Err(crate::import::mapping::MappingError::NoMapping.into()),
    };
    let columns = mapping.bind(&sheet)?;
    let options = Options {
        today: OffsetDateTime::now_utc().date(),
        source: args.source.clone(),
    };
    let mut plan = plan::plan(&sheet, &mapping, &columns, &options);
    let client = LogClient::new(&args.url);
    let orgs = match mapping.kind {
        PostKind::Need => match_orgs(&client, &plan.posts).await?,
        PostKind::Offer => OrgMatches::default(),
    };
    plan.errors.extend(orgs.errors(&plan.posts));
    plan.errors.sort_by_key(|e| e.row);

    let shown = args.sheet.display();
    let rows = sheet.rows.len();
    println!(
        "{shown}: {rows} rows, {} {}",
        plan.posts.len(),
        noun(mapping.kind, plan.posts.len())
    );
    let mut private: Vec<usize> = columns
        .iter()
        .filter(|(field, _)| field.is_private())
        .map(|(_, &c)| c)
        .collect();
    private.sort_unstable();
    let private: Vec<String> = private
        .into_iter()
        .map(|c| sheet::column_name(&sheet.headers, c))
        .collect();
    if !private.is_empty() {
        println!(
            "private columns, kept in the private store and never in the log: {}",
            private.join(", ")
        );
    }
    for skipped in &plan.skipped {
        println!("row {}: skipped: {}", skipped.row, skipped.reason);
    }
    if !plan.errors.is_empty() {
        for e in &plan.errors {
            println!("{e}");
        }
        bail!(
            "{} problems in {shown}: nothing was submitted; correct the rows above and import again",
            plan.errors.len()
        );
    }

    let author = hex::encode(key.verifying_key().as_bytes());
    let landed = own_posts(&client, &author).await?;
    let mut to_post = Vec::new();
    for post in &plan.posts {
        let org = post.org.as_ref().map(|o| orgs.resolved(o));
        let body = body_with_org(post, org.and_then(|o| o.id()));
        match landed.get(&plan::fingerprint(&body)) {
            Some(index) => println!(
                "{}: already in the log (entry {index}), skipped",
                rows_of(post)
            ),
            None => to_post.push((post, org)),
        }
    }
    for (named, org) in orgs.by_name.values() {
        match org {
            OrgPlan::Matched { id, verification, .. } => println!(
                "organisation {:?}: registered as {id} ({})",
                named.name,
                verification_word(*verification)
            ),
            OrgPlan::Register => println!(
                "organisation {:?}: not registered here: to be registered ({}, {}), relayed (the importer does not become a member)",
                named.name,
                named.org_type.name(),
                named.area.code
            ),
            OrgPlan::Ambiguous(_) => {}
        }
    }
    for (post, _) in &to_post {
        println!("{}: {}", rows_of(post), summary(post));
    }
    if args.dry_run {
        println!(
            "dry run: {} {} would be submitted; nothing was submitted",
            to_post.len(),
            noun(mapping.kind, to_post.len())
        );
        return Ok(());
    }

    let mut registered: HashMap<String, String> = HashMap::new();
    for (named, org) in orgs.by_name.values() {
        if matches!(org, OrgPlan::Register) {
            let body = json!({
                "name": named.name,
                "type": named.org_type.name(),
                "area": named.area,
                "relayed": true,
            });
            let entry = sign(&key, Kind::OrgRegister, body)?;
            let (_, submitted) = client.submit_retrying(entry.leaf().to_vec()).await?;
            println!(
                "organisation {:?}: registered as {}",
                named.name, submitted.leaf_hash
            );
            registered.insert(org_key(named), submitted.leaf_hash);
        }
    }

    let progress = ProgressBar::new(to_post.len() as u64);
    let mut tasks = tokio::task::JoinSet::new();
    let mut failed = Vec::new();
    let mut submitted = 0usize;
    for (post, org) in to_post {
        let org_id = match (&post.org, &org) {
            (Some(named), Some(OrgPlan::Register)) => registered.get(&org_key(named)).cloned(),
            (_, Some(org)) => org.id().map(str::to_owned),
            _ => None,
        };
        let (entry, sidecar) = signed_post(&key, mapping.kind, post, org_id.as_deref())?;
        let client = client.clone();
        let rows = rows_of(post);
        while tasks.len() >= usize::from(args.concurrency) {
            collect(
                tasks.join_next().await,
                &mut submitted,
                &mut failed,
                &progress,
            )?;
        }
        tasks.spawn(async move {
            let result = match sidecar {
                Some(sidecar) => {
                    client
                        .submit_private_retrying(entry.leaf(), &json!(sidecar))
                        .await
                }
                None => client.submit_retrying(entry.leaf().to_vec()).await,
            };
            (rows, result.map(|_| ()))
        });
    }
    while let Some(done) = tasks.join_next().await {
        collect(Some(done), &mut submitted, &mut failed, &progress)?;
    }
    progress.finish_and_clear();
    println!(
        "submitted {submitted} {} to {}",
        noun(mapping.kind, submitted),
        args.url
    );
    if !failed.is_empty() {
        for (rows, error) in &failed {
            println!("{rows}: {error:#}");
        }
        bail!(
            "{} refused by the instance; importing the sheet again submits only what is not in the log",
            failed.len()
        );
    }
    Ok(())
}

type Outcome = (String, anyhow::Result<()>);

fn collect(
    done: Option<Result<Outcome, tokio::task::JoinError>>,
    submitted: &mut usize,
    failed: &mut Vec<(String, anyhow::Error)>,
    progress: &ProgressBar,
) -> anyhow::Result<()> {
    if let Some(done) = done {
        match done.context("a submission task panicked")? {
            (_, Ok(())) => *submitted += 1,
            (rows, Err(e)) => failed.push((rows, e)),
        }
        progress.inc(1);
    }
    Ok(())
}

fn sign(key: &SigningKey, kind: Kind, body: Value) -> anyhow::Result<VerifiedEntry> {
    Ok(
        UnsignedEntry::new(kind, &key.verifying_key(), OffsetDateTime::now_utc(), body)
            .sign(key)?,
    )
}

/// The need or offer, signed, with its private data committed to.
fn signed_post(
    key: &SigningKey,
    kind: PostKind,
    post: &PlannedPost,
    org: Option<&str>,
) -> anyhow::Result<(VerifiedEntry, Option<Sidecar>)> {
    let mut body = body_with_org(post, org);
    let sidecar = post.contact.as_ref().map(|contact| {
        let salt: [u8; 32] = rand::random();
        body["contact"] = json!(private::commitment(&salt, contact));
        Sidecar {
            salt: hex::encode(salt),
            contact: contact.clone(),
        }
    });
    let kind = match kind {
        PostKind::Need => Kind::NeedPost,
        PostKind::Offer => Kind::OfferPost,
    };
    let entry = sign(key, kind, body)?;
    Ok((entry, sidecar))
}

fn body_with_org(post: &PlannedPost, org: Option<&str>) -> Value {
    let mut body = post.body.clone();
    if let Some(org) = org {
        body["org"] = json!(org);
    }
    body
}

/// The needs and offers this key has posted, by fingerprint, with their index.
async fn own_posts(client: &LogClient, author: &str) -> anyhow::Result<HashMap<String, u64>> {
    let mut landed = HashMap::new();
    let mut start = 0;
    loop {
        let page: LogEntries = client
            .get(&format!(
                "/api/v1/authors/{author}/entries?start={start}&limit=1000"
            ))
            .await?;
        let Some(last) = page.entries.last().map(|e| e.index) else {
            return Ok(landed);
        };
        for e in page.entries {
            let leaf = BASE64_STANDARD.decode(&e.leaf)?;
            let entry: Value = serde_json::from_slice(&leaf)?;
            if matches!(entry["kind"].as_str(), Some("need.post" | "offer.post")) {
                landed.insert(plan::fingerprint(&entry["body"]), e.index);
            }
        }
        start = last + 1;
    }
}

/// What becomes of an organisation a sheet names.
enum OrgPlan {
    Matched {
        id: String,
        verification: Verification,
    },
    /// Not registered here: registered by the import, relayed.
    Register,
    /// Several registered organisations have the name: the sheet must say which.
    Ambiguous(Vec<String>),
}

impl OrgPlan {
    fn id(&self) -> Option<&str> {
        match self {
            OrgPlan::Matched { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// The organisations a sheet names, by [`org_key`], with what becomes of each.
#[derive(Default)]
struct OrgMatches {
    by_name: BTreeMap<String, (NamedOrg, OrgPlan)>,
}

fn org_key(named: &NamedOrg) -> String {
    format!(
        "{}\u{0}{}\u{0}{}",
        named.id.as_deref().unwrap_or_default(),
        normalise(&named.name),
        country(&named.area.code)
    )
}

impl OrgMatches {
    fn resolved(&self, named: &NamedOrg) -> &OrgPlan {
        &self.by_name[&org_key(named)].1
    }

    fn errors(&self, posts: &[PlannedPost]) -> Vec<RowError> {
        posts
            .iter()
            .filter_map(|post| {
                let named = post.org.as_ref()?;
                let OrgPlan::Ambiguous(ids) = self.resolved(named) else {
                    return None;
                };
                Some(RowError {
                    row: post.rows[0],
                    column: None,
                    message: format!(
                        "{} registered organisations are named {:?} in {}: add an org_id column with one of {}",
                        ids.len(),
                        named.name,
                        country(&named.area.code),
                        ids.join(", ")
                    ),
                })
            })
            .collect()
    }
}

/// Each organisation the posts name, matched to the instance's: by the sheet's id when
/// the instance has it, else by name (any case and spacing) in the same country,
/// preferring the one verified organisation among several.
async fn match_orgs(client: &LogClient, posts: &[PlannedPost]) -> anyhow::Result<OrgMatches> {
    let registered: Vec<OrgRow> = client.get("/api/v1/export/orgs.json").await?;
    let by_id: HashMap<&str, &OrgRow> = registered
        .iter()
        .map(|o| (o.leaf_hash.as_str(), o))
        .collect();
    let mut matches = OrgMatches::default();
    let mut seen = HashSet::new();
    for named in posts.iter().filter_map(|p| p.org.as_ref()) {
        let key = org_key(named);
        if !seen.insert(key.clone()) {
            continue;
        }
        let by_sheet_id = named.id.as_deref().and_then(|id| by_id.get(id));
        let candidates: Vec<&OrgRow> = match by_sheet_id {
            Some(org) => vec![org],
            None => registered
                .iter()
                .filter(|o| {
                    normalise(&o.name) == normalise(&named.name)
                        && country(&o.area_code) == country(&named.area.code)
                })
                .collect(),
        };
        let verified: Vec<&OrgRow> = candidates
            .iter()
            .copied()
            .filter(|o| o.verification == Verification::Verified)
            .collect();
        let plan = match (candidates.as_slice(), verified.as_slice()) {
            ([], _) => OrgPlan::Register,
            ([one], _) | (_, [one]) => OrgPlan::Matched {
                id: one.leaf_hash.clone(),
                verification: one.verification,
            },
            (many, _) => OrgPlan::Ambiguous(many.iter().map(|o| o.leaf_hash.clone()).collect()),
        };
        matches.by_name.insert(key, (named.clone(), plan));
    }
    Ok(matches)
}

fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn country(code: &str) -> &str {
    code.split('-').next().unwrap_or(code)
}

fn verification_word(v: Verification) -> &'static str {
    match v {
        Verification::Verified => "verified",
        Verification::Rejected => "rejected",
        _ => "not verified yet",
    }
}

fn noun(kind: PostKind, n: usize) -> &'static str {
    match (kind, n) {
        (PostKind::Need, 1) => "need",
        (PostKind::Need, _) => "needs",
        (PostKind::Offer, 1) => "offer",
        (PostKind::Offer, _) => "offers",
    }
}

fn rows_of(post: &PlannedPost) -> String {
    match post.rows.as_slice() {
        [one] => format!("row {one}"),
        rows => format!(
            "rows {}",
            rows.iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A post in one line: who, where, by when, and its items.
fn summary(post: &PlannedPost) -> String {
    let body = &post.body;
    let items: Vec<String> = body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            format!(
                "{} {} {} [{}]",
                i["item"].as_str().unwrap_or_default(),
                i["quantity"],
                i["unit"].as_str().unwrap_or_default(),
                i["category"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let org = post
        .org
        .as_ref()
        .map_or(String::new(), |o| format!("{}, ", o.name));
    let when = body["needed_by"].as_str().map_or(String::new(), |d| {
        format!(", {} by {d}", body["urgency"].as_str().unwrap_or_default())
    });
    let contact = if post.contact.is_some() {
        ", with private contact"
    } else {
        ""
    };
    format!(
        "{org}{} {}{when}{contact}: {}",
        body["area"]["code"].as_str().unwrap_or_default(),
        body["area"]["name"].as_str().unwrap_or_default(),
        items.join("; ")
    )
}
