//! A router that also keeps a list of its routes. Axum cannot list the
//! routes of a built router, and the every-route authorisation test needs
//! that list; building the router through this type makes the list and the
//! router the same thing.

use axum::Router;
use axum::routing::MethodRouter;

use crate::AppState;

/// One path and the methods it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub methods: &'static [&'static str],
    pub path: &'static str,
}

/// A router and the list of what it routes.
pub struct Routes {
    router: Router<AppState>,
    entries: Vec<RouteEntry>,
}

impl Default for Routes {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Self { router: Router::new(), entries: Vec::new() }
    }

    /// Adds `path`, answering `methods` (which must match `handler`: the
    /// authorisation test checks every other method is refused with 405).
    pub fn route(mut self, path: &'static str, methods: &'static [&'static str], handler: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, handler);
        self.entries.push(RouteEntry { methods, path });
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.entries.extend(other.entries);
        self
    }

    /// Merges a router built elsewhere (the API viewer), declaring its routes.
    pub fn merge_router(mut self, router: Router<AppState>, entries: &[RouteEntry]) -> Self {
        self.router = self.router.merge(router);
        self.entries.extend_from_slice(entries);
        self
    }

    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
