//! Shared state and the router: `router(state)` assembles one sub-router per
//! area (see [`crate::routes`]) and adds the tower layers (trace, CORS, body limit).

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::claims::{self, MintContext, MintRequest, Minted};
use crate::config::Config;
use crate::error::ApiError;
use crate::federation::Federation;
use crate::jwt;
use crate::keys::KeyStore;
use crate::metrics::Grant;
use crate::metrics::Metrics;
use crate::routes;

/// Response header on every answer, so a consumer can detect a mock-idp
/// (see `docs/production-safety.md`).
pub const MARKER_HEADER: &str = "x-mock-idp";
/// Value of [`MARKER_HEADER`].
pub const MARKER_VALUE: &str = "dev-only";

/// Largest request body accepted, in bytes (larger -> 413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Everything a handler needs, shared behind an `Arc`.
#[derive(Debug)]
pub struct AppState {
    /// The resolved configuration.
    pub config: Config,
    /// Signing key, own public keys and the merged JWKS.
    pub keys: Arc<KeyStore>,
    /// Used codes, rotated refresh tokens and revoked tokens (per replica).
    pub spent: crate::oauth::SpentJtis,
    /// Peer federation (settings and last status); `None` without peers.
    pub federation: Option<Arc<Federation>>,
    /// Prometheus counters.
    pub metrics: Metrics,
}

/// The state type handlers extract.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// State for `config` with the given key store.
    pub fn new(config: Config, keys: KeyStore) -> SharedState {
        let federation = Federation::from_config(&config).map(Arc::new);
        Arc::new(AppState {
            config,
            keys: Arc::new(keys),
            spent: crate::oauth::SpentJtis::default(),
            federation,
            metrics: Metrics::default(),
        })
    }

    /// Builds the claims `req` asks for at `now`, signs them with the active
    /// key and counts the token under `grant`: the one path every access
    /// token takes (mint and every OAuth grant).
    pub fn sign_access_token(
        &self,
        req: &MintRequest,
        grant: Grant,
        now: i64,
    ) -> Result<(String, Minted), ApiError> {
        let minted = claims::build(req, &self.mint_context(), now)?;
        let token = jwt::encode(self.keys.signing_key(), &minted.claims)?;
        self.metrics.token_issued(grant, minted.preset);
        Ok((token, minted))
    }

    /// The server-side defaults for minting.
    pub fn mint_context(&self) -> MintContext<'_> {
        MintContext {
            issuer: &self.config.issuer,
            audience: self.config.audience.as_ref(),
            token_ttl: self.config.token_ttl,
            users: &self.config.users,
        }
    }
}

/// The whole HTTP application.
pub fn router(state: SharedState) -> Router {
    let cors = cors_layer(state.config.cors_origins.as_deref());
    Router::new()
        .merge(routes::token::router())
        .merge(routes::jwks::router())
        .merge(routes::discovery::router())
        .merge(routes::health::router())
        .merge(routes::authorize::router())
        .merge(routes::userinfo::router())
        .merge(routes::introspect::router())
        .merge(routes::cluster::router())
        .merge(routes::metrics::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), track_latency))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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

/// Records each routed request's latency under its route pattern.
async fn track_latency(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = request.method().clone();
    let response = next.run(request).await;
    if let Some(route) = route {
        state
            .metrics
            .observe_request(method.as_str(), &route, start.elapsed());
    }
    response
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no endpoint at {}; see {} for the endpoints",
        uri.path(),
        routes::paths::DISCOVERY
    ))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not supported on {}", uri.path()))
}
