//! The browser endpoints of each issuer: `GET`/`POST <mount>/authorize`
//! (the authorization request: a login page, or an instant redirect with
//! `login_hint`), `POST <mount>/authorize/login` (the login page's submit)
//! and `GET`/`POST <mount>/logout` / `<mount>/endsession` (RP-initiated
//! logout; `POST` with a refresh token ends that session, as Keycloak's).
//! The decisions are the issuer core's; this only renders them.

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::{lifecycle, login_page, no_store};
use crate::http::error::ApiError;
use crate::http::extract::{BaseUrl, Basic, Body, Iss};
use crate::http::{SharedState, issuer_route};
use crate::issuer::authorize::AuthorizeOutcome;
use crate::issuer::{Form, Issuer, OAuthError, paths};

/// Routes of this area.
pub fn router() -> Router<SharedState> {
    let mut router = issuer_route(
        Router::new(),
        paths::AUTHORIZE,
        get(authorize_get).post(authorize_post),
    );
    router = issuer_route(router, paths::AUTHORIZE_LOGIN, post(authorize_login_post));
    for path in [paths::LOGOUT, paths::ENDSESSION] {
        router = issuer_route(router, path, get(logout_get).post(logout_post));
    }
    router.layer(no_store())
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
        let (status, location, body) = match self {
            BrowserResponse::Page(status, html) => (status, None, html),
            BrowserResponse::Found(url) => (StatusCode::FOUND, Some(url), String::new()),
            BrowserResponse::SeeOther(url) => (StatusCode::SEE_OTHER, Some(url), String::new()),
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        match location.map(|l| HeaderValue::from_str(&l)) {
            Some(Ok(value)) => {
                headers.insert(header::LOCATION, value);
            }
            Some(Err(_)) => {
                // Only reachable with a redirect URI that slipped past validation.
                return ApiError::invalid_request("redirect URI is not a valid header value")
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

/// The request's parameters, or the page shown when they are not valid
/// URL encoding.
fn parse(params: &[u8]) -> Result<Form, BrowserResponse> {
    Form::parse(params, "the request").map_err(|e| {
        BrowserResponse::Page(StatusCode::BAD_REQUEST, login_page::error(&e.to_string()))
    })
}

/// One step of the authorization (the request, or the login page's
/// submit) on the request's parameters, rendered.
fn authorize_step(
    issuer: &Issuer,
    base: &str,
    params: &[u8],
    step: fn(&Issuer, &str, &Form) -> Result<AuthorizeOutcome, OAuthError>,
    redirect: fn(String) -> BrowserResponse,
) -> Result<BrowserResponse, ApiError> {
    let form = match parse(params) {
        Ok(form) => form,
        Err(page) => return Ok(page),
    };
    let outcome = step(issuer, base, &form)?;
    Ok(render(issuer, outcome, redirect))
}

/// Renders an outcome; `redirect` is 302 after a GET, 303 after a POST.
fn render(
    issuer: &Issuer,
    outcome: AuthorizeOutcome,
    redirect: fn(String) -> BrowserResponse,
) -> BrowserResponse {
    match outcome {
        AuthorizeOutcome::Redirect(url) => redirect(url),
        AuthorizeOutcome::ErrorPage(message) => {
            BrowserResponse::Page(StatusCode::BAD_REQUEST, login_page::error(&message))
        }
        AuthorizeOutcome::Login {
            request,
            error,
            username,
            claims,
        } => {
            let status = if error.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            let prefill = login_page::Prefill {
                username: Some(&username)
                    .filter(|u| !u.is_empty())
                    .map(String::as_str),
                claims: Some(claims.as_str()),
                error: error.as_deref(),
            };
            let action = format!("{}{}", issuer.mount(), paths::AUTHORIZE_LOGIN);
            BrowserResponse::Page(
                status,
                login_page::login(&request, &issuer.users(), &prefill, &action),
            )
        }
    }
}

/// `GET <mount>/authorize` (on a `jwt-auth-service` issuer, the
/// service's external authorization check instead, as `POST` and `HEAD`).
pub async fn authorize_get(
    Iss(issuer): Iss,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    if issuer.lifecycle().is_some() {
        return Ok(lifecycle::authorize_check(&issuer, &headers));
    }
    let query = query.unwrap_or_default();
    authorize_step(
        &issuer,
        &base,
        query.as_bytes(),
        Issuer::authorize,
        BrowserResponse::Found,
    )
    .map(IntoResponse::into_response)
}

/// `POST <mount>/authorize` (OIDC Core §3.1.2.1: the same request as a form
/// body; on a `jwt-auth-service` issuer, the service's check).
pub async fn authorize_post(
    Iss(issuer): Iss,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    if issuer.lifecycle().is_some() {
        return Ok(lifecycle::authorize_check(&issuer, &headers));
    }
    authorize_step(
        &issuer,
        &base,
        &body,
        Issuer::authorize,
        BrowserResponse::SeeOther,
    )
    .map(IntoResponse::into_response)
}

/// `POST <mount>/authorize/login`: the login page's submit.
pub async fn authorize_login_post(
    Iss(issuer): Iss,
    BaseUrl(base): BaseUrl,
    Body(body): Body,
) -> Result<BrowserResponse, ApiError> {
    authorize_step(
        &issuer,
        &base,
        &body,
        Issuer::login_submit,
        BrowserResponse::SeeOther,
    )
}

/// `GET <mount>/logout`: redirect to a valid `post_logout_redirect_uri`
/// (with `state`; Auth0's `returnTo` too), or show a signed-out page.
pub async fn logout_get(Iss(issuer): Iss, RawQuery(query): RawQuery) -> BrowserResponse {
    match parse(query.unwrap_or_default().as_bytes()) {
        Ok(form) => logout_page(&issuer, &form, BrowserResponse::Found),
        Err(page) => page,
    }
}

/// `POST <mount>/logout`: with a `refresh_token`, a client ends that
/// session (Keycloak; 204 No Content); otherwise the RP-initiated logout
/// of `GET` with the parameters in the form body (303 to the client).
pub async fn logout_post(
    Iss(issuer): Iss,
    Basic(basic): Basic,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let form = match parse(&body) {
        Ok(form) => form,
        Err(page) => return Ok(page.into_response()),
    };
    if form.has("refresh_token") {
        issuer.logout_refresh_token(basic.as_ref(), &form)?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(logout_page(&issuer, &form, BrowserResponse::SeeOther).into_response())
}

fn logout_page(
    issuer: &Issuer,
    form: &Form,
    redirect: fn(String) -> BrowserResponse,
) -> BrowserResponse {
    match issuer.logout_redirect(form) {
        Ok(Some(url)) => redirect(url),
        Ok(None) => BrowserResponse::Page(StatusCode::OK, login_page::logged_out()),
        Err(message) => BrowserResponse::Page(StatusCode::BAD_REQUEST, login_page::error(&message)),
    }
}
