//! The CLI's side of OAuth and HTTP.

pub mod http;
