//! The audit explorer: the latest checkpoint verified in the browser against the
//! pinned log key, entry lookup by hash or index with its inclusion proof checked, and
//! a consistency check between a saved checkpoint and the latest one (RFC 9162).

use super::need::pinned_verifier;
use crate::api::{client, Failure};
use crate::browser;
use crate::session::{t, SAVED_CHECKPOINT_STORAGE};
use base64::prelude::*;
use contract::{ConsistencyProof, InclusionProof, LogEntries};
use ledger::checkpoint::Checkpoint;
use ledger::entry::VerifiedEntry;
use ledger::{hex32, tree, Hash};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn hashes(list: &[String]) -> Result<Vec<Hash>, Failure> {
    list.iter()
        .map(|h| hex32::decode(h).ok_or_else(|| Failure::local(t("audit.bad_hash"))))
        .collect()
}

/// The latest checkpoint, fetched and verified now.
async fn latest() -> Result<(String, Checkpoint), Failure> {
    let verifier = pinned_verifier().await?;
    let note = client().get_text("/checkpoint".into()).await?;
    let checkpoint = verifier
        .verify(note.as_bytes())
        .map_err(|e| Failure::local(e.to_string()))?;
    Ok((note, checkpoint))
}

/// Shows the result of a check: what passed, or why it failed.
#[component]
fn Verdict(
    result: RwSignal<Option<Result<String, String>>>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div aria-live="polite" data-testid=testid>
            {move || result.get().map(|r| match r {
                Ok(text) => view! { <p class="verify-ok" data-verified="true">"✓ " {text}</p> }.into_any(),
                Err(text) => view! { <p class="verify-fail" data-verified="false" role="alert">"✗ " {text}</p> }.into_any(),
            })}
        </div>
    }
}

fn describe(c: &Checkpoint) -> String {
    format!(
        "{} · {} {} · {} {}",
        c.origin,
        t("audit.size"),
        c.size,
        t("audit.root"),
        hex32::encode(&c.root)
    )
}

