//! [`LifecycleError`]: the service's own error shape, `{"error": "<text>",
//! "message": "<text>"}` (`message` omitted when empty; the original's
//! `ErrorResponse`), with the kind of status it maps to. The texts are the
//! original's, byte for byte, where a client could match on them.

use std::borrow::Cow;

use super::super::OAuthError;
use super::super::spent::SetFull;

/// Which HTTP status an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 400.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 503: a bounded store is full of live entries, or the key is not ready.
    Unavailable,
    /// 500.
    Internal,
}

/// An error of the lifecycle API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct LifecycleError {
    /// The status kind.
    pub status: Status,
    /// `error`.
    pub error: Cow<'static, str>,
    /// `message` (omitted when `None`).
    pub message: Option<String>,
}

impl LifecycleError {
    fn new(status: Status, error: impl Into<Cow<'static, str>>) -> Self {
        LifecycleError {
            status,
            error: error.into(),
            message: None,
        }
    }

    /// 400 with `error`.
    pub fn bad_request(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::BadRequest, error)
    }

    /// 401 with `error`.
    pub fn unauthorized(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Unauthorized, error)
    }

    /// 403 with `error`.
    pub fn forbidden(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Forbidden, error)
    }

    /// 404 with `error`.
    pub fn not_found(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::NotFound, error)
    }

    /// 503 with `error`.
    pub fn unavailable(error: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Status::Unavailable, error)
    }

    /// The same error with a `message`.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        let message = message.into();
        self.message = (!message.is_empty()).then_some(message);
        self
    }

    /// `403 {"error": "Parent token has been revoked"}`.
    pub fn parent_revoked() -> Self {
        Self::forbidden("Parent token has been revoked")
    }

    /// `403 {"error": "Token has been revoked"}`.
    pub fn token_revoked() -> Self {
        Self::forbidden("Token has been revoked")
    }

    /// `400 {"error": "parent_jti query parameter is required"}`.
    pub fn parent_jti_required() -> Self {
        Self::bad_request("parent_jti query parameter is required")
    }
}

impl From<SetFull> for LifecycleError {
    fn from(e: SetFull) -> Self {
        LifecycleError::unavailable("Revocation store is full").with_message(e.to_string())
    }
}

impl From<OAuthError> for LifecycleError {
    fn from(e: OAuthError) -> Self {
        use super::super::ErrorCode;
        let status = match e.code {
            ErrorCode::TemporarilyUnavailable => Status::Unavailable,
            ErrorCode::ServerError => Status::Internal,
            _ => Status::BadRequest,
        };
        LifecycleError::new(status, "Failed to generate token").with_message(e.to_string())
    }
}
