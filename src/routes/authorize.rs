//! The browser endpoints: `GET`/`POST /authorize` (the authorization
//! request: a login page, or an instant redirect with `login_hint`),
//! `POST /authorize/login` (the login page's submit) and `GET /logout`
//! (RP-initiated logout). The logic is in [`crate::oauth::authorize`].

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

use super::{login_page, paths};
use crate::app::SharedState;
use crate::error::ApiError;
use crate::oauth::authorize::{self, AuthorizeError};
use crate::oauth::grants::{LoginMode, login_for};
use crate::oauth::{Form, parse_claims};

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route(paths::AUTHORIZE, get(authorize_get).post(authorize_post))
        .route(
            paths::AUTHORIZE_LOGIN,
            axum::routing::post(authorize_login_post),
        )
        .route(paths::LOGOUT, get(logout_get))
}

/// What a browser endpoint answers: an HTML page or a redirect.
#[derive(Debug)]
pub enum BrowserResponse {
    /// An HTML page with its status.
    Page(StatusCode, String),
    /// `302 Found` (after a GET) to this URL.
    Found(String),
    /// `303 See Other` (after a POST) to this URL.
    SeeOther(String),
}

impl IntoResponse for BrowserResponse {
    fn into_response(self) -> Response {
        let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let (status, location, body) = match self {
            BrowserResponse::Page(status, html) => (status, None, html),
            BrowserResponse::Found(url) => (StatusCode::FOUND, Some(url), String::new()),
            BrowserResponse::SeeOther(url) => (StatusCode::SEE_OTHER, Some(url), String::new()),
        };
        let mut response = (status, [no_store], body).into_response();
        let headers = response.headers_mut();
        match location.map(|l| HeaderValue::from_str(&l)) {
            Some(Ok(value)) => {
                headers.insert(header::LOCATION, value);
            }
            Some(Err(_)) => {
                // Only reachable with a redirect URI that slipped past validation.
                return (
                    StatusCode::BAD_REQUEST,
                    "redirect URI is not a valid header value",
                )
                    .into_response();
            }
            None => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                // No scripts, no external loads, no framing (clickjacking).
                headers.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; \
                         base-uri 'none'",
                    ),
                );
                headers.insert(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                );
            }
        }
        response
    }
}

fn parse(bytes: &[u8]) -> Result<Form, BrowserResponse> {
    serde_urlencoded::from_bytes(bytes)
        .map(Form::new)
        .map_err(|e| {
            BrowserResponse::Page(
                StatusCode::BAD_REQUEST,
                login_page::error(&format!("the request is not valid URL encoding: {e}")),
            )
        })
}

/// `GET /authorize`.
pub async fn authorize_get(
    State(state): State<SharedState>,
    RawQuery(query): RawQuery,
) -> Result<BrowserResponse, ApiError> {
    let form = match parse(query.unwrap_or_default().as_bytes()) {
        Ok(form) => form,
        Err(page) => return Ok(page),
    };
    authorize(&state, &form, BrowserResponse::Found)
}

/// `POST /authorize` (OIDC Core §3.1.2.1: the same request as a form body).
pub async fn authorize_post(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<BrowserResponse, ApiError> {
    match parse(&body) {
        Ok(form) => authorize(&state, &form, BrowserResponse::SeeOther),
        Err(page) => Ok(page),
    }
}

fn authorize(
    state: &SharedState,
    form: &Form,
    redirect: fn(String) -> BrowserResponse,
) -> Result<BrowserResponse, ApiError> {
    let now = crate::unix_now();
    let req = match authorize::validate(state, form) {
        Ok(req) => req,
        Err(e) => return Ok(rejected(e, redirect)),
    };
    if let Some(login) = req.hinted_login(state, now) {
        return Ok(redirect(authorize::issue_code(state, &req, login, now)?));
    }
    if req.prompt_none() {
        return Ok(redirect(req.error_redirect(
            &state.config.issuer,
            "login_required",
            "prompt=none needs a login_hint naming a persona without a password",
        )));
    }
    Ok(BrowserResponse::Page(
        StatusCode::OK,
        login_page::login(&req, &state.config.users, &login_page::Prefill::default()),
    ))
}

fn rejected(e: AuthorizeError, redirect: fn(String) -> BrowserResponse) -> BrowserResponse {
    match e {
        AuthorizeError::Page(message) => {
            BrowserResponse::Page(StatusCode::BAD_REQUEST, login_page::error(&message))
        }
        AuthorizeError::Redirect(url) => redirect(url),
    }
}

/// `POST /authorize/login`: the login page's submit. The carried
/// authorization request is validated again (hidden fields are input too).
pub async fn authorize_login_post(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<BrowserResponse, ApiError> {
    let form = match parse(&body) {
        Ok(form) => form,
        Err(page) => return Ok(page),
    };
    let req = match authorize::validate(&state, &form) {
        Ok(req) => req,
        Err(e) => return Ok(rejected(e, BrowserResponse::SeeOther)),
    };
    if form.get("action") == Some("cancel") {
        return Ok(BrowserResponse::SeeOther(req.error_redirect(
            &state.config.issuer,
            "access_denied",
            "the user cancelled the sign-in",
        )));
    }
    let now = crate::unix_now();
    let claims_text = form.get("claims").unwrap_or("");
    let username = form.get("username").unwrap_or("").trim();
    let again = |message: String| {
        Ok(BrowserResponse::Page(
            StatusCode::BAD_REQUEST,
            login_page::login(
                &req,
                &state.config.users,
                &login_page::Prefill {
                    username: Some(username),
                    claims: Some(claims_text),
                    error: Some(&message),
                },
            ),
        ))
    };
    let claims = if claims_text.trim().is_empty() {
        serde_json::Map::new()
    } else {
        match parse_claims(claims_text) {
            Ok(claims) => claims,
            Err(message) => return again(message),
        }
    };
    let name = match form.non_empty("user") {
        Some(user) if !state.config.users.contains_key(user) => {
            return again(format!("user: {user:?} is not a persona"));
        }
        Some(user) => user,
        None if username.is_empty() => {
            return again("username: enter a username or pick a persona".into());
        }
        None => username,
    };
    match login_for(
        &state,
        name,
        form.get("password"),
        claims,
        now,
        LoginMode::AnyName,
    ) {
        Ok(login) => Ok(BrowserResponse::SeeOther(authorize::issue_code(
            &state, &req, login, now,
        )?)),
        Err(message) => again(message),
    }
}

/// `GET /logout`: redirect to a valid `post_logout_redirect_uri` (with
/// `state`), or show a signed-out page.
pub async fn logout_get(
    State(state): State<SharedState>,
    RawQuery(query): RawQuery,
) -> BrowserResponse {
    let form = match parse(query.unwrap_or_default().as_bytes()) {
        Ok(form) => form,
        Err(page) => return page,
    };
    match authorize::logout_redirect(&state, &form) {
        Ok(Some(url)) => BrowserResponse::Found(url),
        Ok(None) => BrowserResponse::Page(StatusCode::OK, login_page::logged_out()),
        Err(message) => BrowserResponse::Page(StatusCode::BAD_REQUEST, login_page::error(&message)),
    }
}