#[component]
pub fn Audit() -> impl IntoView {
    let api = client();
    let note = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            async move { api.get_text("/checkpoint".into()).await }
        },
    );
    let checkpoint_result = RwSignal::new(None);
    let verify_checkpoint = move |_| {
        leptos::task::spawn_local(async move {
            let r = latest()
                .await
                .map(|(_, c)| describe(&c))
                .map_err(|e| e.message);
            checkpoint_result.set(Some(r));
        });
    };
    let saved = RwSignal::new(String::new());
    Effect::new(move |_| {
        saved.set(browser::storage_get(SAVED_CHECKPOINT_STORAGE).unwrap_or_default())
    });
    let save_result = RwSignal::new(None);
    let save = move |_| {
        leptos::task::spawn_local(async move {
            let r = match latest().await {
                Ok((text, c)) => browser::storage_set(SAVED_CHECKPOINT_STORAGE, &text)
                    .map(|_| {
                        saved.set(text);
                        format!("{} {}", t("audit.saved"), c.size)
                    })
                    .map_err(|e| e.message),
                Err(e) => Err(e.message),
            };
            save_result.set(Some(r));
        });
    };
    let consistency_result = RwSignal::new(None);
    let check_consistency = move |_| {
        let old = saved.get_untracked();
        leptos::task::spawn_local(async move {
            let r = async {
                let verifier = pinned_verifier().await?;
                let first = verifier
                    .verify(format!("{}\n", old.trim_end()).as_bytes())
                    .map_err(|e| Failure::local(format!("{}: {e}", t("audit.saved_checkpoint"))))?;
                let (_, second) = latest().await?;
                if first.size > second.size {
                    return Err(Failure::local(t("audit.shrunk")));
                }
                if first.size == 0 || first.size == second.size {
                    return if first.root == second.root || first.size == 0 {
                        Ok(describe(&second))
                    } else {
                        Err(Failure::local(t("audit.forked")))
                    };
                }
                let proof: ConsistencyProof = client()
                    .get(format!(
                        "/api/v1/log/proof/consistency?first={}&second={}",
                        first.size, second.size
                    ))
                    .await?;
                tree::verify_consistency(
                    &hashes(&proof.hashes)?,
                    first.size,
                    first.root,
                    second.size,
                    second.root,
                )
                .map_err(|_| Failure::local(t("audit.forked")))?;
                Ok(format!(
                    "{} {} → {}",
                    t("audit.consistent"),
                    first.size,
                    second.size
                ))
            }
            .await;
            consistency_result.set(Some(r.map_err(|e| e.message)));
        });
    };
    let query = use_query_map();
    let lookup = RwSignal::new(query.with_untracked(|q| q.get("entry").unwrap_or_default()));
    let entry_result = RwSignal::new(None);
    let entry_json = RwSignal::new(None::<String>);
    let find = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = lookup.get_untracked().trim().to_owned();
        leptos::task::spawn_local(async move {
            let r = async {
                let (_, head) = latest().await?;
                let index = match wanted.parse::<u64>() {
                    Ok(i) => i,
                    Err(_) => {
                        hex32::decode(&wanted)
                            .ok_or_else(|| Failure::local(t("audit.lookup_hint")))?;
                        let p: InclusionProof = client()
                            .get(format!(
                                "/api/v1/log/proof/inclusion?leaf_hash={wanted}&tree_size={}",
                                head.size
                            ))
                            .await?;
                        p.leaf_index
                    }
                };
                let page: LogEntries = client()
                    .get(format!("/api/v1/log/entries?start={index}&limit=1"))
                    .await?;
                let e = page
                    .entries
                    .into_iter()
                    .next()
                    .ok_or_else(|| Failure::local(t("audit.no_entry")))?;
                let leaf = BASE64_STANDARD
                    .decode(&e.leaf)
                    .map_err(|_| Failure::local(t("audit.bad_hash")))?;
                let entry = VerifiedEntry::from_leaf(&leaf)
                    .map_err(|err| Failure::local(err.to_string()))?;
                let hash = hex32::encode(&entry.leaf_hash());
                let p: InclusionProof = client()
                    .get(format!(
                        "/api/v1/log/proof/inclusion?leaf_hash={hash}&tree_size={}",
                        head.size
                    ))
                    .await?;
                tree::verify_inclusion(
                    &hashes(&p.hashes)?,
                    index,
                    head.size,
                    entry.leaf_hash(),
                    head.root,
                )
                .map_err(|_| Failure::local(t("audit.not_included")))?;
                let pretty: serde_json::Value = serde_json::from_slice(&leaf).unwrap_or_default();
                entry_json.set(serde_json::to_string_pretty(&pretty).ok());
                Ok::<_, Failure>(format!(
                    "#{index} {hash} — {} {}",
                    t("audit.included"),
                    head.size
                ))
            }
            .await;
            if r.is_err() {
                entry_json.set(None);
            }
            entry_result.set(Some(r.map_err(|e| e.message)));
        });
    };
    view! {
        <Title text=t("audit.title")/>
        <h1>{t("audit.title")}</h1>
        <p class="hint">{t("audit.hint")}</p>
        <p><a href="/log" data-testid="browse-log">{t("log.browse")}</a></p>
        <section aria-labelledby="cp-h">
            <h2 id="cp-h">{t("audit.checkpoint")}</h2>
            <p class="explain">{t("audit.checkpoint_means")}</p>
            <Suspense fallback=|| view! { <p>{t("load.loading")}</p> }>
                {move || Suspend::new(async move {
                    match note.await {
                        Ok(text) => view! { <pre data-testid="checkpoint">{text}</pre> }.into_any(),
                        Err(e) => view! { <super::LoadError error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <div class="actions">
                <button type="button" on:click=verify_checkpoint data-testid="verify-checkpoint">{t("audit.verify_checkpoint")}</button>
                <button type="button" class="secondary" on:click=save data-testid="save-checkpoint">{t("audit.save")}</button>
            </div>
            <Verdict result=checkpoint_result testid="checkpoint-result"/>
            <Verdict result=save_result testid="save-result"/>
        </section>
        <section aria-labelledby="cons-h">
            <h2 id="cons-h">{t("audit.consistency")}</h2>
            <p class="explain">{t("audit.consistency_means")}</p>
            <div class="field">
                <label for="saved-checkpoint">{t("audit.saved_checkpoint")}</label>
                <textarea id="saved-checkpoint" rows="6" prop:value=move || saved.get() on:input=move |ev| saved.set(event_target_value(&ev))></textarea>
            </div>
            <button type="button" on:click=check_consistency data-testid="check-consistency">{t("audit.check")}</button>
            <Verdict result=consistency_result testid="consistency-result"/>
        </section>
        <section aria-labelledby="entry-h">
            <h2 id="entry-h">{t("audit.lookup")}</h2>
            <p class="explain">{t("audit.lookup_means")}</p>
            <form on:submit=find>
                <div class="field">
                    <label for="lookup">{t("audit.lookup_label")}</label>
                    <input id="lookup" type="text" prop:value=move || lookup.get() on:input=move |ev| lookup.set(event_target_value(&ev))/>
                </div>
                <button type="submit" data-testid="lookup-entry">{t("audit.find")}</button>
            </form>
            <Verdict result=entry_result testid="entry-result"/>
            {move || entry_json.get().map(|j| view! {
                <details data-testid="raw-entry"><summary>{t("audit.raw")}</summary><pre class="entry-json">{j}</pre></details>
            })}
        </section>
    }
}
