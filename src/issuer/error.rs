//! [`OAuthError`]: what every issuer operation fails with. It carries the
//! RFC 6749 §5.2 error code as an enum, a description that names the field
//! and says what is wrong, and the underlying cause when there is one. The
//! HTTP layer maps it to a status and a JSON body once
//! (`crate::http::error`); nothing here knows about HTTP.

use std::fmt;

/// RFC 6749 §4.1.2.1 / §5.2, RFC 6750 §3.1 and RFC 7662 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Malformed or missing input; the description names the field.
    InvalidRequest,
    /// Client authentication failed (unknown client, wrong or missing secret).
    InvalidClient,
    /// A bad, expired, reused or foreign code / refresh token / credentials.
    InvalidGrant,
    /// The client may not use this grant or response type.
    UnauthorizedClient,
    /// The `grant_type` is not one of [`super::grant::GrantType::ALL`].
    UnsupportedGrantType,
    /// A scope the client may not have.
    InvalidScope,
    /// The presented bearer token is not valid (RFC 6750 §3.1).
    InvalidToken,
    /// The issuer cannot take the request now (e.g. the replay set is full
    /// of live entries); trying later may work.
    TemporarilyUnavailable,
    /// Something failed inside mock-idp; the cause is logged, not sent.
    ServerError,
}

impl ErrorCode {
    /// The code as it appears in `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::ServerError => "server_error",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An issuer operation that failed, with its RFC 6749 code.
#[derive(Debug, thiserror::Error)]
#[error("{description}")]
pub struct OAuthError {
    /// The RFC 6749 error code.
    pub code: ErrorCode,
    /// Human-readable text naming the field and what is wrong.
    pub description: String,
    /// The underlying cause, for the log (never sent to clients for `server_error`).
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl OAuthError {
    /// An error with `code` and `description` and no underlying cause.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `unauthorized_client`.
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }

    /// `invalid_scope`.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// `invalid_token`.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidToken, description)
    }

    /// `temporarily_unavailable`.
    pub fn temporarily_unavailable(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, description)
    }

    /// `server_error` with its cause (logged by the HTTP layer, not sent).
    pub fn server(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::new(ErrorCode::ServerError, what).with_source(source)
    }
}

impl From<crate::claims::ClaimsError> for OAuthError {
    fn from(e: crate::claims::ClaimsError) -> Self {
        match e {
            crate::claims::ClaimsError::Random(cause) => {
                OAuthError::server("drawing a random id failed", cause)
            }
            other => OAuthError::invalid_request(other.to_string()),
        }
    }
}

impl From<crate::jwt::EncodeError> for OAuthError {
    fn from(e: crate::jwt::EncodeError) -> Self {
        OAuthError::server("signing the token failed", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn codes_are_the_rfc_strings_and_causes_are_kept() {
        assert_eq!(ErrorCode::InvalidGrant.as_str(), "invalid_grant");
        assert_eq!(
            ErrorCode::TemporarilyUnavailable.to_string(),
            "temporarily_unavailable"
        );
        let io = std::io::Error::other("disk on fire");
        let e = OAuthError::server("writing the key failed", io);
        assert_eq!(e.code, ErrorCode::ServerError);
        assert_eq!(e.to_string(), "writing the key failed");
        assert_eq!(e.source().unwrap().to_string(), "disk on fire");
        let e = OAuthError::invalid_request("sub: expected a string");
        assert!(e.source().is_none());
    }
}
