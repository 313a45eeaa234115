//! The way from nothing to a posted need, shown on each page where a step of it is
//! taken (the key page, organisation registration, the need form) until the steps
//! before posting are done: make a key, back it up, belong to an organisation.

use crate::session::{t, use_session};
use leptos::prelude::*;

/// One step: its label, where it is taken, and whether it is done.
#[derive(Clone, Copy)]
struct Step {
    id: &'static str,
    label: &'static str,
    href: &'static str,
    done: Signal<bool>,
}

#[component]
pub fn FirstSteps() -> impl IntoView {
    let session = use_session();
    let has_key = Signal::derive(move || session.key.get().is_some());
    let backed_up = Signal::derive(move || has_key.get() && session.backed_up.get());
    let member = Signal::derive(move || {
        has_key.get() && session.roles.get().is_some_and(|r| !r.member_of.is_empty())
    });
    let steps = [
        Step {
            id: "key",
            label: "steps.key",
            href: "/keys",
            done: has_key,
        },
        Step {
            id: "backup",
            label: "steps.backup",
            href: "/keys",
            done: backed_up,
        },
        Step {
            id: "org",
            label: "steps.org",
            href: "/orgs/new",
            done: member,
        },
        Step {
            id: "post",
            label: "steps.post",
            href: "/post/need",
            done: Signal::derive(|| false),
        },
    ];
    let ready = move || has_key.get() && backed_up.get() && member.get();
    // The first step not done is the one to take now.
    let current = move || {
        [has_key, backed_up, member]
            .iter()
            .position(|d| !d.get())
            .unwrap_or(3)
    };
    let items = move || {
        steps
            .into_iter()
            .enumerate()
            .map(|(i, step)| {
                let state = move || {
                    if step.done.get() {
                        "done"
                    } else if current() == i {
                        "current"
                    } else {
                        "todo"
                    }
                };
                view! {
                    <li class=state data-testid=format!("step-{}", step.id) data-state=state
                        aria-current=move || (current() == i).then_some("step")>
                        <a href=step.href>{t(step.label)}</a>
                        {move || step.done.get().then(|| view! { <span class="step-done">" ✓ " {t("steps.done")}</span> })}
                    </li>
                }
            })
            .collect_view()
    };
    move || {
        (!ready()).then(|| {
            view! {
                <nav class="first-steps" aria-labelledby="first-steps-h" data-testid="first-steps">
                    <h2 id="first-steps-h">{t("steps.title")}</h2>
                    <ol>{items()}</ol>
                    {move || (current() == 2).then(|| view! { <p class="hint" data-testid="join-hint">{t("steps.join_hint")}</p> })}
                </nav>
            }
        })
    }
}
