//! The router being built, keeping the path of every route it serves: axum does not list its
//! routes, and the scope test must go through each of them (a route it cannot see is a route
//! nobody checked). Which methods a path serves the test asks the router itself.

use axum::Router;
use axum::routing::MethodRouter;
use oversight_app::App;

/// A router and the paths of its routes, nested and merged together.
pub struct Routes {
    router: Router<App>,
    paths: Vec<String>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes { router: Router::new(), paths: Vec::new() }
    }

    pub fn route(mut self, path: &str, methods: MethodRouter<App>) -> Routes {
        self.paths.push(path.to_string());
        self.router = self.router.route(path, methods);
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }

    pub fn nest(mut self, prefix: &str, other: Routes) -> Routes {
        self.paths.extend(other.paths.into_iter().map(|p| format!("{prefix}{p}")));
        self.router = self.router.nest(prefix, other.router);
        self
    }

    /// Changes the router without adding routes (a fallback, a layer).
    pub fn map(mut self, f: impl FnOnce(Router<App>) -> Router<App>) -> Routes {
        self.router = f(self.router);
        self
    }

    pub fn into_router(self) -> Router<App> {
        self.router
    }

    pub fn paths(&self) -> &[String] {
        &self.paths
    }
}
