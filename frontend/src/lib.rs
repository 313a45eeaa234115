//! The leptos web app (DESIGN.md §8). Arrives with the web-app issue.
