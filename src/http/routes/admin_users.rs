//! `GET <mount>/_admin/users`: the issuer's personas, read-only, as
//! `{"users": {name: persona}}` (a users file entry without its `password`).
//! The workbench lists personas from here. A stand-in for the test
//! controls' admin API (contract "Test controls"), which replaces it.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::no_store;
use super::workbench::{ADMIN_USERS, persona_json};
use crate::http::extract::Iss;
use crate::http::{SharedState, issuer_route};

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    issuer_route(Router::new(), ADMIN_USERS, get(users_get)).layer(no_store())
}

/// `GET <mount>/_admin/users`.
pub async fn users_get(Iss(issuer): Iss) -> Json<Value> {
    let users: Map<String, Value> = issuer
        .users()
        .iter()
        .map(|(name, persona)| (name.clone(), persona_json(persona)))
        .collect();
    Json(json!({ "users": users }))
}
