//! azobo's integration tests: one binary, every test against real listeners.

#![allow(unreachable_pub, clippy::pedantic)]

mod arm;
mod authorize;
mod browser;
mod claims;
mod cli;
mod consent;
mod container;
mod control;
mod demo;
mod dev_tenant_hardening;
mod device_code;
mod discovery;
mod generated;
mod graph;
mod help;
mod http_client;
// Shared with the benchmarks, which use parts the tests do not.
#[allow(dead_code)]
#[path = "../shared/infra.rs"]
mod infra;
mod interop;
mod login;
mod msal;
mod obo;
mod profiles;
mod readme;
mod scale_out;
mod serve_api;
mod setup;
mod store;
mod subscriptions;
mod support;
mod token;
