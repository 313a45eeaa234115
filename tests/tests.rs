//! The integration suite: one test binary (ripgrep's pattern) so the whole server is
//! linked once, not once per file. Each module is one area of behaviour; what they
//! share lives in `common` and nowhere else.

#[macro_use]
mod common;

mod api;
mod audit;
mod backup;
mod batches;
mod cli;
mod cluster;
mod crash;
mod export;
mod frontend_bundle;
mod import;
mod independent;
mod matching;
mod migrations;
mod openapi;
mod ops;
mod outages;
mod photos;
mod privacy;
mod prop_http;
mod reads;
mod search;
mod web;
mod webhooks;
mod workflow;
