//! # The HTTP layer
//!
//! Sits on top of the issuer core ([`crate::issuer`]) and depends on it,
//! never the reverse: [`router`] assembles one sub-router per area
//! ([`routes`]), each handler extracts ([`extract`]), calls the core and
//! maps the result ([`error`]). Every issuer route exists three times: at
//! the root (the root issuer), under `/{issuer}` (named issuers) and under
//! `/realms/{issuer}` (Keycloak issuers); each profile's own paths are
//! registered once for the profiles that have them ([`routes::profile`]).
//! [`controls`] applies injected faults and records each issuer request
//! in its ledger.

pub mod controls;
pub mod error;
pub mod extract;
pub mod routes;
pub mod state;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::MethodRouter;
use axum::{Extension, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use state::{AppState, BODY_LIMIT, SharedState};

use crate::issuer::paths;
use crate::issuer::registry::At;

/// Response header on every answer, so a consumer can detect a mock-idp
/// (see `docs/production-safety.md`).
pub const MARKER_HEADER: &str = "x-mock-idp";
/// Value of [`MARKER_HEADER`].
pub const MARKER_VALUE: &str = "dev-only";

/// Registers `route` at `path` for the root issuer, at `/{issuer}{path}`
/// for named issuers and at `/realms/{issuer}{path}` for Keycloak ones
/// (the extractor [`extract::Iss`] refuses an issuer at the other mount).
pub fn issuer_route(
    router: Router<SharedState>,
    path: &str,
    route: MethodRouter<SharedState>,
) -> Router<SharedState> {
    let router = router.route(path, route.clone());
    let router = mounted_route(router, path, route.clone(), At::Named);
    mounted_route(router, path, route, At::Realm)
}

/// Registers `route` at `path` under the named-issuer mount `at` only.
pub fn mounted_route(
    router: Router<SharedState>,
    path: &str,
    route: MethodRouter<SharedState>,
    at: At,
) -> Router<SharedState> {
    let prefix = match at {
        At::Named => "",
        At::Realm => paths::REALMS,
    };
    router.route(
        &format!("{prefix}/{{{}}}{path}", extract::ISSUER_PARAM),
        route.layer(Extension(extract::MountAt(at))),
    )
}

/// The whole HTTP application.
pub fn router(state: SharedState) -> Router {
    let cors = cors_layer(state.config.cors_origins.as_deref());
    Router::new()
        .merge(routes::token::router())
        .merge(routes::jwks::router())
        .merge(routes::discovery::router())
        .merge(routes::authorize::router())
        .merge(routes::userinfo::router())
        .merge(routes::introspect::router())
        .merge(routes::lifecycle::router())
        .merge(routes::server::router())
        .merge(routes::profile::router())
        .merge(routes::admin::router(state.clone()))
        .merge(routes::workbench::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), track_latency))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // After the fallbacks, so 404s and 405s reach the ledger too.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            controls::controls,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        // Every answer says what this is, so a service can refuse to trust it in production.
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static(MARKER_HEADER),
            HeaderValue::from_static(MARKER_VALUE),
        ))
        .with_state(state)
}

fn cors_layer(origins: Option<&[String]>) -> CorsLayer {
    match origins {
        // Browser fixtures call mock-idp from any dev origin by default.
        None => CorsLayer::permissive(),
        Some(list) => {
            let values: Vec<HeaderValue> = list
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect();
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(values))
                .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
                .allow_headers(tower_http::cors::Any)
        }
    }
}

/// Records each routed request's latency under its issuer and route pattern.
async fn track_latency(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let (mut parts, body) = request.into_parts();
    let route = parts.extensions.get::<MatchedPath>().cloned();
    let resolved = parts
        .extensions
        .get::<extract::Resolved>()
        .map(|r| std::sync::Arc::clone(&r.0));
    let name = match resolved {
        Some(_) => String::new(),
        None => extract::issuer_name(&mut parts).await.unwrap_or_default(),
    };
    let method = parts.method.clone();
    let response = next.run(Request::from_parts(parts, body)).await;
    // Only issuers that exist (perhaps created by this request): a 404 for
    // a bad name must not grow the metrics.
    if let Some(route) = route
        && let Some(issuer) = resolved.or_else(|| state.issuers.find(&name))
    {
        state.metrics.observe_request(
            issuer.name(),
            method.as_str(),
            route.as_str(),
            start.elapsed(),
        );
    }
    response
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no endpoint at {}; see {} (or /{{issuer}}{}) for the endpoints",
        uri.path(),
        paths::DISCOVERY,
        paths::DISCOVERY
    ))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not supported on {}", uri.path()))
}
