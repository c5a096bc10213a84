//! [`ApiError`]: every HTTP error, rendered as an RFC 6749 §5.2 JSON body
//! `{"error": code, "error_description": text}` with the matching status.
//! Issuer errors ([`OAuthError`]) are mapped here, once.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::issuer::{ErrorCode, OAuthError};

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// An issuer operation failed; its code decides the status.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// 413: the body is over the limit (the connection is closed after it).
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
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
}

impl ApiError {
    /// 400 `invalid_request` with `description`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        ApiError::OAuth(OAuthError::invalid_request(description))
    }

    /// HTTP status and RFC 6749 error code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::OAuth(e) => (status_of(e.code), e.code.as_str()),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request")
            }
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "invalid_request"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "invalid_request"),
        }
    }
}

/// The status of an issuer error (RFC 6749 §5.2, RFC 6750 §3.1).
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidGrant
        | ErrorCode::UnauthorizedClient
        | ErrorCode::UnsupportedGrantType
        | ErrorCode::InvalidScope => StatusCode::BAD_REQUEST,
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let description = match &self {
            ApiError::OAuth(e) if e.code == ErrorCode::ServerError => {
                // The cause goes to the log (it never holds a secret), not to the client.
                tracing::error!(error = %e, cause = ?std::error::Error::source(e).map(ToString::to_string), "internal error");
                format!("{e}; see the mock-idp log")
            }
            other => other.to_string(),
        };
        let www_authenticate = match &self {
            ApiError::OAuth(e) if e.code == ErrorCode::InvalidClient => {
                Some(r#"Basic realm="mock-idp""#.to_string())
            }
            ApiError::OAuth(e) if e.code == ErrorCode::InvalidToken => Some(format!(
                r#"Bearer realm="mock-idp", error="invalid_token", error_description="{}""#,
                e.description.replace(['"', '\\'], "'")
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
        let headers = response.headers_mut();
        if let Some(value) = www_authenticate.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let ApiError::PayloadTooLarge(_) = self {
            // The rest of the body is not read: the connection cannot be reused.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_statuses() {
        let cases = [
            (ErrorCode::InvalidRequest, 400),
            (ErrorCode::InvalidGrant, 400),
            (ErrorCode::InvalidClient, 401),
            (ErrorCode::InvalidToken, 401),
            (ErrorCode::TemporarilyUnavailable, 503),
            (ErrorCode::ServerError, 500),
        ];
        for (code, status) in cases {
            let e = ApiError::OAuth(OAuthError::new(code, "x"));
            assert_eq!(
                e.status_and_code(),
                (StatusCode::from_u16(status).unwrap(), code.as_str())
            );
        }
        let r = ApiError::PayloadTooLarge(10).into_response();
        assert_eq!(r.status(), 413);
        assert_eq!(r.headers()[header::CONNECTION], "close");
        let r = ApiError::OAuth(OAuthError::invalid_client("x")).into_response();
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
    }
}
