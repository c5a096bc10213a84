//! [`ApiError`]: every HTTP error, rendered as an RFC 6749 §5.2 JSON body
//! `{"error": code, "error_description": text}` with the matching status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid_request`: malformed or missing input; the text names the field.
    #[error("{0}")]
    InvalidRequest(String),
    /// 401 `invalid_client` with `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    #[error("{0}")]
    InvalidClient(String),
    /// 400 `invalid_grant`: bad, expired, reused or foreign code / refresh token / credentials.
    #[error("{0}")]
    InvalidGrant(String),
    /// 400 `unauthorized_client`: the client may not use this grant.
    #[error("{0}")]
    UnauthorizedClient(String),
    /// 400 `unsupported_grant_type`.
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// 400 `invalid_scope`.
    #[error("{0}")]
    InvalidScope(String),
    /// 401 `invalid_token` with `WWW-Authenticate: Bearer` (RFC 6750 §3.1).
    #[error("{0}")]
    InvalidToken(String),
    /// 413: the body is over the limit.
    #[error("request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// 415: a content type we do not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 405.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 500 `server_error`; the cause is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: String,
}

impl ApiError {
    /// HTTP status and RFC 6749 error code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            ApiError::InvalidClient(_) => (StatusCode::UNAUTHORIZED, "invalid_client"),
            ApiError::InvalidGrant(_) => (StatusCode::BAD_REQUEST, "invalid_grant"),
            ApiError::UnauthorizedClient(_) => (StatusCode::BAD_REQUEST, "unauthorized_client"),
            ApiError::UnsupportedGrantType(_) => {
                (StatusCode::BAD_REQUEST, "unsupported_grant_type")
            }
            ApiError::InvalidScope(_) => (StatusCode::BAD_REQUEST, "invalid_scope"),
            ApiError::InvalidToken(_) => (StatusCode::UNAUTHORIZED, "invalid_token"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request")
            }
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "invalid_request"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let description = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "internal error; see the mock-idp log".to_string()
            }
            other => other.to_string(),
        };
        let www_authenticate = match &self {
            ApiError::InvalidClient(_) => Some(r#"Basic realm="mock-idp""#.to_string()),
            ApiError::InvalidToken(d) => Some(format!(
                r#"Bearer realm="mock-idp", error="invalid_token", error_description="{}""#,
                d.replace(['"', '\\'], "'")
            )),
            _ => None,
        };
        let mut response = (
            status,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            axum::Json(Body {
                error: code,
                error_description: description,
            }),
        )
            .into_response();
        if let Some(value) = www_authenticate.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl From<crate::claims::ClaimsError> for ApiError {
    fn from(e: crate::claims::ClaimsError) -> Self {
        ApiError::InvalidRequest(e.to_string())
    }
}

impl From<crate::keys::KeyError> for ApiError {
    fn from(e: crate::keys::KeyError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
