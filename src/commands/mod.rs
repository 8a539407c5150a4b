//! One module per command; each exposes clap `Args` and `run`, and returns data, not text.

pub mod check_store;
pub mod completions;
pub mod config;
pub mod demo;
pub mod dev_tenant;
pub mod login;
pub mod logout;
pub mod man;
pub mod serve_api;
pub mod setup;
pub mod status;
pub mod subscriptions;
pub mod token;
pub mod version;
