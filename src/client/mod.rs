//! The CLI's side of OAuth and HTTP: discovery, the authorization request, the loopback
//! listener, the browser, device code, and the session that keeps tokens fresh.

pub mod api;
pub mod authorize;
pub mod browser;
pub mod device_code;
pub mod entra;
pub mod http;
pub mod loopback;
pub mod oidc;
pub mod session;
pub mod sign_in;
