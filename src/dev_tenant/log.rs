//! The request log tests read through `/_dev/requests`: method, path, status, grant type,
//! client id and error code. Never a query string, a body, a header or a token.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use super::Tenant;

/// Entries kept; the oldest are dropped first.
const CAPACITY: usize = 10_000;

/// What a handler adds to its response for the log.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogNote {
    pub(crate) grant_type: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) error: Option<String>,
}

/// One logged request.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    pub(crate) seq: u64,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) grant_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// A bounded ring of entries.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    next: u64,
    entries: VecDeque<Entry>,
}

impl RequestLog {
    fn push(&mut self, mut e: Entry) {
        e.seq = self.next;
        self.next += 1;
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(e);
    }

    pub(crate) fn entries(&self) -> Vec<Entry> {
        self.entries.iter().cloned().collect()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Middleware: records every request except reads of the log itself.
pub(crate) async fn record(
    State(tenant): State<Arc<Tenant>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    if path != "/_dev/requests" {
        let note = resp
            .extensions()
            .get::<LogNote>()
            .cloned()
            .unwrap_or_default();
        let entry = Entry {
            seq: 0,
            method,
            path,
            status: resp.status().as_u16(),
            grant_type: note.grant_type,
            client_id: note.client_id,
            error: note.error,
        };
        tenant.lock_log().push(entry);
    }
    resp
}
