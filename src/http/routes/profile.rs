//! Each profile's own paths ([`crate::profiles::Shape::paths`]): every
//! distinct path is registered once, at the root and under the profile's
//! mount (`/{issuer}` or `/realms/{issuer}`; Keycloak's realm document, at
//! the mount itself, for named issuers only), with the generic handler of
//! its [`Endpoint`] and a [`ProfileGate`] naming the profiles that have it
//! (an issuer of another profile answers a JSON 404). Also the two
//! endpoints only a profile has: Google's `kid -> X.509 PEM` map and
//! Keycloak's realm document.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::extract::Extension;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::{authorize, discovery, introspect, jwks, no_cache_pragma, no_store, token, userinfo};
use crate::http::error::ApiError;
use crate::http::extract::{BaseUrl, Iss, ProfileGate};
use crate::http::{SharedState, mounted_route};
use crate::issuer::registry::At;
use crate::profiles::{Endpoint, Profile};

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    // Root paths are shared by every profile; named ones by mount kind.
    let mut root: BTreeMap<&'static str, (Endpoint, u32)> = BTreeMap::new();
    let mut named: BTreeMap<(&'static str, bool), (Endpoint, u32)> = BTreeMap::new();
    for profile in Profile::ALL {
        let shape = profile.shape();
        for &(endpoint, path) in shape.paths() {
            let bit = 1u32 << profile.index();
            root.entry(path).or_insert((endpoint, 0)).1 |= bit;
            named
                .entry((path, shape.realm_mounted()))
                .or_insert((endpoint, 0))
                .1 |= bit;
        }
    }
    let mut router = Router::new();
    // A path equal to the mount (Keycloak's realm document) exists for named
    // issuers only: the root's `/` is the workbench.
    for (path, (endpoint, profiles)) in root.into_iter().filter(|(p, _)| !p.is_empty()) {
        let gate = ProfileGate { profiles, path };
        router = router.route(path, endpoint_route(endpoint).layer(Extension(gate)));
    }
    for ((path, realm), (endpoint, profiles)) in named {
        let gate = ProfileGate { profiles, path };
        let at = if realm { At::Realm } else { At::Named };
        router = mounted_route(
            router,
            path,
            endpoint_route(endpoint).layer(Extension(gate)),
            at,
        );
    }
    router
}

/// The handlers of `endpoint`, with the layers of their area.
fn endpoint_route(endpoint: Endpoint) -> MethodRouter<SharedState> {
    match endpoint {
        Endpoint::Token => post(token::token_post)
            .layer::<_, Infallible>(no_store())
            .layer::<_, Infallible>(no_cache_pragma()),
        Endpoint::Jwks | Endpoint::JwksAlias => get(jwks::jwks_get),
        Endpoint::Discovery => get(discovery::discovery_get),
        Endpoint::Authorize => get(authorize::authorize_get)
            .post(authorize::authorize_post)
            .layer::<_, Infallible>(no_store()),
        Endpoint::Userinfo => get(userinfo::userinfo_get)
            .post(userinfo::userinfo_get)
            .layer::<_, Infallible>(no_store()),
        Endpoint::Introspect => {
            post(introspect::introspect_post).layer::<_, Infallible>(no_store())
        }
        Endpoint::Revoke => post(introspect::revoke_post).layer::<_, Infallible>(no_store()),
        Endpoint::Logout => get(authorize::logout_get)
            .post(authorize::logout_post)
            .layer::<_, Infallible>(no_store()),
        Endpoint::X509Certs => get(x509_certs_get),
        Endpoint::RealmInfo => get(realm_get),
    }
}

/// `GET <mount>/oauth2/v1/certs` (Google): `{"<kid>": "-----BEGIN CERTIFICATE-----..."}`.
pub async fn x509_certs_get(Iss(issuer): Iss) -> Result<Response, ApiError> {
    issuer.counters().jwks_request();
    let certs = issuer.x509_certs()?;
    let mut response = Json(Value::Object(certs)).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static(jwks::JWKS_CACHE_CONTROL),
    );
    Ok(response)
}

/// `GET /realms/{name}` (Keycloak): the realm document with its public key.
pub async fn realm_get(Iss(issuer): Iss, BaseUrl(base): BaseUrl) -> Result<Json<Value>, ApiError> {
    Ok(Json(issuer.realm_info(&base)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::paths;

    #[test]
    fn profile_paths_never_shadow_generic_ones() {
        for p in Profile::ALL {
            for (_, path) in p.shape().paths() {
                assert!(
                    !paths::ISSUER_PATHS.contains(path) && !paths::server::ALL.contains(path),
                    "{p}: {path} is already a generic path"
                );
            }
        }
        // Building the router panics on a conflicting route.
        let _ = router();
    }
}
